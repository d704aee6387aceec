// Exhaustive scans of SQ8 codes for a block of queries, each query keeping its best estimates in
// a Pool for an exact re-rank. Range indexes store their codes interleaved, 16 codes four bytes at
// a time (graph/range_codes.h), scored against up to kGroup queries per kernel call
// (Int8Kernels::block16_est); the codes plan scores the matching slots' codes where they lie, each
// loaded once for up to kGroup queries (Int8Kernels::rows_est, graph/hnsw_code_scan.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common/huge_pages.h"
#include "common/types.h"
#include "graph/beam.h"
#include "quant/kernels.h"
#include "quant/sq8.h"

namespace vecsearch {
namespace code_scan {

constexpr size_t kRows = 16;   // codes per interleaved block
constexpr size_t kGroup = 8;   // queries per kernel call

inline size_t chunks(size_t dim) { return (dim + 3) / 4; }

// Candidates a query keeps for re-ranking at depth d: d are re-scored exactly, and the rest only
// while their estimate, less the bias and a margin over the spread of the errors those d showed,
// can still beat the k-th exact distance (graph/hnsw_code_scan.cpp).
inline size_t pool_size(size_t depth) { return 2 * depth + 8; }

// A query's best `keep` estimates: admitted into a flat buffer while under the bound, which
// is thinned back towards `keep` each time it doubles (see thin(); sorted() cuts to exactly the
// best `keep`): constant time per admission, where a heap of a pool this deep costs a logarithm
// on each of the many early ones. The bound is any estimate at least `keep` pooled items are at
// or under, so an item at or over it cannot be among the best `keep`. The exact cut is a
// quickselect whose partitions write each item to one end of a scratch buffer, chosen without a
// branch, and advance that end: the estimates are noise to a branch predictor, so the branches
// of std::nth_element mispredicted on every other item (half of a shared-filter scan's time
// outside its kernel).
class Pool {
public:
    void reset(size_t keep) {
        keep_ = keep;
        bound_ = std::numeric_limits<float>::infinity();
        items_.resize(2 * keep);
        size_ = 0;
        sorted_ = false;
    }
    float bound() const { return bound_; }
    size_t capacity() const { return keep_; }
    // The fields are stored where they go: push_back built the pair on the stack and copied it
    // as one 8-byte load of two 4-byte stores, a store-forwarding stall on every admission (a
    // quarter of a range scan's time outside its kernel).
    void push(float dist, slot_t slot) {
        Neighbor& item = items_[size_];
        item.dist = dist;
        item.slot = slot;
        if (++size_ == 2 * keep_) thin();
    }
    // Ascending by estimate, at most `keep`; the pool is spent until the next reset (a second
    // call returns the same order, sorted once).
    const std::vector<Neighbor>& sorted() {
        if (sorted_) return items_;
        if (size_ > keep_) cut();
        items_.resize(size_);
        std::sort(items_.begin(), items_.end(), Less());
        sorted_ = true;
        return items_;
    }

private:
    static constexpr size_t kSmall = 16;  // ranges this short are sorted outright
    struct Less {  // a type, not a function pointer: std::sort inlines it
        bool operator()(const Neighbor& a, const Neighbor& b) const { return a.dist < b.dist; }
    };

    // Moves the items of [lo, hi) that pass `goes_first` to its front (in order) and the others
    // behind them; returns how many passed.
    template <class Test>
    size_t partition(size_t lo, size_t hi, Test goes_first) {
        const Neighbor* __restrict a = items_.data();
        Neighbor* __restrict s = scratch_.data();
        size_t front = 0, back = hi - lo;
        for (size_t i = lo; i < hi; ++i) {
            const Neighbor item = a[i];
            const bool first = goes_first(item.dist);
            // one store at an index picked by a mask: GCC made `first ? front : back - 1` a branch
            const size_t pick = size_t(0) - size_t(first);
            s[(front & pick) | ((back - 1) & ~pick)] = item;
            front += first;
            back -= !first;
        }
        std::memcpy(items_.data() + lo, s, (hi - lo) * sizeof(Neighbor));
        return front;
    }

    // A full pool is thinned to the items at or under a bound that at least keep_ of them meet,
    // which is all admission needs (an item over it has keep_ better ones): the bound is the
    // fifth of eight evenly spaced estimates (or a later one) whose count of items at or under it
    // reaches keep_, then one compacting pass, no quickselect. A tenth to a half more than keep_
    // stay, so the pool fills again sooner and a few more items get in under the looser bound, for a
    // fraction of the cut's partition passes. A bound that keeps too many falls back to cut().
    void thin() {
        constexpr size_t kSample = 8, kFirst = 4;
        const size_t n = size_;
        float sample[kSample];
        for (size_t i = 0; i < kSample; ++i) sample[i] = items_[i * n / kSample + n / (2 * kSample)].dist;
        std::sort(sample, sample + kSample);
        for (size_t s = kFirst; s < kSample; ++s) {
            const float b = sample[s];
            size_t under = 0;
            for (size_t i = 0; i < n; ++i) under += items_[i].dist <= b;
            if (under < keep_) continue;
            if (2 * under > 3 * keep_) break;  // little would be thinned: cut exactly
            Neighbor* a = items_.data();
            size_t m = 0;
            for (size_t i = 0; i < n; ++i) {  // in place: m <= i
                const Neighbor item = a[i];
                a[m] = item;
                m += item.dist <= b;
            }
            size_ = m;
            bound_ = b;
            return;
        }
        cut();
    }

