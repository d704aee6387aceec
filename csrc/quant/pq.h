// Product quantization: the (optionally rotated) vector is cut into m sub-vectors of dim/m
// values, each replaced by the index of its nearest of 2^nbits centroids (one byte per
// sub-quantizer, nbits <= 8). Distances are asymmetric (ADC): prepare() builds a table of the
// query's distance to every centroid of every sub-quantizer, and a code's distance is a sum of
// m table entries:
//   l2:        sum_j |q_j - C_j[c_j]|^2                   (squared distance to the decoded vector)
//   ip/cosine: 1 + sum_j (-q_j . C_j[c_j])                (1 - dot with the decoded vector)
// With OPQ an orthogonal rotation R is applied first (x -> x R); distances are unchanged by it.
// The rotation is learnt by vecsearch.PQ(opq=True) and handed over through set_rotation().
#pragma once

#include <vector>

#include "quant/codec.h"
#include "quant/kernels.h"
#include "quant/kmeans.h"

namespace vecsearch {

class ByteReader;

class PQCodec final : public Codec {
public:
    PQCodec(size_t dim, Metric metric, size_t m, size_t nbits, bool opq, uint64_t seed);

    std::string kind() const override { return "pq"; }
    size_t dim() const override { return dim_; }
    Metric metric() const override { return metric_; }
    size_t code_size() const override { return m_; }
    bool trained() const override { return trained_; }

    void train(const float* x, size_t n, size_t threads) override;
    void encode(const float* x, size_t n, uint8_t* codes, size_t threads) const override;
    void decode(const uint8_t* codes, size_t n, float* out) const override;

    size_t prepared_size() const override { return (kHeader + m_ * 256) * sizeof(float); }
    void prepare(const float* q, uint8_t* prepared) const override;
    float distance(const uint8_t* prepared, const uint8_t* code) const override;
    void scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const override;
    void distance_rows(const uint8_t* prepared, const uint8_t* codes, const uint32_t* rows, size_t n,
                       float* out) const override {
        distance_rows_of(*this, prepared, codes, rows, n, out);
    }

    std::vector<uint8_t> serialize() const override;
    static std::unique_ptr<Codec> restore(ByteReader& r, size_t dim, Metric metric, bool trained);

    size_t m() const { return m_; }
    size_t nbits() const { return nbits_; }
    bool opq() const { return opq_; }
    uint64_t seed() const { return seed_; }
    // Orthogonal [dim, dim] rotation applied as x R before quantization (OPQ). Resets training.
    void set_rotation(const float* r);
    const std::vector<float>& rotation() const { return rotation_; }

    // Training uses at most this many points per centroid (a seeded sample), like faiss.
    static constexpr size_t kMaxPointsPerCentroid = 256;
    static constexpr size_t kIterations = 25;

private:
    static constexpr size_t kHeader = 16;  // floats before the table: [0] = additive constant
    void rotate(const float* x, float* out) const;
    void build_indexes();

    size_t dim_;
    Metric metric_;
    size_t m_, nbits_, ksub_, dsub_;
    bool opq_;
    uint64_t seed_;
    bool trained_ = false;
    std::vector<float> rotation_;   // empty, or dim * dim
    std::vector<float> centroids_;  // [m][256][dsub], rows past ksub zero (any code byte decodes safely)
    std::vector<CentroidIndex> index_;
    const QuantKernels* k_;
};

}  // namespace vecsearch
