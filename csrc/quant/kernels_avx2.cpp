// AVX2 + FMA (+ POPCNT) level of the quant kernels, through function-level target attributes.
#include <immintrin.h>

#include "quant/kernels.h"
#include "quant/kernels_generic.h"

#define VS_AVX2 __attribute__((target("avx2,fma,popcnt")))

namespace vecsearch {

namespace {

namespace g = quant_generic;

VS_AVX2 inline float hsum256(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

// Eight code bytes as floats; reads exactly 8 bytes.
VS_AVX2 inline __m256 load8_u8(const uint8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

VS_AVX2 float sq8_l2_avx2(const float* q, const float* s, const uint8_t* c, size_t dim) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        __m256 d0 = _mm256_fnmadd_ps(_mm256_loadu_ps(s + i), load8_u8(c + i), _mm256_loadu_ps(q + i));
        __m256 d1 = _mm256_fnmadd_ps(_mm256_loadu_ps(s + i + 8), load8_u8(c + i + 8), _mm256_loadu_ps(q + i + 8));
        a0 = _mm256_fmadd_ps(d0, d0, a0);
        a1 = _mm256_fmadd_ps(d1, d1, a1);
    }
    for (; i + 8 <= dim; i += 8) {
        __m256 d = _mm256_fnmadd_ps(_mm256_loadu_ps(s + i), load8_u8(c + i), _mm256_loadu_ps(q + i));
        a0 = _mm256_fmadd_ps(d, d, a0);
    }
    float sum = hsum256(_mm256_add_ps(a0, a1));
    return sum + g::sq8_l2(q + i, s + i, c + i, dim - i);
}

VS_AVX2 float sq8_dot_avx2(const float* w, const uint8_t* c, size_t dim) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= dim; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), load8_u8(c + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), load8_u8(c + i + 8), a1);
    }
    for (; i + 8 <= dim; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), load8_u8(c + i), a0);
    return hsum256(_mm256_add_ps(a0, a1)) + g::sq8_dot(w + i, c + i, dim - i);
}

VS_AVX2 uint32_t hamming_avx2(const uint8_t* a, const uint8_t* b, size_t words) { return g::hamming(a, b, words); }

VS_AVX2 void hamming_scan_avx2(const uint8_t* q, const uint8_t* codes, size_t words, size_t n, float* out) {
    g::hamming_scan(q, codes, words, n, out);
}

// One code: eight subquantizers per gather, two accumulators.
VS_AVX2 inline float pq8_one_avx2(const float* table, const uint8_t* c, size_t m) {
    const __m256i lane = _mm256_setr_epi32(0, 256, 512, 768, 1024, 1280, 1536, 1792);
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= m; j += 16) {
        __m256i i0 = _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + j))),
                                      lane);
        __m256i i1 = _mm256_add_epi32(
            _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + j + 8))), lane);
        a0 = _mm256_add_ps(a0, _mm256_i32gather_ps(table + j * 256, i0, 4));
        a1 = _mm256_add_ps(a1, _mm256_i32gather_ps(table + (j + 8) * 256, i1, 4));
    }
    for (; j + 8 <= m; j += 8) {
        __m256i i0 = _mm256_add_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(c + j))),
                                      lane);
        a0 = _mm256_add_ps(a0, _mm256_i32gather_ps(table + j * 256, i0, 4));
    }
    float s = hsum256(_mm256_add_ps(a0, a1));
    for (; j < m; ++j) s += table[j * 256 + c[j]];
    return s;
}

VS_AVX2 void pq8_scan_gather_avx2(const float* t, const uint8_t* codes, size_t m, size_t n, float* out) {
    for (size_t i = 0; i < n; ++i) out[i] = pq8_one_avx2(t, codes + i * m, m);
}

VS_AVX2 void pq8_scan_avx2(const float* t, const uint8_t* codes, size_t m, size_t n, float* out) {
    g::pq8_scan(t, codes, m, n, out);
}

VS_AVX2 uint32_t nearest_avx2(const float* x, const float* ct, const float* cn, size_t dsub, size_t k, float* dist) {
    return g::nearest(x, ct, cn, dsub, k, dist);
}

}  // namespace

const QuantKernels& avx2_quant_kernels() {
    static const QuantKernels table{SimdLevel::avx2,   "avx2",           sq8_l2_avx2,   sq8_dot_avx2,
                                    hamming_avx2,      hamming_scan_avx2, pq8_scan_avx2, nearest_avx2};
    (void)pq8_scan_gather_avx2;
    return table;
}

}  // namespace vecsearch
