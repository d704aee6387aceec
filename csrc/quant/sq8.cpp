#include "quant/sq8.h"

#include <algorithm>
#include <cmath>

#include "common/errors.h"
#include "quant/parallel.h"
#include "quant/serial.h"

namespace vecsearch {

SQ8Codec::SQ8Codec(size_t dim, Metric metric) : dim_(dim), metric_(metric), k_(&active_quant_kernels()) {}

void SQ8Codec::train(const float* x, size_t n, size_t threads) {
    if (n == 0) throw InvalidArgument("sq8: training needs at least one vector");
    // Exact min/max: every training value is then inside the range, so its error is <= scale/2.
    std::vector<float> lo(x, x + dim_), hi(x, x + dim_);
    for (size_t r = 1; r < n; ++r) {
        const float* row = x + r * dim_;
        for (size_t i = 0; i < dim_; ++i) {
            lo[i] = std::min(lo[i], row[i]);
            hi[i] = std::max(hi[i], row[i]);
        }
    }
    vmin_ = lo;
    scale_.assign(dim_, 0.0f);
    inv_scale_.assign(dim_, 0.0f);
    for (size_t i = 0; i < dim_; ++i) {
        float s = (hi[i] - lo[i]) / 255.0f;
        if (s > 0.0f && std::isfinite(s)) {
            scale_[i] = s;
            inv_scale_[i] = 1.0f / s;
        }
    }
    trained_ = true;
}

void SQ8Codec::encode(const float* x, size_t n, uint8_t* codes, size_t threads) const {
    if (!trained_) throw InvalidArgument("sq8: encode before train");
    parallel_blocks(n, threads, 1024, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) {
            const float* row = x + r * dim_;
            uint8_t* c = codes + r * dim_;
            for (size_t i = 0; i < dim_; ++i) {
                float v = (row[i] - vmin_[i]) * inv_scale_[i];
                v = std::min(255.0f, std::max(0.0f, std::nearbyint(v)));  // NaN-free input (checked above us)
                c[i] = static_cast<uint8_t>(v);
            }
        }
    });
}

void SQ8Codec::decode(const uint8_t* codes, size_t n, float* out) const {
    if (!trained_) throw InvalidArgument("sq8: decode before train");
    for (size_t r = 0; r < n; ++r)
        for (size_t i = 0; i < dim_; ++i) out[r * dim_ + i] = vmin_[i] + scale_[i] * float(codes[r * dim_ + i]);
}

size_t SQ8Codec::prepared_size() const {
    size_t floats = (metric_ == Metric::l2 ? 0 : kHeader) + dim_;
    return (floats * sizeof(float) + 63) / 64 * 64;
}

void SQ8Codec::prepare(const float* q, uint8_t* prepared) const {
    if (!trained_) throw InvalidArgument("sq8: search before train");
    float* p = reinterpret_cast<float*>(prepared);
    if (metric_ == Metric::l2) {
        for (size_t i = 0; i < dim_; ++i) p[i] = q[i] - vmin_[i];
        return;
    }
    double c = 0.0;
    for (size_t i = 0; i < dim_; ++i) c += double(q[i]) * vmin_[i];
    std::fill(p, p + kHeader, 0.0f);
    p[0] = float(c);
    for (size_t i = 0; i < dim_; ++i) p[kHeader + i] = q[i] * scale_[i];
}

float SQ8Codec::distance(const uint8_t* prepared, const uint8_t* code) const {
    const float* p = reinterpret_cast<const float*>(prepared);
    if (metric_ == Metric::l2) return k_->sq8_l2(p, scale_.data(), code, dim_);
    return 1.0f - (p[0] + k_->sq8_dot(p + kHeader, code, dim_));
}

void SQ8Codec::scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const {
    const float* p = reinterpret_cast<const float*>(prepared);
    if (metric_ == Metric::l2) {
        for (size_t r = 0; r < n; ++r) out[r] = k_->sq8_l2(p, scale_.data(), codes + r * dim_, dim_);
        return;
    }
    for (size_t r = 0; r < n; ++r) out[r] = 1.0f - (p[0] + k_->sq8_dot(p + kHeader, codes + r * dim_, dim_));
}

