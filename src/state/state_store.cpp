#include "state/state_store.hpp"

#include "pipeline/run_tree.hpp"
#include "state/json_changes.hpp"
#include "state/storage_client.hpp"

namespace lmthing::state {

using protocol::WireError;

namespace {

constexpr int kMaxConflicts = 100;  // as storage_update: then STORAGE_CONFLICT

// Keeps ':' out of a session id, so that the last ':' of a key always starts the state's name.
std::string escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%')
      out += "%25";
    else if (c == ':')
      out += "%3A";
    else
      out += c;
  }
  return out;
}

std::string describe(const StateInstance& instance) {
  std::string out = "state \"" + instance.spec->name + "\"";
  if (instance.spec->persist) out += " (key \"" + instance.key + "\" on storage \"" + instance.storage + "\")";
  return out;
}

[[noreturn]] void fail(const StateInstance& instance, const std::string& code, const std::string& message) {
  throw OpFailed(WireError{"storage", describe(instance) + ": " + message,
                           json{{"code", code}, {"state", instance.spec->name}, {"key", instance.key}, {"storageName", instance.storage}}});
}

// A storage failure, renamed after the state (the adapter's code and name are kept); others unchanged.
[[noreturn]] void rethrow_for(const StateInstance& instance, const OpFailed& e) {
  if (e.error.kind != "storage") throw e;
  WireError error = e.error;
  error.message = describe(instance) + ": " + error.message;
  error.extra["state"] = instance.spec->name;
  error.extra["key"] = instance.key;
  error.extra["storageName"] = instance.storage;
  throw OpFailed(std::move(error));
}

Task<json> invoke(const pipeline::CallEnv& env, const std::string& fn, json value, std::string label) {
  json payload{{"fn", fn}, {"args", json::array({std::move(value)})}};
  co_return co_await env.loop.op(env.run, "callback.invoke", std::move(payload), 0, std::move(label));
}

// The stored value (deserialized) and its version, or nullopt when nothing is stored.
Task<std::optional<StoredValue>> read(const pipeline::CallEnv& env, const StateInstance& instance) {
  const StateSpec& spec = *instance.spec;
  std::optional<StoredValue> stored;
  try {
    stored = co_await storage_get(env.loop, env.run, instance.storage, instance.key);
  } catch (const OpFailed& e) {
    rethrow_for(instance, e);
  }
  if (!stored || spec.deserialize.empty()) co_return stored;
  if (!stored->value.is_string())
    fail(instance, "STORAGE_CORRUPT",
         "the stored record is " + std::string(stored->value.type_name()) +
             ", but a state with a deserialize function is stored as the string its serialize function returned");
  std::optional<std::string> failure;
  const std::string label = "deserialize of state \"" + spec.name + "\"";
  try {
    stored->value = co_await invoke(env, spec.deserialize, std::move(stored->value), label);
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted") throw;
    failure = e.error.message;
  }
  if (failure) fail(instance, "STORAGE_CORRUPT", "the deserialize function failed on the stored record: " + *failure);
  co_return stored;
}

// Writes `value` if the key is still at `expected`; the new version, or nullopt on a conflict.
Task<std::optional<std::string>> write(const pipeline::CallEnv& env, const StateInstance& instance, json value, std::optional<std::string> expected) {
  const StateSpec& spec = *instance.spec;
  if (!spec.serialize.empty()) {
    std::optional<std::string> failure;
    const std::string label = "serialize of state \"" + spec.name + "\"";
    try {
      value = co_await invoke(env, spec.serialize, std::move(value), label);
    } catch (const OpFailed& e) {
      if (e.error.kind == "aborted") throw;
      failure = e.error.message;
    }
    if (failure) fail(instance, "STORAGE_UNSERIALIZABLE", "the serialize function failed: " + *failure);
    if (!value.is_string())
      fail(instance, "STORAGE_UNSERIALIZABLE", "the serialize function must return a string, got " + std::string(value.type_name()));
  }
  StorageCallOptions options;
  options.ttl_ms = spec.ttl_ms;
  try {
    co_return co_await storage_cas(env.loop, env.run, instance.storage, instance.key, std::move(expected), std::move(value), options);
  } catch (const OpFailed& e) {
    rethrow_for(instance, e);
  }
}

