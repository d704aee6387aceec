#include "quant/rabitq.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/errors.h"
#include "quant/kernels.h"

namespace vecsearch {

namespace {

constexpr size_t kRounds = 4;  // sign flips + Hadamard rounds (two per window): spread any coordinate

uint64_t splitmix(uint64_t& state) {
    uint64_t x = (state += 0x9E3779B97F4A7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

size_t rotated_dim_for(size_t dim) { return (dim + 63) / 64 * 64; }

size_t window_for(size_t rdim) {
    size_t w = 64;
    while (2 * w <= rdim) w *= 2;
    return w;
}

// Where round r's Hadamard window starts: the front and the back of the D coordinates by turns.
size_t window_start(size_t round, size_t rdim, size_t window) { return round % 2 ? rdim - window : 0; }

}  // namespace

RabitqEncoder::RabitqEncoder(size_t dim, Metric metric, uint64_t seed)
    : dim_(dim),
      rdim_(rotated_dim_for(dim)),
      window_(window_for(rdim_)),
      metric_(metric),
      seed_(seed) {
    if (dim == 0) throw InvalidArgument("rabitq: dim must be positive");
    signs_.resize(kRounds * rdim_);
    const float scale = 1.0f / std::sqrt(float(window_));
    uint64_t state = seed ^ 0x5241426954510001ull;
    for (size_t r = 0; r < kRounds; ++r) {
        size_t lo = window_start(r, rdim_, window_);
        for (size_t i = 0; i < rdim_; ++i) {
            float m = (i >= lo && i < lo + window_) ? scale : 1.0f;  // the Hadamard's scale, folded in
            signs_[r * rdim_ + i] = (splitmix(state) & 1) ? m : -m;
        }
    }
}

void RabitqEncoder::rotate(const float* x, float* out) const {
    const auto fwht = active_quant_kernels().fwht;
    std::copy(x, x + dim_, out);
    std::fill(out + dim_, out + rdim_, 0.0f);
    for (size_t r = 0; r < kRounds; ++r) {
        const float* s = &signs_[r * rdim_];
        for (size_t i = 0; i < rdim_; ++i) out[i] *= s[i];
        fwht(out + window_start(r, rdim_, window_), window_);
    }
}

void RabitqEncoder::encode_residual(const float* rv, const float* ru, uint8_t* bits, float* factors) const {
    std::memset(bits, 0, code_bytes());
    double norm2 = 0.0, abs_sum = 0.0, signed_u = 0.0, r_dot_u = 0.0;
    size_t pop = 0;
    for (size_t i = 0; i < rdim_; ++i) {
        const float r = rv[i] - ru[i];
        norm2 += double(r) * r;
        abs_sum += std::fabs(r);
        r_dot_u += double(r) * ru[i];
        if (r > 0.0f) {
            bits[i / 8] |= uint8_t(1u << (i % 8));
            ++pop;
            signed_u += ru[i];
        } else {
            signed_u -= ru[i];
        }
    }
    const double g = abs_sum > 0.0 ? norm2 / abs_sum : 0.0;  // 0: v == u, estimated as d(q, u)
    // g * <s, P u> moves the estimate's centre from the origin to u (see the header).
    const double h = g * signed_u;
    const bool l2 = metric_ == Metric::l2;
    factors[0] = float(l2 ? norm2 + 2.0 * h : h - r_dot_u);
    factors[1] = float(l2 ? -2.0 * g : -g);
    factors[2] = float(pop);
}

void RabitqEncoder::prepare(const float* q, RabitqQuery& out) const {
    std::vector<float> qr(rdim_);
    rotate(q, qr.data());
    auto [lo_it, hi_it] = std::minmax_element(qr.begin(), qr.end());
    float low = *lo_it, delta = (*hi_it - low) / float(kQueryLevels);
    if (!(delta > 0.0f)) delta = 1.0f;  // a constant query: every level is 0
    std::vector<uint8_t> level(rdim_);
    double s_q = 0.0;
    const float inv = 1.0f / delta;
    unsigned level_sum = 0;
    for (size_t i = 0; i < rdim_; ++i) {
        float v = (qr[i] - low) * inv + 0.5f;  // >= 0.5: truncation rounds
        level[i] = uint8_t(std::min<float>(float(kQueryLevels), v));
        level_sum += level[i];
    }
    s_q = double(low) * double(rdim_) + double(delta) * level_sum;
    out.c_acc = 2.0f * delta;
    out.c_pop = 2.0f * low;
    out.s_q = float(s_q);

    // Chunk c covers dimension groups 4c..4c+3 (four dimensions each); its 128 table bytes are
    // lo = [T(4c), T(4c), T(4c+2), T(4c+2)] and hi = [T(4c+1), T(4c+1), T(4c+3), T(4c+3)],
    // 16 bytes each, where T(g)[m] sums the levels of group g's dimensions set in m.
    size_t n_chunks = chunks();
    out.lut_storage.resize(n_chunks * 128 + 64);
    uint8_t* lut = out.lut_storage.data();
    lut += (64 - reinterpret_cast<uintptr_t>(lut) % 64) % 64;
    out.lut = lut;
    for (size_t g = 0; g < n_chunks * 4; ++g) {
        uint8_t table[16];
        table[0] = 0;
        for (unsigned m = 1; m < 16; ++m) {
            unsigned low_bit = unsigned(__builtin_ctz(m));
            table[m] = uint8_t(table[m & (m - 1)] + level[4 * g + low_bit]);
        }
        size_t c = g / 4, within = g % 4;
        uint8_t* half = lut + c * 128 + (within % 2) * 64 + (within / 2) * 32;
        std::memcpy(half, table, 16);
        std::memcpy(half + 16, table, 16);
    }
}

}  // namespace vecsearch
