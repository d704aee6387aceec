#include "quant/binary.h"

#include <cmath>
#include <cstring>

#include "common/errors.h"
#include "quant/parallel.h"
#include "quant/serial.h"

namespace vecsearch {

BinaryCodec::BinaryCodec(size_t dim, Metric metric, int threshold)
    : dim_(dim), metric_(metric), threshold_(threshold), words_((dim + 63) / 64), k_(&active_quant_kernels()) {
    if (threshold != 0 && threshold != 1)
        throw InvalidArgument("binary: threshold must be 0 (sign) or 1 (training mean), got " +
                              std::to_string(threshold));
}

void BinaryCodec::train(const float* x, size_t n, size_t threads) {
    if (n == 0) throw InvalidArgument("binary: training needs at least one vector");
    std::vector<double> mean(dim_, 0.0), dev(dim_, 0.0);
    if (threshold_ == 1) {
        for (size_t r = 0; r < n; ++r)
            for (size_t i = 0; i < dim_; ++i) mean[i] += x[r * dim_ + i];
        for (double& m : mean) m /= double(n);
    }
    for (size_t r = 0; r < n; ++r)
        for (size_t i = 0; i < dim_; ++i) dev[i] += std::fabs(x[r * dim_ + i] - mean[i]);
    thresh_.assign(dim_, 0.0f);
    spread_.assign(dim_, 0.0f);
    for (size_t i = 0; i < dim_; ++i) {
        thresh_[i] = float(mean[i]);
        spread_[i] = float(dev[i] / double(n));
    }
    trained_ = true;
}

void BinaryCodec::encode_one(const float* x, uint8_t* code) const {
    std::memset(code, 0, code_size());
    for (size_t i = 0; i < dim_; ++i)
        if (x[i] > thresh_[i]) code[i >> 3] |= uint8_t(1u << (i & 7));
}

void BinaryCodec::encode(const float* x, size_t n, uint8_t* codes, size_t threads) const {
    if (!trained_) throw InvalidArgument("binary: encode before train");
    const size_t cs = code_size();
    parallel_blocks(n, threads, 4096, [&](size_t begin, size_t end) {
        for (size_t r = begin; r < end; ++r) encode_one(x + r * dim_, codes + r * cs);
    });
}

void BinaryCodec::decode(const uint8_t* codes, size_t n, float* out) const {
    if (!trained_) throw InvalidArgument("binary: decode before train");
    const size_t cs = code_size();
    for (size_t r = 0; r < n; ++r)
        for (size_t i = 0; i < dim_; ++i) {
            bool bit = (codes[r * cs + (i >> 3)] >> (i & 7)) & 1u;
            out[r * dim_ + i] = bit ? thresh_[i] + spread_[i] : thresh_[i] - spread_[i];
        }
}

void BinaryCodec::prepare(const float* q, uint8_t* prepared) const {
    if (!trained_) throw InvalidArgument("binary: search before train");
    encode_one(q, prepared);
}

float BinaryCodec::distance(const uint8_t* prepared, const uint8_t* code) const {
    return float(k_->hamming(prepared, code, words_));
}

void BinaryCodec::scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const {
    k_->hamming_scan(prepared, codes, words_, n, out);
}

std::vector<uint8_t> BinaryCodec::serialize() const {
    ByteWriter w;
    write_codec_header(w, kind(), dim_, metric_, trained_);
    w.put<uint8_t>(uint8_t(threshold_));
    if (trained_) {
        w.put_floats(thresh_);
        w.put_floats(spread_);
    }
    return w.finish();
}

std::unique_ptr<Codec> BinaryCodec::restore(ByteReader& r, size_t dim, Metric metric, bool trained) {
    uint8_t threshold = r.get<uint8_t>();
    if (threshold > 1) throw FormatError("codec blob: bad binary threshold kind");
    auto c = std::make_unique<BinaryCodec>(dim, metric, threshold);
    if (trained) {
        c->thresh_ = r.get_floats(dim, "binary thresholds");
        c->spread_ = r.get_floats(dim, "binary spreads");
        for (size_t i = 0; i < dim; ++i)
            if (!std::isfinite(c->thresh_[i]) || !std::isfinite(c->spread_[i]))
                throw FormatError("codec blob: binary parameters are not finite");
        c->trained_ = true;
    }
    r.expect_end();
    return c;
}

}  // namespace vecsearch