    // Leaves the best keep_ items in items_[0, keep_) and the keep_-th smallest estimate in
    // bound_.
    void cut() {
        const size_t want = keep_ - 1;
        scratch_.resize(size_);
        size_t lo = 0, hi = size_;
        while (hi - lo > kSmall) {
            const size_t mid = lo + (hi - lo) / 2;
            const float x = items_[lo].dist, y = items_[mid].dist, z = items_[hi - 1].dist;
            const float pivot = std::max(std::min(x, y), std::min(std::max(x, y), z));  // median of three
            const size_t below = lo + partition(lo, hi, [pivot](float d) { return d < pivot; });
            if (want < below) {
                hi = below;
                continue;
            }
            if (below > lo) {  // the range shrank: go on above the pivot's value
                lo = below;
                continue;
            }
            // Nothing is under the pivot: split off its ties (at least the pivot itself).
            const size_t ties = below + partition(below, hi, [pivot](float d) { return d <= pivot; });
            if (want < ties) {
                lo = hi = want;  // items_[want] is a tie of the pivot: the keep-th smallest
                break;
            }
            lo = ties;
        }
        if (lo < hi) std::sort(items_.begin() + lo, items_.begin() + hi, Less());
        bound_ = items_[want].dist;
        size_ = keep_;
    }

    std::vector<Neighbor> items_, scratch_;  // items_[0, size_) are the pool's
    size_t keep_ = 0, size_ = 0;
    bool sorted_ = false;
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

// Codes interleaved by kRows rows (see interleave), with their l2 norms zero-padded to whole
// blocks (empty for ip / cosine): the layout the block kernel scores without a horizontal sum.
struct Interleaved {
    size_t chunks = 0;  // of 4 code bytes
    HugeVector<uint8_t> blocks;
    std::vector<float> norms;
};

// The codes of slots[0, n) (code_dim bytes each, row-major by slot in `codes`, their norms by slot
// or null) into `out`: the codes plan gathers a filter's scattered matches once for a block of
// queries, so each code is read as one stream, not one row per kernel call.
void gather(const uint8_t* codes, size_t code_dim, const float* norms, const slot_t* slots, size_t n,
            Interleaved& out);

// Scores rows [begin, end) of `codes` for nb <= any queries (int8 forms w8, `stride` bytes apart,
// their IntQuery base and mul), kGroup per kernel call, a few hundred KiB at a time so a group's
// codes stay in L2 for the next, and admits each estimate under its query's bound to pools[j],
// labelled labels[row], or the row itself when labels is null.
void scan(const Int8Kernels& kernels, const Interleaved& codes, size_t begin, size_t end, const slot_t* labels,
          const int8_t* w8, size_t stride, const float* base, const float* mul, size_t nb, Pool* pools);

// The int8 form of a query for `codec` (w8: chunks(dim) * 4 bytes, zero-padded), its base and mul.
inline void prepare(const SQ8Codec& codec, const float* q, int8_t* w8, float* base, float* mul) {
    std::fill(w8, w8 + chunks(codec.dim()) * 4, int8_t(0));
    const SQ8Codec::IntQuery form = codec.prepare_int8(q, w8);
    *base = form.base;
    *mul = form.mul;
}

// Scores one block of 16 codes for nw <= kGroup queries (int8 forms w, `stride` bytes apart, and
// their SQ8Codec::IntQuery base and mul) and admits rows [lo, hi) of it to each query's pool
// where the estimate is under the pool's bound: the kernel tests all 16 lanes, only the lanes
// it passes are visited here.
inline void score_block(const Int8Kernels& kernels, const uint8_t* block, const int8_t* w, size_t nw,
                        size_t stride, size_t nc, const float* base, const float* mul, const float* norms,
                        const slot_t* slots, size_t lo, size_t hi, Pool* pools) {
    float bound[kGroup];
    alignas(64) float est[kGroup * kRows];
    uint32_t masks[kGroup];
    for (size_t j = 0; j < nw; ++j) bound[j] = pools[j].bound();
    kernels.block16_est(block, w, nw, stride, nc, base, mul, norms, bound, est, masks);
    const uint32_t in_range = ((1u << hi) - 1u) & ~((1u << lo) - 1u);
    for (size_t j = 0; j < nw; ++j) {
        for (uint32_t m = masks[j] & in_range; m != 0; m &= m - 1) {
            const size_t r = size_t(__builtin_ctz(m));
            if (est[j * kRows + r] < pools[j].bound()) pools[j].push(est[j * kRows + r], slots[r]);
        }
    }
}

// A second pass: re-scores the candidates a first pass left in `first` (rows of `codes`, dim
// bytes each; estimates of a coarser code) on these codes for one query (int8 form w, base, mul,
// norms by row or null) and admits them to `top`, each as labels[row] (the row itself when
// labels is null).
inline void rescore(const Int8Kernels& kernels, const uint8_t* codes, size_t dim, const float* norms,
                    const int8_t* w, float base, float mul, Pool& first, const slot_t* labels, Pool& top) {
    constexpr size_t kBatch = 64;  // codes per kernel call (which prefetches within it)
    thread_local std::vector<uint32_t> rows;
    const std::vector<Neighbor>& cands = first.sorted();
    rows.resize(cands.size());
    for (size_t c = 0; c < cands.size(); ++c) rows[c] = cands[c].slot;
    alignas(32) float est[kBatch * kGroup];
    uint32_t masks[kBatch];
    for (size_t at = 0; at < rows.size(); at += kBatch) {
        const size_t m = std::min(kBatch, rows.size() - at);
        const float bound = top.bound();
        kernels.rows_est(codes, dim, rows.data() + at, m, w, 1, dim, &base, &mul, norms, &bound, est, masks);
        for (size_t r = 0; r < m; ++r)
            if ((masks[r] & 1u) && est[r * kGroup] < top.bound())
                top.push(est[r * kGroup], labels ? labels[rows[at + r]] : slot_t(rows[at + r]));
    }
}

}  // namespace code_scan
}  // namespace vecsearch
