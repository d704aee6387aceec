// AVX2 + FMA (+ POPCNT) level of the quant kernels, through function-level target attributes.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/prefetch.h"
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
    __m256 sums[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
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
        // Back in code order in registers: a store of the 16-bit sums read back one lane at a
        // time cannot be forwarded (a stall per lane, most of a 24-chunk call).
        const __m256i lo = _mm256_unpacklo_epi16(even, odd), hi = _mm256_unpackhi_epi16(even, odd);
        const __m128i parts[4] = {_mm256_castsi256_si128(lo), _mm256_castsi256_si128(hi),
                                  _mm256_extracti128_si256(lo, 1), _mm256_extracti128_si256(hi, 1)};
        for (size_t p = 0; p < 4; ++p)
            sums[p] = _mm256_add_ps(sums[p], _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(parts[p])));
    }
    for (size_t p = 0; p < 4; ++p) _mm256_storeu_ps(out + 8 * p, sums[p]);
}

// The three butterfly stages within eight floats by lane swaps (adjacent, pairs, halves), the
// wider stages on whole registers: the scalar loops vectorise only from stride 8.
VS_AVX2 void fwht_avx2(float* a, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
        __m256 v = _mm256_loadu_ps(a + i), s = _mm256_permute_ps(v, 0xB1);
        v = _mm256_blend_ps(_mm256_add_ps(v, s), _mm256_sub_ps(s, v), 0xAA);
        s = _mm256_permute_ps(v, 0x4E);
        v = _mm256_blend_ps(_mm256_add_ps(v, s), _mm256_sub_ps(s, v), 0xCC);
        s = _mm256_permute2f128_ps(v, v, 0x01);
        v = _mm256_blend_ps(_mm256_add_ps(v, s), _mm256_sub_ps(s, v), 0xF0);
        _mm256_storeu_ps(a + i, v);
    }
    for (size_t h = 8; h < n; h *= 2)
        for (size_t i = 0; i < n; i += 2 * h)
            for (size_t j = i; j < i + h; j += 8) {
                const __m256 x = _mm256_loadu_ps(a + j), y = _mm256_loadu_ps(a + j + h);
                _mm256_storeu_ps(a + j, _mm256_add_ps(x, y));
                _mm256_storeu_ps(a + j + h, _mm256_sub_ps(x, y));
            }
}

// Without VNNI there is no exact 8-bit multiply-add (vpmaddubsw saturates its 16-bit pair sums:
// 2 * 255 * 127 > 32767), so codes and query are widened to 16 bits and multiplied by vpmaddwd:
// sixteen dimensions per multiply-add, exact, where GCC's own vectorisation of the scalar loop
// took about four times the instructions (vpmullw and three widenings per 16 products).
VS_AVX2 inline __m256i widen_u8(const uint8_t* p) {
    return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
VS_AVX2 inline __m256i widen_s8(const int8_t* p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
VS_AVX2 inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

// Query j's four bytes of a chunk, widened and repeated over the register: [w0 w1 w2 w3] x 4.
VS_AVX2 inline __m256i chunk_weights(const int8_t* w) {
    int32_t four;
    std::memcpy(&four, w, sizeof four);
    return _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(four)));
}

// Two queries per pass over the block: each chunk's 64 code bytes are widened once (four rows
// per register) and multiplied by both; lane 2r and 2r + 1 of an accumulator hold row r's two
// half sums, added once at the end.
VS_AVX2 void u8s8_block16_avx2(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
                                int32_t* out) {
    for (size_t j = 0; j < nw; j += 2) {
        const bool two = j + 1 < nw;
        __m256i a[2][4];
        for (size_t t = 0; t < 2; ++t)
            for (size_t h = 0; h < 4; ++h) a[t][h] = _mm256_setzero_si256();
        const int8_t* w0 = w + j * stride;
        const int8_t* w1 = two ? w0 + stride : w0;
        for (size_t c = 0; c < chunks; ++c) {
            const __m256i q0 = chunk_weights(w0 + c * 4), q1 = chunk_weights(w1 + c * 4);
            for (size_t h = 0; h < 4; ++h) {
                const __m256i v = widen_u8(b + c * 64 + h * 16);
                a[0][h] = _mm256_add_epi32(a[0][h], _mm256_madd_epi16(v, q0));
                a[1][h] = _mm256_add_epi32(a[1][h], _mm256_madd_epi16(v, q1));
            }
        }
        for (size_t t = 0; t < (two ? 2u : 1u); ++t) {
            // hadd pairs lanes within each 128-bit half: rows (0,1 | 2,3) of the first source and
            // (4,5 | 6,7) of the second; the permute puts the rows in order.
            const __m256i lo = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a[t][0], a[t][1]), 0xD8);
            const __m256i hi = _mm256_permute4x64_epi64(_mm256_hadd_epi32(a[t][2], a[t][3]), 0xD8);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (j + t) * 16), lo);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (j + t) * 16 + 8), hi);
        }
    }
}

