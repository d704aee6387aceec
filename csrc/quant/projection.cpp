#include "quant/projection.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/errors.h"
#include "simd/cpu.h"

namespace vecsearch {

Projection::Projection(size_t dim, std::vector<float> mean, std::vector<float> axes)
    : dim_(dim), out_dim_(dim == 0 ? 0 : axes.size() / dim), mean_(std::move(mean)), axes_(std::move(axes)) {
    if (dim == 0 || mean_.size() != dim) throw InvalidArgument("projection: the mean must have dim values");
    if (out_dim_ == 0 || out_dim_ > dim || axes_.size() != out_dim_ * dim)
        throw InvalidArgument("projection: the axes must be [out_dim, dim] with 1 <= out_dim <= dim");
    for (float v : mean_)
        if (!std::isfinite(v)) throw InvalidArgument("projection: the mean is not finite");
    const dist_fn dot = active_kernels().dot;
    for (size_t i = 0; i < out_dim_; ++i)
        for (size_t j = 0; j <= i; ++j) {
            const float d = dot(&axes_[i * dim], &axes_[j * dim], dim);
            // the residual norms assume orthonormal axes (NaN fails this test too)
            if (!(std::fabs(d - (i == j ? 1.0f : 0.0f)) <= 1e-3f))
                throw InvalidArgument("projection: the axes are not orthonormal (rows " + std::to_string(j) + " and " +
                                      std::to_string(i) + ")");
        }
}

void Projection::project_block(const float* const* xs, size_t n, bool centre, float* y, float* out) const {
    const KernelTable& kernels = active_kernels();
    constexpr size_t kQ = kBlockQueries, kR = kBlockRows;
    if (n < kFewVectors) {  // a block of 16 for one query would cost 16 times its dot products
        thread_local std::vector<float> shifted;
        shifted.resize(dim_);
        for (size_t i = 0; i < n; ++i) {
            for (size_t d = 0; d < dim_; ++d) shifted[d] = centre ? xs[i][d] - mean_[d] : xs[i][d];
            out[i] = centre ? kernels.dot(shifted.data(), shifted.data(), dim_) : kernels.dot(xs[i], mean_.data(), dim_);
            for (size_t a = 0; a < out_dim_; ++a) y[i * out_dim_ + a] = kernels.dot(&axes_[a * dim_], shifted.data(), dim_);
        }
        return;
    }
    thread_local std::vector<float> qt, dots;
    qt.resize(dim_ * kQ);
    dots.resize(kR * kQ);
    for (size_t i0 = 0; i0 < n; i0 += kQ) {
        const size_t m = std::min(kQ, n - i0);
        // transposed, zero past the last vector
        std::fill(qt.begin(), qt.end(), 0.0f);
        for (size_t j = 0; j < m; ++j) {
            const float* x = xs[i0 + j];
            double sum = 0.0;
            for (size_t d = 0; d < dim_; ++d) {
                const float v = centre ? x[d] - mean_[d] : x[d];
                qt[d * kQ + j] = v;
                sum += centre ? double(v) * v : double(x[d]) * mean_[d];
            }
            out[i0 + j] = float(sum);
        }
        for (size_t a = 0; a < out_dim_; a += kR) {
            const float* rows[kR];
            for (size_t r = 0; r < kR; ++r) rows[r] = &axes_[std::min(a + r, out_dim_ - 1) * dim_];
            kernels.dot_block4(qt.data(), rows, dim_, dots.data());
            for (size_t r = 0; r < kR && a + r < out_dim_; ++r)
                for (size_t j = 0; j < m; ++j) y[(i0 + j) * out_dim_ + a + r] = dots[r * kQ + j];
        }
    }
}

void Projection::centered(const float* const* xs, size_t n, float* y, float* out) const {
    project_block(xs, n, true, y, out);
    for (size_t i = 0; i < n; ++i) {
        double kept = 0.0;
        for (size_t a = 0; a < out_dim_; ++a) kept += double(y[i * out_dim_ + a]) * y[i * out_dim_ + a];
        out[i] = float(std::max(0.0, double(out[i]) - kept));
    }
}

void Projection::uncentered(const float* const* xs, size_t n, float* y, float* out) const {
    project_block(xs, n, false, y, out);
}

}  // namespace vecsearch
