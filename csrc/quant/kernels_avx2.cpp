// AVX2 + FMA (+ POPCNT) level of the quant kernels, through function-level target attributes.
#include <immintrin.h>

#include <algorithm>
#include <limits>

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

// Eight centroids per register; each lane keeps its running minimum and the index that gave
// it (strict < keeps the earliest), then the lanes are merged.
VS_AVX2 uint32_t nearest_avx2(const float* x, const float* ct, const float* cn, size_t dsub, size_t k, float* dist) {
    const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    const __m256i step = _mm256_set1_epi32(8);
    __m256 bestv = inf;
    __m256i besti = _mm256_setzero_si256();
    __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t j = 0; j < k; j += 8, idx = _mm256_add_epi32(idx, step)) {
        __m256 acc;
        if (j + 8 <= k) {
            acc = _mm256_loadu_ps(cn + j);
            for (size_t d = 0; d < dsub; ++d)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f * x[d]), _mm256_loadu_ps(ct + d * k + j), acc);
        } else {
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(k - j)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            acc = _mm256_maskload_ps(cn + j, m);
            for (size_t d = 0; d < dsub; ++d)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f * x[d]), _mm256_maskload_ps(ct + d * k + j, m), acc);
            acc = _mm256_blendv_ps(inf, acc, _mm256_castsi256_ps(m));
        }
        __m256 lt = _mm256_cmp_ps(acc, bestv, _CMP_LT_OQ);
        bestv = _mm256_blendv_ps(bestv, acc, lt);
        besti = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(besti), _mm256_castsi256_ps(idx), lt));
    }
    alignas(32) float bv[8];
    alignas(32) int32_t bi[8];
    _mm256_store_ps(bv, bestv);
    _mm256_store_si256(reinterpret_cast<__m256i*>(bi), besti);
    float best = bv[0];
    int32_t arg = bi[0];
    for (int l = 1; l < 8; ++l)
        if (bv[l] < best || (bv[l] == best && bi[l] < arg)) {
            best = bv[l];
            arg = bi[l];
        }
    float xn = 0.0f;
    for (size_t d = 0; d < dsub; ++d) xn += x[d] * x[d];
    float d2 = best + xn;
    *dist = d2 > 0.0f ? d2 : 0.0f;
    return uint32_t(arg);
}

// Each 32-byte half of a chunk holds one pair of nibble groups for the 32 codes; the byte sums
// are widened into even and odd 16-bit lanes, flushed to float before they could overflow.
VS_AVX2 void fastscan32_avx2(const uint8_t* packed, const uint8_t* lut, size_t chunks, float* out) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), low8 = _mm256_set1_epi16(0x00FF);
    for (size_t v = 0; v < 32; ++v) out[v] = 0.0f;
    constexpr size_t kFlush = 128;  // chunks per flush: 2 * 248 * 128 < 65536
    for (size_t c0 = 0; c0 < chunks; c0 += kFlush) {
        __m256i even = _mm256_setzero_si256(), odd = _mm256_setzero_si256();
        size_t c1 = std::min(chunks, c0 + kFlush);
        for (size_t c = c0; c < c1; ++c)
            for (size_t h = 0; h < 2; ++h) {
                __m256i codes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(packed + c * 64 + h * 32));
                __m256i tlo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut + c * 128 + h * 32));
                __m256i thi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lut + c * 128 + 64 + h * 32));
                __m256i r = _mm256_add_epi8(_mm256_shuffle_epi8(tlo, _mm256_and_si256(codes, low4)),
                                            _mm256_shuffle_epi8(thi, _mm256_and_si256(_mm256_srli_epi16(codes, 4), low4)));
                even = _mm256_add_epi16(even, _mm256_and_si256(r, low8));
                odd = _mm256_add_epi16(odd, _mm256_srli_epi16(r, 8));
            }
        alignas(32) uint16_t e[16], o[16];
        _mm256_store_si256(reinterpret_cast<__m256i*>(e), even);
        _mm256_store_si256(reinterpret_cast<__m256i*>(o), odd);
        for (size_t w = 0; w < 16; ++w) {
            out[2 * w] += float(e[w]);
            out[2 * w + 1] += float(o[w]);
        }
    }
}

VS_AVX2 int32_t u8s8_dot_avx2(const uint8_t* c, const int8_t* w, size_t dim) { return g::u8s8_dot(c, w, dim); }
VS_AVX2 void u8s8_dot_rows_avx2(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                                int32_t* out) {
    g::u8s8_dot_rows(codes, dim, rows, n, w, out);
}
VS_AVX2 void u8s8_block16_avx2(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
                                int32_t* out) {
    g::u8s8_block16(b, w, nw, stride, chunks, out);
}
VS_AVX2 void u8s8_block16_est_avx2(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
        const float* base, const float* mul, const float* norms, const float* bound, float* est, uint32_t* masks) {
    g::u8s8_block16_est(b, w, nw, stride, chunks, base, mul, norms, bound, est, masks);
}

}  // namespace

const QuantKernels& avx2_quant_kernels() {
    static const QuantKernels table{SimdLevel::avx2,   "avx2",           sq8_l2_avx2,   sq8_dot_avx2,
                                    hamming_avx2,      hamming_scan_avx2, scalar_quant_kernels().pq8_scan, nearest_avx2,
                                    fastscan32_avx2, u8s8_dot_avx2, u8s8_dot_rows_avx2, u8s8_block16_avx2, u8s8_block16_est_avx2};
    return table;
}

}  // namespace vecsearch
