#include "graph/range_codes.h"

#include <algorithm>
#include <cstring>

#include "common/errors.h"
#include "common/thread_pool.h"
#include "simd/kernels.h"

namespace vecsearch {

namespace {

constexpr size_t kInterleave = code_scan::kRows;
constexpr size_t kTrainRows = 65536;       // rows the SQ8 ranges are learnt from, at most
constexpr size_t kEncodeRows = 4096;       // rows gathered and encoded per step (whole blocks)
constexpr size_t kChunkBytes = 256 << 10;  // codes a block of queries scans while they stay in L2
constexpr size_t kGroup = code_scan::kGroup;
constexpr size_t kBatch = 64;  // second-pass codes per kernel call (which prefetches within it)

alignas(64) const float kZeros[kInterleave] = {};  // the norms of ip / cosine codes

}  // namespace

RangeCodes::Interleaved::Interleaved(size_t dim, Metric metric) : codec(dim, metric), chunks(code_scan::chunks(dim)) {}

RangeCodes::RangeCodes(size_t dim, Metric metric, uint64_t epoch, std::optional<Projection> projection)
    : dim_(dim),
      metric_(metric),
      epoch_(epoch),
      projection_(std::move(projection)),
      scanned_(projection_ ? projection_->out_dim() : dim, metric),
      full_codec_(dim, metric) {}

std::unique_ptr<RangeCodes> RangeCodes::build(const FlatStore& store, Metric metric, const slot_t* slots, size_t n,
                                              size_t threads, uint64_t epoch, std::optional<Projection> projection) {
    const size_t dim = store.dim();
    if (projection && projection->dim() != dim) throw InvalidArgument("range index: the projection's dim differs");
    std::unique_ptr<RangeCodes> rc(new RangeCodes(dim, metric, epoch, std::move(projection)));
    rc->slots_.assign(slots, slots + n);
    if (n == 0) return rc;
    const bool l2 = metric == Metric::l2, projected = rc->projection_.has_value();
    const size_t cdim = rc->code_dim(), batch = std::min(n, kEncodeRows), train = std::min(n, kTrainRows);
    std::vector<float> raw(std::max(train, batch) * dim), y(projected ? std::max(train, batch) * cdim : 0), off(batch);
    // The rows' projections, in parallel by blocks; with their l2 norms off the axes (the part of
    // their distances the projection leaves out; none for ip / cosine, centred on the mean).
    auto project = [&](size_t m, float* offsets) {
        constexpr size_t kRows = kBlockQueries;
        ThreadPool::global().parallel_for((m + kRows - 1) / kRows, threads, 1, [&](size_t b) {
            const size_t i0 = b * kRows, cnt = std::min(kRows, m - i0);
            const float* xs[kRows] = {};
            float off_axes[kRows];
            for (size_t j = 0; j < cnt; ++j) xs[j] = &raw[(i0 + j) * dim];
            rc->projection_->centered(xs, cnt, &y[i0 * cdim], off_axes);
            if (offsets)
                for (size_t j = 0; j < cnt; ++j) offsets[i0 + j] = l2 ? off_axes[j] : 0.0f;
        });
    };
    // Train on an even sample of the order (every step-th row): the column need not be random.
    const size_t step = n / train;
    for (size_t i = 0; i < train; ++i) std::memcpy(&raw[i * dim], store.row(slots[i * step]), dim * sizeof(float));
    Interleaved& sc = rc->scanned_;
    if (projected) {
        project(train, nullptr);
        sc.codec.train(y.data(), train, threads);
        rc->full_codec_.train(raw.data(), train, threads);
        rc->full_.resize(n * dim);
        if (l2) rc->full_norms_.resize(n);
    } else {
        sc.codec.train(raw.data(), train, threads);
    }

    const size_t block_bytes = sc.chunks * 64, blocks = (n + kInterleave - 1) / kInterleave;
    sc.blocks.assign(blocks * block_bytes, 0);
    // Padded to whole blocks: a scan computes all 16 estimates of a block, used or not.
    if (l2) sc.norms.assign(blocks * kInterleave, 0.0f);
    std::vector<uint8_t> codes(batch * cdim);
    for (size_t start = 0; start < n; start += kEncodeRows) {
        const size_t m = std::min(kEncodeRows, n - start);
        for (size_t i = 0; i < m; ++i) std::memcpy(&raw[i * dim], store.row(slots[start + i]), dim * sizeof(float));
        if (projected) {
            project(m, off.data());
            uint8_t* full = &rc->full_[start * dim];
            rc->full_codec_.encode(raw.data(), m, full, threads);
            if (l2)
                for (size_t i = 0; i < m; ++i) rc->full_norms_[start + i] = rc->full_codec_.code_norm(full + i * dim);
        }
        sc.codec.encode(projected ? y.data() : raw.data(), m, codes.data(), threads);
        // start is a multiple of kEncodeRows, so of kInterleave: whole blocks but for the last.
        const uint8_t* rows16[kInterleave];
        for (size_t i = 0; i < m; i += kInterleave) {
            const size_t nr = std::min(kInterleave, m - i);
            for (size_t r = 0; r < nr; ++r) rows16[r] = &codes[(i + r) * cdim];
            code_scan::interleave(rows16, nr, cdim, &sc.blocks[(start + i) / kInterleave * block_bytes]);
        }
        if (l2)
            for (size_t i = 0; i < m; ++i)
                sc.norms[start + i] = sc.codec.code_norm(&codes[i * cdim]) + (projected ? off[i] : 0.0f);
    }
    return rc;
}

size_t RangeCodes::memory_bytes() const {
    return slots_.capacity() * sizeof(slot_t) + scanned_.blocks.capacity() + scanned_.norms.capacity() * sizeof(float) +
           scanned_.codec.serialize().size() + full_.capacity() + full_norms_.capacity() * sizeof(float) +
           (projection_ ? projection_->memory_bytes() + full_codec_.serialize().size() : 0);
}

void RangeCodes::scan_blocks(const int8_t* w8, size_t stride, const float* base, const float* mul, size_t nb,
                             size_t begin, size_t end, bool positions, code_scan::Pool* pools) const {
    const size_t block_bytes = scanned_.chunks * 64;
    const size_t chunk_rows = std::max<size_t>(1, kChunkBytes / block_bytes) * kInterleave;
    const Int8Kernels& kernels = scanned_.codec.int8_kernels();
    slot_t labels[kInterleave];
    for (size_t first = begin / kInterleave * kInterleave; first < end; first += chunk_rows) {
        const size_t last = std::min(end, first + chunk_rows);
        for (size_t g = 0; g < nb; g += kGroup) {
            const size_t nw = std::min(kGroup, nb - g);
            for (size_t row0 = first; row0 < last; row0 += kInterleave) {
                const size_t lo = std::max(row0, begin) - row0, hi = std::min(row0 + kInterleave, last) - row0;
                if (positions)
                    for (size_t r = 0; r < kInterleave; ++r) labels[r] = slot_t(row0 + r);
                code_scan::score_block(kernels, &scanned_.blocks[row0 / kInterleave * block_bytes], w8 + g * stride,
                                       nw, stride, scanned_.chunks, base + g, mul + g,
                                       scanned_.norms.empty() ? kZeros : &scanned_.norms[row0],
                                       positions ? labels : &slots_[row0], lo, hi, pools + g);
            }
        }
    }
}

void RangeCodes::scan(const float* const* queries, size_t nb, size_t begin, size_t end, size_t depth,
                      code_scan::Pool* tops) const {
    end = std::min(end, slots_.size());
    const size_t stride = scanned_.chunks * 4;
    thread_local std::vector<int8_t> w8;
    thread_local std::vector<float> base, mul, y, off;
    w8.resize(nb * stride);
    base.resize(nb);
    mul.resize(nb);
    if (projection_) {  // the block's projections at once
        y.resize(nb * code_dim());
        off.resize(nb);
        if (metric_ == Metric::l2) {
            projection_->centered(queries, nb, y.data(), off.data());
        } else {  // ip/cosine: 1 - q.x ~= (1 - (A q).(A (x - c))) - q.c, rows centred, queries not
            projection_->uncentered(queries, nb, y.data(), off.data());
            for (float& o : off) o = -o;
        }
    }
    for (size_t j = 0; j < nb; ++j) {
        tops[j].reset(code_scan::pool_size(depth));
        code_scan::prepare(scanned_.codec, projection_ ? &y[j * code_dim()] : queries[j], w8.data() + j * stride,
                           &base[j], &mul[j]);
        if (projection_) base[j] += off[j];
    }
    if (begin >= end) return;
    if (!projection_) return scan_blocks(w8.data(), stride, base.data(), mul.data(), nb, begin, end, false, tops);

    // The first pass keeps as many candidates, by position, for the second to re-score.
    thread_local std::vector<code_scan::Pool> first;
    if (first.size() < nb) first.resize(nb);
    for (size_t j = 0; j < nb; ++j) first[j].reset(code_scan::pool_size(depth));
    scan_blocks(w8.data(), stride, base.data(), mul.data(), nb, begin, end, true, first.data());
    // The second scores each query's candidates on their full codes, the estimates the re-rank
    // goes by.
    const Int8Kernels& kernels = full_codec_.int8_kernels();
    const size_t full_stride = code_scan::chunks(dim_) * 4;
    const float* norms = full_norms_.empty() ? nullptr : full_norms_.data();
    thread_local std::vector<int8_t> w_full;
    thread_local std::vector<uint32_t> rows;
    w_full.resize(full_stride);
    alignas(32) float est[kBatch * kGroup];
    uint32_t masks[kBatch];
    for (size_t j = 0; j < nb; ++j) {
        const std::vector<Neighbor>& cands = first[j].sorted();
        rows.resize(cands.size());
        for (size_t c = 0; c < cands.size(); ++c) rows[c] = cands[c].slot;
        float fbase, fmul;
        code_scan::prepare(full_codec_, queries[j], w_full.data(), &fbase, &fmul);
        for (size_t at = 0; at < rows.size(); at += kBatch) {
            const size_t m = std::min(kBatch, rows.size() - at);
            const float bound = tops[j].bound();
            kernels.rows_est(full_.data(), dim_, rows.data() + at, m, w_full.data(), 1, full_stride, &fbase, &fmul,
                             norms, &bound, est, masks);
            for (size_t r = 0; r < m; ++r)
                if ((masks[r] & 1u) && est[r * kGroup] < tops[j].bound())
                    tops[j].push(est[r * kGroup], slots_[rows[at + r]]);
        }
    }
}

}  // namespace vecsearch