// With 63-level queries (Int8Kernels::query_max), vpmaddubsw multiplies code bytes by query
// bytes and sums each pair into a 16-bit lane without saturating (2 * 255 * 64 < 32768), and
// vpmaddwd by ones adds the pairs into 32 bits: 32 dimensions in two instructions, no widening.
VS_AVX2 inline __m256i load256(const void* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
VS_AVX2 inline __m256i madd_u8s7(__m256i codes, __m256i w) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(codes, w), _mm256_set1_epi16(1));
}

// The two multiply forms, `step` dimensions per multiply-add into eight 32-bit lanes:
// 127-level queries widened to 16 bits (vpmaddwd), 63-level ones in bytes (vpmaddubsw).
// code() loads a step of code bytes in the form product() multiplies by a query step.
struct Widened {
    static constexpr size_t step = 16;
    VS_AVX2 static __m256i query(const int8_t* w) { return widen_s8(w); }
    VS_AVX2 static __m256i code(const uint8_t* c) { return widen_u8(c); }
    VS_AVX2 static __m256i product(__m256i code, __m256i q) { return _mm256_madd_epi16(code, q); }
    VS_AVX2 static __m256i madd(const uint8_t* c, __m256i q) { return product(code(c), q); }
};
struct Bytes {
    static constexpr size_t step = 32;
    VS_AVX2 static __m256i query(const int8_t* w) { return load256(w); }
    VS_AVX2 static __m256i code(const uint8_t* c) { return load256(c); }
    VS_AVX2 static __m256i product(__m256i code, __m256i q) { return madd_u8s7(code, q); }
    VS_AVX2 static __m256i madd(const uint8_t* c, __m256i q) { return product(code(c), q); }
};

template <class Form>
VS_AVX2 int32_t dot_avx2(const uint8_t* c, const int8_t* w, size_t dim) {
    constexpr size_t s = Form::step;
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 2 * s <= dim; i += 2 * s) {
        a0 = _mm256_add_epi32(a0, Form::madd(c + i, Form::query(w + i)));
        a1 = _mm256_add_epi32(a1, Form::madd(c + i + s, Form::query(w + i + s)));
    }
    for (; i + s <= dim; i += s) a0 = _mm256_add_epi32(a0, Form::madd(c + i, Form::query(w + i)));
    return hsum_epi32(_mm256_add_epi32(a0, a1)) + g::u8s8_dot(c + i, w + i, dim - i);
}

// Four codes at a time: each query load (widened or not) serves four multiply-adds, in four
// independent chains.
template <class Form>
VS_AVX2 void dot_rows_avx2(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                           int32_t* out) {
    const size_t body = dim / Form::step * Form::step;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t* c[4];
        __m256i a[4];
        for (size_t j = 0; j < 4; ++j) {
            c[j] = codes + size_t(rows[i + j]) * dim;
            a[j] = _mm256_setzero_si256();
        }
        for (size_t d = 0; d < body; d += Form::step) {
            const __m256i q = Form::query(w + d);
            for (size_t j = 0; j < 4; ++j) a[j] = _mm256_add_epi32(a[j], Form::madd(c[j] + d, q));
        }
        for (size_t j = 0; j < 4; ++j) out[i + j] = hsum_epi32(a[j]) + g::u8s8_dot(c[j] + body, w + body, dim - body);
    }
    for (; i < n; ++i) out[i] = dot_avx2<Form>(codes + size_t(rows[i]) * dim, w, dim);
}

