// Binary codes: one bit per dimension, set when the value exceeds a per-dimension threshold
// (0 for "sign", the training mean for "mean"). Bit i of the code is bit i % 8 of byte i / 8;
// codes are padded with zero bits to whole 64-bit words so Hamming runs on words.
//
// distance() is the Hamming distance between the query's code and a stored code, which only
// ranks; decode() gives threshold_i +/- the mean absolute deviation of dimension i seen in
// training, the best per-dimension reconstruction from one bit.
#pragma once

#include <vector>

#include "quant/codec.h"
#include "quant/kernels.h"

namespace vecsearch {

class ByteReader;

class BinaryCodec final : public Codec {
public:
    BinaryCodec(size_t dim, Metric metric, int threshold);

    std::string kind() const override { return "binary"; }
    size_t dim() const override { return dim_; }
    Metric metric() const override { return metric_; }
    size_t code_size() const override { return words_ * 8; }
    bool trained() const override { return trained_; }

    void train(const float* x, size_t n, size_t threads) override;
    void encode(const float* x, size_t n, uint8_t* codes, size_t threads) const override;
    void decode(const uint8_t* codes, size_t n, float* out) const override;

    size_t prepared_size() const override { return (code_size() + 63) / 64 * 64; }
    void prepare(const float* q, uint8_t* prepared) const override;
    float distance(const uint8_t* prepared, const uint8_t* code) const override;
    void scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const override;
    void distance_rows(const uint8_t* prepared, const uint8_t* codes, const uint32_t* rows, size_t n,
                       float* out) const override {
        distance_rows_of(*this, prepared, codes, rows, n, out);
    }

    std::vector<uint8_t> serialize() const override;
    static std::unique_ptr<Codec> restore(ByteReader& r, size_t dim, Metric metric, bool trained);

    int threshold() const { return threshold_; }  // 0 = sign, 1 = training mean

private:
    void encode_one(const float* x, uint8_t* code) const;

    size_t dim_;
    Metric metric_;
    int threshold_;  // 0 = sign, 1 = training mean
    size_t words_;
    bool trained_ = false;
    std::vector<float> thresh_, spread_;
    const QuantKernels* k_;
};

}  // namespace vecsearch
