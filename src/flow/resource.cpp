#include "flow/resource.hpp"

#include "flow/flow_error.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/run_tree.hpp"
#include "policy/retry.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

std::string label_of(const std::string& name) { return "resource \"" + name + "\""; }

WireError ended_error(const std::string& label) { return WireError{"aborted", label + ": the run that defined it has ended", json::object()}; }

bool healthy_answer(const json& v) { return v.is_boolean() ? v.get<bool>() : !v.is_null(); }

}  // namespace

Task<json> Resource::get(const pipeline::CallEnv& env) {
  if (ended_ || !owner_) throw OpFailed(ended_error(label_of(spec_.name)));
  auto self = shared_from_this();
  co_return co_await flight_.run(env.run, "get", [self, env](RunId run) {
    pipeline::CallEnv on = env;
    on.run = run;
    return self->ensure(std::move(on));
  });
}

// One initialization or health check, shared by every get that arrives meanwhile.
Task<json> Resource::ensure(pipeline::CallEnv env) {
  const std::string label = label_of(spec_.name);
  if (handle_ && spec_.health_check) {
    std::string why;
    try {
      // Built before the co_await: g++ 12 cannot keep a braced list's array alive across one.
      json args = json::array({*handle_});
      const json answer = co_await call_callback(env, *spec_.health_check, std::move(args), label + " healthCheck", nullptr);
      if (!healthy_answer(answer)) why = "healthCheck returned " + answer.dump();
    } catch (const OpFailed& e) {
      if (e.error.kind == "aborted" || env.cancelled()) throw;
      why = "healthCheck failed: " + e.error.message;
    }
    if (why.empty()) co_return *handle_;
    emit(json{{"type", "resource-unhealthy"}, {"resource", spec_.name}, {"reason", why}});
    co_await clean_up();
  }
  if (handle_) co_return *handle_;
  std::optional<WireError> failure;
  json handle;
  try {
    const UserCall call{"resource." + spec_.name, label + " initialize", spec_.initialize, &spec_.call, nullptr};
    handle = co_await call_user(env, call, [&](int) { return json::array({json{{"resource", spec_.name}, {"type", spec_.type}}}); });
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  if (failure) {
    if (failure->kind == "aborted") throw OpFailed(*failure);
    throw OpFailed(flow_error("resource", "RESOURCE_INIT_FAILED", label + ": initialize failed: " + failure->message,
                              json{{"resource", spec_.name}, {"cause", cause_of(*failure)}}));
  }
  handle_ = std::move(handle);
  order_ = env.tree->tree_services().get<SetupOrder>().next++;
  emit(json{{"type", "resource-initialized"}, {"resource", spec_.name}, {"resourceType", spec_.type}});
  if (ended_) {  // the run ended while this initialization was in flight: no value outlives it
    co_await clean_up();
    throw OpFailed(ended_error(label));
  }
  co_return *handle_;
}

Task<void> Resource::end() {
  ended_ = true;
  co_await clean_up();
}

Task<void> Resource::clean_up() {
  if (!handle_) co_return;
  json handle = std::move(*handle_);
  handle_.reset();
  order_ = 0;
  json event{{"type", "resource-cleanup"}, {"resource", spec_.name}, {"ok", true}};
  if (spec_.cleanup) {
    std::optional<WireError> failure;
    try {
      json request{{"fn", *spec_.cleanup}, {"args", json::array({std::move(handle)})}};  // before the co_await (g++ 12)
      co_await owner_->loop.op(kCleanupRun, "callback.invoke", std::move(request), kCleanupTimeoutMs, label_of(spec_.name) + " cleanup");
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    if (failure) {
      event["ok"] = false;
      event["error"] = failure->message;
    }
  }
  emit(std::move(event));
}

// ---------------------------------------------------------------------------------------- definition

namespace {

void define_resource(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  ResourceSpec spec;
  spec.name = name;
  spec.type = config.optional_string("type", true).value_or("");
  spec.initialize = config.string("initialize");
  spec.cleanup = config.optional_string("cleanup");
  spec.health_check = config.optional_string("healthCheck");
  if (config.has("retryPolicy")) {
    const json& retry = config.at("retryPolicy");
    if (retry.is_string() && !retry.get_ref<const std::string&>().empty())
      spec.call.retry_name = retry.get<std::string>();
    else if (retry.is_object())
      try {
        spec.call.retry = policy::parse_retry(retry, config.where() + ": retryPolicy");
      } catch (const std::invalid_argument& e) {
        throw protocol::ProtocolError(e.what());
      }
    else
      config.bad("retryPolicy", "a defRetry policy name or a retry config {maxAttempts, backoff, baseDelay, maxDelay, jitter}");
  }
  tree.definitions().add("resource", name, std::make_shared<Resource>(tree.loop(), std::move(spec)));
}

void link_resources(pipeline::RunTree& tree) {
  for (auto& [name, resource] : tree.definitions().all<Resource>("resource"))
    if (tree.definitions().own("resource", name)) resolve_call_policy(resource->spec().call, tree, label_of(name));
}

}  // namespace

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind resource_kind{
    "resource", "resource", {"type", "initialize", "cleanup", "healthCheck", "retryPolicy"}, flow::define_resource, flow::link_resources};
}  // namespace lmthing::pipeline::registered
