// The Python class HnswIndex (vecsearch._core): buffers checked, outputs allocated, the GIL released
// around every call into the index. Its methods live in one file per concern: py_index.cpp (build,
// search, sizes, and the class's registration), py_index_filters.cpp (bitmaps, filtered and range
// searches, axis codes), py_index_state.cpp (export and restore, codecs, refine codes, entry table)
// and py_index_disk.cpp (vectors read from disk or built into a file mapping, their counters).
// Every call that takes the index lock does so with the GIL released, so a thread holding the
// lock never waits for a thread holding the GIL.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <pybind11/stl.h>

#include "bindings/arguments.h"
#include "bindings/numpy_utils.h"
#include "graph/hnsw.h"

namespace vecsearch {

inline HnswParams make_params(size_t dim, const std::string& metric, size_t M, size_t ef_construction, uint64_t seed,
                              size_t acorn_gamma, size_t acorn_m_beta) {
    HnswParams p;
    p.acorn_gamma = acorn_gamma;
    p.acorn_m_beta = acorn_m_beta;
    p.dim = dim;
    p.metric = parse_metric(metric);
    p.M = M;
    p.ef_construction = ef_construction;
    p.seed = seed;
    return p;
}

inline carray<uint64_t> require_ids(py::handle obj, const char* what) {
    carray<uint64_t> ids = require_array<uint64_t>(obj, what);
    if (ids.ndim() != 1) throw InvalidArgument(std::string(what) + " must be 1-d");
    return ids;
}

// A range index's codes (graph/range_codes.h), immutable once built: shared by the searches
// that use them while Python may drop its reference.
struct PyRangeCodes {
    std::shared_ptr<const RangeCodes> codes;
    size_t size() const { return codes->size(); }
    uint64_t epoch() const { return codes->epoch(); }
    size_t memory_bytes() const { return codes->memory_bytes(); }
    size_t code_dim() const { return codes->code_dim(); }
};

class PyHnsw {
public:
    // -- Building, searching, sizes (py_index.cpp).
    explicit PyHnsw(std::unique_ptr<Hnsw> h) : h_(std::move(h)) {}
    PyHnsw(size_t dim, const std::string& metric, size_t M, size_t ef_construction, uint64_t seed,
           size_t acorn_gamma, size_t acorn_m_beta)
        : h_(std::make_unique<Hnsw>(make_params(dim, metric, M, ef_construction, seed, acorn_gamma, acorn_m_beta))) {}
    py::array_t<uint64_t> add(py::handle vectors_obj, py::handle ids_obj, size_t threads);
    void reserve_more(size_t n);
    void remove(py::handle ids_obj);
    py::tuple search(py::handle queries_obj, size_t k, size_t ef, size_t rerank, size_t threads) const;
    py::array_t<float> get_vectors(py::handle ids_obj) const;
    size_t size() const;
    size_t slot_count() const;
    bool contains(uint64_t id) const;
    size_t memory_bytes() const;
    py::dict memory_parts() const;
    py::dict params() const;

    // -- Filters: bitmaps, filtered and range searches, axis codes (py_index_filters.cpp).
    py::tuple ids_to_bitmap(py::handle ids_obj) const;
    // `address` is the entry point of a compiled uint8(uint64) function; the Python layer checks
    // its signature before passing it.
    py::tuple predicate_to_bitmap(uintptr_t address) const;
    // Evaluates compiled filter programs (bindings/py_filter.h) into (bitmaps [n, words], match
    // counts, epoch). Attribute row r lives in slot row_slots[r] (uint32, 2**32-1 for a deleted row).
    py::tuple evaluate_filters(const py::list& programs_obj, py::handle row_slots_obj, size_t threads) const;
    // Slot of each id; an absent id raises UnknownIdError, or maps to 2**32-1 with missing_ok.
    py::array_t<uint32_t> slots_of(py::handle ids_obj, bool missing_ok) const;
    uint64_t epoch() const;
    // plans: the PLANS code of each query, or None to choose them here from the planner's model
    // (params and acorn, as vecsearch.filters.planner.CostModel packs them) for each filter's
    // match count and the number of queries of the batch that share it.
    py::tuple search_filtered(py::handle queries_obj, size_t k, size_t ef, size_t rerank, size_t threads,
                              py::handle bitmaps_obj,
                              py::handle matches_obj, py::handle filter_of_obj, py::handle plans_obj,
                              uint64_t epoch, py::handle params_obj, py::handle acorn_obj) const;
    // mean and axes (both or neither): the projection the codes encode (quant/projection.h).
    PyRangeCodes build_range_codes(py::handle slots_obj, size_t threads, py::handle mean_obj,
                                   py::handle axes_obj) const;
    // Axis codes (graph/axis_codes.h) on the projection of mean and axes; None for both drops them.
    void attach_axis_codes(py::handle mean_obj, py::handle axes_obj, size_t threads);
    size_t axis_code_dim() const { return h_->axis_code_dim(); }
    py::tuple search_range(const PyRangeCodes& codes, py::handle queries_obj, size_t k, size_t rerank, size_t threads,
                           py::handle spans_obj, py::handle filter_of_obj) const;
    // Filtered queries per plan, and the walks whose answer the exact scan replaced.
    py::dict plan_stats() const;
    void reset_plan_stats() { h_->reset_plan_counters(); }

