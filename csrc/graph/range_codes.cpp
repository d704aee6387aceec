#include "graph/range_codes.h"

#include <algorithm>
#include <cstring>

#include "graph/code_scan.h"

namespace vecsearch {

namespace {

constexpr size_t kInterleave = code_scan::kRows;
constexpr size_t kTrainRows = 65536;      // rows the SQ8 ranges are learnt from, at most
constexpr size_t kEncodeRows = 4096;      // rows gathered and encoded per step (whole blocks)
constexpr size_t kChunkBytes = 256 << 10;  // codes a block of queries scans while they stay in L2
constexpr size_t kGroup = code_scan::kGroup;

alignas(64) const float kZeros[kInterleave] = {};  // the norms of ip / cosine codes

}  // namespace

RangeCodes::RangeCodes(size_t dim, Metric metric, uint64_t epoch)
    : dim_(dim), chunks_(code_scan::chunks(dim)), epoch_(epoch), codec_(dim, metric) {}

std::unique_ptr<RangeCodes> RangeCodes::build(const FlatStore& store, Metric metric, const slot_t* slots, size_t n,
                                              size_t threads, uint64_t epoch) {
    const size_t dim = store.dim();
    std::unique_ptr<RangeCodes> rc(new RangeCodes(dim, metric, epoch));
    rc->slots_.assign(slots, slots + n);
    // Train on an even sample of the order (every step-th row): the column need not be random.
    const size_t train = std::min(n, kTrainRows);
    std::vector<float> rows(std::max<size_t>(train, std::min(n, kEncodeRows)) * dim);
    if (n == 0) return rc;
    const size_t step = n / train;
    for (size_t i = 0; i < train; ++i) std::memcpy(&rows[i * dim], store.row(slots[i * step]), dim * sizeof(float));
    rc->codec_.train(rows.data(), train, threads);

    const size_t chunks = rc->chunks_, block_bytes = chunks * 64;
    rc->blocks_.assign((n + kInterleave - 1) / kInterleave * block_bytes, 0);
    // Padded to whole blocks: a scan computes all 16 estimates of a block, used or not.
    if (metric == Metric::l2) rc->norms_.resize((n + kInterleave - 1) / kInterleave * kInterleave, 0.0f);
    std::vector<uint8_t> codes(std::min(n, kEncodeRows) * dim);
    for (size_t start = 0; start < n; start += kEncodeRows) {
        const size_t m = std::min(kEncodeRows, n - start);
        for (size_t i = 0; i < m; ++i) std::memcpy(&rows[i * dim], store.row(slots[start + i]), dim * sizeof(float));
        rc->codec_.encode(rows.data(), m, codes.data(), threads);
        // start is a multiple of kEncodeRows, so of kInterleave: whole blocks but for the last.
        const uint8_t* rows16[kInterleave];
        for (size_t i = 0; i < m; i += kInterleave) {
            const size_t nr = std::min(kInterleave, m - i);
            for (size_t r = 0; r < nr; ++r) rows16[r] = &codes[(i + r) * dim];
            code_scan::interleave(rows16, nr, dim, &rc->blocks_[(start + i) / kInterleave * block_bytes]);
        }
        if (metric == Metric::l2)
            for (size_t i = 0; i < m; ++i) rc->norms_[start + i] = rc->codec_.code_norm(&codes[i * dim]);
    }
    return rc;
}

size_t RangeCodes::memory_bytes() const {
    return slots_.capacity() * sizeof(slot_t) + blocks_.capacity() + norms_.capacity() * sizeof(float) +
           codec_.serialize().size();
}

void RangeCodes::prepare(const float* q, int8_t* w8, float* base, float* mul) const {
    code_scan::prepare(codec_, q, w8, base, mul);
}

void RangeCodes::scan(const int8_t* w8, const float* base, const float* mul, size_t nb, size_t begin, size_t end,
                      code_scan::Pool* pools) const {
    end = std::min(end, slots_.size());
    if (begin >= end) return;
    const size_t block_bytes = chunks_ * 64, stride = query_bytes();
    const size_t chunk_rows = std::max<size_t>(1, kChunkBytes / block_bytes) * kInterleave;
    const Int8Kernels& kernels = codec_.int8_kernels();
    for (size_t first = begin / kInterleave * kInterleave; first < end; first += chunk_rows) {
        const size_t last = std::min(end, first + chunk_rows);
        for (size_t g = 0; g < nb; g += kGroup) {
            const size_t nw = std::min(kGroup, nb - g);
            for (size_t row0 = first; row0 < last; row0 += kInterleave) {
                const size_t lo = std::max(row0, begin) - row0, hi = std::min(row0 + kInterleave, last) - row0;
                code_scan::score_block(kernels, &blocks_[row0 / kInterleave * block_bytes], w8 + g * stride, nw,
                                       stride, chunks_, base + g, mul + g, norms_.empty() ? kZeros : &norms_[row0],
                                       &slots_[row0], lo, hi, pools + g);
            }
        }
    }
}

}  // namespace vecsearch
