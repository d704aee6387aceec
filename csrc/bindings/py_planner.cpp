// The planner's cost evaluation and choice (filter/plan_costs.h) for vecsearch/filters/planner.py.
#include "bindings/py_planner.h"

#include "filter/plan_costs.h"

namespace vecsearch {

namespace {

PlanCostModel model_of(py::handle params_obj, py::handle acorn_obj) {
    carray<double> params = require_array<double>(params_obj, "params");
    carray<double> acorn = require_array<double>(acorn_obj, "acorn");
    if (params.ndim() != 1 || size_t(params.shape(0)) != PlanCostModel::kParams)
        throw InvalidArgument("params must hold " + std::to_string(PlanCostModel::kParams) + " values");
    if (acorn.ndim() != 2 || acorn.shape(1) != 3 || acorn.shape(0) < 1)
        throw InvalidArgument("acorn must be [points, 3]: log selectivity, fixed, per ef");
    PlanCostModel model;
    std::copy(params.data(), params.data() + PlanCostModel::kParams, model.p);
    for (py::ssize_t i = 0; i < acorn.shape(0); ++i) {
        if (i && !(acorn.at(i, 0) > acorn.at(i - 1, 0))) throw InvalidArgument("acorn selectivities must ascend");
        model.acorn_log_selectivity.push_back(acorn.at(i, 0));
        model.acorn_fixed.push_back(acorn.at(i, 1));
        model.acorn_per_ef.push_back(acorn.at(i, 2));
    }
    return model;
}

struct Filters {
    carray<int64_t> matches, shared;
    size_t n;
};

Filters filters_of(py::handle matches_obj, py::handle shared_obj) {
    carray<int64_t> matches = require_array<int64_t>(matches_obj, "matches");
    carray<int64_t> shared = require_array<int64_t>(shared_obj, "shared_by");
    if (matches.ndim() != 1 || shared.ndim() != 1 || matches.shape(0) != shared.shape(0))
        throw InvalidArgument("matches and shared_by must be 1-d of one length");
    return Filters{matches, shared, size_t(matches.shape(0))};
}

py::array_t<double> plan_costs_py(py::handle params, py::handle acorn, py::handle matches, py::handle shared_by,
                                  size_t live, size_t ef, bool ranked) {
    const PlanCostModel model = model_of(params, acorn);
    const Filters f = filters_of(matches, shared_by);
    py::array_t<double> out({py::ssize_t(kPlanCount), py::ssize_t(f.n)});
    plan_costs(model, f.matches.data(), f.shared.data(), f.n, live, ef, ranked, out.mutable_data());
    return out;
}

py::array_t<uint8_t> plan_choose_py(py::handle params, py::handle acorn, py::handle matches, py::handle shared_by,
                                    size_t live, size_t k, size_t ef) {
    const PlanCostModel model = model_of(params, acorn);
    const Filters f = filters_of(matches, shared_by);
    py::array_t<uint8_t> out(py::ssize_t(f.n));
    plan_choose(model, f.matches.data(), f.shared.data(), f.n, live, k, ef, out.mutable_data());
    return out;
}

py::array_t<bool> range_asked_py(py::handle params, py::handle acorn, py::handle range_obj, py::handle matches_obj,
                                 py::handle filter_of_obj, size_t live, size_t k, size_t ef, size_t rerank,
                                 double split_cost) {
    const PlanCostModel model = model_of(params, acorn);
    carray<double> range_cost = require_array<double>(range_obj, "range_cost");
    if (range_cost.ndim() != 1 || range_cost.shape(0) != 4)
        throw InvalidArgument("range_cost must hold 4 values: fixed, per depth, per row shared, per row alone");
    const RangeCostModel range{range_cost.at(0), range_cost.at(1), range_cost.at(2), range_cost.at(3)};
    carray<int64_t> matches = require_array<int64_t>(matches_obj, "matches");
    carray<uint32_t> filter_of = require_array<uint32_t>(filter_of_obj, "filter_of");
    if (matches.ndim() != 1 || filter_of.ndim() != 1) throw InvalidArgument("matches and filter_of must be 1-d");
    const size_t nf = size_t(matches.shape(0)), nq = size_t(filter_of.shape(0));
    for (size_t i = 0; i < nq; ++i)
        if (filter_of.data()[i] >= nf) throw InvalidArgument("filter index out of range");
    py::array_t<bool> out{py::ssize_t(nq)};
    static_assert(sizeof(bool) == sizeof(uint8_t), "bools are written as bytes");
    range_asked(model, range, matches.data(), nf, filter_of.data(), nq, live, k, ef, rerank, split_cost,
                reinterpret_cast<uint8_t*>(out.mutable_data()));
    return out;
}

}  // namespace

std::vector<uint8_t> choose_query_plans(py::handle params, py::handle acorn, const uint64_t* matches, size_t n_filters,
                                        const uint32_t* filter_of, size_t nq, size_t live, size_t k, size_t ef) {
    if (params.is_none() || acorn.is_none()) throw InvalidArgument("plans=None needs the planner's params and acorn");
    const PlanCostModel model = model_of(params, acorn);
    std::vector<int64_t> counts(matches, matches + n_filters), shared(n_filters, 0);
    for (size_t i = 0; i < nq; ++i) ++shared[filter_of[i]];
    std::vector<uint8_t> per_filter(n_filters), per_query(nq);
    plan_choose(model, counts.data(), shared.data(), n_filters, live, k, ef, per_filter.data());
    for (size_t i = 0; i < nq; ++i) per_query[i] = per_filter[filter_of[i]];
    return per_query;
}

void init_planner(py::module_& m) {
    m.def("plan_costs", &plan_costs_py, py::arg("params"), py::arg("acorn"), py::arg("matches"), py::arg("shared_by"),
          py::arg("live"), py::arg("ef"), py::arg("ranked"));
    m.def("plan_choose", &plan_choose_py, py::arg("params"), py::arg("acorn"), py::arg("matches"),
          py::arg("shared_by"), py::arg("live"), py::arg("k"), py::arg("ef"));
    m.def("range_asked", &range_asked_py, py::arg("params"), py::arg("acorn"), py::arg("range_cost"),
          py::arg("matches"), py::arg("filter_of"), py::arg("live"), py::arg("k"), py::arg("ef"), py::arg("rerank"),
          py::arg("split_cost"));
}

}  // namespace vecsearch
