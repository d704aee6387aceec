// Hierarchical navigable small-world graph over a FlatStore.
//
// Layout (slot s is the dense internal position of one vector):
//   links0_   [capacity, 1 + 2M] uint32: row s = (count, neighbour slots...), level 0
//   upper_[s] level(s) * (1 + M) uint32: the same rows for levels 1..level(s), or null
//   ids_[s], levels_[s], deleted_[s]; id_to_slot_ maps live external ids to slots.
// Deleted slots stay in the graph as routing nodes (never returned) until an add reuses them.
// With a codec attached (quantized storage), codes_ holds every slot's compact code: walks score
// with the codec and their best candidates are re-scored exactly from the float vectors.
//
// Thread safety: searches hold rw_ shared, add/remove hold it exclusively, so every public
// method may be called concurrently. Within one add, worker threads insert in parallel and
// guard each link row with a striped mutex, as hnswlib does.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "common/huge_pages.h"
#include "common/types.h"
#include "filter/bitmap.h"
#include "filter/program.h"
#include "graph/axis_codes.h"
#include "graph/beam.h"
#include "graph/entry_table.h"
#include "graph/id_map.h"
#include "graph/neighbour_codes.h"
#include "graph/range_codes.h"
#include "graph/scorer.h"
#include "graph/visited.h"
#include "quant/codec.h"
#include "quant/refine.h"
#include "storage/flat_store.h"
#include "storage/vector_reader.h"

namespace vecsearch {

struct HnswParams {
    size_t dim = 0;
    Metric metric = Metric::l2;
    size_t M = 16;
    size_t ef_construction = 200;
    uint64_t seed = 0;
    // ACORN-gamma (Patel et al. 2024): level 0 keeps about M * gamma neighbours found without
    // any predicate, the nearest acorn_m_beta as they are and the rest compressed (a candidate
    // already linked from a kept tail neighbour is dropped; searches recover it in two hops).
    // gamma = 1 is a plain HNSW graph (ACORN-1 at search time).
    size_t acorn_gamma = 1;
    size_t acorn_m_beta = 0;  // 0: 2 * M

    size_t m_beta() const { return acorn_m_beta ? acorn_m_beta : 2 * M; }
    // Capacity of a level-0 link row: 2M for HNSW; for ACORN-gamma, M * gamma bounded by the
    // compressed size M_beta + 2M.
    size_t level0_degree() const {
        if (acorn_gamma <= 1) return 2 * M;
        return std::max(2 * M, std::min(M * acorn_gamma, m_beta() + 2 * M));
    }
};

// Plain views of the whole graph state, used by save (export) and load (restore).
struct HnswState {
    size_t count = 0;  // slots in use, deleted included
    slot_t entry_point = kNoSlot;
    int32_t max_level = -1;
    external_id next_auto_id = 0;
    const float* vectors = nullptr;        // [count, dim]
    const external_id* ids = nullptr;      // [count]
    const int32_t* levels = nullptr;       // [count]
    const uint8_t* deleted = nullptr;      // [count], 0 or 1
    const uint32_t* links0 = nullptr;      // [count, 1 + 2M]
    const uint32_t* upper = nullptr;       // concatenation of every slot's upper rows, by slot
    size_t upper_len = 0;
    // The entry table (graph/entry_table.h): entries slots and their vectors [entries, dim], and
    // the live count it was chosen at. Exported with the rest so that a save taken during adds
    // is one consistent snapshot; restore ignores them (Hnsw::set_entry_table restores them).
    const slot_t* entry_slots = nullptr;
    const float* entry_vectors = nullptr;
    size_t entries = 0, entries_built_at = 0;
    // The arrays are pages of a read-only file mapping: restore drops each stretch of links0
    // from the process once copied, so a large load is not resident twice.
    bool mapped = false;
};

class Hnsw {
public:
    explicit Hnsw(const HnswParams& params);

    const HnswParams& params() const { return params_; }
    size_t size() const;        // live vectors
    size_t slot_count() const;  // live + deleted
    bool contains(external_id id) const;

