// Range-index searches: queries whose filter is a range of one attribute column scan that
// range's stretch of the column-ordered codes (graph/range_codes.h) in blocks of queries that
// share it, then re-score their best candidates exactly from the vectors (RAM or disk).
#include <algorithm>
#include <unordered_map>

#include "graph/code_scan.h"
#include "graph/hnsw_detail.h"

namespace vecsearch {

namespace {

// Queries that share a span are scanned together, at most this many per pass over its codes:
// their int8 forms and heaps stay in L1/L2 beside the chunk of codes being scored.
constexpr size_t kRangeBlock = 32;

}  // namespace

std::unique_ptr<RangeCodes> Hnsw::build_range_codes(const slot_t* slots, size_t n, size_t threads,
                                                    std::optional<Projection> projection) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    for (size_t i = 0; i < n; ++i)
        if (slots[i] >= count_ || deleted_[slots[i]])
            throw InvalidArgument("range index: slot " + std::to_string(slots[i]) + " holds no live vector");
    return RangeCodes::build(store_, params_.metric, slots, n, threads, epoch_, std::move(projection));
}

void Hnsw::search_range(const RangeCodes& codes, const float* queries, size_t nq, const uint64_t* spans,
                        size_t n_spans, const uint32_t* filter_of, size_t k, size_t rerank, size_t threads,
                        external_id* out_ids, float* out_dists) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (codes.epoch() != epoch_) throw StaleFilterError("the index changed after its range index was built");
    if (codes.dim() != params_.dim) throw DimensionError("the range index's dim differs from the index's");
    for (size_t f = 0; f < n_spans; ++f)
        if (spans[2 * f] > spans[2 * f + 1] || spans[2 * f + 1] > codes.size())
            throw InvalidArgument("range index: span out of its rows");
    std::unordered_map<uint32_t, std::vector<uint32_t>> groups;
    for (size_t i = 0; i < nq; ++i) {
        if (filter_of[i] >= n_spans) throw InvalidArgument("filter index out of range");
        groups[filter_of[i]].push_back(uint32_t(i));
    }
    struct Task {
        uint32_t filter;
        const uint32_t* block;
        size_t nb;
    };
    std::vector<Task> tasks;
    for (auto& [f, group] : groups)
        for (size_t b = 0; b < group.size(); b += kRangeBlock)
            tasks.push_back(Task{f, group.data() + b, std::min(kRangeBlock, group.size() - b)});
    const size_t depth = std::max(k, rerank), dim = params_.dim;
    ThreadPool::global().parallel_for(tasks.size(), threads, 1, [&](size_t t) {
        const Task& task = tasks[t];
        thread_local std::vector<const float*> rows;
        thread_local std::vector<code_scan::Pool> tops;
        rows.resize(task.nb);
        if (tops.size() < task.nb) tops.resize(task.nb);
        for (size_t j = 0; j < task.nb; ++j) rows[j] = queries + size_t(task.block[j]) * dim;
        codes.scan(rows.data(), task.nb, spans[2 * task.filter], spans[2 * task.filter + 1], depth, tops.data());
        const uint64_t begin = spans[2 * task.filter], end = spans[2 * task.filter + 1];
        finish_code_scans(queries, task.block, task.nb, tops.data(), k, depth, codes.slots() + begin, end - begin,
                          0.0f, out_ids, out_dists, nullptr);
    });
}

}  // namespace vecsearch
