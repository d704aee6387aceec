// AVX2 + FMA kernels, compiled through function-level target attributes so the rest of the
// build stays baseline x86-64.
#include <immintrin.h>

#include "simd/kernels.h"

#define VS_AVX2 __attribute__((target("avx2,fma")))

namespace vecsearch {

namespace {

VS_AVX2 inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// Mask with the first `n` (< 8) lanes set, for the tail.
VS_AVX2 inline __m256i tail_mask(size_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx);
}

VS_AVX2 float l2sq_avx2(const float* a, const float* b, size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
        s2 = _mm256_fmadd_ps(d2, d2, s2);
        s3 = _mm256_fmadd_ps(d3, d3, s3);
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d, d, s0);
    }
    if (i < dim) {
        __m256i m = tail_mask(dim - i);
        __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        s1 = _mm256_fmadd_ps(d, d, s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

VS_AVX2 float dot_avx2(const float* a, const float* b, size_t dim) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= dim; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    if (i < dim) {
        __m256i m = tail_mask(dim - i);
        s1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

}  // namespace

// The block's 16 queries take two registers per coordinate; two coordinates per step keep four
// FMA chains in flight.
template <bool L2>
VS_AVX2 inline void block_avx2(const float* qt, const float* row, size_t dim, float* out) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
    auto step = [&](__m256& lo, __m256& hi, size_t i) VS_AVX2 {
        __m256 r = _mm256_broadcast_ss(row + i);
        __m256 q0 = _mm256_loadu_ps(qt + i * 16), q1 = _mm256_loadu_ps(qt + i * 16 + 8);
        if (L2) {
            __m256 d0 = _mm256_sub_ps(r, q0), d1 = _mm256_sub_ps(r, q1);
            lo = _mm256_fmadd_ps(d0, d0, lo);
            hi = _mm256_fmadd_ps(d1, d1, hi);
        } else {
            lo = _mm256_fmadd_ps(r, q0, lo);
            hi = _mm256_fmadd_ps(r, q1, hi);
        }
    };
    size_t i = 0;
    for (; i + 2 <= dim; i += 2) {
        step(a0, a1, i);
        step(b0, b1, i + 1);
    }
    if (i < dim) step(a0, a1, i);
    _mm256_storeu_ps(out, _mm256_add_ps(a0, b0));
    _mm256_storeu_ps(out + 8, _mm256_add_ps(a1, b1));
}

VS_AVX2 void l2sq_block_avx2(const float* qt, const float* row, size_t dim, float* out) {
    block_avx2<true>(qt, row, dim, out);
}

VS_AVX2 void dot_block_avx2(const float* qt, const float* row, size_t dim, float* out) {
    block_avx2<false>(qt, row, dim, out);
}

// Four rows at once: each pair of query loads feeds eight FMA chains (two per row). The
// accumulators are named, not an array: GCC kept an array's on the stack, a store and a load
// around every FMA (measured: four times the time of the arithmetic).
VS_AVX2 void dot_block4_avx2(const float* qt, const float* const* rows, size_t dim, float* out) {
    static_assert(kBlockRows == 4, "one accumulator pair per row");
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    __m256 lo0 = _mm256_setzero_ps(), hi0 = lo0, lo1 = lo0, hi1 = lo0, lo2 = lo0, hi2 = lo0, lo3 = lo0, hi3 = lo0;
    for (size_t i = 0; i < dim; ++i) {
        const __m256 q0 = _mm256_loadu_ps(qt + i * 16), q1 = _mm256_loadu_ps(qt + i * 16 + 8);
        __m256 x = _mm256_broadcast_ss(r0 + i);
        lo0 = _mm256_fmadd_ps(x, q0, lo0);
        hi0 = _mm256_fmadd_ps(x, q1, hi0);
        x = _mm256_broadcast_ss(r1 + i);
        lo1 = _mm256_fmadd_ps(x, q0, lo1);
        hi1 = _mm256_fmadd_ps(x, q1, hi1);
        x = _mm256_broadcast_ss(r2 + i);
        lo2 = _mm256_fmadd_ps(x, q0, lo2);
        hi2 = _mm256_fmadd_ps(x, q1, hi2);
        x = _mm256_broadcast_ss(r3 + i);
        lo3 = _mm256_fmadd_ps(x, q0, lo3);
        hi3 = _mm256_fmadd_ps(x, q1, hi3);
    }
    _mm256_storeu_ps(out, lo0);
    _mm256_storeu_ps(out + 8, hi0);
    _mm256_storeu_ps(out + 16, lo1);
    _mm256_storeu_ps(out + 24, hi1);
    _mm256_storeu_ps(out + 32, lo2);
    _mm256_storeu_ps(out + 40, hi2);
    _mm256_storeu_ps(out + 48, lo3);
    _mm256_storeu_ps(out + 56, hi3);
}

// Sixteen ymm registers hold only one block's accumulators: two blocks are two passes.
VS_AVX2 void dot_block4x2_avx2(const float* qt, size_t stride, const float* const* rows, size_t dim, float* out) {
    dot_block4_avx2(qt, rows, dim, out);
    dot_block4_avx2(qt + stride, rows, dim, out + kBlockRows * kBlockQueries);
}

// Eight ranks per compare: unsigned "less than" as a signed one with both sides' top bit flipped.
VS_AVX2 void rank_bits_avx2(const uint32_t* ranks, size_t words, uint32_t start, uint32_t width, uint64_t* out) {
    const __m256i s = _mm256_set1_epi32(int32_t(start)), flip = _mm256_set1_epi32(INT32_MIN);
    const __m256i limit = _mm256_xor_si256(_mm256_set1_epi32(int32_t(width)), flip);
    for (size_t w = 0; w < words; ++w) {
        uint64_t bits = 0;
        for (size_t g = 0; g < 8; ++g) {
            const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ranks + w * 64 + g * 8));
            const __m256i off = _mm256_xor_si256(_mm256_sub_epi32(r, s), flip);
            const int m = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(limit, off)));
            bits |= uint64_t(uint32_t(m)) << (g * 8);
        }
        out[w] = bits;
    }
}

const KernelTable& avx2_kernels() {
    static const KernelTable table{SimdLevel::avx2, "avx2", l2sq_avx2, dot_avx2, l2sq_block_avx2, dot_block_avx2,
                                   dot_block4_avx2, dot_block4x2_avx2, rank_bits_avx2};
    return table;
}

}  // namespace vecsearch
