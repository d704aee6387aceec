// Re-ranking: which of a walk's candidates are re-scored from the float vectors (read from
// disk, or in RAM), and in what batches. The same candidates are chosen wherever the rows live,
// so an index answers alike from disk and from RAM.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "graph/hnsw_detail.h"

namespace vecsearch {

namespace {

// Rows of the first read of a bounded re-rank beyond k, and of each later read: a read from
// disk is one round trip to the device, so each takes a few rows the bound may yet rule out.
constexpr size_t kFirstExtra = 6, kBatchRows = 8;
// A candidate past the first re-scored is re-scored while its estimate, less the codes' bias and
// a margin, is under the k-th exact distance. The margin is this many times the largest
// deviation from the bias among the first, but never under the codes' measured error: the
// spread of a few re-scored candidates understates the error where candidates crowd at one
// distance (an anti-correlated filter: recall 0.885 in tests/test_filters.py with the spread alone).
constexpr float kSpreadMargin = 0.5f;
constexpr size_t kRowsAhead = 4;  // float rows prefetched ahead of the one being scored

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
    // Scattered rows, each a few hundred cycles from memory and scored in far fewer: keep
    // kRowsAhead of them in flight.
    for (size_t i = 0; i < std::min(m, kRowsAhead); ++i) prefetch_row(store_.row(slots[i]), params_.dim);
    for (size_t i = 0; i < m; ++i) {
        if (i + kRowsAhead < m) prefetch_row(store_.row(slots[i + kRowsAhead]), params_.dim);
        out[i] = Neighbor{store_.distance(q, slots[i]), slots[i]};
    }
}

size_t Hnsw::rerank_bounded(const float* q, const Neighbor* cands, size_t n, size_t k, size_t first, size_t most,
                            float error, std::vector<Neighbor>& exact, bool* open) const {
    if (open) *open = false;
    thread_local std::vector<slot_t> rows;
    most = std::min(most, n);
    first = std::min(first, most);
    rows.resize(most);
    for (size_t c = 0; c < most; ++c) rows[c] = cands[c].slot;
    exact.resize(first);
    score_rows(q, rows.data(), first, exact.data());
    if (first < k) return first;
    // est - exact over the re-scored: its mean is the codes' bias (the same for every candidate,
    // so it does not reorder them), its spread around that mean what may reorder them.
    double bias = 0.0;
    for (size_t c = 0; c < first; ++c) bias += double(cands[c].dist) - exact[c].dist;
    bias /= double(first);
    float spread = 0.0f;
    for (size_t c = 0; c < first; ++c)
        spread = std::max(spread, std::fabs(float(cands[c].dist - exact[c].dist - bias)));
    auto kth = [&]() {
        std::nth_element(exact.begin(), exact.begin() + (k - 1), exact.end(),
                         [](const Neighbor& x, const Neighbor& y) { return x.dist < y.dist; });
        return exact[k - 1].dist;
    };
    const float margin = float(bias) + std::max(kSpreadMargin * spread, error);
    float bound = kth();
    size_t c = first;
    while (c < most && cands[c].dist - margin <= bound) {
        // The next few candidates in one call, so their rows are fetched together.
        size_t m = 0;
        while (m < kBatchRows && c + m < most && cands[c + m].dist - margin <= bound) ++m;
        const size_t at = exact.size();
        exact.resize(at + m);
        score_rows(q, rows.data() + c, m, exact.data() + at);
        c += m;
        bound = kth();
    }
    // Stopped by the ceiling, not the bound: the next candidate may still beat the k-th; or the
    // bound ran through every candidate past the first (none told apart from the k-th), so one
    // past the walk's pool may too. A pool no deeper than the first is trusted, as a float walk's.
    if (open) *open = c == most && (c < n ? cands[c].dist - margin <= bound : n > first);
    return c;
}

bool Hnsw::rerank_exact(const float* q, const Neighbor* cands, size_t n, size_t k, size_t rerank, float error,
                        std::vector<Neighbor>& exact) const {
    Scratch& sc = scratch();
    const size_t most = std::min(n, std::max(rerank, k));
    if (!refine_ && error >= 0.0f) {  // in estimate order, as deep as the codes' error needs
        bool open = false;
        rerank_bounded(q, cands, n, k, k + kFirstExtra, most, error, exact, &open);
        return open;
    }
    sc.disk_slots.resize(n);
    if (!refine_) {  // the walk's own order: its first `most` candidates
        for (size_t i = 0; i < most; ++i) sc.disk_slots[i] = cands[i].slot;
        exact.resize(most);
        score_rows(q, sc.disk_slots.data(), most, exact.data());
        return false;
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
    return false;
}

}  // namespace vecsearch
