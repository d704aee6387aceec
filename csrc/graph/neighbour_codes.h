// Each node's level-0 neighbours' RaBitQ codes, packed beside one another in the node's own
// block (as SymphonyQG keeps them), so expanding a node reads one contiguous block and scores
// all its neighbours with one FastScan call per 32 of them, instead of one random row load and
// one kernel call per neighbour.
//
// Block of slot s: s's own float vector (own_bytes(), what the walk scores s by exactly when it
// expands it, so the beam's estimates start from an exact distance and no re-rank reads rows
// again at the end; SymphonyQG's layout), then batches() batches of batch_bytes(), each holding
// 32 of s's walk neighbours
// (its level-0 links, topped up to the block's width by the graph: see hnsw_neighbour_codes.cpp).
// A batch is [slots: 32 x uint32, kNoSlot past the end][packed codes: chunks * 64 bytes]
// [f_add x 32][f_scale x 32][pop x 32] (floats; see quant/rabitq.h), so a walk reads nothing
// else to expand a node. Codes are residuals from s itself (quant/rabitq.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/huge_pages.h"
#include "common/types.h"
#include "quant/rabitq.h"

namespace vecsearch {

class NeighbourCodes {
public:
    static constexpr size_t kBatch = 32;

    NeighbourCodes(std::unique_ptr<RabitqEncoder> encoder, size_t degree);

    const RabitqEncoder& encoder() const { return *encoder_; }
    // The float vector at the head of a block.
    static const float* own_vector(const uint8_t* block) { return reinterpret_cast<const float*>(block); }
    size_t own_bytes() const { return own_bytes_; }
    size_t block_bytes() const { return lines_per_block_ * 64; }
    size_t batches() const { return batches_; }
    size_t width() const { return batches_ * kBatch; }  // walk neighbours a block holds
    // Offsets inside a batch.
    static constexpr size_t kCodesAt = kBatch * sizeof(slot_t);
    size_t factors_at() const { return kCodesAt + encoder_->chunks() * 64; }
    size_t batch_bytes() const { return batch_bytes_; }
    size_t capacity() const { return capacity_; }
    size_t bytes() const;

    // Room for `capacity` slots (existing codes and blocks kept).
    void reserve(size_t capacity);
    // Slot s's block from its vector x and its n <= width() walk neighbours: rotated(v) is the
    // rotation of slot v's vector (RabitqEncoder::rotate).
    template <class Rotated>
    void pack(slot_t s, const float* x, const slot_t* neighbours, size_t n, const Rotated& rotated);
    const uint8_t* block(slot_t s) const { return lines_[size_t(s) * lines_per_block_].bytes; }
    const uint8_t* batch(const uint8_t* block, size_t b) const { return block + own_bytes_ + b * batch_bytes_; }

private:
    struct alignas(64) Line {
        uint8_t bytes[64];
    };

    std::unique_ptr<RabitqEncoder> encoder_;
    uint8_t* clear_block(slot_t s);
    void put(uint8_t* block, size_t j, slot_t v, const uint8_t* bits, const float* factors);

    size_t own_bytes_, batches_, code_bytes_, batch_bytes_, lines_per_block_;
    size_t capacity_ = 0;
    HugeVector<Line> lines_;  // [capacity, lines_per_block]
};

template <class Rotated>
void NeighbourCodes::pack(slot_t s, const float* x, const slot_t* neighbours, size_t n, const Rotated& rotated) {
    uint8_t* block = clear_block(s);
    std::memcpy(block, x, encoder_->dim() * sizeof(float));
    const float* ru = rotated(s);
    std::vector<uint8_t> bits(code_bytes_);
    float factors[3];
    n = std::min(n, width());
    for (size_t j = 0; j < n; ++j) {
        encoder_->encode_residual(rotated(neighbours[j]), ru, bits.data(), factors);
        put(block, j, neighbours[j], bits.data(), factors);
    }
}

}  // namespace vecsearch
