// Reads float32 rows of a vectors section straight from a file, for re-ranking with the
// vectors on disk (Index.load(..., vectors_on_disk=True, disk_io="pread")).
//
// One call reads one query's candidates: it asks the kernel to start every row's read at once
// (posix_fadvise WILLNEED, so the device sees the whole batch rather than one fault at a time),
// then preads the rows in file order, merging rows that sit next to each other. Nothing is
// mapped, so the rows never count towards the process's resident memory; the page cache keeps
// whatever the kernel decides to keep.
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
    // `rows` rows of `dim` floats starting at byte `offset` of the file at `path`.
    VectorReader(const std::string& path, uint64_t offset, size_t rows, size_t dim);
    ~VectorReader();
    VectorReader(const VectorReader&) = delete;
    VectorReader& operator=(const VectorReader&) = delete;

    size_t dim() const { return dim_; }
    size_t rows() const { return rows_; }
    // Row slots[i] into out[i * dim]; throws IoError on a failed or short read.
    void read(const slot_t* slots, size_t n, float* out) const;

    struct Counters {
        uint64_t rows = 0, bytes = 0, calls = 0;
    };
    Counters counters() const;
    void reset_counters() const;

private:
    void pread_all(void* buf, size_t bytes, uint64_t offset) const;

    int fd_ = -1;
    std::string path_;
    uint64_t offset_;
    size_t rows_, dim_, row_bytes_;
    mutable std::atomic<uint64_t> rows_read_{0}, bytes_read_{0}, calls_{0};
};

}  // namespace vecsearch
