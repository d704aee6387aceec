// Basic value types shared by every part of the core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace vecsearch {

using external_id = uint64_t;  // the id a user gives or is given
using slot_t = uint32_t;       // dense internal position of a vector

// Padding id in result rows shorter than k; users may not add it.
constexpr external_id kMissingId = std::numeric_limits<external_id>::max();
constexpr slot_t kNoSlot = std::numeric_limits<slot_t>::max();
// Slots use 31 bits: the beam pool borrows the top bit as its "expanded" mark.
constexpr size_t kMaxSlots = (size_t{1} << 31) - 1;

enum class Metric { l2, ip, cosine };

struct Neighbor {
    float dist;
    slot_t slot;
};

}  // namespace vecsearch
