#include "graph/hnsw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <sys/mman.h>
#include <unistd.h>

#include "common/errors.h"
#include "common/thread_pool.h"
#include "graph/hnsw_detail.h"
#include "simd/cpu.h"

namespace vecsearch {


Hnsw::Hnsw(const HnswParams& params)
    : params_(params),
      row0_(1 + params.level0_degree()),
      level_mult_(1.0 / std::log(double(std::max<size_t>(params.M, 2)))),
      store_(params.dim, params.metric, active_kernels()),
      link_locks_(new std::mutex[kLockStripes]) {
    if (params.dim == 0) throw InvalidArgument("dim must be positive");
    if (params.M < 2) throw InvalidArgument("M must be at least 2");
    if (params.ef_construction == 0) throw InvalidArgument("ef_construction must be positive");
    if (params.acorn_gamma == 0 || params.acorn_gamma > 64) throw InvalidArgument("acorn_gamma must be in [1, 64]");
    if (params.m_beta() > params.M * params.acorn_gamma && params.acorn_gamma > 1)
        throw InvalidArgument("acorn_m_beta must be at most M * acorn_gamma");
}

size_t Hnsw::size() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return count_ - n_deleted_;
}

size_t Hnsw::slot_count() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return count_;
}

bool Hnsw::contains(external_id id) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return id_to_slot_.contains(id);
}

size_t Hnsw::memory_bytes() const {
    MemoryParts p = memory_parts();
    return p.vectors + p.graph + p.codes + p.ids;
}

Hnsw::MemoryParts Hnsw::memory_parts() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    MemoryParts p;
    // A borrowed (memory-mapped) store is file pages, not allocated RAM, but still resident once read.
    p.vectors = (store_.external() ? store_.capacity() : capacity_) * params_.dim * sizeof(float);
    p.vectors_mapped = store_.borrowed() || store_.external();
    p.graph = capacity_ * (row0_ * sizeof(slot_t) + sizeof(int32_t) + 1 + sizeof(void*));
    for (size_t s = 0; s < count_; ++s) p.graph += size_t(levels_[s]) * (params_.M + 1) * sizeof(slot_t);
    p.graph += entries_.bytes();
    p.codes = codes_.capacity() + code_norms_.capacity() * sizeof(float) +
              (codec_ ? codec_->serialize().size() : 0) + (ncodes_ ? ncodes_->bytes() : 0) +
              (refine_ ? refine_->memory_bytes() : 0) + (axis_codes_ ? axis_codes_->memory_bytes() : 0);
    p.ids = capacity_ * sizeof(external_id) + id_to_slot_.bytes();
    return p;
}

// ---------------------------------------------------------------------------------------------
// Mutation

void Hnsw::reserve(size_t capacity) {
    if (capacity <= capacity_ && !store_.borrowed()) return;
    if (capacity > kMaxSlots) throw InvalidArgument("an index holds at most 2^31 - 1 vectors");
    capacity = std::max(capacity, capacity_);
    // Refuse what RAM cannot hold: with overcommit a larger request would "succeed" and the
    // process would be killed later, when the pages are touched.
    size_t per_slot = (store_.external() ? 0 : params_.dim * sizeof(float)) + row0_ * sizeof(slot_t) + sizeof(external_id) + sizeof(int32_t) +
                      1 + sizeof(void*) + (codec_ ? codec_->code_size() : 0) +
                      (ncodes_ ? ncodes_->block_bytes() : 0);
    if (capacity > physical_memory_bytes() / per_slot) throw std::bad_alloc();
    store_.reserve(capacity, count_);
    links0_.resize(capacity * row0_, 0);
    upper_.resize(capacity);
    levels_.resize(capacity, 0);
    ids_.resize(capacity, kMissingId);
    deleted_.resize(capacity, 0);
    if (codec_) codes_.resize(capacity * codec_->code_size());
    if (sq8_norms()) code_norms_.resize(capacity, 0.0f);
    if (axis_codes_) axis_codes_->reserve(capacity);
    if (ncodes_) {
        ncodes_->reserve(capacity);
        links_dirty_.resize(capacity, 0);
    }
    capacity_ = capacity;
}

int Hnsw::draw_level(slot_t slot) const {
    uint64_t h = splitmix64(params_.seed * 0x2545F4914F6CDD1Dull + slot);
    double u = (double((h >> 11) + 1)) * (1.0 / 9007199254740992.0);  // (0, 1]
    int level = int(-std::log(u) * level_mult_);
    return std::min(level, kMaxLevel);
}

void Hnsw::init_slot(slot_t slot, int level) {
    levels_[slot] = level;
    links0_[size_t(slot) * row0_] = 0;
    if (level > 0) {
        size_t n = size_t(level) * (params_.M + 1);
        upper_[slot].reset(new slot_t[n]());
    } else {
        upper_[slot].reset();
    }
}

