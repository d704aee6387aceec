// SQ8 codes of vectors' projections on their leading principal axes (quant/projection.h): what a
// first pass over many codes scores, a fraction of the bytes and arithmetic of full codes, before
// a second pass re-scores its best on full codes. Each code's l2 norm carries, beside its SQ8
// code_norm, the row's squared norm off the axes, so estimates stay distances (less the dropped
// cross term between the query's and the row's parts off the axes).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/types.h"
#include "quant/projection.h"
#include "quant/sq8.h"

namespace vecsearch {

class ProjectedSQ8 {
public:
    ProjectedSQ8(Projection projection, Metric metric);

    size_t dim() const { return projection_.dim(); }
    size_t code_size() const { return codec_.dim(); }  // the kept axes
    bool has_norms() const { return metric_ == Metric::l2; }
    size_t memory_bytes() const { return projection_.memory_bytes() + codec_.serialize().size(); }
    const Int8Kernels& int8_kernels() const { return codec_.int8_kernels(); }

    // Learns the code ranges from n rows (dim floats at rows[i]).
    void train(const float* const* rows, size_t n, size_t threads);
    // Codes of n rows (code_size() bytes each, at codes + i * code_size()) and, for l2, their norms.
    void encode(const float* const* rows, size_t n, uint8_t* codes, float* norms, size_t threads) const;
    // The int8 forms of nb queries (w8 rows `stride` >= code_size() bytes apart, zero-padded) and
    // their SQ8Codec::IntQuery base and mul, base with the query's part off the axes.
    void prepare(const float* const* queries, size_t nb, int8_t* w8, size_t stride, float* base, float* mul) const;

private:
    // Projections of n rows into y (code_size() floats each), out[i] as Projection::centered.
    void project(const float* const* rows, size_t n, float* y, float* out, size_t threads) const;

    Projection projection_;
    Metric metric_;
    SQ8Codec codec_;
};

}  // namespace vecsearch
