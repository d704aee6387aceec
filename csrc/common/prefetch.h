// Software prefetches of the rows a scan or walk is about to read at random (vectors, codes,
// neighbour blocks), shared by the graph and the quant kernels.
#pragma once

#include <algorithm>
#include <cstddef>

namespace vecsearch {

// Starts loading the first cache lines of `bytes` bytes at p, so the load overlaps other work;
// the hardware prefetcher streams the rest of a long row.
inline void prefetch_lines(const void* p, size_t bytes) {
    constexpr size_t kPrefetchLines = 12;
    const char* c = static_cast<const char*>(p);
    size_t lines = std::min<size_t>((bytes + 63) / 64, kPrefetchLines);
    for (size_t i = 0; i < lines; ++i) __builtin_prefetch(c + 64 * i, 0, 3);
}

// Every line of `bytes` bytes at p: the reader needs all of it soon.
inline void prefetch_all(const void* p, size_t bytes) {
    const char* c = static_cast<const char*>(p);
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 3);
}

}  // namespace vecsearch
