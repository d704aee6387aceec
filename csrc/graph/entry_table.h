// Where the neighbour-code walk starts (graph/hnsw_fast_walk.cpp): of a sample of the live
// nodes, the one nearest each k-means centre. A query scores the whole table (64 vectors, one
// sequential read) and starts at the closest entry, instead of descending HNSW's upper levels
// (a chain of dependent random reads of float rows). Measured, 1 thread, same process: on the
// generated 200k x 384 set (16 clusters) starting at the top entry point without the descent
// leaves the beam in one cluster (recall@10 0.33 at ef 64), starting here 0.84.
//
// The SQ8 walk measured +14 % QPS at recall 0.95 from this table on that set and no change on
// debian-minilm, but keeps its descent until the table is saved with the index: chosen again
// at load it differs from the one chosen while adding, and a loaded or disk-tier index would
// not answer as the one saved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"
#include "storage/flat_store.h"

namespace vecsearch {

class EntryTable {
public:
    static constexpr size_t kEntries = 64;
    static constexpr size_t kSample = 8192;  // nodes k-means sees: enough for 64 centres

    // Chooses the entries from `sample` (live slots of `store`); fewer than 2 * kEntries sample
    // nodes leave the table empty (the walk then descends the upper levels).
    void build(const FlatStore& store, const std::vector<slot_t>& sample, uint64_t seed, size_t threads);
    void clear();
    bool empty() const { return slots_.empty(); }
    size_t size() const { return slots_.size(); }
    size_t bytes() const { return slots_.capacity() * sizeof(slot_t) + vectors_.capacity() * sizeof(float); }
    // The entry nearest q (by the store's metric). Requires !empty().
    slot_t nearest(const FlatStore& store, const float* q) const;

private:
    std::vector<slot_t> slots_;
    std::vector<float> vectors_;  // [size(), dim]: a copy, so the scan is one sequential read
};

}  // namespace vecsearch
