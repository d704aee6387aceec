// Binding of the quantizers (private class _core.Codec) and testing hooks for the quant kernels.
// Training takes the codec's lock exclusively; everything else shares it, with the GIL released.
#include <pybind11/stl.h>

#include <cstring>
#include <shared_mutex>
#include <string>
#include <vector>

#include "bindings/arguments.h"
#include "bindings/numpy_utils.h"
#include "common/thread_pool.h"
#include "quant/binary.h"
#include "quant/codec.h"
#include "quant/kernels.h"
#include "quant/pq.h"
#include "quant/search.h"
#include "quant/sq8.h"
#include "simd/cpu.h"

namespace vecsearch {

namespace {

// float32 [n, dim]
carray<float> require_rows(py::handle obj, size_t dim, const char* what) {
    carray<float> arr = require_array<float>(obj, what);
    if (arr.ndim() != 2) throw DimensionError(std::string(what) + " must be 2-d");
    if (size_t(arr.shape(1)) != dim)
        throw DimensionError(std::string(what) + " have dim " + std::to_string(arr.shape(1)) +
                             ", the quantizer has dim " + std::to_string(dim));
    return arr;
}

// uint8 [n, code_size]
carray<uint8_t> require_codes(py::handle obj, size_t code_size) {
    carray<uint8_t> arr = require_array<uint8_t>(obj, "codes");
    if (arr.ndim() != 2) throw DimensionError("codes must be 2-d [n, code_size]");
    if (size_t(arr.shape(1)) != code_size)
        throw DimensionError("codes have " + std::to_string(arr.shape(1)) + " bytes per vector, the quantizer uses " +
                             std::to_string(code_size));
    return arr;
}

class PyCodec {
public:
    explicit PyCodec(std::unique_ptr<Codec> c) : c_(std::move(c)) {}
    PyCodec(const std::string& kind, size_t dim, const std::string& metric, size_t m, size_t nbits, bool opq,
            int threshold, uint64_t seed) {
        CodecOptions o;
        o.m = m;
        o.nbits = nbits;
        o.opq = opq;
        o.threshold = threshold;
        o.seed = seed;
        c_ = make_codec(kind, dim, parse_metric(metric), o);
    }

    void train(py::handle x_obj, size_t threads) {
        carray<float> x = require_rows(x_obj, c_->dim(), "training vectors");
        size_t n = x.shape(0);
        const float* p = x.data();
        py::gil_scoped_release release;
        std::unique_lock<std::shared_mutex> lock(mu_);
        c_->train(p, n, clamp_threads(threads));
    }

    py::array_t<uint8_t> encode(py::handle x_obj, size_t threads) const {
        carray<float> x = require_rows(x_obj, c_->dim(), "vectors");
        size_t n = x.shape(0), cs = c_->code_size();
        py::array_t<uint8_t> out({py::ssize_t(n), py::ssize_t(cs)});
        uint8_t* o = out.mutable_data();
        const float* p = x.data();
        py::gil_scoped_release release;
        std::shared_lock<std::shared_mutex> lock(mu_);
        c_->encode(p, n, o, clamp_threads(threads));
        return out;
    }

    py::array_t<float> decode(py::handle codes_obj) const {
        carray<uint8_t> codes = require_codes(codes_obj, c_->code_size());
        size_t n = codes.shape(0), dim = c_->dim();
        py::array_t<float> out({py::ssize_t(n), py::ssize_t(dim)});
        float* o = out.mutable_data();
        const uint8_t* p = codes.data();
        py::gil_scoped_release release;
        std::shared_lock<std::shared_mutex> lock(mu_);
        c_->decode(p, n, o);
        return out;
    }

