// The compiled module vecsearch._core: exception translation and the init_* calls.
#include <pybind11/pybind11.h>

#include <new>

#include "common/errors.h"

namespace py = pybind11;

namespace vecsearch {
void init_simd(py::module_& m);
void init_index(py::module_& m);
void init_quant(py::module_& m);
void init_planner(py::module_& m);
void init_filter(py::module_& m);
}  // namespace vecsearch

namespace {

// The Python classes live in vecsearch/errors.py; look them up when first needed so importing
// the compiled module never imports the package.
void raise_as(const char* name, const char* message) {
    py::object cls = py::module_::import("vecsearch.errors").attr(name);
    PyErr_SetString(cls.ptr(), message);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "vecsearch native core (private: use the vecsearch package)";
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const vecsearch::DimensionError& e) {
            raise_as("DimensionError", e.what());
        } catch (const vecsearch::DuplicateIdError& e) {
            raise_as("DuplicateIdError", e.what());
        } catch (const vecsearch::UnknownIdError& e) {
            raise_as("UnknownIdError", e.what());
        } catch (const vecsearch::FormatError& e) {
            raise_as("FormatError", e.what());
        } catch (const vecsearch::StaleFilterError& e) {
            raise_as("_StaleFilterError", e.what());
        } catch (const vecsearch::IoError& e) {
            PyErr_SetString(PyExc_OSError, e.what());
        } catch (const vecsearch::InvalidArgument& e) {
            raise_as("InvalidArgumentError", e.what());
        }
    });
    vecsearch::init_simd(m);
    vecsearch::init_index(m);
    vecsearch::init_quant(m);
    vecsearch::init_planner(m);
    vecsearch::init_filter(m);
}
