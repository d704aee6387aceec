// SIMD introspection, and a private hook that runs one kernel level so tests reach every path.
#include <pybind11/stl.h>

#include <algorithm>
#include <vector>

#include "bindings/numpy_utils.h"
#include "simd/cpu.h"

namespace vecsearch {

namespace {

py::dict simd_info() {
    py::dict d;
    d["level"] = active_kernels().name;
    py::list supported;
    for (SimdLevel l : supported_levels()) supported.append(level_name(l));
    d["supported"] = supported;
    d["forced"] = simd_forced();
    d["warning"] = simd_warning();
    return d;
}

py::array_t<float> kernel_distances(const std::string& level_name_, const std::string& metric, py::handle x_obj,
                                    py::handle y_obj, bool block, bool rows4) {
    SimdLevel level;
    if (!parse_level(level_name_, &level)) throw InvalidArgument("unknown SIMD level " + level_name_);
    const KernelTable& k = kernels_for(level);
    if (metric != "l2" && metric != "ip") throw InvalidArgument("metric must be l2 or ip");
    dist_fn fn = metric == "l2" ? k.l2sq : k.dot;
    carray<float> x = require_array<float>(x_obj, "x");
    carray<float> y = require_array<float>(y_obj, "y");
    if (x.ndim() != 2 || y.ndim() != 2 || x.shape(1) != y.shape(1))
        throw DimensionError("x and y must be 2-d with the same number of columns");
    size_t n = x.shape(0), m = y.shape(0), dim = x.shape(1);
    py::array_t<float> out({py::ssize_t(n), py::ssize_t(m)});
    float* o = out.mutable_data();
    const float* xp = x.data();
    const float* yp = y.data();
    py::gil_scoped_release release;
    if (rows4) {
        // The four-rows kernels (dot products only): x in transposed groups of kBlockQueries,
        // two groups at a time through dot_block4x2 and a last odd group through dot_block4;
        // y four rows at a time, a short last group repeating its last row.
        if (metric != "ip") throw InvalidArgument("rows4 computes dot products: metric must be ip");
        const size_t group = dim * kBlockQueries;
        std::vector<float> qt(2 * group), raw(2 * kBlockRows * kBlockQueries);
        for (size_t start = 0; start < n; start += 2 * kBlockQueries) {
            size_t nb = std::min(2 * kBlockQueries, n - start);
            std::fill(qt.begin(), qt.end(), 0.0f);
            for (size_t b = 0; b < nb; ++b)
                for (size_t i = 0; i < dim; ++i)
                    qt[(b / kBlockQueries) * group + i * kBlockQueries + b % kBlockQueries] = xp[(start + b) * dim + i];
            for (size_t j = 0; j < m; j += kBlockRows) {
                const float* rows[kBlockRows];
                size_t nr = std::min(kBlockRows, m - j);
                for (size_t r = 0; r < kBlockRows; ++r) rows[r] = yp + (j + std::min(r, nr - 1)) * dim;
                if (nb > kBlockQueries)
                    k.dot_block4x2(qt.data(), group, rows, dim, raw.data());
                else
                    k.dot_block4(qt.data(), rows, dim, raw.data());
                for (size_t r = 0; r < nr; ++r)
                    for (size_t b = 0; b < nb; ++b)
                        o[(start + b) * m + j + r] =
                            raw[(b / kBlockQueries) * kBlockRows * kBlockQueries + r * kBlockQueries + b % kBlockQueries];
            }
        }
        return out;
    }
    if (!block) {
        for (size_t i = 0; i < n; ++i)
            for (size_t j = 0; j < m; ++j) o[i * m + j] = fn(xp + i * dim, yp + j * dim, dim);
        return out;
    }
    // The block kernel: x in groups of kBlockQueries (transposed, zero-padded) against each y row.
    block_fn bfn = metric == "l2" ? k.l2sq_block : k.dot_block;
    std::vector<float> qt(dim * kBlockQueries), raw(kBlockQueries);
    for (size_t start = 0; start < n; start += kBlockQueries) {
        size_t nb = std::min(kBlockQueries, n - start);
        std::fill(qt.begin(), qt.end(), 0.0f);
        for (size_t b = 0; b < nb; ++b)
            for (size_t i = 0; i < dim; ++i) qt[i * kBlockQueries + b] = xp[(start + b) * dim + i];
        for (size_t j = 0; j < m; ++j) {
            bfn(qt.data(), yp + j * dim, dim, raw.data());
            for (size_t b = 0; b < nb; ++b) o[(start + b) * m + j] = raw[b];
        }
    }
    return out;
}

}  // namespace

void init_simd(py::module_& m) {
    m.def("simd_info", &simd_info, "The SIMD level in use and the levels this CPU supports.");
    m.def(
        "rank_bits",
        [](const std::string& level_name, py::handle ranks_obj, uint32_t start, uint32_t width) {
            SimdLevel level;
            if (!parse_level(level_name, &level)) throw InvalidArgument("unknown SIMD level " + level_name);
            carray<uint32_t> ranks = require_array<uint32_t>(ranks_obj, "ranks");
            if (ranks.ndim() != 1 || ranks.shape(0) % 64 != 0) throw DimensionError("ranks: 1-d, whole words of 64");
            const size_t words = size_t(ranks.shape(0)) / 64;
            py::array_t<uint64_t> out(py::ssize_t{py::ssize_t(words)});
            kernels_for(level).rank_bits(ranks.data(), words, start, width, out.mutable_data());
            return out;
        },
        py::arg("level"), py::arg("ranks"), py::arg("start"), py::arg("width"),
        "Testing hook: the rank-range bitmap kernel at one SIMD level.");
    m.def("kernel_distances", &kernel_distances, py::arg("level"), py::arg("metric"), py::arg("x"), py::arg("y"),
          py::arg("block") = false, py::arg("rows4") = false,
          "Testing hook: all pairwise raw kernel values (l2 = squared distance, ip = dot) at one SIMD level; "
          "block=True computes them with the many-queries-one-row kernel, rows4=True (ip) with the "
          "many-queries-four-rows kernel.");
}

}  // namespace vecsearch
