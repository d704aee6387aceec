// Filter bitmaps over slots: from id lists, compiled predicates and filter programs. Each
// reads the slot layout under the shared lock and reports the mutation epoch it is valid for.
#include <algorithm>

#include "common/thread_pool.h"
#include "graph/hnsw.h"

namespace vecsearch {

bool Hnsw::ids_to_bitmap(const external_id* ids, size_t n, uint64_t* words, size_t n_words, uint64_t* epoch) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (n_words * 64 < count_) return false;  // the index grew since the caller sized it
    std::fill(words, words + n_words, 0);
    for (size_t i = 0; i < n; ++i) {
        slot_t slot = id_to_slot_.find(ids[i]);
        if (slot != kNoSlot) words[slot >> 6] |= uint64_t{1} << (slot & 63);
    }
    *epoch = epoch_;
    return true;
}

bool Hnsw::predicate_to_bitmap(id_predicate predicate, uint64_t* words, size_t n_words, uint64_t* epoch) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (n_words * 64 < count_) return false;
    std::fill(words, words + n_words, 0);
    for (size_t s = 0; s < count_; ++s)
        if (!deleted_[s] && predicate(ids_[s])) words[s >> 6] |= uint64_t{1} << (s & 63);
    *epoch = epoch_;
    return true;
}

std::shared_ptr<const std::vector<uint64_t>> Hnsw::live_bitmap(size_t n_words) const {
    std::lock_guard<std::mutex> guard(live_mutex_);
    if (!live_words_ || live_epoch_ != epoch_ || live_count_ != count_ || live_words_->size() != n_words) {
        auto live = std::make_shared<std::vector<uint64_t>>(n_words, 0);
        for (size_t s = 0; s < count_; ++s)
            if (!deleted_[s]) (*live)[s >> 6] |= uint64_t{1} << (s & 63);
        live_words_ = std::move(live);
        live_epoch_ = epoch_;
        live_count_ = count_;
    }
    return live_words_;
}

bool Hnsw::slots_of(const external_id* ids, size_t n, slot_t* out) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    bool all_found = true;
    for (size_t i = 0; i < n; ++i) {
        out[i] = id_to_slot_.find(ids[i]);
        all_found &= out[i] != kNoSlot;
    }
    return all_found;
}

bool Hnsw::evaluate_filters(const FilterProgram* programs, size_t n, const slot_t* row_slots, size_t n_rows,
                            size_t threads, uint64_t* words, size_t n_words, size_t* matches,
                            uint64_t* epoch) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (n_words * 64 < count_) return false;
    const std::shared_ptr<const std::vector<uint64_t>> live = live_bitmap(n_words);
    const RowSlotMap map{row_slots, n_rows, live->data(), count_};
    LeafCache cache;
    if (n > 1) cache.build(programs, n, map, n_words);
    ThreadPool::global().parallel_for(n, threads, 1, [&](size_t i) {
        matches[i] = evaluate_program(programs[i], map, words + i * n_words, n_words, &cache);
    });
    *epoch = epoch_;
    return true;
}

}  // namespace vecsearch
