// defMemory as a definition kind: spec.definitions[i] = {kind: "memory", name, config}, config
// {type: "vector" | "temporal" | "graph" | "hierarchical", dimensions, metric?, maxSize?, similarityThreshold?, m?, efConstruction?,
// efSearch?, seed?, embeddingModel?, persist?, scope?, storage?}; temporal adds {decay?, halfLifeMs?,
// windowMs?, recencyWeight?} (state/temporal.hpp); graph refuses maxSize (state/entity_graph.hpp);
// hierarchical adds {chunkSize?, levels?} (state/memory_hierarchy.hpp), needs an embeddingModel and
// refuses maxSize; `model` (the summarizer or extractor) applies to hierarchical and graph memories.
#include "memory/memory_store.hpp"
#include "pipeline/registry.hpp"
#include "state/memory_hierarchy.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory {

namespace {

const std::vector<std::string> kIndexFields = {"dimensions", "metric", "maxSize", "similarityThreshold", "m", "efConstruction", "efSearch", "seed"};

// A state parser's error, as the definition's: the parsers name the memory themselves, and so does `config`.
[[noreturn]] void fail_with(const protocol::FieldReader& config, const state::StateError& e, const std::string& name) {
  std::string message = e.what();
  const std::string label = "memory \"" + name + "\": ";
  if (message.rfind(label, 0) == 0) message.erase(0, label.size());
  config.fail(message);
}

void define_memory(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  auto spec = std::make_shared<MemorySpec>();
  spec->name = name;
  const std::string type = config.choice("type", {"vector", "temporal", "graph", "hierarchical"}).value_or("vector");
  spec->graph = type == "graph";
  if (spec->graph && config.has("maxSize"))
    config.fail("'maxSize' does not apply to graph memories (evicting an entity would cut its relations); delete entities instead");
  if (type == "hierarchical") {
    if (config.has("maxSize"))
      config.fail("'maxSize' does not apply to hierarchical memories (evicting an item would leave its summaries behind); delete items instead");
    json fields = json::object();
    for (const char* field : {"chunkSize", "levels"})
      if (config.has(field)) fields[field] = config.at(field);
    try {
      spec->hierarchy = state::HierarchyConfig::parse(fields, name);
    } catch (const state::StateError& e) {
      fail_with(config, e, name);
    }
    if (!config.has("embeddingModel")) config.fail("a hierarchical memory needs an 'embeddingModel' (its summaries are embedded by it)");
  } else {
    for (const char* field : {"chunkSize", "levels"})
      if (config.has(field)) config.fail(std::string("'") + field + "' applies to hierarchical memories only (type 'hierarchical')");
  }
  if (type != "hierarchical" && type != "graph" && config.has("model"))
    config.fail("'model' applies to hierarchical memories (their summarizer) and graph memories (their extractor) only");
  spec->summary_model = config.optional_string("model").value_or("");
  spec->index_config = json::object();
  for (const auto& field : kIndexFields)
    if (config.has(field)) spec->index_config[field] = config.at(field);
  try {
    spec->index = state::VectorMemoryConfig::parse(spec->index_config, name);
  } catch (const state::StateError& e) {
    fail_with(config, e, name);
  }
  if (type == "temporal") {
    json temporal = json::object();
    for (const char* field : {"decay", "halfLifeMs", "windowMs", "recencyWeight"})
      if (config.has(field)) temporal[field] = config.at(field);
    try {
      spec->temporal = state::TemporalConfig::parse(temporal, "memory \"" + name + "\"");
    } catch (const state::StateError& e) {
      fail_with(config, e, name);
    }
  } else {
    for (const char* field : {"decay", "halfLifeMs", "windowMs", "recencyWeight"})
      if (config.has(field)) config.fail(std::string("'") + field + "' applies to temporal memories only (type 'temporal')");
  }
  spec->embedding_model = config.optional_string("embeddingModel").value_or("");
  spec->persist = config.optional_bool("persist").value_or(false);
  const std::string scope = config.choice("scope", {"global", "session", "agent"}).value_or("global");
  spec->scope = scope == "session" ? MemoryScope::Session : scope == "agent" ? MemoryScope::Agent : MemoryScope::Global;
  spec->storage = config.optional_string("storage").value_or("");
  if (!spec->persist && config.has("storage")) config.fail("'storage' applies to persisted memory only (add persist: true)");
  if (spec->persist && spec->scope == MemoryScope::Session && tree.scope().session.empty())
    config.fail("scope 'session' needs a sessionId in the run config; use scope 'global' for a memory every run shares");
  tree.definitions().add("memory", name, std::make_shared<MemoryDefinition>(MemoryDefinition{std::move(spec)}));
}

}  // namespace

}  // namespace lmthing::memory

namespace lmthing::pipeline::registered {
extern const DefinitionKind memory_kind{
    "memory",
    "memory",
    {"type",    "dimensions", "metric",  "maxSize", "similarityThreshold", "m",        "efConstruction", "efSearch",  "seed",   "embeddingModel",
     "persist", "scope",      "storage", "decay",   "halfLifeMs",          "windowMs", "recencyWeight",  "chunkSize", "levels", "model"},
    memory::define_memory,
    nullptr};
}  // namespace lmthing::pipeline::registered
