#include "memory/memory_store.hpp"

#include <algorithm>
#include <set>

#include "memory/base64.hpp"
#include "memory/embed.hpp"
#include "memory/memory_ops.hpp"
#include "state/state_error.hpp"
#include "state/storage_client.hpp"

namespace lmthing::memory {

using detail::emit_memory_event;
using detail::ensure_loaded;
using detail::guarded;
using detail::persist;
using detail::query_vector;
using detail::QueryVector;
using detail::where_of;

namespace {

constexpr const char* kFormat = "lmthing.memory/1";

std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '%' ? std::string("%25") : c == ':' ? std::string("%3A") : std::string(1, c);
  return out;
}

std::string scope_key(const MemorySpec& spec, const pipeline::RunScope& scope) {
  switch (spec.scope) {
    case MemoryScope::Global: return "memory:global:" + spec.name;
    case MemoryScope::Agent: return "memory:agent:" + escaped(scope.agent) + ":" + spec.name;
    case MemoryScope::Session: break;
  }
  return "memory:session:" + escaped(scope.session) + ":" + spec.name;
}

void restore(MemoryInstance& instance, const json& record) {
  const std::string& name = instance.spec->name;
  auto corrupt = [&](const std::string& problem) {
    throw OpFailed(
        memory_error(state::error_code::kCorruptData, "memory \"" + name + "\": the stored record (" + instance.key + ") " + problem, name));
  };
  if (!record.is_object() || record.value("format", std::string()) != kFormat) corrupt("is not a saved memory (format " + std::string(kFormat) + ")");
  if (!record.contains("index") || !record["index"].is_string()) corrupt("has no index");
  auto bytes = base64_decode(record["index"].get_ref<const std::string&>());
  if (!bytes) corrupt("has an index that is not base64");
  state::VectorMemory loaded = guarded(instance, [&] { return state::VectorMemory::load(name, *bytes); });
  const auto& want = instance.spec->index;
  if (loaded.config().dimensions != want.dimensions || loaded.config().metric != want.metric)
    throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                "memory \"" + name + "\": the stored index (" + instance.key + ") has " + std::to_string(loaded.config().dimensions) +
                                    " dimensions and metric " + std::string(state::to_string(loaded.config().metric)) + ", the definition says " +
                                    std::to_string(want.dimensions) + " and " + std::string(state::to_string(want.metric)) +
                                    " (clear it or use another name)",
                                name));
  instance.contents.clear();
  if (record.contains("contents") && record["contents"].is_object())
    for (auto& [id, text] : record["contents"].items())
      if (text.is_string()) instance.contents[id] = text.get<std::string>();
  instance.next_id = record.value("nextId", std::uint64_t{1});
  if (instance.spec->graph) {
    if (!record.contains("graph")) corrupt("has no graph (it was saved by a memory of another type)");
    instance.graph.emplace(guarded(instance, [&] { return state::EntityGraph::from_json(name, record["graph"]); }));
    bool same = instance.graph->size() == loaded.size();
    for (const json& e : record["graph"]["entities"]) same = same && loaded.contains(e["name"].get<std::string>());
    if (!same) corrupt("holds a graph whose entities are not those of its index");
  }
  if (instance.spec->hierarchy) {
    if (!record.contains("hierarchy")) corrupt("has no hierarchy (it was saved by a memory of another type)");
    instance.hierarchy.emplace(
        guarded(instance, [&] { return state::MemoryHierarchy::from_json(name, *instance.spec->hierarchy, record["hierarchy"]); }));
    bool same = instance.hierarchy->size() == loaded.size();
    for (const auto& node : record["hierarchy"]["nodes"].items()) same = same && loaded.contains(node.key());
    if (!same) corrupt("holds a hierarchy whose memories are not those of its index");
  }
  instance.index.emplace(std::move(loaded));
}

}  // namespace

