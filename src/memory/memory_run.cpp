#include "memory/memory_run.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "memory/embed.hpp"
#include "memory/memory_store.hpp"
#include "memory/tokenizers.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory {

using protocol::ProtocolError;

namespace {

const std::vector<std::string> kScopeFields = {"kind",    "host",  "parentRun", "path",   "definitions", "sessionId",
                                               "storage", "agent", "seed",      "action", "runModel"};

std::vector<std::string> with_scope(std::vector<std::string> fields) {
  fields.insert(fields.end(), kScopeFields.begin(), kScopeFields.end());
  return fields;
}

std::vector<float> vector_field(const json& v, const std::string& where) {
  if (!v.is_array()) throw ProtocolError(where + " must be an array of numbers");
  std::vector<float> out;
  out.reserve(v.size());
  for (const json& x : v) {
    // NaN cannot travel as JSON; ±Inf and NaN arrive as null from a host that serialized them.
    if (x.is_null()) {
      out.push_back(std::nanf(""));
      continue;
    }
    if (!x.is_number()) throw ProtocolError(where + " must be an array of numbers, found " + x.dump().substr(0, 40));
    out.push_back(x.get<float>());
  }
  return out;
}

Task<json> embed_run(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::string model, std::vector<std::string> values,
                     std::optional<int> dimensions) {
  Embeddings e = co_await embed(loop, run, *tree, std::move(model), std::move(values), dimensions, "ctx.embed");
  co_return json{{"embeddings", e.vectors}, {"usage", {{"tokens", e.tokens}}}};
}

// countTokens(model, messages | text): the same counter a defContext uses for that model.
Task<json> count_run(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::string model, json input) {
  const TokenCounter counter = co_await counter_for(loop, run, *tree, model);
  std::size_t tokens = 0;
  try {
    tokens = input.is_string() ? counter.count(input.get_ref<const std::string&>()) : state::count_messages_tokens(input, counter.count);
  } catch (const state::StateError& e) {
    throw OpFailed(protocol::WireError{"protocol", std::string("countTokens: ") + e.what(), json::object()});
  }
  co_return json{{"tokens", tokens}, {"exact", !counter.encoding.empty()}, {"encoding", counter.encoding.empty() ? json() : json(counter.encoding)}};
}

// {depth?, relation?, direction?} of a graph search or neighbors call.
state::WalkOptions walk_options(const protocol::FieldReader& fields) {
  state::WalkOptions walk;
  if (auto depth = fields.integer("depth", 0, 10)) walk.depth = static_cast<std::size_t>(*depth);
  if (fields.has("relation")) {
    const json& r = fields.at("relation");
    std::set<std::string> names;
    if (r.is_string() && !r.get_ref<const std::string&>().empty())
      names.insert(r.get<std::string>());
    else if (r.is_array() && !r.empty() &&
             std::all_of(r.begin(), r.end(), [](const json& x) { return x.is_string() && !x.get_ref<const std::string&>().empty(); }))
      for (const json& x : r) names.insert(x.get<std::string>());
    else
      fields.bad("relation", "a relation name or a non-empty array of them");
    walk.relations = std::move(names);
  }
  const std::string direction = fields.choice("direction", {"out", "in", "both"}).value_or("both");
  walk.direction = direction == "out" ? state::Direction::out : direction == "in" ? state::Direction::in : state::Direction::both;
  return walk;
}

// The metadata fields the memory reads itself: anything else there would be ignored, not used
// (an ISO date as `timestamp` would be the time of storing instead).
void check_special_metadata(const protocol::FieldReader& item, const json& metadata) {
  if (metadata.contains("importance") && !metadata["importance"].is_null() && !metadata["importance"].is_number())
    item.fail("\"metadata.importance\" must be a number (higher is kept longer when the memory is full), got " +
              metadata["importance"].dump().substr(0, 100));
  if (metadata.contains("timestamp") && !metadata["timestamp"].is_null() && !metadata["timestamp"].is_number())
    item.fail("\"metadata.timestamp\" must be a time in ms (a number, such as Date.now()), got " + metadata["timestamp"].dump().substr(0, 100));
}

json search_query(const protocol::FieldReader& fields, const std::string& where, state::Metric metric) {
  json query = json::object();
  if (fields.has("vector"))
    query["vector"] = vector_field(fields.at("vector"), where + ": \"vector\"");
  else
    query["query"] = fields.optional_string("query", true).value_or("");
  if (!fields.has("vector") && !fields.has("query")) fields.fail("needs \"query\" (a text) or \"vector\"");
  if (!fields.has("vector") && query["query"] == "") fields.fail("\"query\" is empty: give a text to search for, or a \"vector\"");
  if (auto limit = fields.integer("limit", 1, 10000)) query["limit"] = *limit;
  if (fields.has("threshold")) {
    if (!fields.at("threshold").is_number()) fields.bad("threshold", "a number");
    if (const std::string why = state::unreachable_threshold(metric, fields.at("threshold").get<double>()); !why.empty())
      fields.fail("\"threshold\" " + fields.at("threshold").dump() + ": " + why);
    query["threshold"] = fields.at("threshold");
  }
  if (fields.has("filter")) query["filter"] = fields.object_field("filter");
  for (const char* key : {"from", "to"})
    if (fields.has(key)) {
      if (!fields.at(key).is_number()) fields.bad(key, "a time in ms");
      query[key] = fields.at(key);
    }
  if (query.contains("from") && query.contains("to") && query["from"].get<double>() > query["to"].get<double>())
    fields.fail("\"from\" (" + query["from"].dump() + ") is after \"to\" (" + query["to"].dump() + "): no time is in that range");
  if (auto exact = fields.optional_bool("exact")) query["exact"] = *exact;
  return query;
}

// store {entities, relations}, search (+ depth, relation, direction), neighbors, delete, clear.
Task<json> prepare_graph_action(Loop& loop, RunId run, const protocol::FieldReader& fields, const std::string& action,
                                std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, const ModelAccess& access) {
  const std::string& where = fields.where();
  if (action == "store" && fields.has("text")) {
    // Extraction: the model reads the text and answers the entities and relations.
    fields.only(with_scope({"name", "text", "instructions"}), "field");
    std::string text = fields.string("text");
    std::string instructions = fields.optional_string("instructions").value_or("");
    return store_extracted(loop, run, std::move(tree), std::move(instance), std::move(text), std::move(instructions), access);
  }
  if (action == "store") {
    fields.only(with_scope({"name", "entities", "relations"}), "field");
    if (!fields.has("entities") && !fields.has("relations"))
      fields.fail("a graph memory stores {entities, relations} (at least one of them), or {text} to extract them from");
    GraphBatch batch;
    if (const json* list = fields.optional_array("entities"))
      for (std::size_t i = 0; i < list->size(); ++i) {
        protocol::FieldReader item((*list)[i], where + ": entities[" + std::to_string(i) + "]");
        item.only({"name", "type", "description", "metadata", "vector"}, "field");
        state::Entity e;
        e.name = item.string("name");
        e.type = item.optional_string("type").value_or("");
        e.description = item.optional_string("description", true).value_or("");
        if (const json* metadata = item.optional_object("metadata")) e.metadata = *metadata;
        batch.vectors.push_back(item.has("vector") ? std::optional(vector_field(item.at("vector"), item.where() + ": \"vector\"")) : std::nullopt);
        batch.entities.push_back(std::move(e));
      }
    if (const json* list = fields.optional_array("relations"))
      for (std::size_t i = 0; i < list->size(); ++i) {
        protocol::FieldReader item((*list)[i], where + ": relations[" + std::to_string(i) + "]");
        item.only({"from", "relation", "to", "metadata"}, "field");
        state::Relation r{item.string("from"), item.string("relation"), item.string("to"), json::object()};
        if (const json* metadata = item.optional_object("metadata")) r.metadata = *metadata;
        batch.relations.push_back(std::move(r));
      }
    return store_graph(loop, run, std::move(tree), std::move(instance), std::move(batch));
  }
  if (action == "search") {
    fields.only(with_scope({"name", "query", "vector", "limit", "filter", "threshold", "exact", "depth", "relation", "direction"}), "field");
    json query = search_query(fields, where, instance->spec->index.metric);  // before `instance` is moved from
    return search_graph(loop, run, std::move(tree), std::move(instance), std::move(query), walk_options(fields));
  }
  if (action == "neighbors") {
    fields.only(with_scope({"name", "entity", "depth", "relation", "direction"}), "field");
    return neighbors(loop, run, std::move(tree), std::move(instance), fields.string("entity"), walk_options(fields));
  }
  if (action == "delete") {
    fields.only(with_scope({"name", "ids"}), "field");
    return forget(loop, run, std::move(tree), std::move(instance), fields.strings("ids"));
  }
  fields.only(with_scope({"name"}), "field");
  return clear(loop, run, std::move(tree), std::move(instance));
}

}  // namespace

