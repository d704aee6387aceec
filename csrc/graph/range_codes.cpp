#include "graph/range_codes.h"

#include <algorithm>
#include <cstring>

#include "common/errors.h"

namespace vecsearch {

namespace {

constexpr size_t kInterleave = code_scan::kRows;
constexpr size_t kTrainRows = 65536;       // rows the SQ8 ranges are learnt from, at most
constexpr size_t kEncodeRows = 4096;       // rows gathered and encoded per step (whole blocks)
// Shorter stretches are scanned on their full codes in one pass, not on the principal axes first:
// projecting the queries and the second pass cost more than the axes save (200k x 384 generated,
// 192 of 384 axes, 200 queries sharing a range: 2,000 rows 13.3 -> 8.2 us/query on the full
// codes; 20,000 rows 46 against 35 us/query with the axes; equal near 8,000). It costs a second
// copy of the full codes, interleaved for the scan beside the row-major ones the second pass reads.
constexpr size_t kAxisMinRows = 8192;

}  // namespace

RangeCodes::RangeCodes(size_t dim, Metric metric, uint64_t epoch, std::optional<Projection> projection)
    : dim_(dim), metric_(metric), epoch_(epoch), codec_(dim, metric) {
    if (projection) axes_.emplace(std::move(*projection), metric);
    whole_.chunks = code_scan::chunks(dim);
    axis_scanned_.chunks = code_scan::chunks(code_dim());
}

namespace {

// Room for n codes of `chunks` chunks in whole blocks, zeroed; norms too for l2, padded: a scan
// computes all 16 estimates of a block, used or not.
void allocate(code_scan::Interleaved& codes, size_t n, bool l2) {
    const size_t blocks = (n + kInterleave - 1) / kInterleave;
    codes.blocks.assign(blocks * codes.chunks * 64, 0);
    if (l2) codes.norms.assign(blocks * kInterleave, 0.0f);
}

// Interleaves the m codes at `codes` (code_dim bytes each, row-major) as rows start.. of `out`;
// start is a multiple of kInterleave.
void interleave_rows(const uint8_t* codes, size_t m, size_t code_dim, size_t start, code_scan::Interleaved& out) {
    const uint8_t* rows16[kInterleave];
    for (size_t i = 0; i < m; i += kInterleave) {
        const size_t nr = std::min(kInterleave, m - i);
        for (size_t r = 0; r < nr; ++r) rows16[r] = codes + (i + r) * code_dim;
        code_scan::interleave(rows16, nr, code_dim, &out.blocks[(start + i) / kInterleave * out.chunks * 64]);
    }
}

}  // namespace

std::unique_ptr<RangeCodes> RangeCodes::build(const FlatStore& store, Metric metric, const slot_t* slots, size_t n,
                                              size_t threads, uint64_t epoch, std::optional<Projection> projection) {
    const size_t dim = store.dim();
    if (projection && projection->dim() != dim) throw InvalidArgument("range index: the projection's dim differs");
    std::unique_ptr<RangeCodes> rc(new RangeCodes(dim, metric, epoch, std::move(projection)));
    rc->slots_.assign(slots, slots + n);
    if (n == 0) return rc;
    const bool l2 = metric == Metric::l2;
    ProjectedSQ8* axes = rc->axes_ ? &*rc->axes_ : nullptr;
    const size_t cdim = rc->code_dim(), train = std::min(n, kTrainRows);
    // Train on an even sample of the order (every step-th row): the column need not be random.
    std::vector<const float*> rows(std::max(train, std::min(n, kEncodeRows)));
    std::vector<float> sample(train * dim);
    const size_t step = n / train;
    for (size_t i = 0; i < train; ++i) {
        std::memcpy(&sample[i * dim], store.row(slots[i * step]), dim * sizeof(float));
        rows[i] = &sample[i * dim];
    }
    rc->codec_.train(sample.data(), train, threads);
    allocate(rc->whole_, n, l2);
    if (axes) {
        axes->train(rows.data(), train, threads);
        allocate(rc->axis_scanned_, n, l2);
        rc->full_.resize(n * dim);
    }
    std::vector<float>().swap(sample);

    std::vector<float> raw(std::min(n, kEncodeRows) * dim);
    std::vector<uint8_t> codes(std::min(n, kEncodeRows) * std::max(dim, cdim));
    for (size_t start = 0; start < n; start += kEncodeRows) {
        const size_t m = std::min(kEncodeRows, n - start);
        for (size_t i = 0; i < m; ++i) {
            std::memcpy(&raw[i * dim], store.row(slots[start + i]), dim * sizeof(float));
            rows[i] = &raw[i * dim];
        }
        uint8_t* full = axes ? &rc->full_[start * dim] : codes.data();
        rc->codec_.encode(raw.data(), m, full, threads);
        if (l2)
            for (size_t i = 0; i < m; ++i) rc->whole_.norms[start + i] = rc->codec_.code_norm(full + i * dim);
        interleave_rows(full, m, dim, start, rc->whole_);
        if (axes) {
            axes->encode(rows.data(), m, codes.data(), l2 ? &rc->axis_scanned_.norms[start] : nullptr, threads);
            interleave_rows(codes.data(), m, cdim, start, rc->axis_scanned_);
        }
    }
    return rc;
}

size_t RangeCodes::memory_bytes() const {
    return slots_.capacity() * sizeof(slot_t) + whole_.blocks.capacity() + whole_.norms.capacity() * sizeof(float) +
           axis_scanned_.blocks.capacity() + axis_scanned_.norms.capacity() * sizeof(float) +
           codec_.serialize().size() + full_.capacity() +
           (axes_ ? axes_->memory_bytes() : 0);
}

void RangeCodes::rescore(const float* const* queries, size_t nb, code_scan::Pool* first, code_scan::Pool* tops) const {
    thread_local std::vector<int8_t> w8;
    w8.resize(code_scan::chunks(dim_) * 4);
    for (size_t j = 0; j < nb; ++j) {
        float base, mul;
        code_scan::prepare(codec_, queries[j], w8.data(), &base, &mul);
        code_scan::rescore(codec_.int8_kernels(), full_.data(), dim_, whole_.norms.empty() ? nullptr : whole_.norms.data(),
                           w8.data(), base, mul, first[j], slots_.data(), tops[j]);
    }
}

void RangeCodes::scan(const float* const* queries, size_t nb, size_t begin, size_t end, size_t depth,
                      code_scan::Pool* tops) const {
    end = std::min(end, slots_.size());
    for (size_t j = 0; j < nb; ++j) tops[j].reset(code_scan::pool_size(depth));
    if (begin >= end) return;
    thread_local std::vector<int8_t> w8;
    thread_local std::vector<float> base, mul;
    base.resize(nb);
    mul.resize(nb);
    if (!axes_ || end - begin < kAxisMinRows) {
        const size_t stride = whole_.chunks * 4;
        w8.resize(nb * stride);
        for (size_t j = 0; j < nb; ++j) code_scan::prepare(codec_, queries[j], w8.data() + j * stride, &base[j], &mul[j]);
        return code_scan::scan(codec_.int8_kernels(), whole_, begin, end, slots_.data(), w8.data(), stride,
                               base.data(), mul.data(), nb, tops);
    }
    const size_t stride = axis_scanned_.chunks * 4;
    w8.resize(nb * stride);
    axes_->prepare(queries, nb, w8.data(), stride, base.data(), mul.data());
    // The first pass keeps as many candidates, by position, for the second to re-score on their
    // full codes: the estimates the re-rank goes by.
    thread_local std::vector<code_scan::Pool> first;
    if (first.size() < nb) first.resize(nb);
    for (size_t j = 0; j < nb; ++j) first[j].reset(code_scan::pool_size(depth));
    code_scan::scan(axes_->int8_kernels(), axis_scanned_, begin, end, nullptr, w8.data(), stride, base.data(), mul.data(),
                    nb, first.data());
    rescore(queries, nb, first.data(), tops);
}

}  // namespace vecsearch
