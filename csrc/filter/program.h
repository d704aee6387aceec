// Filter expressions in postfix form, evaluated to slot bitmaps natively.
//
// vecsearch/filters/program.py compiles an expression tree into ops over row lists: each leaf
// is a list of matching attribute rows, already found through the column indexes (a slice of a
// sorted order, a posting list), so evaluation costs O(matches) per leaf plus O(slots / 64) per
// combining op, whatever the corpus size. A range matching many rows comes instead as a rank
// range (its stretch of the value order, tested against every slot's rank by SIMD compares:
// O(slots / 16) without scattered writes), and leaves several programs of a batch share are set
// once (LeafCache).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "common/types.h"

namespace vecsearch {

enum class FilterOp : uint8_t {
    rows = 0,  // push the bitmap of the next row list
    all = 1,   // push every live slot
    and_ = 2,  // pop b, pop a, push a & b
    or_ = 3,   // pop b, pop a, push a | b
    not_ = 4,  // pop a, push live & ~a
    ranks = 5,  // push the bitmap of the next rank range
};

struct RowList {
    const int64_t* rows = nullptr;
    size_t count = 0;
};

// The slots whose rank (their row's position in a column's value order, one per slot; slots
// past n_slots and ranks outside [start, stop) do not pass) lies in [start, stop): a range of
// the column, tested a vector of slots at a time instead of set row by row.
struct RankRange {
    const uint32_t* ranks = nullptr;
    size_t n_slots = 0;
    uint32_t start = 0, stop = 0;
};

struct FilterProgram {
    const uint8_t* ops = nullptr;
    size_t n_ops = 0;
    const RowList* lists = nullptr;  // consumed in order by the `rows` ops
    size_t n_lists = 0;
    const RankRange* ranges = nullptr;  // consumed in order by the `ranks` ops
    size_t n_ranges = 0;
};

// Where attribute rows live in the graph: row_slots[r] is row r's slot, kNoSlot for a deleted
// row. `live` has the bits of every live slot; slots must be < n_slots.
struct RowSlotMap {
    const slot_t* row_slots = nullptr;
    size_t n_rows = 0;
    const uint64_t* live = nullptr;
    size_t n_slots = 0;
};

// The bitmaps of row lists that several programs of one batch share, set once for the batch
// instead of once per program: per-query filters repeat their common leaves (an equality on a
// category, one window of a range) as the same rows of the same column index, i.e. the same
// pointer and count, so setting them again costs a scattered write per row each time where a
// copy costs n_words words.
class LeafCache {
public:
    // Sets the bitmap of each list found in two or more of the programs whose rows outnumber a
    // quarter of its words, the most rows saved first, within a budget of kBudgetBytes.
    void build(const FilterProgram* programs, size_t n, const RowSlotMap& map, size_t n_words);
    // The list's bitmap, or nullptr if it was not cached.
    const uint64_t* find(const RowList& list) const;

    static constexpr size_t kBudgetBytes = size_t(32) << 20;

private:
    std::map<std::pair<const int64_t*, size_t>, size_t> where_;  // list -> its bitmap in words_
    std::vector<uint64_t> words_;
    size_t n_words_ = 0;
};

// Writes the program's bitmap (n_words words, n_words * 64 >= map.n_slots) to `out` and returns
// its set bits; row lists `cache` holds (may be null) are copied from it. Throws InvalidArgument
// for a malformed program (bad op, stack underflow, leftover operands, unused or missing row
// lists, a row out of range).
size_t evaluate_program(const FilterProgram& program, const RowSlotMap& map, uint64_t* out, size_t n_words,
                        const LeafCache* cache = nullptr);

}  // namespace vecsearch
