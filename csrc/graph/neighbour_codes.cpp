#include "graph/neighbour_codes.h"

#include <algorithm>
#include <cstring>

namespace vecsearch {

NeighbourCodes::NeighbourCodes(std::unique_ptr<RabitqEncoder> encoder, size_t degree)
    : encoder_(std::move(encoder)),
      own_bytes_((encoder_->dim() * sizeof(float) + 63) / 64 * 64),
      batches_((degree + kBatch - 1) / kBatch),
      code_bytes_(encoder_->code_bytes()),
      batch_bytes_(kCodesAt + encoder_->chunks() * 64 + 3 * kBatch * sizeof(float)),
      lines_per_block_((own_bytes_ + batches_ * batch_bytes_) / 64) {}

size_t NeighbourCodes::bytes() const { return lines_.capacity() * sizeof(Line); }

void NeighbourCodes::reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    lines_.resize(capacity * lines_per_block_, Line{});
    capacity_ = capacity;
}

uint8_t* NeighbourCodes::clear_block(slot_t s) {
    uint8_t* block = lines_[size_t(s) * lines_per_block_].bytes;
    std::memset(block, 0, lines_per_block_ * sizeof(Line));
    for (size_t b = 0; b < batches_; ++b) {
        slot_t* slots = reinterpret_cast<slot_t*>(block + own_bytes_ + b * batch_bytes_);
        std::fill(slots, slots + kBatch, kNoSlot);
    }
    return block;
}

void NeighbourCodes::put(uint8_t* block, size_t j, slot_t v, const uint8_t* code, const float* factors) {
    uint8_t* batch = block + own_bytes_ + (j / kBatch) * batch_bytes_;
    const size_t lane = j % kBatch, chunks = encoder_->chunks();
    reinterpret_cast<slot_t*>(batch)[lane] = v;
    uint8_t* packed = batch + kCodesAt;
    // Code bytes 2c and 2c + 1 hold nibble groups 4c..4c+3: exactly chunk c's two bytes.
    for (size_t c = 0; c < chunks; ++c) {
        packed[c * 64 + lane] = code[2 * c];
        packed[c * 64 + 32 + lane] = code[2 * c + 1];
    }
    float* f = reinterpret_cast<float*>(packed + chunks * 64);
    f[lane] = factors[0];
    f[kBatch + lane] = factors[1];
    f[2 * kBatch + lane] = factors[2];
}

}  // namespace vecsearch
