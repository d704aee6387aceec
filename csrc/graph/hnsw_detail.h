// What the files of the Hnsw class share (hnsw.cpp, hnsw_filtered.cpp, hnsw_persist.cpp,
// hnsw_fast_walk.cpp): tuning constants, the per-thread scratch of walks, small memory helpers,
// and the walk templates every query path runs (graph/scorer.h supplies their scorers).
// Included only by those files.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <sys/mman.h>
#include <unistd.h>

#include "common/thread_pool.h"
#include "graph/hnsw.h"
#include "quant/kernels.h"

namespace vecsearch {
namespace hnsw_detail {

constexpr int kMaxLevel = 24;
constexpr size_t kAcornUpperSeeds = 8;  // matching upper-level nodes that seed an ACORN walk
// An ACORN query whose neighbourhood matches less than this share of the overall selectivity is
// anti-correlated with its filter and scanned instead. Uncorrelated filters at 1% selectivity
// leave about ten matches among the ~1000 two-hop slots sampled, so they pass.
constexpr double kAntiCorrelated = 0.1;
// A failed ACORN or post-filter walk over at least kRetryMatchesPerEf * ef matches walks again
// kRetryDepth times deeper before the exact scan answers it: such a scan reads more rows than
// that walk scores codes.
constexpr size_t kRetryMatchesPerEf = 64, kRetryDepth = 4;
// Scan-plan queries sharing a filter (at least kScanBlockMin of them) are scored in blocks: each
// matching vector is read from memory once per block and scored against the block's queries
// while it sits in L1, so a scan costs memory bandwidth once per block rather than once per
// query. A block's transposed queries stream from L2 for every group of rows, so they are kept
// to kScanBlockBytes; a batch is split into more blocks only to give every thread one, and not
// below kScanBlockSplit queries (fewer would pay the memory pass for little work).
constexpr size_t kScanBlockMin = 4, kScanBlockBytes = 512 << 10, kScanBlockSplit = 64;
// Hnsw::codes_error() keeps its figure once measured on this many vectors; a smaller index
// measures it again on each use, so its walks re-rank their whole beam instead.
constexpr size_t kErrorSampleMin = 64;

// The sizes of the blocks that `queries` scan-plan queries sharing one filter are cut into:
// as few as fit kScanBlockBytes (or one per thread), of equal size in whole kBlockQueries groups.
inline size_t scan_block_size(size_t queries, size_t dim, size_t threads) {
    const size_t pair = 2 * kBlockQueries;
    const size_t widest = std::max(pair, kScanBlockBytes / (dim * sizeof(float)) / pair * pair);
    size_t blocks = (queries + widest - 1) / widest;
    const size_t workers = threads == 0 ? ThreadPool::hardware_threads() : threads;
    if (workers > blocks) blocks = std::max(blocks, std::min(workers, queries / kScanBlockSplit));
    const size_t each = (queries + blocks - 1) / blocks;
    return (each + kBlockQueries - 1) / kBlockQueries * kBlockQueries;
}

inline uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

inline void prefetch_row(const float* row, size_t dim) { prefetch_lines(row, dim * sizeof(float)); }

// Drops the whole pages inside [begin, end) of a read-only file mapping from this process (they
// are read again from the file if touched); never a page shared with data outside the range.
inline void release_mapped(const void* begin, const void* end) {
    uintptr_t page = uintptr_t(sysconf(_SC_PAGE_SIZE));
    uintptr_t lo = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
    uintptr_t hi = reinterpret_cast<uintptr_t>(end) / page * page;
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

inline size_t physical_memory_bytes() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : std::numeric_limits<size_t>::max();
}

// Per-thread scratch of graph walks; sized on first use, reused across calls and indexes.
struct Scratch {
    VisitedList visited;
    BeamPool pool;
    TopK top;
    std::vector<Neighbor> cands, kept, shrink;
    std::vector<slot_t> fresh, row_copy;
    std::vector<float> fresh_dists;  // the walk's estimates of `fresh`
    std::vector<float> query;  // 64-byte aligned copy of the current query
    std::vector<uint8_t> prepared;  // the codec's form of the current query (64-byte aligned)
    std::vector<Neighbor> reranked;
    std::vector<slot_t> disk_slots;     // re-rank rows read from disk, and their values
    std::vector<float> disk_rows;
    std::vector<Neighbor> frontier;
    std::vector<TopK> block_tops;       // one per query of a blocked scan
    std::vector<float> block_queries;   // the blocked scan's queries, transposed
    std::vector<float> block_bounds;    // each blocked query's k-th best value so far
};
// Not inlined: an inlined thread_local is re-addressed through __tls_get_addr at its uses inside
// hot loops (a call per neighbour), where a returned reference stays in a register.
[[gnu::noinline]] inline Scratch& scratch() {
    static thread_local Scratch s;
    return s;
}

// A 64-byte aligned stretch of n bytes in buf (a query's prepared form).
inline uint8_t* aligned_bytes(std::vector<uint8_t>& buf, size_t n) {
    buf.resize(n + 64);
    uint8_t* p = buf.data();
    return p + (64 - reinterpret_cast<uintptr_t>(p) % 64) % 64;
}

// A 64-byte aligned copy of a query in buf, so every SIMD load of it stays in one cache line.
inline const float* aligned_query(std::vector<float>& buf, const float* query, size_t dim) {
    buf.resize(dim + 16);
    float* q = buf.data();
    q += (16 - (reinterpret_cast<uintptr_t>(q) / sizeof(float)) % 16) % 16;
    std::memcpy(q, query, dim * sizeof(float));
    return q;
}

enum PlanCount : size_t { kScanCount = 0, kAcornCount = 1, kPostCount = 2, kRerouted = 3,
                          kAcornFallback = 4, kPostFallback = 5, kCodesCount = 6 };
// Fills result positions [from, to) with the missing-result marker: ids kMissingId, +inf.
inline void pad_missing(external_id* ids, float* dists, size_t from, size_t to) {
    std::fill(ids + from, ids + to, kMissingId);
    std::fill(dists + from, dists + to, std::numeric_limits<float>::infinity());
}

}  // namespace hnsw_detail

using namespace hnsw_detail;

template <class Fn>
void Hnsw::with_scorer(const float* query, const Fn& fn, bool codes, bool int8) const {
    Scratch& sc = scratch();
    const float* q = aligned_query(sc.query, query, params_.dim);
    if (!codec_ || !codes) {
        fn(ExactScorer(store_, q));
        return;
    }
    if (sq8_ && int8) {
        // With the rows in RAM, the re-rank reads only as deep as the codes' measured error needs.
        fn(int8_scorer(q, reader_ || count_ < kErrorSampleMin || !bounded_rerank_.load(std::memory_order_relaxed)
                              ? -1.0f
                              : codes_error()));
        return;
    }
    uint8_t* prepared = aligned_bytes(sc.prepared, codec_->prepared_size());
    codec_->prepare(q, prepared);
    fn(CodeScorer(store_, q, *codec_, codes_.data(), prepared));
}

template <class Scorer, class Visit>
slot_t Hnsw::greedy_query(const Scorer& score, float& dist, const Visit& visit) const {
    slot_t ep = entry_point_;
    dist = score(ep);
    visit(ep, dist);
    for (int level = max_level_; level > 0; --level) {
        bool moved = true;
        while (moved) {
            moved = false;
            const slot_t* row = links(ep, level);
            size_t cnt = row[0];
            // Two rows ahead load while one is scored: a descent is a chain of random reads.
            for (size_t j = 1; j <= std::min<size_t>(cnt, 2); ++j) score.prefetch(row[j]);
            for (size_t j = 1; j <= cnt; ++j) {
                if (j + 2 <= cnt) score.prefetch(row[j + 2]);
                float d = score(row[j]);
                visit(row[j], d);
                if (d < dist) {
                    dist = d;
                    ep = row[j];
                    moved = true;
                }
            }
        }
    }
    return ep;
}

template <class Scorer>
slot_t Hnsw::greedy_query(const Scorer& score, float& dist) const {
    return greedy_query(score, dist, [](slot_t, float) {});
}

template <class Scorer>
slot_t Hnsw::walk_start(const Scorer& score, float& dist) const {
    if (entries_.empty()) return greedy_query(score, dist);
    const slot_t ep = entries_.nearest(store_, score.query());
    dist = score(ep);
    return ep;
}


// One level-0 walk with a beam of `ef`: the beam's first k entries are the unfiltered answer, and
// seen(dist, slot) is told of every node scored, so a caller can collect a different answer
// (live or matching nodes only) from the same route.
// Writes u's level-0 neighbours not visited yet to `fresh` (marking them visited and starting
// to load their vectors) and returns how many.
template <class Scorer>
size_t Hnsw::gather_unvisited(const Scorer& score, slot_t u, VisitedList& visited, slot_t* fresh) const {
    const slot_t* row = &links0_[size_t(u) * row0_];
    size_t cnt = row[0], m = 0;
    for (size_t j = 1; j <= cnt; ++j) {
        slot_t v = row[j];
        if (visited.test_and_set(v)) continue;
        score.prefetch(v);
        fresh[m++] = v;
    }
    return m;
}

template <class Scorer, class Seen>
void Hnsw::walk_level0(const Scorer& score, slot_t ep, float ep_dist, size_t ef, const Seen& seen) const {
    Scratch& sc = scratch();
    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    pool.reset(ef);
    visited.reset(count_);
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    seen(ep_dist, ep);
    sc.fresh.resize(row0_);
    sc.fresh_dists.resize(row0_);
    slot_t* fresh = sc.fresh.data();
    float* dists = sc.fresh_dists.data();
    while (pool.has_next()) {
        size_t m = gather_unvisited(score, pool.pop_next(), visited, fresh);
        score.score_many(fresh, m, dists);
        for (size_t j = 0; j < m; ++j) {
            slot_t v = fresh[j];
            float d = dists[j];
            seen(d, v);
            // A node that enters the beam is likely expanded soon: start loading its links.
            if (pool.insert(d, v)) __builtin_prefetch(&links0_[size_t(v) * row0_], 0, 3);
        }
    }
}

// A walk that routes through every node and answers (in sc.top, the ef best) with accepted ones
// only, as hnswlib's filtered search does: it keeps expanding while a candidate is closer than
// the ef-th accepted node found, so it follows the matches outward however far they lie
// (anti-correlated filters) instead of stopping at the ef nearest nodes of any kind.
template <class Scorer, class Accept>
void Hnsw::walk_collect(const Scorer& score, slot_t ep, float ep_dist, size_t ef, const Accept& accept) const {
    Scratch& sc = scratch();
    TopK& top = sc.top;
    VisitedList& visited = sc.visited;
    std::vector<Neighbor>& frontier = sc.frontier;  // min-heap by distance
    auto farther = [](const Neighbor& a, const Neighbor& b) { return a.dist > b.dist; };
    top.reset(ef);
    visited.reset(count_);
    frontier.clear();
    visited.test_and_set(ep);
    frontier.push_back({ep_dist, ep});
    if (accept(ep)) top.push(ep_dist, ep);
    sc.fresh.resize(row0_);
    sc.fresh_dists.resize(row0_);
    slot_t* fresh = sc.fresh.data();
    float* dists = sc.fresh_dists.data();
    while (!frontier.empty()) {
        std::pop_heap(frontier.begin(), frontier.end(), farther);
        Neighbor c = frontier.back();
        frontier.pop_back();
        if (top.full() && c.dist > top.worst()) break;
        size_t m = gather_unvisited(score, c.slot, visited, fresh);
        score.score_many(fresh, m, dists);
        for (size_t j = 0; j < m; ++j) {
            slot_t v = fresh[j];
            float d = dists[j];
            if (top.full() && d >= top.worst()) continue;
            frontier.push_back({d, v});
            std::push_heap(frontier.begin(), frontier.end(), farther);
            __builtin_prefetch(&links0_[size_t(v) * row0_], 0, 3);
            if (accept(v)) top.push(d, v);
        }
    }
}

// Writes the best k of the walk's candidates; an approximate walk's candidates are re-scored
// from the float vectors first (BiDR / DiskANN-style refinement; see rerank_exact).
template <class Scorer>
size_t Hnsw::finish_candidates(const Scorer& score, const Neighbor* cands, size_t n, size_t k, size_t rerank,
                               external_id* out_ids, float* out_dists, bool* open) const {
    if (open) *open = false;
    if (Scorer::kApproximate && rerank > 0) {
        std::vector<Neighbor>& exact = scratch().reranked;
        const bool unsettled = rerank_exact(score.query(), cands, n, k, rerank, score.rerank_error(), exact);
        if (open) *open = unsettled;
        reranked_queries_.fetch_add(1, std::memory_order_relaxed);
        reranked_rows_.fetch_add(exact.size(), std::memory_order_relaxed);
        auto closer = [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; };
        size_t keep = std::min(k, exact.size());
        std::partial_sort(exact.begin(), exact.begin() + keep, exact.end(), closer);
        cands = exact.data();
        n = keep;
    }
    return write_answer(cands, std::min(k, n), out_ids, out_dists);
}

}  // namespace vecsearch
