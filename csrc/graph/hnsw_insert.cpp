// Insertion: where a new slot links into each level (parallel: link rows are read and written
// under their striped lock). With SQ8 codes attached the beam that finds a slot's candidates is
// steered by code estimates (a quarter of the bytes of a float row, one int8 dot product each);
// the candidates are then scored exactly, so neighbour selection and the links it keeps rank by
// true distances as a float build's do.
#include <algorithm>
#include <mutex>

#include "graph/hnsw.h"
#include "graph/hnsw_detail.h"
#include "graph/scorer.h"

namespace vecsearch {

namespace {
// ef_construction's factor for a beam scored on SQ8 codes. On debian-minilm (62,763 x 384) at
// 1.0 the graph answered 0.002 below a float build's recall at ef 48-256; at 1.25 at or above
// it, and still built 1.4x faster (2 threads: 5.6 s against 7.7 s).
constexpr double kCodeBeamWiden = 1.25;
}  // namespace

template <class Scorer>
slot_t Hnsw::greedy_build(const Scorer& score, slot_t ep, float& ep_dist, int from_level, int to_level) const {
    std::vector<slot_t>& buf = scratch().row_copy;
    buf.resize(params_.M);
    for (int level = from_level; level > to_level; --level) {
        bool moved = true;
        while (moved) {
            moved = false;
            size_t cnt;
            {
                std::lock_guard<std::mutex> g(link_lock(ep));
                const slot_t* row = links(ep, level);
                cnt = row[0];
                std::copy(row + 1, row + 1 + cnt, buf.begin());
            }
            for (size_t j = 0; j < cnt; ++j) {
                float d = score(buf[j]);
                if (d < ep_dist) {
                    ep_dist = d;
                    ep = buf[j];
                    moved = true;
                }
            }
        }
    }
    return ep;
}

template <class Scorer>
void Hnsw::search_layer_build(const Scorer& score, slot_t ep, float ep_dist, int level, size_t ef,
                              BeamPool& pool, VisitedList& visited) const {
    Scratch& sc = scratch();
    sc.row_copy.resize(max_links(level));
    sc.fresh.resize(max_links(level));
    sc.fresh_dists.resize(max_links(level));
    slot_t* buf = sc.row_copy.data();
    slot_t* fresh = sc.fresh.data();
    float* dists = sc.fresh_dists.data();
    pool.reset(ef);
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    while (pool.has_next()) {
        slot_t u = pool.pop_next();
        size_t cnt, m = 0;
        {
            std::lock_guard<std::mutex> g(link_lock(u));
            const slot_t* row = links(u, level);
            cnt = row[0];
            std::copy(row + 1, row + 1 + cnt, buf);
        }
        for (size_t j = 0; j < cnt; ++j) {
            slot_t v = buf[j];
            if (visited.test_and_set(v)) continue;
            score.prefetch(v);
            fresh[m++] = v;
        }
        score.score_many(fresh, m, dists);
        for (size_t j = 0; j < m; ++j)
            if (pool.insert(dists[j], fresh[j])) __builtin_prefetch(links(fresh[j], level), 0, 3);
    }
}

// hnswlib's heuristic: keep a candidate only if it is closer to the base than to every
// candidate already kept, which spreads the links over directions.
void Hnsw::select_neighbors(std::vector<Neighbor>& cands, size_t m) const {
    if (cands.size() <= m) return;
    std::vector<Neighbor>& kept = scratch().kept;
    kept.clear();
    for (const Neighbor& c : cands) {
        if (kept.size() >= m) break;
        bool good = true;
        for (const Neighbor& r : kept) {
            if (store_.distance(c.slot, r.slot) < c.dist) {
                good = false;
                break;
            }
        }
        if (good) kept.push_back(c);
    }
    cands.swap(kept);
}

// ACORN-gamma compression of a level-0 candidate list sorted by distance: the first M_beta stay;
// past them a candidate is dropped when a kept tail neighbour already links to it (a search
// reaches it in two hops through that neighbour), and the list is cut to the row capacity.
void Hnsw::compress_acorn(std::vector<Neighbor>& cands, VisitedList& linked) const {
    const size_t m_beta = params_.m_beta(), cap = row0_ - 1;
    if (cands.size() <= m_beta) return;
    std::vector<Neighbor>& kept = scratch().kept;
    std::vector<slot_t>& row = scratch().row_copy;
    kept.assign(cands.begin(), cands.begin() + m_beta);
    for (size_t i = m_beta; i < cands.size() && kept.size() < cap; ++i) {
        const Neighbor& c = cands[i];
        if (linked.test_and_set(c.slot)) continue;  // in a kept tail neighbour's list
        kept.push_back(c);
        size_t cnt;
        {
            std::lock_guard<std::mutex> g(link_lock(c.slot));
            const slot_t* r = links(c.slot, 0);
            cnt = r[0];
            row.assign(r + 1, r + 1 + cnt);
        }
        for (slot_t v : row) linked.test_and_set(v);
    }
    cands.swap(kept);
}

void Hnsw::connect(slot_t slot, int level, const std::vector<Neighbor>& selected) {
    size_t cap = max_links(level);
    {
        std::lock_guard<std::mutex> g(link_lock(slot));
        slot_t* row = links_mut(slot, level);
        size_t cnt = std::min(selected.size(), cap);
        for (size_t j = 0; j < cnt; ++j) row[1 + j] = selected[j].slot;
        row[0] = slot_t(cnt);
        if (ncodes_ && level == 0) links_dirty_[slot] = 1;
    }
    std::vector<Neighbor>& cands = scratch().shrink;
    for (const Neighbor& nb : selected) {
        slot_t other = nb.slot;
        std::lock_guard<std::mutex> g(link_lock(other));
        slot_t* row = links_mut(other, level);
        size_t cnt = row[0];
        if (std::find(row + 1, row + 1 + cnt, slot) != row + 1 + cnt) continue;
        if (ncodes_ && level == 0) links_dirty_[other] = 1;  // under the row's lock
        if (cnt < cap) {
            row[1 + cnt] = slot;
            row[0] = slot_t(cnt + 1);
            continue;
        }
        cands.clear();
        cands.push_back({nb.dist, slot});
        for (size_t j = 0; j < cnt; ++j) cands.push_back({store_.distance(other, row[1 + j]), row[1 + j]});
        std::sort(cands.begin(), cands.end(), [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
        if (level == 0 && params_.acorn_gamma > 1) {
            // ACORN-gamma: the M_beta nearest stay; the rest of the row is refilled by the HNSW
            // rule, whose diversity keeps distant nodes reachable through back-links.
            size_t head = std::min(params_.m_beta(), cap);
            std::vector<Neighbor> tail(cands.begin() + head, cands.end());
            select_neighbors(tail, cap - head);
            cands.resize(head);
            cands.insert(cands.end(), tail.begin(), tail.end());
        } else {
            select_neighbors(cands, cap);
        }
        for (size_t j = 0; j < cands.size(); ++j) row[1 + j] = cands[j].slot;
        row[0] = slot_t(cands.size());
    }
}

void Hnsw::insert(slot_t slot, size_t visited_size) {
    const float* q = store_.row(slot);
    if (!sq8_) {
        insert_with(ExactScorer(store_, q), slot, visited_size);
        return;
    }
    insert_with(int8_scorer(q, -1.0f), slot, visited_size);  // the beam's depth is not re-ranked
}

template <class Scorer>
void Hnsw::insert_with(const Scorer& score, slot_t slot, size_t visited_size) {
    int level = levels_[slot];
    std::unique_lock<std::mutex> entry_lock(entry_mutex_);
    int top = max_level_;
    slot_t ep = entry_point_;
    if (ep == kNoSlot) {
        entry_point_ = slot;
        max_level_ = level;
        return;
    }
    // Only an insert that raises the top level keeps the entry lock (hnswlib does the same).
    if (level <= top) entry_lock.unlock();

    float ep_dist = score(ep);
    if (level < top) ep = greedy_build(score, ep, ep_dist, top, level);

    Scratch& sc = scratch();
    const bool acorn = params_.acorn_gamma > 1;
    for (int l = std::min(level, top); l >= 0; --l) {
        sc.visited.reset(visited_size);
        // ACORN-gamma's level 0 wants M * gamma candidates, so its beam is at least that wide.
        // A beam steered by code estimates is kept wider (kCodeBeamWiden) for the neighbours
        // the codes' error would push out of it.
        const size_t efc = Scorer::kApproximate ? size_t(double(params_.ef_construction) * kCodeBeamWiden)
                                                : params_.ef_construction;
        size_t ef = (acorn && l == 0) ? std::max(efc, params_.M * params_.acorn_gamma) : efc;
        search_layer_build(score, ep, ep_dist, l, ef, sc.pool, sc.visited);
        std::vector<Neighbor>& cands = sc.cands;
        cands.clear();
        for (size_t i = 0; i < sc.pool.size(); ++i)
            if (sc.pool.slot_at(i) != slot) cands.push_back({sc.pool.dist_at(i), sc.pool.slot_at(i)});
        if (!cands.empty()) {  // the next level's walk starts here, in the scorer's terms
            ep = cands[0].slot;
            ep_dist = cands[0].dist;
        }
        if constexpr (Scorer::kApproximate) {
            for (Neighbor& c : cands) c.dist = score.exact(c.slot);
            std::sort(cands.begin(), cands.end(), [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
        }
        if (acorn && l == 0) {
            if (cands.size() > params_.M * params_.acorn_gamma) cands.resize(params_.M * params_.acorn_gamma);
            sc.visited.reset(visited_size);
            compress_acorn(cands, sc.visited);
        } else {
            select_neighbors(cands, params_.M);
        }
        connect(slot, l, cands);
    }
    if (level > top) {
        entry_point_ = slot;
        max_level_ = level;
    }
}

}  // namespace vecsearch
