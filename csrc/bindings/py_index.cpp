// HnswIndex (bindings/py_hnsw.h): building, searching and sizes, and the class's registration.
#include "bindings/py_hnsw.h"
#include "common/thread_pool.h"
#include "storage/uring.h"

#ifdef __GLIBC__  // defined by the C library's headers, so tested after them
#include <malloc.h>
#endif

namespace vecsearch {

py::array_t<uint64_t> PyHnsw::add(py::handle vectors_obj, py::handle ids_obj, size_t threads) {
    carray<float> vectors = require_matrix(vectors_obj, h_->params().dim, "vectors");
    size_t n = vectors.shape(0);
    carray<uint64_t> ids;
    const uint64_t* ids_ptr = nullptr;
    if (!ids_obj.is_none()) {
        ids = require_ids(ids_obj, "ids");
        if (size_t(ids.shape(0)) != n)
            throw InvalidArgument("got " + std::to_string(ids.shape(0)) + " ids for " + std::to_string(n) + " vectors");
        ids_ptr = ids.data();
    }
    py::array_t<uint64_t> out(py::ssize_t{py::ssize_t(n)});
    uint64_t* out_ptr = out.mutable_data();
    const float* data = vectors.data();
    py::gil_scoped_release release;
    h_->add(data, ids_ptr, n, clamp_threads(threads), out_ptr);
    return out;
}

void PyHnsw::reserve_more(size_t n) {
    py::gil_scoped_release release;
    h_->reserve_more(n);
}

void PyHnsw::remove(py::handle ids_obj) {
    carray<uint64_t> ids = require_ids(ids_obj, "ids");
    py::gil_scoped_release release;
    h_->remove(ids.data(), ids.shape(0));
}

py::tuple PyHnsw::search(py::handle queries_obj, size_t k, size_t ef, size_t rerank, size_t threads) const {
    carray<float> queries = require_matrix(queries_obj, h_->params().dim, "queries");
    if (k == 0) throw InvalidArgument("k must be positive");
    size_t nq = queries.shape(0);
    py::array_t<uint64_t> ids({py::ssize_t(nq), py::ssize_t(k)});
    py::array_t<float> dists({py::ssize_t(nq), py::ssize_t(k)});
    uint64_t* ip = ids.mutable_data();
    float* dp = dists.mutable_data();
    const float* q = queries.data();
    {
        py::gil_scoped_release release;
        h_->search(q, nq, k, ef, rerank, clamp_threads(threads), ip, dp);
    }
    return py::make_tuple(ids, dists);
}

py::array_t<float> PyHnsw::get_vectors(py::handle ids_obj) const {
    carray<uint64_t> ids = require_ids(ids_obj, "ids");
    size_t n = ids.shape(0);
    py::array_t<float> out({py::ssize_t(n), py::ssize_t(h_->params().dim)});
    float* o = out.mutable_data();
    {
        py::gil_scoped_release release;
        h_->get_vectors(ids.data(), n, o);
    }
    return out;
}

size_t PyHnsw::size() const {
    py::gil_scoped_release release;
    return h_->size();
}

size_t PyHnsw::slot_count() const {
    py::gil_scoped_release release;
    return h_->slot_count();
}

bool PyHnsw::contains(uint64_t id) const {
    py::gil_scoped_release release;
    return h_->contains(id);
}

size_t PyHnsw::memory_bytes() const {
    py::gil_scoped_release release;
    return h_->memory_bytes();
}

py::dict PyHnsw::memory_parts() const {
    Hnsw::MemoryParts p;
    {
        py::gil_scoped_release release;
        p = h_->memory_parts();
    }
    py::dict d;
    d["vectors"] = p.vectors;
    d["graph"] = p.graph;
    d["codes"] = p.codes;
    d["ids"] = p.ids;
    d["vectors_mapped"] = p.vectors_mapped;
    return d;
}

py::dict PyHnsw::params() const {
    const HnswParams& p = h_->params();
    py::dict d;
    d["dim"] = p.dim;
    d["metric"] = metric_name(p.metric);
    d["M"] = p.M;
    d["ef_construction"] = p.ef_construction;
    d["seed"] = p.seed;
    d["acorn_gamma"] = p.acorn_gamma;
    d["acorn_m_beta"] = p.m_beta();
    return d;
}

void init_index(py::module_& m) {
    m.attr("MISSING_ID") = py::int_(kMissingId);
    m.def("hardware_threads", &ThreadPool::hardware_threads);
    m.def("io_uring_available", &Uring::available);
    // Gives the C heap's free pages back to the system: a load's temporaries would otherwise
    // stay in the process's resident memory (glibc keeps freed memory for reuse).
    m.def("trim_heap", []() {
#ifdef __GLIBC__
        malloc_trim(0);
#endif
    });
    py::class_<PyRangeCodes>(m, "RangeCodes")
        .def("size", &PyRangeCodes::size)
        .def("epoch", &PyRangeCodes::epoch)
        .def("memory_bytes", &PyRangeCodes::memory_bytes)
        .def("code_dim", &PyRangeCodes::code_dim);
    py::class_<PyHnsw>(m, "HnswIndex")
        .def(py::init<size_t, const std::string&, size_t, size_t, uint64_t, size_t, size_t>(), py::arg("dim"),
             py::arg("metric"), py::arg("M"), py::arg("ef_construction"), py::arg("seed"), py::arg("acorn_gamma") = 1,
             py::arg("acorn_m_beta") = 0)
        .def("add", &PyHnsw::add, py::arg("vectors"), py::arg("ids"), py::arg("threads"))
        .def("remove", &PyHnsw::remove, py::arg("ids"))
        .def("reserve_more", &PyHnsw::reserve_more, py::arg("n"))
        .def("search", &PyHnsw::search, py::arg("queries"), py::arg("k"), py::arg("ef"), py::arg("rerank"),
             py::arg("threads"))
        .def("get_vectors", &PyHnsw::get_vectors, py::arg("ids"))
        .def("ids_to_bitmap", &PyHnsw::ids_to_bitmap, py::arg("ids"))
        .def("predicate_to_bitmap", &PyHnsw::predicate_to_bitmap, py::arg("address"))
        .def("evaluate_filters", &PyHnsw::evaluate_filters, py::arg("programs"), py::arg("row_slots"),
             py::arg("threads"))
        .def("slots_of", &PyHnsw::slots_of, py::arg("ids"), py::arg("missing_ok") = false)
        .def("epoch", &PyHnsw::epoch)
        .def("search_filtered", &PyHnsw::search_filtered, py::arg("queries"), py::arg("k"), py::arg("ef"),
             py::arg("rerank"), py::arg("threads"), py::arg("bitmaps"), py::arg("matches"), py::arg("filter_of"), py::arg("plans"),
             py::arg("epoch"), py::arg("params") = py::none(), py::arg("acorn") = py::none())
        .def("build_range_codes", &PyHnsw::build_range_codes, py::arg("slots"), py::arg("threads"),
             py::arg("mean") = py::none(), py::arg("axes") = py::none())
        .def("attach_axis_codes", &PyHnsw::attach_axis_codes, py::arg("mean"), py::arg("axes"), py::arg("threads"))
        .def("axis_code_dim", &PyHnsw::axis_code_dim)
        .def("search_range", &PyHnsw::search_range, py::arg("codes"), py::arg("queries"), py::arg("k"),
             py::arg("rerank"), py::arg("threads"), py::arg("spans"), py::arg("filter_of"))
        .def("size", &PyHnsw::size)
        .def("slot_count", &PyHnsw::slot_count)
        .def("contains", &PyHnsw::contains, py::arg("id"))
        .def("memory_bytes", &PyHnsw::memory_bytes)
        .def("memory_parts", &PyHnsw::memory_parts)
        .def("attach_codec", &PyHnsw::attach_codec, py::arg("codec"), py::arg("codes"), py::arg("threads"),
             py::arg("mapped_source") = false)
        .def("export_codes", &PyHnsw::export_codes)
        .def("detach_codec", &PyHnsw::detach_codec)
        .def("enable_neighbour_codes", &PyHnsw::enable_neighbour_codes, py::arg("on"), py::arg("threads"))
        .def("has_neighbour_codes", &PyHnsw::has_neighbour_codes)
        .def("params", &PyHnsw::params)
        .def("export_state", &PyHnsw::export_state, py::arg("with_vectors") = true)
        .def("attach_reader", &PyHnsw::attach_reader, py::arg("path"), py::arg("offset"), py::arg("rows"),
             py::arg("use_uring"))
        .def("detach_reader", &PyHnsw::detach_reader)
        .def("attach_refine", &PyHnsw::attach_refine, py::arg("codec"), py::arg("codes"), py::arg("terms"),
             py::arg("errors"))
        .def("export_refine", &PyHnsw::export_refine)
        .def("set_entry_table", &PyHnsw::set_entry_table, py::arg("slots"), py::arg("vectors"), py::arg("built_at"))
        .def("has_refine", &PyHnsw::has_refine)
        .def("refine_bounds", &PyHnsw::refine_bounds, py::arg("query"), py::arg("ids"))
        .def("set_bounded_rerank", &PyHnsw::set_bounded_rerank, py::arg("on"))
        .def("use_external_vectors", &PyHnsw::use_external_vectors, py::arg("buffer"), py::arg("copy"))
        .def("io_stats", &PyHnsw::io_stats)
        .def("reset_io_stats", &PyHnsw::reset_io_stats)
        .def("plan_stats", &PyHnsw::plan_stats)
        .def("reset_plan_stats", &PyHnsw::reset_plan_stats)
        .def_static("restore", &PyHnsw::restore, py::arg("params"), py::arg("state"), py::arg("borrow_vectors"),
                    py::arg("mapped_source") = false);
}

}  // namespace vecsearch