namespace detail {

void emit_memory_event(const pipeline::RunTree& tree, json event) {
  event["path"] = tree.scope().path;
  tree.emit(std::move(event));
}

std::string where_of(const MemoryInstance& instance) { return "memory \"" + instance.spec->name + "\""; }

Task<void> ensure_loaded(Loop& loop, RunId run, MemoryInstance& instance) {
  if (instance.index) co_return;
  if (instance.spec->persist) {
    auto stored = co_await state::storage_get(loop, run, instance.storage, instance.key);
    if (stored) {
      restore(instance, stored->value);
      instance.version = stored->version;
      co_return;
    }
  }
  instance.index.emplace(instance.spec->name, instance.spec->index);
  if (instance.spec->graph) instance.graph.emplace(instance.spec->name);
  if (instance.spec->hierarchy) instance.hierarchy.emplace(instance.spec->name, *instance.spec->hierarchy);
}

Task<void> persist(Loop& loop, RunId run, MemoryInstance& instance) {
  if (!instance.spec->persist) co_return;
  // Only over the record this engine read (or last wrote): another engine or process may share it.
  auto written = co_await state::storage_cas(loop, run, instance.storage, instance.key, instance.version, snapshot(instance));
  if (written) {
    instance.version = std::move(written);
    co_return;
  }
  // What this engine holds is stale: it is dropped (the next use reads the stored memory afresh),
  // and this change is refused rather than written over the other writer's.
  instance.index.reset();
  instance.graph.reset();
  instance.hierarchy.reset();
  instance.contents.clear();
  instance.version.reset();
  throw OpFailed(protocol::WireError{"storage",
                                     where_of(instance) + ": another engine or process changed the stored memory (" + instance.key +
                                         ") since this one read it; this change was not stored (try it again: the memory is read afresh)",
                                     json{{"code", "STORAGE_CONFLICT"}, {"storage", instance.storage}, {"key", instance.key}}});
}

Task<QueryVector> query_vector(Loop& loop, RunId run, pipeline::RunTree& tree, const MemoryInstance& instance, const json& query) {
  const MemorySpec& spec = *instance.spec;
  QueryVector out;
  if (query.contains("vector")) {
    for (const json& x : query["vector"]) out.vector.push_back(x.get<float>());
    co_return out;
  }
  if (spec.embedding_model.empty())
    throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                where_of(instance) + ": a text query needs an embeddingModel (or search by vector)", spec.name));
  std::vector<std::string> texts{query["query"].get<std::string>()};
  Embeddings e = co_await embed(loop, run, tree, spec.embedding_model, std::move(texts), std::nullopt, where_of(instance), spec.name);
  out.tokens = e.tokens;
  out.vector = std::move(e.vectors.front());
  co_return out;
}

}  // namespace detail

namespace {

json hit_json(const MemoryInstance& instance, const state::SearchHit& hit) {
  auto content = instance.contents.find(hit.id);
  return json{{"id", hit.id},
              {"content", content == instance.contents.end() ? json() : json(content->second)},
              {"metadata", hit.metadata ? *hit.metadata : json::object()},
              {"score", hit.score}};
}

}  // namespace

std::shared_ptr<MemoryInstance> MemoryRegistry::instance(pipeline::RunTree& tree, const std::string& name) {
  const MemoryDefinition& definition = tree.definitions().get<MemoryDefinition>("memory", name);
  const MemorySpec& spec = *definition.spec;
  const std::string key = scope_key(spec, tree.scope());
  const std::string storage = spec.persist ? (spec.storage.empty() ? tree.scope().storage : spec.storage) : "";
  const std::string id = spec.persist ? storage + "|" + key : "|" + key;
  auto& slot = instances_[id];
  if (!slot) {
    slot = std::make_shared<MemoryInstance>(loop_, definition.spec);
    slot->key = key;
    slot->storage = storage;
  } else if (slot->spec->graph != spec.graph || slot->spec->hierarchy.has_value() != spec.hierarchy.has_value()) {
    auto type = [](const MemorySpec& s) { return s.graph ? "graph" : s.hierarchy ? "hierarchical" : "vector"; };
    throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                "memory \"" + name + "\": this engine already holds " + key + " as a " + type(*slot->spec) + " memory; a " +
                                    type(spec) + " memory cannot share it (use another name or scope)",
                                name));
  } else if (spec.hierarchy &&
             (slot->spec->hierarchy->chunk_size != spec.hierarchy->chunk_size || slot->spec->hierarchy->levels != spec.hierarchy->levels)) {
    throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                "memory \"" + name + "\": this engine already holds " + key + " with chunkSize " +
                                    std::to_string(slot->spec->hierarchy->chunk_size) + " and levels " +
                                    std::to_string(slot->spec->hierarchy->levels) +
                                    "; a definition with other values cannot share it (use another name or scope)",
                                name));
  } else if (slot->spec->index_config != spec.index_config) {
    throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                "memory \"" + name + "\": this engine already holds " + key + " with the config " + slot->spec->index_config.dump() +
                                    "; a definition with " + spec.index_config.dump() + " cannot share it (use another name or scope)",
                                name));
  } else if (slot->spec.get() != definition.spec.get()) {
    slot->spec = definition.spec;  // same index; the newest definition's embedding model and threshold
  }
  return slot;
}

