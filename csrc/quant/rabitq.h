// One-bit RaBitQ codes (Gao & Long, SIGMOD 2024) for graph walks, scored 32 at a time by a
// nibble lookup table (FastScan).
//
// A walk scores the neighbours v of the node u it expands, so each v is coded relative to u,
// as SymphonyQG does: the residual r = P(v - u) under a random orthogonal map P over dim
// rounded up to a multiple of 64, D (four rounds of random signs and a fast Walsh-Hadamard
// transform, over the first and the last 2^floor(log2 D) coordinates by turns, which together
// mix all D), kept as its signs s (D bits, +-1) and three numbers
//   f_add = |r|^2 + 2h (l2) or h - <r, P u> (ip/cosine),  f_scale = -2g (l2) or -g,  pop = #bits,
// with g = |r|^2 / sum_i |r_i| and h = g <s, P u>. RaBitQ's unbiased estimator of <r, x> is
// g <s, x>; applied to x = P(q - u), whose error scales with |q - u| rather than |q|, it gives
//   est(q, v) = d(q, u) + f_add + f_scale * <s, P q>,   <s, P q> = 2 S_b - S_q,
// from the exact distance d(q, u) the walk has already computed (FlatStore's convention), with
// S_b the sum of P q over the set bits and S_q its total.
// The query is quantized to 5 bits per coordinate so that S_b of 32 codes is summed from
// 16-entry byte tables with one shuffle per 4 dimensions (quant/kernels.h: fastscan32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"

namespace vecsearch {

// The per-query form: lookup tables in the layout fastscan32 reads, and the constants that
// turn its sums into distance estimates.
struct RabitqQuery {
    std::vector<uint8_t> lut_storage;  // chunks * 128 bytes, 64-byte aligned inside
    const uint8_t* lut = nullptr;
    float c_acc = 0.0f;    // 2 * delta: S_b = delta * acc + low * pop
    float c_pop = 0.0f;    // 2 * low
    float s_q = 0.0f;      // S_q from the quantized coordinates
    // est = d(q, u) + f_add + f_scale * (c_acc * acc + c_pop * pop - s_q)
};

class RabitqEncoder {
public:
    static constexpr size_t kQueryLevels = 31;  // 5-bit query codes: four of them fit a byte twice

    // The rotation is drawn from `seed`.
    RabitqEncoder(size_t dim, Metric metric, uint64_t seed);

    size_t dim() const { return dim_; }
    size_t rotated_dim() const { return rdim_; }            // D: a multiple of 64
    size_t code_bytes() const { return rdim_ / 8; }         // bits of one code
    size_t chunks() const { return rdim_ / 16; }            // fastscan32 chunks per code
    uint64_t seed() const { return seed_; }

    // out = P x over rotated_dim() floats (x has dim()).
    void rotate(const float* x, float* out) const;
    // The bits (code_bytes() bytes, bit i of dimension i, least significant first) and the three
    // factors {f_add, f_scale, pop} of v relative to u, from their rotations.
    void encode_residual(const float* rv, const float* ru, uint8_t* bits, float* factors) const;
    void prepare(const float* q, RabitqQuery& out) const;

private:
    size_t dim_, rdim_, window_;  // window_: the power of two each Hadamard round covers
    Metric metric_;
    uint64_t seed_;
    std::vector<float> signs_;  // kRounds * rdim_ of +-1, times 1 / sqrt(window_) inside that round's window
};

}  // namespace vecsearch