void Hnsw::check_ids_absent(const external_id* ids, size_t n) const {
    std::unordered_set<external_id> seen;
    seen.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        if (ids[i] == kMissingId) throw InvalidArgument("id 2**64-1 is reserved as the missing-result marker");
        if (id_to_slot_.contains(ids[i])) throw DuplicateIdError("id " + std::to_string(ids[i]) + " is already in the index");
        if (!seen.insert(ids[i]).second)
            throw DuplicateIdError("id " + std::to_string(ids[i]) + " appears more than once in this add");
    }
}

void Hnsw::add(const float* vectors, const external_id* ids, size_t n, size_t threads, external_id* out_ids) {
    if (n == 0) return;
    std::unique_lock<std::shared_mutex> lock(rw_);
    ++epoch_;
    if (ids) {
        check_ids_absent(ids, n);
    } else if (next_auto_id_ > kMissingId - n) {
        throw InvalidArgument("automatic ids would overflow uint64; pass ids explicitly");
    }
    size_t reused = std::min(n, free_slots_.size());
    size_t fresh = n - reused;
    if (count_ + fresh > kMaxSlots) throw InvalidArgument("an index holds at most 2^31 - 1 vectors");
    if (count_ + fresh > capacity_ || store_.borrowed()) reserve(grown_capacity(fresh));
    reader_.reset();  // the new rows are not in the file it reads
    refine_.reset();  // nor in its slot-indexed arrays

    id_to_slot_.reserve(id_to_slot_.size() + n);
    // Assign slots (deleted ones first), copy vectors and register ids, then link in parallel.
    std::vector<slot_t> slots(n);
    for (size_t i = 0; i < n; ++i) {
        external_id id = ids ? ids[i] : next_auto_id_++;
        slot_t slot;
        if (i < reused) {
            slot = free_slots_.back();
            free_slots_.pop_back();
            deleted_[slot] = 0;
            --n_deleted_;
        } else {
            slot = slot_t(count_++);
            init_slot(slot, draw_level(slot));
        }
        if (ids && id >= next_auto_id_) next_auto_id_ = id + 1;
        store_.set(slot, vectors + i * params_.dim);
        ids_[slot] = id;
        id_to_slot_.insert(id, slot);
        slots[i] = slot;
        out_ids[i] = id;
    }
    size_t visited_size = count_;
    // Every new code is written before any is linked: the inserts' beams score codes, and a
    // reused slot may still be reached through links to the vector it held before.
    if (codec_) {
        ThreadPool::global().parallel_for(n, threads, 256, [&](size_t i) {
            codec_->encode(store_.row(slots[i]), 1, &codes_[size_t(slots[i]) * codec_->code_size()], 1);
            if (sq8_norms()) set_code_norms(slots[i], size_t(slots[i]) + 1);
        });
    }
    ThreadPool::global().parallel_for(n, threads, 1, [&](size_t i) { insert(slots[i], visited_size); });
    if (axis_codes_) axis_codes_->encode(store_, slots.data(), n, threads);
    if (ncodes_) refresh_neighbour_codes(reused > 0, threads);
    choose_entries(false, threads);
}

void Hnsw::attach_codec(std::unique_ptr<Codec> codec, const uint8_t* codes, size_t n_codes, size_t threads,
                        bool mapped_source) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (!codec || !codec->trained()) throw InvalidArgument("the quantizer must be trained before it is attached");
    if (codec->dim() != params_.dim)
        throw DimensionError("the quantizer has dim " + std::to_string(codec->dim()) + ", the index " +
                             std::to_string(params_.dim));
    bool cosine_pair = (codec->metric() == Metric::cosine || codec->metric() == Metric::ip) &&
                       (params_.metric == Metric::cosine || params_.metric == Metric::ip);
    if (codec->metric() != params_.metric && !cosine_pair)
        throw InvalidArgument("the quantizer's metric differs from the index's");
    size_t cs = codec->code_size();
    if (codes && n_codes != count_)
        throw FormatError("corrupt index: " + std::to_string(n_codes) + " codes for " + std::to_string(count_) + " slots");
    HugeVector<uint8_t> fresh(capacity_ * cs);
    if (codes) {
        constexpr size_t kChunk = size_t(64) << 20;
        for (size_t at = 0; at < count_ * cs; at += kChunk) {
            size_t len = std::min(kChunk, count_ * cs - at);
            std::memcpy(fresh.data() + at, codes + at, len);
            if (mapped_source) release_mapped(codes + at, codes + at + len);
        }
    } else {
        constexpr size_t kChunk = 1024;
        size_t chunks = (count_ + kChunk - 1) / kChunk;
        ThreadPool::global().parallel_for(chunks, threads, 1, [&](size_t c) {
            size_t lo = c * kChunk, hi = std::min(count_, lo + kChunk);
            codec->encode(store_.row(slot_t(lo)), hi - lo, &fresh[lo * cs], 1);
        });
    }
    ++epoch_;
    codes_.swap(fresh);
    codec_ = std::move(codec);
    refine_.reset();      // it refined the old codes
    axis_codes_.reset();  // they pair with the old codes
    sq8_ = dynamic_cast<const SQ8Codec*>(codec_.get());
    codes_error_ = -1.0f;
    HugeVector<float>().swap(code_norms_);
    if (sq8_norms()) {
        code_norms_.assign(capacity_, 0.0f);
        ThreadPool::global().parallel_for((count_ + 1023) / 1024, threads, 1, [&](size_t c) {
            set_code_norms(c * 1024, std::min(count_, (c + 1) * 1024));
        });
    }
}