MemoryRegistry& registry_of(pipeline::RunTree& tree) { return tree.engine_services().get<MemoryRegistry>(tree.loop()); }

json snapshot(const MemoryInstance& instance) {
  json contents = json::object();
  for (const auto& [id, text] : instance.contents) contents[id] = text;
  json record{{"format", kFormat}, {"index", base64_encode(instance.index->save())}, {"contents", std::move(contents)}, {"nextId", instance.next_id}};
  if (instance.graph) record["graph"] = instance.graph->to_json();
  if (instance.hierarchy) record["hierarchy"] = instance.hierarchy->to_json();
  return record;
}

Task<json> store(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance,
                 std::vector<StoreItem> items) {
  const MemorySpec& spec = *instance->spec;
  // Embed first (outside the lock): a failing embedder leaves the memory as it was.
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].vector) continue;
    if (spec.embedding_model.empty())
      throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                  where_of(*instance) + ": item " + std::to_string(i) + " has no vector and the memory has no embeddingModel",
                                  spec.name));
    texts.push_back(*items[i].content);
  }
  Embeddings embedded = co_await embed(loop, run, *tree, spec.embedding_model, texts, std::nullopt, where_of(*instance), spec.name);
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  std::vector<state::MemoryItem> batch;
  std::size_t next_vector = 0;
  std::uint64_t next_id = instance->next_id;
  for (StoreItem& item : items) {
    state::MemoryItem m;
    m.id = item.id.empty() ? "mem-" + std::to_string(next_id++) : item.id;
    m.vector = item.vector ? std::move(*item.vector) : std::move(embedded.vectors[next_vector++]);
    const json& importance = item.metadata.contains("importance") ? item.metadata["importance"] : json();
    const json& timestamp = item.metadata.contains("timestamp") ? item.metadata["timestamp"] : json();
    m.importance = importance.is_number() ? importance.get<double>() : 0;
    m.created_at_ms = timestamp.is_number() ? timestamp.get<double>() : loop.now_ms();
    m.metadata = std::move(item.metadata);
    batch.push_back(std::move(m));
  }
  std::vector<std::string> ids;
  for (const auto& m : batch) ids.push_back(m.id);
  // insert() validates the whole batch before storing any of it.
  std::vector<std::string> evicted = guarded(*instance, [&] { return instance->index->insert(std::move(batch)); });
  instance->next_id = next_id;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (items[i].content) instance->contents[ids[i]] = *items[i].content;
  for (const auto& id : evicted) instance->contents.erase(id);
  co_await persist(loop, run, *instance);
  emit_memory_event(*tree,
                    json{{"type", "memory-store"}, {"memory", spec.name}, {"ids", ids}, {"evicted", evicted}, {"size", instance->index->size()}});
  co_return json{{"ids", ids}, {"evicted", evicted}, {"size", instance->index->size()}, {"embeddingTokens", embedded.tokens}};
}

namespace {

state::SearchOptions search_options(const MemoryInstance& instance, const json& query) {
  state::SearchOptions options;
  if (query.contains("limit")) options.limit = query["limit"].get<std::size_t>();
  if (query.contains("threshold")) options.threshold = query["threshold"].get<double>();
  if (query.contains("filter")) options.filter = state::MetadataFilter::parse(query["filter"], where_of(instance));
  if (query.contains("from")) options.created.from_ms = query["from"].get<double>();
  if (query.contains("to")) options.created.to_ms = query["to"].get<double>();
  options.exact = query.value("exact", false);
  return options;
}

}  // namespace

