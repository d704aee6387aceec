// Filtered queries: the exact scan (blocked across queries that share a filter), ACORN-1/gamma
// walks, post-filter walks, and the per-query choice among them with its fallback to the scan.
#include <unordered_map>

#include "graph/hnsw_detail.h"
#include "simd/cpu.h"

namespace vecsearch {

uint64_t Hnsw::epoch() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return epoch_;
}


// Share of the level-0 two-hop neighbourhood of `u` (with repeats) that passes the filter.
double Hnsw::local_selectivity(slot_t u, const SlotBitmap& bitmap) const {
    size_t seen = 0, passed = 0;
    auto pass = [&](slot_t s) { return bitmap.test(s) && !deleted_[s]; };
    const slot_t* row = &links0_[size_t(u) * row0_];
    for (size_t j = 1; j <= row[0]; ++j) {
        const slot_t* row2 = &links0_[size_t(row[j]) * row0_];
        seen += 1 + row2[0];
        passed += pass(row[j]);
        for (size_t i = 1; i <= row2[0]; ++i) passed += pass(row2[i]);
    }
    return seen == 0 ? 1.0 : double(passed) / double(seen);
}

// ACORN-1 (Patel et al. 2024) on the level-0 graph: the beam holds matching nodes only. A node's
// filtered neighbourhood is its matching neighbours and, when those are fewer than M, the
// matching neighbours of its non-matching neighbours (two hops, conditional as in Weaviate), so
// the walk crosses regions where the filter fails without paying two hops where it mostly holds.
// Returns how many matching nodes the beam holds.
template <class Scorer>
size_t Hnsw::walk_acorn(const Scorer& score, slot_t ep, const std::vector<Neighbor>& seeds, size_t ef,
                        const SlotBitmap& bitmap) const {
    Scratch& sc = scratch();
    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    pool.reset(ef);
    visited.reset(count_);
    // Filter bitmaps never hold deleted slots (rows of deleted ids have no slot, and a bitmap
    // older than the last add or delete is refused by its epoch), so one test suffices.
    auto pass = [&](slot_t s) { return bitmap.test(s); };
    // The filtered list is truncated to 2M, the HNSW level-0 degree, as ACORN does. Two-hop
    // expansion (only while fewer than M neighbours match) goes through non-matching neighbours
    // on an HNSW graph (ACORN-1) and through the compressed tail of an ACORN-gamma row.
    const size_t cap = 2 * params_.M;
    const bool gamma = params_.acorn_gamma > 1;
    const size_t two_hop_from = gamma ? params_.m_beta() + 1 : 1;
    sc.fresh.resize(cap);
    sc.fresh_dists.resize(cap);
    slot_t* fresh = sc.fresh.data();
    float* dists = sc.fresh_dists.data();
    auto expand = [&](slot_t u, size_t& m) {
        const slot_t* row = &links0_[size_t(u) * row0_];
        size_t cnt = row[0];
        for (size_t j = 1; j <= cnt && m < cap; ++j) {
            slot_t v = row[j];
            if (pass(v) && !visited.test_and_set(v)) {
                score.prefetch(v);
                fresh[m++] = v;
            }
        }
        if (m >= params_.M) return;
        // The two-hop rows are independent loads: request them all before reading the first.
        for (size_t j = two_hop_from; j <= cnt; ++j) {
            const char* row2 = reinterpret_cast<const char*>(&links0_[size_t(row[j]) * row0_]);
            __builtin_prefetch(row2, 0, 3);
            __builtin_prefetch(row2 + 64, 0, 3);
        }
        for (size_t j = two_hop_from; j <= cnt && m < cap; ++j) {
            slot_t v = row[j];
            if (!gamma && pass(v)) continue;  // a matching neighbour is expanded through the beam itself
            const slot_t* row2 = &links0_[size_t(v) * row0_];
            size_t cnt2 = row2[0];
            for (size_t i = 1; i <= cnt2 && m < cap; ++i) {
                slot_t w = row2[i];
                if (pass(w) && !visited.test_and_set(w)) {
                    score.prefetch(w);
                    fresh[m++] = w;
                }
            }
        }
    };
    // Seeds: matching nodes met on the upper levels (spread over the data, so a filter that
    // fails near the query still has starts on the closest matching side), the entry point if
    // it matches, and the matching nodes within its two hops.
    for (const Neighbor& s : seeds)
        if (!visited.test_and_set(s.slot)) pool.insert(s.dist, s.slot);
    size_t m = 0;
    if (pass(ep) && !visited.test_and_set(ep)) fresh[m++] = ep;
    expand(ep, m);
    score.score_many(fresh, m, dists);  // a node's filtered neighbourhood in one kernel call
    for (size_t j = 0; j < m; ++j) pool.insert(dists[j], fresh[j]);
    while (pool.has_next()) {
        slot_t u = pool.pop_next();
        m = 0;
        expand(u, m);
        score.score_many(fresh, m, dists);
        for (size_t j = 0; j < m; ++j)
            if (pool.insert(dists[j], fresh[j])) __builtin_prefetch(&links0_[size_t(fresh[j]) * row0_], 0, 3);
    }
    return pool.size();
}

