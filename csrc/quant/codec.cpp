// Codec factory and the shared serialisation header.
#include "quant/codec.h"

#include "common/errors.h"
#include "quant/binary.h"
#include "quant/pq.h"
#include "quant/serial.h"
#include "quant/sq8.h"

namespace vecsearch {

namespace {

uint8_t metric_code(Metric m) { return static_cast<uint8_t>(m); }

Metric metric_from(uint8_t code) {
    if (code > static_cast<uint8_t>(Metric::cosine)) throw FormatError("codec blob: unknown metric");
    return static_cast<Metric>(code);
}

void check_dim(size_t dim) {
    if (dim == 0 || dim > kMaxCodecDim)
        throw InvalidArgument("codec dim must be between 1 and " + std::to_string(kMaxCodecDim) + ", got " +
                              std::to_string(dim));
}

}  // namespace

void write_codec_header(ByteWriter& w, const std::string& kind, size_t dim, Metric metric, bool trained) {
    w.put_bytes(kCodecMagic, sizeof kCodecMagic);
    w.put<uint32_t>(kCodecVersion);
    w.put<uint8_t>(static_cast<uint8_t>(kind.size()));
    w.put_bytes(kind.data(), kind.size());
    w.put<uint64_t>(dim);
    w.put<uint8_t>(metric_code(metric));
    w.put<uint8_t>(trained ? 1 : 0);
}

std::unique_ptr<Codec> make_codec(const std::string& kind, size_t dim, Metric metric, const CodecOptions& options) {
    check_dim(dim);
    if (kind == "sq8") return std::make_unique<SQ8Codec>(dim, metric);
    if (kind == "binary") return std::make_unique<BinaryCodec>(dim, metric, options.threshold);
    if (kind == "pq") return std::make_unique<PQCodec>(dim, metric, options.m, options.nbits, options.opq, options.seed);
    throw InvalidArgument("unknown codec kind '" + kind + "' (expected sq8, pq or binary)");
}

std::unique_ptr<Codec> restore_codec(const uint8_t* data, size_t size) {
    ByteReader r(data, size);
    char magic[4];
    r.get_bytes(magic, sizeof magic);
    for (size_t i = 0; i < 4; ++i)
        if (magic[i] != kCodecMagic[i]) throw FormatError("not a vecsearch codec blob (bad magic)");
    uint32_t version = r.get<uint32_t>();
    if (version != kCodecVersion)
        throw FormatError("codec blob has version " + std::to_string(version) + ", this build reads version " +
                          std::to_string(kCodecVersion));
    std::string kind(r.get<uint8_t>(), '\0');
    r.get_bytes(&kind[0], kind.size());
    uint64_t dim = r.get<uint64_t>();
    if (dim == 0 || dim > kMaxCodecDim) throw FormatError("codec blob: dim " + std::to_string(dim) + " out of range");
    Metric metric = metric_from(r.get<uint8_t>());
    uint8_t trained = r.get<uint8_t>();
    if (trained > 1) throw FormatError("codec blob: bad trained flag");
    if (kind == "sq8") return SQ8Codec::restore(r, dim, metric, trained == 1);
    if (kind == "binary") return BinaryCodec::restore(r, dim, metric, trained == 1);
    if (kind == "pq") return PQCodec::restore(r, dim, metric, trained == 1);
    throw FormatError("codec blob: unknown codec kind");  // not echoed: the bytes may not be text
}

}  // namespace vecsearch
