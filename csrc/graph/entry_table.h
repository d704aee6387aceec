// Where unfiltered walks start: of a sample of the live nodes, the one nearest each k-means
// centre. A query scores the whole table (64 vectors, one sequential read) and starts at the
// closest entry, instead of descending HNSW's upper levels (a chain of dependent random reads).
// Measured, 1 thread, same process:
// - the neighbour-code walk, whose descent reads float rows: on the generated 200k x 384 set
//   (16 clusters) starting at the top entry point without the descent leaves the beam in one
//   cluster (recall@10 0.33 at ef 64), starting here 0.84;
// - the SQ8 walk: QPS at recall 0.95 +14 % on that set (its recall at equal ef is higher, 0.99
//   +8 %), on debian-minilm within the noise (-8 % to +9 % by ef).
// The table is part of the index's state (saved, restored): a loaded or disk-tier index starts
// where the saved one did, so it answers the same.
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
    // nodes leave the table empty (walks then descend the upper levels).
    void build(const FlatStore& store, const std::vector<slot_t>& sample, uint64_t seed, size_t threads);
    void clear();
    // A table as saved (slots and their vectors, [slots.size(), dim]).
    void assign(std::vector<slot_t> slots, std::vector<float> vectors);
    const std::vector<slot_t>& slots() const { return slots_; }
    const std::vector<float>& vectors() const { return vectors_; }
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
