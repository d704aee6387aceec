// A linear map onto the leading principal axes of the data, y = A (x - c) with A's out_dim rows
// orthonormal (learnt with numpy: vecsearch/filters/projection.py). An exhaustive scan scores codes
// of y, a fraction of the dimensions, and re-ranks its best candidates exactly: on text embeddings
// the leading quarter to third of the axes holds about 80 % of the variance, enough to keep the
// true neighbours among a few dozen candidates.
//
// What the axes leave out is accounted for where it is known:
//   l2:        |q - x|^2 = |y_q - y_x|^2 + |r_q|^2 + |r_x|^2 - 2 r_q . r_x, with the residuals'
//              squared norms exact (centered() gives them) and their cross term, centred on 0,
//              dropped;
//   ip/cosine: q . x = q . c + (A q) . (A (x - c)) + the dropped cross term (uncentered() gives
//              A q and q . c).
#pragma once

#include <cstddef>
#include <vector>

namespace vecsearch {

class Projection {
public:
    // mean: dim floats; axes: out_dim rows of dim floats, orthonormal (checked to 1e-3).
    Projection(size_t dim, std::vector<float> mean, std::vector<float> axes);

    size_t dim() const { return dim_; }
    size_t out_dim() const { return out_dim_; }
    size_t memory_bytes() const { return (mean_.capacity() + axes_.capacity()) * sizeof(float); }

    // y = A (x - c) for n vectors xs[i] (y row i at y + i * out_dim()) and out[i] = |x - c|^2 -
    // |y|^2, the squared norm off the axes; sixteen at a time through the blocked dot product
    // kernel, a fraction of the cost of one at a time.
    void centered(const float* const* xs, size_t n, float* y, float* out) const;
    // y = A x for n vectors as above, and out[i] = x . c.
    void uncentered(const float* const* xs, size_t n, float* y, float* out) const;

private:
    static constexpr size_t kFewVectors = 4;  // fewer are projected one dot product at a time
    // y rows for xs[0, n) with `centre`; out[i] = |x - c|^2 (centred) or x . c.
    void project_block(const float* const* xs, size_t n, bool centre, float* y, float* out) const;

    size_t dim_, out_dim_;
    std::vector<float> mean_, axes_;
};

}  // namespace vecsearch
