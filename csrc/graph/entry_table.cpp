#include "graph/entry_table.h"

#include <algorithm>
#include <limits>

#include "common/thread_pool.h"
#include "quant/kmeans.h"

namespace vecsearch {

void EntryTable::clear() {
    slots_.clear();
    vectors_.clear();
}

void EntryTable::assign(std::vector<slot_t> slots, std::vector<float> vectors) {
    slots_ = std::move(slots);
    vectors_ = std::move(vectors);
}

void EntryTable::build(const FlatStore& store, const std::vector<slot_t>& sample, uint64_t seed, size_t threads) {
    clear();
    if (sample.size() < 2 * kEntries) return;
    const size_t d = store.dim();
    std::vector<float> x(sample.size() * d);
    for (size_t i = 0; i < sample.size(); ++i) std::copy(store.row(sample[i]), store.row(sample[i]) + d, &x[i * d]);
    KMeansParams params;
    params.k = kEntries;
    params.iterations = 8;  // a spread of starts, not a codebook: a rough fit serves
    params.seed = seed;
    params.threads = threads;
    const std::vector<float> centres = kmeans(x.data(), sample.size(), d, params);
    std::vector<size_t> nearest(kEntries);
    ThreadPool::global().parallel_for(kEntries, threads, 1, [&](size_t c) {
        float best = std::numeric_limits<float>::infinity();
        for (size_t i = 0; i < sample.size(); ++i) {
            const float dist = store.distance(&centres[c * d], &x[i * d]);
            if (dist < best) {
                best = dist;
                nearest[c] = i;
            }
        }
    });
    std::sort(nearest.begin(), nearest.end());
    nearest.erase(std::unique(nearest.begin(), nearest.end()), nearest.end());
    for (size_t i : nearest) {
        slots_.push_back(sample[i]);
        vectors_.insert(vectors_.end(), &x[i * d], &x[i * d] + d);
    }
}

slot_t EntryTable::nearest(const FlatStore& store, const float* q) const {
    const size_t d = store.dim();
    size_t best = 0;
    float best_dist = std::numeric_limits<float>::infinity();
    for (size_t i = 0; i < slots_.size(); ++i) {
        const float dist = store.distance(q, &vectors_[i * d]);
        if (dist < best_dist) {
            best_dist = dist;
            best = i;
        }
    }
    return slots_[best];
}

}  // namespace vecsearch