size_t Hnsw::scan_filtered(const float* q, size_t k, const SlotBitmap& bitmap, external_id* out_ids,
                           float* out_dists) const {
    Scratch& sc = scratch();
    TopK& top = sc.top;
    top.reset(k);
    // Matching slots first, then their distances with the rows a few ahead already requested:
    // a scan of few matches reads scattered rows, and their loads must overlap.
    std::vector<slot_t>& slots = sc.row_copy;
    slots.clear();
    bitmap.for_each([&](slot_t s) {
        if (s < count_ && !deleted_[s]) slots.push_back(s);
    });
    constexpr size_t kAhead = 4;
    for (size_t j = 0; j < std::min(kAhead, slots.size()); ++j) prefetch_row(store_.row(slots[j]), params_.dim);
    for (size_t j = 0; j < slots.size(); ++j) {
        if (j + kAhead < slots.size()) prefetch_row(store_.row(slots[j + kAhead]), params_.dim);
        top.push(store_.distance(q, slots[j]), slots[j]);
    }
    const std::vector<Neighbor>& best = top.sorted();
    return write_answer(best.data(), best.size(), out_ids, out_dists);
}

// With the vectors on disk, the scan scores the matching slots' codes in RAM and re-ranks the
// best max(ef, rerank) of them (rerank_exact: with a refine code, only those whose lower bound
// can enter the top k are read), so no row is read for a slot that fails the filter, and few
// for those that pass.
template <class Scorer>
size_t Hnsw::scan_codes_filtered(const Scorer& score, size_t k, size_t ef, size_t rerank, const SlotBitmap& bitmap,
                                 external_id* out_ids, float* out_dists) const {
    TopK& top = scratch().top;
    top.reset(std::max({k, ef, rerank}));
    bitmap.for_each([&](slot_t s) {
        if (s < count_ && !deleted_[s]) top.push(score(s), s);
    });
    const std::vector<Neighbor>& best = top.sorted();
    return finish_candidates(score, best.data(), best.size(), k, rerank, out_ids, out_dists);
}

