// `hierarchical` memories (docs/memory.md, "Hierarchical memories"): stored texts at level 0, and
// every `chunkSize` parentless nodes of a level folded by one model call into a summary of the
// next level (state/memory_hierarchy.hpp). Items and summaries share the memory's HNSW index (so
// they persist with it); the tree says which summary covers which nodes. A store is all-or-nothing:
// the summaries are written and embedded first, and the index and tree change only when every call
// succeeded. A search goes top-down: it scores the roots, opens the `beam` best summaries, scores
// their children, and so on down to the level asked for.
#include <algorithm>
#include <cmath>
#include <set>

#include "memory/embed.hpp"
#include "memory/memory_model.hpp"
#include "memory/memory_ops.hpp"
#include "state/state_error.hpp"
#include "state/vector_distance.hpp"

namespace lmthing::memory {

using detail::guarded;
using detail::where_of;

namespace {

constexpr const char* kSummarySystem =
    "You summarize memories for later retrieval. Write one short paragraph that keeps every name, fact, number, preference and "
    "decision of the numbered entries below, so that a search for any of them finds your summary. Answer with the summary only.";

// The user message of the summary of `texts` (the children of one chunk, oldest first).
std::string summary_request(std::size_t level, const std::vector<std::string>& texts) {
  std::string out = level == 1 ? "Entries:\n" : "Summaries of earlier entries:\n";
  for (std::size_t i = 0; i < texts.size(); ++i) out += std::to_string(i + 1) + ". " + texts[i] + "\n";
  return out;
}

// An id no held memory and no id of `taken` has: "summary-<n>".
std::string fresh_summary_id(const MemoryInstance& instance, const std::set<std::string>& taken, std::uint64_t& next) {
  for (;;) {
    std::string id = "summary-" + std::to_string(next++);
    if (!instance.index->contains(id) && !taken.count(id)) return id;
  }
}

}  // namespace

Task<json> store_hierarchical(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance,
                              std::vector<StoreItem> items, ModelAccess access) {
  const MemorySpec& spec = *instance->spec;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!items[i].content)
      throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                                  where_of(*instance) + ": item " + std::to_string(i) +
                                      " has no content; a hierarchical memory stores texts (its summaries are written from them)",
                                  spec.name));
  std::vector<std::string> texts;
  for (const StoreItem& item : items)
    if (!item.vector) texts.push_back(*item.content);
  Embeddings embedded = co_await embed(loop, run, *tree, spec.embedding_model, texts, std::nullopt, where_of(*instance), spec.name);
  double embedding_tokens = embedded.tokens;
  auto guard = co_await instance->lock.lock();
  co_await detail::ensure_loaded(loop, run, *instance);
  state::MemoryHierarchy& hierarchy = *instance->hierarchy;

  // Ids first: a summary's id cannot be stored over, and an id twice in the batch is refused before any model call.
  std::uint64_t next_id = instance->next_id;
  std::vector<std::string> ids;
  std::set<std::string> batch_ids;
  for (const StoreItem& item : items) {
    std::string id = item.id;
    if (id.empty()) do
        id = "mem-" + std::to_string(next_id++);
      while (instance->index->contains(id) || batch_ids.count(id));
    if (!batch_ids.insert(id).second)
      throw OpFailed(memory_error(state::error_code::kDuplicateId, where_of(*instance) + ": id \"" + id + "\" twice in one batch", spec.name));
    if (hierarchy.contains(id) && hierarchy.node(id).level != 0)
      throw OpFailed(memory_error(state::error_code::kDuplicateId,
                                  where_of(*instance) + ": \"" + id + "\" is a summary's id; store items under other ids", spec.name));
    ids.push_back(std::move(id));
  }
  const std::vector<state::PlannedSummary> plan =
      hierarchy.plan(ids, [&, next = std::uint64_t{hierarchy.size() + 1}]() mutable { return fresh_summary_id(*instance, batch_ids, next); });

  // One model call per summary, lower levels first (a summary folds the ones planned before it).
  std::map<std::string, std::string> text_of;
  for (std::size_t i = 0; i < items.size(); ++i) text_of[ids[i]] = *items[i].content;
  const std::string model = plan.empty() ? std::string() : model_for(spec.summary_model, access, spec.name, "summarizing");
  std::vector<std::string> summaries;
  for (const state::PlannedSummary& s : plan) {
    std::vector<std::string> children;
    for (const auto& child : s.children) {
      auto it = text_of.find(child);
      children.push_back(it != text_of.end() ? it->second : instance->contents.at(child));
    }
    json input{{"system", kSummarySystem}, {"messages", json::array({json{{"role", "user"}, {"content", summary_request(s.level, children)}}})}};
    std::string text = co_await memory_model_text(loop, run, tree, access, model, std::move(input), "summary");
    if (text.empty())
      throw OpFailed(memory_error("SUMMARY_FAILED",
                                  where_of(*instance) + ": the summary of " + std::to_string(s.children.size()) + " level-" +
                                      std::to_string(s.level - 1) + " memories answered no text (model \"" + model + "\"); nothing was stored",
                                  spec.name));
    text_of[s.id] = text;
    summaries.push_back(std::move(text));
  }
  Embeddings summary_vectors = co_await embed(loop, run, *tree, spec.embedding_model, summaries, std::nullopt, where_of(*instance), spec.name);
  embedding_tokens += summary_vectors.tokens;

  std::vector<state::MemoryItem> batch;
  std::size_t next_vector = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    state::MemoryItem m;
    m.id = ids[i];
    m.vector = items[i].vector ? std::move(*items[i].vector) : std::move(embedded.vectors[next_vector++]);
    const json& timestamp = items[i].metadata.contains("timestamp") ? items[i].metadata["timestamp"] : json();
    m.created_at_ms = timestamp.is_number() ? timestamp.get<double>() : loop.now_ms();
    m.metadata = std::move(items[i].metadata);
    batch.push_back(std::move(m));
  }
  std::vector<std::string> summary_ids;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    state::MemoryItem m;
    m.id = plan[i].id;
    m.vector = std::move(summary_vectors.vectors[i]);
    m.created_at_ms = loop.now_ms();
    summary_ids.push_back(plan[i].id);
    batch.push_back(std::move(m));
  }
  // insert() validates the whole batch (dimensions, finite values) before storing any of it.
  guarded(*instance, [&] { instance->index->insert(std::move(batch)); });  // no maxSize: never evicts
  hierarchy.commit(ids, plan);
  for (auto& [id, text] : text_of) instance->contents[id] = std::move(text);
  instance->next_id = next_id;
  co_await detail::persist(loop, run, *instance);
  detail::emit_memory_event(
      *tree, json{{"type", "memory-store"}, {"memory", spec.name}, {"ids", ids}, {"evicted", json::array()}, {"size", instance->index->size()}});
  co_return json{
      {"ids", ids}, {"evicted", json::array()}, {"summaries", summary_ids}, {"size", instance->index->size()}, {"embeddingTokens", embedding_tokens}};
}

