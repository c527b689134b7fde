#pragma once
// A fixed pool of worker threads for the forward pass. parallel_for splits
// [0, n) into up to kChunksPerThread contiguous chunks per thread, which the
// threads take in turn until none is left, and returns when all are done; the
// calling thread works too, so a pool of T threads has T-1 workers.
// Taking chunks in turn (rather than one fixed chunk each) keeps both cores of
// a small VM busy when one of them is slowed by its neighbours: the faster
// thread takes more chunks instead of waiting. Which thread computes a chunk
// never changes a result: every job's items are sums of their own.
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

    // fn(begin, end, thread_index) is called for each non-empty chunk;
    // thread_index (0 .. size()-1) names the thread running it, for scratch.
    void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

    // Chunks aligned to `grain` elements (e.g. so threads never split a block).
    void parallel_for_aligned(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn);

    static int default_thread_count();

    // Chunks per thread and job: enough for a fast thread to take the work a
    // slowed one leaves, few enough that a chunk of a token's smallest jobs
    // (a few hundred rows of a matrix) is still worth a hand-off.
    static constexpr int64_t kChunksPerThread = 4;

private:
    void worker_loop(int index);
    void run_chunks(int index);

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
    int64_t job_blocks_ = 0;  // ceil(job_n_ / job_grain_)
    int64_t job_chunks_ = 0;  // chunks this job is cut into
    std::atomic<int64_t> next_chunk_{0};
};

}  // namespace kvscope