    // Inserts n vectors (already validated and, for cosine, normalised). ids == nullptr assigns
    // next_auto_id.. ; the ids used are written to out_ids. Throws DuplicateIdError or
    // InvalidArgument before changing anything.
    void add(const float* vectors, const external_id* ids, size_t n, size_t threads, external_id* out_ids);
    // Makes room for `n` more vectors now, so a large add fails (std::bad_alloc) before it
    // changes anything rather than after its first chunk.
    void reserve_more(size_t n);
    // Marks ids deleted. Throws UnknownIdError / DuplicateIdError before changing anything.
    void remove(const external_id* ids, size_t n);
    // k nearest live vectors per query; short rows padded with kMissingId / +inf. With a codec,
    // the walk's beam is max(ef, rerank) wide and its best `rerank` candidates are re-scored
    // exactly (rerank = 0: code distances are the answer).
    void search(const float* queries, size_t nq, size_t k, size_t ef, size_t rerank, size_t threads,
                external_id* out_ids, float* out_dists) const;
    void get_vectors(const external_id* ids, size_t n, float* out) const;

    // Filtered k-NN. Query i answers only from live slots set in bitmaps[filter_of[i]] (which
    // has matches[filter_of[i]] set bits), by plans[i]. The bitmaps must have been built at
    // mutation epoch `epoch`; after any add or delete since, this throws StaleFilterError and
    // the caller rebuilds them (a reused slot would otherwise let a stale bit through).
    // out_answered[i] says what answered query i (see Answered).
    void search_filtered(const float* queries, size_t nq, size_t k, size_t ef, size_t rerank, size_t threads,
                         const SlotBitmap* bitmaps, const size_t* matches, const uint32_t* filter_of,
                         const FilterPlan* plans, uint64_t epoch, external_id* out_ids, float* out_dists,
                         Answered* out_answered) const;
    // Fills a bitmap (over slots, n_words words) of the given ids and the epoch it is valid
    // for; false when n_words no longer covers every slot. Ids not in the index are ignored
    // (a filter may name ids that were deleted).
    bool ids_to_bitmap(const external_id* ids, size_t n, uint64_t* words, size_t n_words, uint64_t* epoch) const;
    // The same for a compiled predicate, called once per live vector.
    bool predicate_to_bitmap(id_predicate predicate, uint64_t* words, size_t n_words, uint64_t* epoch) const;
    // Bitmaps of n filter programs (one row of n_words words each, match counts in `matches`),
    // evaluated on up to `threads` threads; attribute row r lives in slot row_slots[r]. False
    // when n_words no longer covers every slot.
    bool evaluate_filters(const FilterProgram* programs, size_t n, const slot_t* row_slots, size_t n_rows,
                          size_t threads, uint64_t* words, size_t n_words, size_t* matches, uint64_t* epoch) const;
    // The slot of each id (kNoSlot where absent); false when some id is absent.
    bool slots_of(const external_id* ids, size_t n, slot_t* out) const;
    uint64_t epoch() const;

    // Range index (graph/range_codes.h, graph/hnsw_range.cpp). build_range_codes encodes the
    // live slots[0..n) in that order (an attribute column's); throws InvalidArgument for a slot
    // that is not live; with a projection, of the rows' projections (quant/projection.h). search_range answers query i from rows [spans[2f], spans[2f + 1]) of that
    // order, f = filter_of[i]: an int8 scan of the codes, whose best max(k, rerank) are re-scored
    // exactly. Throws StaleFilterError when the index changed since the codes were built.
    std::unique_ptr<RangeCodes> build_range_codes(const slot_t* slots, size_t n, size_t threads,
                                                  std::optional<Projection> projection) const;
    void search_range(const RangeCodes& codes, const float* queries, size_t nq, const uint64_t* spans, size_t n_spans,
                      const uint32_t* filter_of, size_t k, size_t rerank, size_t threads, external_id* out_ids,
                      float* out_dists) const;

    // Quantized storage. attach_codec takes a trained codec of this index's dim and metric and
    // the codes of slots 0..slot_count()-1 (nullptr: encode the stored vectors); later adds
    // encode their vectors. Throws InvalidArgument / FormatError before changing anything.
    // mapped_source: `codes` are pages of a read-only file mapping, dropped as they are copied.
    void attach_codec(std::unique_ptr<Codec> codec, const uint8_t* codes, size_t n_codes, size_t threads,
                      bool mapped_source = false);
    // Drops the codec and codes: walks use the float vectors again.
    void detach_codec();
    const Codec* codec() const { return codec_.get(); }
    // The codes of every slot, for save; empty without a codec.
    std::vector<uint8_t> export_codes() const;

    // Axis codes (graph/axis_codes.h): the codes plan scores these first, then its best on the SQ8
    // codes. Built from the live rows on `projection`'s axes (nullopt drops them); needs SQ8
    // codes (InvalidArgument otherwise); adds keep them current, a new codec drops them.
    void attach_axis_codes(std::optional<Projection> projection, size_t threads);
    size_t axis_code_dim() const;  // 0 without axis codes

