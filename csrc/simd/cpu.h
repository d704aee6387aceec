// CPU feature detection and the choice of kernel table, made once per process.
//
// The best level this CPU supports is used unless VECSEARCH_SIMD=scalar|avx2|avx512 asks for
// another; a level the CPU lacks falls back to the best one it has (simd_warning() says so).
#pragma once

#include <string>
#include <vector>

#include "simd/kernels.h"

namespace vecsearch {

std::vector<SimdLevel> supported_levels();
bool level_supported(SimdLevel level);
const char* level_name(SimdLevel level);
bool parse_level(const std::string& name, SimdLevel* out);

const KernelTable& active_kernels();
const KernelTable& kernels_for(SimdLevel level);  // throws InvalidArgument when unsupported
bool simd_forced();
const std::string& simd_warning();
// AVX-512 VPOPCNTDQ (vector popcount), used by the Hamming kernels at the avx512 level.
bool cpu_has_vpopcntdq();
bool cpu_has_vnni();  // AVX-512 VNNI: int8 dot products (vpdpbusd)

}  // namespace vecsearch
