// Reference kernels. Four accumulators keep the dependency chain short without -ffast-math.
#include "simd/kernels.h"

namespace vecsearch {

namespace {

float l2sq_scalar(const float* a, const float* b, size_t dim) {
    float s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= dim; i += 4)
        for (size_t j = 0; j < 4; ++j) {
            float d = a[i + j] - b[i + j];
            s[j] += d * d;
        }
    for (; i < dim; ++i) {
        float d = a[i] - b[i];
        s[0] += d * d;
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}

float dot_scalar(const float* a, const float* b, size_t dim) {
    float s[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= dim; i += 4)
        for (size_t j = 0; j < 4; ++j) s[j] += a[i + j] * b[i + j];
    for (; i < dim; ++i) s[0] += a[i] * b[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

}  // namespace

void l2sq_block_scalar(const float* qt, const float* row, size_t dim, float* out) {
    float acc[kBlockQueries] = {};
    for (size_t i = 0; i < dim; ++i)
        for (size_t j = 0; j < kBlockQueries; ++j) {
            float d = row[i] - qt[i * kBlockQueries + j];
            acc[j] += d * d;
        }
    for (size_t j = 0; j < kBlockQueries; ++j) out[j] = acc[j];
}

void dot_block_scalar(const float* qt, const float* row, size_t dim, float* out) {
    float acc[kBlockQueries] = {};
    for (size_t i = 0; i < dim; ++i)
        for (size_t j = 0; j < kBlockQueries; ++j) acc[j] += row[i] * qt[i * kBlockQueries + j];
    for (size_t j = 0; j < kBlockQueries; ++j) out[j] = acc[j];
}

void dot_block4_scalar(const float* qt, const float* const* rows, size_t dim, float* out) {
    for (size_t r = 0; r < kBlockRows; ++r) dot_block_scalar(qt, rows[r], dim, out + r * kBlockQueries);
}

void dot_block4x2_scalar(const float* qt, size_t stride, const float* const* rows, size_t dim, float* out) {
    dot_block4_scalar(qt, rows, dim, out);
    dot_block4_scalar(qt + stride, rows, dim, out + kBlockRows * kBlockQueries);
}

void rank_bits_scalar(const uint32_t* ranks, size_t words, uint32_t start, uint32_t width, uint64_t* out) {
    for (size_t w = 0; w < words; ++w) {
        uint64_t bits = 0;
        for (size_t b = 0; b < 64; ++b) bits |= uint64_t(ranks[w * 64 + b] - start < width) << b;
        out[w] = bits;
    }
}

const KernelTable& scalar_kernels() {
    static const KernelTable table{SimdLevel::scalar, "scalar", l2sq_scalar, dot_scalar, l2sq_block_scalar,
                                   dot_block_scalar, dot_block4_scalar, dot_block4x2_scalar, rank_bits_scalar};
    return table;
}

}  // namespace vecsearch
