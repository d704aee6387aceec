// AVX-512 level of the quant kernels (F/BW/VL/DQ; VPOPCNTDQ for Hamming when the CPU has it).
// Tails use masked loads, which never touch the masked-out bytes.
#include <cstring>
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "quant/kernels.h"
#include "quant/kernels_generic.h"
#include "simd/cpu.h"

#define VS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,popcnt")))
#define VS_AVX512_POPCNT __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vpopcntdq,popcnt")))

namespace vecsearch {

namespace {

namespace g = quant_generic;

VS_AVX512 inline __m512 load16_u8(const uint8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

VS_AVX512 inline __m512 load_tail_u8(const uint8_t* p, __mmask16 k) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(k, p)));
}

VS_AVX512 inline __mmask16 tail_mask16(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

VS_AVX512 float sq8_l2_avx512(const float* q, const float* s, const uint8_t* c, size_t dim) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        __m512 d0 = _mm512_fnmadd_ps(_mm512_loadu_ps(s + i), load16_u8(c + i), _mm512_loadu_ps(q + i));
        __m512 d1 = _mm512_fnmadd_ps(_mm512_loadu_ps(s + i + 16), load16_u8(c + i + 16), _mm512_loadu_ps(q + i + 16));
        a0 = _mm512_fmadd_ps(d0, d0, a0);
        a1 = _mm512_fmadd_ps(d1, d1, a1);
    }
    for (; i + 16 <= dim; i += 16) {
        __m512 d = _mm512_fnmadd_ps(_mm512_loadu_ps(s + i), load16_u8(c + i), _mm512_loadu_ps(q + i));
        a0 = _mm512_fmadd_ps(d, d, a0);
    }
    if (i < dim) {
        __mmask16 k = tail_mask16(dim - i);
        __m512 d = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(k, s + i), load_tail_u8(c + i, k),
                                    _mm512_maskz_loadu_ps(k, q + i));
        a1 = _mm512_fmadd_ps(d, d, a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

VS_AVX512 float sq8_dot_avx512(const float* w, const uint8_t* c, size_t dim) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= dim; i += 32) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), load16_u8(c + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), load16_u8(c + i + 16), a1);
    }
    for (; i + 16 <= dim; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), load16_u8(c + i), a0);
    if (i < dim) {
        __mmask16 k = tail_mask16(dim - i);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, w + i), load_tail_u8(c + i, k), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

// 64-bit POPCNT; VPOPCNTDQ pays off only once a code fills whole 512-bit registers.
VS_AVX512 uint32_t hamming_popcnt(const uint8_t* a, const uint8_t* b, size_t words) { return g::hamming(a, b, words); }

VS_AVX512_POPCNT uint32_t hamming_vpopcnt(const uint8_t* a, const uint8_t* b, size_t words) {
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8) {
        __m512i x = _mm512_xor_si512(_mm512_loadu_si512(a + 8 * w), _mm512_loadu_si512(b + 8 * w));
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    if (w < words) {
        __mmask8 k = static_cast<__mmask8>((1u << (words - w)) - 1u);
        __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi64(k, a + 8 * w), _mm512_maskz_loadu_epi64(k, b + 8 * w));
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    return uint32_t(_mm512_reduce_add_epi64(acc));
}

VS_AVX512 void hamming_scan_popcnt(const uint8_t* q, const uint8_t* codes, size_t words, size_t n, float* out) {
    g::hamming_scan(q, codes, words, n, out);
}

VS_AVX512_POPCNT void hamming_scan_vpopcnt(const uint8_t* q, const uint8_t* codes, size_t words, size_t n,
                                           float* out) {
    if (words < 8) {  // short codes: scalar POPCNT beats a vector reduction per code
        g::hamming_scan(q, codes, words, n, out);
        return;
    }
    for (size_t i = 0; i < n; ++i) out[i] = float(hamming_vpopcnt(q, codes + i * words * 8, words));
}

