// A persistent pool of worker threads and parallel_for over an index range.
//
// The calling thread always works on its own job, and helpers join only while the job is open,
// so concurrent parallel_for calls from several Python threads never wait on each other's
// queued tasks and cannot deadlock. The first exception thrown by any worker is rethrown in
// the caller after every worker has left the job.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vecsearch {

class ThreadPool {
public:
    explicit ThreadPool(size_t workers);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // The process-wide pool, sized to the hardware threads minus the caller.
    static ThreadPool& global();
    static size_t hardware_threads();

    // Calls fn(i) for every i in [0, n) on up to `threads` threads (the caller included).
    // Indices are handed out in chunks of `grain`.
    void parallel_for(size_t n, size_t threads, size_t grain, const std::function<void(size_t)>& fn);

private:
    void worker_loop();
    void submit(std::function<void()> task);

    std::vector<std::thread> workers_;
    std::deque<std::function<void()>> queue_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
};

}  // namespace vecsearch
