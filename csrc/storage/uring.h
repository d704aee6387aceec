// A minimal io_uring (Linux >= 5.6) for batches of positioned reads, on raw system calls so the
// build needs no liburing. One ring per thread: a batch of reads is one io_uring_enter that
// submits them all and waits for them all, where pread costs a system call (and, on a cache
// miss, a full device round trip) per row.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecsearch {

struct ReadOp {
    void* buf;
    uint32_t len;
    uint64_t offset;
    int32_t result;  // bytes read, or -errno
};

class Uring {
public:
    // Whether this kernel (and any seccomp policy) lets the process create a ring.
    static bool available();
    // This thread's ring, or null when io_uring is unavailable.
    static Uring* for_this_thread();

    ~Uring();
    Uring(const Uring&) = delete;
    Uring& operator=(const Uring&) = delete;

    // Reads ops[0..n) from fd, setting each result; false when the ring failed as a whole
    // (the caller falls back to pread).
    bool read(int fd, ReadOp* ops, size_t n);

private:
    Uring() = default;
    bool init(unsigned entries);
    bool submit_and_wait(unsigned submit, unsigned wait);

    int fd_ = -1;
    unsigned entries_ = 0;
    void* sq_map_ = nullptr;
    void* cq_map_ = nullptr;
    void* sqe_map_ = nullptr;
    size_t sq_len_ = 0, cq_len_ = 0, sqe_len_ = 0;
    unsigned *sq_head_ = nullptr, *sq_tail_ = nullptr, *sq_mask_ = nullptr, *sq_array_ = nullptr;
    unsigned *cq_head_ = nullptr, *cq_tail_ = nullptr, *cq_mask_ = nullptr;
    void* sqes_ = nullptr;
    void* cqes_ = nullptr;
};

}  // namespace vecsearch
