// A `vector` memory: an HNSW index (hnsw.hpp) plus what a user stores beside each vector — a string
// id, JSON metadata, an importance and a creation time — with the rules of defMemory:
//   * every vector has exactly `dimensions` finite floats (cosine: not all zero), checked for a
//     whole batch before any of it is inserted (no half-inserted batch);
//   * storing an id that exists replaces that memory;
//   * beyond `maxSize` the memory with the lowest importance goes first, then the oldest;
//   * search takes a limit, a metadata filter (metadata_filter.hpp), a creation-time range and a
//     similarity threshold (default: the config's similarityThreshold);
//   * save() gives bytes that load() turns back into the same memory, graph included (nothing is
//     rebuilt), so a storage adapter can persist it.
// Errors are StateError with the memory's name in the message.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/json.hpp"

#include "state/hnsw.hpp"
#include "state/metadata_filter.hpp"
#include "state/temporal.hpp"

namespace lmthing::state {

struct VectorMemoryConfig {
  std::size_t dimensions = 0;
  Metric metric = Metric::cosine;
  std::size_t max_size = 0;  // 0 = unbounded
  std::optional<double> similarity_threshold;
  std::uint32_t m = 16;
  std::uint32_t ef_construction = 200;
  std::uint32_t ef_search = 100;
  std::uint64_t seed = 0x6c6d7468696e67ULL;

  // From the defMemory config {dimensions, metric?, maxSize?, similarityThreshold?, m?,
  // efConstruction?, efSearch?, seed?}; other fields (embeddingModel, scope, …) are the caller's.
  // Throws StateError(INVALID_CONFIG) naming the memory and the field.
  static VectorMemoryConfig parse(const lmthing::Json& config, const std::string& memory_name);
};

struct MemoryItem {
  std::string id;
  std::vector<float> vector;
  lmthing::Json metadata = lmthing::Json::object();
  double importance = 0;
  double created_at_ms = 0;
};

struct SearchOptions {
  std::size_t limit = 10;
  std::optional<double> threshold;  // overrides the config's similarity_threshold
  MetadataFilter filter;
  TimeRange created;
  std::size_t ef = 0;  // 0 = the config's ef_search
  bool exact = false;  // scan every memory instead of walking the graph
};

struct SearchHit {
  std::string id;
  double score;                   // similarity_of(metric, distance): larger is more similar
  float distance;                 // the index's distance
  const lmthing::Json* metadata;  // valid until the memory changes
  double importance;
  double created_at_ms;
};

class VectorMemory {
 public:
  VectorMemory(std::string name, VectorMemoryConfig config);

  const std::string& name() const { return name_; }
  const VectorMemoryConfig& config() const { return config_; }
  std::size_t size() const { return by_id_.size(); }
  bool contains(const std::string& id) const { return by_id_.count(id) != 0; }

  // Validates the whole batch, then stores it in order. Returns the ids evicted to respect
  // max_size (possibly ids of this batch, when they rank lowest).
  std::vector<std::string> insert(std::vector<MemoryItem> batch);
  // Throws StateError(UNKNOWN_ID) when `id` is not stored.
  void remove(const std::string& id);
  void clear();

  // The stored vector (unit length for cosine) and record of `id`; throws UNKNOWN_ID.
  MemoryItem get(const std::string& id) const;

  // Best first. Throws for a query of the wrong length, non-finite or (cosine) zero.
  std::vector<SearchHit> search(const std::vector<float>& query, const SearchOptions& options) const;

  std::string save() const;
  // Throws StateError(CORRUPT_DATA) naming the memory when `bytes` is not a saved memory.
  static VectorMemory load(std::string name, std::string_view bytes);

  std::size_t memory_bytes() const;
  const HnswGraph& graph() const { return graph_; }

 private:
  struct Record {
    std::string id;
    lmthing::Json metadata;
    double importance = 0;
    double created_at_ms = 0;
    std::uint64_t sequence = 0;
    bool present = false;
  };
  // Eviction order: lowest importance, then oldest, then first stored.
  using EvictionKey = std::tuple<double, double, std::uint64_t, std::uint32_t>;
  static EvictionKey key_of(const Record& r, std::uint32_t slot) { return {r.importance, r.created_at_ms, r.sequence, slot}; }

  std::vector<float> checked_vector(const std::vector<float>& v, const std::string& what) const;
  void place(MemoryItem item, std::vector<float> prepared);
  void erase_slot(std::uint32_t slot);
  [[noreturn]] void fail(const char* code, const std::string& problem) const;

  std::string name_;
  VectorMemoryConfig config_;
  HnswGraph graph_;
  std::vector<Record> records_;  // by slot
  std::unordered_map<std::string, std::uint32_t> by_id_;
  std::vector<std::uint32_t> free_slots_;
  std::set<EvictionKey> eviction_;
  std::uint64_t sequence_ = 0;
};

}  // namespace lmthing::state
