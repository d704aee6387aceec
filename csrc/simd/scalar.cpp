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

const KernelTable& scalar_kernels() {
    static const KernelTable table{SimdLevel::scalar, "scalar", l2sq_scalar, dot_scalar};
    return table;
}

}  // namespace vecsearch
