// Reference level: the generic bodies compiled for baseline x86-64.
#include "quant/kernels.h"
#include "quant/kernels_generic.h"

namespace vecsearch {

namespace {

namespace g = quant_generic;

float sq8_l2_scalar(const float* q, const float* s, const uint8_t* c, size_t dim) { return g::sq8_l2(q, s, c, dim); }
float sq8_dot_scalar(const float* w, const uint8_t* c, size_t dim) { return g::sq8_dot(w, c, dim); }
uint32_t hamming_scalar(const uint8_t* a, const uint8_t* b, size_t words) { return g::hamming(a, b, words); }

void hamming_scan_scalar(const uint8_t* q, const uint8_t* codes, size_t words, size_t n, float* out) {
    g::hamming_scan(q, codes, words, n, out);
}

// Shared by every level (see quant_generic::pq8_scan): kept free of auto-vectorised gathers.
__attribute__((optimize("no-tree-vectorize"))) void pq8_scan_scalar(const float* t, const uint8_t* codes, size_t m, size_t n, float* out) {
    g::pq8_scan(t, codes, m, n, out);
}

uint32_t nearest_scalar(const float* x, const float* ct, const float* cn, size_t dsub, size_t k, float* dist) {
    return g::nearest(x, ct, cn, dsub, k, dist);
}

void fastscan32_scalar(const uint8_t* packed, const uint8_t* lut, size_t chunks, float* out) {
    g::fastscan32(packed, lut, chunks, out);
}

void fwht_scalar(float* a, size_t n) { g::fwht(a, n); }

int32_t u8s8_dot_scalar(const uint8_t* c, const int8_t* w, size_t dim) { return g::u8s8_dot(c, w, dim); }
void u8s8_dot_rows_scalar(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                          int32_t* out) {
    g::u8s8_dot_rows(codes, dim, rows, n, w, out);
}
void u8s8_block16_scalar(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
                        int32_t* out) {
    g::u8s8_block16(b, w, nw, stride, chunks, out);
}
void u8s8_block16_est_scalar(const uint8_t* b, const int8_t* w, size_t nw, size_t stride, size_t chunks,
        const float* base, const float* mul, const float* norms, const float* bound, float* est, uint32_t* masks) {
    g::u8s8_block16_est(b, w, nw, stride, chunks, base, mul, norms, bound, est, masks);
}

void u8s8_rows_est_scalar(const uint8_t* codes, size_t dim, const uint32_t* rows, size_t n, const int8_t* w,
                          size_t nw, size_t stride, const float* base, const float* mul, const float* norms,
                          const float* bound, float* est, uint32_t* masks) {
    g::rows_est_by_query(u8s8_dot_rows_scalar, codes, dim, rows, n, w, nw, stride, base, mul, norms, bound, est,
                         masks);
}

}  // namespace

const QuantKernels& scalar_quant_kernels() {
    static const Int8Kernels u8s8{127, u8s8_dot_scalar, u8s8_dot_rows_scalar, u8s8_block16_scalar,
                                  u8s8_block16_est_scalar, u8s8_rows_est_scalar};
    static const QuantKernels table{SimdLevel::scalar, "scalar",  sq8_l2_scalar,  sq8_dot_scalar,
                                    hamming_scalar,    hamming_scan_scalar, pq8_scan_scalar, nearest_scalar,
                                    fastscan32_scalar, fwht_scalar, u8s8, u8s8};
    return table;
}

}  // namespace vecsearch
