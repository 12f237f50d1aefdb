// defMemory(name, 'vector', config) (docs/memory.md): named vector memories a run tree's prompt
// functions, tools and agents store texts in and search by meaning.
//
// A definition (kind "memory") resolves to an instance kept for the whole engine (like defCache
// entries), identified by its scope key — memory:global:<name>, memory:session:<id>:<name>,
// memory:agent:<agent>:<name> — so every run of the engine that defines the same memory shares it.
// A persisted instance is loaded from the storage on first use (the saved HNSW graph, not a
// rebuild) and written back after every change; the lock of an instance serializes its loads and
// changes. Texts are embedded through `model.embed` (memory/embed.hpp) before the lock is taken.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "memory/memory_model.hpp"
#include "pipeline/run_tree.hpp"
#include "runtime/async_mutex.hpp"
#include "state/entity_graph.hpp"
#include "state/memory_hierarchy.hpp"
#include "state/temporal.hpp"
#include "state/vector_memory.hpp"

namespace lmthing::memory {

enum class MemoryScope { Global, Session, Agent };

struct MemorySpec {
  std::string name;
  json index_config;  // the fields VectorMemoryConfig::parse reads
  state::VectorMemoryConfig index;
  std::string embedding_model;  // host model reference; empty: items and queries carry vectors
  bool persist = false;
  MemoryScope scope = MemoryScope::Global;
  std::string storage;  // a registered storage name; empty: the run's
  // `temporal` memories: search results are ranked by similarity × recency (engine clock).
  std::optional<state::TemporalConfig> temporal;
  // `graph` memories: entities (their vectors in `index`, under their names) and relations.
  bool graph = false;
  // `hierarchical` memories: items at level 0 and model-written summaries above them (in `index`).
  std::optional<state::HierarchyConfig> hierarchy;
  // The model of a hierarchical memory's summaries or a graph memory's extraction (host model
  // reference); empty: the run's.
  std::string summary_model;
};

struct MemoryDefinition {
  std::shared_ptr<const MemorySpec> spec;
};

struct MemoryInstance {
  MemoryInstance(Loop& loop, std::shared_ptr<const MemorySpec> s) : spec(std::move(s)), lock(loop) {}
  std::shared_ptr<const MemorySpec> spec;
  std::string key;      // memory:<scope>:<name>
  std::string storage;  // persisted instances: the storage name
  std::optional<state::VectorMemory> index;
  std::optional<state::EntityGraph> graph;                // graph memories
  std::optional<state::MemoryHierarchy> hierarchy;        // hierarchical memories
  std::unordered_map<std::string, std::string> contents;  // id → the stored text
  std::uint64_t next_id = 1;                              // for ids the caller did not give
  std::optional<std::string> version;                     // persisted: the stored record's version as read or last written
  AsyncMutex lock;
};

// The engine's memory instances.
class MemoryRegistry {
 public:
  explicit MemoryRegistry(Loop& loop) : loop_(loop) {}
  // The instance of memory `name` as a run of `tree` sees it. Throws ProtocolError for an unknown
  // memory, OpFailed (kind memory, INVALID_CONFIG) when the engine already holds that memory with
  // another index configuration.
  std::shared_ptr<MemoryInstance> instance(pipeline::RunTree& tree, const std::string& name);

 private:
  Loop& loop_;
  std::map<std::string, std::shared_ptr<MemoryInstance>> instances_;
};

MemoryRegistry& registry_of(pipeline::RunTree& tree);

// What a store call gets: a text to embed, or a vector (memories without an embedding model).
struct StoreItem {
  std::string id;  // empty: generated
  std::optional<std::string> content;
  std::optional<std::vector<float>> vector;
  json metadata = json::object();
};

// The operations of the `memory` run kind. Each takes the instance's lock, loads it on first use,
// and (persisted) writes it back after a change. Failures are OpFailed: kind "memory" with the
// StateError code (DIMENSION_MISMATCH, NON_FINITE_VECTOR, UNKNOWN_ID, INVALID_FILTER ...), or the
// embedder's / storage's own error — never a half-inserted batch.
Task<json> store(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance,
                 std::vector<StoreItem> items);
Task<json> search(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, json query);
Task<json> forget(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance,
                  std::vector<std::string> ids);
Task<json> clear(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance);

// Graph memories (docs/memory.md, "Graph memories"): a batch of entities (embedded as
// EntityGraph::embedding_text unless a vector is given) and relations, checked whole first.
struct GraphBatch {
  std::vector<state::Entity> entities;
  std::vector<std::optional<std::vector<float>>> vectors;  // per entity
  std::vector<state::Relation> relations;
};
Task<json> store_graph(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, GraphBatch batch);
// `query` as for search(), plus the walk from the entities found.
Task<json> search_graph(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, json query,
                        state::WalkOptions walk);
Task<json> neighbors(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, std::string entity,
                     state::WalkOptions walk);

// Hierarchical memories (docs/memory.md, "Hierarchical memories"; hierarchical_memory.cpp): a store
// embeds its texts, writes every summary they complete (one model call each) and embeds those, and
// only then changes the index and the tree; a search goes top-down from the roots, opening the
// `beam` best summaries at each level (query: as for search(), plus beam and level).
Task<json> store_hierarchical(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance,
                              std::vector<StoreItem> items, ModelAccess access);
Task<json> search_hierarchical(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, json query);

// A graph memory's store({text}): one model call extracts {entities, relations} as JSON, checked
// against a schema, then stored as store_graph() stores a batch (graph_extraction.cpp).
Task<json> store_extracted(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, std::shared_ptr<MemoryInstance> instance, std::string text,
                           std::string instructions, ModelAccess access);

// The stored record of an instance: {format, index (base64 of VectorMemory::save), contents, nextId},
// for graph memories graph (EntityGraph::to_json), for hierarchical ones hierarchy (MemoryHierarchy::to_json).
json snapshot(const MemoryInstance& instance);

}  // namespace lmthing::memory
