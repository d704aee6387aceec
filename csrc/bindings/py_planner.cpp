// The planner's cost evaluation (filter/plan_costs.h) for vecsearch/filters/planner.py.
#include "bindings/numpy_utils.h"
#include "filter/plan_costs.h"

namespace vecsearch {

namespace {

py::array_t<double> plan_costs_py(py::handle params_obj, py::handle acorn_obj, py::handle matches_obj,
                                  py::handle shared_obj, size_t live, size_t ef, bool ranked) {
    carray<double> params = require_array<double>(params_obj, "params");
    carray<double> acorn = require_array<double>(acorn_obj, "acorn");
    carray<int64_t> matches = require_array<int64_t>(matches_obj, "matches");
    carray<int64_t> shared = require_array<int64_t>(shared_obj, "shared_by");
    if (params.ndim() != 1 || size_t(params.shape(0)) != PlanCostModel::kParams)
        throw InvalidArgument("params must hold " + std::to_string(PlanCostModel::kParams) + " values");
    if (acorn.ndim() != 2 || acorn.shape(1) != 3 || acorn.shape(0) < 1)
        throw InvalidArgument("acorn must be [points, 3]: log selectivity, fixed, per ef");
    if (matches.ndim() != 1 || shared.ndim() != 1 || matches.shape(0) != shared.shape(0))
        throw InvalidArgument("matches and shared_by must be 1-d of one length");
    PlanCostModel model;
    std::copy(params.data(), params.data() + PlanCostModel::kParams, model.p);
    for (py::ssize_t i = 0; i < acorn.shape(0); ++i) {
        if (i && !(acorn.at(i, 0) > acorn.at(i - 1, 0))) throw InvalidArgument("acorn selectivities must ascend");
        model.acorn_log_selectivity.push_back(acorn.at(i, 0));
        model.acorn_fixed.push_back(acorn.at(i, 1));
        model.acorn_per_ef.push_back(acorn.at(i, 2));
    }
    const size_t n = size_t(matches.shape(0));
    py::array_t<double> out({py::ssize_t(kPlanCount), py::ssize_t(n)});
    plan_costs(model, matches.data(), shared.data(), n, live, ef, ranked, out.mutable_data());
    return out;
}

}  // namespace

void init_planner(py::module_& m) {
    m.def("plan_costs", &plan_costs_py, py::arg("params"), py::arg("acorn"), py::arg("matches"), py::arg("shared_by"),
          py::arg("live"), py::arg("ef"), py::arg("ranked"));
}

}  // namespace vecsearch
