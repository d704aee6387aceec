#include "filter/program.h"

#include <algorithm>
#include <string>

#include "common/errors.h"
#include "simd/cpu.h"

namespace vecsearch {

namespace {

size_t popcount_words(const uint64_t* w, size_t n) {
    size_t bits = 0;
    for (size_t i = 0; i < n; ++i) bits += size_t(__builtin_popcountll(w[i]));
    return bits;
}

void set_rows(const RowList& list, const RowSlotMap& map, uint64_t* out, size_t n_words) {
    std::fill(out, out + n_words, 0);
    for (size_t i = 0; i < list.count; ++i) {
        int64_t r = list.rows[i];
        if (r < 0 || size_t(r) >= map.n_rows)
            throw InvalidArgument("filter program names row " + std::to_string(r) + " of " +
                                  std::to_string(map.n_rows));
        slot_t s = map.row_slots[r];
        if (s == kNoSlot) continue;  // a deleted row
        if (s >= map.n_slots) throw InvalidArgument("attribute row maps to a slot outside the index");
        out[s >> 6] |= uint64_t{1} << (s & 63);
    }
}

// Each word's 64 bits from 64 rank tests, one unsigned compare per slot (rank - start < stop -
// start), by the SIMD level's kernel; the last partial word here.
void set_ranks(const RankRange& range, uint64_t* out, size_t n_words) {
    const size_t n = std::min(range.n_slots, n_words * 64);
    const uint32_t start = range.start, width = range.stop - range.start;
    const uint32_t* ranks = range.ranks;
    size_t w = n / 64;
    active_kernels().rank_bits(ranks, w, start, width, out);
    if (w < n_words) {
        uint64_t bits = 0;
        for (size_t b = 0; w * 64 + b < n; ++b) bits |= uint64_t(ranks[w * 64 + b] - start < width) << b;
        out[w++] = bits;
    }
    std::fill(out + w, out + n_words, 0);
}

}  // namespace

void LeafCache::build(const FilterProgram* programs, size_t n, const RowSlotMap& map, size_t n_words) {
    where_.clear();
    words_.clear();
    n_words_ = n_words;
    std::map<std::pair<const int64_t*, size_t>, size_t> seen;  // list -> programs naming it
    for (size_t p = 0; p < n; ++p)
        for (size_t l = 0; l < programs[p].n_lists; ++l) {
            const RowList& list = programs[p].lists[l];
            if (list.count * 4 > n_words) ++seen[{list.rows, list.count}];
        }
    std::vector<std::pair<size_t, std::pair<const int64_t*, size_t>>> worth;  // rows saved, list
    for (const auto& [list, uses] : seen)
        if (uses >= 2) worth.push_back({(uses - 1) * list.second, list});
    std::sort(worth.begin(), worth.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    const size_t most = std::max<size_t>(1, kBudgetBytes / (n_words * sizeof(uint64_t)));
    if (worth.size() > most) worth.resize(most);
    words_.resize(worth.size() * n_words);
    for (size_t i = 0; i < worth.size(); ++i) {
        set_rows(RowList{worth[i].second.first, worth[i].second.second}, map, &words_[i * n_words], n_words);
        where_[worth[i].second] = i;
    }
}

const uint64_t* LeafCache::find(const RowList& list) const {
    auto it = where_.find({list.rows, list.count});
    return it == where_.end() ? nullptr : &words_[it->second * n_words_];
}

size_t evaluate_program(const FilterProgram& program, const RowSlotMap& map, uint64_t* out, size_t n_words,
                        const LeafCache* cache) {
    // Operand stack of bitmaps; buffers are kept and reused as it grows and shrinks, and from one
    // program to the next on this thread (a batch evaluates one program per distinct filter).
    thread_local std::vector<std::vector<uint64_t>> stack;
    size_t depth = 0, next_list = 0, next_range = 0;
    auto push = [&]() -> uint64_t* {
        if (depth == stack.size()) stack.emplace_back(n_words);
        stack[depth].resize(n_words);
        return stack[depth++].data();
    };
    auto need = [&](size_t n, const char* op) {
        if (depth < n) throw InvalidArgument(std::string("filter program: '") + op + "' lacks operands");
    };
    for (size_t i = 0; i < program.n_ops; ++i) {
        switch (FilterOp(program.ops[i])) {
            case FilterOp::rows: {
                if (next_list >= program.n_lists) throw InvalidArgument("filter program: too few row lists");
                const RowList& list = program.lists[next_list++];
                const uint64_t* cached = cache ? cache->find(list) : nullptr;
                if (cached)
                    std::copy(cached, cached + n_words, push());
                else
                    set_rows(list, map, push(), n_words);
                break;
            }
            case FilterOp::ranks: {
                if (next_range >= program.n_ranges) throw InvalidArgument("filter program: too few rank ranges");
                const RankRange& range = program.ranges[next_range++];
                if (range.stop < range.start) throw InvalidArgument("filter program: a rank range ends before it starts");
                set_ranks(range, push(), n_words);
                break;
            }
            case FilterOp::all:
                std::copy(map.live, map.live + n_words, push());
                break;
            case FilterOp::and_:
            case FilterOp::or_: {
                need(2, "and/or");
                uint64_t* a = stack[depth - 2].data();
                const uint64_t* b = stack[depth - 1].data();
                if (FilterOp(program.ops[i]) == FilterOp::and_)
                    for (size_t w = 0; w < n_words; ++w) a[w] &= b[w];
                else
                    for (size_t w = 0; w < n_words; ++w) a[w] |= b[w];
                --depth;
                break;
            }
            case FilterOp::not_: {
                need(1, "not");
                uint64_t* a = stack[depth - 1].data();
                for (size_t w = 0; w < n_words; ++w) a[w] = map.live[w] & ~a[w];
                break;
            }
            default:
                throw InvalidArgument("filter program: unknown op " + std::to_string(program.ops[i]));
        }
    }
    if (depth != 1) throw InvalidArgument("filter program must leave exactly one result");
    if (next_list != program.n_lists) throw InvalidArgument("filter program: unused row lists");
    if (next_range != program.n_ranges) throw InvalidArgument("filter program: unused rank ranges");
    // Deleted slots never pass, whatever the rows said.
    const uint64_t* top = stack[0].data();
    for (size_t w = 0; w < n_words; ++w) out[w] = top[w] & map.live[w];
    return popcount_words(out, n_words);
}

}  // namespace vecsearch
