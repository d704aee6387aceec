// Reads float32 rows of a vectors section straight from a file, for re-ranking with the
// vectors on disk (Index.load(..., vectors_on_disk=True, disk_io="pread")).
//
// One call reads one query's candidates, in file order. With io_uring (Linux >= 5.6, when the
// kernel allows it) the whole batch is one system call that submits every read and waits for
// them together. Otherwise (pread): rows already in the page cache with one
// non-blocking read each (preadv2 RWF_NOWAIT); for the others it asks the kernel to start every
// read at once (posix_fadvise WILLNEED, so the device sees the whole batch rather than one fault
// at a time), then preads them. Nothing is mapped, so the rows never count towards the
// process's resident memory; the page cache keeps whatever the kernel decides to keep.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/types.h"

namespace vecsearch {

class VectorReader {
public:
    // `rows` rows of `dim` floats starting at byte `offset` of the file at `path`; io_uring
    // batches when use_uring (and the kernel allows it), else pread.
    VectorReader(const std::string& path, uint64_t offset, size_t rows, size_t dim, bool use_uring);
    ~VectorReader();
    VectorReader(const VectorReader&) = delete;
    VectorReader& operator=(const VectorReader&) = delete;

    size_t dim() const { return dim_; }
    size_t rows() const { return rows_; }
    bool uses_uring() const { return use_uring_; }
    // Row slots[i] into out[i * dim]; throws IoError on a failed or short read.
    void read(const slot_t* slots, size_t n, float* out) const;

    struct Counters {
        uint64_t rows = 0, bytes = 0, calls = 0, misses = 0;  // misses: rows not in the page cache
    };
    Counters counters() const;
    void reset_counters() const;

private:
    void pread_all(void* buf, size_t bytes, uint64_t offset) const;
    void read_pread(const uint32_t* order, const slot_t* slots, size_t n, float* out) const;
    // false when the ring failed as a whole (then pread serves the batch)
    bool read_uring(const uint32_t* order, const slot_t* slots, size_t n, float* out) const;
    // One row by a read that never waits for the device; false when it is not all cached.
    bool read_if_cached(void* buf, uint64_t offset) const;
    uint64_t row_offset(slot_t slot) const { return offset_ + uint64_t(slot) * row_bytes_; }

    int fd_ = -1;
    std::string path_;
    uint64_t offset_;
    size_t rows_, dim_, row_bytes_;
    bool use_uring_;
    mutable std::atomic<uint64_t> rows_read_{0}, bytes_read_{0}, calls_{0}, misses_{0};
    mutable std::atomic<bool> nowait_{true};
};

}  // namespace vecsearch
