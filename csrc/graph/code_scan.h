// Exhaustive scans of SQ8 codes for a block of queries: 16 codes interleaved four bytes at a time
// (quant/kernels.h, u8s8_block16) are scored against up to kGroup queries per kernel call, and
// each query keeps its best estimates in a TopK for an exact re-rank. Range indexes store their
// codes interleaved (graph/range_codes.h); the codes plan interleaves the matching slots' codes as
// it goes (graph/hnsw_code_scan.cpp), a 16 x dim byte copy shared by the whole block of queries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>
#include <limits>

#include "common/types.h"
#include "graph/beam.h"
#include "quant/sq8.h"

namespace vecsearch {
namespace code_scan {

constexpr size_t kRows = 16;   // codes per interleaved block
constexpr size_t kGroup = 8;   // queries per kernel call

inline size_t chunks(size_t dim) { return (dim + 3) / 4; }

// Candidates a query keeps for re-ranking at depth d: d are re-scored exactly, and the rest only
// while their estimate, less the bias and a margin over the spread of the errors those d showed,
// can still beat the k-th exact distance (where matches crowd within code error of one distance, as at the edge
// of an anti-correlated filter, a fixed depth would miss true neighbours).
inline size_t pool_size(size_t depth) { return 4 * depth + 32; }

// A query's best `keep` estimates: admitted into a flat buffer while under the bound, which
// is cut back to the best `keep` (nth_element) each time it doubles: constant time per
// admission, where a heap of a pool this deep costs a logarithm on each of the many early ones.
class Pool {
public:
    void reset(size_t keep) {
        keep_ = keep;
        bound_ = std::numeric_limits<float>::infinity();
        items_.clear();
        items_.reserve(2 * keep);
    }
    float bound() const { return bound_; }
    void push(float dist, slot_t slot) {
        items_.push_back({dist, slot});
        if (items_.size() == 2 * keep_) cut();
    }
    // Ascending by estimate, at most `keep`; the pool is spent until the next reset.
    const std::vector<Neighbor>& sorted() {
        if (items_.size() > keep_) cut();
        std::sort(items_.begin(), items_.end(), less);
        return items_;
    }

private:
    static bool less(const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; }
    void cut() {
        std::nth_element(items_.begin(), items_.begin() + (keep_ - 1), items_.end(), less);
        bound_ = items_[keep_ - 1].dist;  // nth_element leaves the keep-th smallest there
        items_.resize(keep_);
    }
    std::vector<Neighbor> items_;
    size_t keep_ = 0;
    float bound_ = std::numeric_limits<float>::infinity();
};

// Block layout: chunk c of row r at c * 64 + 4 * r. Rows past `n` are left zero.
inline void interleave(const uint8_t* const* codes, size_t n, size_t dim, uint8_t* block) {
    const size_t whole = dim / 4, nc = chunks(dim);
    if (n < kRows || whole < nc) std::memset(block, 0, nc * 64);
    for (size_t r = 0; r < n; ++r) {
        const uint8_t* code = codes[r];
        uint8_t* out = block + r * 4;
        for (size_t c = 0; c < whole; ++c) std::memcpy(out + c * 64, code + c * 4, 4);  // one 32-bit move
        if (whole < nc) std::memcpy(out + whole * 64, code + whole * 4, dim - whole * 4);
    }
}

// The int8 form of a query for `codec` (w8: chunks(dim) * 4 bytes, zero-padded).
inline SQ8Codec::IntQuery prepare(const SQ8Codec& codec, const float* q, int8_t* w8) {
    std::fill(w8, w8 + chunks(codec.dim()) * 4, int8_t(0));
    return codec.prepare_int8(q, w8);
}

// Pushes rows [lo, hi) of a block scored for nw queries (dots [nw, 16]) into their TopKs:
// estimate = base + norm + mul * dot (SQ8Codec::IntQuery), admitted while under the query's bound.
inline void admit(const int32_t* dots, size_t nw, const SQ8Codec::IntQuery* forms, const float* norms,
                  const slot_t* slots, size_t lo, size_t hi, Pool* pools) {
    for (size_t j = 0; j < nw; ++j) {
        const SQ8Codec::IntQuery& f = forms[j];
        const int32_t* d = dots + j * kRows;
        float est[kRows];  // all 16 first (the compiler vectorises it), then the rare admissions
        for (size_t r = 0; r < kRows; ++r) est[r] = f.base + norms[r] + f.mul * float(d[r]);
        Pool& pool = pools[j];
        for (size_t r = lo; r < hi; ++r)
            if (est[r] < pool.bound()) pool.push(est[r], slots[r]);
    }
}

}  // namespace code_scan
}  // namespace vecsearch
