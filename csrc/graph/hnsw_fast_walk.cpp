// The unfiltered walk over neighbour codes (graph/neighbour_codes.h), after SymphonyQG: the
// beam is ordered by RaBitQ estimates; every node it expands is scored exactly by the float
// vector at the head of its block, so an expansion reads one contiguous block and nothing else,
// and the best expanded nodes are the answer with no re-rank. Every distance returned is exact.
//
// A node waits in the beam once, under the best estimate any parent gave it, and one the beam
// dropped may come back with a better one: a one-bit estimate is noisy, and a node admitted once
// under a pessimistic estimate and never reconsidered is a lost neighbour. (Generated 200k x 384,
// ef 64: recall 0.75 with a mark per node at first admission, 0.84 so; SymphonyQG, which lets
// copies of a node pile up in its beam instead, 0.84, and needs a larger beam for recall 0.97 on
// debian-minilm.)
//
// The walk starts at the nearest entry of a table (graph/entry_table.h), not where a greedy
// descent of the upper levels ends; with no table (small indexes) it descends.
#include <algorithm>
#include <limits>

#include "graph/hnsw_detail.h"
#include "quant/kernels.h"

namespace vecsearch {

namespace {

struct FastWalkScratch {
    BeamPool pool;
    BeamMarks marks;
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
    BeamMarks& marks = sc.marks;
    TopK& top = sc.top;
    pool.reset(ef);
    marks.reset(count_);
    top.reset(k);
    ExactScorer exact(store_, q);
    float ep_dist;
    const slot_t ep = walk_start(exact, ep_dist);
    marks.set_waiting(ep);
    pool.insert(ep_dist, ep);
    alignas(64) float acc[NeighbourCodes::kBatch];
    alignas(64) float est[NeighbourCodes::kBatch];
    while (pool.has_next()) {
        const slot_t u = pool.pop_next();
        marks.set_expanded(u);
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
                if (!pool.admits(est[j]) || marks.expanded(v)) continue;
                if (marks.waiting(v)) {
                    // In the beam already: keep the better estimate. Not found: dropped, back.
                    const size_t at = pool.find_waiting(v);
                    if (at < pool.size()) {
                        if (pool.dist_at(at) <= est[j]) continue;
                        pool.erase(at);
                    }
                } else {
                    marks.set_waiting(v);
                }
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
