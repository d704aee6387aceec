// AVX-512 kernels (F + BW/VL/DQ), with masked loads for the tail, so no scalar loop remains.
#include <immintrin.h>

#include "simd/kernels.h"

#define VS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace vecsearch {

namespace {

VS_AVX512 inline __mmask16 tail_mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

VS_AVX512 float l2sq_avx512(const float* a, const float* b, size_t dim) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    // Four independent FMA chains hide the FMA latency on in-cache rows.
    for (; i + 64 <= dim; i += 64) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
        s2 = _mm512_fmadd_ps(d2, d2, s2);
        s3 = _mm512_fmadd_ps(d3, d3, s3);
    }
    for (; i + 16 <= dim; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    if (i < dim) {
        __mmask16 m = tail_mask(dim - i);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

VS_AVX512 float dot_avx512(const float* a, const float* b, size_t dim) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i + 32 <= dim; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= dim; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < dim) {
        __mmask16 m = tail_mask(dim - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace

// The block's 16 queries fill one register per coordinate; four accumulators over consecutive
// coordinates keep four FMA chains in flight.
template <bool L2>
VS_AVX512 inline void block_avx512(const float* qt, const float* row, size_t dim, float* out) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    auto step = [&](__m512& s, size_t i) VS_AVX512 {
        __m512 q = _mm512_loadu_ps(qt + i * 16);
        __m512 r = _mm512_set1_ps(row[i]);
        if (L2) {
            __m512 d = _mm512_sub_ps(r, q);
            s = _mm512_fmadd_ps(d, d, s);
        } else {
            s = _mm512_fmadd_ps(r, q, s);
        }
    };
    size_t i = 0;
    for (; i + 4 <= dim; i += 4) {
        step(s0, i);
        step(s1, i + 1);
        step(s2, i + 2);
        step(s3, i + 3);
    }
    for (; i < dim; ++i) step(s0, i);
    _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

VS_AVX512 void l2sq_block_avx512(const float* qt, const float* row, size_t dim, float* out) {
    block_avx512<true>(qt, row, dim, out);
}

VS_AVX512 void dot_block_avx512(const float* qt, const float* row, size_t dim, float* out) {
    block_avx512<false>(qt, row, dim, out);
}

// Four rows at once: one query load feeds four FMA chains (one per row).
VS_AVX512 void dot_block4_avx512(const float* qt, const float* const* rows, size_t dim, float* out) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    for (size_t i = 0; i < dim; ++i) {
        __m512 q = _mm512_loadu_ps(qt + i * 16);
        s0 = _mm512_fmadd_ps(_mm512_set1_ps(r0[i]), q, s0);
        s1 = _mm512_fmadd_ps(_mm512_set1_ps(r1[i]), q, s1);
        s2 = _mm512_fmadd_ps(_mm512_set1_ps(r2[i]), q, s2);
        s3 = _mm512_fmadd_ps(_mm512_set1_ps(r3[i]), q, s3);
    }
    _mm512_storeu_ps(out, s0);
    _mm512_storeu_ps(out + 16, s1);
    _mm512_storeu_ps(out + 32, s2);
    _mm512_storeu_ps(out + 48, s3);
}

VS_AVX512 void dot_block4x2_avx512(const float* qt, size_t stride, const float* const* rows, size_t dim,
                                   float* out) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps();
    const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const float* qt2 = qt + stride;
    for (size_t i = 0; i < dim; ++i) {
        __m512 p = _mm512_loadu_ps(qt + i * 16), q = _mm512_loadu_ps(qt2 + i * 16);
        __m512 x0 = _mm512_set1_ps(r0[i]), x1 = _mm512_set1_ps(r1[i]);
        __m512 x2 = _mm512_set1_ps(r2[i]), x3 = _mm512_set1_ps(r3[i]);
        a0 = _mm512_fmadd_ps(x0, p, a0);
        a1 = _mm512_fmadd_ps(x1, p, a1);
        a2 = _mm512_fmadd_ps(x2, p, a2);
        a3 = _mm512_fmadd_ps(x3, p, a3);
        b0 = _mm512_fmadd_ps(x0, q, b0);
        b1 = _mm512_fmadd_ps(x1, q, b1);
        b2 = _mm512_fmadd_ps(x2, q, b2);
        b3 = _mm512_fmadd_ps(x3, q, b3);
    }
    _mm512_storeu_ps(out, a0);
    _mm512_storeu_ps(out + 16, a1);
    _mm512_storeu_ps(out + 32, a2);
    _mm512_storeu_ps(out + 48, a3);
    _mm512_storeu_ps(out + 64, b0);
    _mm512_storeu_ps(out + 80, b1);
    _mm512_storeu_ps(out + 96, b2);
    _mm512_storeu_ps(out + 112, b3);
}

// Sixteen ranks per compare, straight into a mask register.
__attribute__((target("avx512f"))) void rank_bits_avx512(const uint32_t* ranks, size_t words, uint32_t start,
                                                         uint32_t width, uint64_t* out) {
    const __m512i s = _mm512_set1_epi32(int32_t(start)), limit = _mm512_set1_epi32(int32_t(width));
    for (size_t w = 0; w < words; ++w) {
        uint64_t bits = 0;
        for (size_t g = 0; g < 4; ++g) {
            const __m512i r = _mm512_loadu_si512(ranks + w * 64 + g * 16);
            bits |= uint64_t(_mm512_cmplt_epu32_mask(_mm512_sub_epi32(r, s), limit)) << (g * 16);
        }
        out[w] = bits;
    }
}

const KernelTable& avx512_kernels() {
    static const KernelTable table{SimdLevel::avx512, "avx512", l2sq_avx512, dot_avx512, l2sq_block_avx512,
                                   dot_block_avx512, dot_block4_avx512, dot_block4x2_avx512, rank_bits_avx512};
    return table;
}

}  // namespace vecsearch
