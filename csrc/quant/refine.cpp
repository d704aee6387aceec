#include "quant/refine.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/errors.h"

namespace vecsearch {

namespace {

// A 64-byte aligned region of `bytes` bytes in buf (codecs prepare into aligned memory).
uint8_t* aligned_bytes(std::vector<uint8_t>& buf, size_t bytes) {
    buf.resize(bytes + 64);
    uint8_t* p = buf.data();
    return p + (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
}

}  // namespace

ResidualRefiner::ResidualRefiner(std::unique_ptr<Codec> codec, Metric metric, const uint8_t* codes,
                                 const float* terms, const float* errors, size_t n)
    : codec_(std::move(codec)), metric_(metric), n_(n) {
    if (!codec_ || !codec_->trained() || codec_->kind() != "pq" || codec_->metric() != Metric::ip)
        throw InvalidArgument("a refine code is a trained inner-product PQ of the residuals");
    code_size_ = codec_->code_size();
    codes_.assign(codes, codes + n * code_size_);
    terms_.assign(terms, terms + n);
    errors_.assign(errors, errors + n);
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(terms_[i]) || !(errors_[i] >= 0.0f) || !std::isfinite(errors_[i]))
            throw FormatError("corrupt refine code: a term or error is negative, NaN or infinite");
}

size_t ResidualRefiner::memory_bytes() const {
    return codes_.capacity() + (terms_.capacity() + errors_.capacity()) * sizeof(float) +
           codec_->serialize().size();
}

void ResidualRefiner::bound(const Codec& walk, const uint8_t* walk_codes, const float* q, const slot_t* slots,
                            size_t n, float* est, float* lower) const {
    thread_local std::vector<uint8_t> walk_buf, own_buf;
    uint8_t* walk_prepared = aligned_bytes(walk_buf, walk.prepared_size());
    uint8_t* own_prepared = aligned_bytes(own_buf, codec_->prepared_size());
    walk.prepare(q, walk_prepared);
    codec_->prepare(q, own_prepared);
    const size_t dim = walk.dim(), walk_size = walk.code_size();
    const float spread = kEps / std::sqrt(float(dim));
    float qnorm = 0.0f;
    for (size_t j = 0; j < dim; ++j) qnorm += q[j] * q[j];
    qnorm = std::sqrt(qnorm);
    for (size_t i = 0; i < n; ++i) {
        const slot_t s = slots[i];
        const float a = walk.distance(walk_prepared, walk_codes + size_t(s) * walk_size);
        const float qb = 1.0f - codec_->distance(own_prepared, codes_.data() + size_t(s) * code_size_);
        const float err = errors_[s];
        if (metric_ == Metric::l2) {
            const float to_code = std::max(0.0f, a - 2.0f * qb + terms_[s]);  // |q - a - b|^2
            est[i] = to_code + err * err;
            lower[i] = est[i] - 2.0f * spread * std::sqrt(to_code) * err;
        } else {
            est[i] = a - qb;
            lower[i] = est[i] - spread * qnorm * err;
        }
    }
}

}  // namespace vecsearch
