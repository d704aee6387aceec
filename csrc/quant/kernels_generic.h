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

// Four codes per step, two sums per code, code bytes read eight at a time: eight independent
// add chains and a third of the loads of a byte-by-byte loop. Deliberately scalar: table
// lookups vectorise only as gathers, which measured 2x slower (AVX2 and AVX-512, Zen 4).
__attribute__((always_inline)) inline void pq8_scan(const float* table, const uint8_t* codes, size_t m, size_t n,
                                                    float* out) {
    const size_t m8 = m & ~size_t{7};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t* c = codes + i * m;
        float a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        const float* t = table;
        for (size_t j = 0; j < m8; j += 8, t += 8 * 256) {
            uint64_t w0 = load64(c + j), w1 = load64(c + m + j), w2 = load64(c + 2 * m + j),
                     w3 = load64(c + 3 * m + j);
            for (size_t b = 0; b < 8; b += 2) {
                const float* ta = t + b * 256;
                const float* tb = ta + 256;
                a0 += ta[(w0 >> (8 * b)) & 255];
                a1 += ta[(w1 >> (8 * b)) & 255];
                a2 += ta[(w2 >> (8 * b)) & 255];
                a3 += ta[(w3 >> (8 * b)) & 255];
                b0 += tb[(w0 >> (8 * b + 8)) & 255];
                b1 += tb[(w1 >> (8 * b + 8)) & 255];
                b2 += tb[(w2 >> (8 * b + 8)) & 255];
                b3 += tb[(w3 >> (8 * b + 8)) & 255];
            }
        }
        for (size_t j = m8; j < m; ++j, t += 256) {
            a0 += t[c[j]];
            a1 += t[c[m + j]];
            a2 += t[c[2 * m + j]];
            a3 += t[c[3 * m + j]];
        }
        out[i] = a0 + b0;
        out[i + 1] = a1 + b1;
        out[i + 2] = a2 + b2;
        out[i + 3] = a3 + b3;
    }
    for (; i < n; ++i) {
        const uint8_t* c = codes + i * m;
        float s = 0;
        for (size_t j = 0; j < m; ++j) s += table[j * 256 + c[j]];
        out[i] = s;
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

}  // namespace quant_generic
}  // namespace vecsearch
