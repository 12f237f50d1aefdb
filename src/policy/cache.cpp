// defCache as a definition kind and the `cache` interceptor (docs/state-and-caches.md). A tool (or
// agent) with `cache: name`, or a run whose config names a cache for its model, answers a call from
// the cache when it can: first the engine's memory, then the storage level; otherwise the call goes
// on down the chain, once for all concurrent identical calls, and a successful answer is kept
// (not one a fallback stood in for). The interceptor sits after the gate and the output validator:
// guards and approvals are asked and outputs validated on a hit too; a hit skips fallback, retry,
// budget, rate, breaker, timeout and the op. A model hit is replayed to the host (`model.replay`),
// which streams its text and keeps its copy of the conversation as if the model had answered.
#include "pipeline/registry.hpp"
#include "protocol/json_text.hpp"
#include "state/cache_store.hpp"
#include "state/sha256.hpp"
#include "state/storage_client.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;
using protocol::WireError;
using state::CacheSpec;

constexpr std::size_t kLongKey = 200;  // longer keys are replaced by their digest

void define_cache(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  CacheSpec spec;
  spec.name = name;
  const auto strategy = config.choice("strategy", {"lru", "ttl", "persistent"});
  if (!strategy) config.fail("'strategy' is required: 'lru', 'ttl' or 'persistent'");
  spec.strategy = *strategy == "lru" ? state::CacheStrategy::Lru : *strategy == "ttl" ? state::CacheStrategy::Ttl : state::CacheStrategy::Persistent;
  spec.max_size =
      static_cast<std::size_t>(config.integer("maxSize", 1, 100'000'000).value_or(spec.strategy == state::CacheStrategy::Ttl ? 10'000 : 1000));
  spec.ttl_ms = config.ms("ttl").value_or(0);
  if (spec.strategy == state::CacheStrategy::Ttl && spec.ttl_ms == 0) config.fail("a 'ttl' cache needs 'ttl': how long entries live, in ms");
  spec.key_generator = config.optional_string("keyGenerator").value_or("");
  spec.storage = config.optional_string("storage").value_or("");
  spec.key_prefix = config.optional_string("keyPrefix", true).value_or("cache:" + name + ":");
  spec.compression = config.optional_bool("compression").value_or(false);
  const std::string on_error = config.choice("onStorageError", {"bypass", "fail"}).value_or("bypass");
  spec.fail_on_storage_error = on_error == "fail";
  if (spec.compression && !spec.in_storage())
    config.fail("'compression' applies to entries in storage: give the cache a 'storage', or use 'persistent'");
  auto core = tree.engine_services().get<state::CacheRegistry>().core(tree.loop(), spec);
  tree.definitions().add("cache", name, std::make_shared<state::CacheDefinition>(state::CacheDefinition{std::move(spec), std::move(core)}));
}

// What the events of a call say about it.
json about(const Call& call) {
  json out{{"stepNumber", call.context.value("stepNumber", json())}};
  if (call.kind == CallKind::Model) {
    out["target"] = "model";
    out["model"] = call.target;
  } else {
    out["target"] = "tool";
    out["toolName"] = call.target;
    out["toolCallId"] = call.context.value("toolCallId", json());
  }
  return out;
}

// The model request as the provider would see it, whatever the host already holds.
json normalized_request(const Call& call) {
  json request{{"model", call.target}};
  for (const char* field : {"system", "tools", "toolChoice", "responseFormat", "params"})
    request[field] = call.input.contains(field) ? call.input[field] : json();
  // Only when set, so that the keys of calls without them stay as they were.
  if (call.input.contains("providerOptions")) request["providerOptions"] = call.input["providerOptions"];
  const json& run_options = call.env->tree->scope().provider_options;
  if (run_options.is_object() && !run_options.empty()) request["runProviderOptions"] = run_options;
  request["messages"] = call.input.contains("messages") ? call.input["messages"] : call.messages ? *call.messages : json::array();
  return request;
}

class CacheInterceptor : public pipeline::Interceptor {
 public:
  explicit CacheInterceptor(const state::CacheDefinition& definition) : spec_(definition.spec), core_(definition.core) {}

  Task<json> intercept(Call call, Next next) override {
    const pipeline::CallEnv& env = *call.env;
    const std::string key = co_await key_of(call);
    const json where = about(call);
    if (state::LruCache* memory = core_->memory()) {
      const json* found = memory->get(key, env.loop.now_ms());
      json value = found ? *found : json();
      report_removed(env);
      if (found) {
        emit(env, "cache-hit", key, where, "memory");
        co_return co_await answer(call, std::move(value));
      }
    }
    if (spec_.in_storage()) {
      std::optional<json> stored = co_await read(call, key, where);
      if (stored) {
        remember(env, key, *stored);
        emit(env, "cache-hit", key, where, "storage");
        co_return co_await answer(call, std::move(*stored));
      }
    }
    auto executed = std::make_shared<bool>(false);
    SingleFlight::Work work = [self = this, call, next, key, where, executed](RunId) { return self->execute(call, next, key, where, executed); };
    // Runs keeping entries in different storages (a tenant each) do not share an answer in flight.
    const std::string flight = spec_.in_storage() ? storage_of(call) + '\n' + key : key;
    json value = co_await core_->flights().run(env.run, flight, std::move(work));
    if (*executed) co_return value;
    if (call.kind == CallKind::Model) value["usage"] = no_usage();  // only the leader's call was paid for
    emit(env, "cache-hit", key, where, "in-flight");
    co_return co_await answer(call, std::move(value));
  }

 private:
  static json no_usage() { return json{{"inputTokens", 0}, {"outputTokens", 0}, {"totalTokens", 0}}; }

  // The leader of concurrent identical calls: the call itself; a successful answer is kept (a
  // model's with no usage, since a hit costs nothing).
  Task<json> execute(Call call, Next next, std::string key, json where, std::shared_ptr<bool> executed) {
    *executed = true;
    const pipeline::CallEnv& env = *call.env;
    emit(env, "cache-miss", key, where);
    bool substituted = false;
    call.substituted = &substituted;
    json value = co_await next(call);
    if (substituted) co_return value;
    json kept = value;
    if (call.kind == CallKind::Model) kept["usage"] = no_usage();
    remember(env, key, kept);
    if (spec_.in_storage()) co_await write(call, key, kept, where);
    co_return value;
  }

  Task<std::string> key_of(const Call& call) {
    json subject = call.kind == CallKind::Model ? normalized_request(call) : call.input;
    std::string key;
    if (!spec_.key_generator.empty()) {
      json context{{"target", call.kind == CallKind::Model ? "model" : "tool"}, {"name", call.target}};
      json payload{{"fn", spec_.key_generator}, {"args", json::array({std::move(subject), std::move(context)})}};
      const std::string label = "keyGenerator of cache \"" + spec_.name + "\"";
      json generated = co_await call.env->loop.op(call.env->run, "callback.invoke", std::move(payload), 0, label);
      if (!generated.is_string() && !generated.is_number())
        throw OpFailed(WireError{"callback",
                                 "cache \"" + spec_.name + "\": keyGenerator must return a string, got " + std::string(generated.type_name()),
                                 json::object()});
      key = generated.is_string() ? generated.get<std::string>() : generated.dump();
    } else {
      // Canonical text: the same arguments in another key order hit the same entry.
      key = call.kind == CallKind::Model ? state::sha256_hex(protocol::canonical_dump(subject)) : protocol::canonical_dump(subject);
    }
    if (key.size() > kLongKey) key = "#" + state::sha256_hex(key);
    co_return (call.kind == CallKind::Model ? "model:" : "tool:" + call.target + ":") + key;
  }

  // A hit: a model's answer is replayed to the host first (text stream, conversation copy).
  static Task<json> answer(const Call& call, json value) {
    if (call.kind != CallKind::Model) co_return value;
    json payload{{"model", call.target}, {"step", call.input.value("step", json())}, {"content", value.value("content", json::array())}};
    if (call.input.contains("conversation")) payload["conversation"] = call.input["conversation"];
    const std::string label = "model \"" + call.target + "\"";
    co_await call.env->loop.op(call.env->run, "model.replay", std::move(payload), 0, label);
    co_return value;
  }

  void remember(const pipeline::CallEnv& env, const std::string& key, const json& value) {
    if (state::LruCache* memory = core_->memory()) {
      memory->put(key, value, env.loop.now_ms());
      report_removed(env);
    }
  }

  std::string storage_of(const Call& call) const { return spec_.storage.empty() ? call.env->tree->scope().storage : spec_.storage; }

  state::StorageCallOptions storage_options() const {
    state::StorageCallOptions options;
    options.ttl_ms = spec_.ttl_ms;
    options.compress = spec_.compression;
    return options;
  }

  // The stored entry ({value}), or nullopt when absent, unreadable or the storage failed (reported).
  Task<std::optional<json>> read(const Call& call, const std::string& key, const json& where) {
    const std::string storage = storage_of(call);
    const std::string stored_key = spec_.key_prefix + key;
    const state::StorageCallOptions options = storage_options();
    std::optional<WireError> failure;
    std::optional<state::StoredValue> stored;
    try {
      stored = co_await state::storage_get(call.env->loop, call.env->run, storage, stored_key, options);
    } catch (const OpFailed& e) {
      if (e.error.kind != "storage") throw;
      failure = e.error;
    }
    if (failure) {
      storage_failed(*call.env, key, where, *failure);
      co_return std::nullopt;
    }
    if (!stored) co_return std::nullopt;
    if (!stored->value.is_object() || !stored->value.contains("value")) {
      // Under onStorageError: 'fail' the call fails, and goes on failing until the record is gone.
      WireError corrupt{"storage",
                        spec_.fail_on_storage_error
                            ? "the stored record is not a cache entry ({value}); with onStorageError: 'fail' the call fails until the record "
                              "is deleted or replaced (or the cache uses 'bypass', which overwrites it)"
                            : "the stored record is not a cache entry ({value}); it is ignored and will be overwritten",
                        json{{"code", "STORAGE_CORRUPT"}, {"key", spec_.key_prefix + key}}};
      storage_failed(*call.env, key, where, corrupt);
      co_return std::nullopt;
    }
    co_return std::move(stored->value["value"]);
  }

  Task<void> write(const Call& call, const std::string& key, const json& value, const json& where) {
    const std::string storage = storage_of(call);
    const std::string stored_key = spec_.key_prefix + key;
    const state::StorageCallOptions options = storage_options();
    std::optional<WireError> failure;
    json record{{"value", value}};
    try {
      co_await state::storage_set(call.env->loop, call.env->run, storage, stored_key, std::move(record), options);
    } catch (const OpFailed& e) {
      if (e.error.kind != "storage") throw;
      failure = e.error;
    }
    if (failure) storage_failed(*call.env, key, where, *failure);
  }

  // A storage failure is reported (cache-error) and the cache is bypassed, or the call fails with
  // it (onStorageError: 'fail'), named after the cache.
  void storage_failed(const pipeline::CallEnv& env, const std::string& key, const json& where, WireError error) {
    error.message = "cache \"" + spec_.name + "\" (key \"" + spec_.key_prefix + key + "\"): " + error.message;
    error.extra["cache"] = spec_.name;
    error.extra["key"] = spec_.key_prefix + key;
    json event = where;
    event["type"] = "cache-error";
    event["cache"] = spec_.name;
    event["key"] = key;
    event["code"] = error.extra.value("code", "STORAGE_UNAVAILABLE");
    event["message"] = error.message;
    env.emit(std::move(event));
    if (spec_.fail_on_storage_error) throw OpFailed(std::move(error));
  }

  void emit(const pipeline::CallEnv& env, const char* type, const std::string& key, const json& where, const char* source = nullptr) const {
    json event = where;
    event["type"] = type;
    event["cache"] = spec_.name;
    event["key"] = key;
    if (source) event["source"] = source;
    env.emit(std::move(event));
  }

  void report_removed(const pipeline::CallEnv& env) {
    for (auto& [key, why] : core_->take_removed())
      env.emit(
          json{{"type", "cache-evict"}, {"cache", spec_.name}, {"key", key}, {"reason", why == state::Removal::capacity ? "capacity" : "expired"}});
  }

  const CacheSpec& spec_;
  std::shared_ptr<state::CacheCore> core_;
};

std::unique_ptr<pipeline::Interceptor> make_cache(const pipeline::Target& target) {
  const bool model = target.kind == CallKind::Model;
  protocol::FieldReader options(target.options, model ? std::string("the run's model options") : "tool \"" + target.tool->name + "\"");
  auto name = options.optional_string("cache");
  if (!name) return nullptr;
  return std::make_unique<CacheInterceptor>(target.tree.definitions().get<state::CacheDefinition>("cache", *name));
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const DefinitionKind cache_kind{"cache",
                                       "cache",
                                       {"strategy", "maxSize", "ttl", "keyGenerator", "storage", "keyPrefix", "compression", "onStorageError"},
                                       policy::define_cache,
                                       nullptr};
extern const InterceptorType cache_interceptor{"cache", {"cache"}, {"cache"}, policy::make_cache};
}  // namespace lmthing::pipeline::registered
