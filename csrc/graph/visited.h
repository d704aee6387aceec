// Visited marks for graph walks: an epoch-tagged array kept per thread, so a walk allocates
// nothing and resets in O(1) (a full clear only every 65535 walks). BeamMarks: the same with two
// marks a walk, for walks that tell a node in the beam from one already expanded.
#pragma once

#include <algorithm>
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

// A node is unseen, waiting (admitted to the beam, whether or not it is still there) or expanded.
// A walk takes two consecutive tags, epoch_ (waiting) and epoch_ + 1 (expanded).
class BeamMarks {
public:
    void reset(size_t n) {
        if (marks_.size() < n || epoch_ >= kLastEpoch) {
            marks_.assign(std::max(n, marks_.size()), 0);
            epoch_ = 1;
        } else {
            epoch_ = uint16_t(epoch_ + 2);
        }
    }
    bool expanded(slot_t s) const { return marks_[s] == epoch_ + 1; }
    bool waiting(slot_t s) const { return marks_[s] == epoch_; }
    void set_waiting(slot_t s) { marks_[s] = epoch_; }
    void set_expanded(slot_t s) { marks_[s] = uint16_t(epoch_ + 1); }

private:
    static constexpr uint16_t kLastEpoch = 65533;  // so epoch_ + 1 never wraps to 0 (unseen)
    std::vector<uint16_t> marks_;
    uint16_t epoch_ = 0;
};

}  // namespace vecsearch
