// Where a walk over neighbour codes starts: of a sample of the live nodes, the one nearest each
// k-means centre. A query scores the whole table (64 vectors, one sequential read) and starts at
// the closest entry, instead of descending HNSW's upper levels (a chain of dependent random row
// reads: 5-17 us of a debian-minilm query, where the whole walk takes 40-70).
//
// Starting at HNSW's top entry point without the descent is not enough: on clustered data our
// level-0 graph has few edges between clusters, and the beam stays in the entry point's cluster
// (generated 200k x 384, 16 clusters: recall@10 0.33 at ef 64, against 0.84 from this table).
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
    static constexpr size_t kSample = 16384;  // nodes k-means sees: enough for 64 centres

    // Chooses the entries from `sample` (live slots of `store`); fewer than 2 * kEntries sample
    // nodes leave the table empty (walks then descend the upper levels).
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
