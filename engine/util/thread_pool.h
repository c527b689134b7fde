#pragma once
// A fixed pool of worker threads for the forward pass. parallel_for splits
// [0, n) into one contiguous chunk per thread and returns when all are done;
// the calling thread takes chunk 0 so a pool of T threads has T-1 workers.
// Workers spin briefly between jobs (a token has hundreds of small jobs) and
// then sleep, so an idle session costs no CPU.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kvscope {

class ThreadPool {
public:
    // n_threads >= 1 (1 = everything on the caller's thread).
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int size() const { return n_threads_; }

    // fn(begin, end, thread_index) is called for each non-empty chunk.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

    // Chunks aligned to `grain` elements (e.g. so threads never split a block).
    void parallel_for_aligned(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

    static int default_thread_count();

private:
    void worker_loop(int index);
    void run_chunk(int index);

    int n_threads_;
    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stopping_{false};
    const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
    int64_t job_n_ = 0;
    int64_t job_grain_ = 1;
};

}  // namespace kvscope