    py::tuple search(py::handle codes_obj, py::handle queries_obj, size_t k, size_t threads) const {
        carray<uint8_t> codes = require_codes(codes_obj, c_->code_size());
        carray<float> queries = require_rows(queries_obj, c_->dim(), "queries");
        if (k == 0) throw InvalidArgument("k must be at least 1");
        size_t n = codes.shape(0), nq = queries.shape(0);
        py::array_t<int64_t> idx({py::ssize_t(nq), py::ssize_t(k)});
        py::array_t<float> dist({py::ssize_t(nq), py::ssize_t(k)});
        int64_t* ip = idx.mutable_data();
        float* dp = dist.mutable_data();
        const uint8_t* cp = codes.data();
        const float* qp = queries.data();
        {
            py::gil_scoped_release release;
            std::shared_lock<std::shared_mutex> lock(mu_);
            if (!c_->trained()) throw InvalidArgument(c_->kind() + ": search before train");
            search_codes(*c_, cp, n, qp, nq, k, clamp_threads(threads), ip, dp);
        }
        return py::make_tuple(idx, dist);
    }

    // Testing/re-ranking helper: the full [nq, n] distance matrix.
    py::array_t<float> distances(py::handle codes_obj, py::handle queries_obj, bool single) const {
        carray<uint8_t> codes = require_codes(codes_obj, c_->code_size());
        carray<float> queries = require_rows(queries_obj, c_->dim(), "queries");
        size_t n = codes.shape(0), nq = queries.shape(0);
        py::array_t<float> out({py::ssize_t(nq), py::ssize_t(n)});
        float* o = out.mutable_data();
        const uint8_t* cp = codes.data();
        const float* qp = queries.data();
        py::gil_scoped_release release;
        std::shared_lock<std::shared_mutex> lock(mu_);
        if (!c_->trained()) throw InvalidArgument(c_->kind() + ": search before train");
        all_distances(*c_, cp, n, qp, nq, single, o);
        return out;
    }

    // Testing hook: an SQ8 codec's int8 form of one query (SQ8Codec::prepare_int8) as (bytes
    // int8 [dim], base, mul, fast): est = base + code_norm + mul * (code . bytes), scored by the
    // active level's u8s8_fast kernels when `fast` (SQ8Codec::int8_kernels), its u8s8 otherwise.
    py::tuple prepare_int8(py::handle query_obj) const {
        carray<float> q = require_rows(query_obj, c_->dim(), "query");
        if (q.shape(0) != 1) throw InvalidArgument("prepare_int8: one query");
        py::array_t<int8_t> w(py::ssize_t(c_->dim()));
        SQ8Codec::IntQuery form;
        bool fast;
        {
            std::shared_lock<std::shared_mutex> lock(mu_);
            const SQ8Codec* sq8 = dynamic_cast<const SQ8Codec*>(c_.get());
            if (sq8 == nullptr) throw InvalidArgument("prepare_int8: an sq8 codec only, this is " + c_->kind());
            form = sq8->prepare_int8(q.data(), w.mutable_data());
            fast = &sq8->int8_kernels() == &active_quant_kernels().u8s8_fast;
        }
        return py::make_tuple(w, form.base, form.mul, fast);
    }

    py::bytes serialize() const {
        std::vector<uint8_t> b;
        {
            py::gil_scoped_release release;
            std::shared_lock<std::shared_mutex> lock(mu_);
            b = c_->serialize();
        }
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
    }

