// A trained vector quantizer: turns dim floats into code_size() bytes, and scores a prepared
// query against codes without decoding them (asymmetric distance).
//
// Distances follow the FlatStore convention of the index's metric: l2 -> squared Euclidean to
// the decoded vector; ip and cosine -> 1 - dot (cosine vectors and queries arrive normalised).
// Binary codes are the exception: their distance is the Hamming distance between the query's
// code and the stored code, which only ranks (re-ranking with full vectors gives the answer).
//
// The graph (csrc/graph) walks with distance(); brute-force search and benchmarks use scan().
// Implementations: quant/sq8.*, quant/pq.*, quant/binary.*.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/types.h"

namespace vecsearch {

class Codec {
public:
    virtual ~Codec() = default;

    virtual std::string kind() const = 0;  // "sq8", "pq", "binary"
    virtual size_t dim() const = 0;
    virtual Metric metric() const = 0;
    virtual size_t code_size() const = 0;  // bytes per vector
    virtual bool trained() const = 0;

    // Learns the codec's parameters from n training vectors (row-major [n, dim]).
    virtual void train(const float* x, size_t n, size_t threads) = 0;
    // n vectors -> n * code_size() bytes; n codes -> n * dim floats. Thread-safe (const).
    virtual void encode(const float* x, size_t n, uint8_t* codes, size_t threads) const = 0;
    virtual void decode(const uint8_t* codes, size_t n, float* out) const = 0;

    // Bytes of a prepared query (lookup tables, a rescaled or binarised query ...).
    virtual size_t prepared_size() const = 0;
    // Fills `prepared` (prepared_size() bytes, 64-byte aligned) for query q.
    virtual void prepare(const float* q, uint8_t* prepared) const = 0;
    // Distance from a prepared query to one code.
    virtual float distance(const uint8_t* prepared, const uint8_t* code) const = 0;
    // Distances from a prepared query to n consecutive codes (the fast path for scans).
    virtual void scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const = 0;
    // Distances to the codes of n scattered rows (codes + rows[i] * code_size()): a graph walk's
    // fresh neighbours in one call, one virtual call an expansion instead of one a neighbour.
    virtual void distance_rows(const uint8_t* prepared, const uint8_t* codes, const uint32_t* rows, size_t n,
                               float* out) const = 0;

    // All parameters as bytes (kind, dim, metric and the trained state); restore() reverses it
    // and throws FormatError on anything malformed.
    virtual std::vector<uint8_t> serialize() const = 0;
};

// distance_rows of a final codec class, its distance() called directly (not through the vtable).
template <class Self>
void distance_rows_of(const Self& self, const uint8_t* prepared, const uint8_t* codes, const uint32_t* rows, size_t n,
                      float* out) {
    const size_t size = self.code_size();
    for (size_t i = 0; i < n; ++i) out[i] = self.Self::distance(prepared, codes + size_t(rows[i]) * size);
}

// Factory for an untrained codec. `options` keys by kind: pq: m, nbits, opq (0/1);
// binary: threshold (0 = sign, 1 = training mean); sq8: none. Throws InvalidArgument.
struct CodecOptions {
    size_t m = 0;
    size_t nbits = 8;
    bool opq = false;
    int threshold = 0;
    uint64_t seed = 0;
};
std::unique_ptr<Codec> make_codec(const std::string& kind, size_t dim, Metric metric, const CodecOptions& options);
std::unique_ptr<Codec> restore_codec(const uint8_t* data, size_t size);

}  // namespace vecsearch
