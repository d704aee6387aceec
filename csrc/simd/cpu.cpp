#include "simd/cpu.h"

#include <cstdlib>

#include "common/errors.h"

namespace vecsearch {

namespace {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
    return false;
#endif
}

struct Choice {
    const KernelTable* table;
    bool forced = false;
    std::string warning;
};

Choice choose() {
    Choice c;
    auto levels = supported_levels();
    SimdLevel best = levels.back();
    c.table = &kernels_for(best);
    const char* env = std::getenv("VECSEARCH_SIMD");
    if (env == nullptr || *env == '\0') return c;
    SimdLevel wanted;
    if (!parse_level(env, &wanted)) {
        c.warning = std::string("VECSEARCH_SIMD=") + env + " is not one of scalar, avx2, avx512; using " +
                    level_name(best);
    } else if (!level_supported(wanted)) {
        c.warning = std::string("VECSEARCH_SIMD=") + env + " is not supported by this CPU; using " +
                    level_name(best);
    } else {
        c.table = &kernels_for(wanted);
        c.forced = true;
    }
    return c;
}

const Choice& choice() {
    static const Choice c = choose();
    return c;
}

}  // namespace

std::vector<SimdLevel> supported_levels() {
    std::vector<SimdLevel> out{SimdLevel::scalar};
    if (cpu_has_avx2()) out.push_back(SimdLevel::avx2);
    if (cpu_has_avx2() && cpu_has_avx512()) out.push_back(SimdLevel::avx512);
    return out;
}

bool level_supported(SimdLevel level) {
    for (SimdLevel l : supported_levels())
        if (l == level) return true;
    return false;
}

const char* level_name(SimdLevel level) {
    switch (level) {
        case SimdLevel::scalar: return "scalar";
        case SimdLevel::avx2: return "avx2";
        case SimdLevel::avx512: return "avx512";
    }
    return "unknown";
}

bool parse_level(const std::string& name, SimdLevel* out) {
    for (SimdLevel l : {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512}) {
        if (name == level_name(l)) {
            *out = l;
            return true;
        }
    }
    return false;
}

const KernelTable& kernels_for(SimdLevel level) {
    if (!level_supported(level))
        throw InvalidArgument(std::string("SIMD level ") + level_name(level) + " is not supported by this CPU");
    switch (level) {
        case SimdLevel::avx512: return avx512_kernels();
        case SimdLevel::avx2: return avx2_kernels();
        default: return scalar_kernels();
    }
}

const KernelTable& active_kernels() { return *choice().table; }
bool simd_forced() { return choice().forced; }
const std::string& simd_warning() { return choice().warning; }

bool cpu_has_vnni() {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_cpu_supports("avx512vnni");
#else
    return false;
#endif
}

bool cpu_has_vpopcntdq() {
#if defined(__x86_64__) || defined(__i386__)
    return cpu_has_avx512() && __builtin_cpu_supports("avx512vpopcntdq");
#else
    return false;
#endif
}

}  // namespace vecsearch
