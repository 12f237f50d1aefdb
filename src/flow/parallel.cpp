#include "flow/parallel.hpp"

#include <algorithm>

#include "flow/flow_spans.hpp"
#include "flow/task_group.hpp"
#include "flow/user_call.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

using protocol::in_quotes;

const char* aggregation_name(Aggregation kind) {
  switch (kind) {
    case Aggregation::First: return "first";
    case Aggregation::Majority: return "majority";
    case Aggregation::Consensus: return "consensus";
    case Aggregation::All: break;
  }
  return "all";
}

void define_parallel(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto p = std::make_shared<Parallel>();
  p->name = name;
  const json& tasks = config.array_field("tasks");
  if (tasks.empty()) config.fail("\"tasks\" must list at least one task");
  std::vector<std::string> names;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const FieldReader t(tasks[i], config.where() + ": tasks[" + std::to_string(i) + "]");
    t.only({"name", "fn"}, "field");
    ParallelTask task{t.string("name"), t.string("fn")};
    if (std::find(names.begin(), names.end(), task.name) != names.end()) t.fail("task " + in_quotes(task.name) + " is defined twice");
    names.push_back(task.name);
    p->tasks.push_back(std::move(task));
  }
  p->aggregation = read_aggregation(config, std::move(names), "parallel " + in_quotes(name), name);
  p->timeout_ms = config.ms("timeout").value_or(0);
  p->concurrency = static_cast<std::size_t>(config.integer("concurrency", 1, 1000000).value_or(0));
  tree.definitions().add("parallel", name, std::move(p));
}

struct Outcome {
  std::size_t task;
  std::optional<json> value;
  WireError error;
};

// The tasks of one execution: each in flight with the id of its op, so that the group can cancel it.
class Group {
 public:
  Group(const pipeline::CallEnv& env, const Parallel& p, json input) : env_(env), p_(p), input_(std::move(input)), ops_(p.tasks.size(), 0) {
    if (p.timeout_ms > 0)
      deadline_ = Deadline{
          env.loop.now_ms() + p.timeout_ms,
          WireError{"timeout",
                    "parallel " + in_quotes(p.name) + ": the task was still running after the group's timeout of " + format_ms(p.timeout_ms) + " ms",
                    json::object()}};
  }

  Task<void> member(std::size_t i) {
    const ParallelTask& task = p_.tasks[i];
    if (expired_ || (deadline_.at > 0 && env_.loop.now_ms() >= deadline_.at)) {
      // Its turn (concurrency) came after the group's time was up: it never ran.
      finished.push_back(Outcome{i, std::nullopt,
                                 WireError{"timeout",
                                           "parallel " + in_quotes(p_.name) + ": the group's timeout of " + format_ms(p_.timeout_ms) +
                                               " ms passed before the task could start (concurrency " + std::to_string(p_.concurrency) + ")",
                                           json::object()}});
      co_return;
    }
    const UserCall call{
        p_.name + "." + task.name, "parallel " + in_quotes(p_.name) + " task " + in_quotes(task.name), task.fn, nullptr, &deadline_, &ops_[i]};
    // What the task's callback starts hangs under the task's span, in the group's.
    pipeline::CallEnv env = env_;
    const observe::SpanId span = open_span(env_, "parallel_task " + task.name, "parallel_task", json{{"lmthing.parallel.task", task.name}});
    if (span) env.span = span;
    try {
      json value = co_await call_user(env, call, [&](int) { return json::array({input_, json{{"parallel", p_.name}, {"task", task.name}}}); });
      if (cancelled_)
        finished.push_back(Outcome{i, std::nullopt, *cancelled_});  // settled by cancel_running, not by the task
      else
        finished.push_back(Outcome{i, std::move(value), {}});
    } catch (const OpFailed& e) {
      // The group's time is up (a host timer may fire a fraction of a ms before the engine's clock
      // reaches the deadline): the tasks after this one never start.
      if (deadline_.at > 0 && e.error.message == deadline_.error.message) expired_ = true;
      finished.push_back(Outcome{i, std::nullopt, e.error});
    }
    const Outcome& outcome = finished.back();
    close_span(env_, span, outcome.value ? "" : outcome.error.message,
               outcome.value ? json{{"lmthing.parallel.task.status", "success"}}
                             : json{{"lmthing.parallel.task.status", "error"}, {"error.type", outcome.error.kind}});
    ops_[i] = 0;
  }

