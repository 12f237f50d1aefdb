// The entities and relations of a `graph` memory (docs/memory.md, "Graph memories"): named
// entities with a type, a description and JSON metadata, and directed relations
// (from, relation, to) between them, with adjacency both ways for neighbourhood walks.
//   * add() checks a whole batch first — non-empty names, no entity twice, every relation's ends
//     known (held or in the batch) — and only then applies it (no half-applied batch);
//   * removing an entity removes every relation touching it;
//   * neighborhood() walks breadth-first up to `depth` hops from start entities, optionally
//     following only some relation names and one direction;
//   * to_json()/from_json() save and restore it (the entity vectors live in the memory's HNSW index).
// The vectors are not here: the memory keeps them in its VectorMemory under the entity names.
// Errors are StateError naming the memory.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::state {

struct Entity {
  std::string name;
  std::string type;         // empty: none
  std::string description;  // empty: none
  lmthing::Json metadata = lmthing::Json::object();
};

struct Relation {
  std::string from;
  std::string relation;
  std::string to;
  lmthing::Json metadata = lmthing::Json::object();
};

enum class Direction { out, in, both };

struct WalkOptions {
  std::size_t depth = 1;
  std::optional<std::set<std::string>> relations;  // follow only these relation names
  Direction direction = Direction::both;
};

// The entities reached (start entities at depth 0, then breadth-first) and every relation walked.
struct Neighborhood {
  std::vector<std::pair<std::string, std::size_t>> entities;  // name, depth
  std::vector<Relation> relations;
};

class EntityGraph {
 public:
  explicit EntityGraph(std::string name);

  std::size_t size() const { return entities_.size(); }
  std::size_t relation_count() const { return relations_.size(); }
  bool contains(const std::string& name) const { return entities_.count(name) != 0; }
  // Throws UNKNOWN_ID.
  const Entity& entity(const std::string& name) const;

  // Throws what add() would throw for this batch, changing nothing.
  void check(const std::vector<Entity>& entities, const std::vector<Relation>& relations) const;
  // check(), then stores the entities (replacing held ones, keeping their relations) and the
  // relations (replacing the metadata of held ones). Returns how many relations it stored.
  std::size_t add(std::vector<Entity> entities, std::vector<Relation> relations);
  // Throws UNKNOWN_ID (removing none) unless every name is held.
  void remove(const std::vector<std::string>& names);
  void clear();

  // Starts must be held (UNKNOWN_ID otherwise).
  Neighborhood neighborhood(const std::vector<std::string>& starts, const WalkOptions& options) const;

  // The text an entity is embedded as: "name: description", or the name.
  static std::string embedding_text(const Entity& entity);

  lmthing::Json to_json() const;  // {entities: [{name, type?, description?, metadata}], relations: [...]}
  // Throws CORRUPT_DATA naming the memory when `saved` is not what to_json() gives.
  static EntityGraph from_json(std::string name, const lmthing::Json& saved);

  static lmthing::Json entity_json(const Entity& entity);
  static lmthing::Json relation_json(const Relation& relation);

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // from, relation, to
  [[noreturn]] void fail(const char* code, const std::string& problem) const;
  void link(const Key& key);

  std::string name_;
  std::map<std::string, Entity> entities_;
  std::map<Key, lmthing::Json> relations_;  // → metadata
  std::unordered_map<std::string, std::set<Key>> out_, in_;
};

}  // namespace lmthing::state
