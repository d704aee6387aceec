// Export and restore of the whole graph state (HnswState), for save and load; restore checks
// every count and link before trusting a file.
#include <string>

#include "common/errors.h"
#include "graph/hnsw_detail.h"

namespace vecsearch {


std::vector<uint32_t> Hnsw::flatten_upper() const {
    std::vector<uint32_t> out;
    for (size_t s = 0; s < count_; ++s) {
        size_t n = size_t(levels_[s]) * (params_.M + 1);
        if (n) out.insert(out.end(), upper_[s].get(), upper_[s].get() + n);
    }
    return out;
}

HnswState Hnsw::state_view(const std::vector<uint32_t>& upper) const {
    HnswState st;
    st.count = count_;
    st.entry_point = entry_point_;
    st.max_level = max_level_;
    st.next_auto_id = next_auto_id_;
    st.vectors = store_.data();
    st.ids = ids_.data();
    st.levels = levels_.data();
    st.deleted = deleted_.data();
    st.links0 = links0_.data();
    st.upper = upper.data();
    st.upper_len = upper.size();
    st.entry_slots = entries_.slots().data();
    st.entry_vectors = entries_.vectors().data();
    st.entries = entries_.size();
    st.entries_built_at = entries_built_at_;
    return st;
}

std::unique_ptr<Hnsw> Hnsw::restore(const HnswParams& params, const HnswState& st, bool borrow_vectors) {
    auto fail = [](const std::string& what) { throw FormatError("corrupt index: " + what); };
    auto index = std::make_unique<Hnsw>(params);
    Hnsw& h = *index;
    if (st.count > kMaxSlots) fail("slot count " + std::to_string(st.count) + " is too large");
    size_t n = st.count;
    if (n == 0) {
        if (st.entry_point != kNoSlot || st.max_level != -1) fail("empty index has an entry point");
        h.next_auto_id_ = st.next_auto_id;
        return index;
    }
    if (st.entry_point >= n) fail("entry point " + std::to_string(st.entry_point) + " out of range");

    // Levels and upper rows first: their sizes must add up before any row is read.
    size_t upper_needed = 0;
    for (size_t s = 0; s < n; ++s) {
        if (st.levels[s] < 0 || st.levels[s] > kMaxLevel) fail("slot " + std::to_string(s) + " has a bad level");
        upper_needed += size_t(st.levels[s]) * (params.M + 1);
    }
    if (upper_needed != st.upper_len) fail("upper link section has the wrong length");
    if (st.max_level != st.levels[st.entry_point]) fail("max level differs from the entry point's level");
    for (size_t s = 0; s < n; ++s)
        if (st.levels[s] > st.max_level) fail("a slot is above the top level");

    if (borrow_vectors) {
        h.store_.borrow(st.vectors, n);
        h.links0_.resize(n * h.row0_);
        h.upper_.resize(n);
        h.levels_.resize(n);
        h.ids_.resize(n);
        h.deleted_.resize(n);
        h.capacity_ = n;
    } else {
        h.reserve(n);
        for (size_t s = 0; s < n; ++s) {
            h.store_.set(slot_t(s), st.vectors + s * params.dim);
            if (st.mapped && (s + 1) % (1 << 16) == 0)  // copied rows leave the mapping as we go
                release_mapped(st.vectors + (s + 1 - (1 << 16)) * params.dim, st.vectors + (s + 1) * params.dim);
        }
    }
    h.count_ = n;
    // Every link must name a slot that exists on that level: a walk reads the target's row there.
    auto check_row = [&](const uint32_t* row, size_t cap, size_t s, int level) {
        if (row[0] > cap) fail("slot " + std::to_string(s) + " has too many links");
        for (size_t j = 1; j <= row[0]; ++j) {
            if (row[j] >= n) fail("slot " + std::to_string(s) + " links to a slot out of range");
            if (st.levels[row[j]] < level)
                fail("slot " + std::to_string(s) + " links on level " + std::to_string(level) +
                     " to a slot below that level");
        }
    };
    size_t off = 0;
    h.id_to_slot_.reserve(n);
    constexpr size_t kReleaseEvery = 1 << 16;  // slots
    for (size_t s = 0; s < n; ++s) {
        if (st.mapped && s % kReleaseEvery == 0 && s > 0)
            release_mapped(st.links0 + (s - kReleaseEvery) * h.row0_, st.links0 + s * h.row0_);
        const uint32_t* row0 = st.links0 + s * h.row0_;
        check_row(row0, h.row0_ - 1, s, 0);
        std::copy(row0, row0 + h.row0_, &h.links0_[s * h.row0_]);
        h.levels_[s] = st.levels[s];
        size_t up = size_t(st.levels[s]) * (params.M + 1);
        if (up) {
            h.upper_[s].reset(new slot_t[up]);
            for (int l = 0; l < st.levels[s]; ++l)
                check_row(st.upper + off + size_t(l) * (params.M + 1), params.M, s, l + 1);
            std::copy(st.upper + off, st.upper + off + up, h.upper_[s].get());
            off += up;
        }
        if (st.deleted[s] > 1) fail("deleted flag is neither 0 nor 1");
        h.deleted_[s] = st.deleted[s];
        h.ids_[s] = st.ids[s];
        if (st.deleted[s]) {
            ++h.n_deleted_;
            h.free_slots_.push_back(slot_t(s));
            continue;
        }
        if (st.ids[s] == kMissingId) fail("a live slot has the reserved id");
        if (st.ids[s] >= st.next_auto_id) fail("an id is not below the next automatic id");
        if (!h.id_to_slot_.insert(st.ids[s], slot_t(s))) fail("id " + std::to_string(st.ids[s]) + " appears twice");
    }
    // Reuse the lowest deleted slots first, as before the save.
    std::reverse(h.free_slots_.begin(), h.free_slots_.end());
    h.entry_point_ = st.entry_point;
    h.max_level_ = st.max_level;
    h.next_auto_id_ = st.next_auto_id;
    return index;
}

}  // namespace vecsearch
