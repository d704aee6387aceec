// An allocator for the large arrays a graph walk reads at random (vectors, links, codes): big
// allocations are 2 MiB aligned and advised into transparent huge pages, so a walk's random
// reads do not each miss the TLB (a page walk, costly under virtualisation). Small ones, and
// systems without THP, get ordinary pages. VECSEARCH_HUGE_PAGES=0 turns the advice off.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#include <sys/mman.h>

namespace vecsearch {

inline void* allocate_huge(size_t bytes) {
    constexpr size_t kHuge = size_t{2} << 20;
    if (bytes < kHuge) {
        void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!p) throw std::bad_alloc();
        return p;
    }
    size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    static const bool wanted = [] {
        const char* v = std::getenv("VECSEARCH_HUGE_PAGES");
        return !(v && v[0] == '0');
    }();
    if (wanted) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
    return p;
}

template <class T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(allocate_huge(n * sizeof(T))); }
    void deallocate(T* p, size_t) { std::free(p); }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const { return true; }
    template <class U>
    bool operator!=(const HugePageAllocator<U>&) const { return false; }
};

template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace vecsearch
