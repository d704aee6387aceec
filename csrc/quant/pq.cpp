#include "quant/pq.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "common/errors.h"
#include "common/thread_pool.h"
#include "quant/parallel.h"
#include "quant/serial.h"

namespace vecsearch {

PQCodec::PQCodec(size_t dim, Metric metric, size_t m, size_t nbits, bool opq, uint64_t seed)
    : dim_(dim), metric_(metric), m_(m), nbits_(nbits), opq_(opq), seed_(seed), k_(&active_quant_kernels()) {
    if (m == 0 || m > dim || dim % m != 0)
        throw InvalidArgument("pq: m must divide dim (dim " + std::to_string(dim) + ", m " + std::to_string(m) + ")");
    if (nbits < 1 || nbits > 8) throw InvalidArgument("pq: nbits must be between 1 and 8, got " + std::to_string(nbits));
    ksub_ = size_t{1} << nbits;
    dsub_ = dim / m;
}

void PQCodec::set_rotation(const float* r) {
    rotation_.assign(r, r + dim_ * dim_);
    trained_ = false;
}

void PQCodec::rotate(const float* x, float* out) const {
    if (rotation_.empty()) {
        std::copy(x, x + dim_, out);
        return;
    }
    std::fill(out, out + dim_, 0.0f);
    for (size_t k = 0; k < dim_; ++k) {
        const float xk = x[k];
        const float* row = rotation_.data() + k * dim_;
        for (size_t i = 0; i < dim_; ++i) out[i] += xk * row[i];
    }
}

void PQCodec::build_indexes() {
    index_.assign(m_, CentroidIndex{});
    for (size_t j = 0; j < m_; ++j) index_[j].build(centroids_.data() + j * 256 * dsub_, ksub_, dsub_);
}

void PQCodec::train(const float* x, size_t n, size_t threads) {
    if (opq_ && rotation_.empty())
        throw InvalidArgument("pq: OPQ needs its rotation before training (vecsearch.PQ(opq=True).train learns it)");
    if (n < ksub_)
        throw InvalidArgument("pq: training needs at least 2^nbits = " + std::to_string(ksub_) + " vectors, got " +
                              std::to_string(n));
    // A seeded sample of at most kMaxPointsPerCentroid * ksub rows, rotated once.
    size_t ns = std::min(n, kMaxPointsPerCentroid * ksub_);
    std::vector<size_t> rows(n);
    std::iota(rows.begin(), rows.end(), size_t{0});
    if (ns < n) {
        std::mt19937_64 rng(seed_ ^ 0x9e3779b97f4a7c15ull);
        for (size_t i = 0; i < ns; ++i) {
            std::uniform_int_distribution<size_t> pick(i, n - 1);
            std::swap(rows[i], rows[pick(rng)]);
        }
        rows.resize(ns);
        std::sort(rows.begin(), rows.end());
    }
    std::vector<float> xs(ns * dim_);
    parallel_blocks(ns, threads, 1024, [&](size_t begin, size_t end) {
        for (size_t i = begin; i < end; ++i) rotate(x + rows[i] * dim_, xs.data() + i * dim_);
    });
    std::vector<float> cent(m_ * 256 * dsub_, 0.0f);
    // Sub-quantizers train independently, one per thread, each with its own seed.
    auto train_one = [&](size_t j) {
        std::vector<float> sub(ns * dsub_);
        for (size_t i = 0; i < ns; ++i)
            std::copy(xs.data() + i * dim_ + j * dsub_, xs.data() + i * dim_ + (j + 1) * dsub_,
                      sub.data() + i * dsub_);
        KMeansParams p;
        p.k = ksub_;
        p.iterations = kIterations;
        p.seed = seed_ * 1000003ull + j;
        p.threads = 1;
        std::vector<float> c = kmeans(sub.data(), ns, dsub_, p);
        std::copy(c.begin(), c.end(), cent.begin() + j * 256 * dsub_);
    };
    if (threads <= 1 || m_ == 1) {
        for (size_t j = 0; j < m_; ++j) train_one(j);
    } else {
        ThreadPool::global().parallel_for(m_, threads, 1, train_one);
    }
    centroids_ = std::move(cent);
    build_indexes();
    trained_ = true;
}

void PQCodec::encode(const float* x, size_t n, uint8_t* codes, size_t threads) const {
    if (!trained_) throw InvalidArgument("pq: encode before train");
    parallel_blocks(n, threads, 256, [&](size_t begin, size_t end) {
        std::vector<float> xr(dim_);
        float dist;
        for (size_t r = begin; r < end; ++r) {
            rotate(x + r * dim_, xr.data());
            for (size_t j = 0; j < m_; ++j) {
                const CentroidIndex& ix = index_[j];
                codes[r * m_ + j] =
                    uint8_t(k_->nearest(xr.data() + j * dsub_, ix.ct.data(), ix.norms.data(), dsub_, ksub_, &dist));
            }
        }
    });
}

void PQCodec::decode(const uint8_t* codes, size_t n, float* out) const {
    if (!trained_) throw InvalidArgument("pq: decode before train");
    std::vector<float> xr(dim_);
    for (size_t r = 0; r < n; ++r) {
        float* dst = rotation_.empty() ? out + r * dim_ : xr.data();
        for (size_t j = 0; j < m_; ++j) {
            const float* c = centroids_.data() + (j * 256 + codes[r * m_ + j]) * dsub_;
            std::copy(c, c + dsub_, dst + j * dsub_);
        }
        if (rotation_.empty()) continue;
        // x = xr R^T: row k of R dotted with xr.
        for (size_t k = 0; k < dim_; ++k) {
            const float* row = rotation_.data() + k * dim_;
            float s = 0.0f;
            for (size_t i = 0; i < dim_; ++i) s += row[i] * xr[i];
            out[r * dim_ + k] = s;
        }
    }
}

void PQCodec::prepare(const float* q, uint8_t* prepared) const {
    if (!trained_) throw InvalidArgument("pq: search before train");
    float* p = reinterpret_cast<float*>(prepared);
    std::fill(p, p + kHeader, 0.0f);
    p[0] = metric_ == Metric::l2 ? 0.0f : 1.0f;
    float* table = p + kHeader;
    std::vector<float> qr(dim_);
    rotate(q, qr.data());
    for (size_t j = 0; j < m_; ++j) {
        const float* qj = qr.data() + j * dsub_;
        float* t = table + j * 256;
        for (size_t c = 0; c < 256; ++c) {
            if (c >= ksub_) {
                t[c] = 0.0f;
                continue;
            }
            const float* cc = centroids_.data() + (j * 256 + c) * dsub_;
            float s = 0.0f;
            if (metric_ == Metric::l2) {
                for (size_t i = 0; i < dsub_; ++i) {
                    float d = qj[i] - cc[i];
                    s += d * d;
                }
            } else {
                for (size_t i = 0; i < dsub_; ++i) s -= qj[i] * cc[i];
            }
            t[c] = s;
        }
    }
}

float PQCodec::distance(const uint8_t* prepared, const uint8_t* code) const {
    // Eight lookups per step into four sums: one running sum would chain all m additions
    // (4 cycles each) where the lookups themselves issue two per cycle.
    const float* p = reinterpret_cast<const float*>(prepared);
    const float* t = p + kHeader;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    size_t j = 0;
    for (; j + 8 <= m_; j += 8, t += 8 * 256) {
        uint64_t w;
        std::memcpy(&w, code + j, sizeof(w));
        a0 += t[w & 255] + t[256 + ((w >> 8) & 255)];
        a1 += t[512 + ((w >> 16) & 255)] + t[768 + ((w >> 24) & 255)];
        a2 += t[1024 + ((w >> 32) & 255)] + t[1280 + ((w >> 40) & 255)];
        a3 += t[1536 + ((w >> 48) & 255)] + t[1792 + (w >> 56)];
    }
    for (; j < m_; ++j, t += 256) a0 += t[code[j]];
    return p[0] + ((a0 + a1) + (a2 + a3));
}

void PQCodec::scan(const uint8_t* prepared, const uint8_t* codes, size_t n, float* out) const {
    const float* p = reinterpret_cast<const float*>(prepared);
    k_->pq8_scan(p + kHeader, codes, m_, n, out);
    if (p[0] != 0.0f)
        for (size_t i = 0; i < n; ++i) out[i] += p[0];
}

std::vector<uint8_t> PQCodec::serialize() const {
    ByteWriter w;
    write_codec_header(w, kind(), dim_, metric_, trained_);
    w.put<uint64_t>(m_);
    w.put<uint8_t>(uint8_t(nbits_));
    w.put<uint8_t>(opq_ ? 1 : 0);
    w.put<uint64_t>(seed_);
    w.put_floats(rotation_);
    if (trained_) w.put_floats(centroids_);
    return w.finish();
}

std::unique_ptr<Codec> PQCodec::restore(ByteReader& r, size_t dim, Metric metric, bool trained) {
    uint64_t m = r.get<uint64_t>();
    uint8_t nbits = r.get<uint8_t>();
    uint8_t opq = r.get<uint8_t>();
    uint64_t seed = r.get<uint64_t>();
    if (m == 0 || m > dim || dim % m != 0 || nbits < 1 || nbits > 8 || opq > 1)
        throw FormatError("codec blob: bad pq parameters");
    auto c = std::make_unique<PQCodec>(dim, metric, m, nbits, opq == 1, seed);
    // The rotation is optional: empty, or dim * dim values.
    uint64_t nrot = r.get<uint64_t>();
    if (nrot != 0 && nrot != uint64_t(dim) * dim) throw FormatError("codec blob: bad pq rotation size");
    c->rotation_ = r.get_raw_floats(nrot);
    if (opq == 1 && trained && nrot == 0) throw FormatError("codec blob: OPQ codec without its rotation");
    for (float v : c->rotation_)
        if (!std::isfinite(v)) throw FormatError("codec blob: pq rotation is not finite");
    if (trained) {
        c->centroids_ = r.get_floats(m * 256 * (dim / m), "pq centroids");
        for (float v : c->centroids_)
            if (!std::isfinite(v)) throw FormatError("codec blob: pq centroids are not finite");
        c->build_indexes();
        c->trained_ = true;
    }
    r.expect_end();
    return c;
}

}  // namespace vecsearch
