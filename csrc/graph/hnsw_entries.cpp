// The entry table's upkeep (graph/entry_table.h): chosen as the index grows, restored from a
// save (exported with the rest of the state: Hnsw::state_view).
#include <string>

#include "common/errors.h"
#include "graph/hnsw.h"

namespace vecsearch {

void Hnsw::choose_entries(bool force, size_t threads) {
    const size_t live = count_ - n_deleted_;
    if (!force && live < 2 * entries_built_at_ && 2 * live > entries_built_at_) return;
    entries_built_at_ = live;
    if (reader_) return;  // the vectors are on disk: keep the table the index was saved with
    std::vector<slot_t> sample;
    const size_t step = std::max<size_t>(1, live / EntryTable::kSample);
    for (size_t s = 0, seen = 0; s < count_; ++s)
        if (!deleted_[s] && seen++ % step == 0) sample.push_back(slot_t(s));
    entries_.build(store_, sample, params_.seed, threads);
}

void Hnsw::set_entry_table(std::vector<slot_t> slots, std::vector<float> vectors, size_t built_at) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (vectors.size() != slots.size() * params_.dim)
        throw FormatError("corrupt index: the entry table's vectors do not match its slots");
    for (slot_t s : slots)
        if (s >= count_) throw FormatError("corrupt index: entry slot " + std::to_string(s) + " out of range");
    entries_.assign(std::move(slots), std::move(vectors));
    entries_built_at_ = built_at;
}

}  // namespace vecsearch
