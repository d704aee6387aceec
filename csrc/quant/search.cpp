#include "quant/search.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "common/thread_pool.h"

namespace vecsearch {

namespace {

constexpr size_t kScanBlock = 1024;  // distances computed per scan() call (stays in L1)

struct alignas(64) Line {
    uint8_t bytes[64];
};

// A prepared-query buffer honouring the Codec's 64-byte alignment promise.
class Prepared {
public:
    explicit Prepared(size_t bytes) : lines_((bytes + 63) / 64 + 1) {}
    uint8_t* data() { return lines_.front().bytes; }

private:
    std::vector<Line> lines_;
};

using Entry = std::pair<float, int64_t>;  // (distance, position): lexicographic order breaks ties

void one_query(const Codec& codec, const uint8_t* codes, size_t n, const float* q, size_t k, Prepared& prep,
               std::vector<float>& buf, std::vector<Entry>& heap, int64_t* out_idx, float* out_dist) {
    codec.prepare(q, prep.data());
    heap.clear();
    const size_t cs = codec.code_size();
    float worst = std::numeric_limits<float>::infinity();
    for (size_t start = 0; start < n; start += kScanBlock) {
        size_t nb = std::min(kScanBlock, n - start);
        codec.scan(prep.data(), codes + start * cs, nb, buf.data());
        for (size_t i = 0; i < nb; ++i) {
            // Once the heap is full most distances lose: test 16 at a time (vectorised, no branch).
            if (heap.size() == k && i % 16 == 0 && i + 16 <= nb) {
                bool any = false;
                for (size_t t = 0; t < 16; ++t) any |= buf[i + t] < worst;
                if (!any) {
                    i += 15;
                    continue;
                }
            }
            float d = buf[i];
            if (heap.size() == k && !(d < worst)) continue;  // ties keep the earlier position
            if (std::isnan(d)) d = std::numeric_limits<float>::infinity();  // keeps the heap's order strict
            Entry e{d, int64_t(start + i)};
            if (heap.size() < k) {
                heap.push_back(e);
                std::push_heap(heap.begin(), heap.end());
            } else {
                std::pop_heap(heap.begin(), heap.end());
                heap.back() = e;
                std::push_heap(heap.begin(), heap.end());
            }
            if (heap.size() == k) worst = heap.front().first;
        }
    }
    std::sort_heap(heap.begin(), heap.end());
    for (size_t j = 0; j < k; ++j) {
        out_idx[j] = j < heap.size() ? heap[j].second : -1;
        out_dist[j] = j < heap.size() ? heap[j].first : std::numeric_limits<float>::infinity();
    }
}

}  // namespace

void search_codes(const Codec& codec, const uint8_t* codes, size_t n, const float* queries, size_t nq, size_t k,
                  size_t threads, int64_t* out_idx, float* out_dist) {
    const size_t dim = codec.dim();
    auto run = [&](size_t begin, size_t end) {
        Prepared prep(codec.prepared_size());
        std::vector<float> buf(kScanBlock);
        std::vector<Entry> heap;
        heap.reserve(k);
        for (size_t qi = begin; qi < end; ++qi)
            one_query(codec, codes, n, queries + qi * dim, k, prep, buf, heap, out_idx + qi * k, out_dist + qi * k);
    };
    if (threads <= 1 || nq <= 1) {
        run(0, nq);
        return;
    }
    ThreadPool::global().parallel_for(nq, threads, 1, [&](size_t qi) { run(qi, qi + 1); });
}

void all_distances(const Codec& codec, const uint8_t* codes, size_t n, const float* queries, size_t nq, bool single,
                   float* out) {
    Prepared prep(codec.prepared_size());
    const size_t cs = codec.code_size();
    for (size_t qi = 0; qi < nq; ++qi) {
        codec.prepare(queries + qi * codec.dim(), prep.data());
        if (single) {
            for (size_t i = 0; i < n; ++i) out[qi * n + i] = codec.distance(prep.data(), codes + i * cs);
        } else {
            codec.scan(prep.data(), codes, n, out + qi * n);
        }
    }
}

}  // namespace vecsearch
