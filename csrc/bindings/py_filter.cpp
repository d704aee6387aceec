// Binding of compiled filter programs (bindings/py_filter.h).
#include "bindings/py_filter.h"

#include <cstdint>
#include <string>

namespace vecsearch {

PyFilterProgram::PyFilterProgram(py::handle ops, const py::list& rows, const py::list& ranges)
    : ops_(require_array<uint8_t>(ops, "filter ops")) {
    if (ops_.ndim() != 1) throw InvalidArgument("filter ops must be 1-d");
    lists_.reserve(rows.size());
    for (py::handle r : rows) {
        lists_.push_back(require_array<int64_t>(r, "filter rows"));
        if (lists_.back().ndim() != 1) throw InvalidArgument("filter rows must be 1-d");
        views_.push_back(RowList{lists_.back().data(), size_t(lists_.back().size())});
    }
    rank_arrays_.reserve(ranges.size());
    for (py::handle r : ranges) {
        if (!py::isinstance<py::tuple>(r) || py::len(r) != 3)
            throw InvalidArgument("a rank range is (ranks, start, stop)");
        py::tuple triple = py::reinterpret_borrow<py::tuple>(r);
        rank_arrays_.push_back(require_array<uint32_t>(triple[0], "slot ranks"));
        if (rank_arrays_.back().ndim() != 1) throw InvalidArgument("slot ranks must be 1-d");
        const int64_t start = triple[1].cast<int64_t>(), stop = triple[2].cast<int64_t>();
        if (start < 0 || stop < start || stop > int64_t(UINT32_MAX))
            throw InvalidArgument("a rank range must have 0 <= start <= stop < 2**32");
        ranges_.push_back(RankRange{rank_arrays_.back().data(), size_t(rank_arrays_.back().size()), uint32_t(start),
                                    uint32_t(stop)});
    }
}

FilterProgram PyFilterProgram::program() const {
    return FilterProgram{ops_.data(), size_t(ops_.size()), views_.data(), views_.size(), ranges_.data(),
                         ranges_.size()};
}

size_t PyFilterProgram::nbytes() const {
    size_t bytes = size_t(ops_.size());
    for (const RowList& list : views_) bytes += list.count * sizeof(int64_t);
    return bytes + 64 * ranges_.size();  // the slot ranks are one array per column, shared
}

void init_filter(py::module_& m) {
    py::class_<PyFilterProgram>(m, "FilterProgram")
        .def(py::init<py::handle, const py::list&, const py::list&>(), py::arg("ops"), py::arg("rows"),
             py::arg("ranges") = py::list())
        .def_property_readonly("ops", &PyFilterProgram::ops)
        .def_property_readonly("nbytes", &PyFilterProgram::nbytes);
}

}  // namespace vecsearch
