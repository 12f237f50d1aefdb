#include "state/vector_memory.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "state/state_error.hpp"

namespace lmthing::state {

using json = lmthing::Json;

namespace {

constexpr std::uint32_t kMagic = 0x4d544d4c;  // "LMTM"
constexpr std::uint32_t kFormat = 1;

std::string memory_label(const std::string& name) { return "memory \"" + name + "\""; }

// An integer field in [low, high], or `fallback` when absent.
std::uint64_t integer_field(const json& config, const char* field, std::uint64_t fallback, std::uint64_t low, std::uint64_t high,
                            const std::string& where, bool required = false) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) {
    if (required)
      throw StateError(error_code::kInvalidConfig,
                       where + ": \"" + field + "\" is required (an integer from " + std::to_string(low) + " to " + std::to_string(high) + ")");
    return fallback;
  }
  const bool integral =
      it->is_number_unsigned() || (it->is_number_integer() && it->get<std::int64_t>() >= 0) ||
      (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>() && it->get<double>() >= 0 && it->get<double>() < 1.8e19);
  const std::uint64_t value = !integral ? 0 : (it->is_number_float() ? static_cast<std::uint64_t>(it->get<double>()) : it->get<std::uint64_t>());
  if (!integral || value < low || value > high)
    throw StateError(error_code::kInvalidConfig, where + ": \"" + field + "\" must be an integer from " + std::to_string(low) + " to " +
                                                     std::to_string(high) + ", got " + it->dump());
  return value;
}

}  // namespace

VectorMemoryConfig VectorMemoryConfig::parse(const json& config, const std::string& memory_name) {
  const std::string where = memory_label(memory_name);
  if (!config.is_object()) throw StateError(error_code::kInvalidConfig, where + ": the config must be an object, got " + config.dump());
  VectorMemoryConfig c;
  c.dimensions = integer_field(config, "dimensions", 0, 1, 65536, where, true);
  if (auto it = config.find("metric"); it != config.end() && !it->is_null())
    if (!it->is_string() || !parse_metric(it->get<std::string>(), c.metric))
      throw StateError(error_code::kInvalidConfig, where + ": \"metric\" must be \"cosine\", \"dot\" or \"l2\", got " + it->dump());
  c.max_size = integer_field(config, "maxSize", 0, 0, 100000000, where);
  if (auto it = config.find("similarityThreshold"); it != config.end() && !it->is_null()) {
    if (!it->is_number() || !std::isfinite(it->get<double>()))
      throw StateError(error_code::kInvalidConfig, where + ": \"similarityThreshold\" must be a finite number, got " + it->dump());
    c.similarity_threshold = it->get<double>();
    if (const std::string why = unreachable_threshold(c.metric, *c.similarity_threshold); !why.empty())
      throw StateError(error_code::kInvalidConfig, where + ": \"similarityThreshold\" " + it->dump() + ": " + why);
  }
  c.m = static_cast<std::uint32_t>(integer_field(config, "m", c.m, 2, 128, where));
  c.ef_construction = static_cast<std::uint32_t>(integer_field(config, "efConstruction", c.ef_construction, 1, 4096, where));
  c.ef_search = static_cast<std::uint32_t>(integer_field(config, "efSearch", c.ef_search, 1, 4096, where));
  c.seed = integer_field(config, "seed", c.seed, 0, UINT64_MAX, where);
  return c;
}

VectorMemory::VectorMemory(std::string name, VectorMemoryConfig config)
    : name_(std::move(name)), config_(config), graph_(HnswParams{config.dimensions, config.metric, config.m, config.ef_construction, config.seed}) {
  if (config_.dimensions == 0) fail(error_code::kInvalidConfig, "\"dimensions\" must be at least 1");
}

void VectorMemory::fail(const char* code, const std::string& problem) const { throw StateError(code, memory_label(name_) + ": " + problem); }

std::vector<float> VectorMemory::checked_vector(const std::vector<float>& v, const std::string& what) const {
  if (v.size() != config_.dimensions)
    fail(error_code::kDimensionMismatch, what + " has " + std::to_string(v.size()) + " dimensions, expected " + std::to_string(config_.dimensions));
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      fail(error_code::kNonFiniteVector,
           what + " has " + (std::isnan(v[i]) ? "NaN or an infinite value (JSON carries neither: they arrive as null)" : "an infinite value") +
               " at index " + std::to_string(i));
  std::vector<float> prepared;
  if (!graph_.prepare(v.data(), prepared)) fail(error_code::kZeroVector, what + " is all zeros, which has no direction for cosine similarity");
  return prepared;
}