// Draws up to kMissProbes random matching vectors (seeded by the query, so answers stay
// deterministic) and reports whether any is closer than `kth`, the worst distance a walk
// returned: then the walk missed a region of matches, as happens when the filter holds far from
// the query (anti-correlated) and the walk settled on the wrong ones.
// `exact` tells whether found_dists are exact distances or the scorer's estimates. With the
// vectors on disk a probe is not read: it is judged by the refine code's estimate (or the walk
// code's), so the check costs no I/O.
template <class Scorer>
bool Hnsw::walk_missed_matches(const Scorer& score, bool exact, const SlotBitmap& bitmap,
                               const external_id* found_ids, const float* found_dists, size_t found) const {
    const float* q = score.query();
    const float kth = found_dists[found - 1];
    constexpr size_t kMissProbes = 32, kMaxDraws = 512;
    uint64_t state = 0x9E3779B97F4A7C15ull;
    std::memcpy(&state, q, std::min(sizeof(state), params_.dim * sizeof(float)));
    // A probe among the answer is no miss; one outside it and closer than the worst is.
    slot_t probes[kMissProbes];
    size_t drawn = 0, outside = 0;
    for (size_t draw = 0; draw < kMaxDraws && drawn < kMissProbes; ++draw) {
        state = splitmix64(state);
        slot_t s = slot_t(state % count_);
        if (!bitmap.test(s) || deleted_[s]) continue;
        ++drawn;
        if (std::find(found_ids, found_ids + found, ids_[s]) == found_ids + found) probes[outside++] = s;
    }
    if (exact && reader_ && Scorer::kApproximate && refine_) {
        float est[kMissProbes], lower[kMissProbes];
        refine_->bound(*codec_, codes_.data(), q, probes, outside, est, lower);
        return std::any_of(est, est + outside, [&](float d) { return d < kth; });
    }
    const bool read = exact && !(reader_ && Scorer::kApproximate);
    return std::any_of(probes, probes + outside, [&](slot_t s) { return (read ? score.exact(s) : score(s)) < kth; });
}

