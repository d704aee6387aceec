#include "quant/projected_sq8.h"

#include <algorithm>
#include <vector>

#include "common/thread_pool.h"
#include "simd/kernels.h"

namespace vecsearch {

ProjectedSQ8::ProjectedSQ8(Projection projection, Metric metric)
    : projection_(std::move(projection)), metric_(metric), codec_(projection_.out_dim(), metric) {}

void ProjectedSQ8::project(const float* const* rows, size_t n, float* y, float* out, size_t threads) const {
    constexpr size_t kRows = kBlockQueries;  // one call of the blocked kernel
    const size_t out_dim = code_size();
    ThreadPool::global().parallel_for((n + kRows - 1) / kRows, threads, 1, [&](size_t b) {
        const size_t i0 = b * kRows;
        projection_.centered(rows + i0, std::min(kRows, n - i0), y + i0 * out_dim, out + i0);
    });
}

void ProjectedSQ8::train(const float* const* rows, size_t n, size_t threads) {
    std::vector<float> y(n * code_size()), off(n);
    project(rows, n, y.data(), off.data(), threads);
    codec_.train(y.data(), n, threads);
}

void ProjectedSQ8::encode(const float* const* rows, size_t n, uint8_t* codes, float* norms, size_t threads) const {
    std::vector<float> y(n * code_size()), off(n);
    project(rows, n, y.data(), off.data(), threads);
    codec_.encode(y.data(), n, codes, threads);
    if (has_norms())
        for (size_t i = 0; i < n; ++i) norms[i] = codec_.code_norm(codes + i * code_size()) + off[i];
}

void ProjectedSQ8::prepare(const float* const* queries, size_t nb, int8_t* w8, size_t stride, float* base,
                           float* mul) const {
    thread_local std::vector<float> y, off;
    y.resize(nb * code_size());
    off.resize(nb);
    if (metric_ == Metric::l2) {
        projection_.centered(queries, nb, y.data(), off.data());
    } else {  // ip/cosine: 1 - q.x ~= (1 - (A q).(A (x - c))) - q.c, rows centred, queries not
        projection_.uncentered(queries, nb, y.data(), off.data());
        for (float& o : off) o = -o;
    }
    for (size_t j = 0; j < nb; ++j) {
        int8_t* w = w8 + j * stride;
        std::fill(w, w + stride, int8_t(0));
        const SQ8Codec::IntQuery form = codec_.prepare_int8(&y[j * code_size()], w);
        base[j] = form.base + off[j];
        mul[j] = form.mul;
    }
}

}  // namespace vecsearch
