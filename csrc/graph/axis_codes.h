// The index's vectors on their leading principal axes (quant/projected_sq8.h), one code per slot:
// the codes plan's first pass over a filter's scattered matches scores these, a third of the
// bytes and arithmetic of the SQ8 codes on debian-minilm, then re-scores its best on the SQ8
// codes (graph/hnsw_code_scan.cpp). Kept in step with the index by its adds.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/huge_pages.h"
#include "common/types.h"
#include "quant/projected_sq8.h"
#include "storage/flat_store.h"

namespace vecsearch {

class AxisCodes {
public:
    AxisCodes(Projection projection, Metric metric) : codec_(std::move(projection), metric) {}

    const ProjectedSQ8& codec() const { return codec_; }
    const uint8_t* codes() const { return codes_.data(); }
    const float* norms() const { return codec_.has_norms() ? norms_.data() : nullptr; }  // by slot
    size_t memory_bytes() const {
        return codes_.capacity() + norms_.capacity() * sizeof(float) + codec_.memory_bytes();
    }

    // Room for `capacity` slots.
    void reserve(size_t capacity);
    // Learns the code ranges from the rows of sample[0, n_sample) and encodes slots [0, count).
    void build(const FlatStore& store, const slot_t* sample, size_t n_sample, size_t count, size_t threads);
    // Encodes the rows of slots[0, n) (new or reused slots).
    void encode(const FlatStore& store, const slot_t* slots, size_t n, size_t threads);

private:
    ProjectedSQ8 codec_;
    HugeVector<uint8_t> codes_;
    HugeVector<float> norms_;
};

}  // namespace vecsearch
