// The codes plan: an exhaustive scan of the matching slots' SQ8 codes (graph/code_scan.h) by a
// block of queries sharing a filter, a quarter of the bytes of their float rows and four times the
// arithmetic per instruction, then an exact re-rank of each query's best max(k, rerank). The codes
// are scored where they lie (Int8Kernels::rows_est), each loaded once for up to kGroup queries.
#include <algorithm>
#include <cmath>

#include "graph/code_scan.h"
#include "graph/hnsw_detail.h"

namespace vecsearch {

namespace {

constexpr size_t kBatch = 64;  // codes scored per kernel call (which prefetches within it)
// Fewer matches are scanned on the SQ8 codes alone: the axis codes' first pass saves a few cycles a
// code, less than projecting the queries and the second pass cost (debian-minilm sections of
// ~350 rows, one query each: 16 -> 47 us/query with them).
constexpr size_t kAxisMinRows = 2048;
// From this many queries a block gathers its matches' axis codes into interleaved blocks (one
// stream of codes, scored without horizontal sums; debian-minilm sections of 2,048+ rows shared
// by 30-87 queries: 37.1 -> 35.2 us/query); fewer scan them where they lie, the gather costing
// about as much as the scans it speeds up.
constexpr size_t kGatherMinQueries = code_scan::kGroup;

// Scores the codes of slots[0, n) where they lie for nb queries (int8 forms w8, `stride` apart),
// kGroup queries per kernel call, and admits each estimate under its query's bound to its pool.
// Each code is loaded once per group: no interleaved copy (a 4-byte move per chunk of every
// scattered code took as long as the scoring, measured on debian-minilm's sections).
void score_codes(const Int8Kernels& kernels, const uint8_t* codes, size_t dim, const float* norms,
                 const slot_t* slots, size_t n, const int8_t* w8, size_t stride, size_t nb, const float* base,
                 const float* mul, code_scan::Pool* pools) {
    alignas(32) float est[kBatch * code_scan::kGroup];
    uint32_t masks[kBatch];
    float bound[code_scan::kGroup];
    for (size_t first = 0; first < n; first += kBatch) {
        const size_t m = std::min(kBatch, n - first);
        for (size_t g = 0; g < nb; g += code_scan::kGroup) {
            const size_t nw = std::min(code_scan::kGroup, nb - g);
            code_scan::Pool* group = pools + g;
            for (size_t j = 0; j < nw; ++j) bound[j] = group[j].bound();
            kernels.rows_est(codes, dim, slots + first, m, w8 + g * stride, nw, stride, base + g, mul + g, norms,
                             bound, est, masks);
            for (size_t r = 0; r < m; ++r) {
                for (uint32_t bits = masks[r]; bits != 0; bits &= bits - 1) {
                    const size_t j = size_t(__builtin_ctz(bits));
                    const float e = est[r * code_scan::kGroup + j];
                    if (e < group[j].bound()) group[j].push(e, slots[first + r]);
                }
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

void Hnsw::attach_axis_codes(std::optional<Projection> projection, size_t threads) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (!projection) return axis_codes_.reset();
    if (!sq8_) throw InvalidArgument("axis codes pair with SQ8 codes: attach an SQ8 codec first");
    if (projection->dim() != params_.dim) throw DimensionError("the projection's dim differs from the index's");
    // Trained on an even sample of the live slots.
    constexpr size_t kTrainRows = 65536;
    std::vector<slot_t> sample;
    const size_t step = std::max<size_t>(1, count_ / kTrainRows);
    for (size_t s = 0; s < count_; s += step)
        if (!deleted_[s]) sample.push_back(slot_t(s));
    auto codes = std::make_unique<AxisCodes>(std::move(*projection), params_.metric);
    codes->build(store_, sample.data(), sample.size(), count_, threads);
    codes->reserve(capacity_);
    axis_codes_ = std::move(codes);
}

size_t Hnsw::axis_code_dim() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return axis_codes_ ? axis_codes_->codec().code_size() : 0;
}

void Hnsw::scan_codes_block(const float* queries, const uint32_t* block, size_t nb, size_t k, size_t rerank,
                            const slot_t* slots, size_t n_slots, bool shared, external_id* out_ids, float* out_dists,
                            Answered* out_answered) const {
    const size_t dim = params_.dim, stride = code_scan::chunks(dim) * 4;
    thread_local std::vector<int8_t> w8;
    thread_local std::vector<float> base, mul;
    thread_local std::vector<code_scan::Pool> tops, first;
    thread_local std::vector<const float*> rows;
    w8.resize(nb * stride);
    base.resize(nb);
    mul.resize(nb);
    if (tops.size() < nb) {
        tops.resize(nb);
        first.resize(nb);
    }
    rows.resize(nb);
    const size_t depth = std::max(k, rerank);
    for (size_t j = 0; j < nb; ++j) {
        rows[j] = queries + size_t(block[j]) * dim;
        tops[j].reset(code_scan::pool_size(depth));
    }
    const float* norms = sq8_norms() ? code_norms_.data() : nullptr;
    if (axis_codes_ && n_slots >= kAxisMinRows) {
        // First the axis codes, a third of the bytes of scattered rows, into as deep a pool; then
        // those candidates on the SQ8 codes, the estimates the re-rank goes by.
        const ProjectedSQ8& axes = axis_codes_->codec();
        const size_t cs = axes.code_size(), axis_stride = code_scan::chunks(cs) * 4;
        axes.prepare(rows.data(), nb, w8.data(), axis_stride, base.data(), mul.data());
        for (size_t j = 0; j < nb; ++j) first[j].reset(code_scan::pool_size(depth));
        if (nb >= kGatherMinQueries) {
            thread_local code_scan::Interleaved gathered;
            code_scan::gather(axis_codes_->codes(), cs, axis_codes_->norms(), slots, n_slots, gathered);
            code_scan::scan(axes.int8_kernels(), gathered, 0, n_slots, slots, w8.data(), axis_stride, base.data(),
                            mul.data(), nb, first.data());
        } else {
            score_codes(axes.int8_kernels(), axis_codes_->codes(), cs, axis_codes_->norms(), slots, n_slots,
                        w8.data(), axis_stride, nb, base.data(), mul.data(), first.data());
        }
        for (size_t j = 0; j < nb; ++j) {
            float b, m;
            code_scan::prepare(*sq8_, rows[j], w8.data(), &b, &m);
            code_scan::rescore(sq8_->int8_kernels(), codes_.data(), dim, norms, w8.data(), b, m, first[j], nullptr,
                               tops[j]);
        }
    } else {
        for (size_t j = 0; j < nb; ++j)
            code_scan::prepare(*sq8_, rows[j], w8.data() + j * stride, &base[j], &mul[j]);
        // Not gathered: a 384-byte SQ8 code is 96 scattered moves, more than the scoring saves
        // (debian-minilm sections of 600-2,000 rows, 9-38 queries each: 22.7 -> 30.4 us/query).
        score_codes(sq8_->int8_kernels(), codes_.data(), dim, norms, slots, n_slots, w8.data(), stride, nb,
                    base.data(), mul.data(), tops.data());
    }
    finish_code_scans(queries, block, nb, tops.data(), k, depth, slots, n_slots, shared ? 0.0f : codes_error(),
                      out_ids, out_dists, out_answered);
}

}  // namespace vecsearch