    // Neighbour codes (graph/neighbour_codes.h): with them, unfiltered searches of an index whose
    // vectors are in RAM walk RaBitQ estimates, score expanded nodes by SQ8 codes and re-score
    // the best `rerank` of them exactly; adds keep them current. Off: the walks are as before.
    void enable_neighbour_codes(bool on, size_t threads);
    bool has_neighbour_codes() const;

    // Vectors on disk. attach_reader re-ranks from `reader` (rows read with pread) instead of
    // the store, which then stays a mapping of the same file that only exact scans touch; null
    // detaches. An add drops the reader: new rows live in RAM, not in the file.
    void attach_reader(std::shared_ptr<const VectorReader> reader);
    const VectorReader* reader() const { return reader_.get(); }
    // A refine code (quant/refine.h) of every slot, over a PQ walk code: re-ranks then score
    // (and, with the vectors on disk, read) only the candidates whose lower bound can still
    // enter the top k. Dropped by an add and by any change of codec. Null detaches.
    void attach_refine(std::unique_ptr<ResidualRefiner> refine);
    const ResidualRefiner* refiner() const { return refine_.get(); }
    // Restores the entry table a save exported (HnswState); FormatError when it does not fit.
    void set_entry_table(std::vector<slot_t> slots, std::vector<float> vectors, size_t built_at);
    // Builds into rows that the caller keeps alive (a writable mapping of a file, grown by the
    // caller and attached again): `rows` rows of dim floats. With copy, the current rows are
    // copied in first (switching from RAM); without, `data` already holds them (a remap).
    void use_external_vectors(float* data, size_t rows, bool copy);

    struct RerankCounters {
        uint64_t queries = 0, rows = 0;  // walks re-ranked exactly, and the rows they scored
    };
    RerankCounters rerank_counters() const;
    void reset_rerank_counters();
    // Whether walks re-rank only as deep as the codes' measured error needs (the default) or their
    // whole max(k, rerank): the full depth is what tests compare the bounded re-rank with.
    void set_bounded_rerank(bool on) { bounded_rerank_.store(on, std::memory_order_relaxed); }

    // Filtered queries by the plan that answered them. A walk that met fewer matches than
    // exist, or provably missed closer ones, is answered by the exact scan after it: those
    // fallbacks are counted apart, so a test can tell a walk that works from one the scan hides.
    struct PlanCounters {
        uint64_t scan = 0, acorn = 0, post = 0;  // queries per plan as chosen
        uint64_t acorn_rerouted = 0;             // acorn queries sent to the scan (anti-correlated)
        uint64_t acorn_fallback = 0, post_fallback = 0;  // walks whose answer the scan replaced
        uint64_t codes = 0;                              // queries answered by the codes plan
    };
    PlanCounters plan_counters() const;
    void reset_plan_counters();

    struct MemoryParts {
        size_t vectors = 0, graph = 0, codes = 0, ids = 0;
        bool vectors_mapped = false;  // the vectors are a file's pages (mmap), not allocated RAM
    };
    MemoryParts memory_parts() const;

    // Persistence. `fn` receives a state view that stays valid while it runs (shared lock held).
    template <class Fn>
    void with_state(Fn&& fn) const {
        std::shared_lock<std::shared_mutex> lock(rw_);
        std::vector<uint32_t> upper = flatten_upper();
        fn(state_view(upper));
    }
    // Builds an index from a saved state, validating every count and link before trusting it
    // (throws FormatError). borrow_vectors keeps state.vectors as the store (an mmap).
    static std::unique_ptr<Hnsw> restore(const HnswParams& params, const HnswState& state, bool borrow_vectors);

    size_t memory_bytes() const;

private:
    size_t max_links(int level) const { return level == 0 ? row0_ - 1 : params_.M; }
    const slot_t* links(slot_t s, int level) const {
        return level == 0 ? &links0_[size_t(s) * row0_] : &upper_[s][size_t(level - 1) * (params_.M + 1)];
    }
    slot_t* links_mut(slot_t s, int level) { return const_cast<slot_t*>(links(s, level)); }
    std::mutex& link_lock(slot_t s) const { return link_locks_[s & (kLockStripes - 1)]; }

