#include "memory/memory_run.hpp"

#include <cmath>

#include "memory/embed.hpp"
#include "memory/memory_store.hpp"
#include "memory/tokenizers.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory {

using protocol::ProtocolError;

namespace {

const std::vector<std::string> kScopeFields = {"kind", "host", "parentRun", "definitions", "sessionId", "storage", "agent", "seed", "action"};

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

}  // namespace

Task<json> prepare_memory_run(Loop& loop, RunId run, const json& spec, std::shared_ptr<pipeline::RunTree> tree) {
  const std::string where = "run.start spec (memory)";
  protocol::FieldReader fields(spec, where);
  const std::string action = fields.choice("action", {"embed", "count", "store", "search", "delete", "clear"}).value_or("");
  if (action.empty()) fields.fail("\"action\" is required (embed, count, store, search, delete or clear)");
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
    throw ProtocolError(where + ": " + e.what());
  }
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
      if (const json* metadata = item.optional_object("metadata")) s.metadata = *metadata;
      items.push_back(std::move(s));
    }
    return store(loop, run, std::move(tree), std::move(instance), std::move(items));
  }
  if (action == "search") {
    fields.only(with_scope({"name", "query", "vector", "limit", "filter", "threshold", "from", "to", "exact"}), "field");
    json query = json::object();
    if (fields.has("vector"))
      query["vector"] = vector_field(fields.at("vector"), where + ": \"vector\"");
    else
      query["query"] = fields.optional_string("query", true).value_or("");
    if (!fields.has("vector") && !fields.has("query")) fields.fail("needs \"query\" (a text) or \"vector\"");
    if (auto limit = fields.integer("limit", 1, 10000)) query["limit"] = *limit;
    if (fields.has("threshold")) {
      if (!fields.at("threshold").is_number()) fields.bad("threshold", "a number");
      query["threshold"] = fields.at("threshold");
    }
    if (fields.has("filter")) query["filter"] = fields.object_field("filter");
    for (const char* key : {"from", "to"})
      if (fields.has(key)) {
        if (!fields.at(key).is_number()) fields.bad(key, "a time in ms");
        query[key] = fields.at(key);
      }
    if (auto exact = fields.optional_bool("exact")) query["exact"] = *exact;
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
