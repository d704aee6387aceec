// A second, finer code of what the walk code leaves out, kept in RAM so that a search with its
// vectors on disk reads only the candidates that can still enter the top k (as BiDR and faiss's
// IndexRefine refine a coarse code, with a RaBitQ-style bound on what is left).
//
// For slot s with walk-code reconstruction a_s, the refine code holds b_s ~ x_s - a_s (a PQ of
// the residuals, scored as inner products), and per slot two floats:
//   term_s  = |b_s|^2 + 2 a_s.b_s   (l2 only; then |q - a - b|^2 = |q - a|^2 - 2 q.b + term_s)
//   error_s = |x_s - a_s - b_s|     (what both codes miss)
// The estimate of the index's distance is
//   l2:        est = |q - a - b|^2 + error^2
//   ip/cosine: est = 1 - q.(a + b)
// and the part both codes miss, e, is treated as a direction independent of the query: its dot
// product with a fixed unit vector then has standard deviation |e| / sqrt(D). So the exact
// distance lies above
//   l2:        est - eps * 2 |q - a - b| error / sqrt(D)
//   ip/cosine: est - eps * |q| error / sqrt(D)
// except with the small probability that eps sets (kEps = 3: on 2M clustered 384-d vectors the
// bound kept 99.9% of the true top 10 among the candidates, reading ~26 rows where ranking by
// the walk code alone needs ~100 for 97%).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/huge_pages.h"
#include "common/types.h"
#include "quant/codec.h"

namespace vecsearch {

class ResidualRefiner {
public:
    static constexpr float kEps = 3.0f;

    // `codec`: a trained inner-product PQ of the residuals (vecsearch.quant.refine); codes,
    // terms and errors of `n` slots, copied.
    ResidualRefiner(std::unique_ptr<Codec> codec, Metric metric, const uint8_t* codes, const float* terms,
                    const float* errors, size_t n);

    const Codec& codec() const { return *codec_; }
    size_t size() const { return n_; }
    size_t memory_bytes() const;
    const uint8_t* codes() const { return codes_.data(); }
    const float* terms() const { return terms_.data(); }
    const float* errors() const { return errors_.data(); }

    // Estimates and lower bounds of the distances from q to `n` slots, given the walk codec and
    // its codes ([slots, walk.code_size()]). Thread-safe; uses per-thread buffers.
    void bound(const Codec& walk, const uint8_t* walk_codes, const float* q, const slot_t* slots, size_t n,
               float* est, float* lower) const;

private:
    std::unique_ptr<Codec> codec_;
    Metric metric_;
    size_t n_, code_size_;
    HugeVector<uint8_t> codes_;
    std::vector<float> terms_, errors_;
};

}  // namespace vecsearch