    void reserve(size_t capacity);
    // The capacity an add of `fresh` new slots grows to: half again, within external rows.
    size_t grown_capacity(size_t fresh) const;
    int draw_level(slot_t slot) const;
    void init_slot(slot_t slot, int level);
    // Links a slot whose vector (and code, with codes attached) is stored (graph/hnsw_insert.cpp).
    void insert(slot_t slot, size_t visited_size);

    // Insertion helpers (lock link rows while reading them), over the scorer of the new vector.
    template <class Scorer>
    void insert_with(const Scorer& score, slot_t slot, size_t visited_size);
    template <class Scorer>
    slot_t greedy_build(const Scorer& score, slot_t ep, float& ep_dist, int from_level, int to_level) const;
    template <class Scorer>
    void search_layer_build(const Scorer& score, slot_t ep, float ep_dist, int level, size_t ef, BeamPool& pool,
                            VisitedList& visited) const;
    void select_neighbors(std::vector<Neighbor>& cands, size_t m) const;
    void compress_acorn(std::vector<Neighbor>& cands, VisitedList& linked) const;
    void connect(slot_t slot, int level, const std::vector<Neighbor>& selected);

    // Query helpers (no locks: writers are excluded by rw_).
    // Runs fn(scorer) with this query's scorer: exact, or the codec's (query prepared in scratch).
    template <class Fn>
    // int8: SQ8 codes may be scored against an 8-bit form of the query (its rounding moves only
    // the walk, so callers pass rerank > 0: with rerank = 0 the code distances are the answer).
    void with_scorer(const float* q, const Fn& fn, bool codes, bool int8) const;
    // The SQ8 codes' scorer of q (SQ8 codes attached), its int8 form prepared in this thread's
    // scratch; `error` bounds the re-rank (negative: the full depth). Walks and inserts share it.
    Sq8Scorer int8_scorer(const float* q, float error) const;
    // Walks, templates over ExactScorer / CodeScorer (graph/scorer.h).
    template <class Scorer>
    slot_t greedy_query(const Scorer& score, float& dist) const;
    // Where a walk starts: the entry table's nearest node, or the descent's end.
    template <class Scorer>
    slot_t walk_start(const Scorer& score, float& dist) const;
    // The same, calling visit(slot, dist) for every node whose distance it computes.
    template <class Scorer, class Visit>
    slot_t greedy_query(const Scorer& score, float& dist, const Visit& visit) const;
    template <class Scorer>
    size_t gather_unvisited(const Scorer& score, slot_t u, VisitedList& visited, slot_t* fresh) const;
    template <class Scorer, class Seen>
    void walk_level0(const Scorer& score, slot_t ep, float ep_dist, size_t ef, const Seen& seen) const;
    template <class Scorer, class Accept>
    void walk_collect(const Scorer& score, slot_t ep, float ep_dist, size_t ef, const Accept& accept) const;
    template <class Scorer>
    size_t walk_acorn(const Scorer& score, slot_t ep, const std::vector<Neighbor>& seeds, size_t ef,
                      const SlotBitmap& bitmap) const;
    // Writes the best k of n walk candidates (ascending by the walk's distance): with an
    // approximate scorer, they are re-scored exactly first (rerank_exact, whose result *open gets
    // if given). Returns how many.
    template <class Scorer>
    size_t finish_candidates(const Scorer& score, const Neighbor* cands, size_t n, size_t k, size_t rerank,
                             external_id* out_ids, float* out_dists, bool* open = nullptr) const;
    double local_selectivity(slot_t u, const SlotBitmap& bitmap) const;
    template <class Scorer>
    bool walk_missed_matches(const Scorer& score, bool exact, const SlotBitmap& bitmap,
                             const external_id* found_ids, const float* found_dists, size_t found) const;
    void scan_block(const float* queries, const uint32_t* block, size_t nb, size_t k, const slot_t* slots,
                    size_t n_slots, external_id* out_ids, float* out_dists) const;
    // scan_block for a block narrower than half a kernel group: row by row, each row read once
    // and scored against every query of the block.
    void scan_block_rows(const float* queries, const uint32_t* block, size_t nb, size_t k, const slot_t* slots,
                         size_t n_slots, external_id* out_ids, float* out_dists) const;
    template <class Scorer>
    size_t scan_codes_filtered(const Scorer& score, size_t k, size_t ef, size_t rerank, const SlotBitmap& bitmap,
                               external_id* out_ids, float* out_dists) const;
    size_t scan_filtered(const float* q, size_t k, const SlotBitmap& bitmap, external_id* out_ids,
                         float* out_dists) const;
    // The codes plan (graph/hnsw_code_scan.cpp): queries block[0..nb) scan the SQ8 codes of
    // slots[0..n_slots), their best max(k, rerank) re-scored exactly.
    // Rows whose every match was scored exactly are reported as answered by the scan. `shared`: at
    // least kScanBlockMin queries of the batch use this filter, so it cannot be anti-correlated
    // with each of them, and the re-rank margin comes from the candidates' spread alone; a filter
    // of fewer queries gets codes_error() as its floor.
    void scan_codes_block(const float* queries, const uint32_t* block, size_t nb, size_t k, size_t rerank,
                          const slot_t* slots, size_t n_slots, bool shared, external_id* out_ids, float* out_dists,
                          Answered* out_answered) const;
    // How a code scan's query was answered: from its re-ranked candidates (approximate), with every
    // one of its n_slots matches scored exactly, or not yet (rescan: an exact scan must answer it).
    enum class CodeScanEnd { approximate, exact, rescan };
    // Writes the k best of a code scan's candidates (top, emptied) after re-scoring the first
    // `depth` exactly, and then those the observed estimate error says may still enter the top k;
    // writes nothing when every pooled candidate had to be re-scored (the pool was too shallow to
    // tell them apart): rescan.
    // `error`: a floor under the margin of the extension (codes_error(), or 0 to use only the
    // spread this query's re-scored candidates showed).
    CodeScanEnd finish_code_scan(const float* q, code_scan::Pool& top, size_t k, size_t depth, size_t n_slots,
                                 float error, external_id* out_ids, float* out_dists) const;
    // finish_code_scan for each query of block[0..nb) (tops[j] is block[j]'s pool), then one blocked
    // exact scan of slots[0..n_slots) for those it could not answer. out_answered (may be null)
    // gets codes for the approximate rows and scan for the exact ones.
    void finish_code_scans(const float* queries, const uint32_t* block, size_t nb, code_scan::Pool* tops, size_t k,
                           size_t depth, const slot_t* slots, size_t n_slots, float error, external_id* out_ids,
                           float* out_dists, Answered* out_answered) const;
    // The largest deviation of the SQ8 int8 estimate from the exact distance (less each query's
    // mean deviation, the bias the re-rank measures) over pairs of sampled vectors: how far apart
    // two estimates can be and still rank the other way. Measured on first use after the codes
    // change (holding rw_ shared).
    float codes_error() const;
    template <class Scorer>
    Answered search_one_filtered(const Scorer& score, size_t k, size_t ef, size_t rerank, const SlotBitmap& bitmap,
                                 size_t matches, FilterPlan plan, external_id* out_ids, float* out_dists) const;
    size_t scan_exact(const float* q, size_t k, external_id* out_ids, float* out_dists) const;
    // Writes the ids and distances of best[0..n) to the outputs; returns n.
    size_t write_answer(const Neighbor* best, size_t n, external_id* out_ids, float* out_dists) const;
    // Re-scores candidates from the float vectors (graph/hnsw_rerank.cpp), at most max(k, rerank)
    // rows: with a refine code, those of all n whose lower bound can still enter the top k; with
    // a measured code error (`error` >= 0, cands ascending by estimate), by rerank_bounded from
    // k + a few; otherwise the first max(k, rerank). Fills `exact` with what it scored.
    // Returns whether a bounded re-rank stopped at its ceiling with candidates still inside
    // the bound (the answer may lack closer ones); false otherwise.
    bool rerank_exact(const float* q, const Neighbor* cands, size_t n, size_t k, size_t rerank, float error,
                      std::vector<Neighbor>& exact) const;
    // Re-scores cands[0..first) (ascending by estimate) into `exact`, then, a batch at a time,
    // each next one whose estimate less the codes' bias and margin (half the largest deviation
    // from the bias among the first, never under `error`) is within the k-th exact distance so
    // far; never past `most`. `exact` ends unordered. Returns the candidates it consumed; *open
    // (may be null) says whether it stopped at `most` while the next candidate, or the end of
    // the candidates, was still inside the bound.
    size_t rerank_bounded(const float* q, const Neighbor* cands, size_t n, size_t k, size_t first, size_t most,
                          float error, std::vector<Neighbor>& exact, bool* open = nullptr) const;
    // Exact distances of m rows, read in one batch from disk or from RAM.
    void score_rows(const float* q, const slot_t* slots, size_t m, Neighbor* out) const;
    // The walk over neighbour codes (graph/hnsw_fast_walk.cpp); returns how many it found.
    // Every node it expands is scored exactly: no re-rank.
    size_t walk_neighbour_codes(const float* q, size_t k, size_t ef, external_id* out_ids, float* out_dists) const;
    // Re-packs the neighbour-code blocks of every slot whose level-0 row an add changed (all of
    // them when it reused slots: their old codes sit in other blocks).
    void refresh_neighbour_codes(bool all, size_t threads);
    // The SQ8 code norms of slots [begin, end) (sq8_ and l2 only).
    void set_code_norms(size_t begin, size_t end);
    bool sq8_norms() const { return sq8_ && params_.metric == Metric::l2; }
    // Slot s's walk neighbours: its level-0 links, then the nearest two-hop nodes up to the
    // block's width (cands is scratch).
    void walk_neighbours(slot_t s, std::vector<slot_t>& out, std::vector<Neighbor>& cands) const;
    // Chooses entries_ again once the live count has doubled (or shrunk by half) since.
    void choose_entries(bool force, size_t threads);
    template <class Scorer>
    void search_one(const Scorer& score, size_t k, size_t ef, size_t rerank, external_id* out_ids,
                    float* out_dists) const;