SQ8Codec::IntQuery SQ8Codec::prepare_int8(const float* q, int8_t* w8) const {
    if (!trained_) throw InvalidArgument("sq8: search before train");
    const bool l2 = metric_ == Metric::l2;
    // l2: p_i = q_i - mid_i, the query less the middle code's value (mid_i = min_i + 128 scale_i),
    // and w_i = p_i * scale_i; |q - x|^2 = |p|^2 + 256 sum_i w_i - 2 sum_i w_i code_i + code_norm.
    // ip / cosine: w_i = q_i * scale_i. Computed twice rather than kept, so a query on the walk's
    // hot path allocates nothing.
    auto shifted = [&](size_t i) { return l2 ? q[i] - (vmin_[i] + 128.0f * scale_[i]) : q[i]; };
    // Eight lanes of sums and maxima: one chain in order would wait on each add's latency, a
    // tenth of a short code scan's time (a query is prepared once per scan or walk).
    constexpr size_t kLanes = 8;
    double sums[kLanes] = {};
    float tops[kLanes] = {};
    auto take = [&](size_t i, size_t lane) {
        const float p = shifted(i);
        sums[lane] += l2 ? double(p) * p : double(q[i]) * vmin_[i];
        tops[lane] = std::max(tops[lane], std::fabs(p * scale_[i]));
    };
    size_t i = 0;
    for (; i + kLanes <= dim_; i += kLanes)
        for (size_t j = 0; j < kLanes; ++j) take(i + j, j);
    for (; i < dim_; ++i) take(i, 0);
    double base = 0.0;
    float top = 0.0f;
    for (size_t j = 0; j < kLanes; ++j) {
        base += sums[j];
        top = std::max(top, tops[j]);
    }
    const float step = top > 0.0f ? top / float(int8_kernels().query_max) : 1.0f;
    const float inv = 1.0f / step;  // a multiply per weight, not a divide: the top one still rounds to the maximum
    int64_t total = 0;  // sum_i w8_i: the rounded query's 256 sum_i w_i term
    for (i = 0; i < dim_; ++i) {
        w8[i] = int8_t(std::lrint(shifted(i) * scale_[i] * inv));
        total += w8[i];
    }
    IntQuery out;
    out.base = l2 ? float(base + 256.0 * double(step) * double(total)) : float(1.0 - base);
    out.mul = l2 ? -2.0f * step : -step;
    return out;
}

float SQ8Codec::code_norm(const uint8_t* code) const {
    if (metric_ != Metric::l2) return 0.0f;
    float s = 0.0f;
    for (size_t i = 0; i < dim_; ++i) {
        const float v = scale_[i] * (float(code[i]) - 128.0f);
        s += v * v;
    }
    return s;
}

std::vector<uint8_t> SQ8Codec::serialize() const {
    ByteWriter w;
    write_codec_header(w, kind(), dim_, metric_, trained_);
    if (trained_) {
        w.put_floats(vmin_);
        w.put_floats(scale_);
    }
    return w.finish();
}

std::unique_ptr<Codec> SQ8Codec::restore(ByteReader& r, size_t dim, Metric metric, bool trained) {
    auto c = std::make_unique<SQ8Codec>(dim, metric);
    if (trained) {
        c->vmin_ = r.get_floats(dim, "sq8 minimum");
        c->scale_ = r.get_floats(dim, "sq8 scale");
        c->inv_scale_.assign(dim, 0.0f);
        for (size_t i = 0; i < dim; ++i) {
            float s = c->scale_[i];
            if (!std::isfinite(s) || s < 0.0f || !std::isfinite(c->vmin_[i]))
                throw FormatError("codec blob: sq8 parameters are not finite");
            if (s > 0.0f) c->inv_scale_[i] = 1.0f / s;
        }
        c->trained_ = true;
    }
    r.expect_end();
    return c;
}

}  // namespace vecsearch