  // Cancels the tasks still in flight: the host is told to cancel their ops (their AbortSignal
  // fires) and they count as failed with `why`. (The loop settles an op early only with a value,
  // so the members tell such a value from a result by `cancelled_`.)
  void cancel_running(const std::string& why) {
    cancelled_ = WireError{"aborted", why, json::object()};
    for (OpId& op : ops_)
      if (op != 0) env_.loop.settle_early(std::exchange(op, 0), nullptr, why);
  }

  std::vector<Outcome> finished;

 private:
  const pipeline::CallEnv& env_;
  const Parallel& p_;
  json input_;
  Deadline deadline_;
  std::vector<OpId> ops_;
  std::optional<WireError> cancelled_;
  bool expired_ = false;  // a task failed with the group's timeout
};

}  // namespace

Task<json> run_parallel(const pipeline::CallEnv& env, const Parallel& p, json input) {
  const char* aggregation = aggregation_name(p.aggregation.kind);
  env.emit(json{{"type", "parallel-start"}, {"parallel", p.name}, {"aggregation", aggregation}, {"tasks", p.aggregation.tasks}});
  // What the tasks start hangs under the group's span.
  pipeline::CallEnv tasks_env = env;
  const observe::SpanId span =
      open_span(env, "parallel " + p.name, "parallel", json{{"lmthing.parallel.name", p.name}, {"lmthing.parallel.aggregation", aggregation}});
  if (span) tasks_env.span = span;
  Group group(tasks_env, p, std::move(input));
  Join join(p.aggregation);
  TaskGroup tasks(env.loop, co_await current_scope());
  std::size_t next = 0;
  // Compare and judge callbacks run in the caller's environment, outside the group's timeout.
  while (next < p.tasks.size() || tasks.running() > 0 || !group.finished.empty()) {
    while (!join.decided() && next < p.tasks.size() && (p.concurrency == 0 || tasks.running() < p.concurrency)) tasks.start(group.member(next++));
    if (group.finished.empty()) co_await tasks.wait_any();
    for (auto& outcome : std::exchange(group.finished, {})) {
      const bool was_decided = join.decided();
      if (co_await join.add(env, outcome.task, std::move(outcome.value), &outcome.error) && !was_decided)
        group.cancel_running("parallel " + in_quotes(p.name) + " was decided without this task");
    }
    if (join.decided()) next = p.tasks.size();
  }
  std::optional<json> value;
  std::optional<WireError> failure;
  try {
    if (env.cancelled()) throw OpFailed(WireError{"aborted", "parallel " + in_quotes(p.name) + ": the run was cancelled", json::object()});
    value = co_await join.result(env, WireError{"aborted", "the task did not run", json::object()});
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  json event{{"type", "parallel-finish"}, {"parallel", p.name}, {"tasks", join.statuses()}, {"status", failure ? "error" : "success"}};
  if (auto winner = join.winner()) event["winner"] = *winner;
  if (failure) event["error"] = failure->message;
  json attributes{{"lmthing.parallel.status", failure ? "error" : "success"}};
  if (auto winner = join.winner()) attributes["lmthing.parallel.winner"] = *winner;
  if (failure) attributes["error.type"] = failure->kind;
  env.emit(std::move(event));
  close_span(env, span, failure ? failure->message : "", std::move(attributes));
  if (failure) throw OpFailed(*failure);
  co_return std::move(*value);
}

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind parallel_kind{"parallel",
                                          "parallel group",
                                          {"tasks", "aggregation", "minSuccess", "timeout", "concurrency", "compare", "judge"},
                                          flow::define_parallel,
                                          nullptr};
}  // namespace lmthing::pipeline::registered
