#include "storage/uring.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

#if defined(__linux__) && __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#define VECSEARCH_HAVE_URING 1
#endif

namespace vecsearch {

#ifdef VECSEARCH_HAVE_URING

namespace {

constexpr unsigned kEntries = 256;  // reads in flight per batch; larger batches go in turns

std::atomic<int> g_available{-1};  // -1 unknown, 0 no, 1 yes

template <class T>
T* at(void* base, unsigned offset) {
    return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

}  // namespace

bool Uring::init(unsigned entries) {
    io_uring_params p;
    std::memset(&p, 0, sizeof(p));
    long fd = syscall(__NR_io_uring_setup, entries, &p);
    if (fd < 0) return false;
    fd_ = int(fd);
    entries_ = p.sq_entries;
    sq_len_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    cq_len_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    bool single = p.features & IORING_FEAT_SINGLE_MMAP;
    if (single) sq_len_ = cq_len_ = std::max(sq_len_, cq_len_);
    sq_map_ = mmap(nullptr, sq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
    if (sq_map_ == MAP_FAILED) return sq_map_ = nullptr, false;
    cq_map_ = single ? sq_map_
                     : mmap(nullptr, cq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_CQ_RING);
    if (cq_map_ == MAP_FAILED) return cq_map_ = nullptr, false;
    sqe_len_ = p.sq_entries * sizeof(io_uring_sqe);
    sqe_map_ = mmap(nullptr, sqe_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
    if (sqe_map_ == MAP_FAILED) return sqe_map_ = nullptr, false;
    sq_head_ = at<unsigned>(sq_map_, p.sq_off.head);
    sq_tail_ = at<unsigned>(sq_map_, p.sq_off.tail);
    sq_mask_ = at<unsigned>(sq_map_, p.sq_off.ring_mask);
    sq_array_ = at<unsigned>(sq_map_, p.sq_off.array);
    cq_head_ = at<unsigned>(cq_map_, p.cq_off.head);
    cq_tail_ = at<unsigned>(cq_map_, p.cq_off.tail);
    cq_mask_ = at<unsigned>(cq_map_, p.cq_off.ring_mask);
    cqes_ = at<void>(cq_map_, p.cq_off.cqes);
    sqes_ = sqe_map_;
    return true;
}

Uring::~Uring() {
    if (sqe_map_) munmap(sqe_map_, sqe_len_);
    if (cq_map_ && cq_map_ != sq_map_) munmap(cq_map_, cq_len_);
    if (sq_map_) munmap(sq_map_, sq_len_);
    if (fd_ >= 0) close(fd_);
}

bool Uring::available() {
    int known = g_available.load(std::memory_order_relaxed);
    if (known >= 0) return known == 1;
    Uring probe;
    bool ok = probe.init(4);
    g_available.store(ok ? 1 : 0, std::memory_order_relaxed);
    return ok;
}

Uring* Uring::for_this_thread() {
    thread_local std::unique_ptr<Uring> ring;
    thread_local bool tried = false;
    if (!tried) {
        tried = true;
        if (available()) {
            std::unique_ptr<Uring> r(new Uring());
            if (r->init(kEntries)) ring = std::move(r);
        }
    }
    return ring.get();
}

bool Uring::submit_and_wait(unsigned submit, unsigned wait) {
    while (true) {
        long r = syscall(__NR_io_uring_enter, fd_, submit, wait, IORING_ENTER_GETEVENTS, nullptr, 0);
        if (r >= 0) {
            if (unsigned(r) >= submit) return true;
            submit -= unsigned(r);  // the kernel took part of the batch: hand it the rest
            continue;
        }
        if (errno != EINTR && errno != EAGAIN && errno != EBUSY) return false;
    }
}

bool Uring::read(int fd, ReadOp* ops, size_t n) {
    auto* sqes = static_cast<io_uring_sqe*>(sqes_);
    auto* cqes = static_cast<io_uring_cqe*>(cqes_);
    for (size_t done = 0; done < n;) {
        unsigned batch = unsigned(std::min<size_t>(n - done, entries_));
        unsigned tail = *sq_tail_;  // only this thread writes the tail
        unsigned mask = *sq_mask_;
        for (unsigned i = 0; i < batch; ++i) {
            unsigned idx = (tail + i) & mask;
            io_uring_sqe& sqe = sqes[idx];
            std::memset(&sqe, 0, sizeof(sqe));
            sqe.opcode = IORING_OP_READ;
            sqe.fd = fd;
            sqe.addr = reinterpret_cast<uint64_t>(ops[done + i].buf);
            sqe.len = ops[done + i].len;
            sqe.off = ops[done + i].offset;
            sqe.user_data = done + i;
            sq_array_[idx] = idx;
        }
        __atomic_store_n(sq_tail_, tail + batch, __ATOMIC_RELEASE);
        unsigned reaped = 0, submit = batch;
        while (reaped < batch) {
            if (!submit_and_wait(submit, batch - reaped)) return false;
            submit = 0;
            unsigned head = *cq_head_;
            unsigned ctail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
            for (; head != ctail; ++head, ++reaped) {
                const io_uring_cqe& cqe = cqes[head & *cq_mask_];
                ops[cqe.user_data].result = cqe.res;
            }
            __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
        }
        done += batch;
    }
    return true;
}

#else  // no io_uring on this platform

bool Uring::available() { return false; }
Uring* Uring::for_this_thread() { return nullptr; }
Uring::~Uring() {}
bool Uring::read(int, ReadOp*, size_t) { return false; }

#endif

}  // namespace vecsearch