std::vector<std::string> VectorMemory::insert(std::vector<MemoryItem> batch) {
  std::vector<std::vector<float>> prepared;
  prepared.reserve(batch.size());
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::string what = "item " + std::to_string(i) + " (id \"" + batch[i].id + "\")";
    if (batch[i].id.empty()) fail(error_code::kInvalidConfig, "item " + std::to_string(i) + " has an empty id");
    if (!seen.insert(batch[i].id).second) fail(error_code::kDuplicateId, what + " repeats an id of the same batch");
    if (!std::isfinite(batch[i].importance) || !std::isfinite(batch[i].created_at_ms))
      fail(error_code::kInvalidConfig, what + " needs a finite importance and creation time");
    prepared.push_back(checked_vector(batch[i].vector, what + ": the vector"));
  }
  std::vector<std::string> evicted;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    place(std::move(batch[i]), std::move(prepared[i]));
    while (config_.max_size && by_id_.size() > config_.max_size) {
      const std::uint32_t victim = std::get<3>(*eviction_.begin());
      evicted.push_back(records_[victim].id);
      erase_slot(victim);
    }
  }
  return evicted;
}

void VectorMemory::place(MemoryItem item, std::vector<float> prepared) {
  if (auto it = by_id_.find(item.id); it != by_id_.end()) erase_slot(it->second);
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    graph_.reuse(slot, prepared.data());
  } else {
    slot = graph_.add(prepared.data());
    records_.resize(graph_.slot_count());
  }
  Record& r = records_[slot];
  r = Record{std::move(item.id), std::move(item.metadata), item.importance, item.created_at_ms, ++sequence_, true};
  by_id_.emplace(r.id, slot);
  eviction_.insert(key_of(r, slot));
}

void VectorMemory::erase_slot(std::uint32_t slot) {
  Record& r = records_[slot];
  eviction_.erase(key_of(r, slot));
  by_id_.erase(r.id);
  graph_.remove(slot);
  r = Record{};
  free_slots_.push_back(slot);
}

void VectorMemory::remove(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) fail(error_code::kUnknownId, "no memory with id \"" + id + "\" (" + std::to_string(by_id_.size()) + " stored)");
  erase_slot(it->second);
}

void VectorMemory::clear() {
  graph_.clear();
  records_.clear();
  by_id_.clear();
  free_slots_.clear();
  eviction_.clear();
}

MemoryItem VectorMemory::get(const std::string& id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) fail(error_code::kUnknownId, "no memory with id \"" + id + "\" (" + std::to_string(by_id_.size()) + " stored)");
  const Record& r = records_[it->second];
  const float* v = graph_.vector(it->second);
  return MemoryItem{r.id, std::vector<float>(v, v + config_.dimensions), r.metadata, r.importance, r.created_at_ms};
}

std::vector<SearchHit> VectorMemory::search(const std::vector<float>& query, const SearchOptions& options) const {
  const std::vector<float> q = checked_vector(query, "the query vector");
  std::function<bool(std::uint32_t)> accept;
  if (!options.filter.matches_everything() || !options.created.unbounded())
    accept = [&](std::uint32_t slot) {
      const Record& r = records_[slot];
      return options.created.contains(r.created_at_ms) && options.filter.matches(r.metadata);
    };
  const std::size_t ef = options.ef ? options.ef : config_.ef_search;
  const std::vector<Neighbor> found =
      options.exact ? graph_.exact_search(q.data(), options.limit, accept) : graph_.search(q.data(), options.limit, ef, accept);
  const std::optional<double> threshold = options.threshold ? options.threshold : config_.similarity_threshold;
  std::vector<SearchHit> hits;
  hits.reserve(found.size());
  for (const Neighbor& n : found) {
    const double score = similarity_of(config_.metric, n.distance);
    if (threshold && score < *threshold) continue;
    const Record& r = records_[n.slot];
    hits.push_back(SearchHit{r.id, score, n.distance, &r.metadata, r.importance, r.created_at_ms});
  }
  return hits;
}

