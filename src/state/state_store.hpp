// defState (docs/state-and-caches.md): named JSON values a run tree keeps for its tools, hooks,
// guards and sub-agents, optionally persisted through the storage adapters.
//
// The engine owns the values. Each definition (kind "state") resolves, for the run that looks it up,
// to an instance in the root tree's StateStore: persisted instances are identified by their storage
// key (state:global:<name>, state:session:<sessionId>:<name>, state:agent:<agent>:<name>), so runs of
// one tree share one instance per key; instances that are not persisted live as long as the tree.
//
// An instance is loaded once (before the first step, or when the host first asks), saved with
// compare-and-set against the version it was loaded or last saved with, and saved again at the end
// of every run that sees it. Loads, saves and updates of one instance take its lock in turn, so they
// never race each other; changes from the host (`state.change`) apply at once.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"
#include "runtime/async_mutex.hpp"

namespace lmthing::state {

enum class StateScope { Session, Global, Agent };

struct StateSpec {
  std::string name;
  json initial;
  bool persist = false;
  StateScope scope = StateScope::Session;
  double ttl_ms = 0;                   // of the stored entry; every save renews it (0 = none)
  std::string storage;                 // a registered storage name; empty: the run's
  std::string serialize, deserialize;  // host callbacks (empty: the JSON value is stored as is)
  json changes = json::array();        // made by the prompt function before the run; applied when loaded
  bool save_on_load = false;           // the prompt function called saveState: save right after loading
};

// What a tree's definitions hold for kind "state" (shared: instances outlive the sub-run that defined them).
struct StateDefinition {
  std::shared_ptr<const StateSpec> spec;
};

struct StateInstance {
  StateInstance(Loop& loop, std::shared_ptr<const StateSpec> s) : spec(std::move(s)), lock(loop) {}
  std::shared_ptr<const StateSpec> spec;
  std::string id;       // unique in the store
  std::string key;      // the storage key (persisted instances)
  std::string storage;  // the storage name (persisted instances)
  json value;
  std::optional<std::string> version;  // the stored version `value` is based on; nullopt: nothing stored
  bool loaded = false;
  std::uint64_t changes = 0;        // counts every change
  std::uint64_t saved_changes = 0;  // `changes` as of the last load or save: dirty when they differ
  AsyncMutex lock;

  bool dirty() const { return changes != saved_changes; }
};

class StateStore {
 public:
  explicit StateStore(Loop& loop) : loop_(loop) {}

  // The instance of state `name` as a run of `tree` sees it (created unloaded on first use). Throws
  // protocol::ProtocolError for an unknown state (listing the defined ones).
  std::shared_ptr<StateInstance> instance(pipeline::RunTree& tree, const std::string& name);
  // Every instance the store holds.
  std::vector<std::shared_ptr<StateInstance>> all() const;

 private:
  Loop& loop_;
  std::map<std::string, std::shared_ptr<StateInstance>> instances_;
};

// The root tree's store.
StateStore& store_of(pipeline::RunTree& tree);

// Storage key of a persisted state: state:global:<name>, state:session:<id>:<name>, state:agent:<agent>:<name>.
std::string storage_key(const StateSpec& spec, const pipeline::RunScope& scope);

// Loads the instance (once). Storage failures throw OpFailed kind "storage" naming the state and key.
Task<void> load(const pipeline::CallEnv& env, std::shared_ptr<StateInstance> instance);
// Loads every state the run of `env` sees; returns [{name, id, value, persisted}].
Task<json> load_visible(pipeline::CallEnv env);
// Applies the host's changes to a loaded instance.
void change(StateInstance& instance, const json& changes);
// Writes the value with compare-and-set. When another writer saved the key since this instance was
// loaded or saved, the value is reloaded from storage and it throws STORAGE_CONFLICT.
Task<void> save(pipeline::CallEnv env, std::shared_ptr<StateInstance> instance);
// Read-modify-write: `fn` (a host callback) gets the stored value (the initial value when nothing
// is stored) and returns the new one, written with compare-and-set and retried on conflict.
// Returns the value written (for a state that is not persisted, fn gets and replaces the live value).
Task<json> update(pipeline::CallEnv env, std::shared_ptr<StateInstance> instance, std::string fn);
// At the end of a run: saves the dirty persisted states the run sees (all of the tree's for a root run).
Task<void> save_at_end(pipeline::CallEnv env);

}  // namespace lmthing::state
