#include "storage/vector_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include <fcntl.h>
#include <unistd.h>

#include "common/errors.h"

namespace vecsearch {

VectorReader::VectorReader(const std::string& path, uint64_t offset, size_t rows, size_t dim)
    : path_(path), offset_(offset), rows_(rows), dim_(dim), row_bytes_(dim * sizeof(float)) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw IoError(path + ": cannot open for reading: " + std::strerror(errno));
    off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0 || uint64_t(end) < offset + rows * row_bytes_) {
        ::close(fd_);
        throw FormatError(path + ": the vectors section runs past the end of the file");
    }
#ifdef POSIX_FADV_RANDOM
    ::posix_fadvise(fd_, off_t(offset), off_t(rows * row_bytes_), POSIX_FADV_RANDOM);
#endif
}

VectorReader::~VectorReader() {
    if (fd_ >= 0) ::close(fd_);
}

void VectorReader::pread_all(void* buf, size_t bytes, uint64_t offset) const {
    char* p = static_cast<char*>(buf);
    while (bytes > 0) {
        ssize_t got = ::pread(fd_, p, bytes, off_t(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            throw IoError(path_ + ": reading vectors failed: " + (got < 0 ? std::strerror(errno) : "unexpected end of file"));
        calls_.fetch_add(1, std::memory_order_relaxed);
        p += got;
        bytes -= size_t(got);
        offset += uint64_t(got);
    }
}

void VectorReader::read(const slot_t* slots, size_t n, float* out) const {
    if (n == 0) return;
    for (size_t i = 0; i < n; ++i)
        if (slots[i] >= rows_) throw InvalidArgument("row " + std::to_string(slots[i]) + " is outside the vector file");
    // File order, so the device sees a sorted batch and neighbouring rows merge into one read.
    thread_local std::vector<uint32_t> order;
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return slots[a] < slots[b]; });
#ifdef POSIX_FADV_WILLNEED
    if (n > 1)
        for (uint32_t i : order)
            ::posix_fadvise(fd_, off_t(offset_ + uint64_t(slots[i]) * row_bytes_), off_t(row_bytes_), POSIX_FADV_WILLNEED);
#endif
    thread_local std::vector<float> run;
    for (size_t i = 0; i < n;) {
        // A run of consecutive slots is one read; a repeated slot is copied.
        size_t j = i + 1;
        while (j < n && slots[order[j]] <= slots[order[j - 1]] + 1) ++j;
        slot_t first = slots[order[i]];
        size_t span = size_t(slots[order[j - 1]] - first) + 1;
        run.resize(span * dim_);
        pread_all(run.data(), span * row_bytes_, offset_ + uint64_t(first) * row_bytes_);
        for (size_t t = i; t < j; ++t)
            std::memcpy(out + size_t(order[t]) * dim_, run.data() + size_t(slots[order[t]] - first) * dim_, row_bytes_);
        bytes_read_.fetch_add(span * row_bytes_, std::memory_order_relaxed);
        i = j;
    }
    rows_read_.fetch_add(n, std::memory_order_relaxed);
}

VectorReader::Counters VectorReader::counters() const {
    return Counters{rows_read_.load(), bytes_read_.load(), calls_.load()};
}

void VectorReader::reset_counters() const {
    rows_read_ = 0;
    bytes_read_ = 0;
    calls_ = 0;
}

}  // namespace vecsearch
