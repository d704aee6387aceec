#include "filter/plan_costs.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vecsearch {

namespace {

// np.interp: linear between the points, clamped to the end values outside them.
double interp(double x, const std::vector<double>& xs, const std::vector<double>& ys) {
    if (xs.empty()) return 0.0;
    if (x <= xs.front()) return ys.front();
    if (x >= xs.back()) return ys.back();
    const size_t hi = size_t(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin());
    const size_t lo = hi - 1;
    if (x == xs[lo]) return ys[lo];
    return ys[lo] + (ys[hi] - ys[lo]) * (x - xs[lo]) / (xs[hi] - xs[lo]);
}

// The four estimates of one filter (PLANS order).
void costs_of(const PlanCostModel& model, int64_t matches, int64_t shared_by, size_t live, size_t ef, bool ranked,
              double* out) {
    using P = PlanCostModel;
    const double* p = model.p;
    const double m = double(matches), ef_d = double(ef);
    const double selectivity = std::max(m / double(std::max<size_t>(live, 1)), 1e-12);
    const double shared = std::max(double(shared_by), 1.0);
    const bool block = shared >= p[P::kScanBlockMin];
    // Not extrapolated past the widest block timed: the fit's intercept came out at less than
    // half the measured cost of a 200-query block (200k x 384, 2,000 matches: 13 vs 31 us).
    const double per_block = 1.0 / std::min(shared, p[P::kScanBlockWidest]);
    const bool blocked_scan = block && p[P::kBlockedScans] != 0.0;
    const double scan_per_match =
        blocked_scan ? p[P::kScanBlockPerQuery] + p[P::kScanBlockPerBlock] * per_block : p[P::kScanPerMatch];
    const double codes_per_match =
        block ? p[P::kCodesBlockPerQuery] + p[P::kCodesBlockPerBlock] * per_block : p[P::kCodesPerMatch];
    const double log_s = std::log(selectivity);
    double scan = p[blocked_scan ? P::kScanBlockFixed : P::kScanFixed] + m * scan_per_match;
    double post = p[P::kWalkFixed] + p[P::kWalkPerEf] * ef_d / selectivity;
    if (ranked) {
        scan /= p[P::kScanPreference];
        if (m < p[P::kPostMinSelectivity] * double(live)) post = std::numeric_limits<double>::infinity();
    }
    out[0] = scan;
    out[1] = interp(log_s, model.acorn_log_selectivity, model.acorn_fixed) +
             interp(log_s, model.acorn_log_selectivity, model.acorn_per_ef) * ef_d;
    out[2] = post;
    out[3] = p[P::kCodesFixed] + p[P::kCodesPerDepth] * ef_d + m * codes_per_match;
}

}  // namespace

void plan_costs(const PlanCostModel& model, const int64_t* matches, const int64_t* shared_by, size_t n, size_t live,
                size_t ef, bool ranked, double* out) {
    double c[kPlanCount];
    for (size_t i = 0; i < n; ++i) {
        costs_of(model, matches[i], shared_by[i], live, ef, ranked, c);
        for (size_t plan = 0; plan < kPlanCount; ++plan) out[plan * n + i] = c[plan];
    }
}

void plan_choose(const PlanCostModel& model, const int64_t* matches, const int64_t* shared_by, size_t n, size_t live,
                 size_t k, size_t ef, uint8_t* out) {
    double c[kPlanCount];
    for (size_t i = 0; i < n; ++i) {
        out[i] = 0;  // the scan: also for a filter with at most k matches, answered whole
        if (matches[i] <= int64_t(k)) continue;
        costs_of(model, matches[i], shared_by[i], live, std::max(ef, k), true, c);
        for (uint8_t plan = 1; plan < kPlanCount; ++plan)
            if (c[plan] < c[out[i]]) out[i] = plan;  // the first of equal costs, as numpy's argmin
    }
}

void range_asked(const PlanCostModel& model, const RangeCostModel& range, const int64_t* matches, size_t n_filters,
                 const uint32_t* filter_of, size_t nq, size_t live, size_t k, size_t ef, size_t rerank,
                 double split_cost, uint8_t* out) {
    std::vector<int64_t> shared(n_filters, 0);
    for (size_t i = 0; i < nq; ++i) ++shared[filter_of[i]];
    std::vector<uint8_t> cheaper(n_filters);
    const double depth = double(std::max(k, rerank));
    double savings = 0;  // what the other plans would save the queries they are cheaper for
    double c[kPlanCount];
    for (size_t f = 0; f < n_filters; ++f) {
        const double per_row =
            shared[f] >= RangeCostModel::kRangeBlockMin ? range.per_row_shared : range.per_row_alone;
        const double mine = range.fixed + depth * range.per_depth + double(matches[f]) * per_row;
        costs_of(model, matches[f], shared[f], live, std::max(ef, k), true, c);
        const double theirs = *std::min_element(c, c + kPlanCount);
        cheaper[f] = mine < theirs;
        if (matches[f] > 0) savings += double(shared[f]) * std::max(mine - theirs, 0.0);
    }
    const bool split = !(savings < split_cost);
    for (size_t i = 0; i < nq; ++i) {
        const uint32_t f = filter_of[i];
        out[i] = matches[f] > 0 && (!split || cheaper[f]);
    }
}

}  // namespace vecsearch
