// Byte-level (de)serialisation of codec parameters: little-endian fields, a common header and an
// FNV-1a checksum at the end, so a truncated or corrupted blob is a FormatError, never a bad read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/types.h"

namespace vecsearch {

constexpr char kCodecMagic[4] = {'V', 'S', 'Q', 'C'};
constexpr uint32_t kCodecVersion = 1;
constexpr size_t kMaxCodecDim = size_t{1} << 16;

inline uint64_t fnv1a(const uint8_t* p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

class ByteWriter {
public:
    template <class T>
    void put(T v) {
        put_bytes(&v, sizeof v);
    }
    void put_bytes(const void* p, size_t n) {
        const uint8_t* b = static_cast<const uint8_t*>(p);
        buf_.insert(buf_.end(), b, b + n);
    }
    void put_floats(const std::vector<float>& v) {
        put<uint64_t>(v.size());
        put_bytes(v.data(), v.size() * sizeof(float));
    }
    std::vector<uint8_t> finish() {
        put<uint64_t>(fnv1a(buf_.data(), buf_.size()));
        return std::move(buf_);
    }

private:
    std::vector<uint8_t> buf_;
};

class ByteReader {
public:
    // Checks the trailing checksum before anything is read.
    ByteReader(const uint8_t* data, size_t size) : p_(data) {
        if (data == nullptr || size < sizeof(uint64_t)) throw FormatError("codec blob is truncated");
        end_ = data + size - sizeof(uint64_t);
        uint64_t stored;
        std::memcpy(&stored, end_, sizeof stored);
        if (stored != fnv1a(data, size - sizeof(uint64_t)))
            throw FormatError("codec blob is corrupt (checksum mismatch) or truncated");
    }
    template <class T>
    T get() {
        T v;
        get_bytes(&v, sizeof v);
        return v;
    }
    void get_bytes(void* out, size_t n) {
        if (size_t(end_ - p_) < n) throw FormatError("codec blob is truncated");
        if (n == 0) return;  // `out` may be null (an empty vector's data())
        std::memcpy(out, p_, n);
        p_ += n;
    }
    // A float array whose stored length must equal `expected`.
    std::vector<float> get_floats(size_t expected, const char* what) {
        uint64_t n = get<uint64_t>();
        if (n != expected)
            throw FormatError(std::string("codec blob: ") + what + " has " + std::to_string(n) + " values, expected " +
                              std::to_string(expected));
        return get_raw_floats(n);
    }
    // n floats, checked against the bytes left before anything is allocated.
    std::vector<float> get_raw_floats(uint64_t n) {
        if (n > remaining() / sizeof(float)) throw FormatError("codec blob is truncated");
        std::vector<float> v(n);
        get_bytes(v.data(), n * sizeof(float));
        return v;
    }
    size_t remaining() const { return size_t(end_ - p_); }
    void expect_end() const {
        if (p_ != end_) throw FormatError("codec blob has trailing bytes");
    }

private:
    const uint8_t* p_;
    const uint8_t* end_;
};

// Header shared by every codec: magic, version, kind, dim, metric, trained flag.
void write_codec_header(ByteWriter& w, const std::string& kind, size_t dim, Metric metric, bool trained);

}  // namespace vecsearch
