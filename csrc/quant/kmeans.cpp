#include "quant/kmeans.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "common/errors.h"
#include "quant/kernels.h"
#include "quant/parallel.h"

namespace vecsearch {

void CentroidIndex::build(const float* centroids, size_t k_, size_t d_) {
    k = k_;
    d = d_;
    ct.assign(d * k, 0.0f);
    norms.assign(k, 0.0f);
    for (size_t j = 0; j < k; ++j)
        for (size_t i = 0; i < d; ++i) {
            float v = centroids[j * d + i];
            ct[i * k + j] = v;
            norms[j] += v * v;
        }
}

std::vector<float> kmeans(const float* x, size_t n, size_t d, const KMeansParams& p) {
    const size_t k = p.k;
    if (k == 0 || n < k)
        throw InvalidArgument("k-means needs at least " + std::to_string(k) + " training points, got " +
                              std::to_string(n));
    std::mt19937_64 rng(p.seed);
    std::vector<size_t> perm(n);
    std::iota(perm.begin(), perm.end(), size_t{0});
    for (size_t i = 0; i < k; ++i) {  // partial Fisher-Yates: k distinct points
        std::uniform_int_distribution<size_t> pick(i, n - 1);
        std::swap(perm[i], perm[pick(rng)]);
    }
    std::vector<float> c(k * d);
    for (size_t j = 0; j < k; ++j) std::copy(x + perm[j] * d, x + perm[j] * d + d, c.begin() + j * d);

    const QuantKernels& kern = active_quant_kernels();
    std::vector<uint32_t> assign(n);
    std::vector<double> sum(k * d);
    std::vector<size_t> count(k);
    CentroidIndex index;
    for (size_t it = 0; it < p.iterations; ++it) {
        index.build(c.data(), k, d);
        parallel_blocks(n, p.threads, 2048, [&](size_t begin, size_t end) {
            float dist;
            for (size_t r = begin; r < end; ++r)
                assign[r] = kern.nearest(x + r * d, index.ct.data(), index.norms.data(), d, k, &dist);
        });
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(count.begin(), count.end(), size_t{0});
        for (size_t r = 0; r < n; ++r) {
            size_t a = assign[r];
            ++count[a];
            for (size_t i = 0; i < d; ++i) sum[a * d + i] += x[r * d + i];
        }
        for (size_t j = 0; j < k; ++j)
            if (count[j] > 0)
                for (size_t i = 0; i < d; ++i) c[j * d + i] = float(sum[j * d + i] / double(count[j]));
        // Empty clusters take half of the largest one: a copy of its centroid, both nudged apart.
        for (size_t j = 0; j < k; ++j) {
            if (count[j] != 0) continue;
            size_t big = size_t(std::max_element(count.begin(), count.end()) - count.begin());
            for (size_t i = 0; i < d; ++i) {
                float v = c[big * d + i];
                float eps = (i % 2 == 0 ? 1.0f : -1.0f) * (1.0f / 1024.0f) * (std::fabs(v) + 1e-6f);
                c[j * d + i] = v + eps;
                c[big * d + i] = v - eps;
            }
            count[j] = count[big] / 2;
            count[big] -= count[j];
        }
    }
    return c;
}

}  // namespace vecsearch
