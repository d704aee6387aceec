// Brute-force k-nearest search over codes: prepare each query, scan the codes in blocks,
// keep the k smallest distances (ties broken by position, so results are deterministic).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/codec.h"

namespace vecsearch {

// Queries [nq, dim] against codes [n, code_size]. Writes nq * k positions (-1 past n) and
// distances (+inf past n), each row sorted ascending. Parallel over queries.
void search_codes(const Codec& codec, const uint8_t* codes, size_t n, const float* queries, size_t nq, size_t k,
                  size_t threads, int64_t* out_idx, float* out_dist);

// Every distance from each query to each code, through scan() (or distance() when single).
void all_distances(const Codec& codec, const uint8_t* codes, size_t n, const float* queries, size_t nq, bool single,
                   float* out);

}  // namespace vecsearch
