// Re-ranking: which of a walk's candidates are re-scored from the float vectors (read from
// disk, or in RAM), and in what batches. The same candidates are chosen wherever the rows live,
// so an index answers alike from disk and from RAM.
#include <algorithm>
#include <limits>
#include <numeric>

#include "graph/hnsw_detail.h"

namespace vecsearch {

namespace {

// Rows of the first read of a bounded re-rank beyond k, and of each later read: a read from
// disk is one round trip to the device, so each takes a few rows the bound may yet rule out.
constexpr size_t kFirstExtra = 6, kBatchRows = 8;

}  // namespace

void Hnsw::attach_refine(std::unique_ptr<ResidualRefiner> refine) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (refine) {
        if (!codec_ || codec_->kind() != "pq")
            throw InvalidArgument("a refine code needs the index's PQ codes to refine");
        if (refine->size() != count_)
            throw FormatError("corrupt index: a refine code of " + std::to_string(refine->size()) + " rows for " +
                              std::to_string(count_) + " slots");
        if (refine->codec().dim() != params_.dim)
            throw DimensionError("the refine code has dim " + std::to_string(refine->codec().dim()) + ", the index " +
                                 std::to_string(params_.dim));
    }
    refine_ = std::move(refine);
}

void Hnsw::score_rows(const float* q, const slot_t* slots, size_t m, Neighbor* out) const {
    if (reader_) {  // one batched read of every row, then exact distances
        const size_t dim = params_.dim;
        Scratch& sc = scratch();
        sc.disk_rows.resize(m * dim);
        reader_->read(slots, m, sc.disk_rows.data());
        for (size_t i = 0; i < m; ++i) out[i] = Neighbor{store_.distance(q, &sc.disk_rows[i * dim]), slots[i]};
        return;
    }
    for (size_t i = 0; i < m; ++i) {
        if (i + 2 < m) prefetch_row(store_.row(slots[i + 2]), params_.dim);
        out[i] = Neighbor{store_.distance(q, slots[i]), slots[i]};
    }
}

void Hnsw::rerank_exact(const float* q, const Neighbor* cands, size_t n, size_t k, size_t rerank,
                        std::vector<Neighbor>& exact) const {
    Scratch& sc = scratch();
    const size_t most = std::min(n, std::max(rerank, k));
    sc.disk_slots.resize(n);
    if (!refine_) {  // the walk's own order: its first `most` candidates
        for (size_t i = 0; i < most; ++i) sc.disk_slots[i] = cands[i].slot;
        exact.resize(most);
        score_rows(q, sc.disk_slots.data(), most, exact.data());
        return;
    }
    // Every candidate by its lower bound; rows are scored in that order while the next bound is
    // below the k-th best exact distance so far (a candidate above it cannot enter the top k).
    thread_local std::vector<float> est, lower;
    thread_local std::vector<uint32_t> order;
    thread_local std::vector<slot_t> by_walk;
    by_walk.resize(n);
    for (size_t i = 0; i < n; ++i) by_walk[i] = cands[i].slot;
    est.resize(n);
    lower.resize(n);
    refine_->bound(*codec_, codes_.data(), q, by_walk.data(), n, est.data(), lower.data());
    order.resize(n);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return lower[a] < lower[b]; });
    for (size_t i = 0; i < n; ++i) sc.disk_slots[i] = by_walk[order[i]];

    exact.resize(most);
    thread_local TopK best;  // not sc.top: the post-filter walk's candidates live there
    best.reset(k);
    size_t done = 0;
    while (done < most) {
        const float kth = best.full() ? best.worst() : std::numeric_limits<float>::infinity();
        const size_t end = std::min(most, done + (done == 0 ? k + kFirstExtra : kBatchRows));
        size_t take = done;
        while (take < end && lower[order[take]] < kth) ++take;
        if (take == done) break;
        score_rows(q, sc.disk_slots.data() + done, take - done, exact.data() + done);
        for (size_t i = done; i < take; ++i) best.push(exact[i].dist, exact[i].slot);
        done = take;
    }
    exact.resize(done);
}

}  // namespace vecsearch
