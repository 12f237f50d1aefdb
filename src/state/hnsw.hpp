// An HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs") over fixed-length float vectors stored in slots.
//
// One job: vectors in, nearest slots out. Ids, metadata, eviction and validation of user input live
// in VectorMemory (vector_memory.hpp); this class trusts its callers (finite vectors of the right
// length). Deleting tombstones a slot: it stays in the graph as a waypoint but is never returned,
// and `reuse` puts a new vector into it and reconnects it. Levels are drawn from a counter-based
// hash of the seed, so building the same inserts twice gives the same graph, and save/load
// restores it exactly (nothing is rebuilt).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "state/byte_io.hpp"
#include "state/vector_distance.hpp"

namespace lmthing::state {

struct HnswParams {
  std::size_t dimensions = 0;
  Metric metric = Metric::cosine;
  std::uint32_t m = 16;                 // links per node above layer 0 (2m on layer 0)
  std::uint32_t ef_construction = 200;  // candidate list size while inserting
  std::uint64_t seed = 0x6c6d7468696e67ULL;
};

struct Neighbor {
  float distance;  // metric_distance(): smaller is closer
  std::uint32_t slot;
};

class HnswGraph {
 public:
  explicit HnswGraph(HnswParams params);

  const HnswParams& params() const { return params_; }
  std::size_t slot_count() const { return levels_.size(); }
  std::size_t live_count() const { return live_; }
  bool is_live(std::uint32_t slot) const { return slot < levels_.size() && !deleted_[slot]; }
  // The stored vector (unit length for cosine).
  const float* vector(std::uint32_t slot) const { return data_.data() + static_cast<std::size_t>(slot) * params_.dimensions; }

  // Inserts `v` (params().dimensions floats) into a new slot and returns it.
  std::uint32_t add(const float* v);
  // Puts `v` into a deleted slot and reconnects it (edges into the slot from elsewhere stay and
  // now lead to the new vector: still valid waypoints, as in hnswlib's replace-deleted mode).
  void reuse(std::uint32_t slot, const float* v);
  // Tombstones a live slot.
  void remove(std::uint32_t slot);
  // Drops every slot.
  void clear();

  // The k nearest live slots accepted by `accept` (all when empty), closest first. `ef` >= k is the
  // breadth of the search on layer 0: larger finds more of the true neighbours and costs more.
  std::vector<Neighbor> search(const float* query, std::size_t k, std::size_t ef, const std::function<bool(std::uint32_t)>& accept = {}) const;
  // The same by scanning every slot (exact; for tests, recall measurements and tiny memories).
  std::vector<Neighbor> exact_search(const float* query, std::size_t k, const std::function<bool(std::uint32_t)>& accept = {}) const;

  // Copies `v` into `out`, normalized for cosine. False when cosine and `v` has zero length.
  bool prepare(const float* v, std::vector<float>& out) const;

  void save(ByteWriter& out) const;
  static HnswGraph load(ByteReader& in);

  // Approximate heap bytes held (vectors, links, bookkeeping).
  std::size_t memory_bytes() const;

 private:
  int draw_level();
  float distance_to(const float* q, std::uint32_t slot) const { return metric_distance(params_.metric, q, vector(slot), params_.dimensions); }
  std::uint32_t* links(std::uint32_t slot, int level);  // [count, ids...]
  const std::uint32_t* links(std::uint32_t slot, int level) const;
  std::uint32_t max_links(int level) const { return level == 0 ? 2 * params_.m : params_.m; }
  std::uint32_t greedy_descend(const float* q, std::uint32_t entry, int from_level, int to_level) const;
  // The ef closest slots reachable on `level` from `entry`; with `only_live`, only live slots that
  // `accept` (when set) takes are returned, the others are still walked through.
  std::vector<Neighbor> search_layer(const float* q, std::uint32_t entry, std::size_t ef, int level, bool only_live,
                                     const std::function<bool(std::uint32_t)>* accept) const;
  std::vector<Neighbor> select_neighbors(std::vector<Neighbor> candidates, std::size_t limit) const;
  void connect(std::uint32_t slot, int top_level);
  void link_back(std::uint32_t from, std::uint32_t to, float distance, int level);

  HnswParams params_;
  double level_scale_;                             // 1 / ln(m)
  std::uint64_t draws_ = 0;                        // levels drawn so far (the level generator's whole state)
  std::vector<float> data_;                        // slot-major vectors
  std::vector<std::uint8_t> levels_;               // top level of each slot
  std::vector<std::uint8_t> deleted_;              // tombstones
  std::vector<std::uint32_t> layer0_;              // per slot: count + 2m ids
  std::vector<std::vector<std::uint32_t>> upper_;  // per slot: for levels 1..top, count + m ids each
  std::size_t live_ = 0;
  std::uint32_t entry_ = 0;
  int top_level_ = -1;                          // -1 while empty
  mutable std::vector<std::uint32_t> visited_;  // search scratch: epoch marks per slot
  mutable std::uint32_t epoch_ = 0;
};

}  // namespace lmthing::state
