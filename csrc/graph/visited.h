// Visited marks for graph walks: an epoch-tagged array kept per thread, so a walk allocates
// nothing and resets in O(1) (a full clear only every 65535 walks).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "common/types.h"

namespace vecsearch {

class VisitedList {
public:
    void reset(size_t n) {
        if (marks_.size() < n) {
            marks_.assign(n, 0);
            epoch_ = 0;
        }
        if (++epoch_ == 0) {
            std::memset(marks_.data(), 0, marks_.size() * sizeof(uint16_t));
            epoch_ = 1;
        }
    }
    bool test_and_set(slot_t s) {
        uint16_t& m = marks_[s];
        if (m == epoch_) return true;
        m = epoch_;
        return false;
    }
    const uint16_t* address(slot_t s) const { return marks_.data() + s; }

private:
    std::vector<uint16_t> marks_;
    uint16_t epoch_ = 0;
};

}  // namespace vecsearch