// Eight vectors of partial sums to their eight totals, in order: lane j = the sum of a[j]'s lanes.
VS_AVX2 inline __m256i hsum8_epi32(const __m256i* a) {
    const __m256i u0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a[0], a[1]), _mm256_hadd_epi32(a[2], a[3]));
    const __m256i u1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a[4], a[5]), _mm256_hadd_epi32(a[6], a[7]));
    // u0 holds a[0..3]'s sums over the low 128 bits, then over the high; u1 the same for a[4..7]
    return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}

constexpr size_t kRowsAhead = 8;

// Int8Kernels::rows_est for NW queries: each step of a code is loaded (and widened) once and
// multiplied by every query's, in NW independent chains; a row's NW sums come out in one register,
// lane j for query j, so its estimates and their tests against the bounds are one vector each.
template <class Form, size_t NW>
VS_AVX2 void rows_est_group(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                            size_t stride, const float* base, const float* mul, const float* norms,
                            const float* bound, float* est, uint32_t* masks) {
    const size_t body = dim / Form::step * Form::step;
    alignas(32) float b8[8] = {}, m8[8] = {}, l8[8] = {};
    for (size_t j = 0; j < NW; ++j) b8[j] = base[j], m8[j] = mul[j], l8[j] = bound[j];
    const __m256 bv = _mm256_load_ps(b8), mv = _mm256_load_ps(m8), lim = _mm256_load_ps(l8);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* c = codes + size_t(rows[i]) * dim;
        // scattered rows: fetch one a few rows ahead of its scoring
        if (i + kRowsAhead < n) prefetch_all(codes + size_t(rows[i + kRowsAhead]) * dim, dim);
        __m256i a[8];
        for (size_t j = 0; j < 8; ++j) a[j] = _mm256_setzero_si256();
        for (size_t d = 0; d < body; d += Form::step) {
            const __m256i v = Form::code(c + d);
            for (size_t j = 0; j < NW; ++j) a[j] = _mm256_add_epi32(a[j], Form::product(v, Form::query(w + j * stride + d)));
        }
        __m256i sums = hsum8_epi32(a);
        if (body < dim) {
            alignas(32) int32_t tail[8] = {};
            for (size_t j = 0; j < NW; ++j) tail[j] = g::u8s8_dot(c + body, w + j * stride + body, dim - body);
            sums = _mm256_add_epi32(sums, _mm256_load_si256(reinterpret_cast<const __m256i*>(tail)));
        }
        const __m256 offset = _mm256_add_ps(bv, _mm256_set1_ps(norms ? norms[rows[i]] : 0.0f));
        const __m256 e = _mm256_fmadd_ps(mv, _mm256_cvtepi32_ps(sums), offset);
        _mm256_storeu_ps(est + i * 8, e);
        masks[i] = uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(e, lim, _CMP_LT_OQ))) & ((1u << NW) - 1u);
    }
}

template <class Form>
VS_AVX2 void rows_est_avx2(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                           size_t nw, size_t stride, const float* base, const float* mul, const float* norms,
                           const float* bound, float* est, uint32_t* masks) {
    using Group = void (*)(const uint8_t*, size_t, const uint32_t*, size_t, const int8_t*, size_t, const float*,
                           const float*, const float*, const float*, float*, uint32_t*);
    static constexpr Group groups[8] = {rows_est_group<Form, 1>, rows_est_group<Form, 2>, rows_est_group<Form, 3>,
                                        rows_est_group<Form, 4>, rows_est_group<Form, 5>, rows_est_group<Form, 6>,
                                        rows_est_group<Form, 7>, rows_est_group<Form, 8>};
    if (nw > 0) groups[std::min<size_t>(nw, 8) - 1](codes, dim, rows, n, w, stride, base, mul, norms, bound, est, masks);
}

