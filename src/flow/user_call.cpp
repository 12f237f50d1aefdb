#include "flow/user_call.hpp"

#include <algorithm>

#include "pipeline/run_tree.hpp"

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
      throw e.prefixed(where + ": ");
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

// One callback op bounded by `own_timeout` and the deadline, whichever comes first.
Task<json> bounded_op(const pipeline::CallEnv& env, const std::string& callback, json args, const std::string& label, double own_timeout,
                      const Deadline* deadline, OpId* op_id = nullptr) {
  double timeout = own_timeout;
  bool deadline_binds = false;
  if (deadline && deadline->at > 0) {
    const double remaining = deadline->at - env.loop.now_ms();
    if (remaining <= 0) throw pipeline::RunFailed(deadline->error);
    if (timeout <= 0 || remaining < timeout) {
      timeout = remaining;
      deadline_binds = true;
    }
  }
  json payload{{"fn", callback}, {"args", std::move(args)}};
  std::optional<WireError> failure;
  json value;
  try {
    auto op = env.loop.op(env.run, "callback.invoke", std::move(payload), timeout, label);
    op.in_span(env.span);  // a workflow step or parallel task started inside a tool call: its work stays under that call
    if (op_id) op.tracked(op_id);
    value = co_await op;
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  if (!failure) co_return value;
  if (deadline_binds && failure->kind == "timeout") throw pipeline::RunFailed(deadline->error);
  throw OpFailed(*failure);
}

// The innermost link of a unit's chain: one attempt.
class Attempt : public pipeline::Interceptor {
 public:
  Attempt(const UserCall& call, ArgsMaker make_args) : call_(call), make_args_(std::move(make_args)) {}

  Task<json> intercept(pipeline::Call c, pipeline::Next) override {
    const int attempt = ++attempts_;
    json args = make_args_(attempt);
    args.back()["attempt"] = attempt;
    const double timeout = call_.policy ? call_.policy->timeout_ms : 0;
    co_return co_await bounded_op(*c.env, call_.callback, std::move(args), call_.label, timeout, call_.deadline, call_.op);
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
  if (call.deadline) request.deadline_at = call.deadline->at;
  co_return co_await chain.call(std::move(request));
}

Task<json> call_callback(const pipeline::CallEnv& env, const std::string& callback, json args, const std::string& label, const Deadline* deadline) {
  co_return co_await bounded_op(env, callback, std::move(args), label, 0, deadline);
}

}  // namespace lmthing::flow