Task<json> prepare_memory_run(Loop& loop, RunId run, const json& spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk) {
  const std::string where = "run.start spec (memory)";
  protocol::FieldReader fields(spec, where);
  const std::string action = fields.choice("action", {"embed", "count", "store", "search", "neighbors", "delete", "clear"}).value_or("");
  if (action.empty()) fields.fail("\"action\" is required (embed, count, store, search, neighbors, delete or clear)");
  if (action == "embed") {
    fields.only(with_scope({"model", "values", "dimensions"}), "field");
    std::string model = fields.string("model");
    std::vector<std::string> values;
    for (const json& v : fields.array_field("values")) {
      if (!v.is_string()) fields.fail("\"values\" must be an array of strings");
      values.push_back(v.get<std::string>());
    }
    return embed_run(loop, run, std::move(tree), std::move(model), std::move(values), fields.integer("dimensions", 1, 65536));
  }
  if (action == "count") {
    fields.only(with_scope({"model", "messages", "text"}), "field");
    std::string model = fields.string("model");
    if (fields.has("messages") == fields.has("text")) fields.fail("needs either \"messages\" (an array of messages) or \"text\" (a string)");
    json input = fields.has("text") ? json(fields.optional_string("text", true).value_or("")) : fields.array_field("messages");
    return count_run(loop, run, std::move(tree), std::move(model), std::move(input));
  }
  const std::string name = fields.string("name");
  std::shared_ptr<MemoryInstance> instance;
  try {
    instance = registry_of(*tree).instance(*tree, name);
  } catch (const ProtocolError& e) {
    throw e.prefixed(where + ": ");
  }
  const ModelAccess access{&desk, fields.optional_string("runModel").value_or("")};
  if (instance->spec->graph) return prepare_graph_action(loop, run, fields, action, std::move(tree), std::move(instance), access);
  const bool hierarchical = instance->spec->hierarchy.has_value();
  if (action == "neighbors") fields.fail("\"neighbors\" applies to graph memories; memory \"" + name + "\" is not one");
  if (action == "store") {
    fields.only(with_scope({"name", "items"}), "field");
    std::vector<StoreItem> items;
    const json& list = fields.array_field("items");
    for (std::size_t i = 0; i < list.size(); ++i) {
      protocol::FieldReader item(list[i], where + ": items[" + std::to_string(i) + "]");
      item.only({"id", "content", "vector", "metadata"}, "field");
      StoreItem s;
      s.id = item.optional_string("id").value_or("");
      s.content = item.optional_string("content", true);
      if (item.has("vector")) s.vector = vector_field(item.at("vector"), item.where() + ": \"vector\"");
      if (!s.content && !s.vector) item.fail("needs \"content\" (a string to embed) or \"vector\"");
      if (s.content && s.content->empty() && !s.vector) item.fail("\"content\" is empty: give a text to embed, or a \"vector\"");
      if (const json* metadata = item.optional_object("metadata")) s.metadata = *metadata;
      check_special_metadata(item, s.metadata);
      items.push_back(std::move(s));
    }
    if (hierarchical) return store_hierarchical(loop, run, std::move(tree), std::move(instance), std::move(items), access);
    return store(loop, run, std::move(tree), std::move(instance), std::move(items));
  }
  if (action == "search" && hierarchical) {
    fields.only(with_scope({"name", "query", "vector", "limit", "filter", "threshold", "beam", "level"}), "field");
    json query = search_query(fields, where, instance->spec->index.metric);
    if (auto beam = fields.integer("beam", 1, 1000)) query["beam"] = *beam;
    if (auto level = fields.integer("level", 0, 9)) query["level"] = *level;
    return search_hierarchical(loop, run, std::move(tree), std::move(instance), std::move(query));
  }
  if (action == "search") {
    fields.only(with_scope({"name", "query", "vector", "limit", "filter", "threshold", "from", "to", "exact"}), "field");
    json query = search_query(fields, where, instance->spec->index.metric);  // before `instance` is moved from
    return search(loop, run, std::move(tree), std::move(instance), std::move(query));
  }
  if (action == "delete") {
    fields.only(with_scope({"name", "ids"}), "field");
    return forget(loop, run, std::move(tree), std::move(instance), fields.strings("ids"));
  }
  fields.only(with_scope({"name"}), "field");
  return clear(loop, run, std::move(tree), std::move(instance));
}

}  // namespace lmthing::memory
