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

}  // namespace

void plan_costs(const PlanCostModel& model, const int64_t* matches, const int64_t* shared_by, size_t n, size_t live,
                size_t ef, bool ranked, double* out) {
    using P = PlanCostModel;
    const double* p = model.p;
    const double inf = std::numeric_limits<double>::infinity();
    const double live_d = double(std::max<size_t>(live, 1)), ef_d = double(ef);
    for (size_t i = 0; i < n; ++i) {
        const double m = double(matches[i]);
        const double selectivity = std::max(m / live_d, 1e-12);
        const double shared = std::max(double(shared_by[i]), 1.0);
        const bool block = shared >= p[P::kScanBlockMin];
        const double per_block = 1.0 / std::min(shared, p[P::kScanBlockWidest]);
        const double scan_per_match = block && p[P::kBlockedScans] != 0.0
                                          ? p[P::kScanBlockPerQuery] + p[P::kScanBlockPerBlock] * per_block
                                          : p[P::kScanPerMatch];
        const double codes_per_match = block ? p[P::kCodesBlockPerQuery] + p[P::kCodesBlockPerBlock] * per_block
                                             : p[P::kCodesPerMatch];
        const double log_s = std::log(selectivity);
        double scan = p[P::kScanFixed] + m * scan_per_match;
        const double acorn = interp(log_s, model.acorn_log_selectivity, model.acorn_fixed) +
                             interp(log_s, model.acorn_log_selectivity, model.acorn_per_ef) * ef_d;
        double post = p[P::kWalkFixed] + p[P::kWalkPerEf] * ef_d / selectivity;
        const double codes = p[P::kCodesFixed] + p[P::kCodesPerDepth] * ef_d + m * codes_per_match;
        if (ranked) {
            scan /= p[P::kScanPreference];
            if (m < p[P::kPostMinSelectivity] * double(live)) post = inf;
        }
        out[i] = scan;
        out[n + i] = acorn;
        out[2 * n + i] = post;
        out[3 * n + i] = codes;
    }
}

}  // namespace vecsearch
