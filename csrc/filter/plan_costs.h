// The filtered-search planner's cost model, evaluated: vecsearch/filters/planner.py measures the
// model on the index (CostModel.measure) and documents each plan's formula; this computes them
// for a batch's filters in one call, where numpy's thirty-odd small array operations cost a
// batch of a few hundred microseconds of scans tens of microseconds more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vecsearch {

struct PlanCostModel {
    // The order in which vecsearch.filters.planner.CostModel._native packs them.
    enum Param : size_t {
        kScanFixed, kScanPerMatch, kScanBlockPerQuery, kScanBlockPerBlock, kScanBlockWidest, kBlockedScans,
        kWalkFixed, kWalkPerEf, kScanPreference, kCodesFixed, kCodesPerDepth, kCodesPerMatch,
        kCodesBlockPerQuery, kCodesBlockPerBlock, kPostMinSelectivity, kScanBlockMin, kScanBlockFixed, kParams
    };
    double p[kParams];
    // ACORN's timings at a few selectivities, ascending: log(selectivity), fixed, per unit of ef.
    std::vector<double> acorn_log_selectivity, acorn_fixed, acorn_per_ef;
};

// Plans in vecsearch.filters.planner.PLANS order.
constexpr size_t kPlanCount = 4;

// out[plan * n + i]: the estimated microseconds of each plan for filter i, with matches[i]
// matching vectors among `live`, shared by shared_by[i] queries, at beam width `ef`. ranked: as
// the planner compares them (the scan divided by its preference, post infinite below its minimum
// selectivity), else the raw estimates explain() reports.
void plan_costs(const PlanCostModel& model, const int64_t* matches, const int64_t* shared_by, size_t n, size_t live,
                size_t ef, bool ranked, double* out);

// out[i]: the plan the planner picks for filter i (PLANS code): the lowest ranked estimate at
// beam width max(ef, k), the first of equal ones; the scan for a filter of at most k matches.
void plan_choose(const PlanCostModel& model, const int64_t* matches, const int64_t* shared_by, size_t n, size_t live,
                 size_t k, size_t ef, uint8_t* out);

// A range index's measured cost (vecsearch.filters.range_index.RangeCost): fixed + depth *
// per_depth + rows * per_row, per_row_shared for a filter at least kRangeBlockMin queries share
// (scanned as a block), per_row_alone otherwise.
struct RangeCostModel {
    double fixed = 0, per_depth = 0, per_row_shared = 0, per_row_alone = 0;
    static constexpr int64_t kRangeBlockMin = 4;
};

// out[i]: whether the range index answers query i (of filter filter_of[i] < n_filters, whose
// range holds matches[f] live vectors). Per filter the cheaper side at re-rank depth max(k,
// rerank) against the cheapest other plan at beam width max(ef, k); but the other plans cost the
// batch a search call of their own (split_cost microseconds): unless the queries they would
// answer faster save more than that in all, the range index answers every query with a match.
void range_asked(const PlanCostModel& model, const RangeCostModel& range, const int64_t* matches, size_t n_filters,
                 const uint32_t* filter_of, size_t nq, size_t live, size_t k, size_t ef, size_t rerank,
                 double split_cost, uint8_t* out);

}  // namespace vecsearch
