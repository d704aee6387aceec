// Checks at the numpy boundary. The Python layer converts and validates user input first;
// these checks make the compiled module safe on its own (direct callers, fuzzers): an array of
// the wrong dtype, layout or shape is an exception here, never a bad read.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"

namespace vecsearch {

namespace py = pybind11;

template <class T>
using carray = py::array_t<T, py::array::c_style>;

// A C-contiguous array of exactly T (no silent conversion).
template <class T>
carray<T> require_array(const py::handle& obj, const char* what) {
    if (!py::isinstance<py::array>(obj)) throw InvalidArgument(std::string(what) + " must be a numpy array");
    py::array arr = py::reinterpret_borrow<py::array>(obj);
    // Equivalent, not identical: numpy has two uint64 types (ulong, ulonglong) that unpickling can swap.
    if (!arr.dtype().equal(py::dtype::of<T>()))
        throw InvalidArgument(std::string(what) + " must have dtype " + std::string(py::str(py::dtype::of<T>())) +
                              ", got " + std::string(py::str(arr.dtype())));
    if (!(arr.flags() & py::array::c_style))
        throw InvalidArgument(std::string(what) + " must be C-contiguous (try numpy.ascontiguousarray)");
    return py::reinterpret_borrow<carray<T>>(arr);
}

// A float32 matrix [n, dim].
inline carray<float> require_matrix(const py::handle& obj, size_t dim, const char* what) {
    carray<float> arr = require_array<float>(obj, what);
    if (arr.ndim() != 2) throw DimensionError(std::string(what) + " must be 2-d");
    if (size_t(arr.shape(1)) != dim)
        throw DimensionError(std::string(what) + " have dim " + std::to_string(arr.shape(1)) + ", index has dim " +
                             std::to_string(dim));
    return arr;
}

// Hands a std::vector to numpy without copying it again.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule free_when_done(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(shape, owned->data(), free_when_done);
}

}  // namespace vecsearch
