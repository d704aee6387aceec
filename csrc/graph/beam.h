// The two bounded, sorted buffers a graph walk keeps.
//
// BeamPool: the walk's frontier and best-so-far in one array sorted by distance (capacity ef).
// A cursor points at the closest entry not yet expanded; expanded entries carry the top bit of
// their slot. Insertion is a binary search plus a short memmove, cheaper than two heaps at the
// ef values HNSW uses, and the first k entries are the answer.
//
// TopK: the k best accepted slots seen, for walks whose route and answer differ (tombstones,
// filters).
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/types.h"

namespace vecsearch {

class BeamPool {
public:
    static constexpr slot_t kExpanded = slot_t{1} << 31;

    void reset(size_t capacity) {
        cap_ = capacity;
        if (data_.size() < capacity + 1) data_.resize(capacity + 1);
        size_ = 0;
        cursor_ = 0;
    }
    size_t size() const { return size_; }
    size_t capacity() const { return cap_; }
    bool full() const { return size_ == cap_; }
    float worst() const { return data_[size_ - 1].dist; }
    // Whether a candidate at this distance would enter the pool.
    bool admits(float dist) const { return size_ < cap_ || dist < data_[size_ - 1].dist; }

    bool insert(float dist, slot_t slot) {
        if (!admits(dist)) return false;
        // The first entry farther than dist, by halving without a data-dependent branch: the step
        // count depends on the size alone, so only the comparisons vary, not the control flow.
        const Neighbor* first = data_.data();
        size_t len = size_;
        while (len > 1) {
            const size_t half = len / 2;
            first = first[half - 1].dist <= dist ? first + half : first;
            len -= half;
        }
        const size_t lo = size_t(first - data_.data()) + (len == 1 && first->dist <= dist ? 1 : 0);
        size_t tail = size_ - lo - (size_ == cap_ ? 1 : 0);
        std::memmove(&data_[lo + 1], &data_[lo], tail * sizeof(Neighbor));
        data_[lo] = Neighbor{dist, slot};
        if (size_ < cap_) ++size_;
        if (lo < cursor_) cursor_ = lo;
        return true;
    }
    // The index of slot's entry if it waits unexpanded in the pool, else size().
    size_t find_waiting(slot_t slot) const {
        size_t i = cursor_;
        while (i < size_ && data_[i].slot != slot) ++i;
        return i;
    }
    void erase(size_t i) {
        std::memmove(&data_[i], &data_[i + 1], (size_ - i - 1) * sizeof(Neighbor));
        --size_;
        if (i < cursor_) --cursor_;
    }
    bool has_next() const { return cursor_ < size_; }
    slot_t peek_next() const { return data_[cursor_].slot; }  // the entry pop_next() would return
    slot_t pop_next() {
        Neighbor& n = data_[cursor_];
        slot_t slot = n.slot;
        n.slot |= kExpanded;
        while (cursor_ < size_ && (data_[cursor_].slot & kExpanded)) ++cursor_;
        return slot;
    }
    slot_t slot_at(size_t i) const { return data_[i].slot & ~kExpanded; }
    float dist_at(size_t i) const { return data_[i].dist; }
    // The pool's entries, ascending by distance, without the expanded marks.
    void copy_to(std::vector<Neighbor>& out) const {
        out.resize(size_);
        for (size_t i = 0; i < size_; ++i) out[i] = Neighbor{dist_at(i), slot_at(i)};
    }

private:
    std::vector<Neighbor> data_;
    size_t size_ = 0, cursor_ = 0, cap_ = 0;
};

class TopK {
public:
    void reset(size_t k) {
        k_ = k;
        items_.clear();
    }
    bool full() const { return items_.size() == k_; }
    float worst() const { return items_.front().dist; }
    void push(float dist, slot_t slot) {
        if (items_.size() < k_) {
            items_.push_back({dist, slot});
            std::push_heap(items_.begin(), items_.end(), less);
        } else if (dist < items_.front().dist) {
            std::pop_heap(items_.begin(), items_.end(), less);
            items_.back() = {dist, slot};
            std::push_heap(items_.begin(), items_.end(), less);
        }
    }
    size_t size() const { return items_.size(); }
    // Ascending by distance; leaves the heap unusable until reset.
    const std::vector<Neighbor>& sorted() {
        std::sort(items_.begin(), items_.end(), less);
        return items_;
    }

private:
    static bool less(const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; }
    std::vector<Neighbor> items_;
    size_t k_ = 0;
};

}  // namespace vecsearch
