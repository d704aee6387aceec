// Lloyd's k-means for the PQ sub-quantizers: seeded random initialisation from distinct
// training points, a fixed number of iterations, empty clusters re-seeded by splitting the
// largest one. Assignment runs in parallel; the centroid update is sequential, so the result
// depends only on the data and the seed, never on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vecsearch {

struct KMeansParams {
    size_t k = 256;
    size_t iterations = 25;
    uint64_t seed = 0;
    size_t threads = 1;
};

// n points of dimension d (row-major) -> k centroids [k * d]. Requires n >= k.
std::vector<float> kmeans(const float* x, size_t n, size_t d, const KMeansParams& params);

// Nearest-centroid search helper: centroids transposed [d * k] and their squared norms.
struct CentroidIndex {
    std::vector<float> ct, norms;
    size_t d = 0, k = 0;
    void build(const float* centroids, size_t k_, size_t d_);
};

}  // namespace vecsearch