// Sixteen centroids per register, two registers per step; per-lane running argmin, then merged.
VS_AVX512 uint32_t nearest_avx512(const float* x, const float* ct, const float* cn, size_t dsub, size_t k,
                                  float* dist) {
    const __m512 inf = _mm512_set1_ps(std::numeric_limits<float>::infinity());
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512 bestv = inf;
    __m512i besti = _mm512_setzero_si512();
    auto consider = [&](__m512 acc, size_t j) VS_AVX512 {
        __mmask16 lt = _mm512_cmp_ps_mask(acc, bestv, _CMP_LT_OQ);
        bestv = _mm512_mask_mov_ps(bestv, lt, acc);
        besti = _mm512_mask_mov_epi32(besti, lt, _mm512_add_epi32(lane, _mm512_set1_epi32(int(j))));
    };
    size_t j = 0;
    for (; j + 32 <= k; j += 32) {
        __m512 a0 = _mm512_loadu_ps(cn + j), a1 = _mm512_loadu_ps(cn + j + 16);
        for (size_t d = 0; d < dsub; ++d) {
            __m512 xd = _mm512_set1_ps(-2.0f * x[d]);
            a0 = _mm512_fmadd_ps(xd, _mm512_loadu_ps(ct + d * k + j), a0);
            a1 = _mm512_fmadd_ps(xd, _mm512_loadu_ps(ct + d * k + j + 16), a1);
        }
        consider(a0, j);
        consider(a1, j + 16);
    }
    for (; j < k; j += 16) {
        __mmask16 m = k - j >= 16 ? __mmask16(0xFFFF) : tail_mask16(k - j);
        __m512 a = _mm512_maskz_loadu_ps(m, cn + j);
        for (size_t d = 0; d < dsub; ++d)
            a = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * x[d]), _mm512_maskz_loadu_ps(m, ct + d * k + j), a);
        consider(_mm512_mask_mov_ps(inf, m, a), j);
    }
    alignas(64) float bv[16];
    alignas(64) int32_t bi[16];
    _mm512_store_ps(bv, bestv);
    _mm512_store_si512(bi, besti);
    float best = bv[0];
    int32_t arg = bi[0];
    for (int l = 1; l < 16; ++l)
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

// One chunk per 64-byte register: its two halves (and their tables) are two pairs of nibble
// groups, so the sum of a code is its even or odd 16-bit lane in both halves.
VS_AVX512 void fastscan32_avx512(const uint8_t* packed, const uint8_t* lut, size_t chunks, float* out) {
    const __m512i low4 = _mm512_set1_epi8(0x0F), low8 = _mm512_set1_epi16(0x00FF);
    for (size_t v = 0; v < 32; ++v) out[v] = 0.0f;
    constexpr size_t kFlush = 256;  // chunks per flush: 248 * 256 < 65536
    for (size_t c0 = 0; c0 < chunks; c0 += kFlush) {
        __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
        size_t c1 = std::min(chunks, c0 + kFlush);
        for (size_t c = c0; c < c1; ++c) {
            __m512i codes = _mm512_loadu_si512(packed + c * 64);
            __m512i tlo = _mm512_loadu_si512(lut + c * 128);
            __m512i thi = _mm512_loadu_si512(lut + c * 128 + 64);
            __m512i r = _mm512_add_epi8(_mm512_shuffle_epi8(tlo, _mm512_and_si512(codes, low4)),
                                        _mm512_shuffle_epi8(thi, _mm512_and_si512(_mm512_srli_epi16(codes, 4), low4)));
            even = _mm512_add_epi16(even, _mm512_and_si512(r, low8));
            odd = _mm512_add_epi16(odd, _mm512_srli_epi16(r, 8));
        }
        alignas(64) uint16_t e[32], o[32];
        _mm512_store_si512(e, even);
        _mm512_store_si512(o, odd);
        for (size_t w = 0; w < 16; ++w) {
            out[2 * w] += float(e[w] + e[w + 16]);
            out[2 * w + 1] += float(o[w] + o[w + 16]);
        }
    }
}

VS_AVX512 void fwht_avx512(float* a, size_t n) { g::fwht(a, n); }

