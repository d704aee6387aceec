// Row-block parallelism for encode/train loops on the shared ThreadPool.
#pragma once

#include <algorithm>
#include <cstddef>

#include "common/thread_pool.h"

namespace vecsearch {

// Calls fn(begin, end) over [0, n) in blocks of `block` rows on up to `threads` threads.
template <class Fn>
void parallel_blocks(size_t n, size_t threads, size_t block, Fn&& fn) {
    if (n == 0) return;
    size_t blocks = (n + block - 1) / block;
    if (threads <= 1 || blocks == 1) {
        fn(size_t{0}, n);
        return;
    }
    ThreadPool::global().parallel_for(blocks, threads, 1, [&](size_t b) {
        size_t begin = b * block;
        fn(begin, std::min(n, begin + block));
    });
}

}  // namespace vecsearch