    // -- State: export and restore, codecs, refine codes, neighbour codes, entry table (py_index_state.cpp).
    // A consistent copy of the whole state: scalars plus numpy arrays, for the file writer.
    // with_vectors = false leaves the vectors out (the caller writes them from its own file).
    py::dict export_state(bool with_vectors) const;
    // An index from `params` (the keys params() returns) and `state` (those export_state returns,
    // entry table aside); borrow_vectors: use state["vectors"] in place instead of copying it.
    static PyHnsw restore(const py::dict& params, const py::dict& state, bool borrow_vectors, bool mapped_source);
    // Quantized storage: the codec travels as its serialised bytes (vecsearch.quant's
    // Quantizer.to_bytes()), the codes as uint8 [slot_count, code_size] or None to encode.
    void attach_codec(py::bytes blob, py::handle codes_obj, size_t threads, bool mapped_source);
    void detach_codec();
    // (codec bytes, codes uint8 [slot_count, code_size]) or None without a codec.
    py::object export_codes() const;
    void enable_neighbour_codes(bool on, size_t threads);
    bool has_neighbour_codes() const { return h_->has_neighbour_codes(); }
    // A refine code over the PQ codes (quant/refine.h): the residual PQ's bytes, its codes uint8
    // [slots, m] and float32 terms and errors [slots]; None detaches.
    void attach_refine(py::object blob, py::handle codes_obj, py::handle terms_obj, py::handle errors_obj);
    bool has_refine() const { return h_->refiner() != nullptr; }
    // (codec bytes, codes, terms, errors) of the refine code, or None.
    py::object export_refine() const;
    // Test hook: the refine code's (estimates, lower bounds) of the distances from `query` to `ids`.
    py::tuple refine_bounds(py::handle query_obj, py::handle ids_obj) const;
    void set_entry_table(py::handle slots_obj, py::handle vectors_obj, size_t built_at);

    // -- Disk: vectors read from disk or built into a file mapping, and the counters (py_index_disk.cpp).
    // Vectors on disk: re-rank by reading rows [0, rows) of dim floats at `offset` of `path`.
    void attach_reader(const std::string& path, uint64_t offset, size_t rows, bool use_uring);
    void detach_reader();
    // Build into a writable float32 [rows, dim] buffer (a file mapping) that this object keeps
    // alive until the next call; copy: move the current rows into it first.
    void use_external_vectors(py::array buffer, bool copy);
    // Re-rank and disk counters since load or the last reset.
    py::dict io_stats() const;
    void set_bounded_rerank(bool on) { h_->set_bounded_rerank(on); }  // tests: the full depth to compare with
    void reset_io_stats();

private:
    // (bitmap words over slots, epoch) from fill(words, n_words, &epoch), which runs without the
    // GIL and returns false when concurrent adds outgrew the size read first: size again, refill.
    template <class Fill>
    py::tuple make_bitmap(Fill&& fill) const;  // defined where used: py_index_filters.cpp
    // The projection of mean [dim] and axes [out_dim, dim], nullopt when both are None.
    std::optional<Projection> make_projection(py::handle mean_obj, py::handle axes_obj) const;

    std::unique_ptr<Hnsw> h_;
    py::object external_;  // the buffer behind use_external_vectors
};

}  // namespace vecsearch
