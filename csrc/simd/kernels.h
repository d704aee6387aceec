// Distance kernels for float32 vectors, one table per SIMD level.
//
// Every kernel takes typed pointers and the dimension, handles any tail itself and needs no
// alignment. scalar.cpp is the reference the SIMD variants are tested against
// (tests/test_kernels.py through the private kernel_distances hook).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecsearch {

using dist_fn = float (*)(const float* a, const float* b, size_t dim);
// One row against a block of kBlockQueries queries stored transposed, qt[i * kBlockQueries + j]
// = query j's coordinate i; writes one raw value per query (as l2sq / dot would).
constexpr size_t kBlockQueries = 16;
using block_fn = void (*)(const float* qt, const float* row, size_t dim, float* out);
// Dot products of kBlockRows rows with a transposed query block: out[r * kBlockQueries + j] =
// row r . query j. Four rows share each query load, so it does a quarter of the query loads of
// four block_fn calls (what makes blocked scans compute-bound rather than load-bound).
constexpr size_t kBlockRows = 4;
using block4_fn = void (*)(const float* qt, const float* const* rows, size_t dim, float* out);
// The same for two query blocks at once (the second at qt + stride): two query loads feed eight
// FMAs, 0.75 loads per FMA instead of 1.25. out holds the first block's 4 x 16 values, then the
// second's.
using block4x2_fn = void (*)(const float* qt, size_t stride, const float* const* rows, size_t dim, float* out);
// Filter bitmaps of rank ranges (filter/program.h): words[w] bit b set iff
// ranks[64w + b] - start < width (unsigned), for `words` whole words.
using rank_bits_fn = void (*)(const uint32_t* ranks, size_t words, uint32_t start, uint32_t width, uint64_t* out);

enum class SimdLevel { scalar = 0, avx2 = 1, avx512 = 2 };

struct KernelTable {
    SimdLevel level;
    const char* name;
    dist_fn l2sq;  // sum of squared differences
    dist_fn dot;   // inner product
    block_fn l2sq_block;
    block_fn dot_block;
    block4_fn dot_block4;
    block4x2_fn dot_block4x2;
    rank_bits_fn rank_bits;
};

const KernelTable& scalar_kernels();
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();

}  // namespace vecsearch