    std::vector<uint32_t> flatten_upper() const;
    HnswState state_view(const std::vector<uint32_t>& upper) const;
    void check_ids_absent(const external_id* ids, size_t n) const;

    static constexpr size_t kLockStripes = 1 << 14;

    HnswParams params_;
    size_t row0_;  // 1 + 2M
    double level_mult_;
    FlatStore store_;
    std::unique_ptr<Codec> codec_;  // null: float32 storage only
    std::shared_ptr<const VectorReader> reader_;  // null: re-rank from store_
    std::unique_ptr<ResidualRefiner> refine_;     // null: re-rank the walk's first candidates
    mutable std::atomic<uint64_t> reranked_queries_{0}, reranked_rows_{0};
    std::atomic<bool> bounded_rerank_{true};
    // Indexed by FilterPlan, then rerouted, acorn fallback, post fallback (see PlanCounters).
    mutable std::array<std::atomic<uint64_t>, 7> plan_counts_{};
    HugeVector<uint8_t> codes_;  // [capacity, codec_->code_size()]
    const SQ8Codec* sq8_ = nullptr;    // codec_ when it is SQ8: walks score it with an int8 query
    mutable std::mutex codes_error_mutex_;
    mutable std::atomic<float> codes_error_{-1.0f};  // codes_error(); negative until measured
    HugeVector<float> code_norms_;     // with sq8_ and l2: each slot's SQ8Codec::code_norm
    std::unique_ptr<AxisCodes> axis_codes_;  // null: the codes plan scans the SQ8 codes alone
    std::unique_ptr<NeighbourCodes> ncodes_;  // null: walks score one neighbour at a time
    std::vector<uint8_t> links_dirty_;        // with ncodes_: level-0 rows changed by this add
    EntryTable entries_;                      // where unfiltered walks start (empty: descend)
    size_t entries_built_at_ = 0;             // live nodes when entries_ was chosen
    HugeVector<slot_t> links0_;
    std::vector<std::unique_ptr<slot_t[]>> upper_;
    std::vector<int32_t> levels_;
    std::vector<external_id> ids_;
    std::vector<uint8_t> deleted_;
    IdMap id_to_slot_;
    std::vector<slot_t> free_slots_;
    size_t count_ = 0;
    size_t n_deleted_ = 0;
    size_t capacity_ = 0;  // of the graph arrays (an external store may hold more rows)
    external_id next_auto_id_ = 0;
    slot_t entry_point_ = kNoSlot;
    int max_level_ = -1;
    uint64_t epoch_ = 0;  // bumped by every add and delete

    mutable std::shared_mutex rw_;
    // The live slots as bitmap words, rebuilt by the first filter evaluation after a mutation
    // (keyed by epoch_ and count_), not on every call: building it reads every slot, which
    // costs more than evaluating a small batch's filters.
    mutable std::mutex live_mutex_;
    mutable std::shared_ptr<const std::vector<uint64_t>> live_words_;
    mutable uint64_t live_epoch_ = 0;
    mutable size_t live_count_ = 0;
    std::shared_ptr<const std::vector<uint64_t>> live_bitmap(size_t n_words) const;  // holding rw_
    std::mutex entry_mutex_;
    std::unique_ptr<std::mutex[]> link_locks_;
};

}  // namespace vecsearch
