// The tree of a `hierarchical` memory (docs/memory.md, "Hierarchical memories"): stored items at
// level 0, and summaries above them — every `chunk_size` nodes of a level that have no parent yet
// are summarized into one node of the next level, up to level `levels − 1` (whose nodes never get a
// parent). Nodes without a parent (the top level, and the newest nodes of each lower level that do
// not fill a chunk yet) are the roots a top-down search starts from.
//   * plan() says which chunks a batch of new items completes, level by level, without changing
//     anything: the caller makes the summaries (model calls), then commit()s the batch and its
//     summaries together, so a failed summary leaves the tree as it was;
//   * remove() takes level-0 items out (their summaries stay, covering fewer items);
//   * to_json()/from_json() save and restore it (the vectors live in the memory's HNSW index).
// Errors are StateError naming the memory.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::state {

struct HierarchyConfig {
  std::size_t chunk_size = 8;  // nodes folded into one summary of the next level (2–1000)
  std::size_t levels = 3;      // level 0 (items) up to levels − 1 (2–10)
  // Reads {chunkSize?, levels?}; throws StateError(INVALID_CONFIG) naming the memory and the field.
  static HierarchyConfig parse(const lmthing::Json& config, const std::string& memory_name);
};

struct HierarchyNode {
  std::size_t level = 0;
  std::string parent;  // empty: none yet (a root)
  std::vector<std::string> children;
};

// One summary a batch makes: its level and the nodes it folds, in order. A chunk's children may be
// summaries planned earlier in the same plan (their ids are the plan's `ids`).
struct PlannedSummary {
  std::string id;
  std::size_t level;
  std::vector<std::string> children;
};

class MemoryHierarchy {
 public:
  MemoryHierarchy(std::string name, HierarchyConfig config);

  const HierarchyConfig& config() const { return config_; }
  std::size_t size() const { return nodes_.size(); }
  bool contains(const std::string& id) const { return nodes_.count(id) != 0; }
  const HierarchyNode& node(const std::string& id) const;  // throws UNKNOWN_ID
  // Nodes without a parent, lowest level first, oldest first within a level.
  std::vector<std::string> roots() const;

  // The summaries storing `new_items` (ids not yet held; ids already held keep their place) would
  // make, lower levels first. `next_id` names them; it is called once per summary.
  template <class NextId>
  std::vector<PlannedSummary> plan(const std::vector<std::string>& new_items, NextId&& next_id) const {
    std::vector<std::vector<std::string>> open = open_;
    std::vector<PlannedSummary> out;
    for (const auto& id : new_items)
      if (!contains(id)) open[0].push_back(id);
    for (std::size_t level = 0; level + 1 < config_.levels; ++level)
      while (open[level].size() >= config_.chunk_size) {
        PlannedSummary s{next_id(), level + 1, {}};
        s.children.assign(open[level].begin(), open[level].begin() + static_cast<std::ptrdiff_t>(config_.chunk_size));
        open[level].erase(open[level].begin(), open[level].begin() + static_cast<std::ptrdiff_t>(config_.chunk_size));
        open[level + 1].push_back(s.id);
        out.push_back(std::move(s));
      }
    return out;
  }
  // Adds `new_items` at level 0 and `summaries` (a plan() of exactly these items) above them.
  void commit(const std::vector<std::string>& new_items, const std::vector<PlannedSummary>& summaries);
  // Removes level-0 items (all must be held and at level 0, else nothing is removed).
  void remove(const std::vector<std::string>& ids);
  void clear();

  lmthing::Json to_json() const;
  // Throws StateError(CORRUPT_DATA) for a record that is not a saved hierarchy.
  static MemoryHierarchy from_json(std::string name, HierarchyConfig config, const lmthing::Json& record);

 private:
  std::string name_;
  HierarchyConfig config_;
  std::map<std::string, HierarchyNode> nodes_;
  std::vector<std::vector<std::string>> open_;  // per level: nodes without a parent, oldest first
};

}  // namespace lmthing::state
