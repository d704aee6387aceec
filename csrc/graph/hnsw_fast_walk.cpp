// The unfiltered walk over neighbour codes (graph/neighbour_codes.h), after SymphonyQG: the
// beam is ordered by RaBitQ estimates; every node it expands is scored by the SQ8 code at the
// head of its block, so an expansion reads one contiguous block and nothing else; the best
// `rerank` expanded nodes are re-scored exactly at the end, where their rows are read as one
// prefetched batch. Every distance returned is exact.
#include <algorithm>
#include <limits>
#include <xmmintrin.h>

#include "graph/hnsw_detail.h"
#include "quant/kernels.h"

namespace vecsearch {

namespace {

struct FastWalkScratch {
    BeamPool pool;
    VisitedList visited;
    TopK top;
    RabitqQuery query;
    std::vector<uint8_t> own_query;  // the own codec's prepared query, 64-byte aligned inside
    std::vector<Neighbor> exact;
};

[[gnu::noinline]] FastWalkScratch& fast_walk_scratch() {  // as scratch(): no TLS call per use
    static thread_local FastWalkScratch s;
    return s;
}

// The first lines of the next block: more software prefetches saturate the line-fill
// buffers (measured slower), and the hardware streamer follows a block read in order.
constexpr size_t kHeadLines = 4;

inline void prefetch_head(const void* p, size_t bytes) {
    const char* c = static_cast<const char*>(p);
    size_t n = std::min<size_t>(kHeadLines, bytes / 64);
    for (size_t i = 0; i < n; ++i) _mm_prefetch(c + 64 * i, _MM_HINT_T0);
}

}  // namespace

size_t Hnsw::walk_neighbour_codes(const float* q, size_t k, size_t ef, size_t rerank, external_id* out_ids,
                                  float* out_dists) const {
    FastWalkScratch& sc = fast_walk_scratch();
    const NeighbourCodes& nc = *ncodes_;
    const RabitqEncoder& enc = nc.encoder();
    enc.prepare(q, sc.query);
    const RabitqQuery& rq = sc.query;
    const size_t chunks = enc.chunks(), block_bytes = nc.block_bytes();
    const size_t factors_at = nc.factors_at();
    const auto fastscan = active_quant_kernels().fastscan32;
    const Codec& own = nc.own_codec();
    sc.own_query.resize(own.prepared_size() + 64);
    uint8_t* own_q = sc.own_query.data() + (64 - reinterpret_cast<uintptr_t>(sc.own_query.data()) % 64) % 64;
    own.prepare(q, own_q);

    ExactScorer exact(store_, q);
    float ep_dist;
    slot_t ep = greedy_query(exact, ep_dist);
    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    TopK& top = sc.top;
    pool.reset(ef);
    visited.reset(count_);
    top.reset(std::max(k, rerank));
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    alignas(64) float acc[NeighbourCodes::kBatch];
    while (pool.has_next()) {
        const slot_t u = pool.pop_next();
        if (pool.has_next()) {
            // Load the likely next node's block while this one is scored.
            prefetch_head(nc.block(pool.peek_next()), block_bytes);
        }
        const uint8_t* block = nc.block(u);
        const float d_u = own.distance(own_q, block);
        if (!deleted_[u]) top.push(d_u, u);
        for (size_t b = 0; b < nc.batches(); ++b) {
            const uint8_t* batch = nc.batch(block, b);
            const slot_t* links = reinterpret_cast<const slot_t*>(batch);
            if (links[0] == kNoSlot) break;
            const uint8_t* packed = batch + NeighbourCodes::kCodesAt;
            fastscan(packed, rq.lut, chunks, acc);
            const float* f_add = reinterpret_cast<const float*>(batch + factors_at);
            const float* f_scale = f_add + NeighbourCodes::kBatch;
            const float* pop = f_scale + NeighbourCodes::kBatch;
            alignas(64) float est[NeighbourCodes::kBatch];
            for (size_t j = 0; j < NeighbourCodes::kBatch; ++j)
                est[j] = d_u + f_add[j] + f_scale[j] * (rq.c_acc * acc[j] + rq.c_pop * pop[j] - rq.s_q);
            for (size_t j = 0; j < NeighbourCodes::kBatch; ++j) {
                const slot_t v = links[j];
                if (v == kNoSlot) break;
                // A neighbour the beam would refuse stays unvisited: another parent's estimate
                // may admit it later.
                if (!pool.admits(est[j]) || visited.test_and_set(v)) continue;
                pool.insert(est[j], v);
            }
        }
        // The next node is now known: load the rest of its block (the head was started above,
        // for the node that was next before these inserts).
        if (pool.has_next()) prefetch_all(nc.block(pool.peek_next()), block_bytes);
    }
    // Exact re-rank of the best expanded nodes, their rows loaded a few ahead.
    const std::vector<Neighbor>& best = top.sorted();
    std::vector<Neighbor>& scored = sc.exact;
    scored.resize(best.size());
    constexpr size_t kAhead = 4;
    for (size_t i = 0; i < std::min(kAhead, best.size()); ++i)
        prefetch_all(store_.row(best[i].slot), params_.dim * sizeof(float));
    for (size_t i = 0; i < best.size(); ++i) {
        if (i + kAhead < best.size()) prefetch_all(store_.row(best[i + kAhead].slot), params_.dim * sizeof(float));
        scored[i] = Neighbor{exact(best[i].slot), best[i].slot};
    }
    const size_t found = std::min(k, scored.size());
    std::partial_sort(scored.begin(), scored.begin() + found, scored.end(),
                      [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
    return write_answer(scored.data(), found, out_ids, out_dists);
}

}  // namespace vecsearch