Task<json> search(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, json query) {
  const MemorySpec& spec = *instance->spec;
  const QueryVector q = co_await query_vector(loop, run, *tree, *instance, query);
  const std::vector<float>& vector = q.vector;
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  json results = guarded(*instance, [&] {
    state::SearchOptions options = search_options(*instance, query);
    json out = json::array();
    if (!spec.temporal) {
      for (const auto& hit : instance->index->search(vector, options)) out.push_back(hit_json(*instance, hit));
      return out;
    }
    // Temporal: the most similar candidates (oversampled, so a recent memory a little less similar
    // than old ones still competes), re-ranked by similarity × recency at the engine's time.
    const std::size_t limit = options.limit;
    options.limit = std::max<std::size_t>(limit * 5, limit + 50);
    const std::vector<state::SearchHit> hits = instance->index->search(vector, options);
    std::vector<double> similarities, created;
    for (const auto& hit : hits) {
      similarities.push_back(hit.score);
      created.push_back(hit.created_at_ms);
    }
    const double now = loop.now_ms();
    for (std::size_t i : state::rank_by_temporal_score(*spec.temporal, similarities, created, now)) {
      if (out.size() == limit) break;
      json hit = hit_json(*instance, hits[i]);
      hit["score"] = state::temporal_score(*spec.temporal, hits[i].score, hits[i].created_at_ms, now);
      hit["similarity"] = hits[i].score;
      hit["createdAt"] = hits[i].created_at_ms;
      out.push_back(std::move(hit));
    }
    return out;
  });
  json ids = json::array();
  for (const json& hit : results) ids.push_back(hit["id"]);
  emit_memory_event(*tree, json{{"type", "memory-search"}, {"memory", spec.name}, {"ids", std::move(ids)}});
  co_return json{{"results", std::move(results)}, {"embeddingTokens", q.tokens}};
}

Task<json> forget(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance,
                  std::vector<std::string> ids) {
  // An id given twice is deleted once (removing it again would fail half-way through the batch).
  std::set<std::string> seen;
  ids.erase(std::remove_if(ids.begin(), ids.end(), [&](const std::string& id) { return !seen.insert(id).second; }), ids.end());
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  // Every id must be there before any is deleted.
  for (const auto& id : ids)
    if (!instance->index->contains(id))
      throw OpFailed(memory_error(state::error_code::kUnknownId, where_of(*instance) + ": no memory with id \"" + id + "\"", instance->spec->name));
  // A hierarchy refuses summaries before anything is removed.
  if (instance->hierarchy) guarded(*instance, [&] { instance->hierarchy->remove(ids); });
  for (const auto& id : ids) {
    guarded(*instance, [&] { instance->index->remove(id); });
    instance->contents.erase(id);
  }
  if (instance->graph) instance->graph->remove(ids);  // and every relation touching them
  co_await persist(loop, run, *instance);
  emit_memory_event(*tree, json{{"type", "memory-delete"}, {"memory", instance->spec->name}, {"ids", ids}, {"size", instance->index->size()}});
  co_return json{{"deleted", ids.size()}, {"size", instance->index->size()}};
}

Task<json> clear(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance) {
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  const std::size_t before = instance->index->size();
  instance->index->clear();
  instance->contents.clear();
  if (instance->graph) instance->graph->clear();
  if (instance->hierarchy) instance->hierarchy->clear();
  co_await persist(loop, run, *instance);
  emit_memory_event(*tree, json{{"type", "memory-clear"}, {"memory", instance->spec->name}, {"cleared", before}});
  co_return json{{"cleared", before}, {"size", 0}};
}

// ---------------------------------------------------------------------------------- graph memories

