#include "storage/vector_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/errors.h"
#include "storage/uring.h"

namespace vecsearch {

VectorReader::VectorReader(const std::string& path, uint64_t offset, size_t rows, size_t dim, bool use_uring)
    : path_(path), offset_(offset), rows_(rows), dim_(dim), row_bytes_(dim * sizeof(float)),
      use_uring_(use_uring && Uring::available()) {
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

bool VectorReader::read_if_cached(void* buf, uint64_t offset) const {
#ifdef RWF_NOWAIT
    if (!nowait_.load(std::memory_order_relaxed)) return false;
    struct iovec iov{buf, row_bytes_};
    ssize_t got;
    do {
        got = ::preadv2(fd_, &iov, 1, off_t(offset), RWF_NOWAIT);
    } while (got < 0 && errno == EINTR);
    if (got < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)) {
        nowait_.store(false, std::memory_order_relaxed);  // this kernel or file system: never
        return false;
    }
    calls_.fetch_add(1, std::memory_order_relaxed);
    return got == ssize_t(row_bytes_);
#else
    (void)buf;
    (void)offset;
    return false;
#endif
}

void VectorReader::read(const slot_t* slots, size_t n, float* out) const {
    if (n == 0) return;
    for (size_t i = 0; i < n; ++i)
        if (slots[i] >= rows_) throw InvalidArgument("row " + std::to_string(slots[i]) + " is outside the vector file");
    // File order, so the device sees a sorted batch.
    thread_local std::vector<uint32_t> order;
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return slots[a] < slots[b]; });
    if (!use_uring_ || !read_uring(order.data(), slots, n, out)) read_pread(order.data(), slots, n, out);
    rows_read_.fetch_add(n, std::memory_order_relaxed);
    bytes_read_.fetch_add(n * row_bytes_, std::memory_order_relaxed);
}

bool VectorReader::read_uring(const uint32_t* order, const slot_t* slots, size_t n, float* out) const {
    Uring* ring = Uring::for_this_thread();
    if (!ring) return false;
    thread_local std::vector<ReadOp> ops;
    ops.resize(n);
    for (size_t j = 0; j < n; ++j) {
        uint32_t i = order[j];
        ops[j] = ReadOp{out + size_t(i) * dim_, uint32_t(row_bytes_), row_offset(slots[i]), 0};
    }
    if (!ring->read(fd_, ops.data(), n)) return false;
    calls_.fetch_add(1, std::memory_order_relaxed);
    // A failed or short read (rare: a signal, a file cut under us) is finished by pread, which
    // reports a real error.
    for (size_t j = 0; j < n; ++j)
        if (ops[j].result != int32_t(row_bytes_)) {
            uint32_t i = order[j];
            pread_all(out + size_t(i) * dim_, row_bytes_, row_offset(slots[i]));
        }
    return true;
}

void VectorReader::read_pread(const uint32_t* order, const slot_t* slots, size_t n, float* out) const {
    // Rows the page cache holds cost one non-blocking read each; the rest are requested all at
    // once (WILLNEED starts their reads without waiting), then read in order as they arrive.
    thread_local std::vector<uint32_t> missed;
    missed.clear();
    for (size_t j = 0; j < n; ++j) {
        uint32_t i = order[j];
        if (!read_if_cached(out + size_t(i) * dim_, row_offset(slots[i]))) missed.push_back(i);
    }
#ifdef POSIX_FADV_WILLNEED
    if (missed.size() > 1)
        for (uint32_t i : missed) ::posix_fadvise(fd_, off_t(row_offset(slots[i])), off_t(row_bytes_), POSIX_FADV_WILLNEED);
#endif
    for (uint32_t i : missed) pread_all(out + size_t(i) * dim_, row_bytes_, row_offset(slots[i]));
    misses_.fetch_add(missed.size(), std::memory_order_relaxed);
}

VectorReader::Counters VectorReader::counters() const {
    return Counters{rows_read_.load(), bytes_read_.load(), calls_.load(), misses_.load()};
}

void VectorReader::reset_counters() const {
    rows_read_ = 0;
    bytes_read_ = 0;
    calls_ = 0;
    misses_ = 0;
}

}  // namespace vecsearch
