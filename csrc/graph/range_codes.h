// The codes of a range index: the live vectors in the order of one numeric attribute column, as
// SQ8 codes. A range predicate on that column selects one contiguous stretch of this order
// [begin, end), which a block of queries scans with integer dot products while the stretch's
// chunk sits in L2; the best candidates are then re-scored exactly by the index
// (Hnsw::search_range).
//
// The scanned codes are interleaved in blocks of 16 rows (quant/kernels.h, Int8Kernels::block16).
// With a Projection (quant/projection.h) a long stretch is scanned first on codes of the rows'
// leading principal axes, a fraction of the bytes and arithmetic, and a second pass scores the
// full codes (kept row-major too) of each query's best first-pass candidates: the first pass only
// has to keep the true neighbours among a few dozen, the second gives the re-rank estimates as
// close as unprojected codes would. A short stretch is scanned on the full codes in one pass.
//
// Built at one mutation epoch of its index; the index refuses it after any add or delete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/huge_pages.h"
#include "common/types.h"
#include "graph/code_scan.h"
#include "quant/projected_sq8.h"
#include "quant/sq8.h"
#include "storage/flat_store.h"

namespace vecsearch {

class RangeCodes {
public:
    // Codes of the rows of `store` at slots[0..n), in that order, with SQ8 codecs trained on (a
    // sample of) them; the first pass on their projections when `projection` is given.
    static std::unique_ptr<RangeCodes> build(const FlatStore& store, Metric metric, const slot_t* slots, size_t n,
                                             size_t threads, uint64_t epoch, std::optional<Projection> projection);

    size_t size() const { return slots_.size(); }
    size_t dim() const { return dim_; }
    // The dimensions the first pass scores: the projection's out_dim, or dim.
    size_t code_dim() const { return axes_ ? axes_->code_size() : dim_; }
    uint64_t epoch() const { return epoch_; }
    const slot_t* slots() const { return slots_.data(); }
    size_t memory_bytes() const;

    // Scans rows [begin, end) of the order for the nb queries (dim floats at queries[j]) and
    // leaves each one's best estimates, slots and estimated distances, in tops[j], reset to
    // code_scan::pool_size(depth).
    void scan(const float* const* queries, size_t nb, size_t begin, size_t end, size_t depth,
              code_scan::Pool* tops) const;

private:
    RangeCodes(size_t dim, Metric metric, uint64_t epoch, std::optional<Projection> projection);
    // Each query's first-pass candidates (positions in first[j]) re-scored on their full codes
    // into tops[j].
    void rescore(const float* const* queries, size_t nb, code_scan::Pool* first, code_scan::Pool* tops) const;

    size_t dim_;
    Metric metric_;
    uint64_t epoch_;
    std::vector<slot_t> slots_;
    SQ8Codec codec_;                    // of the rows themselves
    std::optional<ProjectedSQ8> axes_;  // of their projections, when given one
    code_scan::Interleaved whole_;         // codec_'s codes: the scan of a short stretch, or of any
    code_scan::Interleaved axis_scanned_;  // with a projection: axes_'s codes, a long stretch's first pass
    // With a projection: codec_'s codes, row-major in the order (the second pass; their norms
    // are whole_'s).
    HugeVector<uint8_t> full_;
};

}  // namespace vecsearch