template <class Scorer>
Answered Hnsw::search_one_filtered(const Scorer& score, size_t k, size_t ef, size_t rerank, const SlotBitmap& bitmap,
                                   size_t matches, FilterPlan plan, external_id* out_ids, float* out_dists) const {
    Scratch& sc = scratch();
    const float* q = score.query();
    const size_t want = std::min(k, matches);
    size_t found = 0;
    bool failed = false;  // the walk's answer is not to be trusted: the exact scan answers
    const bool exact = !Scorer::kApproximate || rerank > 0;  // the walk's distances are exact
    Answered answered = Answered(plan);
    plan_counts_[size_t(plan)].fetch_add(1, std::memory_order_relaxed);
    if (plan != FilterPlan::scan && want > 0) {
        float ep_dist;
        std::vector<Neighbor>& seeds = sc.cands;
        slot_t ep_acorn = kNoSlot;
        if (plan == FilterPlan::acorn) {
            seeds.clear();
            ep_acorn = greedy_query(score, ep_dist, [&](slot_t s, float d) {
                if (bitmap.test(s) && !deleted_[s]) seeds.push_back(Neighbor{d, s});
            });
            if (seeds.size() > kAcornUpperSeeds) {
                std::partial_sort(seeds.begin(), seeds.begin() + kAcornUpperSeeds, seeds.end(),
                                  [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
                seeds.resize(kAcornUpperSeeds);
            }
            // A filter that holds far less often around the query than overall (matches far
            // from it) leaves the walk stranded on whatever matching region it reaches first;
            // such queries are answered exactly instead.
            double selectivity = double(matches) / double(std::max<size_t>(1, count_ - n_deleted_));
            if (local_selectivity(ep_acorn, bitmap) < kAntiCorrelated * selectivity) {
                plan = FilterPlan::scan;
                answered = Answered::acorn_rerouted;
                plan_counts_[kRerouted].fetch_add(1, std::memory_order_relaxed);
            }
        }
        // A code walk whose re-rank reached the end of a full pool with candidates still within
        // the codes' error of the k-th (matches crowding at one distance, as an anti-correlated
        // filter leaves them) cannot tell which matches it lacks: the exact scan answers it, as
        // it answers a walk that met fewer matches than exist or provably missed closer ones.
        auto settled = [&](bool open, size_t pooled, size_t depth) {
            return found >= want && !(open && pooled >= depth) &&
                   !(found > 0 && walk_missed_matches(score, exact, bitmap, out_ids, out_dists, found));
        };
        bool open = false;
        // Where the filter leaves many matches, a walk that failed at this depth (its pool
        // crowded within the codes' error, or a closer match missed) most often succeeds
        // deeper, and the scan would read many times the rows that walk scores: it is tried
        // first.
        const size_t deepest = matches >= kRetryMatchesPerEf * ef ? ef * kRetryDepth : ef;
        const slot_t ep_post = plan == FilterPlan::post ? greedy_query(score, ep_dist) : kNoSlot;
        auto pass = [&](slot_t s) { return bitmap.test(s) && !deleted_[s]; };
        // One walk of the plan at `depth`: its candidates (a pointer into the scratch) and count.
        auto walk = [&](size_t depth) -> std::pair<const Neighbor*, size_t> {
            if (plan == FilterPlan::acorn) {
                const size_t held = walk_acorn(score, ep_acorn, seeds, depth, bitmap);
                sc.pool.copy_to(sc.kept);
                return {sc.kept.data(), held};
            }
            walk_collect(score, ep_post, ep_dist, depth, pass);
            const std::vector<Neighbor>& best = sc.top.sorted();
            return {best.data(), best.size()};
        };
        // (A rerouted ACORN query is a scan now: it does not walk.)
        for (size_t depth = ef, ceiling = rerank; plan != FilterPlan::scan && depth <= deepest;
             depth *= kRetryDepth, ceiling *= kRetryDepth) {
            const auto [cands, held] = walk(depth);
            found = finish_candidates(score, cands, held, k, ceiling, out_ids, out_dists, &open);
            failed = !settled(open, held, depth);
            if (!failed) break;
        }
    }
    auto scan = [&] {
        if (reader_ && Scorer::kApproximate) return scan_codes_filtered(score, k, ef, rerank, bitmap, out_ids, out_dists);
        return scan_filtered(q, k, bitmap, out_ids, out_dists);
    };
    if (plan == FilterPlan::scan) {
        if (want > 0) found = scan();
    } else if (failed) {
        plan_counts_[plan == FilterPlan::acorn ? kAcornFallback : kPostFallback].fetch_add(1, std::memory_order_relaxed);
        answered = plan == FilterPlan::acorn ? Answered::acorn_fallback : Answered::post_fallback;
        found = scan();
    }
    pad_missing(out_ids, out_dists, found, k);
    return answered;
}

// A whole row into L2 (not L1: the scan's query blocks stream through L1 meanwhile, and would
// evict it before it is read). Requested in one burst per row group: measured, that beats
// spreading the requests over the group's kernel calls, and no prefetch at all.
inline void prefetch_row_l2(const float* row, size_t dim) {
    const char* c = reinterpret_cast<const char*>(row);
    for (size_t off = 0; off < dim * sizeof(float); off += 64) __builtin_prefetch(c + off, 0, 2);
}

// Four lanes of a GCC/Clang vector (any target): the admission test below compares four
// queries per instruction, where scalar compares and branches cost a tenth of a scan.
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

inline f32x4 load4(const float* p) {
    f32x4 v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

// Rows the blocked scan takes per step: two dot_block4x2 calls (an eight-rows kernel with 16
// accumulators measured no faster: the scan is bound by the FMA unit either way).
constexpr size_t kScanRows = 2 * kBlockRows;

// Offers one kernel output (kScanRows rows x kBlockQueries queries, row r's values at
// d + (r / 4) * 128 + (r % 4) * 16) to the tops of one query group. Ranking value: norm[r] -
// scale * dot. Padding lanes carry a -inf bound, so they never pass. Almost every row fails
// every lane's bound once the tops are full: one vector compare of the whole row skips it.
inline void admit_rows(const float* d, const float* norms, float scale, size_t nr, const slot_t* slots,
                       float* bound, TopK* tops) {
    static_assert(kBlockQueries % 4 == 0, "the admission test compares four lanes at a time");
    for (size_t r = 0; r < nr; ++r) {
        const float* dr = d + (r / kBlockRows) * 2 * kBlockRows * kBlockQueries + (r % kBlockRows) * kBlockQueries;
        i32x4 hit = {0, 0, 0, 0};
        for (size_t b = 0; b < kBlockQueries; b += 4) hit |= (norms[r] - scale * load4(dr + b)) < load4(bound + b);
        if (!(hit[0] | hit[1] | hit[2] | hit[3])) continue;
        for (size_t b = 0; b < kBlockQueries; ++b) {
            const float v = norms[r] - scale * dr[b];
            if (!(v < bound[b])) continue;
            tops[b].push(v, slots[r]);
            if (tops[b].full()) bound[b] = tops[b].worst();
        }
    }
}

// Exact answers of queries that share one filter, over its matching slots: each matching vector
// is read from memory once for the whole block and scored against all its queries while in L1.
void Hnsw::scan_block(const float* queries, const uint32_t* block, size_t nb, size_t k, const slot_t* slots,
                      size_t n_slots, external_id* out_ids, float* out_dists) const {
    // The kernels below score all kBlockQueries lanes whatever the block's width: under half of
    // them used, one distance per query and row costs less (measured: 5 queries sharing 200
    // matches of 384-d rows, 10.8 us per query blocked).
    if (nb < kBlockQueries / 2) return scan_block_rows(queries, block, nb, k, slots, n_slots, out_ids, out_dists);
    Scratch& sc = scratch();
    const size_t dim = params_.dim;
    // The block's queries in groups of kBlockQueries, each group transposed (coordinate-major,
    // unused lanes zero), so one kernel call scores four matching rows against two groups.
    const size_t groups = (nb + kBlockQueries - 1) / kBlockQueries, group_floats = dim * kBlockQueries;
    sc.block_queries.assign(groups * group_floats, 0.0f);
    for (size_t b = 0; b < nb; ++b) {
        const float* q = queries + size_t(block[b]) * dim;
        float* group = sc.block_queries.data() + (b / kBlockQueries) * group_floats;
        for (size_t i = 0; i < dim; ++i) group[i * kBlockQueries + b % kBlockQueries] = q[i];
    }
    sc.block_tops.resize(groups * kBlockQueries);
    for (size_t b = 0; b < nb; ++b) sc.block_tops[b].reset(k);
    // Each query's admission bound (its k-th best so far, +inf until it has k; -inf for the
    // padding lanes of the last group).
    sc.block_bounds.assign(groups * kBlockQueries, -std::numeric_limits<float>::infinity());
    std::fill(sc.block_bounds.begin(), sc.block_bounds.begin() + nb, std::numeric_limits<float>::infinity());
    // Rows are ranked by a value monotone in the distance: |x|^2 - 2 q.x for l2 (|q|^2 is the
    // same for every row), -q.x otherwise. The answers' exact distances are computed at the end.
    const bool l2 = params_.metric == Metric::l2;
    const float scale = l2 ? 2.0f : 1.0f;
    const KernelTable& kernels = active_kernels();
    const float* qts = sc.block_queries.data();
    float* bound = sc.block_bounds.data();
    TopK* tops = sc.block_tops.data();
    alignas(64) float dots[2 * kScanRows * kBlockQueries];
    const float* rows[kScanRows];
    float norms[kScanRows];
    for (size_t j = 0; j < n_slots; j += kScanRows) {
        const size_t nr = std::min(kScanRows, n_slots - j);
        for (size_t r = 0; r < kScanRows; ++r) {
            slot_t s = slots[j + std::min(r, nr - 1)];  // a short last group repeats its last row
            rows[r] = store_.row(s);
            // The next group's rows are read after this group's kernel calls: time enough.
            if (j + kScanRows + r < n_slots) prefetch_row_l2(store_.row(slots[j + kScanRows + r]), dim);
        }
        for (size_t r = 0; r < nr; ++r) norms[r] = l2 ? kernels.dot(rows[r], rows[r], dim) : 0.0f;
        for (size_t g = 0; g < groups; g += 2) {
            const float* qt = qts + g * group_floats;
            const bool pair = g + 1 < groups;
            if (pair) {
                kernels.dot_block4x2(qt, group_floats, rows, dim, dots);
                kernels.dot_block4x2(qt, group_floats, rows + kBlockRows, dim, dots + 2 * kBlockRows * kBlockQueries);
            } else {  // an odd last group: the four-rows kernel on each half, in the same layout
                kernels.dot_block4(qt, rows, dim, dots);
                kernels.dot_block4(qt, rows + kBlockRows, dim, dots + 2 * kBlockRows * kBlockQueries);
            }
            for (size_t h = 0; h < (pair ? 2u : 1u); ++h) {
                const size_t first = (g + h) * kBlockQueries;
                admit_rows(dots + h * kBlockRows * kBlockQueries, norms, scale, nr, slots + j, bound + first,
                           tops + first);
            }
        }
    }
    for (size_t b = 0; b < nb; ++b) {
        const float* q = queries + size_t(block[b]) * dim;
        std::vector<Neighbor>& best = sc.reranked;
        best = sc.block_tops[b].sorted();
        for (Neighbor& n : best) n.dist = store_.distance(q, n.slot);
        std::sort(best.begin(), best.end(), [](const Neighbor& x, const Neighbor& y) { return x.dist < y.dist; });
        external_id* ids = out_ids + size_t(block[b]) * k;
        float* out = out_dists + size_t(block[b]) * k;
        pad_missing(ids, out, write_answer(best.data(), std::min(k, best.size()), ids, out), k);
    }
}

void Hnsw::scan_block_rows(const float* queries, const uint32_t* block, size_t nb, size_t k, const slot_t* slots,
                           size_t n_slots, external_id* out_ids, float* out_dists) const {
    Scratch& sc = scratch();
    const size_t dim = params_.dim;
    sc.block_tops.resize(nb);
    for (size_t b = 0; b < nb; ++b) sc.block_tops[b].reset(k);
    constexpr size_t kAhead = 4;  // rows requested ahead, as scan_filtered does
    for (size_t j = 0; j < std::min(kAhead, n_slots); ++j) prefetch_row(store_.row(slots[j]), dim);
    for (size_t j = 0; j < n_slots; ++j) {
        if (j + kAhead < n_slots) prefetch_row(store_.row(slots[j + kAhead]), dim);
        for (size_t b = 0; b < nb; ++b)
            sc.block_tops[b].push(store_.distance(queries + size_t(block[b]) * dim, slots[j]), slots[j]);
    }
    for (size_t b = 0; b < nb; ++b) {
        const std::vector<Neighbor>& best = sc.block_tops[b].sorted();
        external_id* ids = out_ids + size_t(block[b]) * k;
        float* out = out_dists + size_t(block[b]) * k;
        pad_missing(ids, out, write_answer(best.data(), std::min(k, best.size()), ids, out), k);
    }
}

void Hnsw::search_filtered(const float* queries, size_t nq, size_t k, size_t ef, size_t rerank, size_t threads,
                           const SlotBitmap* bitmaps, const size_t* matches, const uint32_t* filter_of,
                           const FilterPlan* plans, uint64_t epoch, external_id* out_ids, float* out_dists,
                           Answered* out_answered) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (epoch != epoch_) throw StaleFilterError("the index changed after the filter was built");
    std::fill(out_answered, out_answered + nq, Answered::scan);  // what blocked scans leave
    if (count_ == n_deleted_) {
        pad_missing(out_ids, out_dists, 0, nq * k);
        return;
    }
    const bool codes = codec_ != nullptr;
    ef = std::max<size_t>(1, std::min(std::max({ef, k, codes ? rerank : 0}), count_));
    // Scan-plan queries sharing a filter are answered in blocks, codes-plan queries always (a
    // block of one or more); the rest one by one.
    std::unordered_map<uint32_t, std::vector<uint32_t>> scans, code_scans;
    for (size_t i = 0; i < nq; ++i) {
        if (plans[i] == FilterPlan::scan) scans[filter_of[i]].push_back(uint32_t(i));
        if (plans[i] == FilterPlan::codes) code_scans[filter_of[i]].push_back(uint32_t(i));
    }
    if (!code_scans.empty() && !sq8_) throw InvalidArgument("the codes plan needs SQ8 codes (storage 'sq8' or 'auto')");
    struct Task {
        uint32_t filter;     // blocked scan of this filter's matching slots ...
        const uint32_t* block;  // ... for these queries
        size_t nb;
        bool codes;          // of their SQ8 codes, or of their float rows
        bool shared;         // by at least kScanBlockMin queries (scan_codes_block)
    };
    std::vector<Task> tasks;
    std::unordered_map<uint32_t, std::vector<slot_t>> slots;
    auto slots_of = [&](uint32_t f) {
        auto [it, fresh] = slots.try_emplace(f);
        if (fresh) {
            it->second.reserve(matches[f]);
            bitmaps[f].for_each([&](slot_t s) {
                if (s < count_ && !deleted_[s]) it->second.push_back(s);
            });
        }
    };
    std::vector<uint8_t> blocked(nq, 0);
    for (auto& [f, group] : scans) {
        // Blocked scans score the float rows: not with them on disk and codes to walk.
        if (group.size() < kScanBlockMin || (reader_ && codes)) continue;
        slots_of(f);
        const size_t size = scan_block_size(group.size(), params_.dim, threads);
        for (size_t b = 0; b < group.size(); b += size)
            tasks.push_back(Task{f, group.data() + b, std::min(size, group.size() - b), false, true});
        for (uint32_t i : group) blocked[i] = 1;
    }
    size_t n_codes = 0;
    for (auto& [f, group] : code_scans) {  // scan_codes_block writes their Answered codes
        slots_of(f);
        const size_t size = scan_block_size(group.size(), params_.dim, threads);
        for (size_t b = 0; b < group.size(); b += size)
            tasks.push_back(Task{f, group.data() + b, std::min(size, group.size() - b), true,
                                 group.size() >= kScanBlockMin});
        for (uint32_t i : group) blocked[i] = 1;
        n_codes += group.size();
    }
    std::vector<uint32_t> singles;
    for (size_t i = 0; i < nq; ++i)
        if (!blocked[i]) singles.push_back(uint32_t(i));
    plan_counts_[kScanCount].fetch_add(nq - singles.size() - n_codes, std::memory_order_relaxed);
    plan_counts_[kCodesCount].fetch_add(n_codes, std::memory_order_relaxed);
    ThreadPool::global().parallel_for(tasks.size() + singles.size(), threads, 1, [&](size_t t) {
        if (t < tasks.size()) {
            const Task& task = tasks[t];
            const std::vector<slot_t>& list = slots.at(task.filter);
            if (task.codes)
                scan_codes_block(queries, task.block, task.nb, k, rerank, list.data(), list.size(), task.shared, out_ids,
                                 out_dists, out_answered);
            else
                scan_block(queries, task.block, task.nb, k, list.data(), list.size(), out_ids, out_dists);
            return;
        }
        size_t i = singles[t - tasks.size()];
        uint32_t f = filter_of[i];
        // A scan in RAM reads the float rows alone: no query form for the codes to prepare.
        const bool walk_codes = codes && (plans[i] != FilterPlan::scan || reader_);
        with_scorer(queries + i * params_.dim, [&](const auto& score) {
            out_answered[i] = search_one_filtered(score, k, ef, rerank, bitmaps[f], matches[f], plans[i],
                                                  out_ids + i * k, out_dists + i * k);
        }, walk_codes, rerank > 0);
    });
}

}  // namespace vecsearch
