#include "flow/user_call.hpp"

#include "pipeline/run_tree.hpp"
#include "runtime/scope.hpp"

namespace lmthing::flow {

using protocol::WireError;

CallPolicy read_call_policy(const protocol::FieldReader& fields) {
  CallPolicy policy;
  if (auto retries = fields.integer("retries", 0, 100)) policy.retries = *retries;
  if (fields.has("retry")) {
    const json& retry = fields.at("retry");
    if (retry.is_number()) {
      policy.retries = fields.integer("retry", 0, 100).value_or(0);
    } else if (retry.is_string() && !retry.get_ref<const std::string&>().empty()) {
      policy.retry_name = retry.get<std::string>();
    } else {
      fields.bad("retry", "a defRetry policy name or a number of retries");
    }
  }
  policy.timeout_ms = fields.ms("timeout").value_or(0);
  return policy;
}

void resolve_call_policy(CallPolicy& policy, const pipeline::RunTree& tree, const std::string& where) {
  if (policy.retry_name) {
    try {
      policy.retry = tree.definitions().get<policy::RetryPolicy>("retry", *policy.retry_name);
    } catch (const protocol::ProtocolError& e) {
      throw protocol::ProtocolError(where + ": " + e.what());
    }
  } else if (policy.retries > 0) {
    policy.retry = retries_policy(policy.retries);
  }
}

policy::RetryPolicy retries_policy(int retries) {
  policy::RetryPolicy p;
  p.max_attempts = retries + 1;
  p.backoff.kind = policy::BackoffConfig::Exponential;
  p.backoff.base_delay_ms = 500;
  p.backoff.max_delay_ms = 30000;
  p.backoff.jitter = 0;
  return p;
}

namespace {

// The innermost link of a unit's chain: one attempt, in its own scope.
class Attempt : public pipeline::Interceptor {
 public:
  Attempt(const UserCall& call, ArgsMaker make_args) : call_(call), make_args_(std::move(make_args)) {}

  Task<json> intercept(pipeline::Call c, pipeline::Next) override {
    Loop& loop = c.env->loop;
    ScopeRef scope = ScopeRef::open(loop, c.env->run);
    const double timeout = call_.policy ? call_.policy->timeout_ms : 0;
    if (timeout > 0)
      loop.set_deadline(scope.id(), timeout, WireError{"timeout", call_.label + " timed out after " + format_ms(timeout) + " ms", json::object()});
    // An attempt that cannot start (its flow was cancelled) must not build arguments the host never sees.
    if (const WireError* cancelled = loop.cancellation(scope.id())) throw OpFailed(*cancelled);
    const int attempt = ++attempts_;
    json args = make_args_(attempt);
    args.back()["scope"] = scope.id();
    args.back()["attempt"] = attempt;
    std::optional<json> value;
    std::optional<WireError> failure;
    try {
      value = co_await loop.op(scope.id(), "callback.invoke", json{{"fn", call_.callback}, {"args", std::move(args)}}, 0, call_.label);
    } catch (const OpFailed& e) {
      failure = e.error;
    }
    // Whatever the attempt started and left running ends with it.
    loop.cancel_run(scope.id(), WireError{"aborted", call_.label + " has ended", json::object()});
    if (failure) throw OpFailed(*failure);
    co_return std::move(*value);
  }

 private:
  const UserCall& call_;
  ArgsMaker make_args_;
  int attempts_ = 0;
};

}  // namespace

Task<json> call_user(const pipeline::CallEnv& env, UserCall call, ArgsMaker make_args) {
  std::vector<std::unique_ptr<pipeline::Interceptor>> links;
  std::vector<std::string> names;
  if (call.policy && call.policy->retry && call.policy->retry->max_attempts > 1) {
    links.push_back(policy::make_retry_interceptor(*call.policy->retry, *env.tree));
    names.emplace_back("retry");
  }
  links.push_back(std::make_unique<Attempt>(call, std::move(make_args)));
  names.emplace_back("attempt");
  const pipeline::Chain chain(pipeline::CallKind::Tool, std::move(links), std::move(names));
  pipeline::Call request;
  request.kind = pipeline::CallKind::Tool;
  request.env = &env;
  request.target = call.target;
  request.context = json{{"stepNumber", nullptr}};
  co_return co_await chain.call(std::move(request));
}

Task<json> call_callback(const pipeline::CallEnv& env, const std::string& callback, json args, const std::string& label) {
  co_return co_await env.loop.op(env.run, "callback.invoke", json{{"fn", callback}, {"args", std::move(args)}}, 0, label);
}

}  // namespace lmthing::flow
