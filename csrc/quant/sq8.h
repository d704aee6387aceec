// SQ8: each dimension quantized to 8 bits on a per-dimension [min, max] range learnt in training.
//
// code_i = round((x_i - min_i) / scale_i), decoded as min_i + scale_i * code_i, so the error
// of a value inside the training range is at most scale_i / 2. Distances run on the codes:
//   l2:        sum_i (q_i - min_i - scale_i * c_i)^2       (prepared: q - min)
//   ip/cosine: 1 - (sum_i q_i * min_i + sum_i (q_i * scale_i) * c_i)   (prepared: constant, q * scale)
#pragma once

#include <vector>

#include "quant/codec.h"
#include "quant/kernels.h"

namespace vecsearch {

class ByteReader;

class SQ8Codec final : public Codec {
public:
    SQ8Codec(size_t dim, Metric metric);

    std::string kind() const override { return "sq8"; }
    size_t dim() const override { return dim_; }
    Metric metric() const override { return metric_; }
    size_t code_size() const override { return dim_; }
    bool trained() const override { return trained_; }

    void train(const float* x, size_t n, size_t threads) override;
    void encode(const float* x, size_t n, uint8_t* codes, size_t threads) const override;
    void decode(const uint8_t* codes, size_t n, float* out) const override;

    size_t prepared_size() const override;
    void prepare(const float* q, uint8_t* prepared) const override;
    float distance(const uint8_t* prepared, const uint8_t* code) const override;
    void scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const override;
    void distance_rows(const uint8_t* prepared, const uint8_t* codes, const uint32_t* rows, size_t n,
                       float* out) const override {
        distance_rows_of(*this, prepared, codes, rows, n, out);
    }

    // The graph walk's integer form of a query: signed bytes w8 (dim of them) such that
    //   distance(code) ~= base + code_norm(code) + mul * sum_i code_i * w8_i
    // (code_norm is 0 for ip/cosine), one int8 dot product per code (Int8Kernels::dot).
    // The query's rounding only moves walk estimates; answers are re-ranked exactly. For l2 the
    // weights are taken about the middle code, 128 in every dimension (not the per-dimension
    // minimum, which would leave them all of one sign): a query inside the data's range then
    // spans both signs, and its rounding step is half as large.
    struct IntQuery {
        float base = 0.0f, mul = 0.0f;
        // The estimated distance of a code whose code_norm is `norm` and whose dot product with
        // the int8 query is `dot`.
        float estimate(float norm, int32_t dot) const { return base + norm + mul * float(dot); }
    };
    IntQuery prepare_int8(const float* q, int8_t* w8) const;
    // The kernels that score prepare_int8's queries: from kFastInt8Dim dimensions up the faster
    // 63-level ones (QuantKernels::u8s8_fast), whose coarser rounding averages out over the sum;
    // below it, 127 levels, where a walk's checks on a few dimensions need the finer query.
    const Int8Kernels& int8_kernels() const { return dim_ >= kFastInt8Dim ? k_->u8s8_fast : k_->u8s8; }
    static constexpr size_t kFastInt8Dim = 128;
    // l2: sum_i (scale_i * (code_i - 128))^2, the code's part of its distance to any query; 0
    // otherwise.
    float code_norm(const uint8_t* code) const;

    std::vector<uint8_t> serialize() const override;
    static std::unique_ptr<Codec> restore(ByteReader& r, size_t dim, Metric metric, bool trained);

private:
    static constexpr size_t kHeader = 16;  // floats before the rescaled query (ip/cosine constant)
    size_t dim_;
    Metric metric_;
    bool trained_ = false;
    std::vector<float> vmin_, scale_, inv_scale_;
    const QuantKernels* k_;
};

}  // namespace vecsearch