namespace {

struct Candidate {
  std::string id;
  double score;
  json path;  // the summaries opened to reach it, top first
};

}  // namespace

Task<json> search_hierarchical(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, json query) {
  const MemorySpec& spec = *instance->spec;
  const detail::QueryVector q = co_await detail::query_vector(loop, run, *tree, *instance, query);
  auto guard = co_await instance->lock.lock();
  co_await detail::ensure_loaded(loop, run, *instance);
  const state::MemoryHierarchy& hierarchy = *instance->hierarchy;
  const std::size_t limit = query.value("limit", std::size_t{10});
  const std::size_t beam = query.value("beam", std::size_t{3});
  const std::size_t target = query.value("level", std::size_t{0});
  if (target >= hierarchy.config().levels)
    throw OpFailed(memory_error(
        state::error_code::kInvalidConfig,
        where_of(*instance) + ": level " + std::to_string(target) + " is above the top level (" + std::to_string(hierarchy.config().levels - 1) + ")",
        spec.name));
  const std::optional<double> threshold =
      query.contains("threshold") ? std::optional(query["threshold"].get<double>()) : spec.index.similarity_threshold;
  const state::MetadataFilter filter = guarded(*instance, [&] {
    return query.contains("filter") ? state::MetadataFilter::parse(query["filter"], where_of(*instance)) : state::MetadataFilter();
  });
  // The query as the index compares it: checked, and of unit length for cosine.
  std::vector<float> vector = q.vector;
  const std::size_t dims = spec.index.dimensions;
  if (vector.size() != dims)
    throw OpFailed(memory_error(
        state::error_code::kDimensionMismatch,
        where_of(*instance) + ": the query has " + std::to_string(vector.size()) + " dimensions, expected " + std::to_string(dims), spec.name));
  if (spec.index.metric == state::Metric::cosine) {
    const float norm = std::sqrt(state::dot_product(vector.data(), vector.data(), dims));
    if (!(norm > 0) || !std::isfinite(norm))
      throw OpFailed(memory_error(state::error_code::kZeroVector, where_of(*instance) + ": the query vector is zero or not finite", spec.name));
    for (float& x : vector) x /= norm;
  }
  auto scored = [&](const std::string& id, json path) {
    const state::MemoryItem item = instance->index->get(id);
    const float distance = state::metric_distance(spec.index.metric, vector.data(), item.vector.data(), dims);
    return Candidate{id, state::similarity_of(spec.index.metric, distance), std::move(path)};
  };
  std::vector<Candidate> frontier, found;
  for (const auto& id : hierarchy.roots()) frontier.push_back(scored(id, json::array()));
  while (!frontier.empty()) {
    std::vector<Candidate> above;
    for (Candidate& c : frontier) {
      const std::size_t level = hierarchy.node(c.id).level;
      if (level == target)
        found.push_back(std::move(c));
      else if (level > target)
        above.push_back(std::move(c));
    }
    std::sort(above.begin(), above.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    if (above.size() > beam) above.resize(beam);
    frontier.clear();
    for (const Candidate& c : above) {
      json path = c.path;
      const auto content = instance->contents.find(c.id);
      path.push_back(json{{"id", c.id},
                          {"level", hierarchy.node(c.id).level},
                          {"score", c.score},
                          {"content", content == instance->contents.end() ? json() : json(content->second)}});
      for (const auto& child : hierarchy.node(c.id).children) frontier.push_back(scored(child, path));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  json results = json::array(), result_ids = json::array();
  for (Candidate& c : found) {
    if (results.size() == limit) break;
    if (threshold && c.score < *threshold) continue;
    const state::MemoryItem item = instance->index->get(c.id);
    if (!filter.matches(item.metadata)) continue;
    const auto content = instance->contents.find(c.id);
    result_ids.push_back(c.id);
    results.push_back(json{{"id", c.id},
                           {"content", content == instance->contents.end() ? json() : json(content->second)},
                           {"metadata", item.metadata},
                           {"score", c.score},
                           {"level", target},
                           {"path", std::move(c.path)}});
  }
  detail::emit_memory_event(*tree, json{{"type", "memory-search"}, {"memory", spec.name}, {"ids", std::move(result_ids)}});
  co_return json{{"results", std::move(results)}, {"embeddingTokens", q.tokens}};
}

}  // namespace lmthing::memory
