#include "state/memory_hierarchy.hpp"

#include <algorithm>
#include <set>

#include "state/state_error.hpp"

namespace lmthing::state {

using json = lmthing::Json;

namespace {

std::size_t size_field(const json& config, const char* key, std::size_t fallback, std::size_t min, std::size_t max, const std::string& memory) {
  if (!config.contains(key)) return fallback;
  const json& v = config[key];
  if (!v.is_number_integer() || v.get<long long>() < static_cast<long long>(min) || v.get<long long>() > static_cast<long long>(max))
    throw StateError(error_code::kInvalidConfig, "memory \"" + memory + "\": '" + key + "' must be an integer from " + std::to_string(min) + " to " +
                                                     std::to_string(max) + ", got " + v.dump());
  return v.get<std::size_t>();
}

}  // namespace

HierarchyConfig HierarchyConfig::parse(const json& config, const std::string& memory_name) {
  HierarchyConfig out;
  out.chunk_size = size_field(config, "chunkSize", out.chunk_size, 2, 1000, memory_name);
  out.levels = size_field(config, "levels", out.levels, 2, 10, memory_name);
  return out;
}

MemoryHierarchy::MemoryHierarchy(std::string name, HierarchyConfig config) : name_(std::move(name)), config_(config), open_(config.levels) {}

const HierarchyNode& MemoryHierarchy::node(const std::string& id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw StateError(error_code::kUnknownId, "memory \"" + name_ + "\": no memory with id \"" + id + "\"");
  return it->second;
}

std::vector<std::string> MemoryHierarchy::roots() const {
  std::vector<std::string> out;
  for (const auto& level : open_) out.insert(out.end(), level.begin(), level.end());
  return out;
}

void MemoryHierarchy::commit(const std::vector<std::string>& new_items, const std::vector<PlannedSummary>& summaries) {
  for (const auto& id : new_items)
    if (nodes_.emplace(id, HierarchyNode{}).second) open_[0].push_back(id);
  for (const PlannedSummary& s : summaries) {
    auto& open = open_[s.level - 1];
    for (const auto& child : s.children) {
      nodes_.at(child).parent = s.id;
      open.erase(std::find(open.begin(), open.end(), child));
    }
    nodes_[s.id] = HierarchyNode{s.level, "", s.children};
    open_[s.level].push_back(s.id);
  }
}

void MemoryHierarchy::remove(const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (node(id).level != 0)
      throw StateError(error_code::kUnknownId, "memory \"" + name_ + "\": \"" + id +
                                                   "\" is a summary; only stored items (level 0) can be deleted (clear() removes everything)");
  for (const auto& id : ids) {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) continue;  // given twice
    if (!it->second.parent.empty()) {
      auto& siblings = nodes_.at(it->second.parent).children;
      siblings.erase(std::remove(siblings.begin(), siblings.end(), id), siblings.end());
    } else {
      open_[0].erase(std::remove(open_[0].begin(), open_[0].end(), id), open_[0].end());
    }
    nodes_.erase(it);
  }
}

void MemoryHierarchy::clear() {
  nodes_.clear();
  open_.assign(config_.levels, {});
}

json MemoryHierarchy::to_json() const {
  json nodes = json::object();
  for (const auto& [id, n] : nodes_) nodes[id] = json{{"level", n.level}, {"parent", n.parent}, {"children", n.children}};
  return json{{"chunkSize", config_.chunk_size}, {"levels", config_.levels}, {"open", open_}, {"nodes", std::move(nodes)}};
}

MemoryHierarchy MemoryHierarchy::from_json(std::string name, HierarchyConfig config, const json& record) {
  auto corrupt = [&](const std::string& problem) -> StateError {
    return StateError(error_code::kCorruptData, "memory \"" + name + "\": the saved hierarchy " + problem);
  };
  if (!record.is_object() || !record.contains("nodes") || !record["nodes"].is_object() || !record.contains("open") || !record["open"].is_array())
    throw corrupt("is not one ({chunkSize, levels, open, nodes})");
  if (record.value("chunkSize", std::size_t{0}) != config.chunk_size || record.value("levels", std::size_t{0}) != config.levels)
    throw StateError(error_code::kInvalidConfig,
                     "memory \"" + name + "\": the saved hierarchy has chunkSize " + record.value("chunkSize", json()).dump() + " and levels " +
                         record.value("levels", json()).dump() + ", the definition says " + std::to_string(config.chunk_size) + " and " +
                         std::to_string(config.levels) + " (clear it or use another name)");
  MemoryHierarchy out(std::move(name), config);
  try {
    for (const auto& [id, n] : record["nodes"].items()) {
      HierarchyNode node{n.at("level").get<std::size_t>(), n.at("parent").get<std::string>(), n.at("children").get<std::vector<std::string>>()};
      if (node.level >= config.levels) throw corrupt("has a node above its top level");
      out.nodes_.emplace(id, std::move(node));
    }
    if (record["open"].size() != config.levels) throw corrupt("has another number of levels");
    for (std::size_t level = 0; level < config.levels; ++level) out.open_[level] = record["open"][level].get<std::vector<std::string>>();
  } catch (const json::exception&) {
    throw corrupt("has a node of the wrong shape");
  }
  // Every link must point at a node one level away, and every parentless node be open exactly once.
  std::set<std::string> open;
  for (std::size_t level = 0; level < config.levels; ++level)
    for (const auto& id : out.open_[level]) {
      auto it = out.nodes_.find(id);
      if (it == out.nodes_.end() || it->second.level != level || !it->second.parent.empty() || !open.insert(id).second)
        throw corrupt("lists \"" + id + "\" as a root wrongly");
    }
  for (const auto& [id, n] : out.nodes_) {
    if (n.parent.empty() && !open.count(id)) throw corrupt("has \"" + id + "\" without a parent and not a root");
    if (!n.parent.empty()) {
      auto p = out.nodes_.find(n.parent);
      if (p == out.nodes_.end() || p->second.level != n.level + 1 ||
          std::find(p->second.children.begin(), p->second.children.end(), id) == p->second.children.end())
        throw corrupt("links \"" + id + "\" to a parent that does not hold it");
    }
    for (const auto& child : n.children) {
      auto c = out.nodes_.find(child);
      if (c == out.nodes_.end() || c->second.parent != id) throw corrupt("links \"" + id + "\" to a child that is not its own");
    }
  }
  return out;
}

}  // namespace lmthing::state
