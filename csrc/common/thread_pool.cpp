#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>

namespace vecsearch {

namespace {

// Shared between the caller and the helper tasks, which may start after the caller finished.
struct Job {
    size_t n = 0;
    size_t grain = 1;
    const std::function<void(size_t)>* fn = nullptr;
    std::atomic<size_t> next{0};
    std::mutex mutex;
    std::condition_variable done_cv;
    size_t active = 0;
    bool closed = false;
    std::exception_ptr error;

    void run() {
        for (;;) {
            size_t begin = next.fetch_add(grain);
            if (begin >= n) return;
            size_t end = std::min(n, begin + grain);
            for (size_t i = begin; i < end; ++i) {
                try {
                    (*fn)(i);
                } catch (...) {
                    std::lock_guard<std::mutex> lock(mutex);
                    if (!error) error = std::current_exception();
                    next.store(n);  // stop handing out work
                    return;
                }
            }
        }
    }
    bool enter() {
        std::lock_guard<std::mutex> lock(mutex);
        if (closed) return false;
        ++active;
        return true;
    }
    void leave() {
        std::lock_guard<std::mutex> lock(mutex);
        if (--active == 0) done_cv.notify_all();
    }
};

}  // namespace

ThreadPool::ThreadPool(size_t workers) {
    for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
}

size_t ThreadPool::hardware_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

ThreadPool& ThreadPool::global() {
    // Leaked on purpose: joining threads during interpreter teardown can hang.
    static ThreadPool* pool = new ThreadPool(hardware_threads() > 1 ? hardware_threads() - 1 : 1);
    return *pool;
}

void ThreadPool::worker_loop() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_ && queue_.empty()) return;
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task();
    }
}

void ThreadPool::submit(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
}

void ThreadPool::parallel_for(size_t n, size_t threads, size_t grain,
                              const std::function<void(size_t)>& fn) {
    if (n == 0) return;
    grain = std::max<size_t>(1, grain);
    size_t chunks = (n + grain - 1) / grain;
    threads = std::min({threads, chunks, workers_.size() + 1});
    if (threads <= 1) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    auto job = std::make_shared<Job>();
    job->n = n;
    job->grain = grain;
    job->fn = &fn;
    for (size_t t = 1; t < threads; ++t) {
        submit([job] {
            if (!job->enter()) return;
            job->run();
            job->leave();
        });
    }
    job->run();
    std::unique_lock<std::mutex> lock(job->mutex);
    job->closed = true;
    job->done_cv.wait(lock, [&] { return job->active == 0; });
    if (job->error) std::rethrow_exception(job->error);
}

}  // namespace vecsearch
