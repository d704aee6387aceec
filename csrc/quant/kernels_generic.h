// Plain C++ bodies shared by every kernel level. Each level's file calls them from a function
// carrying its target attribute; GCC inlines them there and vectorises for that level.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace vecsearch {
namespace quant_generic {

inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);  // codes need not be 8-byte aligned
    return v;
}

__attribute__((always_inline)) inline float sq8_l2(const float* q, const float* scale, const uint8_t* code,
                                                   size_t dim) {
    float s = 0.0f;
    for (size_t i = 0; i < dim; ++i) {
        float d = q[i] - scale[i] * float(code[i]);
        s += d * d;
    }
    return s;
}

__attribute__((always_inline)) inline float sq8_dot(const float* w, const uint8_t* code, size_t dim) {
    float s = 0.0f;
    for (size_t i = 0; i < dim; ++i) s += w[i] * float(code[i]);
    return s;
}

__attribute__((always_inline)) inline uint32_t hamming(const uint8_t* a, const uint8_t* b, size_t words) {
    uint32_t s = 0;
    for (size_t w = 0; w < words; ++w) s += uint32_t(__builtin_popcountll(load64(a + 8 * w) ^ load64(b + 8 * w)));
    return s;
}

// Hamming scan with the word count known at compile time (fully unrolled) when it is a common
// one; any other count takes the loop.
template <size_t W>
__attribute__((always_inline)) inline void hamming_scan_fixed(const uint8_t* q, const uint8_t* codes, size_t n,
                                                             float* out) {
    uint64_t qw[W];
    for (size_t w = 0; w < W; ++w) qw[w] = load64(q + 8 * w);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* c = codes + i * W * 8;
        uint32_t s = 0;
        for (size_t w = 0; w < W; ++w) s += uint32_t(__builtin_popcountll(qw[w] ^ load64(c + 8 * w)));
        out[i] = float(s);
    }
}

__attribute__((always_inline)) inline void hamming_scan(const uint8_t* q, const uint8_t* codes, size_t words,
                                                        size_t n, float* out) {
    switch (words) {
        case 1: return hamming_scan_fixed<1>(q, codes, n, out);
        case 2: return hamming_scan_fixed<2>(q, codes, n, out);
        case 4: return hamming_scan_fixed<4>(q, codes, n, out);
        case 6: return hamming_scan_fixed<6>(q, codes, n, out);
        case 8: return hamming_scan_fixed<8>(q, codes, n, out);
        case 12: return hamming_scan_fixed<12>(q, codes, n, out);
        case 16: return hamming_scan_fixed<16>(q, codes, n, out);
        default:
            for (size_t i = 0; i < n; ++i) out[i] = float(hamming(q, codes + i * words * 8, words));
    }
}

// Blocks of codes are swept once per group of eight sub-quantizers, accumulating into `out`:
// the group's eight tables (8 KiB) and the block's codes stay in L1, where a code-by-code sweep
// would cycle through the whole m x 256 table (48 KiB at m = 48) and miss L1 on most lookups.
// Deliberately scalar: table lookups vectorise only as gathers, measured 2x slower (Zen 4).
__attribute__((always_inline)) inline void pq8_scan(const float* table, const uint8_t* codes, size_t m, size_t n,
                                                    float* out) {
    constexpr size_t kBlock = 256;
    for (size_t i0 = 0; i0 < n; i0 += kBlock) {
        const size_t nb = n - i0 < kBlock ? n - i0 : kBlock;
        float* acc = out + i0;
        const uint8_t* c = codes + i0 * m;
        for (size_t i = 0; i < nb; ++i) acc[i] = 0.0f;
        size_t j = 0;
        for (; j + 8 <= m; j += 8) {
            const float* t = table + j * 256;
            for (size_t i = 0; i < nb; ++i) {
                const uint64_t w = load64(c + i * m + j);
                float s0 = t[w & 255] + t[256 + ((w >> 8) & 255)];
                float s1 = t[512 + ((w >> 16) & 255)] + t[768 + ((w >> 24) & 255)];
                float s2 = t[1024 + ((w >> 32) & 255)] + t[1280 + ((w >> 40) & 255)];
                float s3 = t[1536 + ((w >> 48) & 255)] + t[1792 + (w >> 56)];
                acc[i] += (s0 + s1) + (s2 + s3);
            }
        }
        for (; j < m; ++j) {
            const float* t = table + j * 256;
            for (size_t i = 0; i < nb; ++i) acc[i] += t[c[i * m + j]];
        }
    }
}

// Dot products with centroids in chunks of 256 (vectorised across centroids), then the argmin.
__attribute__((always_inline)) inline uint32_t nearest(const float* x, const float* ct, const float* cnorm,
                                                       size_t dsub, size_t k, float* dist) {
    float xn = 0.0f;
    for (size_t d = 0; d < dsub; ++d) xn += x[d] * x[d];
    float best = std::numeric_limits<float>::infinity();
    uint32_t arg = 0;
    constexpr size_t kChunk = 256;
    alignas(64) float acc[kChunk];
    for (size_t j0 = 0; j0 < k; j0 += kChunk) {
        size_t nk = k - j0 < kChunk ? k - j0 : kChunk;
        for (size_t j = 0; j < nk; ++j) acc[j] = cnorm[j0 + j];
        for (size_t d = 0; d < dsub; ++d) {
            const float xd = -2.0f * x[d];
            const float* row = ct + d * k + j0;
            for (size_t j = 0; j < nk; ++j) acc[j] += xd * row[j];
        }
        for (size_t j = 0; j < nk; ++j) {
            if (acc[j] < best) {
                best = acc[j];
                arg = uint32_t(j0 + j);
            }
        }
    }
    float d2 = best + xn;
    *dist = d2 > 0.0f ? d2 : 0.0f;
    return arg;
}

