// Full-precision vectors, row-major [capacity, dim], and the distances between them.
//
// The rows are either owned (64-byte aligned, growable) or borrowed read-only from a caller
// (a memory-mapped file); the first write to a borrowed store copies it into owned memory.
// Distances: l2 -> squared Euclidean; ip and cosine -> 1 - dot (cosine rows are normalised
// by the caller before they get here).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <string>

#include "common/errors.h"
#include "common/huge_pages.h"
#include "common/types.h"
#include "simd/kernels.h"

namespace vecsearch {

class FlatStore {
public:
    FlatStore(size_t dim, Metric metric, const KernelTable& kernels)
        : dim_(dim),
          one_minus_(metric != Metric::l2),
          fn_(metric == Metric::l2 ? kernels.l2sq : kernels.dot),
          block_fn_(metric == Metric::l2 ? kernels.l2sq_block : kernels.dot_block),
          dot_fn_(kernels.dot) {}

    size_t dim() const { return dim_; }
    size_t capacity() const { return capacity_; }
    bool borrowed() const { return data_ != nullptr && !owned_ && !external_; }
    bool external() const { return external_; }

    // Grows owned storage to hold `capacity` rows, keeping the first `used` rows.
    void reserve(size_t capacity, size_t used) {
        if ((owned_ || external_) && capacity <= capacity_) return;
        if (external_) throw InvalidArgument("the external vector rows are full (" + std::to_string(capacity_) + " rows)");
        capacity = capacity < used ? used : capacity;
        size_t bytes = capacity * dim_ * sizeof(float);
        void* p = allocate_huge(bytes == 0 ? 64 : bytes);  // walks read rows at random
        if (used) std::memcpy(p, data_, used * dim_ * sizeof(float));
        owned_data_.reset(static_cast<float*>(p));
        data_ = owned_data_.get();
        owned_ = true;
        capacity_ = capacity;
    }
    // Uses `rows` rows at `data` without copying; the caller keeps them alive.
    void borrow(const float* data, size_t rows) {
        owned_data_.reset();
        data_ = const_cast<float*>(data);
        owned_ = external_ = false;
        capacity_ = rows;
    }
    // Writes into `rows` rows at `data` that the caller keeps alive (a writable file mapping),
    // after copying the first `used` rows there when `copy`.
    void use_external(float* data, size_t rows, size_t used, bool copy) {
        if (copy && used && data != data_) std::memcpy(data, data_, used * dim_ * sizeof(float));
        owned_data_.reset();
        data_ = data;
        owned_ = false;
        external_ = true;
        capacity_ = rows;
    }
    void set(slot_t slot, const float* v) { std::memcpy(row_mut(slot), v, dim_ * sizeof(float)); }
    const float* row(slot_t slot) const { return data_ + size_t(slot) * dim_; }
    const float* data() const { return data_; }

    float distance(const float* query, slot_t slot) const { return finish(fn_(query, row(slot), dim_)); }
    float distance(slot_t a, slot_t b) const { return finish(fn_(row(a), row(b), dim_)); }
    float distance(const float* a, const float* b) const { return finish(fn_(a, b, dim_)); }
    // Distances from kBlockQueries queries, transposed into qt [dim][kBlockQueries], to one row.
    void distance_block(const float* qt, slot_t slot, float* out) const {
        block_fn_(qt, row(slot), dim_, out);
        for (size_t j = 0; j < kBlockQueries; ++j) out[j] = finish(out[j]);
    }

    float squared_norm(slot_t slot) const { return dot_fn_(row(slot), row(slot), dim_); }

private:
    float* row_mut(slot_t slot) { return data_ + size_t(slot) * dim_; }
    float finish(float raw) const { return one_minus_ ? 1.0f - raw : raw; }

    struct Free {
        void operator()(float* p) const { std::free(p); }
    };
    size_t dim_;
    bool one_minus_;
    dist_fn fn_;
    block_fn block_fn_;
    dist_fn dot_fn_;
    std::unique_ptr<float, Free> owned_data_;
    float* data_ = nullptr;
    bool owned_ = false;
    bool external_ = false;
    size_t capacity_ = 0;
};

}  // namespace vecsearch