    static std::unique_ptr<PyCodec> restore(py::bytes blob) {
        std::string_view v = blob;
        return std::make_unique<PyCodec>(restore_codec(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
    }

    // PQ only: the OPQ rotation [dim, dim] (x -> x R), or None.
    void set_rotation(py::handle r_obj) {
        PQCodec& pq = as_pq();
        carray<float> r = require_array<float>(r_obj, "rotation");
        size_t d = pq.dim();
        if (r.ndim() != 2 || size_t(r.shape(0)) != d || size_t(r.shape(1)) != d)
            throw DimensionError("rotation must be [dim, dim] = [" + std::to_string(d) + ", " + std::to_string(d) + "]");
        const float* p = r.data();
        py::gil_scoped_release release;
        std::unique_lock<std::shared_mutex> lock(mu_);
        pq.set_rotation(p);
    }

    py::object rotation() {
        PQCodec& pq = as_pq();
        std::shared_lock<std::shared_mutex> lock(mu_);
        if (pq.rotation().empty()) return py::none();
        std::vector<float> copy = pq.rotation();
        return to_numpy(std::move(copy), {py::ssize_t(pq.dim()), py::ssize_t(pq.dim())});
    }

    py::dict options() const {
        py::dict d;
        if (auto* pq = dynamic_cast<const PQCodec*>(c_.get())) {
            d["m"] = pq->m();
            d["nbits"] = pq->nbits();
            d["opq"] = pq->opq();
            d["seed"] = pq->seed();
        } else if (auto* bin = dynamic_cast<const BinaryCodec*>(c_.get())) {
            d["threshold"] = bin->threshold();
        }
        return d;
    }

    std::string kind() const { return c_->kind(); }
    size_t dim() const { return c_->dim(); }
    std::string metric() const { return metric_name(c_->metric()); }
    size_t code_size() const { return c_->code_size(); }
    size_t prepared_size() const { return c_->prepared_size(); }
    bool trained() const {
        std::shared_lock<std::shared_mutex> lock(mu_);
        return c_->trained();
    }

private:
    PQCodec& as_pq() {
        auto* pq = dynamic_cast<PQCodec*>(c_.get());
        if (pq == nullptr) throw InvalidArgument("only pq codecs have a rotation");
        return *pq;
    }

    std::unique_ptr<Codec> c_;
    mutable std::shared_mutex mu_;
};

const QuantKernels& hook_table(const std::string& level) {
    SimdLevel l;
    if (!parse_level(level, &l)) throw InvalidArgument("unknown SIMD level " + level);
    return quant_kernels_for(l);
}

// Testing hook: one quant kernel at one SIMD level, over rows of `codes`.
//   sq8_l2: a = shifted query [dim], b = scale [dim];  sq8_dot: a = weights [dim]
//   pq8: a = table [m, 256];  hamming / hamming_scan: q = query code [words * 8]
//   fastscan32: codes = [chunks, 64] packed codes of 32 vectors, a = tables [chunks * 128] (uint8)
//   fwht: codes = [1, 4n] the bytes of n float32 (n a power of two >= 8); returns their transform
//   u8s8_dot: a = signed query bytes [dim] (int8)
//   u8s8_dot_rows: the same through the gathered-rows kernel, b = the rows to score (uint32,
//   indices into codes); returns one dot product per row of b
//   u8s8_block16: codes = [chunks, 64] one block of 16 interleaved codes, a = queries [nw, chunks * 4]
//   (int8, nw <= 8); returns [nw * 16]
//   u8s8_block16_est: the same, b = [nw, 4] float32 rows (base, mul, bound, norm of every lane);
//   returns [nw * 17]: each query's 16 estimates, then its mask
//   u8s8_rows_est: codes [n, dim] scored in place, every row, last first (scattered reads), with
//   norms[s] = s / 4; a = queries [nw, dim] (int8, nw <= 8), b = [nw, 3] float32 rows (base, mul,
//   bound); returns [n * 9]: each row's 8 estimates (lanes past nw unspecified), then its mask
//   u8s8_fast_dot, ..._dot_rows, ..._block16, ..._block16_est, ..._rows_est: the same from the
//   63-level set
py::array_t<float> quant_kernel(const std::string& level, const std::string& name, py::handle codes_obj,
                                py::handle a_obj, py::handle b_obj) {
    const QuantKernels& k = hook_table(level);
    // "u8s8_fast_<op>": the same op from the 63-level set (QuantKernels::u8s8_fast).
    const bool fast = name.rfind("u8s8_fast_", 0) == 0;
    const Int8Kernels& i8 = fast ? k.u8s8_fast : k.u8s8;
    const std::string op = fast ? "u8s8_" + name.substr(10) : name;
    carray<uint8_t> codes = require_array<uint8_t>(codes_obj, "codes");
    if (codes.ndim() != 2) throw DimensionError("codes must be 2-d");
    size_t n = codes.shape(0), w = codes.shape(1);
    py::array_t<float> out(py::ssize_t{static_cast<py::ssize_t>(n)});
    float* o = out.mutable_data();
    const uint8_t* c = codes.data();
    if (name == "sq8_l2" || name == "sq8_dot") {
        carray<float> a = require_array<float>(a_obj, "a");
        if (a.ndim() != 1 || size_t(a.shape(0)) != w) throw DimensionError("a must be 1-d of the code width");
        const float* s = nullptr;
        carray<float> b;
        if (name == "sq8_l2") {
            b = require_array<float>(b_obj, "b");
            if (b.ndim() != 1 || size_t(b.shape(0)) != w) throw DimensionError("b must be 1-d of the code width");
            s = b.data();
        }
        for (size_t i = 0; i < n; ++i)
            o[i] = s ? k.sq8_l2(a.data(), s, c + i * w, w) : k.sq8_dot(a.data(), c + i * w, w);
    } else if (name == "pq8") {
        carray<float> a = require_array<float>(a_obj, "a");
        if (a.ndim() != 2 || size_t(a.shape(0)) != w || a.shape(1) != 256)
            throw DimensionError("a must be [m, 256] with m the code width");
        k.pq8_scan(a.data(), c, w, n, o);
    } else if (op == "u8s8_dot") {
        carray<int8_t> a = require_array<int8_t>(a_obj, "a");
        if (a.ndim() != 1 || size_t(a.shape(0)) != w) throw DimensionError("a must be 1-d of the code width");
        for (size_t i = 0; i < n; ++i) o[i] = float(i8.dot(c + i * w, a.data(), w));
    } else if (op == "u8s8_dot_rows") {
        carray<int8_t> a = require_array<int8_t>(a_obj, "a");
        carray<uint32_t> rows = require_array<uint32_t>(b_obj, "b");
        if (a.ndim() != 1 || size_t(a.shape(0)) != w) throw DimensionError("a must be 1-d of the code width");
        if (rows.ndim() != 1) throw DimensionError("b must be 1-d rows");
        const size_t m = size_t(rows.shape(0));
        for (size_t i = 0; i < m; ++i)
            if (rows.data()[i] >= n) throw InvalidArgument("u8s8_dot_rows: a row past the codes");
        std::vector<int32_t> dots(m);
        i8.dot_rows(c, w, rows.data(), m, a.data(), dots.data());
        py::array_t<float> res(py::ssize_t{py::ssize_t(m)});
        for (size_t i = 0; i < m; ++i) res.mutable_data()[i] = float(dots[i]);
        return res;
    } else if (op == "u8s8_block16") {
        carray<int8_t> a = require_array<int8_t>(a_obj, "a");
        if (w != 64 || a.ndim() != 2 || size_t(a.shape(1)) != n * 4 || a.shape(0) < 1 || a.shape(0) > 8)
            throw DimensionError("u8s8_block16 takes codes [chunks, 64] and 1 to 8 queries [nw, chunks * 4]");
        const size_t nw = a.shape(0);
        std::vector<int32_t> dots(nw * 16);
        i8.block16(c, a.data(), nw, n * 4, n, dots.data());
        py::array_t<float> sums(py::ssize_t(nw * 16));
        for (size_t i = 0; i < nw * 16; ++i) sums.mutable_data()[i] = float(dots[i]);
        return sums;
    } else if (op == "u8s8_block16_est") {
        carray<int8_t> a = require_array<int8_t>(a_obj, "a");
        carray<float> f = require_array<float>(b_obj, "b");
        if (w != 64 || a.ndim() != 2 || size_t(a.shape(1)) != n * 4 || a.shape(0) < 1 || a.shape(0) > 8 ||
            f.ndim() != 2 || f.shape(0) != a.shape(0) || f.shape(1) != 4)
            throw DimensionError("u8s8_block16_est takes codes [chunks, 64], queries [nw, chunks * 4], b [nw, 4]");
        const size_t nw = a.shape(0);
        std::vector<float> base(nw), mul(nw), bound(nw), norms(16, f.data()[3]), est(nw * 16);
        std::vector<uint32_t> masks(nw);
        for (size_t j = 0; j < nw; ++j) {
            base[j] = f.data()[j * 4];
            mul[j] = f.data()[j * 4 + 1];
            bound[j] = f.data()[j * 4 + 2];
        }
        i8.block16_est(c, a.data(), nw, n * 4, n, base.data(), mul.data(), norms.data(), bound.data(), est.data(),
                           masks.data());
        py::array_t<float> res(py::ssize_t(nw * 17));
        for (size_t j = 0; j < nw; ++j) {
            for (size_t r = 0; r < 16; ++r) res.mutable_data()[j * 17 + r] = est[j * 16 + r];
            res.mutable_data()[j * 17 + 16] = float(masks[j]);
        }
        return res;
    } else if (op == "u8s8_rows_est") {
        carray<int8_t> a = require_array<int8_t>(a_obj, "a");
        carray<float> f = require_array<float>(b_obj, "b");
        if (a.ndim() != 2 || size_t(a.shape(1)) != w || a.shape(0) < 1 || a.shape(0) > 8 || f.ndim() != 2 ||
            f.shape(0) != a.shape(0) || f.shape(1) != 3)
            throw DimensionError("u8s8_rows_est takes codes [n, dim], queries [nw, dim] (nw <= 8), b [nw, 3]");
        const size_t nw = a.shape(0);
        std::vector<float> base(nw), mul(nw), bound(nw), norms(n), est(n * 8);
        std::vector<uint32_t> rows(n), masks(n);
        for (size_t j = 0; j < nw; ++j) {
            base[j] = f.data()[j * 3];
            mul[j] = f.data()[j * 3 + 1];
            bound[j] = f.data()[j * 3 + 2];
        }
        for (size_t i = 0; i < n; ++i) {
            rows[i] = uint32_t(n - 1 - i);
            norms[i] = float(i) / 4.0f;
        }
        i8.rows_est(c, w, rows.data(), n, a.data(), nw, w, base.data(), mul.data(), norms.data(), bound.data(),
                    est.data(), masks.data());
        py::array_t<float> res(py::ssize_t(n * 9));
        for (size_t i = 0; i < n; ++i) {
            for (size_t j = 0; j < 8; ++j) res.mutable_data()[i * 9 + j] = j < nw ? est[i * 8 + j] : 0.0f;
            res.mutable_data()[i * 9 + 8] = float(masks[i]);
        }
        return res;
    } else if (name == "fwht") {
        const size_t floats = w / sizeof(float);
        if (n != 1 || w % sizeof(float) != 0 || floats < 8 || (floats & (floats - 1)) != 0)
            throw DimensionError("fwht takes the bytes of 2^j >= 8 floats as codes [1, 4 * 2^j]");
        py::array_t<float> res{py::ssize_t(floats)};
        std::memcpy(res.mutable_data(), c, w);
        k.fwht(res.mutable_data(), floats);
        return res;
    } else if (name == "fastscan32") {
        carray<uint8_t> t = require_array<uint8_t>(a_obj, "a");
        if (w != 64 || t.ndim() != 1 || size_t(t.shape(0)) != n * 128)
            throw DimensionError("fastscan32 takes codes [chunks, 64] and tables [chunks * 128]");
        py::array_t<float> sums(py::ssize_t{32});
        k.fastscan32(c, t.data(), n, sums.mutable_data());
        return sums;
    } else if (name == "hamming" || name == "hamming_scan") {
        carray<uint8_t> q = require_array<uint8_t>(a_obj, "q");
        if (w % 8 != 0 || q.ndim() != 1 || size_t(q.shape(0)) != w)
            throw DimensionError("binary codes must be whole 64-bit words and q one code");
        if (name == "hamming")
            for (size_t i = 0; i < n; ++i) o[i] = float(k.hamming(q.data(), c + i * w, w / 8));
        else
            k.hamming_scan(q.data(), c, w / 8, n, o);
    } else {
        throw InvalidArgument("unknown quant kernel " + name);
    }
    return out;
}

// Testing hook: nearest centroid of each row of x at one SIMD level.
py::tuple quant_nearest(const std::string& level, py::handle x_obj, py::handle c_obj) {
    const QuantKernels& k = hook_table(level);
    carray<float> x = require_array<float>(x_obj, "x");
    carray<float> c = require_array<float>(c_obj, "centroids");
    if (x.ndim() != 2 || c.ndim() != 2 || x.shape(1) != c.shape(1) || c.shape(0) == 0)
        throw DimensionError("x and centroids must be 2-d with the same number of columns");
    size_t n = x.shape(0), nc = c.shape(0), d = x.shape(1);
    std::vector<float> ct(d * nc), cn(nc, 0.0f);
    for (size_t j = 0; j < nc; ++j)
        for (size_t i = 0; i < d; ++i) {
            float v = c.data()[j * d + i];
            ct[i * nc + j] = v;
            cn[j] += v * v;
        }
    py::array_t<int64_t> idx(py::ssize_t{static_cast<py::ssize_t>(n)});
    py::array_t<float> dist(py::ssize_t{static_cast<py::ssize_t>(n)});
    for (size_t r = 0; r < n; ++r)
        idx.mutable_data()[r] = k.nearest(x.data() + r * d, ct.data(), cn.data(), d, nc, dist.mutable_data() + r);
    return py::make_tuple(idx, dist);
}

}  // namespace

void init_quant(py::module_& m) {
    py::class_<PyCodec>(m, "Codec")
        .def(py::init<const std::string&, size_t, const std::string&, size_t, size_t, bool, int, uint64_t>(),
             py::arg("kind"), py::arg("dim"), py::arg("metric"), py::arg("m") = 0, py::arg("nbits") = 8,
             py::arg("opq") = false, py::arg("threshold") = 0, py::arg("seed") = 0)
        .def("train", &PyCodec::train, py::arg("x"), py::arg("threads") = 0)
        .def("encode", &PyCodec::encode, py::arg("x"), py::arg("threads") = 0)
        .def("decode", &PyCodec::decode, py::arg("codes"))
        .def("search", &PyCodec::search, py::arg("codes"), py::arg("queries"), py::arg("k"), py::arg("threads") = 0)
        .def("distances", &PyCodec::distances, py::arg("codes"), py::arg("queries"), py::arg("single") = false)
        .def("prepare_int8", &PyCodec::prepare_int8, py::arg("query"))
        .def("serialize", &PyCodec::serialize)
        .def_static("restore", &PyCodec::restore, py::arg("blob"))
        .def("set_rotation", &PyCodec::set_rotation, py::arg("rotation"))
        .def("rotation", &PyCodec::rotation)
        .def("options", &PyCodec::options)
        .def_property_readonly("kind", &PyCodec::kind)
        .def_property_readonly("dim", &PyCodec::dim)
        .def_property_readonly("metric", &PyCodec::metric)
        .def_property_readonly("code_size", &PyCodec::code_size)
        .def_property_readonly("prepared_size", &PyCodec::prepared_size)
        .def_property_readonly("trained", &PyCodec::trained);
    m.def("int8_query_max", [](const std::string& level, bool fast) {
              const QuantKernels& k = hook_table(level);
              return (fast ? k.u8s8_fast : k.u8s8).query_max;
          }, py::arg("level"), py::arg("fast") = false,
          "The largest |w| one SIMD level's u8s8 (or u8s8_fast) kernels take exactly (quant/kernels.h).");
    m.def("quant_kernel", &quant_kernel, py::arg("level"), py::arg("name"), py::arg("codes"), py::arg("a"),
          py::arg("b") = py::none(), "Testing hook: one quant kernel at one SIMD level over rows of codes.");
    m.def("quant_nearest", &quant_nearest, py::arg("level"), py::arg("x"), py::arg("centroids"),
          "Testing hook: nearest centroid of each row at one SIMD level.");
}

}  // namespace vecsearch
