// The unfiltered walk over neighbour codes (graph/neighbour_codes.h), as SymphonyQG walks: the
// beam is ordered by RaBitQ estimates, every node it expands is scored exactly from its float
// vector, and the answer is the best k exactly scored nodes. Expanding a node costs one
// contiguous block read and one FastScan call per 32 neighbours; estimates only decide which
// neighbours enter the beam, so every distance returned is exact.
#include <algorithm>
#include <limits>
#include <xmmintrin.h>

#include "graph/hnsw.h"
#include "quant/kernels.h"

namespace vecsearch {

namespace {

struct FastWalkScratch {
    BeamPool pool;
    VisitedList visited;
    TopK top;
    RabitqQuery query;
};

FastWalkScratch& fast_walk_scratch() {
    static thread_local FastWalkScratch s;
    return s;
}

// Every line of a block: the next expansion reads all of it.
inline void prefetch_all(const void* p, size_t bytes) {
    const char* c = static_cast<const char*>(p);
    for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

}  // namespace

size_t Hnsw::walk_neighbour_codes(const float* q, size_t k, size_t ef, external_id* out_ids, float* out_dists) const {
    FastWalkScratch& sc = fast_walk_scratch();
    const NeighbourCodes& nc = *ncodes_;
    const RabitqEncoder& enc = nc.encoder();
    enc.prepare(q, sc.query);
    const RabitqQuery& rq = sc.query;
    const size_t chunks = enc.chunks(), batch_bytes = nc.batch_bytes(), block_bytes = nc.batches() * batch_bytes;
    const size_t factors_at = nc.factors_at();
    const auto fastscan = active_quant_kernels().fastscan32;

    ExactScorer exact(store_, q);
    float ep_dist;
    slot_t ep = greedy_query(exact, ep_dist);
    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    TopK& top = sc.top;
    pool.reset(ef);
    visited.reset(count_);
    top.reset(k);
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    alignas(64) float acc[NeighbourCodes::kBatch];
    while (pool.has_next()) {
        const slot_t u = pool.pop_next();
        if (pool.has_next()) {
            // Load the likely next node's block and vector while this one is scored.
            const slot_t next = pool.peek_next();
            prefetch_all(nc.block(next), block_bytes);
            prefetch_all(store_.row(next), params_.dim * sizeof(float));
        }
        const float d_u = u == ep ? ep_dist : exact(u);
        if (!deleted_[u]) top.push(d_u, u);
        const uint8_t* block = nc.block(u);
        for (size_t b = 0; b < nc.batches(); ++b) {
            const uint8_t* batch = block + b * batch_bytes;
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
    }
    const std::vector<Neighbor>& best = top.sorted();
    for (size_t i = 0; i < best.size(); ++i) {
        out_ids[i] = ids_[best[i].slot];
        out_dists[i] = best[i].dist;
    }
    return best.size();
}

}  // namespace vecsearch
