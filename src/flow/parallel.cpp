#include "flow/parallel.hpp"

#include "flow/task_group.hpp"
#include "flow/user_call.hpp"
#include "pipeline/registry.hpp"
#include "runtime/scope.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

void define_parallel(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto p = std::make_shared<Parallel>();
  p->name = name;
  const json& tasks = config.array_field("tasks");
  if (tasks.empty()) config.fail("\"tasks\" must list at least one task");
  std::vector<std::string> names;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    FieldReader t(tasks[i], config.where() + ": tasks[" + std::to_string(i) + "]");
    t.only({"name", "fn"}, "field");
    ParallelTask task{t.string("name"), t.string("fn")};
    if (std::find(names.begin(), names.end(), task.name) != names.end()) t.fail("task \"" + task.name + "\" is defined twice");
    names.push_back(task.name);
    p->tasks.push_back(std::move(task));
  }
  p->aggregation = read_aggregation(config, std::move(names), "parallel \"" + name + "\"", name);
  p->timeout_ms = config.ms("timeout").value_or(0);
  p->concurrency = static_cast<std::size_t>(config.integer("concurrency", 1, 1000000).value_or(0));
  tree.definitions().add("parallel", name, std::move(p));
}

}  // namespace

Task<json> run_parallel(const pipeline::CallEnv& env, const Parallel& p, json input) {
  Loop& loop = env.loop;
  ScopeRef group = ScopeRef::open(loop, env.run);
  const WireError timed_out{"timeout", "parallel \"" + p.name + "\" timed out after " + format_ms(p.timeout_ms) + " ms", json::object()};
  if (p.timeout_ms > 0) loop.set_deadline(group.id(), p.timeout_ms, timed_out);
  pipeline::CallEnv tasks_env = env;
  tasks_env.run = group.id();
  env.emit(json{{"type", "parallel-start"}, {"parallel", p.name}, {"aggregation", json(p.aggregation.kind == Aggregation::All ? "all" : p.aggregation.kind == Aggregation::First ? "first" : p.aggregation.kind == Aggregation::Majority ? "majority" : "consensus")}, {"tasks", p.aggregation.tasks}});

  struct Outcome {
    std::size_t task;
    std::optional<json> value;
    WireError error;
  };
  std::vector<Outcome> finished;
  auto member = [&](std::size_t i) -> Task<void> {
    const ParallelTask& task = p.tasks[i];
    const UserCall call{p.name + "." + task.name, "parallel \"" + p.name + "\" task \"" + task.name + "\"", task.fn, nullptr};
    try {
      json value = co_await call_user(tasks_env, call, [&](int) { return json::array({input, json{{"parallel", p.name}, {"task", task.name}}}); });
      finished.push_back(Outcome{i, std::move(value), {}});
    } catch (const OpFailed& e) {
      finished.push_back(Outcome{i, std::nullopt, e.error});
    }
  };

  Join join(p.aggregation);
  TaskGroup tasks(loop);
  std::size_t next = 0;
  // Compare callbacks and the judge run in the caller's environment: the group's deadline is for the tasks.
  while (next < p.tasks.size() || tasks.running() > 0 || !finished.empty()) {
    while (!join.decided() && next < p.tasks.size() && (p.concurrency == 0 || tasks.running() < p.concurrency)) tasks.start(member(next++));
    if (finished.empty()) co_await tasks.wait_any();
    for (auto& outcome : std::exchange(finished, {})) {
      const bool was_decided = join.decided();
      if (co_await join.add(env, outcome.task, std::move(outcome.value), &outcome.error) && !was_decided)
        loop.cancel_run(group.id(), WireError{"aborted", "parallel \"" + p.name + "\" was decided without this task", json::object()});
    }
    if (join.decided()) next = p.tasks.size();
  }
  const bool timed = loop.cancellation(group.id()) && loop.cancellation(group.id())->kind == "timeout";
  loop.cancel_run(group.id(), WireError{"aborted", "parallel \"" + p.name + "\" has ended", json::object()});
  if (const WireError* cancelled = loop.cancellation(env.run)) throw OpFailed(*cancelled);
  std::optional<json> value;
  std::optional<WireError> failure;
  try {
    value = co_await join.result(env, timed ? timed_out : WireError{"aborted", "the task did not run", json::object()});
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  json event{{"type", "parallel-finish"}, {"parallel", p.name}, {"tasks", join.statuses()}, {"status", failure ? "error" : "success"}};
  if (auto winner = join.winner()) event["winner"] = *winner;
  if (failure) event["error"] = failure->message;
  env.emit(std::move(event));
  if (failure) throw OpFailed(*failure);
  co_return std::move(*value);
}

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind parallel_kind{"parallel",
                                          "parallel group",
                                          {"tasks", "aggregation", "minSuccess", "timeout", "concurrency", "compare", "judge", "judgeModel"},
                                          flow::define_parallel,
                                          nullptr};
}  // namespace lmthing::pipeline::registered
