#include "graph/axis_codes.h"

#include <algorithm>
#include <vector>

namespace vecsearch {

namespace {
constexpr size_t kEncodeRows = 4096;  // rows projected and encoded per step
}  // namespace

void AxisCodes::reserve(size_t capacity) {
    const size_t cs = codec_.code_size();
    if (codes_.size() < capacity * cs) codes_.resize(capacity * cs, 0);
    if (codec_.has_norms() && norms_.size() < capacity) norms_.resize(capacity, 0.0f);
}

void AxisCodes::build(const FlatStore& store, const slot_t* sample, size_t n_sample, size_t count, size_t threads) {
    std::vector<const float*> rows(std::max(n_sample, std::min(count, kEncodeRows)));
    for (size_t i = 0; i < n_sample; ++i) rows[i] = store.row(sample[i]);
    codec_.train(rows.data(), n_sample, threads);
    reserve(std::max(count, store.capacity()));
    const size_t cs = codec_.code_size();
    for (size_t start = 0; start < count; start += kEncodeRows) {
        const size_t m = std::min(kEncodeRows, count - start);
        for (size_t i = 0; i < m; ++i) rows[i] = store.row(slot_t(start + i));
        codec_.encode(rows.data(), m, &codes_[start * cs], codec_.has_norms() ? &norms_[start] : nullptr, threads);
    }
}

void AxisCodes::encode(const FlatStore& store, const slot_t* slots, size_t n, size_t threads) {
    const size_t cs = codec_.code_size();
    std::vector<const float*> rows(std::min(n, kEncodeRows));
    std::vector<uint8_t> codes(rows.size() * cs);
    std::vector<float> norms(rows.size());
    for (size_t start = 0; start < n; start += kEncodeRows) {
        const size_t m = std::min(kEncodeRows, n - start);
        for (size_t i = 0; i < m; ++i) rows[i] = store.row(slots[start + i]);
        codec_.encode(rows.data(), m, codes.data(), norms.data(), threads);
        for (size_t i = 0; i < m; ++i) {
            const size_t s = slots[start + i];
            std::copy(&codes[i * cs], &codes[(i + 1) * cs], &codes_[s * cs]);
            if (codec_.has_norms()) norms_[s] = norms[i];
        }
    }
}

}  // namespace vecsearch
