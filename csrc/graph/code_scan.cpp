#include "graph/code_scan.h"

#include "common/prefetch.h"

namespace vecsearch {
namespace code_scan {

namespace {

constexpr size_t kChunkBytes = 256 << 10;  // codes a group of queries scans while they stay in L2
constexpr size_t kBlocksAhead = 2;         // blocks of scattered rows fetched ahead of their gather

alignas(64) const float kZeros[kRows] = {};  // the norms of ip / cosine codes

}  // namespace

void gather(const uint8_t* codes, size_t code_dim, const float* norms, const slot_t* slots, size_t n,
            Interleaved& out) {
    out.chunks = chunks(code_dim);
    const size_t block_bytes = out.chunks * 64, blocks = (n + kRows - 1) / kRows;
    out.blocks.resize(blocks * block_bytes);  // interleave() zeroes the rows past n
    out.norms.assign(norms ? blocks * kRows : 0, 0.0f);
    const uint8_t* rows[kRows];
    for (size_t b = 0; b < blocks; ++b) {
        const size_t first = b * kRows, nr = std::min(kRows, n - first);
        const size_t ahead = first + kBlocksAhead * kRows;
        for (size_t r = ahead; r < std::min(n, ahead + kRows); ++r)
            prefetch_all(codes + size_t(slots[r]) * code_dim, code_dim);
        for (size_t r = 0; r < nr; ++r) {
            rows[r] = codes + size_t(slots[first + r]) * code_dim;
            if (norms) out.norms[first + r] = norms[slots[first + r]];
        }
        interleave(rows, nr, code_dim, &out.blocks[b * block_bytes]);
    }
}

void scan(const Int8Kernels& kernels, const Interleaved& codes, size_t begin, size_t end, const slot_t* labels,
          const int8_t* w8, size_t stride, const float* base, const float* mul, size_t nb, Pool* pools) {
    const size_t block_bytes = codes.chunks * 64;
    const size_t chunk_rows = std::max<size_t>(1, kChunkBytes / block_bytes) * kRows;
    slot_t positions[kRows];
    for (size_t first = begin / kRows * kRows; first < end; first += chunk_rows) {
        const size_t last = std::min(end, first + chunk_rows);
        for (size_t g = 0; g < nb; g += kGroup) {
            const size_t nw = std::min(kGroup, nb - g);
            for (size_t row0 = first; row0 < last; row0 += kRows) {
                const size_t lo = std::max(row0, begin) - row0, hi = std::min(row0 + kRows, last) - row0;
                if (!labels)
                    for (size_t r = 0; r < kRows; ++r) positions[r] = slot_t(row0 + r);
                score_block(kernels, &codes.blocks[row0 / kRows * block_bytes], w8 + g * stride, nw, stride,
                            codes.chunks, base + g, mul + g, codes.norms.empty() ? kZeros : &codes.norms[row0],
                            labels ? labels + row0 : positions, lo, hi, pools + g);
            }
        }
    }
}

}  // namespace code_scan
}  // namespace vecsearch
