#include "state/entity_graph.hpp"

#include <deque>

#include "state/state_error.hpp"

namespace lmthing::state {

using json = lmthing::Json;

EntityGraph::EntityGraph(std::string name) : name_(std::move(name)) {}

void EntityGraph::fail(const char* code, const std::string& problem) const { throw StateError(code, "memory \"" + name_ + "\": " + problem); }

const Entity& EntityGraph::entity(const std::string& name) const {
  auto it = entities_.find(name);
  if (it == entities_.end()) fail(error_code::kUnknownId, "no entity named \"" + name + "\"");
  return it->second;
}

void EntityGraph::check(const std::vector<Entity>& entities, const std::vector<Relation>& relations) const {
  std::set<std::string> batch;
  for (std::size_t i = 0; i < entities.size(); ++i) {
    const std::string& name = entities[i].name;
    if (name.empty()) fail(error_code::kInvalidConfig, "entities[" + std::to_string(i) + "]: the name is empty (a non-empty string is expected)");
    if (!entities[i].metadata.is_object()) fail(error_code::kInvalidConfig, "entity \"" + name + "\": metadata must be a JSON object");
    if (!batch.insert(name).second) fail(error_code::kDuplicateId, "the entity \"" + name + "\" is twice in one batch");
  }
  for (std::size_t i = 0; i < relations.size(); ++i) {
    const Relation& r = relations[i];
    const std::string where = "relations[" + std::to_string(i) + "]";
    if (r.relation.empty()) fail(error_code::kInvalidConfig, where + ": the relation name is empty (a non-empty string is expected)");
    if (!r.metadata.is_object()) fail(error_code::kInvalidConfig, where + ": metadata must be a JSON object");
    for (const std::string* end : {&r.from, &r.to})
      if (!contains(*end) && batch.count(*end) == 0)
        fail(error_code::kUnknownEntity, where + " (" + r.from + " -" + r.relation + "-> " + r.to + "): no entity named \"" + *end +
                                             "\" in the memory or in this batch (store the entity first or with it)");
  }
}

void EntityGraph::link(const Key& key) {
  out_[std::get<0>(key)].insert(key);
  in_[std::get<2>(key)].insert(key);
}

std::size_t EntityGraph::add(std::vector<Entity> entities, std::vector<Relation> relations) {
  check(entities, relations);
  for (Entity& e : entities) {
    std::string name = e.name;
    entities_[name] = std::move(e);
  }
  for (Relation& r : relations) {
    Key key{r.from, r.relation, r.to};
    relations_[key] = std::move(r.metadata);
    link(key);
  }
  return relations.size();
}

void EntityGraph::remove(const std::vector<std::string>& names) {
  for (const auto& name : names)
    if (!contains(name)) fail(error_code::kUnknownId, "no entity named \"" + name + "\"");
  for (const auto& name : names) {
    std::set<Key> touching;
    if (auto it = out_.find(name); it != out_.end()) touching.insert(it->second.begin(), it->second.end());
    if (auto it = in_.find(name); it != in_.end()) touching.insert(it->second.begin(), it->second.end());
    for (const Key& key : touching) {
      relations_.erase(key);
      out_[std::get<0>(key)].erase(key);
      in_[std::get<2>(key)].erase(key);
    }
    out_.erase(name);
    in_.erase(name);
    entities_.erase(name);
  }
}

void EntityGraph::clear() {
  entities_.clear();
  relations_.clear();
  out_.clear();
  in_.clear();
}

Neighborhood EntityGraph::neighborhood(const std::vector<std::string>& starts, const WalkOptions& options) const {
  Neighborhood out;
  std::set<std::string> seen;
  std::set<Key> walked;
  std::deque<std::pair<std::string, std::size_t>> queue;
  for (const auto& start : starts) {
    entity(start);  // UNKNOWN_ID
    if (seen.insert(start).second) {
      out.entities.emplace_back(start, 0);
      queue.emplace_back(start, 0);
    }
  }
  auto follow = [&](const Key& key, const std::string& other, std::size_t depth) {
    if (options.relations && options.relations->count(std::get<1>(key)) == 0) return;
    if (walked.insert(key).second) out.relations.push_back(Relation{std::get<0>(key), std::get<1>(key), std::get<2>(key), relations_.at(key)});
    if (seen.insert(other).second) {
      out.entities.emplace_back(other, depth);
      queue.emplace_back(other, depth);
    }
  };
  while (!queue.empty()) {
    auto [name, depth] = queue.front();
    queue.pop_front();
    if (depth >= options.depth) continue;
    if (options.direction != Direction::in)
      if (auto it = out_.find(name); it != out_.end())
        for (const Key& key : it->second) follow(key, std::get<2>(key), depth + 1);
    if (options.direction != Direction::out)
      if (auto it = in_.find(name); it != in_.end())
        for (const Key& key : it->second) follow(key, std::get<0>(key), depth + 1);
  }
  return out;
}

std::string EntityGraph::embedding_text(const Entity& entity) {
  return entity.description.empty() ? entity.name : entity.name + ": " + entity.description;
}

json EntityGraph::entity_json(const Entity& e) {
  json out{{"name", e.name}, {"metadata", e.metadata}};
  out["type"] = e.type.empty() ? json() : json(e.type);
  out["description"] = e.description.empty() ? json() : json(e.description);
  return out;
}

json EntityGraph::relation_json(const Relation& r) {
  return json{{"from", r.from}, {"relation", r.relation}, {"to", r.to}, {"metadata", r.metadata}};
}

json EntityGraph::to_json() const {
  json entities = json::array();
  for (const auto& [name, e] : entities_) entities.push_back(entity_json(e));
  json relations = json::array();
  for (const auto& [key, metadata] : relations_)
    relations.push_back(relation_json(Relation{std::get<0>(key), std::get<1>(key), std::get<2>(key), metadata}));
  return json{{"entities", std::move(entities)}, {"relations", std::move(relations)}};
}

EntityGraph EntityGraph::from_json(std::string name, const json& saved) {
  EntityGraph graph(std::move(name));
  auto corrupt = [&](const std::string& problem) { graph.fail(error_code::kCorruptData, "the saved graph " + problem); };
  if (!saved.is_object() || !saved.contains("entities") || !saved["entities"].is_array() || !saved.contains("relations") ||
      !saved["relations"].is_array())
    corrupt("is not {entities: [...], relations: [...]}");
  auto text = [&](const json& o, const char* key, bool required) -> std::string {
    if (!o.contains(key) || o[key].is_null()) {
      if (required) corrupt(std::string("has an item without \"") + key + "\"");
      return "";
    }
    if (!o[key].is_string()) corrupt(std::string("has a non-string \"") + key + "\"");
    return o[key].get<std::string>();
  };
  auto metadata = [&](const json& o) {
    json m = o.value("metadata", json::object());
    if (!m.is_object()) corrupt("has metadata that is not an object");
    return m;
  };
  std::vector<Entity> entities;
  for (const json& e : saved["entities"]) {
    if (!e.is_object()) corrupt("has an entity that is not an object");
    entities.push_back(Entity{text(e, "name", true), text(e, "type", false), text(e, "description", false), metadata(e)});
  }
  std::vector<Relation> relations;
  for (const json& r : saved["relations"]) {
    if (!r.is_object()) corrupt("has a relation that is not an object");
    relations.push_back(Relation{text(r, "from", true), text(r, "relation", true), text(r, "to", true), metadata(r)});
  }
  try {
    graph.add(std::move(entities), std::move(relations));
  } catch (const StateError& e) {
    corrupt(std::string("is inconsistent (") + e.what() + ")");
  }
  return graph;
}

}  // namespace lmthing::state
