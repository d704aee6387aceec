// A read-only bitmap over slots: bit s of word s / 64 says whether slot s passes a filter.
// Built in Python (numpy) or from an id list; the graph walks and scans only read it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/types.h"

namespace vecsearch {

struct SlotBitmap {
    const uint64_t* words = nullptr;
    size_t n_bits = 0;

    bool test(slot_t s) const { return s < n_bits && ((words[s >> 6] >> (s & 63)) & 1u); }

    // Calls fn(slot) for every set bit, in slot order; the cost follows the words and matches.
    template <class Fn>
    void for_each(Fn&& fn) const {
        size_t n_words = (n_bits + 63) / 64;
        for (size_t w = 0; w < n_words; ++w) {
            uint64_t bits = words[w];
            while (bits) {
                size_t s = w * 64 + size_t(__builtin_ctzll(bits));
                bits &= bits - 1;
                if (s < n_bits) fn(slot_t(s));
            }
        }
    }
};

// A compiled predicate over external ids (e.g. a numba @cfunc("uint8(uint64)")), called from
// native threads without the GIL: nonzero admits the id.
using id_predicate = uint8_t (*)(uint64_t id);

// How a filtered query is answered (chosen per query by the Python planner).
enum class FilterPlan : uint8_t {
    scan = 0,   // exact distances to every matching slot
    acorn = 1,  // ACORN-1: walk only matching nodes, reaching them through two-hop expansion
    post = 2,   // walk the whole graph, keep matching nodes, widen the beam until k are found
    codes = 3,  // every matching slot's SQ8 code scored with an int8 query, the best re-scored exactly
};

// What answered a filtered query in the end (reported per query to the caller): the planned
// scan, one of the walks, or the exact scan that replaced a walk (re-routed before it ran, or
// run after it because the walk met fewer matches than exist or provably missed closer ones).
enum class Answered : uint8_t {
    scan = 0,
    acorn = 1,
    post = 2,
    acorn_rerouted = 3,
    acorn_fallback = 4,
    post_fallback = 5,
    codes = 6,
};

}  // namespace vecsearch