std::size_t VectorMemory::memory_bytes() const {
  std::size_t bytes = graph_.memory_bytes() + records_.capacity() * sizeof(Record) + eviction_.size() * (sizeof(EvictionKey) + 32);
  for (const auto& [id, slot] : by_id_) bytes += id.capacity() + sizeof(slot) + 32;
  return bytes;
}

std::string VectorMemory::save() const {
  ByteWriter out;
  out.put(kMagic);
  out.put(kFormat);
  out.put<std::uint64_t>(config_.max_size);
  out.put<std::uint8_t>(config_.similarity_threshold.has_value());
  out.put<double>(config_.similarity_threshold.value_or(0));
  out.put(config_.ef_search);
  out.put(sequence_);
  graph_.save(out);
  for (const Record& r : records_) {
    out.put<std::uint8_t>(r.present);
    if (!r.present) continue;
    out.put_string(r.id);
    out.put(r.importance);
    out.put(r.created_at_ms);
    out.put(r.sequence);
    const std::vector<std::uint8_t> cbor = json::to_cbor(r.metadata);
    out.put_string(std::string_view(reinterpret_cast<const char*>(cbor.data()), cbor.size()));
  }
  out.put<std::uint32_t>(static_cast<std::uint32_t>(free_slots_.size()));  // in reuse order, so a reloaded memory continues identically
  out.put_bytes(free_slots_.data(), free_slots_.size() * sizeof(std::uint32_t));
  return out.take();
}

VectorMemory VectorMemory::load(std::string name, std::string_view bytes) {
  ByteReader in(bytes, memory_label(name) + ": cannot load the saved memory");
  in.expect(in.get<std::uint32_t>() == kMagic, "not a saved vector memory (bad magic)");
  const auto format = in.get<std::uint32_t>();
  in.expect(format == kFormat, "format " + std::to_string(format) + " is not supported (expected " + std::to_string(kFormat) + ")");
  VectorMemoryConfig c;
  c.max_size = in.get<std::uint64_t>();
  const bool has_threshold = in.get<std::uint8_t>() != 0;
  const double threshold = in.get<double>();
  if (has_threshold) c.similarity_threshold = threshold;
  c.ef_search = in.get<std::uint32_t>();
  const auto sequence = in.get<std::uint64_t>();
  HnswGraph graph = HnswGraph::load(in);
  c.dimensions = graph.params().dimensions;
  c.metric = graph.params().metric;
  c.m = graph.params().m;
  c.ef_construction = graph.params().ef_construction;
  c.seed = graph.params().seed;
  VectorMemory memory(std::move(name), c);
  memory.graph_ = std::move(graph);
  memory.sequence_ = sequence;
  memory.records_.resize(memory.graph_.slot_count());
  for (std::uint32_t slot = 0; slot < memory.records_.size(); ++slot) {
    const bool present = in.get<std::uint8_t>() != 0;
    in.expect(present == memory.graph_.is_live(slot), "record " + std::to_string(slot) + " does not match the graph");
    if (!present) continue;
    Record& r = memory.records_[slot];
    r.present = true;
    r.id = in.get_string();
    r.importance = in.get<double>();
    r.created_at_ms = in.get<double>();
    r.sequence = in.get<std::uint64_t>();
    const std::string cbor = in.get_string();
    r.metadata = json::from_cbor(cbor, true, false);
    in.expect(!r.metadata.is_discarded(), "metadata of record " + std::to_string(slot) + " is not valid CBOR");
    in.expect(memory.by_id_.emplace(r.id, slot).second, "id \"" + r.id + "\" appears twice");
    memory.eviction_.insert(key_of(r, slot));
  }
  const auto free_count = in.get<std::uint32_t>();
  in.expect(free_count == memory.graph_.slot_count() - memory.graph_.live_count(), "the free slot list does not match the graph");
  memory.free_slots_.resize(free_count);
  in.get_bytes(memory.free_slots_.data(), free_count * sizeof(std::uint32_t));
  for (std::uint32_t slot : memory.free_slots_) in.expect(slot < memory.records_.size() && !memory.records_[slot].present, "bad free slot");
  in.expect(in.remaining() == 0, std::to_string(in.remaining()) + " unexpected bytes after the records");
  return memory;
}

}  // namespace lmthing::state