void emit(const pipeline::CallEnv& env, const StateInstance& instance, const char* type, json extra = json::object()) {
  json event{{"type", type}, {"state", instance.spec->name}, {"persisted", instance.spec->persist}};
  if (instance.spec->persist) {
    event["key"] = instance.key;
    event["storage"] = instance.storage;
  }
  event.update(extra);
  env.emit(std::move(event));
}

json initial_with_changes(const StateSpec& spec, const std::optional<StoredValue>& stored) {
  json value = stored ? stored->value : spec.initial;
  apply_changes(value, spec.changes);
  return value;
}

}  // namespace

// ------------------------------------------------------------------------------------ the store

StateStore& store_of(pipeline::RunTree& tree) { return tree.tree_services().get<StateStore>(tree.loop()); }

std::string storage_key(const StateSpec& spec, const pipeline::RunScope& scope) {
  switch (spec.scope) {
    case StateScope::Global: return "state:global:" + spec.name;
    case StateScope::Agent: return "state:agent:" + escaped(scope.agent) + ":" + spec.name;
    case StateScope::Session: break;
  }
  return "state:session:" + escaped(scope.session) + ":" + spec.name;
}

std::shared_ptr<StateInstance> StateStore::instance(pipeline::RunTree& tree, const std::string& name) {
  const StateDefinition& definition = tree.definitions().get<StateDefinition>("state", name);
  const StateSpec& spec = *definition.spec;
  const std::string key = storage_key(spec, tree.scope());
  const std::string storage = spec.persist ? (spec.storage.empty() ? tree.scope().storage : spec.storage) : "";
  // Persisted: one instance per stored entry. Not persisted: one per definition (and agent).
  const std::string id = spec.persist ? storage + "|" + key : key + "|" + std::to_string(reinterpret_cast<std::uintptr_t>(definition.spec.get()));
  auto& slot = instances_[id];
  if (!slot) {
    slot = std::make_shared<StateInstance>(loop_, definition.spec);
    slot->id = id;
    slot->key = key;
    slot->storage = storage;
  }
  return slot;
}

std::vector<std::shared_ptr<StateInstance>> StateStore::all() const {
  std::vector<std::shared_ptr<StateInstance>> out;
  for (const auto& [id, instance] : instances_) out.push_back(instance);
  return out;
}

// ----------------------------------------------------------------------------- load, save, update

Task<void> load(const pipeline::CallEnv& env, std::shared_ptr<StateInstance> instance) {
  if (instance->loaded) co_return;
  auto guard = co_await instance->lock.lock();
  if (instance->loaded) co_return;
  const StateSpec& spec = *instance->spec;
  std::optional<StoredValue> stored;
  if (spec.persist) stored = co_await read(env, *instance);
  json value = initial_with_changes(spec, stored);
  std::optional<std::string> version = stored ? std::optional<std::string>(stored->version) : std::nullopt;
  const bool changed = !spec.changes.empty();
  bool saved = false;
  if (spec.persist && changed && spec.save_on_load) {
    // The prompt function's changes go on top of whatever is stored when they are written.
    for (int attempt = 0;; ++attempt) {
      if (auto written = co_await write(env, *instance, value, version)) {
        version = std::move(written);
        saved = true;
        break;
      }
      if (attempt + 1 >= kMaxConflicts)
        fail(*instance, "STORAGE_CONFLICT", "the key kept changing under " + std::to_string(kMaxConflicts) + " compare-and-set attempts; giving up");
      co_await conflict_pause(env.loop, env.run, instance->key, attempt + 1);
      stored = co_await read(env, *instance);
      value = initial_with_changes(spec, stored);
      version = stored ? std::optional<std::string>(stored->version) : std::nullopt;
    }
  }
  instance->value = std::move(value);
  instance->version = std::move(version);
  instance->loaded = true;
  if (changed) ++instance->changes;
  if (!spec.persist || !changed || saved) instance->saved_changes = instance->changes;
  emit(env, *instance, "state-loaded", json{{"found", stored.has_value()}});
  if (saved) emit(env, *instance, "state-saved");
}

Task<json> load_visible(pipeline::CallEnv env) {
  StateStore& store = store_of(*env.tree);
  json states = json::array();
  for (const auto& [name, definition] : env.tree->definitions().all<StateDefinition>("state")) {
    auto instance = store.instance(*env.tree, name);
    co_await load(env, instance);
    states.push_back(json{{"name", name}, {"id", instance->id}, {"value", instance->value}, {"persisted", instance->spec->persist}});
  }
  co_return states;
}

