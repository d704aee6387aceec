// Distance kernels for float32 vectors, one table per SIMD level.
//
// Every kernel takes typed pointers and the dimension, handles any tail itself and needs no
// alignment. scalar.cpp is the reference the SIMD variants are tested against
// (tests/test_kernels.py through the private kernel_distances hook).
#pragma once

#include <cstddef>

namespace vecsearch {

using dist_fn = float (*)(const float* a, const float* b, size_t dim);

enum class SimdLevel { scalar = 0, avx2 = 1, avx512 = 2 };

struct KernelTable {
    SimdLevel level;
    const char* name;
    dist_fn l2sq;  // sum of squared differences
    dist_fn dot;   // inner product
};

const KernelTable& scalar_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();

}  // namespace vecsearch
