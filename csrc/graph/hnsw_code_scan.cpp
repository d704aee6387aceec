// The codes plan: an exhaustive scan of the matching slots' SQ8 codes (graph/code_scan.h) by a
// block of queries sharing a filter, a quarter of the bytes of their float rows and four times the
// arithmetic per instruction, then an exact re-rank of each query's best max(k, rerank).
#include <algorithm>
#include <cmath>

#include "graph/code_scan.h"
#include "graph/hnsw_detail.h"

namespace vecsearch {

namespace {

constexpr size_t kChunkBytes = 256 << 10;  // codes interleaved at once, scored while in L2
// Fewer queries than this score the codes where they lie: interleaving a block of 16 scattered
// codes (a 4-byte move per chunk of each) costs several in-place dot products a code, so it pays
// only when enough queries share the block (measured even at 5-6 queries a filter, 384-d).
constexpr size_t kInterleaveMin = 5;
constexpr size_t kInPlaceBatch = 64;  // codes scored per dot_rows call, the next batch prefetched

// Scores the codes of slots[0, n) where they lie for nb queries and admits each estimate under
// its query's bound to its pool.
void score_in_place(const Int8Kernels& kernels, const uint8_t* codes, size_t dim, const float* norms,
                    const slot_t* slots, size_t n, const int8_t* w8, size_t stride, size_t nb, const float* base,
                    const float* mul, code_scan::Pool* pools) {
    int32_t dots[kInPlaceBatch];
    for (size_t first = 0; first < n; first += kInPlaceBatch) {
        const size_t m = std::min(kInPlaceBatch, n - first);
        // Scattered rows: load the next batch while this one is scored.
        for (size_t r = first + kInPlaceBatch; r < std::min(first + 2 * kInPlaceBatch, n); ++r)
            prefetch_lines(codes + size_t(slots[r]) * dim, dim);
        for (size_t j = 0; j < nb; ++j) {
            kernels.dot_rows(codes, dim, slots + first, m, w8 + j * stride, dots);
            code_scan::Pool& pool = pools[j];
            for (size_t r = 0; r < m; ++r) {
                const slot_t s = slots[first + r];
                const float est = base[j] + (norms ? norms[s] : 0.0f) + mul[j] * float(dots[r]);
                if (est < pool.bound()) pool.push(est, s);
            }
        }
    }
}

}  // namespace

Hnsw::CodeScanEnd Hnsw::finish_code_scan(const float* q, code_scan::Pool& top, size_t k, size_t depth,
                                         size_t n_slots, float error, external_id* out_ids, float* out_dists) const {
    thread_local std::vector<Neighbor> exact;
    const std::vector<Neighbor>& cands = top.sorted();  // ascending by estimate
    const size_t used = rerank_bounded(q, cands.data(), cands.size(), k, depth, cands.size(), error, exact);
    // Every pooled candidate may still beat the k-th: the codes cannot tell the matches apart
    // here (they crowd within code error of one distance), so score them all exactly.
    const bool pool_full = cands.size() == top.capacity();
    if (exact.size() >= k && pool_full && used == cands.size() && cands.size() < n_slots)
        return CodeScanEnd::rescan;
    std::sort(exact.begin(), exact.end(), [](const Neighbor& x, const Neighbor& y) { return x.dist < y.dist; });
    pad_missing(out_ids, out_dists, write_answer(exact.data(), std::min(k, exact.size()), out_ids, out_dists), k);
    // every match scored exactly: the answer is exact
    return exact.size() >= n_slots ? CodeScanEnd::exact : CodeScanEnd::approximate;
}

void Hnsw::finish_code_scans(const float* queries, const uint32_t* block, size_t nb, code_scan::Pool* tops, size_t k,
                             size_t depth, const slot_t* slots, size_t n_slots, float error, external_id* out_ids,
                             float* out_dists, Answered* out_answered) const {
    thread_local std::vector<uint32_t> rescans;
    rescans.clear();
    for (size_t j = 0; j < nb; ++j) {
        const size_t i = block[j];
        const CodeScanEnd end = finish_code_scan(queries + i * params_.dim, tops[j], k, depth, n_slots, error,
                                                 out_ids + i * k, out_dists + i * k);
        if (end == CodeScanEnd::rescan) rescans.push_back(block[j]);
        if (out_answered) out_answered[i] = end == CodeScanEnd::approximate ? Answered::codes : Answered::scan;
    }
    // The queries whose pools could not tell their matches apart, in one blocked exact scan: the
    // same slots, so each row is read once for all of them (a block of one pays for a full group).
    if (!rescans.empty()) scan_block(queries, rescans.data(), rescans.size(), k, slots, n_slots, out_ids, out_dists);
}

float Hnsw::codes_error() const {
    const float known = codes_error_.load(std::memory_order_acquire);  // every search reads it
    if (known >= 0.0f) return known;
    std::lock_guard<std::mutex> guard(codes_error_mutex_);
    if (codes_error_.load(std::memory_order_relaxed) >= 0.0f) return codes_error_.load(std::memory_order_relaxed);
    if (reader_ || !sq8_) return 0.0f;  // the codes plan scans SQ8 codes with the rows in RAM only
    // Every step-th live slot is a target, the first kErrorQueries of them queries too.
    constexpr size_t kTargets = 512, kErrorQueries = 48;
    std::vector<slot_t> sample;
    const size_t step = std::max<size_t>(1, count_ / kTargets);
    for (size_t s = 0; s < count_ && sample.size() < kTargets; s += step)
        if (!deleted_[s]) sample.push_back(slot_t(s));
    const size_t dim = params_.dim, nq = std::min(kErrorQueries, sample.size());
    const Int8Kernels& kernels = sq8_->int8_kernels();
    std::vector<int8_t> w8(code_scan::chunks(dim) * 4);
    std::vector<float> dev(sample.size());
    float worst = 0.0f;
    for (size_t i = 0; i < nq; ++i) {
        const float* q = store_.row(sample[i * (sample.size() / nq)]);
        SQ8Codec::IntQuery form;
        code_scan::prepare(*sq8_, q, w8.data(), &form.base, &form.mul);
        double mean = 0.0;
        for (size_t t = 0; t < sample.size(); ++t) {
            const slot_t s = sample[t];
            const float est = form.estimate(sq8_norms() ? code_norms_[s] : 0.0f,
                                            kernels.dot(&codes_[size_t(s) * dim], w8.data(), dim));
            dev[t] = est - store_.distance(q, s);
            mean += dev[t];
        }
        mean /= double(sample.size());
        for (float d : dev) worst = std::max(worst, std::fabs(d - float(mean)));
    }
    // Kept from a sample of 64 vectors up; a smaller index measures again (cheaply) on its next
    // codes search, so its figure grows with it.
    if (sample.size() >= kErrorSampleMin) codes_error_.store(worst, std::memory_order_release);
    return worst;
}

void Hnsw::scan_codes_block(const float* queries, const uint32_t* block, size_t nb, size_t k, size_t rerank,
                            const slot_t* slots, size_t n_slots, bool shared, external_id* out_ids, float* out_dists,
                            Answered* out_answered) const {
    const size_t dim = params_.dim, nc = code_scan::chunks(dim), block_bytes = nc * 64;
    const size_t chunk_rows = std::max<size_t>(1, kChunkBytes / block_bytes) * code_scan::kRows;
    thread_local std::vector<int8_t> w8;
    thread_local std::vector<float> base, mul;
    thread_local std::vector<code_scan::Pool> tops;
    thread_local std::vector<uint8_t> chunk;
    thread_local std::vector<float> norms;
    thread_local std::vector<slot_t> chunk_slots;
    w8.resize(nb * nc * 4);
    base.resize(nb);
    mul.resize(nb);
    if (tops.size() < nb) tops.resize(nb);
    const size_t depth = std::max(k, rerank);
    for (size_t j = 0; j < nb; ++j) {
        code_scan::prepare(*sq8_, queries + size_t(block[j]) * dim, w8.data() + j * nc * 4, &base[j], &mul[j]);
        tops[j].reset(code_scan::pool_size(depth));
    }
    const Int8Kernels& kernels = sq8_->int8_kernels();
    const bool l2 = sq8_norms();
    if (nb < kInterleaveMin) {
        score_in_place(kernels, codes_.data(), dim, l2 ? code_norms_.data() : nullptr, slots, n_slots, w8.data(),
                       nc * 4, nb, base.data(), mul.data(), tops.data());
        finish_code_scans(queries, block, nb, tops.data(), k, depth, slots, n_slots, shared ? 0.0f : codes_error(),
                          out_ids, out_dists, out_answered);
        return;
    }
    chunk.resize(chunk_rows / code_scan::kRows * block_bytes);
    norms.resize(chunk_rows);
    chunk_slots.resize(chunk_rows);
    const uint8_t* rows[code_scan::kRows];
    for (size_t first = 0; first < n_slots; first += chunk_rows) {
        const size_t m = std::min(chunk_rows, n_slots - first);
        for (size_t b = 0; b * code_scan::kRows < m; ++b) {  // interleave the chunk once for the block
            const size_t r0 = b * code_scan::kRows, nr = std::min(code_scan::kRows, m - r0);
            for (size_t r = 0; r < nr; ++r) rows[r] = &codes_[size_t(slots[first + r0 + r]) * dim];
            // The gather is latency-bound (scattered rows): fetch the next group's while this one
            // is interleaved.
            for (size_t r = r0 + code_scan::kRows; r < std::min(r0 + 2 * code_scan::kRows, m); ++r)
                prefetch_lines(&codes_[size_t(slots[first + r]) * dim], dim);
            code_scan::interleave(rows, nr, dim, &chunk[b * block_bytes]);
            for (size_t r = 0; r < code_scan::kRows; ++r) {
                const slot_t s = r < nr ? slots[first + r0 + r] : kNoSlot;
                chunk_slots[r0 + r] = s;
                norms[r0 + r] = (l2 && r < nr) ? code_norms_[s] : 0.0f;
            }
        }
        for (size_t g = 0; g < nb; g += code_scan::kGroup) {
            const size_t nw = std::min(code_scan::kGroup, nb - g);
            for (size_t r0 = 0; r0 < m; r0 += code_scan::kRows) {
                code_scan::score_block(kernels, &chunk[r0 / code_scan::kRows * block_bytes], w8.data() + g * nc * 4,
                                       nw, nc * 4, nc, base.data() + g, mul.data() + g, &norms[r0], &chunk_slots[r0],
                                       0, std::min(code_scan::kRows, m - r0), tops.data() + g);
            }
        }
    }
    finish_code_scans(queries, block, nb, tops.data(), k, depth, slots, n_slots, shared ? 0.0f : codes_error(),
                      out_ids, out_dists, out_answered);
}

}  // namespace vecsearch