VS_AVX512 int32_t u8s8_dot_avx512(const uint8_t* c, const int8_t* w, size_t dim) { return g::u8s8_dot(c, w, dim); }
VS_AVX512 void u8s8_dot_rows_avx512(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n,
                                    const int8_t* w, int32_t* out) {
    g::u8s8_dot_rows(codes, dim, rows, n, w, out);
}
VS_AVX512 void u8s8_block16_avx512(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
                                  int32_t* out) {
    g::u8s8_block16(b, w, nw, stride, chunks, out);
}
VS_AVX512 void u8s8_block16_est_avx512(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
        const float* base, const float* mul, const float* norms, const float* bound, float* est, uint32_t* masks) {
    g::u8s8_block16_est(b, w, nw, stride, chunks, base, mul, norms, bound, est, masks);
}

VS_AVX512 void u8s8_rows_est_avx512(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n,
                                    const int8_t* w, size_t nw, size_t stride, const float* base, const float* mul,
                                    const float* norms, const float* bound, float* est, uint32_t* masks) {
    g::rows_est_by_query(g::u8s8_dot_rows, codes, dim, rows, n, w, nw, stride, base, mul, norms, bound, est, masks);
}

// One vpdpbusd per 64 dimensions; the tail through masked loads.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t u8s8_dot_vnni(const uint8_t* c, const int8_t* w,
                                                                               size_t dim) {
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 128 <= dim; i += 128) {
        a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(c + i), _mm512_loadu_si512(w + i));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(c + i + 64), _mm512_loadu_si512(w + i + 64));
    }
    for (; i + 64 <= dim; i += 64) a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(c + i), _mm512_loadu_si512(w + i));
    if (i < dim) {
        const __mmask64 m = (~0ull) >> (64 - (dim - i));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_maskz_loadu_epi8(m, c + i), _mm512_maskz_loadu_epi8(m, w + i));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

// Four codes at a time: each 64-byte query load serves four vpdpbusd, one per code, in four
// independent chains (one code's six for 384 dimensions would wait on each other's latency).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void u8s8_dot_rows_vnni(const uint8_t* codes, size_t dim,
                                                                                 const uint32_t* rows, size_t n,
                                                                                 const int8_t* w, int32_t* out) {
    size_t i = 0;
    const size_t tail = dim % 64;
    const __mmask64 m = tail ? (~0ull) >> (64 - tail) : 0;
    for (; i + 4 <= n; i += 4) {
        const uint8_t* c[4];
        __m512i a[4];
        for (size_t j = 0; j < 4; ++j) {
            c[j] = codes + size_t(rows[i + j]) * dim;
            a[j] = _mm512_setzero_si512();
        }
        size_t d = 0;
        for (; d + 64 <= dim; d += 64) {
            const __m512i q = _mm512_loadu_si512(w + d);
            for (size_t j = 0; j < 4; ++j) a[j] = _mm512_dpbusd_epi32(a[j], _mm512_loadu_si512(c[j] + d), q);
        }
        if (tail) {
            const __m512i q = _mm512_maskz_loadu_epi8(m, w + d);
            for (size_t j = 0; j < 4; ++j) a[j] = _mm512_dpbusd_epi32(a[j], _mm512_maskz_loadu_epi8(m, c[j] + d), q);
        }
        for (size_t j = 0; j < 4; ++j) out[i + j] = _mm512_reduce_add_epi32(a[j]);
    }
    for (; i < n; ++i) out[i] = u8s8_dot_vnni(codes + size_t(rows[i]) * dim, w, dim);
}

