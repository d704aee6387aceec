// The unfiltered walk over neighbour codes (graph/neighbour_codes.h), after SymphonyQG: the
// beam is ordered by RaBitQ estimates; every node it expands is scored exactly by the float
// vector at the head of its block, so an expansion reads one contiguous block and nothing else,
// and the best expanded nodes are the answer with no re-rank. Every distance returned is exact.
//
// The walk starts where a greedy descent of the upper levels ends. Starting at the entry point
// instead saves that descent (a fifth of a debian-minilm query) for 4 more expansions there, but
// on clustered data the beam then stays in the entry point's cluster (generated 200k x 384:
// recall 0.32 against 0.75 at ef 64).
#include <algorithm>
#include <limits>

#include "graph/hnsw_detail.h"
#include "quant/kernels.h"

namespace vecsearch {

namespace {

struct FastWalkScratch {
    BeamPool pool;
    VisitedList visited;
    TopK top;
    RabitqQuery query;
};

[[gnu::noinline]] FastWalkScratch& fast_walk_scratch() {  // as scratch(): no TLS call per use
    static thread_local FastWalkScratch s;
    return s;
}

}  // namespace

size_t Hnsw::walk_neighbour_codes(const float* q, size_t k, size_t ef, external_id* out_ids, float* out_dists) const {
    FastWalkScratch& sc = fast_walk_scratch();
    const NeighbourCodes& nc = *ncodes_;
    const RabitqEncoder& enc = nc.encoder();
    enc.prepare(q, sc.query);
    const RabitqQuery& rq = sc.query;
    const size_t chunks = enc.chunks(), block_bytes = nc.block_bytes();
    const size_t factors_at = nc.factors_at();
    const auto fastscan = active_quant_kernels().fastscan32;

    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    TopK& top = sc.top;
    pool.reset(ef);
    visited.reset(count_);
    top.reset(k);
    // The upper levels exactly, on the float store (on the SQ8 codes, when the index has them,
    // measured no faster on debian-minilm).
    ExactScorer exact(store_, q);
    float ep_dist;
    const slot_t ep = greedy_query(exact, ep_dist);
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    alignas(64) float acc[NeighbourCodes::kBatch];
    alignas(64) float est[NeighbourCodes::kBatch];
    while (pool.has_next()) {
        const slot_t u = pool.pop_next();
        // The likely next node's whole block loads while this one is scored (the block of the
        // node just popped was loaded the same way, or at the end of the last expansion).
        if (pool.has_next()) prefetch_all(nc.block(pool.peek_next()), block_bytes);
        const uint8_t* block = nc.block(u);
        const float d_u = store_.distance(q, NeighbourCodes::own_vector(block));
        if (!deleted_[u]) top.push(d_u, u);
        for (size_t b = 0; b < nc.batches(); ++b) {
            const uint8_t* batch = nc.batch(block, b);
            const slot_t* links = reinterpret_cast<const slot_t*>(batch);
            if (links[0] == kNoSlot) break;
            fastscan(batch + NeighbourCodes::kCodesAt, rq.lut, chunks, acc);
            const float* f_add = reinterpret_cast<const float*>(batch + factors_at);
            const float* f_scale = f_add + NeighbourCodes::kBatch;
            const float* pop = f_scale + NeighbourCodes::kBatch;
            // Only the lanes under the beam's worst are visited: a branch per lane on the
            // estimates mispredicted half the time.
            const float worst = pool.full() ? pool.worst() : std::numeric_limits<float>::infinity();
            uint32_t under = 0;
            for (size_t j = 0; j < NeighbourCodes::kBatch; ++j) {
                est[j] = d_u + f_add[j] + f_scale[j] * (rq.c_acc * acc[j] + rq.c_pop * pop[j] - rq.s_q);
                under |= uint32_t(est[j] < worst) << j;
            }
            for (; under != 0; under &= under - 1) {
                const size_t j = size_t(__builtin_ctz(under));
                const slot_t v = links[j];
                if (v == kNoSlot) break;
                // A neighbour the beam would refuse stays unvisited: another parent's estimate
                // may admit it later.
                if (!pool.admits(est[j]) || visited.test_and_set(v)) continue;
                pool.insert(est[j], v);
            }
        }
        // The inserts may have put another node next: load its block now (a repeat of the
        // prefetch above when they did not, which measured no slower than testing for it).
        if (pool.has_next()) prefetch_all(nc.block(pool.peek_next()), block_bytes);
    }
    // Every expanded node was scored exactly: the best k are the answer.
    const std::vector<Neighbor>& best = top.sorted();
    return write_answer(best.data(), std::min(k, best.size()), out_ids, out_dists);
}

}  // namespace vecsearch
