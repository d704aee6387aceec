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
#include "simd/cpu.h"

namespace vecsearch {

namespace {

constexpr int kMaxLevel = 24;
constexpr size_t kAcornUpperSeeds = 8;  // matching upper-level nodes that seed an ACORN walk
// An ACORN query whose neighbourhood matches less than this share of the overall selectivity is
// anti-correlated with its filter and scanned instead. Uncorrelated filters at 1% selectivity
// leave about ten matches among the ~1000 two-hop slots sampled, so they pass.
constexpr double kAntiCorrelated = 0.1;
// Scan-plan queries sharing a filter (at least kScanBlockMin of them) are scored in blocks: each
// matching vector is read from memory once per block and scored against the block's queries
// while it sits in L1, so a scan costs memory bandwidth once per block rather than once per
// query. A block's transposed queries stream from L2 for every group of rows, so they are kept
// to kScanBlockBytes; a batch is split into more blocks only to give every thread one, and not
// below kScanBlockSplit queries (fewer would pay the memory pass for little work).
constexpr size_t kScanBlockMin = 4, kScanBlockBytes = 512 << 10, kScanBlockSplit = 64;

// The sizes of the blocks that `queries` scan-plan queries sharing one filter are cut into:
// as few as fit kScanBlockBytes (or one per thread), of equal size in whole kBlockQueries groups.
size_t scan_block_size(size_t queries, size_t dim, size_t threads) {
    const size_t pair = 2 * kBlockQueries;
    const size_t widest = std::max(pair, kScanBlockBytes / (dim * sizeof(float)) / pair * pair);
    size_t blocks = (queries + widest - 1) / widest;
    const size_t workers = threads == 0 ? ThreadPool::hardware_threads() : threads;
    if (workers > blocks) blocks = std::max(blocks, std::min(workers, queries / kScanBlockSplit));
    const size_t each = (queries + blocks - 1) / blocks;
    return (each + kBlockQueries - 1) / kBlockQueries * kBlockQueries;
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

inline void prefetch_row(const float* row, size_t dim) { prefetch_lines(row, dim * sizeof(float)); }

// Drops the whole pages inside [begin, end) of a read-only file mapping from this process (they
// are read again from the file if touched); never a page shared with data outside the range.
void release_mapped(const void* begin, const void* end) {
    uintptr_t page = uintptr_t(sysconf(_SC_PAGE_SIZE));
    uintptr_t lo = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
    uintptr_t hi = reinterpret_cast<uintptr_t>(end) / page * page;
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

size_t physical_memory_bytes() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page > 0 ? size_t(pages) * size_t(page) : std::numeric_limits<size_t>::max();
}

// Per-thread scratch of graph walks; sized on first use, reused across calls and indexes.
struct Scratch {
    VisitedList visited;
    BeamPool pool;
    TopK top;
    std::vector<Neighbor> cands, kept, shrink;
    std::vector<slot_t> fresh, row_copy;
    std::vector<float> query;  // 64-byte aligned copy of the current query
    std::vector<uint8_t> prepared;  // the codec's form of the current query (64-byte aligned)
    std::vector<Neighbor> reranked;
    std::vector<slot_t> disk_slots;     // re-rank rows read from disk, and their values
    std::vector<float> disk_rows;
    std::vector<Neighbor> frontier;
    std::vector<TopK> block_tops;       // one per query of a blocked scan
    std::vector<float> block_queries;   // the blocked scan's queries, transposed
    std::vector<float> block_bounds;    // each blocked query's k-th best value so far
};
Scratch& scratch() {
    static thread_local Scratch s;
    return s;
}

// A 64-byte aligned copy of a query in buf, so every SIMD load of it stays in one cache line.
const float* aligned_query(std::vector<float>& buf, const float* query, size_t dim) {
    buf.resize(dim + 16);
    float* q = buf.data();
    q += (16 - (reinterpret_cast<uintptr_t>(q) / sizeof(float)) % 16) % 16;
    std::memcpy(q, query, dim * sizeof(float));
    return q;
}

}  // namespace

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
    p.codes = codes_.capacity() + (codec_ ? codec_->serialize().size() : 0) + (ncodes_ ? ncodes_->bytes() : 0);
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
                      (ncodes_ ? ncodes_->batches() * ncodes_->batch_bytes() : 0);
    if (capacity > physical_memory_bytes() / per_slot) throw std::bad_alloc();
    store_.reserve(capacity, count_);
    links0_.resize(capacity * row0_, 0);
    upper_.resize(capacity);
    levels_.resize(capacity, 0);
    ids_.resize(capacity, kMissingId);
    deleted_.resize(capacity, 0);
    if (codec_) codes_.resize(capacity * codec_->code_size());
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
    if (count_ + fresh > capacity_ || store_.borrowed()) {
        size_t want = std::max(count_ + fresh, capacity_ + capacity_ / 2 + 16);
        // External rows hold what the caller sized them for: no slack beyond them.
        if (store_.external()) want = std::min(want, std::max(count_ + fresh, store_.capacity()));
        reserve(want);
    }
    reader_.reset();  // the new rows are not in the file it reads

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
    ThreadPool::global().parallel_for(n, threads, 1, [&](size_t i) {
        // Only this insertion writes the slot's code, and builds link with float distances.
        if (codec_) codec_->encode(store_.row(slots[i]), 1, &codes_[size_t(slots[i]) * codec_->code_size()], 1);
        insert(slots[i], visited_size);
    });
    if (ncodes_) refresh_neighbour_codes(reused > 0, threads);
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
}

void Hnsw::detach_codec() {
    std::unique_lock<std::shared_mutex> lock(rw_);
    ++epoch_;
    codec_.reset();
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

namespace {
enum PlanCount : size_t { kScanCount = 0, kAcornCount = 1, kPostCount = 2, kRerouted = 3,
                          kAcornFallback = 4, kPostFallback = 5 };
}  // namespace

Hnsw::PlanCounters Hnsw::plan_counters() const {
    auto at = [&](PlanCount c) { return plan_counts_[c].load(std::memory_order_relaxed); };
    return PlanCounters{at(kScanCount), at(kAcornCount), at(kPostCount), at(kRerouted),
                        at(kAcornFallback), at(kPostFallback)};
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
    if (count_ + fresh > capacity_) reserve(count_ + fresh);
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
// Insertion (parallel: link rows are read and written under their striped lock)

slot_t Hnsw::greedy_build(const float* q, slot_t ep, float& ep_dist, int from_level, int to_level) const {
    std::vector<slot_t>& buf = scratch().row_copy;
    buf.resize(params_.M);
    for (int level = from_level; level > to_level; --level) {
        bool moved = true;
        while (moved) {
            moved = false;
            size_t cnt;
            {
                std::lock_guard<std::mutex> g(link_lock(ep));
                const slot_t* row = links(ep, level);
                cnt = row[0];
                std::copy(row + 1, row + 1 + cnt, buf.begin());
            }
            for (size_t j = 0; j < cnt; ++j) {
                float d = store_.distance(q, buf[j]);
                if (d < ep_dist) {
                    ep_dist = d;
                    ep = buf[j];
                    moved = true;
                }
            }
        }
    }
    return ep;
}

void Hnsw::search_layer_build(const float* q, slot_t ep, float ep_dist, int level, size_t ef, BeamPool& pool,
                              VisitedList& visited) const {
    Scratch& sc = scratch();
    sc.row_copy.resize(max_links(level));
    sc.fresh.resize(max_links(level));
    slot_t* buf = sc.row_copy.data();
    slot_t* fresh = sc.fresh.data();
    pool.reset(ef);
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    while (pool.has_next()) {
        slot_t u = pool.pop_next();
        size_t cnt, m = 0;
        {
            std::lock_guard<std::mutex> g(link_lock(u));
            const slot_t* row = links(u, level);
            cnt = row[0];
            std::copy(row + 1, row + 1 + cnt, buf);
        }
        for (size_t j = 0; j < cnt; ++j) {
            slot_t v = buf[j];
            if (visited.test_and_set(v)) continue;
            prefetch_row(store_.row(v), params_.dim);
            fresh[m++] = v;
        }
        for (size_t j = 0; j < m; ++j) {
            if (pool.insert(store_.distance(q, fresh[j]), fresh[j]))
                __builtin_prefetch(links(fresh[j], level), 0, 3);
        }
    }
}

// hnswlib's heuristic: keep a candidate only if it is closer to the base than to every
// candidate already kept, which spreads the links over directions.
void Hnsw::select_neighbors(std::vector<Neighbor>& cands, size_t m) const {
    if (cands.size() <= m) return;
    std::vector<Neighbor>& kept = scratch().kept;
    kept.clear();
    for (const Neighbor& c : cands) {
        if (kept.size() >= m) break;
        bool good = true;
        for (const Neighbor& r : kept) {
            if (store_.distance(c.slot, r.slot) < c.dist) {
                good = false;
                break;
            }
        }
        if (good) kept.push_back(c);
    }
    cands.swap(kept);
}

// ACORN-gamma compression of a level-0 candidate list sorted by distance: the first M_beta stay;
// past them a candidate is dropped when a kept tail neighbour already links to it (a search
// reaches it in two hops through that neighbour), and the list is cut to the row capacity.
void Hnsw::compress_acorn(std::vector<Neighbor>& cands, VisitedList& linked) const {
    const size_t m_beta = params_.m_beta(), cap = row0_ - 1;
    if (cands.size() <= m_beta) return;
    std::vector<Neighbor>& kept = scratch().kept;
    std::vector<slot_t>& row = scratch().row_copy;
    kept.assign(cands.begin(), cands.begin() + m_beta);
    for (size_t i = m_beta; i < cands.size() && kept.size() < cap; ++i) {
        const Neighbor& c = cands[i];
        if (linked.test_and_set(c.slot)) continue;  // in a kept tail neighbour's list
        kept.push_back(c);
        size_t cnt;
        {
            std::lock_guard<std::mutex> g(link_lock(c.slot));
            const slot_t* r = links(c.slot, 0);
            cnt = r[0];
            row.assign(r + 1, r + 1 + cnt);
        }
        for (slot_t v : row) linked.test_and_set(v);
    }
    cands.swap(kept);
}

void Hnsw::connect(slot_t slot, int level, const std::vector<Neighbor>& selected) {
    size_t cap = max_links(level);
    {
        std::lock_guard<std::mutex> g(link_lock(slot));
        slot_t* row = links_mut(slot, level);
        size_t cnt = std::min(selected.size(), cap);
        for (size_t j = 0; j < cnt; ++j) row[1 + j] = selected[j].slot;
        row[0] = slot_t(cnt);
        if (ncodes_ && level == 0) links_dirty_[slot] = 1;
    }
    std::vector<Neighbor>& cands = scratch().shrink;
    for (const Neighbor& nb : selected) {
        slot_t other = nb.slot;
        std::lock_guard<std::mutex> g(link_lock(other));
        slot_t* row = links_mut(other, level);
        size_t cnt = row[0];
        if (std::find(row + 1, row + 1 + cnt, slot) != row + 1 + cnt) continue;
        if (ncodes_ && level == 0) links_dirty_[other] = 1;  // under the row's lock
        if (cnt < cap) {
            row[1 + cnt] = slot;
            row[0] = slot_t(cnt + 1);
            continue;
        }
        cands.clear();
        cands.push_back({nb.dist, slot});
        for (size_t j = 0; j < cnt; ++j) cands.push_back({store_.distance(other, row[1 + j]), row[1 + j]});
        std::sort(cands.begin(), cands.end(), [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
        if (level == 0 && params_.acorn_gamma > 1) {
            // ACORN-gamma: the M_beta nearest stay; the rest of the row is refilled by the HNSW
            // rule, whose diversity keeps distant nodes reachable through back-links.
            size_t head = std::min(params_.m_beta(), cap);
            std::vector<Neighbor> tail(cands.begin() + head, cands.end());
            select_neighbors(tail, cap - head);
            cands.resize(head);
            cands.insert(cands.end(), tail.begin(), tail.end());
        } else {
            select_neighbors(cands, cap);
        }
        for (size_t j = 0; j < cands.size(); ++j) row[1 + j] = cands[j].slot;
        row[0] = slot_t(cands.size());
    }
}

void Hnsw::insert(slot_t slot, size_t visited_size) {
    const float* q = store_.row(slot);
    int level = levels_[slot];
    std::unique_lock<std::mutex> entry_lock(entry_mutex_);
    int top = max_level_;
    slot_t ep = entry_point_;
    if (ep == kNoSlot) {
        entry_point_ = slot;
        max_level_ = level;
        return;
    }
    // Only an insert that raises the top level keeps the entry lock (hnswlib does the same).
    if (level <= top) entry_lock.unlock();

    float ep_dist = store_.distance(q, ep);
    if (level < top) ep = greedy_build(q, ep, ep_dist, top, level);

    Scratch& sc = scratch();
    const bool acorn = params_.acorn_gamma > 1;
    for (int l = std::min(level, top); l >= 0; --l) {
        sc.visited.reset(visited_size);
        // ACORN-gamma's level 0 wants M * gamma candidates, so its beam is at least that wide.
        size_t ef = (acorn && l == 0) ? std::max(params_.ef_construction, params_.M * params_.acorn_gamma)
                                      : params_.ef_construction;
        search_layer_build(q, ep, ep_dist, l, ef, sc.pool, sc.visited);
        std::vector<Neighbor>& cands = sc.cands;
        cands.clear();
        for (size_t i = 0; i < sc.pool.size(); ++i)
            if (sc.pool.slot_at(i) != slot) cands.push_back({sc.pool.dist_at(i), sc.pool.slot_at(i)});
        if (!cands.empty()) {
            ep = cands[0].slot;
            ep_dist = cands[0].dist;
        }
        if (acorn && l == 0) {
            if (cands.size() > params_.M * params_.acorn_gamma) cands.resize(params_.M * params_.acorn_gamma);
            sc.visited.reset(visited_size);
            compress_acorn(cands, sc.visited);
        } else {
            select_neighbors(cands, params_.M);
        }
        connect(slot, l, cands);
    }
    if (level > top) {
        entry_point_ = slot;
        max_level_ = level;
    }
}

// ---------------------------------------------------------------------------------------------
// Queries

template <class Fn>
void Hnsw::with_scorer(const float* query, const Fn& fn, bool codes) const {
    Scratch& sc = scratch();
    const float* q = aligned_query(sc.query, query, params_.dim);
    if (!codec_ || !codes) {
        fn(ExactScorer(store_, q));
        return;
    }
    sc.prepared.resize(codec_->prepared_size() + 64);
    uint8_t* prepared = sc.prepared.data();
    prepared += (64 - reinterpret_cast<uintptr_t>(prepared) % 64) % 64;
    codec_->prepare(q, prepared);
    fn(CodeScorer(store_, q, *codec_, codes_.data(), prepared));
}

template <class Scorer, class Visit>
slot_t Hnsw::greedy_query(const Scorer& score, float& dist, const Visit& visit) const {
    slot_t ep = entry_point_;
    dist = score(ep);
    visit(ep, dist);
    for (int level = max_level_; level > 0; --level) {
        bool moved = true;
        while (moved) {
            moved = false;
            const slot_t* row = links(ep, level);
            size_t cnt = row[0];
            for (size_t j = 1; j <= cnt; ++j) {
                float d = score(row[j]);
                visit(row[j], d);
                if (d < dist) {
                    dist = d;
                    ep = row[j];
                    moved = true;
                }
            }
        }
    }
    return ep;
}

template <class Scorer>
slot_t Hnsw::greedy_query(const Scorer& score, float& dist) const {
    return greedy_query(score, dist, [](slot_t, float) {});
}
template slot_t Hnsw::greedy_query<ExactScorer>(const ExactScorer&, float&) const;  // for hnsw_fast_walk.cpp


// One level-0 walk with a beam of `ef`: the beam's first k entries are the unfiltered answer, and
// seen(dist, slot) is told of every node scored, so a caller can collect a different answer
// (live or matching nodes only) from the same route.
// Writes u's level-0 neighbours not visited yet to `fresh` (marking them visited and starting
// to load their vectors) and returns how many.
template <class Scorer>
size_t Hnsw::gather_unvisited(const Scorer& score, slot_t u, VisitedList& visited, slot_t* fresh) const {
    const slot_t* row = &links0_[size_t(u) * row0_];
    size_t cnt = row[0], m = 0;
    for (size_t j = 1; j <= cnt; ++j) {
        slot_t v = row[j];
        if (visited.test_and_set(v)) continue;
        score.prefetch(v);
        fresh[m++] = v;
    }
    return m;
}

template <class Scorer, class Seen>
void Hnsw::walk_level0(const Scorer& score, slot_t ep, float ep_dist, size_t ef, const Seen& seen) const {
    Scratch& sc = scratch();
    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    pool.reset(ef);
    visited.reset(count_);
    visited.test_and_set(ep);
    pool.insert(ep_dist, ep);
    seen(ep_dist, ep);
    sc.fresh.resize(row0_);
    slot_t* fresh = sc.fresh.data();
    while (pool.has_next()) {
        size_t m = gather_unvisited(score, pool.pop_next(), visited, fresh);
        for (size_t j = 0; j < m; ++j) {
            slot_t v = fresh[j];
            float d = score(v);
            seen(d, v);
            // A node that enters the beam is likely expanded soon: start loading its links.
            if (pool.insert(d, v)) __builtin_prefetch(&links0_[size_t(v) * row0_], 0, 3);
        }
    }
}

// A walk that routes through every node and answers (in sc.top, the ef best) with accepted ones
// only, as hnswlib's filtered search does: it keeps expanding while a candidate is closer than
// the ef-th accepted node found, so it follows the matches outward however far they lie
// (anti-correlated filters) instead of stopping at the ef nearest nodes of any kind.
template <class Scorer, class Accept>
void Hnsw::walk_collect(const Scorer& score, slot_t ep, float ep_dist, size_t ef, const Accept& accept) const {
    Scratch& sc = scratch();
    TopK& top = sc.top;
    VisitedList& visited = sc.visited;
    std::vector<Neighbor>& frontier = sc.frontier;  // min-heap by distance
    auto farther = [](const Neighbor& a, const Neighbor& b) { return a.dist > b.dist; };
    top.reset(ef);
    visited.reset(count_);
    frontier.clear();
    visited.test_and_set(ep);
    frontier.push_back({ep_dist, ep});
    if (accept(ep)) top.push(ep_dist, ep);
    sc.fresh.resize(row0_);
    slot_t* fresh = sc.fresh.data();
    while (!frontier.empty()) {
        std::pop_heap(frontier.begin(), frontier.end(), farther);
        Neighbor c = frontier.back();
        frontier.pop_back();
        if (top.full() && c.dist > top.worst()) break;
        size_t m = gather_unvisited(score, c.slot, visited, fresh);
        for (size_t j = 0; j < m; ++j) {
            slot_t v = fresh[j];
            float d = score(v);
            if (top.full() && d >= top.worst()) continue;
            frontier.push_back({d, v});
            std::push_heap(frontier.begin(), frontier.end(), farther);
            __builtin_prefetch(&links0_[size_t(v) * row0_], 0, 3);
            if (accept(v)) top.push(d, v);
        }
    }
}

// Exact k nearest live vectors by a full scan; returns how many were found.
size_t Hnsw::scan_exact(const float* q, size_t k, external_id* out_ids, float* out_dists) const {
    TopK& top = scratch().top;
    top.reset(k);
    for (size_t s = 0; s < count_; ++s)
        if (!deleted_[s]) top.push(store_.distance(q, slot_t(s)), slot_t(s));
    const std::vector<Neighbor>& best = top.sorted();
    for (size_t i = 0; i < best.size(); ++i) {
        out_ids[i] = ids_[best[i].slot];
        out_dists[i] = best[i].dist;
    }
    return best.size();
}

// Writes the best k of the walk's candidates; an approximate walk's first `rerank` candidates
// are re-scored from the float vectors first (BiDR / DiskANN-style refinement).
template <class Scorer>
size_t Hnsw::finish_candidates(const Scorer& score, const Neighbor* cands, size_t n, size_t k, size_t rerank,
                               external_id* out_ids, float* out_dists) const {
    if (Scorer::kApproximate && rerank > 0) {
        Scratch& sc = scratch();
        std::vector<Neighbor>& exact = sc.reranked;
        exact.resize(std::min(n, std::max(rerank, k)));
        if (reader_) {
            // Vectors on disk: one batched read of every candidate's row, then exact distances.
            sc.disk_slots.resize(exact.size());
            for (size_t i = 0; i < exact.size(); ++i) sc.disk_slots[i] = cands[i].slot;
            sc.disk_rows.resize(exact.size() * params_.dim);
            reader_->read(sc.disk_slots.data(), exact.size(), sc.disk_rows.data());
            for (size_t i = 0; i < exact.size(); ++i)
                exact[i] = Neighbor{store_.distance(score.query(), &sc.disk_rows[i * params_.dim]), cands[i].slot};
        } else {
            for (size_t i = 0; i < exact.size(); ++i) {
                if (i + 2 < exact.size()) prefetch_row(store_.row(cands[i + 2].slot), params_.dim);
                exact[i] = Neighbor{score.exact(cands[i].slot), cands[i].slot};
            }
        }
        reranked_queries_.fetch_add(1, std::memory_order_relaxed);
        reranked_rows_.fetch_add(exact.size(), std::memory_order_relaxed);
        auto closer = [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; };
        size_t keep = std::min(k, exact.size());
        std::partial_sort(exact.begin(), exact.begin() + keep, exact.end(), closer);
        cands = exact.data();
        n = keep;
    }
    size_t found = std::min(k, n);
    for (size_t i = 0; i < found; ++i) {
        out_ids[i] = ids_[cands[i].slot];
        out_dists[i] = cands[i].dist;
    }
    return found;
}

template <class Scorer>
void Hnsw::search_one(const Scorer& score, size_t k, size_t ef, size_t rerank, external_id* out_ids,
                      float* out_dists) const {
    Scratch& sc = scratch();
    const float* q = score.query();
    float ep_dist;
    slot_t ep = greedy_query(score, ep_dist);
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
    for (size_t i = found; i < k; ++i) {
        out_ids[i] = kMissingId;
        out_dists[i] = std::numeric_limits<float>::infinity();
    }
}

void Hnsw::search(const float* queries, size_t nq, size_t k, size_t ef, size_t rerank, size_t threads,
                  external_id* out_ids, float* out_dists) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (count_ == n_deleted_) {
        std::fill(out_ids, out_ids + nq * k, kMissingId);
        std::fill(out_dists, out_dists + nq * k, std::numeric_limits<float>::infinity());
        return;
    }
    // The answer never needs a beam wider than the index; re-ranking reads the whole beam.
    if (ncodes_ && !reader_) {
        ef = std::max<size_t>(1, std::min(std::max(ef, k), count_));
        ThreadPool::global().parallel_for(nq, threads, 1, [&](size_t i) {
            const float* q = aligned_query(scratch().query, queries + i * params_.dim, params_.dim);
            external_id* ids = out_ids + i * k;
            float* dists = out_dists + i * k;
            size_t found = walk_neighbour_codes(q, k, ef, rerank, ids, dists);
            // As search_one: a node without incoming links can hide from the walk.
            if (found < std::min(k, count_ - n_deleted_)) found = scan_exact(q, k, ids, dists);
            std::fill(ids + found, ids + k, kMissingId);
            std::fill(dists + found, dists + k, std::numeric_limits<float>::infinity());
        });
        return;
    }
    ef = std::max<size_t>(1, std::min(std::max({ef, k, codec_ ? rerank : 0}), count_));
    ThreadPool::global().parallel_for(nq, threads, 1, [&](size_t i) {
        with_scorer(queries + i * params_.dim,
                    [&](const auto& score) { search_one(score, k, ef, rerank, out_ids + i * k, out_dists + i * k); });
    });
}

// ---------------------------------------------------------------------------------------------
// Filtered queries

uint64_t Hnsw::epoch() const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    return epoch_;
}


// Share of the level-0 two-hop neighbourhood of `u` (with repeats) that passes the filter.
double Hnsw::local_selectivity(slot_t u, const SlotBitmap& bitmap) const {
    size_t seen = 0, passed = 0;
    auto pass = [&](slot_t s) { return bitmap.test(s) && !deleted_[s]; };
    const slot_t* row = &links0_[size_t(u) * row0_];
    for (size_t j = 1; j <= row[0]; ++j) {
        const slot_t* row2 = &links0_[size_t(row[j]) * row0_];
        seen += 1 + row2[0];
        passed += pass(row[j]);
        for (size_t i = 1; i <= row2[0]; ++i) passed += pass(row2[i]);
    }
    return seen == 0 ? 1.0 : double(passed) / double(seen);
}

// ACORN-1 (Patel et al. 2024) on the level-0 graph: the beam holds matching nodes only. A node's
// filtered neighbourhood is its matching neighbours and, when those are fewer than M, the
// matching neighbours of its non-matching neighbours (two hops, conditional as in Weaviate), so
// the walk crosses regions where the filter fails without paying two hops where it mostly holds.
// Returns how many matching nodes the beam holds.
template <class Scorer>
size_t Hnsw::walk_acorn(const Scorer& score, slot_t ep, const std::vector<Neighbor>& seeds, size_t ef,
                        const SlotBitmap& bitmap) const {
    Scratch& sc = scratch();
    BeamPool& pool = sc.pool;
    VisitedList& visited = sc.visited;
    pool.reset(ef);
    visited.reset(count_);
    // Filter bitmaps never hold deleted slots (rows of deleted ids have no slot, and a bitmap
    // older than the last add or delete is refused by its epoch), so one test suffices.
    auto pass = [&](slot_t s) { return bitmap.test(s); };
    // The filtered list is truncated to 2M, the HNSW level-0 degree, as ACORN does. Two-hop
    // expansion (only while fewer than M neighbours match) goes through non-matching neighbours
    // on an HNSW graph (ACORN-1) and through the compressed tail of an ACORN-gamma row.
    const size_t cap = 2 * params_.M;
    const bool gamma = params_.acorn_gamma > 1;
    const size_t two_hop_from = gamma ? params_.m_beta() + 1 : 1;
    sc.fresh.resize(cap);
    slot_t* fresh = sc.fresh.data();
    auto expand = [&](slot_t u, size_t& m) {
        const slot_t* row = &links0_[size_t(u) * row0_];
        size_t cnt = row[0];
        for (size_t j = 1; j <= cnt && m < cap; ++j) {
            slot_t v = row[j];
            if (pass(v) && !visited.test_and_set(v)) {
                score.prefetch(v);
                fresh[m++] = v;
            }
        }
        if (m >= params_.M) return;
        // The two-hop rows are independent loads: request them all before reading the first.
        for (size_t j = two_hop_from; j <= cnt; ++j) {
            const char* row2 = reinterpret_cast<const char*>(&links0_[size_t(row[j]) * row0_]);
            __builtin_prefetch(row2, 0, 3);
            __builtin_prefetch(row2 + 64, 0, 3);
        }
        for (size_t j = two_hop_from; j <= cnt && m < cap; ++j) {
            slot_t v = row[j];
            if (!gamma && pass(v)) continue;  // a matching neighbour is expanded through the beam itself
            const slot_t* row2 = &links0_[size_t(v) * row0_];
            size_t cnt2 = row2[0];
            for (size_t i = 1; i <= cnt2 && m < cap; ++i) {
                slot_t w = row2[i];
                if (pass(w) && !visited.test_and_set(w)) {
                    score.prefetch(w);
                    fresh[m++] = w;
                }
            }
        }
    };
    // Seeds: matching nodes met on the upper levels (spread over the data, so a filter that
    // fails near the query still has starts on the closest matching side), the entry point if
    // it matches, and the matching nodes within its two hops.
    for (const Neighbor& s : seeds)
        if (!visited.test_and_set(s.slot)) pool.insert(s.dist, s.slot);
    size_t m = 0;
    if (pass(ep) && !visited.test_and_set(ep)) fresh[m++] = ep;
    expand(ep, m);
    for (size_t j = 0; j < m; ++j) pool.insert(score(fresh[j]), fresh[j]);
    while (pool.has_next()) {
        slot_t u = pool.pop_next();
        m = 0;
        expand(u, m);
        for (size_t j = 0; j < m; ++j) {
            slot_t v = fresh[j];
            if (pool.insert(score(v), v)) __builtin_prefetch(&links0_[size_t(v) * row0_], 0, 3);
        }
    }
    return pool.size();
}

size_t Hnsw::scan_filtered(const float* q, size_t k, const SlotBitmap& bitmap, external_id* out_ids,
                           float* out_dists) const {
    Scratch& sc = scratch();
    TopK& top = sc.top;
    top.reset(k);
    // Matching slots first, then their distances with the rows a few ahead already requested:
    // a scan of few matches reads scattered rows, and their loads must overlap.
    std::vector<slot_t>& slots = sc.row_copy;
    slots.clear();
    bitmap.for_each([&](slot_t s) {
        if (s < count_ && !deleted_[s]) slots.push_back(s);
    });
    constexpr size_t kAhead = 4;
    for (size_t j = 0; j < std::min(kAhead, slots.size()); ++j) prefetch_row(store_.row(slots[j]), params_.dim);
    for (size_t j = 0; j < slots.size(); ++j) {
        if (j + kAhead < slots.size()) prefetch_row(store_.row(slots[j + kAhead]), params_.dim);
        top.push(store_.distance(q, slots[j]), slots[j]);
    }
    const std::vector<Neighbor>& best = top.sorted();
    for (size_t i = 0; i < best.size(); ++i) {
        out_ids[i] = ids_[best[i].slot];
        out_dists[i] = best[i].dist;
    }
    return best.size();
}

// Draws up to kMissProbes random matching vectors (seeded by the query, so answers stay
// deterministic) and reports whether any is closer than `kth`, the worst distance a walk
// returned: then the walk missed a region of matches, as happens when the filter holds far from
// the query (anti-correlated) and the walk settled on the wrong ones.
// `exact` tells whether found_dists are exact distances or the scorer's estimates.
template <class Scorer>
bool Hnsw::walk_missed_matches(const Scorer& score, bool exact, const SlotBitmap& bitmap,
                               const external_id* found_ids, const float* found_dists, size_t found) const {
    const float* q = score.query();
    const float kth = found_dists[found - 1];
    constexpr size_t kMissProbes = 32, kMaxDraws = 512;
    uint64_t state = 0x9E3779B97F4A7C15ull;
    std::memcpy(&state, q, std::min(sizeof(state), params_.dim * sizeof(float)));
    size_t probes = 0;
    for (size_t draw = 0; draw < kMaxDraws && probes < kMissProbes; ++draw) {
        state = splitmix64(state);
        slot_t s = slot_t(state % count_);
        if (!bitmap.test(s) || deleted_[s]) continue;
        ++probes;
        // A probe among the answer is no miss; one outside it and closer than the worst is.
        if (std::find(found_ids, found_ids + found, ids_[s]) != found_ids + found) continue;
        if ((exact ? score.exact(s) : score(s)) < kth) return true;
    }
    return false;
}

template <class Scorer>
Answered Hnsw::search_one_filtered(const Scorer& score, size_t k, size_t ef, size_t rerank, const SlotBitmap& bitmap,
                                   size_t matches, FilterPlan plan, external_id* out_ids, float* out_dists) const {
    Scratch& sc = scratch();
    const float* q = score.query();
    const size_t want = std::min(k, matches);
    size_t found = 0;
    Answered answered = Answered(plan);
    plan_counts_[size_t(plan)].fetch_add(1, std::memory_order_relaxed);
    if (plan != FilterPlan::scan && want > 0) {
        float ep_dist;
        std::vector<Neighbor>& seeds = sc.cands;
        slot_t ep_acorn = kNoSlot;
        if (plan == FilterPlan::acorn) {
            seeds.clear();
            ep_acorn = greedy_query(score, ep_dist, [&](slot_t s, float d) {
                if (bitmap.test(s) && !deleted_[s]) seeds.push_back(Neighbor{d, s});
            });
            if (seeds.size() > kAcornUpperSeeds) {
                std::partial_sort(seeds.begin(), seeds.begin() + kAcornUpperSeeds, seeds.end(),
                                  [](const Neighbor& a, const Neighbor& b) { return a.dist < b.dist; });
                seeds.resize(kAcornUpperSeeds);
            }
            // A filter that holds far less often around the query than overall (matches far
            // from it) leaves the walk stranded on whatever matching region it reaches first;
            // such queries are answered exactly instead.
            double selectivity = double(matches) / double(std::max<size_t>(1, count_ - n_deleted_));
            if (local_selectivity(ep_acorn, bitmap) < kAntiCorrelated * selectivity) {
                plan = FilterPlan::scan;
                answered = Answered::acorn_rerouted;
                plan_counts_[kRerouted].fetch_add(1, std::memory_order_relaxed);
            }
        }
        if (plan == FilterPlan::acorn) {
            size_t held = walk_acorn(score, ep_acorn, seeds, ef, bitmap);
            sc.pool.copy_to(sc.kept);
            found = finish_candidates(score, sc.kept.data(), held, k, rerank, out_ids, out_dists);
        } else if (plan == FilterPlan::post) {
            slot_t ep = greedy_query(score, ep_dist);
            auto pass = [&](slot_t s) { return bitmap.test(s) && !deleted_[s]; };
            walk_collect(score, ep, ep_dist, ef, pass);
            const std::vector<Neighbor>& best = sc.top.sorted();
            found = finish_candidates(score, best.data(), best.size(), k, rerank, out_ids, out_dists);
        }
    }
    // The scan plan, and the exact answer whenever a walk met fewer matches than exist or
    // provably missed closer ones.
    const bool exact = !Scorer::kApproximate || rerank > 0;
    if (plan == FilterPlan::scan) {
        if (want > 0) found = scan_filtered(q, k, bitmap, out_ids, out_dists);
    } else if (found < want || (found > 0 && walk_missed_matches(score, exact, bitmap, out_ids, out_dists, found))) {
        plan_counts_[plan == FilterPlan::acorn ? kAcornFallback : kPostFallback].fetch_add(1, std::memory_order_relaxed);
        answered = plan == FilterPlan::acorn ? Answered::acorn_fallback : Answered::post_fallback;
        found = scan_filtered(q, k, bitmap, out_ids, out_dists);
    }
    for (size_t i = found; i < k; ++i) {
        out_ids[i] = kMissingId;
        out_dists[i] = std::numeric_limits<float>::infinity();
    }
    return answered;
}

// A whole row into L2 (not L1: the scan's query blocks stream through L1 meanwhile, and would
// evict it before it is read). Requested in one burst per row group: measured, that beats
// spreading the requests over the group's kernel calls, and no prefetch at all.
inline void prefetch_row_l2(const float* row, size_t dim) {
    const char* c = reinterpret_cast<const char*>(row);
    for (size_t off = 0; off < dim * sizeof(float); off += 64) __builtin_prefetch(c + off, 0, 2);
}

// Four lanes of a GCC/Clang vector (any target): the admission test below compares four
// queries per instruction, where scalar compares and branches cost a tenth of a scan.
typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));

inline f32x4 load4(const float* p) {
    f32x4 v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

// Rows the blocked scan takes per step: two dot_block4x2 calls (an eight-rows kernel with 16
// accumulators measured no faster: the scan is bound by the FMA unit either way).
constexpr size_t kScanRows = 2 * kBlockRows;

// Offers one kernel output (kScanRows rows x kBlockQueries queries, row r's values at
// d + (r / 4) * 128 + (r % 4) * 16) to the tops of one query group. Ranking value: norm[r] -
// scale * dot. Padding lanes carry a -inf bound, so they never pass. Almost every row fails
// every lane's bound once the tops are full: one vector compare of the whole row skips it.
inline void admit_rows(const float* d, const float* norms, float scale, size_t nr, const slot_t* slots,
                       float* bound, TopK* tops) {
    static_assert(kBlockQueries % 4 == 0, "the admission test compares four lanes at a time");
    for (size_t r = 0; r < nr; ++r) {
        const float* dr = d + (r / kBlockRows) * 2 * kBlockRows * kBlockQueries + (r % kBlockRows) * kBlockQueries;
        i32x4 hit = {0, 0, 0, 0};
        for (size_t b = 0; b < kBlockQueries; b += 4) hit |= (norms[r] - scale * load4(dr + b)) < load4(bound + b);
        if (!(hit[0] | hit[1] | hit[2] | hit[3])) continue;
        for (size_t b = 0; b < kBlockQueries; ++b) {
            const float v = norms[r] - scale * dr[b];
            if (!(v < bound[b])) continue;
            tops[b].push(v, slots[r]);
            if (tops[b].full()) bound[b] = tops[b].worst();
        }
    }
}

// Exact answers of queries that share one filter, over its matching slots: each matching vector
// is read from memory once for the whole block and scored against all its queries while in L1.
void Hnsw::scan_block(const float* queries, const uint32_t* block, size_t nb, size_t k, const slot_t* slots,
                      size_t n_slots, external_id* out_ids, float* out_dists) const {
    Scratch& sc = scratch();
    const size_t dim = params_.dim;
    // The block's queries in groups of kBlockQueries, each group transposed (coordinate-major,
    // unused lanes zero), so one kernel call scores four matching rows against two groups.
    const size_t groups = (nb + kBlockQueries - 1) / kBlockQueries, group_floats = dim * kBlockQueries;
    sc.block_queries.assign(groups * group_floats, 0.0f);
    for (size_t b = 0; b < nb; ++b) {
        const float* q = queries + size_t(block[b]) * dim;
        float* group = sc.block_queries.data() + (b / kBlockQueries) * group_floats;
        for (size_t i = 0; i < dim; ++i) group[i * kBlockQueries + b % kBlockQueries] = q[i];
    }
    sc.block_tops.resize(groups * kBlockQueries);
    for (size_t b = 0; b < nb; ++b) sc.block_tops[b].reset(k);
    // Each query's admission bound (its k-th best so far, +inf until it has k; -inf for the
    // padding lanes of the last group).
    sc.block_bounds.assign(groups * kBlockQueries, -std::numeric_limits<float>::infinity());
    std::fill(sc.block_bounds.begin(), sc.block_bounds.begin() + nb, std::numeric_limits<float>::infinity());
    // Rows are ranked by a value monotone in the distance: |x|^2 - 2 q.x for l2 (|q|^2 is the
    // same for every row), -q.x otherwise. The answers' exact distances are computed at the end.
    const bool l2 = params_.metric == Metric::l2;
    const float scale = l2 ? 2.0f : 1.0f;
    const KernelTable& kernels = active_kernels();
    const float* qts = sc.block_queries.data();
    float* bound = sc.block_bounds.data();
    TopK* tops = sc.block_tops.data();
    alignas(64) float dots[2 * kScanRows * kBlockQueries];
    const float* rows[kScanRows];
    float norms[kScanRows];
    for (size_t j = 0; j < n_slots; j += kScanRows) {
        const size_t nr = std::min(kScanRows, n_slots - j);
        for (size_t r = 0; r < kScanRows; ++r) {
            slot_t s = slots[j + std::min(r, nr - 1)];  // a short last group repeats its last row
            rows[r] = store_.row(s);
            // The next group's rows are read after this group's kernel calls: time enough.
            if (j + kScanRows + r < n_slots) prefetch_row_l2(store_.row(slots[j + kScanRows + r]), dim);
        }
        for (size_t r = 0; r < nr; ++r) norms[r] = l2 ? kernels.dot(rows[r], rows[r], dim) : 0.0f;
        for (size_t g = 0; g < groups; g += 2) {
            const float* qt = qts + g * group_floats;
            const bool pair = g + 1 < groups;
            if (pair) {
                kernels.dot_block4x2(qt, group_floats, rows, dim, dots);
                kernels.dot_block4x2(qt, group_floats, rows + kBlockRows, dim, dots + 2 * kBlockRows * kBlockQueries);
            } else {  // an odd last group: the four-rows kernel on each half, in the same layout
                kernels.dot_block4(qt, rows, dim, dots);
                kernels.dot_block4(qt, rows + kBlockRows, dim, dots + 2 * kBlockRows * kBlockQueries);
            }
            for (size_t h = 0; h < (pair ? 2u : 1u); ++h) {
                const size_t first = (g + h) * kBlockQueries;
                admit_rows(dots + h * kBlockRows * kBlockQueries, norms, scale, nr, slots + j, bound + first,
                           tops + first);
            }
        }
    }
    for (size_t b = 0; b < nb; ++b) {
        const float* q = queries + size_t(block[b]) * dim;
        std::vector<Neighbor>& best = sc.reranked;
        best = sc.block_tops[b].sorted();
        for (Neighbor& n : best) n.dist = store_.distance(q, n.slot);
        std::sort(best.begin(), best.end(), [](const Neighbor& x, const Neighbor& y) { return x.dist < y.dist; });
        external_id* ids = out_ids + size_t(block[b]) * k;
        float* out = out_dists + size_t(block[b]) * k;
        for (size_t i = 0; i < k; ++i) {
            ids[i] = i < best.size() ? ids_[best[i].slot] : kMissingId;
            out[i] = i < best.size() ? best[i].dist : std::numeric_limits<float>::infinity();
        }
    }
}

void Hnsw::search_filtered(const float* queries, size_t nq, size_t k, size_t ef, size_t rerank, size_t threads,
                           const SlotBitmap* bitmaps, const size_t* matches, const uint32_t* filter_of,
                           const FilterPlan* plans, uint64_t epoch, external_id* out_ids, float* out_dists,
                           Answered* out_answered, bool exact_walks) const {
    std::shared_lock<std::shared_mutex> lock(rw_);
    if (epoch != epoch_) throw StaleFilterError("the index changed after the filter was built");
    std::fill(out_answered, out_answered + nq, Answered::scan);  // what blocked scans leave
    if (count_ == n_deleted_) {
        std::fill(out_ids, out_ids + nq * k, kMissingId);
        std::fill(out_dists, out_dists + nq * k, std::numeric_limits<float>::infinity());
        return;
    }
    const bool codes = codec_ && !exact_walks;
    ef = std::max<size_t>(1, std::min(std::max({ef, k, codes ? rerank : 0}), count_));
    // Scan-plan queries sharing a filter are answered in blocks; the rest one by one.
    std::unordered_map<uint32_t, std::vector<uint32_t>> scans;
    for (size_t i = 0; i < nq; ++i)
        if (plans[i] == FilterPlan::scan) scans[filter_of[i]].push_back(uint32_t(i));
    struct Task {
        uint32_t filter;     // blocked scan of this filter's matching slots ...
        const uint32_t* block;  // ... for these queries
        size_t nb;
    };
    std::vector<Task> tasks;
    std::unordered_map<uint32_t, std::vector<slot_t>> slots;
    std::vector<uint8_t> blocked(nq, 0);
    for (auto& [f, group] : scans) {
        if (group.size() < kScanBlockMin) continue;
        std::vector<slot_t>& list = slots[f];
        list.reserve(matches[f]);
        bitmaps[f].for_each([&](slot_t s) {
            if (s < count_ && !deleted_[s]) list.push_back(s);
        });
        const size_t size = scan_block_size(group.size(), params_.dim, threads);
        for (size_t b = 0; b < group.size(); b += size)
            tasks.push_back(Task{f, group.data() + b, std::min(size, group.size() - b)});
        for (uint32_t i : group) blocked[i] = 1;
    }
    std::vector<uint32_t> singles;
    for (size_t i = 0; i < nq; ++i)
        if (!blocked[i]) singles.push_back(uint32_t(i));
    plan_counts_[kScanCount].fetch_add(nq - singles.size(), std::memory_order_relaxed);
    ThreadPool::global().parallel_for(tasks.size() + singles.size(), threads, 1, [&](size_t t) {
        if (t < tasks.size()) {
            const Task& task = tasks[t];
            const std::vector<slot_t>& list = slots.at(task.filter);
            scan_block(queries, task.block, task.nb, k, list.data(), list.size(), out_ids, out_dists);
            return;
        }
        size_t i = singles[t - tasks.size()];
        uint32_t f = filter_of[i];
        with_scorer(queries + i * params_.dim, [&](const auto& score) {
            out_answered[i] = search_one_filtered(score, k, ef, rerank, bitmaps[f], matches[f], plans[i],
                                                  out_ids + i * k, out_dists + i * k);
        }, codes);
    });
}

// ---------------------------------------------------------------------------------------------
// Persistence

std::vector<uint32_t> Hnsw::flatten_upper() const {
    std::vector<uint32_t> out;
    for (size_t s = 0; s < count_; ++s) {
        size_t n = size_t(levels_[s]) * (params_.M + 1);
        if (n) out.insert(out.end(), upper_[s].get(), upper_[s].get() + n);
    }
    return out;
}

HnswState Hnsw::state_view(const std::vector<uint32_t>& upper) const {
    HnswState st;
    st.count = count_;
    st.entry_point = entry_point_;
    st.max_level = max_level_;
    st.next_auto_id = next_auto_id_;
    st.vectors = store_.data();
    st.ids = ids_.data();
    st.levels = levels_.data();
    st.deleted = deleted_.data();
    st.links0 = links0_.data();
    st.upper = upper.data();
    st.upper_len = upper.size();
    return st;
}

std::unique_ptr<Hnsw> Hnsw::restore(const HnswParams& params, const HnswState& st, bool borrow_vectors) {
    auto fail = [](const std::string& what) { throw FormatError("corrupt index: " + what); };
    auto index = std::make_unique<Hnsw>(params);
    Hnsw& h = *index;
    if (st.count > kMaxSlots) fail("slot count " + std::to_string(st.count) + " is too large");
    size_t n = st.count;
    if (n == 0) {
        if (st.entry_point != kNoSlot || st.max_level != -1) fail("empty index has an entry point");
        h.next_auto_id_ = st.next_auto_id;
        return index;
    }
    if (st.entry_point >= n) fail("entry point " + std::to_string(st.entry_point) + " out of range");

    // Levels and upper rows first: their sizes must add up before any row is read.
    size_t upper_needed = 0;
    for (size_t s = 0; s < n; ++s) {
        if (st.levels[s] < 0 || st.levels[s] > kMaxLevel) fail("slot " + std::to_string(s) + " has a bad level");
        upper_needed += size_t(st.levels[s]) * (params.M + 1);
    }
    if (upper_needed != st.upper_len) fail("upper link section has the wrong length");
    if (st.max_level != st.levels[st.entry_point]) fail("max level differs from the entry point's level");
    for (size_t s = 0; s < n; ++s)
        if (st.levels[s] > st.max_level) fail("a slot is above the top level");

    if (borrow_vectors) {
        h.store_.borrow(st.vectors, n);
        h.links0_.resize(n * h.row0_);
        h.upper_.resize(n);
        h.levels_.resize(n);
        h.ids_.resize(n);
        h.deleted_.resize(n);
        h.capacity_ = n;
    } else {
        h.reserve(n);
        for (size_t s = 0; s < n; ++s) {
            h.store_.set(slot_t(s), st.vectors + s * params.dim);
            if (st.mapped && (s + 1) % (1 << 16) == 0)  // copied rows leave the mapping as we go
                release_mapped(st.vectors + (s + 1 - (1 << 16)) * params.dim, st.vectors + (s + 1) * params.dim);
        }
    }
    h.count_ = n;
    // Every link must name a slot that exists on that level: a walk reads the target's row there.
    auto check_row = [&](const uint32_t* row, size_t cap, size_t s, int level) {
        if (row[0] > cap) fail("slot " + std::to_string(s) + " has too many links");
        for (size_t j = 1; j <= row[0]; ++j) {
            if (row[j] >= n) fail("slot " + std::to_string(s) + " links to a slot out of range");
            if (st.levels[row[j]] < level)
                fail("slot " + std::to_string(s) + " links on level " + std::to_string(level) +
                     " to a slot below that level");
        }
    };
    size_t off = 0;
    h.id_to_slot_.reserve(n);
    constexpr size_t kReleaseEvery = 1 << 16;  // slots
    for (size_t s = 0; s < n; ++s) {
        if (st.mapped && s % kReleaseEvery == 0 && s > 0)
            release_mapped(st.links0 + (s - kReleaseEvery) * h.row0_, st.links0 + s * h.row0_);
        const uint32_t* row0 = st.links0 + s * h.row0_;
        check_row(row0, h.row0_ - 1, s, 0);
        std::copy(row0, row0 + h.row0_, &h.links0_[s * h.row0_]);
        h.levels_[s] = st.levels[s];
        size_t up = size_t(st.levels[s]) * (params.M + 1);
        if (up) {
            h.upper_[s].reset(new slot_t[up]);
            for (int l = 0; l < st.levels[s]; ++l)
                check_row(st.upper + off + size_t(l) * (params.M + 1), params.M, s, l + 1);
            std::copy(st.upper + off, st.upper + off + up, h.upper_[s].get());
            off += up;
        }
        if (st.deleted[s] > 1) fail("deleted flag is neither 0 nor 1");
        h.deleted_[s] = st.deleted[s];
        h.ids_[s] = st.ids[s];
        if (st.deleted[s]) {
            ++h.n_deleted_;
            h.free_slots_.push_back(slot_t(s));
            continue;
        }
        if (st.ids[s] == kMissingId) fail("a live slot has the reserved id");
        if (st.ids[s] >= st.next_auto_id) fail("an id is not below the next automatic id");
        if (!h.id_to_slot_.insert(st.ids[s], slot_t(s))) fail("id " + std::to_string(st.ids[s]) + " appears twice");
    }
    // Reuse the lowest deleted slots first, as before the save.
    std::reverse(h.free_slots_.begin(), h.free_slots_.end());
    h.entry_point_ = st.entry_point;
    h.max_level_ = st.max_level;
    h.next_auto_id_ = st.next_auto_id;
    return index;
}

}  // namespace vecsearch