void Hnsw::set_code_norms(size_t begin, size_t end) {
    const size_t cs = codec_->code_size();
    for (size_t s = begin; s < end; ++s) code_norms_[s] = sq8_->code_norm(&codes_[s * cs]);
}

Sq8Scorer Hnsw::int8_scorer(const float* q, float error) const {
    int8_t* w8 = reinterpret_cast<int8_t*>(aligned_bytes(scratch().prepared, params_.dim));
    const SQ8Codec::IntQuery form = sq8_->prepare_int8(q, w8);
    return Sq8Scorer(store_, q, codes_.data(), sq8_norms() ? code_norms_.data() : nullptr, w8, form,
                     sq8_->int8_kernels(), error);
}

void Hnsw::detach_codec() {
    std::unique_lock<std::shared_mutex> lock(rw_);
    ++epoch_;
    codec_.reset();
    refine_.reset();
    axis_codes_.reset();
    sq8_ = nullptr;
    codes_error_ = -1.0f;
    HugeVector<float>().swap(code_norms_);
    HugeVector<uint8_t>().swap(codes_);
}

void Hnsw::attach_reader(std::shared_ptr<const VectorReader> reader) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (reader && (reader->dim() != params_.dim || reader->rows() != count_))
        throw InvalidArgument("the vector file does not match the index (rows or dim)");
    reader_ = std::move(reader);
}

void Hnsw::use_external_vectors(float* data, size_t rows, bool copy) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    if (rows < count_)
        throw InvalidArgument("the external rows hold " + std::to_string(rows) + " vectors, the index " +
                              std::to_string(count_));
    store_.use_external(data, rows, count_, copy);
    reader_.reset();
}

Hnsw::RerankCounters Hnsw::rerank_counters() const {
    return RerankCounters{reranked_queries_.load(), reranked_rows_.load()};
}

void Hnsw::reset_rerank_counters() {
    reranked_queries_ = 0;
    reranked_rows_ = 0;
}


Hnsw::PlanCounters Hnsw::plan_counters() const {
    auto at = [&](PlanCount c) { return plan_counts_[c].load(std::memory_order_relaxed); };
    return PlanCounters{at(kScanCount), at(kAcornCount), at(kPostCount), at(kRerouted),
                        at(kAcornFallback), at(kPostFallback), at(kCodesCount)};
}

void Hnsw::reset_plan_counters() {
    for (auto& c : plan_counts_) c.store(0, std::memory_order_relaxed);
}

std::vector<uint8_t> Hnsw::export_codes() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (!codec_) return {};
    return std::vector<uint8_t>(codes_.begin(), codes_.begin() + count_ * codec_->code_size());
}

void Hnsw::reserve_more(size_t n) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    size_t fresh = n > free_slots_.size() ? n - free_slots_.size() : 0;
    if (count_ + fresh > kMaxSlots) throw InvalidArgument("an index holds at most 2^31 - 1 vectors");
    if (count_ + fresh <= capacity_) return;
    // Grown as add() grows it, or every add of a chunked load would copy the whole index again;
    // exactly what is needed when the slack does not fit.
    try {
        reserve(grown_capacity(fresh));
    } catch (const std::bad_alloc&) {
        reserve(count_ + fresh);
    }
}

size_t Hnsw::grown_capacity(size_t fresh) const {
    size_t want = std::max(count_ + fresh, capacity_ + capacity_ / 2 + 16);
    // External rows hold what the caller sized them for: no slack beyond them.
    if (store_.external()) want = std::min(want, std::max(count_ + fresh, store_.capacity()));
    return std::min(want, kMaxSlots);
}

