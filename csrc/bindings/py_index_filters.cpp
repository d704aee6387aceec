// HnswIndex (bindings/py_hnsw.h): filter bitmaps, filtered and range searches, axis codes.
#include <vector>

#include "bindings/py_filter.h"
#include "bindings/py_hnsw.h"
#include "bindings/py_planner.h"

namespace vecsearch {

template <class Fill>
py::tuple PyHnsw::make_bitmap(Fill&& fill) const {
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

// The projection of mean [dim] and axes [out_dim, dim], nullopt when both are None.
std::optional<Projection> PyHnsw::make_projection(py::handle mean_obj, py::handle axes_obj) const {
    if (mean_obj.is_none() != axes_obj.is_none()) throw InvalidArgument("give the mean and the axes, or neither");
    if (mean_obj.is_none()) return std::nullopt;
    carray<float> mean = require_array<float>(mean_obj, "mean");
    carray<float> axes = require_array<float>(axes_obj, "axes");
    if (mean.ndim() != 1 || axes.ndim() != 2 || size_t(axes.shape(1)) != h_->params().dim)
        throw DimensionError("a projection needs mean [dim] and axes [out_dim, dim] of the index's dim");
    return Projection(h_->params().dim, std::vector<float>(mean.data(), mean.data() + mean.size()),
                      std::vector<float>(axes.data(), axes.data() + axes.size()));
}

py::tuple PyHnsw::ids_to_bitmap(py::handle ids_obj) const {
    carray<uint64_t> ids = require_ids(ids_obj, "ids");
    return make_bitmap([&](uint64_t* w, size_t n_words, uint64_t* epoch) {
        return h_->ids_to_bitmap(ids.data(), ids.shape(0), w, n_words, epoch);
    });
}

// `address` is the entry point of a compiled uint8(uint64) function; the Python layer checks
// its signature before passing it.
py::tuple PyHnsw::predicate_to_bitmap(uintptr_t address) const {
    if (address == 0) throw InvalidArgument("predicate address is null");
    id_predicate predicate = reinterpret_cast<id_predicate>(address);
    return make_bitmap([&](uint64_t* w, size_t n_words, uint64_t* epoch) {
        return h_->predicate_to_bitmap(predicate, w, n_words, epoch);
    });
}

// Evaluates compiled filter programs (bindings/py_filter.h) into (bitmaps [n, words], match
// counts, epoch). Attribute row r lives in slot row_slots[r] (uint32, 2**32-1 for a deleted row).
py::tuple PyHnsw::evaluate_filters(const py::list& programs_obj, py::handle row_slots_obj, size_t threads) const {
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
py::array_t<uint32_t> PyHnsw::slots_of(py::handle ids_obj, bool missing_ok) const {
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

uint64_t PyHnsw::epoch() const {
    py::gil_scoped_release release;
    return h_->epoch();
}

// plans: the PLANS code of each query, or None to choose them here from the planner's model
// (params and acorn, as vecsearch.filters.planner.CostModel packs them) for each filter's
// match count and the number of queries of the batch that share it.
py::tuple PyHnsw::search_filtered(py::handle queries_obj, size_t k, size_t ef, size_t rerank, size_t threads,
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
PyRangeCodes PyHnsw::build_range_codes(py::handle slots_obj, size_t threads, py::handle mean_obj,
    py::handle axes_obj) const {
    carray<uint32_t> slots = require_array<uint32_t>(slots_obj, "slots");
    if (slots.ndim() != 1) throw InvalidArgument("slots must be 1-d");
    std::optional<Projection> projection = make_projection(mean_obj, axes_obj);
    py::gil_scoped_release release;
    return PyRangeCodes{
        h_->build_range_codes(slots.data(), slots.size(), clamp_threads(threads), std::move(projection))};
}

// Axis codes (graph/axis_codes.h) on the projection of mean and axes; None for both drops them.
void PyHnsw::attach_axis_codes(py::handle mean_obj, py::handle axes_obj, size_t threads) {
    std::optional<Projection> projection = make_projection(mean_obj, axes_obj);
    py::gil_scoped_release release;
    h_->attach_axis_codes(std::move(projection), clamp_threads(threads));
}

py::tuple PyHnsw::search_range(const PyRangeCodes& codes, py::handle queries_obj, size_t k, size_t rerank, size_t threads,
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

// Filtered queries per plan, and the walks whose answer the exact scan replaced.
py::dict PyHnsw::plan_stats() const {
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

}  // namespace vecsearch
