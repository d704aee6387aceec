// External id -> slot, as an open-addressing hash table (linear probing, backward-shift
// deletion, so no tombstones): 12 bytes a bucket, kept at most 70% full, where
// std::unordered_map spends about 56 bytes an id on nodes and buckets. At ten million vectors
// that is the difference between fitting a disk-tier memory budget or not.
// The id kMissingId marks an empty bucket; the index never stores it (it is the result marker).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/types.h"

namespace vecsearch {

class IdMap {
public:
    size_t size() const { return size_; }
    size_t bytes() const { return keys_.capacity() * sizeof(external_id) + slots_.capacity() * sizeof(slot_t); }

    // The slot of `id`, or kNoSlot.
    slot_t find(external_id id) const {
        if (size_ == 0) return kNoSlot;
        for (size_t b = bucket(id);; b = (b + 1) & mask_) {
            if (keys_[b] == id) return slots_[b];
            if (keys_[b] == kMissingId) return kNoSlot;
        }
    }
    bool contains(external_id id) const { return find(id) != kNoSlot; }

    // Maps id to slot; false (and no change) when id is already there.
    bool insert(external_id id, slot_t slot) {
        reserve(size_ + 1);
        size_t b = bucket(id);
        for (; keys_[b] != kMissingId; b = (b + 1) & mask_)
            if (keys_[b] == id) return false;
        keys_[b] = id;
        slots_[b] = slot;
        ++size_;
        return true;
    }

    // Removes id; false when it was not there.
    bool erase(external_id id) {
        if (size_ == 0) return false;
        size_t b = bucket(id);
        for (; keys_[b] != id; b = (b + 1) & mask_)
            if (keys_[b] == kMissingId) return false;
        // Backward shift: pull later entries of the probe run into the hole, so lookups never
        // stop early at it.
        for (size_t next = (b + 1) & mask_; keys_[next] != kMissingId; next = (next + 1) & mask_) {
            size_t home = bucket(keys_[next]);
            // The entry may move to b when b lies on its probe path, i.e. between home and next.
            bool movable = b <= next ? (home <= b || home > next) : (home <= b && home > next);
            if (movable) {
                keys_[b] = keys_[next];
                slots_[b] = slots_[next];
                b = next;
            }
        }
        keys_[b] = kMissingId;
        --size_;
        return true;
    }

    // Room for n ids without rehashing.
    void reserve(size_t n) {
        size_t want = 16;
        while (want * 7 / 10 < n) want *= 2;
        if (want <= keys_.size()) return;
        std::vector<external_id> old_keys(want, kMissingId);
        std::vector<slot_t> old_slots(want);
        old_keys.swap(keys_);
        old_slots.swap(slots_);
        mask_ = want - 1;
        size_ = 0;
        for (size_t b = 0; b < old_keys.size(); ++b)
            if (old_keys[b] != kMissingId) insert(old_keys[b], old_slots[b]);
    }

private:
    size_t bucket(external_id id) const {
        uint64_t h = id * 0x9E3779B97F4A7C15ull;  // Fibonacci hashing: sequential ids spread out
        return size_t(h ^ (h >> 29)) & mask_;
    }

    std::vector<external_id> keys_;
    std::vector<slot_t> slots_;
    size_t mask_ = 0;
    size_t size_ = 0;
};

}  // namespace vecsearch
