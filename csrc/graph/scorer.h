// How one query scores slots during a graph walk: exactly, from the float vectors, or by a
// codec's estimate from compact codes (an index with quantized storage), in which case the best
// candidates of the walk are re-scored exactly afterwards (see Hnsw::finish_candidates). The
// walks are templates over the scorer, so the float path pays no per-distance dispatch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/prefetch.h"
#include "common/types.h"
#include "quant/codec.h"
#include "quant/kernels.h"
#include "quant/sq8.h"
#include "storage/flat_store.h"

namespace vecsearch {

// Exact distances to the float vectors.
class ExactScorer {
public:
    static constexpr bool kApproximate = false;

    ExactScorer(const FlatStore& store, const float* q) : store_(&store), q_(q) {}
    const float* query() const { return q_; }
    float operator()(slot_t s) const { return store_->distance(q_, s); }
    void score_many(const slot_t* slots, size_t m, float* out) const {
        for (size_t i = 0; i < m; ++i) out[i] = (*this)(slots[i]);
    }
    float exact(slot_t s) const { return store_->distance(q_, s); }
    void prefetch(slot_t s) const { prefetch_lines(store_->row(s), store_->dim() * sizeof(float)); }
    float rerank_error() const { return -1.0f; }  // exact: nothing to re-rank

private:
    const FlatStore* store_;
    const float* q_;
};

// A codec's estimate from compact codes; exact() still reads the float vectors (re-ranking).
class CodeScorer {
public:
    static constexpr bool kApproximate = true;

    CodeScorer(const FlatStore& store, const float* q, const Codec& codec, const uint8_t* codes,
               const uint8_t* prepared)
        : store_(&store), q_(q), codec_(&codec), codes_(codes), prepared_(prepared), code_size_(codec.code_size()) {}
    const float* query() const { return q_; }
    float operator()(slot_t s) const { return codec_->distance(prepared_, codes_ + size_t(s) * code_size_); }
    // One virtual call for a walk step's fresh neighbours, not one each.
    void score_many(const slot_t* slots, size_t m, float* out) const {
        codec_->distance_rows(prepared_, codes_, slots, m, out);
    }
    float exact(slot_t s) const { return store_->distance(q_, s); }
    void prefetch(slot_t s) const { prefetch_lines(codes_ + size_t(s) * code_size_, code_size_); }
    // The codec's error is not measured: the re-rank takes the full depth (or a refine bound).
    float rerank_error() const { return -1.0f; }

private:
    const FlatStore* store_;
    const float* q_;
    const Codec* codec_;
    const uint8_t* codes_;
    const uint8_t* prepared_;
    size_t code_size_;
};

// SQ8 codes scored against an int8 form of the query (SQ8Codec::prepare_int8): one integer
// dot product per code, no per-dimension float conversion; exact() reads the float vectors.
class Sq8Scorer {
public:
    static constexpr bool kApproximate = true;

    Sq8Scorer(const FlatStore& store, const float* q, const uint8_t* codes, const float* norms, const int8_t* w8,
              SQ8Codec::IntQuery form, const Int8Kernels& kernels, float error)
        : store_(&store), q_(q), codes_(codes), norms_(norms), w8_(w8), form_(form), dot_(kernels.dot),
          dot_rows_(kernels.dot_rows), dim_(store.dim()), error_(error) {}
    const float* query() const { return q_; }
    float operator()(slot_t s) const { return form_.estimate(norm(s), dot_(codes_ + size_t(s) * dim_, w8_, dim_)); }
    // A walk's fresh neighbours in one kernel call (Int8Kernels::dot_rows), then their estimates.
    void score_many(const slot_t* slots, size_t m, float* out) const {
        int32_t dots[kManyMax];
        for (size_t at = 0; at < m; at += kManyMax) {
            const size_t n = std::min(kManyMax, m - at);
            dot_rows_(codes_, dim_, slots + at, n, w8_, dots);
            for (size_t i = 0; i < n; ++i) out[at + i] = form_.estimate(norm(slots[at + i]), dots[i]);
        }
    }
    float exact(slot_t s) const { return store_->distance(q_, s); }
    void prefetch(slot_t s) const { prefetch_lines(codes_ + size_t(s) * dim_, dim_); }
    // The codes' measured error (Hnsw::codes_error), which bounds how deep the re-rank reads;
    // negative: not measured, the full depth.
    float rerank_error() const { return error_; }

private:
    float norm(slot_t s) const { return norms_ ? norms_[s] : 0.0f; }

    const FlatStore* store_;
    const float* q_;
    const uint8_t* codes_;
    const float* norms_;
    const int8_t* w8_;
    SQ8Codec::IntQuery form_;
    static constexpr size_t kManyMax = 64;
    int32_t (*dot_)(const uint8_t*, const int8_t*, size_t);
    void (*dot_rows_)(const uint8_t*, size_t, const uint32_t*, size_t, const int8_t*, int32_t*);
    size_t dim_;
    float error_;
};

}  // namespace vecsearch
