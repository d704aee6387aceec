// Binding of the HNSW index: check buffers, allocate outputs, release the GIL, run.
// Every call that takes the index lock does so with the GIL released, so a thread holding the
// lock never waits for a thread holding the GIL.
#include <pybind11/stl.h>

#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bindings/arguments.h"
#include "bindings/numpy_utils.h"
#include "bindings/py_filter.h"
#include "bindings/py_planner.h"
#include "common/thread_pool.h"
#include "graph/hnsw.h"
#include "storage/uring.h"

namespace vecsearch {

namespace {

HnswParams make_params(size_t dim, const std::string& metric, size_t M, size_t ef_construction, uint64_t seed,
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


carray<uint64_t> require_ids(py::handle obj, const char* what) {
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
    // The projection of mean [dim] and axes [out_dim, dim], nullopt when both are None.
    std::optional<Projection> make_projection(py::handle mean_obj, py::handle axes_obj) const {
        if (mean_obj.is_none() != axes_obj.is_none()) throw InvalidArgument("give the mean and the axes, or neither");
        if (mean_obj.is_none()) return std::nullopt;
        carray<float> mean = require_array<float>(mean_obj, "mean");
        carray<float> axes = require_array<float>(axes_obj, "axes");
        if (mean.ndim() != 1 || axes.ndim() != 2 || size_t(axes.shape(1)) != h_->params().dim)
            throw DimensionError("a projection needs mean [dim] and axes [out_dim, dim] of the index's dim");
        return Projection(h_->params().dim, std::vector<float>(mean.data(), mean.data() + mean.size()),
                          std::vector<float>(axes.data(), axes.data() + axes.size()));
    }

public:
    explicit PyHnsw(std::unique_ptr<Hnsw> h) : h_(std::move(h)) {}
    PyHnsw(size_t dim, const std::string& metric, size_t M, size_t ef_construction, uint64_t seed,
           size_t acorn_gamma, size_t acorn_m_beta)
        : h_(std::make_unique<Hnsw>(make_params(dim, metric, M, ef_construction, seed, acorn_gamma, acorn_m_beta))) {}

    py::array_t<uint64_t> add(py::handle vectors_obj, py::handle ids_obj, size_t threads) {
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

    void reserve_more(size_t n) {
        py::gil_scoped_release release;
        h_->reserve_more(n);
    }

    void remove(py::handle ids_obj) {
        carray<uint64_t> ids = require_ids(ids_obj, "ids");
        py::gil_scoped_release release;
        h_->remove(ids.data(), ids.shape(0));
    }

    py::tuple search(py::handle queries_obj, size_t k, size_t ef, size_t rerank, size_t threads) const {
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

    // (bitmap words over slots, epoch) from fill(words, n_words, &epoch), which runs without the
    // GIL and returns false when concurrent adds outgrew the size read first: size again, refill.
    template <class Fill>
    py::tuple make_bitmap(Fill&& fill) const {
        for (;;) {
            size_t n_words;
            {
                py::gil_scoped_release release;
                n_words = (h_->slot_count() + 63) / 64 + 1;
            }
            py::array_t<uint64_t> words(py::ssize_t{py::ssize_t(n_words)});
            uint64_t* w = words.mutable_data();
            uint64_t epoch = 0;
            bool filled;
            {
                py::gil_scoped_release release;
                filled = fill(w, n_words, &epoch);
            }
            if (filled) return py::make_tuple(words, epoch);
        }
    }

    py::tuple ids_to_bitmap(py::handle ids_obj) const {
        carray<uint64_t> ids = require_ids(ids_obj, "ids");
        return make_bitmap([&](uint64_t* w, size_t n_words, uint64_t* epoch) {
            return h_->ids_to_bitmap(ids.data(), ids.shape(0), w, n_words, epoch);
        });
    }

    // `address` is the entry point of a compiled uint8(uint64) function; the Python layer checks
    // its signature before passing it.
    py::tuple predicate_to_bitmap(uintptr_t address) const {
        if (address == 0) throw InvalidArgument("predicate address is null");
        id_predicate predicate = reinterpret_cast<id_predicate>(address);
        return make_bitmap([&](uint64_t* w, size_t n_words, uint64_t* epoch) {
            return h_->predicate_to_bitmap(predicate, w, n_words, epoch);
        });
    }

    // Evaluates compiled filter programs (bindings/py_filter.h) into (bitmaps [n, words], match
    // counts, epoch). Attribute row r lives in slot row_slots[r] (uint32, 2**32-1 for a deleted row).
    py::tuple evaluate_filters(const py::list& programs_obj, py::handle row_slots_obj, size_t threads) const {
        carray<uint32_t> row_slots = require_array<uint32_t>(row_slots_obj, "row_slots");
        if (row_slots.ndim() != 1) throw InvalidArgument("row_slots must be 1-d");
        size_t n = programs_obj.size();
        std::vector<FilterProgram> programs(n);
        for (size_t i = 0; i < n; ++i) {
            if (!py::isinstance<PyFilterProgram>(programs_obj[i]))
                throw InvalidArgument("filter programs must be vecsearch._core.FilterProgram objects");
            programs[i] = programs_obj[i].cast<const PyFilterProgram&>().program();
        }
        static_assert(sizeof(slot_t) == sizeof(uint32_t), "row slots are passed as uint32");
        for (;;) {
            size_t n_words;
            {
                py::gil_scoped_release release;
                n_words = (h_->slot_count() + 63) / 64 + 1;
            }
            py::array_t<uint64_t> words({py::ssize_t(n), py::ssize_t(n_words)});
            py::array_t<uint64_t> matches(py::ssize_t{py::ssize_t(n)});
            uint64_t* w = words.mutable_data();
            uint64_t* m = matches.mutable_data();
            uint64_t epoch = 0;
            bool filled;
            {
                py::gil_scoped_release release;
                filled = h_->evaluate_filters(programs.data(), n, row_slots.data(), size_t(row_slots.size()),
                                              clamp_threads(threads), w, n_words, reinterpret_cast<size_t*>(m),
                                              &epoch);
            }
            if (filled) return py::make_tuple(words, matches, epoch);
        }
    }

    // Slot of each id; an absent id raises UnknownIdError, or maps to 2**32-1 with missing_ok.
    py::array_t<uint32_t> slots_of(py::handle ids_obj, bool missing_ok) const {
        carray<uint64_t> ids = require_ids(ids_obj, "ids");
        size_t n = ids.shape(0);
        py::array_t<uint32_t> out(py::ssize_t{py::ssize_t(n)});
        uint32_t* o = out.mutable_data();
        bool found;
        {
            py::gil_scoped_release release;
            found = h_->slots_of(ids.data(), n, o);
        }
        if (!found && !missing_ok) throw UnknownIdError("slots_of: an id is not in the index");
        return out;
    }

    uint64_t epoch() const {
        py::gil_scoped_release release;
        return h_->epoch();
    }

    // plans: the PLANS code of each query, or None to choose them here from the planner's model
    // (params and acorn, as vecsearch.filters.planner.CostModel packs them) for each filter's
    // match count and the number of queries of the batch that share it.
    py::tuple search_filtered(py::handle queries_obj, size_t k, size_t ef, size_t rerank, size_t threads,
                              py::handle bitmaps_obj,
                              py::handle matches_obj, py::handle filter_of_obj, py::handle plans_obj,
                              uint64_t epoch, py::handle params_obj, py::handle acorn_obj) const {
        carray<float> queries = require_matrix(queries_obj, h_->params().dim, "queries");
        if (k == 0) throw InvalidArgument("k must be positive");
        size_t nq = queries.shape(0);
        carray<uint64_t> bitmaps = require_array<uint64_t>(bitmaps_obj, "bitmaps");
        carray<uint64_t> matches = require_array<uint64_t>(matches_obj, "matches");
        carray<uint32_t> filter_of = require_array<uint32_t>(filter_of_obj, "filter_of");
        if (bitmaps.ndim() != 2) throw InvalidArgument("bitmaps must be 2-d [filters, words]");
        size_t nf = bitmaps.shape(0), n_words = bitmaps.shape(1);
        if (size_t(matches.size()) != nf) throw InvalidArgument("one match count per filter");
        if (size_t(filter_of.size()) != nq) throw InvalidArgument("one filter index per query");
        for (size_t i = 0; i < nq; ++i)
            if (filter_of.data()[i] >= nf) throw InvalidArgument("filter index out of range");
        std::vector<uint8_t> chosen;
        const uint8_t* plans;
        if (plans_obj.is_none()) {
            chosen = choose_query_plans(params_obj, acorn_obj, matches.data(), nf, filter_of.data(), nq, h_->size(),
                                        k, ef);
            plans = chosen.data();
        } else {
            carray<uint8_t> given = require_array<uint8_t>(plans_obj, "plans");
            if (size_t(given.size()) != nq) throw InvalidArgument("one plan per query");
            plans = given.data();  // `given` borrows plans_obj, which the caller holds
            for (size_t i = 0; i < nq; ++i)
                if (plans[i] > uint8_t(FilterPlan::codes)) throw InvalidArgument("unknown plan code");
        }
        std::vector<SlotBitmap> views(nf);
        for (size_t f = 0; f < nf; ++f) views[f] = SlotBitmap{bitmaps.data() + f * n_words, n_words * 64};
        static_assert(sizeof(size_t) == sizeof(uint64_t), "match counts are passed as uint64");
        py::array_t<uint64_t> ids({py::ssize_t(nq), py::ssize_t(k)});
        py::array_t<float> dists({py::ssize_t(nq), py::ssize_t(k)});
        py::array_t<uint8_t> answered{py::ssize_t(nq)};
        uint64_t* ip = ids.mutable_data();
        float* dp = dists.mutable_data();
        static_assert(sizeof(Answered) == sizeof(uint8_t), "answered codes are passed as uint8");
        Answered* ap = reinterpret_cast<Answered*>(answered.mutable_data());
        {
            py::gil_scoped_release release;
            h_->search_filtered(queries.data(), nq, k, ef, rerank, clamp_threads(threads), views.data(),
                                reinterpret_cast<const size_t*>(matches.data()), filter_of.data(),
                                reinterpret_cast<const FilterPlan*>(plans), epoch, ip, dp, ap);
        }
        return py::make_tuple(ids, dists, answered);
    }

    // mean and axes (both or neither): the projection the codes encode (quant/projection.h).
    PyRangeCodes build_range_codes(py::handle slots_obj, size_t threads, py::handle mean_obj,
                                   py::handle axes_obj) const {
        carray<uint32_t> slots = require_array<uint32_t>(slots_obj, "slots");
        if (slots.ndim() != 1) throw InvalidArgument("slots must be 1-d");
        std::optional<Projection> projection = make_projection(mean_obj, axes_obj);
        py::gil_scoped_release release;
        return PyRangeCodes{
            h_->build_range_codes(slots.data(), slots.size(), clamp_threads(threads), std::move(projection))};
    }

    // Axis codes (graph/axis_codes.h) on the projection of mean and axes; None for both drops them.
    void attach_axis_codes(py::handle mean_obj, py::handle axes_obj, size_t threads) {
        std::optional<Projection> projection = make_projection(mean_obj, axes_obj);
        py::gil_scoped_release release;
        h_->attach_axis_codes(std::move(projection), clamp_threads(threads));
    }
    size_t axis_code_dim() const { return h_->axis_code_dim(); }

    py::tuple search_range(const PyRangeCodes& codes, py::handle queries_obj, size_t k, size_t rerank, size_t threads,
                           py::handle spans_obj, py::handle filter_of_obj) const {
        carray<float> queries = require_matrix(queries_obj, h_->params().dim, "queries");
        if (k == 0) throw InvalidArgument("k must be positive");
        carray<uint64_t> spans = require_array<uint64_t>(spans_obj, "spans");
        carray<uint32_t> filter_of = require_array<uint32_t>(filter_of_obj, "filter_of");
        if (spans.ndim() != 2 || spans.shape(1) != 2) throw InvalidArgument("spans must be [filters, 2]");
        const size_t nq = queries.shape(0);
        if (size_t(filter_of.size()) != nq) throw InvalidArgument("one filter index per query");
        py::array_t<uint64_t> ids({py::ssize_t(nq), py::ssize_t(k)});
        py::array_t<float> dists({py::ssize_t(nq), py::ssize_t(k)});
        uint64_t* ip = ids.mutable_data();
        float* dp = dists.mutable_data();
        {
            py::gil_scoped_release release;
            h_->search_range(*codes.codes, queries.data(), nq, spans.data(), spans.shape(0), filter_of.data(), k,
                             rerank, clamp_threads(threads), ip, dp);
        }
        return py::make_tuple(ids, dists);
    }

    py::array_t<float> get_vectors(py::handle ids_obj) const {
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

    size_t size() const {
        py::gil_scoped_release release;
        return h_->size();
    }
    size_t slot_count() const {
        py::gil_scoped_release release;
        return h_->slot_count();
    }
    bool contains(uint64_t id) const {
        py::gil_scoped_release release;
        return h_->contains(id);
    }
    size_t memory_bytes() const {
        py::gil_scoped_release release;
        return h_->memory_bytes();
    }
    py::dict memory_parts() const {
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

    // Vectors on disk: re-rank by reading rows [0, rows) of dim floats at `offset` of `path`.
    void attach_reader(const std::string& path, uint64_t offset, size_t rows, bool use_uring) {
        auto reader = std::make_shared<const VectorReader>(path, offset, rows, h_->params().dim, use_uring);
        py::gil_scoped_release release;
        h_->attach_reader(std::move(reader));
    }
    void detach_reader() {
        py::gil_scoped_release release;
        h_->attach_reader(nullptr);
    }
    // A refine code over the PQ codes (quant/refine.h): the residual PQ's bytes, its codes uint8
    // [slots, m] and float32 terms and errors [slots]; None detaches.
    void attach_refine(py::object blob, py::handle codes_obj, py::handle terms_obj, py::handle errors_obj) {
        if (blob.is_none()) {
            py::gil_scoped_release release;
            h_->attach_refine(nullptr);
            return;
        }
        std::string raw = blob.cast<py::bytes>();
        std::unique_ptr<Codec> codec = restore_codec(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
        auto codes = require_array<uint8_t>(codes_obj, "refine codes");
        auto terms = require_array<float>(terms_obj, "refine terms");
        auto errors = require_array<float>(errors_obj, "refine errors");
        const size_t n = codes.ndim() == 2 ? size_t(codes.shape(0)) : 0;
        if (codes.ndim() != 2 || size_t(codes.shape(1)) != codec->code_size() || terms.ndim() != 1 ||
            errors.ndim() != 1 || size_t(terms.shape(0)) != n || size_t(errors.shape(0)) != n)
            throw FormatError("corrupt index: refine codes, terms and errors do not match each other");
        py::gil_scoped_release release;
        auto refine = std::make_unique<ResidualRefiner>(std::move(codec), h_->params().metric, codes.data(),
                                                        terms.data(), errors.data(), n);
        h_->attach_refine(std::move(refine));
    }
    bool has_refine() const { return h_->refiner() != nullptr; }
    void set_entry_table(py::handle slots_obj, py::handle vectors_obj, size_t built_at) {
        auto slots = require_array<slot_t>(slots_obj, "entry slots");
        auto vectors = require_array<float>(vectors_obj, "entry vectors");
        // vectors: [m, dim], or flat as a file section holds them (Hnsw checks their size)
        if (slots.ndim() != 1) throw FormatError("corrupt index: the entry table's slots are not one row");
        std::vector<slot_t> s(slots.data(), slots.data() + slots.size());
        std::vector<float> v(vectors.data(), vectors.data() + vectors.size());
        py::gil_scoped_release release;
        h_->set_entry_table(std::move(s), std::move(v), built_at);
    }
    // (codec bytes, codes, terms, errors) of the refine code, or None.
    py::object export_refine() const {
        const ResidualRefiner* r = h_->refiner();
        if (!r) return py::none();
        std::vector<uint8_t> blob = r->codec().serialize();
        const size_t n = r->size(), m = r->codec().code_size();
        return py::make_tuple(py::bytes(reinterpret_cast<const char*>(blob.data()), blob.size()),
                              to_numpy(std::vector<uint8_t>(r->codes(), r->codes() + n * m),
                                       {py::ssize_t(n), py::ssize_t(m)}),
                              to_numpy(std::vector<float>(r->terms(), r->terms() + n), {py::ssize_t(n)}),
                              to_numpy(std::vector<float>(r->errors(), r->errors() + n), {py::ssize_t(n)}));
    }
    // Test hook: the refine code's (estimates, lower bounds) of the distances from `query` to `ids`.
    py::tuple refine_bounds(py::handle query_obj, py::handle ids_obj) const {
        const ResidualRefiner* r = h_->refiner();
        const Codec* walk = h_->codec();
        if (!r || !walk) throw InvalidArgument("the index has no refine code");
        auto q = require_array<float>(query_obj, "query");
        auto ids = require_array<external_id>(ids_obj, "ids");
        if (q.ndim() != 1 || size_t(q.shape(0)) != h_->params().dim) throw DimensionError("query must be [dim]");
        std::vector<slot_t> slots(ids.size());
        if (!h_->slots_of(ids.data(), ids.size(), slots.data())) throw UnknownIdError("an id is not in the index");
        std::vector<float> est(slots.size()), lower(slots.size());
        r->bound(*walk, h_->export_codes().data(), q.data(), slots.data(), slots.size(), est.data(), lower.data());
        return py::make_tuple(to_numpy(std::move(est), {py::ssize_t(slots.size())}),
                              to_numpy(std::move(lower), {py::ssize_t(slots.size())}));
    }
    // Build into a writable float32 [rows, dim] buffer (a file mapping) that this object keeps
    // alive until the next call; copy: move the current rows into it first.
    void use_external_vectors(py::array buffer, bool copy) {
        size_t dim = h_->params().dim;
        if (!buffer.writeable() || buffer.ndim() != 2 || size_t(buffer.shape(1)) != dim ||
            !buffer.dtype().is(py::dtype::of<float>()) || !(buffer.flags() & py::array::c_style))
            throw InvalidArgument("external vectors must be a writable C-contiguous float32 [rows, dim] array");
        float* data = static_cast<float*>(buffer.mutable_data());
        size_t rows = size_t(buffer.shape(0));
        {
            py::gil_scoped_release release;
            h_->use_external_vectors(data, rows, copy);
        }
        external_ = buffer;
    }
    // Re-rank and disk counters since load or the last reset.
    py::dict io_stats() const {
        Hnsw::RerankCounters r = h_->rerank_counters();
        py::dict d;
        d["queries"] = r.queries;
        d["rows_reranked"] = r.rows;
        const VectorReader* reader = h_->reader();
        if (reader) {
            VectorReader::Counters c = reader->counters();
            d["rows_read"] = c.rows;
            d["bytes_read"] = c.bytes;
            d["read_calls"] = c.calls;
            d["read_mode"] = reader->uses_uring() ? "io_uring" : "pread";
            if (!reader->uses_uring()) d["rows_missed_cache"] = c.misses;
        }
        return d;
    }
    void set_bounded_rerank(bool on) { h_->set_bounded_rerank(on); }  // tests: the full depth to compare with
    void reset_io_stats() {
        h_->reset_rerank_counters();
        if (h_->reader()) h_->reader()->reset_counters();
    }
    // Filtered queries per plan, and the walks whose answer the exact scan replaced.
    py::dict plan_stats() const {
        Hnsw::PlanCounters c = h_->plan_counters();
        py::dict d;
        d["scan"] = c.scan;
        d["acorn"] = c.acorn;
        d["post"] = c.post;
        d["acorn_rerouted"] = c.acorn_rerouted;
        d["acorn_fallback"] = c.acorn_fallback;
        d["post_fallback"] = c.post_fallback;
        d["codes"] = c.codes;
        return d;
    }
    void reset_plan_stats() { h_->reset_plan_counters(); }

    // Quantized storage: the codec travels as its serialised bytes (vecsearch.quant's
    // Quantizer.to_bytes()), the codes as uint8 [slot_count, code_size] or None to encode.
    void attach_codec(py::bytes blob, py::handle codes_obj, size_t threads, bool mapped_source) {
        std::string raw = blob;
        std::unique_ptr<Codec> codec = restore_codec(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
        carray<uint8_t> codes;
        const uint8_t* codes_ptr = nullptr;
        size_t n_codes = 0;
        if (!codes_obj.is_none()) {
            codes = require_array<uint8_t>(codes_obj, "codes");
            if (codes.ndim() != 2 || size_t(codes.shape(1)) != codec->code_size())
                throw FormatError("corrupt index: codes section does not match the quantizer's code size");
            codes_ptr = codes.data();
            n_codes = codes.shape(0);
        }
        py::gil_scoped_release release;
        h_->attach_codec(std::move(codec), codes_ptr, n_codes, clamp_threads(threads), mapped_source);
    }
    void detach_codec() {
        py::gil_scoped_release release;
        h_->detach_codec();
    }
    void enable_neighbour_codes(bool on, size_t threads) {
        py::gil_scoped_release release;
        h_->enable_neighbour_codes(on, threads);
    }
    bool has_neighbour_codes() const { return h_->has_neighbour_codes(); }
    // (codec bytes, codes uint8 [slot_count, code_size]) or None without a codec.
    py::object export_codes() const {
        std::vector<uint8_t> codes, blob;
        size_t code_size = 0;
        {
            py::gil_scoped_release release;
            const Codec* c = h_->codec();
            if (!c) return py::none();
            code_size = c->code_size();
            blob = c->serialize();
            codes = h_->export_codes();
        }
        py::ssize_t n = py::ssize_t(codes.size() / code_size);
        return py::make_tuple(py::bytes(reinterpret_cast<const char*>(blob.data()), blob.size()),
                              to_numpy(std::move(codes), {n, py::ssize_t(code_size)}));
    }

    py::dict params() const {
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

    // A consistent copy of the whole state: scalars plus numpy arrays, for the file writer.
    // with_vectors = false leaves the vectors out (the caller writes them from its own file).
    py::dict export_state(bool with_vectors) const {
        struct Copy {
            HnswState st;
            std::vector<float> vectors;
            std::vector<uint64_t> ids;
            std::vector<int32_t> levels;
            std::vector<uint8_t> deleted;
            std::vector<uint32_t> links0, upper;
            std::vector<slot_t> entry_slots;
            std::vector<float> entry_vectors;
        } c;
        size_t dim = h_->params().dim, row0 = 1 + h_->params().level0_degree();
        {
            py::gil_scoped_release release;
            h_->with_state([&](const HnswState& st) {
                c.st = st;
                size_t n = st.count;
                if (with_vectors) c.vectors.assign(st.vectors, st.vectors + n * dim);
                c.ids.assign(st.ids, st.ids + n);
                c.levels.assign(st.levels, st.levels + n);
                c.deleted.assign(st.deleted, st.deleted + n);
                c.links0.assign(st.links0, st.links0 + n * row0);
                c.upper.assign(st.upper, st.upper + st.upper_len);
                c.entry_slots.assign(st.entry_slots, st.entry_slots + st.entries);
                c.entry_vectors.assign(st.entry_vectors, st.entry_vectors + st.entries * dim);
            });
        }
        py::ssize_t n = py::ssize_t(c.st.count);
        py::dict d;
        d["count"] = c.st.count;
        d["entry_point"] = c.st.entry_point == kNoSlot ? py::int_(-1) : py::int_(c.st.entry_point);
        d["max_level"] = c.st.max_level;
        d["next_auto_id"] = c.st.next_auto_id;
        if (with_vectors) d["vectors"] = to_numpy(std::move(c.vectors), {n, py::ssize_t(dim)});
        d["ids"] = to_numpy(std::move(c.ids), {n});
        d["levels"] = to_numpy(std::move(c.levels), {n});
        d["deleted"] = to_numpy(std::move(c.deleted), {n});
        d["links0"] = to_numpy(std::move(c.links0), {n, py::ssize_t(row0)});
        py::ssize_t up = py::ssize_t(c.upper.size());
        d["upper"] = to_numpy(std::move(c.upper), {up});
        py::ssize_t m = py::ssize_t(c.st.entries);
        d["entry_slots"] = to_numpy(std::move(c.entry_slots), {m});
        d["entry_vectors"] = to_numpy(std::move(c.entry_vectors), {m, py::ssize_t(dim)});
        d["entries_built_at"] = c.st.entries_built_at;
        return d;
    }

    static PyHnsw restore(size_t dim, const std::string& metric, size_t M, size_t ef_construction, uint64_t seed,
                          size_t count, int64_t entry_point, int64_t max_level, uint64_t next_auto_id,
                          py::handle vectors_obj, py::handle ids_obj, py::handle levels_obj, py::handle deleted_obj,
                          py::handle links0_obj, py::handle upper_obj, bool borrow_vectors, size_t acorn_gamma,
                          size_t acorn_m_beta, bool mapped_source) {
        HnswParams p = make_params(dim, metric, M, ef_construction, seed, acorn_gamma, acorn_m_beta);
        if (acorn_gamma == 0 || acorn_gamma > 64 || (acorn_gamma > 1 && p.m_beta() > M * acorn_gamma))
            throw FormatError("corrupt index: bad ACORN parameters");
        auto vectors = require_array<float>(vectors_obj, "vectors");
        auto ids = require_array<uint64_t>(ids_obj, "ids");
        auto levels = require_array<int32_t>(levels_obj, "levels");
        auto deleted = require_array<uint8_t>(deleted_obj, "deleted");
        auto links0 = require_array<uint32_t>(links0_obj, "links0");
        auto upper = require_array<uint32_t>(upper_obj, "upper");
        auto expect = [](const py::array& a, size_t n, const char* what) {
            if (size_t(a.size()) != n)
                throw FormatError(std::string("corrupt index: section ") + what + " holds " + std::to_string(a.size()) +
                                  " values, expected " + std::to_string(n));
        };
        if (count > kMaxSlots) throw FormatError("corrupt index: slot count is too large");
        expect(vectors, count * dim, "vectors");
        expect(ids, count, "ids");
        expect(levels, count, "levels");
        expect(deleted, count, "deleted");
        expect(links0, count * (1 + p.level0_degree()), "links0");
        if (entry_point < -1 || entry_point >= int64_t(kNoSlot)) throw FormatError("corrupt index: bad entry point");
        if (max_level < -1 || max_level > 64) throw FormatError("corrupt index: bad max level");
        HnswState st;
        st.count = count;
        st.entry_point = entry_point < 0 ? kNoSlot : slot_t(entry_point);
        st.max_level = int32_t(max_level);
        st.next_auto_id = next_auto_id;
        st.vectors = vectors.data();
        st.ids = ids.data();
        st.levels = levels.data();
        st.deleted = deleted.data();
        st.links0 = links0.data();
        st.upper = upper.data();
        st.upper_len = upper.size();
        st.mapped = mapped_source;
        py::gil_scoped_release release;
        return PyHnsw(Hnsw::restore(p, st, borrow_vectors));
    }

private:
    std::unique_ptr<Hnsw> h_;
    py::object external_;  // the buffer behind use_external_vectors
};

}  // namespace

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
        .def_static("restore", &PyHnsw::restore, py::arg("dim"), py::arg("metric"), py::arg("M"),
                    py::arg("ef_construction"), py::arg("seed"), py::arg("count"), py::arg("entry_point"),
                    py::arg("max_level"), py::arg("next_auto_id"), py::arg("vectors"), py::arg("ids"),
                    py::arg("levels"), py::arg("deleted"), py::arg("links0"), py::arg("upper"),
                    py::arg("borrow_vectors"), py::arg("acorn_gamma") = 1, py::arg("acorn_m_beta") = 0,
                    py::arg("mapped_source") = false);
}

}  // namespace vecsearch
