// The codes of a range index: the live vectors in the order of one numeric attribute column, as
// SQ8 codes interleaved in blocks of 16 rows (quant/kernels.h, Int8Kernels::block16). A range predicate
// on that column selects one contiguous stretch of this order [begin, end), which a block of
// queries scans with integer dot products while the stretch's chunk sits in L2: a quarter of
// the bytes of the float rows, and four times the arithmetic per instruction. The best
// candidates are then re-scored exactly by the index (Hnsw::search_range).
//
// Built at one mutation epoch of its index; the index refuses it after any add or delete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/huge_pages.h"
#include "common/types.h"
#include "graph/beam.h"
#include "graph/code_scan.h"
#include "quant/kernels.h"
#include "quant/sq8.h"
#include "storage/flat_store.h"

namespace vecsearch {

class RangeCodes {
public:
    // Codes of the rows of `store` at slots[0..n), in that order, with an SQ8 codec trained on
    // (a sample of) them.
    static std::unique_ptr<RangeCodes> build(const FlatStore& store, Metric metric, const slot_t* slots, size_t n,
                                             size_t threads, uint64_t epoch);

    size_t size() const { return slots_.size(); }
    size_t dim() const { return dim_; }
    uint64_t epoch() const { return epoch_; }
    const slot_t* slots() const { return slots_.data(); }
    size_t memory_bytes() const;

    // Bytes of one query's int8 form (dim rounded up to whole 4-byte chunks).
    size_t query_bytes() const { return chunks_ * 4; }
    // The int8 form of a query (w8: query_bytes(), zero-padded) and its affine map to distances.
    void prepare(const float* q, int8_t* w8, float* base, float* mul) const;
    // Scans rows [begin, end) of the order for nb queries (w8 row j at j * query_bytes(), with
    // base[j] and mul[j]), admitting each row's estimated distance to pools[j].
    void scan(const int8_t* w8, const float* base, const float* mul, size_t nb, size_t begin, size_t end,
              code_scan::Pool* pools) const;

private:
    RangeCodes(size_t dim, Metric metric, uint64_t epoch);

    size_t dim_, chunks_;
    uint64_t epoch_;
    SQ8Codec codec_;
    std::vector<slot_t> slots_;
    HugeVector<uint8_t> blocks_;  // [ceil(n / 16), chunks_, 16 rows x 4 bytes]
    std::vector<float> norms_;    // l2: each row's SQ8Codec::code_norm (zero-padded); empty otherwise
};

}  // namespace vecsearch