inline int32_t load_s32(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// One 64-byte load of 16 codes' chunk per step, scored against each query's four bytes by
// broadcast: every lane accumulates its own code's dot product, so no horizontal sum. NW queries
// keep NW independent vpdpbusd chains in flight (its latency is several cycles).
template <size_t NW>
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline void block16_dots(
    const uint8_t* b, const int8_t* w, size_t stride, size_t chunks, __m512i* acc) {
    for (size_t j = 0; j < NW; ++j) acc[j] = _mm512_setzero_si512();
    for (size_t c = 0; c < chunks; ++c) {
        const __m512i v = _mm512_loadu_si512(b + c * 64);
        for (size_t j = 0; j < NW; ++j)
            acc[j] = _mm512_dpbusd_epi32(acc[j], v, _mm512_set1_epi32(load_s32(w + j * stride + c * 4)));
    }
}

template <size_t NW>
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline void block16_store(
    const uint8_t* b, const int8_t* w, size_t stride, size_t chunks, int32_t* out) {
    __m512i acc[NW];
    block16_dots<NW>(b, w, stride, chunks, acc);
    for (size_t j = 0; j < NW; ++j) _mm512_storeu_si512(out + j * 16, acc[j]);
}

// The dot products, then each query's 16 estimates and their test against its bound in registers.
template <size_t NW>
__attribute__((target("avx512f,avx512bw,avx512vnni"), always_inline)) inline void block16_est(
    const uint8_t* b, const int8_t* w, size_t stride, size_t chunks, const float* base, const float* mul,
    const __m512 norms, const float* bound, float* est, uint32_t* masks) {
    __m512i acc[NW];
    block16_dots<NW>(b, w, stride, chunks, acc);
    for (size_t j = 0; j < NW; ++j) {
        const __m512 e = _mm512_fmadd_ps(_mm512_set1_ps(mul[j]), _mm512_cvtepi32_ps(acc[j]),
                                         _mm512_add_ps(_mm512_set1_ps(base[j]), norms));
        _mm512_storeu_ps(est + j * 16, e);
        masks[j] = _mm512_cmp_ps_mask(e, _mm512_set1_ps(bound[j]), _CMP_LT_OQ);
    }
}

// Queries in groups of 8, then 2, then 1.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void u8s8_block16_vnni(const uint8_t* b, const int8_t* w,
                                                                                size_t nw, size_t stride,
                                                                                size_t chunks, int32_t* out) {
    size_t j = 0;
    for (; j + 8 <= nw; j += 8) block16_store<8>(b, w + j * stride, stride, chunks, out + j * 16);
    for (; j + 2 <= nw; j += 2) block16_store<2>(b, w + j * stride, stride, chunks, out + j * 16);
    if (j < nw) block16_store<1>(b, w + j * stride, stride, chunks, out + j * 16);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void u8s8_block16_est_vnni(
    const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks, const float* base, const float* mul,
    const float* norms, const float* bound, float* est, uint32_t* masks) {
    const __m512 n = _mm512_loadu_ps(norms);
    size_t j = 0;
    for (; j + 8 <= nw; j += 8)
        block16_est<8>(b, w + j * stride, stride, chunks, base + j, mul + j, n, bound + j, est + j * 16, masks + j);
    for (; j + 2 <= nw; j += 2)
        block16_est<2>(b, w + j * stride, stride, chunks, base + j, mul + j, n, bound + j, est + j * 16, masks + j);
    if (j < nw) block16_est<1>(b, w + j * stride, stride, chunks, base + j, mul + j, n, bound + j, est + j * 16, masks + j);
}

// Each query through the four-codes-a-load dot_rows (the rows of a call stay in L1 between queries).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void u8s8_rows_est_vnni(
        const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w, size_t nw, size_t stride,
        const float* base, const float* mul, const float* norms, const float* bound, float* est, uint32_t* masks) {
    g::rows_est_by_query(u8s8_dot_rows_vnni, codes, dim, rows, n, w, nw, stride, base, mul, norms, bound, est, masks);
}

QuantKernels make_table() {
    QuantKernels t{SimdLevel::avx512, "avx512",      sq8_l2_avx512,   sq8_dot_avx512,
                   hamming_popcnt,    hamming_scan_popcnt, scalar_quant_kernels().pq8_scan, nearest_avx512,
                   fastscan32_avx512, fwht_avx512, {127, u8s8_dot_avx512, u8s8_dot_rows_avx512, u8s8_block16_avx512,
                   u8s8_block16_est_avx512, u8s8_rows_est_avx512}, {}};
    if (cpu_has_vnni())
        t.u8s8 = {127, u8s8_dot_vnni, u8s8_dot_rows_vnni, u8s8_block16_vnni, u8s8_block16_est_vnni,
                  u8s8_rows_est_vnni};
    t.u8s8_fast = t.u8s8;  // no 63-level form: VNNI takes 8-bit queries at full speed
    if (cpu_has_vpopcntdq()) {
        t.hamming = hamming_vpopcnt;
        t.hamming_scan = hamming_scan_vpopcnt;
    }
    return t;
}

}  // namespace

const QuantKernels& avx512_quant_kernels() {
    static const QuantKernels table = make_table();
    return table;
}

}  // namespace vecsearch
