// Kernels over quantized codes, one table per SIMD level (the pattern of simd/kernels.h).
//
// Every kernel reads exactly the bytes it is given (tails are handled without over-reads) and
// needs no alignment. quant/kernels_scalar.cpp is the reference the SIMD levels are tested
// against through the private _core.quant_kernel hook (tests/test_quant_kernels.py).
#pragma once

#include <cstddef>
#include <cstdint>

#include "simd/kernels.h"

namespace vecsearch {

// Integer dot products of unsigned code bytes against signed query bytes w with
// |w_i| <= query_max (the kernels are exact in that range, not beyond it).
struct Int8Kernels {
    int query_max;
    // sum_i code_i * w_i over dim bytes (one vpdpbusd per 64 dimensions with AVX-512 VNNI).
    int32_t (*dot)(const uint8_t* code, const int8_t* w, size_t dim);
    // dot of n scattered codes at once (a graph walk's neighbours): out[i] = the code at
    // codes + rows[i] * dim . w. Four codes share each query load, in four independent chains.
    void (*dot_rows)(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                     int32_t* out);
    // The same for 16 codes stored interleaved (graph/range_codes.h: chunk c holds bytes 4c..4c+3
    // of code r at c * 64 + 4r) against nw <= 8 queries of `chunks` * 4 bytes each, `stride`
    // bytes apart: out[j * 16 + r] = code r . query j. With VNNI one vpdpbusd per chunk and query
    // scores all 16 codes, with no horizontal sum.
    void (*block16)(const uint8_t* block, const int8_t* w, size_t nw, size_t stride, size_t chunks, int32_t* out);
    // block16, then each dot product as an estimated distance and its test against the
    // query's bound: est[j * 16 + r] = base[j] + norms[r] + mul[j] * dot, bit r of masks[j] set
    // where est < bound[j] (SQ8Codec::IntQuery forms; graph/code_scan.h admits only those).
    void (*block16_est)(const uint8_t* block, const int8_t* w, size_t nw, size_t stride, size_t chunks,
                        const float* base, const float* mul, const float* norms, const float* bound, float* est,
                        uint32_t* masks);
    // n scattered codes where they lie (codes + rows[i] * dim, as dot_rows) against nw <= 8 queries
    // (dim bytes each, `stride` apart), each code loaded once for all of them: est[i * 8 + j] =
    // base[j] + norms[rows[i]] (0 when norms is null) + mul[j] * dot, bit j of masks[i] set where
    // est < bound[j]. A scan of scattered matches needs no interleaved copy of their codes.
    void (*rows_est)(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w, size_t nw,
                     size_t stride, const float* base, const float* mul, const float* norms, const float* bound,
                     float* est, uint32_t* masks);
};

struct QuantKernels {
    SimdLevel level;
    const char* name;
    // SQ8, l2: sum_i (q_i - scale_i * c_i)^2, with q already shifted by the per-dim minimum.
    float (*sq8_l2)(const float* q, const float* scale, const uint8_t* code, size_t dim);
    // SQ8, inner product part: sum_i w_i * c_i (w = query * scale).
    float (*sq8_dot)(const float* w, const uint8_t* code, size_t dim);
    // Hamming distance between two codes of `words` 64-bit words (given as bytes).
    uint32_t (*hamming)(const uint8_t* a, const uint8_t* b, size_t words);
    // Hamming distances from one query code to n consecutive codes.
    void (*hamming_scan)(const uint8_t* q, const uint8_t* codes, size_t words, size_t n, float* out);
    // PQ with 8-bit codes: out[i] = sum_j table[j * 256 + codes[i * m + j]]. Every level uses the
    // scalar loop: lookups vectorise only as gathers, measured 2x slower on AVX2 and AVX-512.
    void (*pq8_scan)(const float* table, const uint8_t* codes, size_t m, size_t n, float* out);
    // Nearest of k centroids (stored transposed, ct[d * k + j]; cnorm[j] = |c_j|^2) to x[0..dsub).
    // Returns the index and writes |x - c|^2 to *dist.
    uint32_t (*nearest)(const float* x, const float* ct, const float* cnorm, size_t dsub, size_t k, float* dist);
    // FastScan of 32 four-bit-group codes (quant/rabitq.h): out[v] = sum over `chunks` chunks of
    // lut[c*128 + s(v,c)] lookups, where chunk c is 64 code bytes (byte v and 32 + v belong to
    // code v; low nibbles index the first 64 table bytes, high nibbles the next 64; in each
    // 32-byte half, codes 0-15 read its first 16-byte table, codes 16-31 its second, equal copy
    // in practice). Table entries are at most 124 (five-bit levels, four per entry).
    void (*fastscan32)(const uint8_t* packed, const uint8_t* lut, size_t chunks, float* out);
    // In-place unnormalised Walsh-Hadamard transform of n floats (n a power of two, >= 8): the
    // RaBitQ rotation's rounds (quant/rabitq.h), once per query.
    void (*fwht)(float* a, size_t n);
    // SQ8 walks and scans against an int8 query (SQ8Codec::prepare_int8): u8s8 takes query
    // bytes of 127 levels a side; u8s8_fast takes 63 a side where the level multiplies those
    // faster (AVX2: vpmaddubsw, whose saturating 16-bit pair sums are exact only while
    // |w| <= 64), and elsewhere is u8s8 itself. SQ8Codec::int8_kernels picks between them.
    Int8Kernels u8s8, u8s8_fast;
};

const QuantKernels& scalar_quant_kernels();
const QuantKernels& avx2_quant_kernels();
const QuantKernels& avx512_quant_kernels();

// The table of the level simd/cpu.h chose (VECSEARCH_SIMD applies here too).
const QuantKernels& active_quant_kernels();
const QuantKernels& quant_kernels_for(SimdLevel level);  // throws InvalidArgument when unsupported

}  // namespace vecsearch
