#include "graph/range_codes.h"

#include <algorithm>
#include <cstring>

#include "common/errors.h"

namespace vecsearch {

namespace {

constexpr size_t kInterleave = code_scan::kRows;
constexpr size_t kTrainRows = 65536;       // rows the SQ8 ranges are learnt from, at most
constexpr size_t kEncodeRows = 4096;       // rows gathered and encoded per step (whole blocks)

}  // namespace

RangeCodes::RangeCodes(size_t dim, Metric metric, uint64_t epoch, std::optional<Projection> projection)
    : dim_(dim), metric_(metric), epoch_(epoch), codec_(dim, metric) {
    if (projection) axes_.emplace(std::move(*projection), metric);
    scanned_.chunks = code_scan::chunks(code_dim());
}

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
    if (axes) {
        axes->train(rows.data(), train, threads);
        rc->full_.resize(n * dim);
        if (l2) rc->full_norms_.resize(n);
    }
    std::vector<float>().swap(sample);

    code_scan::Interleaved& sc = rc->scanned_;
    const size_t block_bytes = sc.chunks * 64, blocks = (n + kInterleave - 1) / kInterleave;
    sc.blocks.assign(blocks * block_bytes, 0);
    // Padded to whole blocks: a scan computes all 16 estimates of a block, used or not.
    if (l2) sc.norms.assign(blocks * kInterleave, 0.0f);
    std::vector<float> raw(std::min(n, kEncodeRows) * dim);
    std::vector<uint8_t> codes(std::min(n, kEncodeRows) * cdim);
    for (size_t start = 0; start < n; start += kEncodeRows) {
        const size_t m = std::min(kEncodeRows, n - start);
        for (size_t i = 0; i < m; ++i) {
            std::memcpy(&raw[i * dim], store.row(slots[start + i]), dim * sizeof(float));
            rows[i] = &raw[i * dim];
        }
        if (axes) {
            uint8_t* full = &rc->full_[start * dim];
            rc->codec_.encode(raw.data(), m, full, threads);
            if (l2)
                for (size_t i = 0; i < m; ++i) rc->full_norms_[start + i] = rc->codec_.code_norm(full + i * dim);
            axes->encode(rows.data(), m, codes.data(), l2 ? &sc.norms[start] : nullptr, threads);
        } else {
            rc->codec_.encode(raw.data(), m, codes.data(), threads);
            if (l2)
                for (size_t i = 0; i < m; ++i) sc.norms[start + i] = rc->codec_.code_norm(&codes[i * cdim]);
        }
        // start is a multiple of kEncodeRows, so of kInterleave: whole blocks but for the last.
        const uint8_t* rows16[kInterleave];
        for (size_t i = 0; i < m; i += kInterleave) {
            const size_t nr = std::min(kInterleave, m - i);
            for (size_t r = 0; r < nr; ++r) rows16[r] = &codes[(i + r) * cdim];
            code_scan::interleave(rows16, nr, cdim, &sc.blocks[(start + i) / kInterleave * block_bytes]);
        }
    }
    return rc;
}

size_t RangeCodes::memory_bytes() const {
    return slots_.capacity() * sizeof(slot_t) + scanned_.blocks.capacity() + scanned_.norms.capacity() * sizeof(float) +
           codec_.serialize().size() + full_.capacity() + full_norms_.capacity() * sizeof(float) +
           (axes_ ? axes_->memory_bytes() : 0);
}

void RangeCodes::rescore(const float* const* queries, size_t nb, code_scan::Pool* first, code_scan::Pool* tops) const {
    thread_local std::vector<int8_t> w8;
    w8.resize(code_scan::chunks(dim_) * 4);
    for (size_t j = 0; j < nb; ++j) {
        float base, mul;
        code_scan::prepare(codec_, queries[j], w8.data(), &base, &mul);
        code_scan::rescore(codec_.int8_kernels(), full_.data(), dim_, full_norms_.empty() ? nullptr : full_norms_.data(),
                           w8.data(), base, mul, first[j], slots_.data(), tops[j]);
    }
}

void RangeCodes::scan(const float* const* queries, size_t nb, size_t begin, size_t end, size_t depth,
                      code_scan::Pool* tops) const {
    end = std::min(end, slots_.size());
    const size_t stride = scanned_.chunks * 4;
    thread_local std::vector<int8_t> w8;
    thread_local std::vector<float> base, mul;
    w8.resize(nb * stride);
    base.resize(nb);
    mul.resize(nb);
    if (axes_) {
        axes_->prepare(queries, nb, w8.data(), stride, base.data(), mul.data());
    } else {
        for (size_t j = 0; j < nb; ++j) code_scan::prepare(codec_, queries[j], w8.data() + j * stride, &base[j], &mul[j]);
    }
    for (size_t j = 0; j < nb; ++j) tops[j].reset(code_scan::pool_size(depth));
    if (begin >= end) return;
    const Int8Kernels& kernels = axes_ ? axes_->int8_kernels() : codec_.int8_kernels();
    if (!axes_)
        return code_scan::scan(kernels, scanned_, begin, end, slots_.data(), w8.data(), stride, base.data(), mul.data(),
                               nb, tops);
    // The first pass keeps as many candidates, by position, for the second to re-score on their
    // full codes: the estimates the re-rank goes by.
    thread_local std::vector<code_scan::Pool> first;
    if (first.size() < nb) first.resize(nb);
    for (size_t j = 0; j < nb; ++j) first[j].reset(code_scan::pool_size(depth));
    code_scan::scan(kernels, scanned_, begin, end, nullptr, w8.data(), stride, base.data(), mul.data(), nb, first.data());
    rescore(queries, nb, first.data(), tops);
}

}  // namespace vecsearch
