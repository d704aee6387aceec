// Building and keeping current the neighbour-code blocks the fast walk reads
// (graph/neighbour_codes.h, graph/hnsw_fast_walk.cpp).
#include <algorithm>
#include <vector>

#include "common/thread_pool.h"
#include "graph/hnsw.h"

namespace vecsearch {

namespace {

// Candidates examined per free position when a row is topped up.
constexpr size_t kFillCandidates = 3;

}  // namespace

void Hnsw::enable_neighbour_codes(bool on, size_t threads) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (!on) {
        ncodes_.reset();
        links_dirty_ = {};
        return;
    }
    if (ncodes_) return;
    auto encoder = std::make_unique<RabitqEncoder>(params_.dim, params_.metric, params_.seed);
    auto codes = std::make_unique<NeighbourCodes>(std::move(encoder), row0_ - 1);
    codes->reserve(capacity_);
    ncodes_ = std::move(codes);
    links_dirty_.assign(capacity_, 0);
    refresh_neighbour_codes(true, threads);
}

bool Hnsw::has_neighbour_codes() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return ncodes_ != nullptr;
}

// A block holds a whole FastScan batch of neighbours whatever the row's count, so the free
// positions are topped up with the nearest two-hop nodes: more of the graph per block read.
void Hnsw::walk_neighbours(slot_t s, std::vector<slot_t>& out, std::vector<Neighbor>& cands) const {
    const slot_t* row = &links0_[size_t(s) * row0_];
    const size_t count = row[0], width = ncodes_->width();
    out.assign(row + 1, row + 1 + count);
    if (count >= width || count == 0) return;
    const size_t want = (width - count) * kFillCandidates;
    cands.clear();
    auto listed = [&](slot_t v) {
        if (v == s || std::find(out.begin(), out.end(), v) != out.end()) return true;
        for (const Neighbor& c : cands)
            if (c.slot == v) return true;
        return false;
    };
    for (size_t j = 0; j < count && cands.size() < want; ++j) {
        const slot_t* hop = &links0_[size_t(row[1 + j]) * row0_];
        for (size_t i = 1; i <= hop[0] && cands.size() < want; ++i)
            if (!listed(hop[i])) cands.push_back({store_.distance(s, hop[i]), hop[i]});
    }
    const size_t take = std::min(width - count, cands.size());
    std::partial_sort(cands.begin(), cands.begin() + take, cands.end(),
                      [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
    for (size_t i = 0; i < take; ++i) out.push_back(cands[i].slot);
}

void Hnsw::refresh_neighbour_codes(bool all, size_t threads) {
    std::vector<slot_t> dirty;
    for (size_t s = 0; s < count_; ++s)
        if (all || links_dirty_[s]) dirty.push_back(slot_t(s));
    std::fill(links_dirty_.begin(), links_dirty_.end(), 0);
    if (dirty.empty()) return;
    // Each block codes its neighbours' residuals from rotated vectors; a rotation is linear, so
    // every slot involved is rotated once (into a table only as large as those slots).
    std::vector<std::vector<slot_t>> lists(dirty.size());
    ThreadPool::global().parallel_for(dirty.size(), threads, 64, [&](size_t i) {
        static thread_local std::vector<Neighbor> cands;
        walk_neighbours(dirty[i], lists[i], cands);
    });
    std::vector<uint32_t> row_of(count_, kNoSlot);
    std::vector<slot_t> involved;
    auto note = [&](slot_t v) {
        if (row_of[v] == kNoSlot) {
            row_of[v] = uint32_t(involved.size());
            involved.push_back(v);
        }
    };
    for (size_t i = 0; i < dirty.size(); ++i) {
        note(dirty[i]);
        for (slot_t v : lists[i]) note(v);
    }
    const size_t rdim = ncodes_->encoder().rotated_dim();
    std::vector<float> rotated(involved.size() * rdim);
    ThreadPool::global().parallel_for(involved.size(), threads, 64, [&](size_t r) {
        ncodes_->encoder().rotate(store_.row(involved[r]), &rotated[r * rdim]);
    });
    auto rotation = [&](slot_t v) { return &rotated[size_t(row_of[v]) * rdim]; };
    ThreadPool::global().parallel_for(dirty.size(), threads, 64, [&](size_t i) {
        ncodes_->pack(dirty[i], store_.row(dirty[i]), lists[i].data(), lists[i].size(), rotation);
    });
}

}  // namespace vecsearch