namespace {

// {entities: [{name, type, description, metadata, depth, score?}], relations: [...]} of a walk;
// `scores` holds the similarity of the entities a search matched.
json neighborhood_json(const state::EntityGraph& graph, const state::Neighborhood& n, const std::map<std::string, double>& scores) {
  json entities = json::array();
  for (const auto& [name, depth] : n.entities) {
    json e = state::EntityGraph::entity_json(graph.entity(name));
    e["depth"] = depth;
    if (auto it = scores.find(name); it != scores.end()) e["score"] = it->second;
    entities.push_back(std::move(e));
  }
  json relations = json::array();
  for (const auto& r : n.relations) relations.push_back(state::EntityGraph::relation_json(r));
  return json{{"entities", std::move(entities)}, {"relations", std::move(relations)}};
}

void emit_found(pipeline::RunTree& tree, const MemoryInstance& instance, const json& found) {
  json ids = json::array();
  for (const json& e : found["entities"]) ids.push_back(e["name"]);
  tree.emit(json{{"type", "memory-search"}, {"memory", instance.spec->name}, {"ids", std::move(ids)}});
}

}  // namespace

Task<json> store_graph(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, GraphBatch batch) {
  const MemorySpec& spec = *instance->spec;
  // Embed first (outside the lock): a failing embedder leaves the memory as it was.
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < batch.entities.size(); ++i) {
    if (batch.vectors[i]) continue;
    if (spec.embedding_model.empty())
      throw OpFailed(memory_error(
          state::error_code::kInvalidConfig,
          where_of(*instance) + ": entity \"" + batch.entities[i].name + "\" has no vector and the memory has no embeddingModel", spec.name));
    texts.push_back(state::EntityGraph::embedding_text(batch.entities[i]));
  }
  Embeddings embedded = co_await embed(loop, run, *tree, spec.embedding_model, texts, std::nullopt, where_of(*instance), spec.name);
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  // The graph's checks (names, duplicates, relation ends), then the index's (vectors), before any change.
  guarded(*instance, [&] { instance->graph->check(batch.entities, batch.relations); });
  std::vector<state::MemoryItem> items;
  std::vector<std::string> ids;
  std::size_t next_vector = 0;
  for (std::size_t i = 0; i < batch.entities.size(); ++i) {
    const state::Entity& e = batch.entities[i];
    state::MemoryItem m;
    m.id = e.name;
    m.vector = batch.vectors[i] ? std::move(*batch.vectors[i]) : std::move(embedded.vectors[next_vector++]);
    // What a search filter sees: the paths `type` and `metadata.<key>`.
    m.metadata = json{{"type", e.type.empty() ? json() : json(e.type)}, {"metadata", e.metadata}};
    m.created_at_ms = loop.now_ms();
    ids.push_back(e.name);
    items.push_back(std::move(m));
  }
  guarded(*instance, [&] { instance->index->insert(std::move(items)); });  // no maxSize: never evicts
  const std::size_t relations = instance->graph->add(std::move(batch.entities), std::move(batch.relations));
  co_await persist(loop, run, *instance);
  emit_memory_event(
      *tree, json{{"type", "memory-store"}, {"memory", spec.name}, {"ids", ids}, {"evicted", json::array()}, {"size", instance->graph->size()}});
  co_return json{{"ids", ids},
                 {"relations", relations},
                 {"size", instance->graph->size()},
                 {"relationCount", instance->graph->relation_count()},
                 {"embeddingTokens", embedded.tokens}};
}

Task<json> search_graph(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, json query,
                        state::WalkOptions walk) {
  const QueryVector q = co_await query_vector(loop, run, *tree, *instance, query);
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  json found = guarded(*instance, [&] {
    std::vector<std::string> starts;
    std::map<std::string, double> scores;
    for (const auto& hit : instance->index->search(q.vector, search_options(*instance, query))) {
      starts.push_back(hit.id);
      scores[hit.id] = hit.score;
    }
    return neighborhood_json(*instance->graph, instance->graph->neighborhood(starts, walk), scores);
  });
  emit_found(*tree, *instance, found);
  found["embeddingTokens"] = q.tokens;
  co_return found;
}

Task<json> neighbors(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, std::string entity,
                     state::WalkOptions walk) {
  auto guard = co_await instance->lock.lock();
  co_await ensure_loaded(loop, run, *instance);
  json found = guarded(*instance, [&] { return neighborhood_json(*instance->graph, instance->graph->neighborhood({entity}, walk), {}); });
  emit_found(*tree, *instance, found);
  co_return found;
}

}  // namespace lmthing::memory
