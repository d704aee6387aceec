// Filter expressions in postfix form, evaluated to slot bitmaps natively.
//
// vecsearch/filters/program.py compiles an expression tree into ops over row lists: each leaf
// is a list of matching attribute rows, already found through the column indexes (a slice of a
// sorted order, a posting list), so evaluation costs O(matches) per leaf plus O(slots / 64) per
// combining op, whatever the corpus size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"

namespace vecsearch {

enum class FilterOp : uint8_t {
    rows = 0,  // push the bitmap of the next row list
    all = 1,   // push every live slot
    and_ = 2,  // pop b, pop a, push a & b
    or_ = 3,   // pop b, pop a, push a | b
    not_ = 4,  // pop a, push live & ~a
};

struct RowList {
    const int64_t* rows = nullptr;
    size_t count = 0;
};

struct FilterProgram {
    const uint8_t* ops = nullptr;
    size_t n_ops = 0;
    const RowList* lists = nullptr;  // consumed in order by the `rows` ops
    size_t n_lists = 0;
};

// Where attribute rows live in the graph: row_slots[r] is row r's slot, kNoSlot for a deleted
// row. `live` has the bits of every live slot; slots must be < n_slots.
struct RowSlotMap {
    const slot_t* row_slots = nullptr;
    size_t n_rows = 0;
    const uint64_t* live = nullptr;
    size_t n_slots = 0;
};

// Writes the program's bitmap (n_words words, n_words * 64 >= map.n_slots) to `out` and returns
// its set bits. Throws InvalidArgument for a malformed program (bad op, stack underflow,
// leftover operands, unused or missing row lists, a row out of range).
size_t evaluate_program(const FilterProgram& program, const RowSlotMap& map, uint64_t* out, size_t n_words);

}  // namespace vecsearch
