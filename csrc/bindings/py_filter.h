// A compiled filter program held natively (vecsearch/filters/program.py builds one per distinct
// expression and caches it): its arrays are checked and its views built once, so a search that
// repeats a filter passes the program by reference instead of re-reading a tuple of arrays
// (which cost about 3 us per program per call).
#pragma once

#include <vector>

#include "bindings/numpy_utils.h"
#include "filter/program.h"

namespace vecsearch {

class PyFilterProgram {
public:
    // ops: uint8 op codes; rows: int64 row arrays, one per `rows` op; ranges: (uint32 slot ranks,
    // start, stop) triples, one per `ranks` op. Throws InvalidArgument for a malformed array; the
    // ops themselves are checked when evaluated (filter/program.h).
    PyFilterProgram(py::handle ops, const py::list& rows, const py::list& ranges);

    // Views of the arrays, valid while this object lives (Python holds it across the call).
    FilterProgram program() const;
    // Bytes of payload the program references: its ops and row lists (mostly views of the column
    // indexes), 64 per rank range (the ranks are one array per column).
    size_t nbytes() const;
    py::array ops() const { return ops_; }

private:
    carray<uint8_t> ops_;
    std::vector<carray<int64_t>> lists_;
    std::vector<RowList> views_;
    std::vector<carray<uint32_t>> rank_arrays_;
    std::vector<RankRange> ranges_;
};

void init_filter(py::module_& m);

}  // namespace vecsearch
