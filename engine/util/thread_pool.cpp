#include "util/thread_pool.h"

#include <algorithm>

#include "util/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace kvscope {
namespace {

// A short pause inside spin loops: sched_yield is a system call and costs far
// more than the few microseconds between jobs of one token.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

}  // namespace

int ThreadPool::default_thread_count() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads) {
    if (n_threads < 1 || n_threads > 1024)
        throw InvalidSetting("threads must be between 1 and 1024, got " + std::to_string(n_threads));
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_.store(true);
        generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
}

void ThreadPool::run_chunks(int index) {
    for (;;) {
        const int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
        if (c >= job_chunks_) return;
        // Chunk c holds blocks [c·B/C, (c+1)·B/C): sizes differ by at most one block.
        const int64_t b0 = c * job_blocks_ / job_chunks_, b1 = (c + 1) * job_blocks_ / job_chunks_;
        const int64_t begin = b0 * job_grain_, end = std::min(job_n_, b1 * job_grain_);
        if (begin < end) (*job_)(begin, end, index);
    }
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        // Spin for a short while (tens of microseconds): the next job of a token
        // follows within microseconds; past that, sleep and leave the core to others.
        uint64_t gen = generation_.load(std::memory_order_acquire);
        for (int spin = 0; gen == seen && spin < 4096; ++spin) {
            cpu_relax();
            gen = generation_.load(std::memory_order_acquire);
        }
        if (gen == seen) {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return generation_.load() != seen; });
            gen = generation_.load();
        }
        seen = gen;
        if (stopping_.load()) return;
        run_chunks(index);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
    parallel_for_aligned(n, 1, fn);
}

void ThreadPool::parallel_for_aligned(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t, int)>& fn) {
    if (n <= 0) return;
    if (n_threads_ == 1 || n <= grain) {
        fn(0, n, 0);
        return;
    }
    job_ = &fn;
    job_n_ = n;
    job_grain_ = std::max<int64_t>(grain, 1);
    job_blocks_ = (n + job_grain_ - 1) / job_grain_;
    job_chunks_ = std::min<int64_t>(job_blocks_, n_threads_ * kChunksPerThread);
    next_chunk_.store(0, std::memory_order_relaxed);  // published by the generation's release below
    pending_.store(n_threads_ - 1, std::memory_order_release);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    wake_.notify_all();
    run_chunks(0);
    while (pending_.load(std::memory_order_acquire) != 0) cpu_relax();
    job_ = nullptr;
}

}  // namespace kvscope