void Hnsw::remove(const external_id* ids, size_t n) {
    std::unique_lock<std::shared_mutex> lock(rw_);
    std::unordered_set<external_id> seen;
    seen.reserve(n * 2);
    for (size_t i = 0; i < n; ++i) {
        if (!id_to_slot_.contains(ids[i])) throw UnknownIdError("id " + std::to_string(ids[i]) + " is not in the index");
        if (!seen.insert(ids[i]).second)
            throw DuplicateIdError("id " + std::to_string(ids[i]) + " appears more than once in this delete");
    }
    ++epoch_;
    for (size_t i = 0; i < n; ++i) {
        slot_t slot = id_to_slot_.find(ids[i]);
        id_to_slot_.erase(ids[i]);
        deleted_[slot] = 1;
        ++n_deleted_;
        free_slots_.push_back(slot);
    }
}

void Hnsw::get_vectors(const external_id* ids, size_t n, float* out) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    for (size_t i = 0; i < n; ++i)
        if (!id_to_slot_.contains(ids[i])) throw UnknownIdError("id " + std::to_string(ids[i]) + " is not in the index");
    for (size_t i = 0; i < n; ++i)
        std::memcpy(out + i * params_.dim, store_.row(id_to_slot_.find(ids[i])), params_.dim * sizeof(float));
}

// ---------------------------------------------------------------------------------------------
// Queries

size_t Hnsw::write_answer(const Neighbor* best, size_t n, external_id* out_ids, float* out_dists) const {
    for (size_t i = 0; i < n; ++i) {
        out_ids[i] = ids_[best[i].slot];
        out_dists[i] = best[i].dist;
    }
    return n;
}

// Exact k nearest live vectors by a full scan; returns how many were found.
size_t Hnsw::scan_exact(const float* q, size_t k, external_id* out_ids, float* out_dists) const {
    TopK& top = scratch().top;
    top.reset(k);
    for (size_t s = 0; s < count_; ++s)
        if (!deleted_[s]) top.push(store_.distance(q, slot_t(s)), slot_t(s));
    const std::vector<Neighbor>& best = top.sorted();
    return write_answer(best.data(), best.size(), out_ids, out_dists);
}

template <class Scorer>
void Hnsw::search_one(const Scorer& score, size_t k, size_t ef, size_t rerank, external_id* out_ids,
                      float* out_dists) const {
    Scratch& sc = scratch();
    const float* q = score.query();
    float ep_dist;
    slot_t ep = walk_start(score, ep_dist);
    size_t found = 0;
    if (n_deleted_ == 0) {
        walk_level0(score, ep, ep_dist, ef, [](float, slot_t) {});
        sc.pool.copy_to(sc.cands);
    } else {
        auto live = [&](slot_t s) { return !deleted_[s]; };
        walk_collect(score, ep, ep_dist, ef, live);
        sc.cands = sc.top.sorted();
    }
    found = finish_candidates(score, sc.cands.data(), sc.cands.size(), k, rerank, out_ids, out_dists);
    // A graph can leave a few nodes without incoming links; when the walk met fewer live nodes
    // than it should return, answer exactly instead of padding.
    if (found < std::min(k, count_ - n_deleted_)) found = scan_exact(q, k, out_ids, out_dists);
    pad_missing(out_ids, out_dists, found, k);
}

void Hnsw::search(const float* queries, size_t nq, size_t k, size_t ef, size_t rerank, size_t threads,
                  external_id* out_ids, float* out_dists) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (count_ == n_deleted_) {
        pad_missing(out_ids, out_dists, 0, nq * k);
        return;
    }
    // The answer never needs a beam wider than the index; re-ranking reads the whole beam.
    if (ncodes_ && !reader_) {
        ef = std::max<size_t>(1, std::min(std::max(ef, k), count_));
        ThreadPool::global().parallel_for(nq, threads, 1, [&](size_t i) {
            const float* q = aligned_query(scratch().query, queries + i * params_.dim, params_.dim);
            external_id* ids = out_ids + i * k;
            float* dists = out_dists + i * k;
            size_t found = walk_neighbour_codes(q, k, ef, ids, dists);
            // As search_one: a node without incoming links can hide from the walk.
            if (found < std::min(k, count_ - n_deleted_)) found = scan_exact(q, k, ids, dists);
            pad_missing(ids, dists, found, k);
        });
        return;
    }
    ef = std::max<size_t>(1, std::min(std::max({ef, k, codec_ ? rerank : 0}), count_));
    ThreadPool::global().parallel_for(nq, threads, 1, [&](size_t i) {
        with_scorer(queries + i * params_.dim,
                    [&](const auto& score) { search_one(score, k, ef, rerank, out_ids + i * k, out_dists + i * k); },
                    true, rerank > 0);
    });
}

}  // namespace vecsearch
