// HnswIndex (bindings/py_hnsw.h): the state as numpy arrays and back (export, restore), and the
// parts attached to it: codecs and their codes, refine codes, neighbour codes, the entry table.
#include <vector>

#include "bindings/py_hnsw.h"

namespace vecsearch {

// A refine code over the PQ codes (quant/refine.h): the residual PQ's bytes, its codes uint8
// [slots, m] and float32 terms and errors [slots]; None detaches.
void PyHnsw::attach_refine(py::object blob, py::handle codes_obj, py::handle terms_obj, py::handle errors_obj) {
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

void PyHnsw::set_entry_table(py::handle slots_obj, py::handle vectors_obj, size_t built_at) {
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
py::object PyHnsw::export_refine() const {
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
py::tuple PyHnsw::refine_bounds(py::handle query_obj, py::handle ids_obj) const {
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

// Quantized storage: the codec travels as its serialised bytes (vecsearch.quant's
// Quantizer.to_bytes()), the codes as uint8 [slot_count, code_size] or None to encode.
void PyHnsw::attach_codec(py::bytes blob, py::handle codes_obj, size_t threads, bool mapped_source) {
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

void PyHnsw::detach_codec() {
    py::gil_scoped_release release;
    h_->detach_codec();
}

void PyHnsw::enable_neighbour_codes(bool on, size_t threads) {
    py::gil_scoped_release release;
    h_->enable_neighbour_codes(on, threads);
}

// (codec bytes, codes uint8 [slot_count, code_size]) or None without a codec.
py::object PyHnsw::export_codes() const {
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

// A consistent copy of the whole state: scalars plus numpy arrays, for the file writer.
// with_vectors = false leaves the vectors out (the caller writes them from its own file).
py::dict PyHnsw::export_state(bool with_vectors) const {
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

namespace {

// d[key] of a restore argument (`what`), or a FormatError naming the field a file lacks.
py::handle field(const py::dict& d, const char* key, const char* what) {
    if (!d.contains(key)) throw FormatError(std::string("corrupt index: no '") + key + "' in the " + what);
    return d[key];
}

template <class T>
T value(const py::dict& d, const char* key, const char* what) {
    try {
        return field(d, key, what).cast<T>();
    } catch (const py::cast_error&) {
        throw FormatError(std::string("corrupt index: ") + what + " field '" + key +
                          "' has the wrong type or is out of range");
    }
}

}  // namespace

PyHnsw PyHnsw::restore(const py::dict& params, const py::dict& state, bool borrow_vectors, bool mapped_source) {
    const size_t dim = value<size_t>(params, "dim", "parameters"), M = value<size_t>(params, "M", "parameters");
    const size_t acorn_gamma = params.contains("acorn_gamma") ? value<size_t>(params, "acorn_gamma", "parameters") : 1;
    HnswParams p = make_params(dim, value<std::string>(params, "metric", "parameters"), M,
                               value<size_t>(params, "ef_construction", "parameters"),
                               value<uint64_t>(params, "seed", "parameters"), acorn_gamma,
                               params.contains("acorn_m_beta") ? value<size_t>(params, "acorn_m_beta", "parameters") : 0);
    if (acorn_gamma == 0 || acorn_gamma > 64 || (acorn_gamma > 1 && p.m_beta() > M * acorn_gamma))
        throw FormatError("corrupt index: bad ACORN parameters");
    const size_t count = value<size_t>(state, "count", "state");
    const int64_t entry_point = value<int64_t>(state, "entry_point", "state");
    const int64_t max_level = value<int64_t>(state, "max_level", "state");
    const uint64_t next_auto_id = value<uint64_t>(state, "next_auto_id", "state");
    py::handle vectors_obj = field(state, "vectors", "state"), ids_obj = field(state, "ids", "state");
    py::handle levels_obj = field(state, "levels", "state"), deleted_obj = field(state, "deleted", "state");
    py::handle links0_obj = field(state, "links0", "state"), upper_obj = field(state, "upper", "state");
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

}  // namespace vecsearch
