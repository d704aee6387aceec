// The planner's choice for a batch of filtered queries, for the search binding (py_index_filters.cpp),
// which chooses the plans itself when Python leaves them to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bindings/numpy_utils.h"

namespace vecsearch {

// The PLANS code of each query: filter_of[i] < n_filters is its filter, matches[f] that filter's
// match count among `live`; the plan of the lowest ranked estimate at beam width max(ef, k) for
// the number of queries sharing the filter (filter/plan_costs.h). params and acorn: the model as
// vecsearch.filters.planner.CostModel.native packs it.
std::vector<uint8_t> choose_query_plans(py::handle params, py::handle acorn, const uint64_t* matches, size_t n_filters,
                                        const uint32_t* filter_of, size_t nq, size_t live, size_t k, size_t ef);

}  // namespace vecsearch