// NW queries per pass over the block: each 32-byte half of a chunk (8 codes x 4 bytes) against
// a query's four bytes repeated gives the 8 codes' sums in row order, one 32-bit lane each.
template <size_t NW>
VS_AVX2 inline void u8s7_block16_group(const uint8_t* b, const int8_t* w, size_t stride, size_t chunks,
                                       int32_t* out) {
    __m256i lo[NW], hi[NW];
    for (size_t t = 0; t < NW; ++t) lo[t] = hi[t] = _mm256_setzero_si256();
    for (size_t c = 0; c < chunks; ++c) {
        const __m256i v0 = load256(b + c * 64), v1 = load256(b + c * 64 + 32);
        for (size_t t = 0; t < NW; ++t) {
            int32_t four;
            std::memcpy(&four, w + t * stride + c * 4, sizeof four);
            const __m256i q = _mm256_set1_epi32(four);
            lo[t] = _mm256_add_epi32(lo[t], madd_u8s7(v0, q));
            hi[t] = _mm256_add_epi32(hi[t], madd_u8s7(v1, q));
        }
    }
    for (size_t t = 0; t < NW; ++t) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + t * 16), lo[t]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + t * 16 + 8), hi[t]);
    }
}

VS_AVX2 void u8s7_block16_avx2(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
                               int32_t* out) {
    size_t j = 0;
    for (; j + 4 <= nw; j += 4) u8s7_block16_group<4>(b, w + j * stride, stride, chunks, out + j * 16);
    for (; j < nw; ++j) u8s7_block16_group<1>(b, w + j * stride, stride, chunks, out + j * 16);
}

template <void (*Block16)(const uint8_t*, const int8_t*, size_t, size_t, size_t, int32_t*)>
VS_AVX2 void block16_est_avx2(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
        const float* base, const float* mul, const float* norms, const float* bound, float* est, uint32_t* masks) {
    alignas(32) int32_t dots[8 * 16];
    const __m256 n0 = _mm256_loadu_ps(norms), n1 = _mm256_loadu_ps(norms + 8);
    for (size_t j0 = 0; j0 < nw; j0 += 8) {
        const size_t m = std::min<size_t>(8, nw - j0);
        Block16(b, w + j0 * stride, m, stride, chunks, dots);
        for (size_t j = 0; j < m; ++j) {
            const __m256 bj = _mm256_set1_ps(base[j0 + j]), mj = _mm256_set1_ps(mul[j0 + j]);
            const __m256 lim = _mm256_set1_ps(bound[j0 + j]);
            const __m256 e0 = _mm256_fmadd_ps(mj, _mm256_cvtepi32_ps(_mm256_load_si256(
                                                      reinterpret_cast<const __m256i*>(dots + j * 16))), _mm256_add_ps(bj, n0));
            const __m256 e1 = _mm256_fmadd_ps(mj, _mm256_cvtepi32_ps(_mm256_load_si256(
                                                      reinterpret_cast<const __m256i*>(dots + j * 16 + 8))), _mm256_add_ps(bj, n1));
            _mm256_storeu_ps(est + (j0 + j) * 16, e0);
            _mm256_storeu_ps(est + (j0 + j) * 16 + 8, e1);
            masks[j0 + j] = uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(e0, lim, _CMP_LT_OQ))) |
                            uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(e1, lim, _CMP_LT_OQ))) << 8;
        }
    }
}

}  // namespace

const QuantKernels& avx2_quant_kernels() {
    static const QuantKernels table{SimdLevel::avx2,   "avx2",           sq8_l2_avx2,   sq8_dot_avx2,
                                    hamming_avx2,      hamming_scan_avx2, scalar_quant_kernels().pq8_scan, nearest_avx2,
                                    fastscan32_avx2,   fwht_avx2,
                                    {127, dot_avx2<Widened>, dot_rows_avx2<Widened>, u8s8_block16_avx2,
                                     block16_est_avx2<u8s8_block16_avx2>, rows_est_avx2<Widened>},
                                    {63, dot_avx2<Bytes>, dot_rows_avx2<Bytes>, u8s7_block16_avx2,
                                     block16_est_avx2<u8s7_block16_avx2>, rows_est_avx2<Bytes>}};
    return table;
}

}  // namespace vecsearch