__attribute__((always_inline)) inline int32_t u8s8_dot(const uint8_t* code, const int8_t* w, size_t dim) {
    int32_t s = 0;
    for (size_t i = 0; i < dim; ++i) s += int32_t(code[i]) * int32_t(w[i]);
    return s;
}

__attribute__((always_inline)) inline void u8s8_dot_rows(const uint8_t* codes, size_t dim, const uint32_t* rows,
                                                         size_t n, const int8_t* w, int32_t* out) {
    for (size_t i = 0; i < n; ++i) out[i] = u8s8_dot(codes + size_t(rows[i]) * dim, w, dim);
}

__attribute__((always_inline)) inline void u8s8_block16(const uint8_t* block, const int8_t* w, size_t nw,
                                                        size_t stride, size_t chunks, int32_t* out) {
    for (size_t j = 0; j < nw; ++j) {
        int32_t s[16] = {};
        for (size_t c = 0; c < chunks; ++c)
            for (size_t r = 0; r < 16; ++r)
                for (size_t t = 0; t < 4; ++t)
                    s[r] += int32_t(block[c * 64 + r * 4 + t]) * int32_t(w[j * stride + c * 4 + t]);
        for (size_t r = 0; r < 16; ++r) out[j * 16 + r] = s[r];
    }
}

__attribute__((always_inline)) inline void u8s8_block16_est(const uint8_t* block, const int8_t* w, size_t nw,
                                                            size_t stride, size_t chunks, const float* base,
                                                            const float* mul, const float* norms, const float* bound,
                                                            float* est, uint32_t* masks) {
    int32_t dots[8 * 16];
    for (size_t j0 = 0; j0 < nw; j0 += 8) {
        const size_t m = nw - j0 < 8 ? nw - j0 : 8;
        u8s8_block16(block, w + j0 * stride, m, stride, chunks, dots);
        for (size_t j = 0; j < m; ++j) {
            uint32_t bits = 0;
            for (size_t r = 0; r < 16; ++r) {
                const float e = base[j0 + j] + norms[r] + mul[j0 + j] * float(dots[j * 16 + r]);
                est[(j0 + j) * 16 + r] = e;
                bits |= uint32_t(e < bound[j0 + j]) << r;
            }
            masks[j0 + j] = bits;
        }
    }
}

// Int8Kernels::rows_est through a level's dot_rows, one query at a time (the rows of a call stay
// in cache between queries): the reference, and the form of levels with no grouped kernel.
template <class DotRows>
__attribute__((always_inline)) inline void rows_est_by_query(DotRows dot_rows, const uint8_t* codes, size_t dim,
                                                             const uint32_t* rows, size_t n, const int8_t* w,
                                                             size_t nw, size_t stride, const float* base,
                                                             const float* mul, const float* norms, const float* bound,
                                                             float* est, uint32_t* masks) {
    int32_t dots[64];
    for (size_t i0 = 0; i0 < n; i0 += 64) {
        const size_t m = n - i0 < 64 ? n - i0 : 64;
        for (size_t i = 0; i < m; ++i) masks[i0 + i] = 0;
        for (size_t j = 0; j < nw; ++j) {
            dot_rows(codes, dim, rows + i0, m, w + j * stride, dots);
            for (size_t i = 0; i < m; ++i) {
                const float e = base[j] + (norms ? norms[rows[i0 + i]] : 0.0f) + mul[j] * float(dots[i]);
                est[(i0 + i) * 8 + j] = e;
                masks[i0 + i] |= uint32_t(e < bound[j]) << j;
            }
        }
    }
}

// The reference FastScan: for each code, the four table lookups of every chunk.
__attribute__((always_inline)) inline void fastscan32(const uint8_t* packed, const uint8_t* lut, size_t chunks,
                                                      float* out) {
    for (size_t v = 0; v < 32; ++v) {
        uint32_t s = 0;
        for (size_t c = 0; c < chunks; ++c) {
            const uint8_t* p = packed + c * 64;
            const uint8_t* t = lut + c * 128;
            const size_t lane = v & 16;  // codes 16..31 read the second copy of each table
            s += t[lane + (p[v] & 15)] + t[64 + lane + (p[v] >> 4)] + t[32 + lane + (p[32 + v] & 15)] +
                 t[96 + lane + (p[32 + v] >> 4)];
        }
        out[v] = float(s);
    }
}

__attribute__((always_inline)) inline void fwht(float* a, size_t n) {
    for (size_t h = 1; h < n; h *= 2)
        for (size_t i = 0; i < n; i += 2 * h)
            for (size_t j = i; j < i + h; ++j) {
                const float x = a[j], y = a[j + h];
                a[j] = x + y;
                a[j + h] = x - y;
            }
}

}  // namespace quant_generic
}  // namespace vecsearch