void change(StateInstance& instance, const json& changes) {
  apply_changes(instance.value, changes);
  ++instance.changes;
}

namespace {

// Writes the instance's unsaved changes with compare-and-set (the caller holds its lock); on a
// conflict the stored value wins, the instance holds it, and STORAGE_CONFLICT says what was lost.
Task<void> write_unsaved(pipeline::CallEnv env, std::shared_ptr<StateInstance> instance, std::string conflict_message) {
  const std::uint64_t snapshot = instance->changes;
  if (auto written = co_await write(env, *instance, instance->value, instance->version)) {
    instance->version = std::move(written);
    instance->saved_changes = snapshot;  // changes that arrived while it was written stay unsaved
    emit(env, *instance, "state-saved");
    co_return;
  }
  // Another writer saved the key since this instance was loaded: its value wins; ours is reported.
  std::optional<StoredValue> stored = co_await read(env, *instance);
  instance->value = stored ? stored->value : instance->spec->initial;
  instance->version = stored ? std::optional<std::string>(stored->version) : std::nullopt;
  instance->saved_changes = ++instance->changes;
  emit(env, *instance, "state-conflict");
  fail(*instance, "STORAGE_CONFLICT", conflict_message);
}

}  // namespace

Task<void> save(pipeline::CallEnv env, std::shared_ptr<StateInstance> instance) {
  co_await load(env, instance);
  if (!instance->spec->persist || !instance->dirty()) co_return;
  auto guard = co_await instance->lock.lock();
  if (!instance->dirty()) co_return;  // saved by the save this one waited for
  co_await write_unsaved(env, instance,
                         "another writer saved it since this run loaded or saved it, so these changes were not written; the live value now "
                         "holds the stored one. Make the change again, or use updateState(name, fn), which retries on conflict");
}

Task<json> update(pipeline::CallEnv env, std::shared_ptr<StateInstance> instance, std::string fn) {
  co_await load(env, instance);
  auto guard = co_await instance->lock.lock();
  const StateSpec& spec = *instance->spec;
  const std::string label = "updateState(\"" + spec.name + "\")";
  if (!spec.persist) {
    json next = co_await invoke(env, fn, instance->value, label);
    instance->value = next;
    ++instance->changes;
    instance->saved_changes = instance->changes;
    co_return next;
  }
  // Changes made to the live value and not saved yet go first: the update reads the stored value,
  // so it would drop them.
  if (instance->dirty())
    co_await write_unsaved(env, instance,
                           "the live value had changes not saved yet, and another writer saved it since this run loaded or saved it, so "
                           "those changes were not written and the update was not made; the live value now holds the stored one");
  for (int attempt = 0; attempt < kMaxConflicts; ++attempt) {
    if (attempt > 0) co_await conflict_pause(env.loop, env.run, instance->key, attempt);
    std::optional<StoredValue> stored = co_await read(env, *instance);
    std::optional<std::string> version = stored ? std::optional<std::string>(stored->version) : std::nullopt;
    json current = stored ? std::move(stored->value) : spec.initial;
    json next = co_await invoke(env, fn, std::move(current), label);
    if (auto written = co_await write(env, *instance, next, std::move(version))) {
      instance->value = next;
      instance->version = std::move(written);
      instance->saved_changes = ++instance->changes;
      emit(env, *instance, "state-saved");
      co_return next;
    }
  }
  fail(*instance, "STORAGE_CONFLICT", "the key kept changing under " + std::to_string(kMaxConflicts) + " compare-and-set attempts; giving up");
}

Task<void> save_at_end(pipeline::CallEnv env) {
  std::vector<std::shared_ptr<StateInstance>> instances;
  StateStore& store = store_of(*env.tree);
  if (env.tree->is_root()) {
    instances = store.all();
  } else {
    for (const auto& [name, definition] : env.tree->definitions().all<StateDefinition>("state")) instances.push_back(store.instance(*env.tree, name));
  }
  for (auto& instance : instances)
    if (instance->loaded && instance->spec->persist && instance->dirty()) co_await save(env, instance);
}

}  // namespace lmthing::state
