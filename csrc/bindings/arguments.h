// Arguments every binding reads the same way: metric names and thread counts.
#pragma once

#include <cstddef>
#include <string>

#include "common/errors.h"
#include "common/thread_pool.h"
#include "common/types.h"

namespace vecsearch {

inline Metric parse_metric(const std::string& name) {
    if (name == "l2") return Metric::l2;
    if (name == "ip") return Metric::ip;
    if (name == "cosine") return Metric::cosine;
    throw InvalidArgument("unknown metric '" + name + "'; expected 'l2', 'ip' or 'cosine'");
}

inline const char* metric_name(Metric m) {
    switch (m) {
        case Metric::l2: return "l2";
        case Metric::ip: return "ip";
        default: return "cosine";
    }
}

// 0 means every hardware thread.
inline size_t clamp_threads(size_t threads) { return threads == 0 ? ThreadPool::hardware_threads() : threads; }

}  // namespace vecsearch
