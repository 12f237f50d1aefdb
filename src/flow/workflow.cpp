#include "flow/workflow.hpp"

#include <functional>
#include <map>
#include <set>

#include "flow/flow_error.hpp"
#include "flow/flow_spans.hpp"
#include "flow/task_group.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::ProtocolError;
using protocol::WireError;

namespace {

const std::vector<std::string> kStepFields = {"id",      "action", "condition", "onSuccess", "onError",
                                              "retries", "retry",  "timeout",   "dependsOn", "parallel"};

using protocol::in_quotes;

// ------------------------------------------------------------------------------------- definition

class StepIndex {
 public:
  StepIndex(const FieldReader& config, const std::vector<std::string>& ids) : config_(config), ids_(ids) {}
  std::size_t of(const std::string& step, const char* field, const std::string& target) const {
    for (std::size_t i = 0; i < ids_.size(); ++i)
      if (ids_[i] == target) return i;
    std::string message = "step " + in_quotes(step) + ": " + field + " names unknown step " + in_quotes(target) + " (";
    if (auto guess = protocol::nearest(target, ids_)) message += "did you mean " + in_quotes(*guess) + "? ";
    config_.fail(message + "steps: " + protocol::joined(ids_) + ")");
  }

 private:
  const FieldReader& config_;
  const std::vector<std::string>& ids_;
};

// A cycle of dependsOn, as "a → b → a", or empty.
std::string find_cycle(const Workflow& w) {
  enum Mark { Unvisited, Active, Done };
  std::vector<Mark> marks(w.steps.size(), Unvisited);
  std::vector<std::size_t> stack;
  std::string cycle;
  std::function<bool(std::size_t)> visit = [&](std::size_t i) {
    marks[i] = Active;
    stack.push_back(i);
    for (std::size_t dep : w.steps[i].depends_on) {
      if (marks[dep] == Active) {
        auto from = std::find(stack.begin(), stack.end(), dep);
        for (auto it = from; it != stack.end(); ++it) cycle += w.steps[*it].id + " → ";
        cycle += w.steps[dep].id;
        return true;
      }
      if (marks[dep] == Unvisited && visit(dep)) return true;
    }
    stack.pop_back();
    marks[i] = Done;
    return false;
  };
  for (std::size_t i = 0; i < w.steps.size(); ++i)
    if (marks[i] == Unvisited && visit(i)) return cycle;
  return "";
}

void define_workflow(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  auto w = std::make_shared<Workflow>();
  w->name = name;
  const json& steps = config.array_field("steps");
  if (steps.empty()) config.fail("\"steps\" must list at least one step");
  w->max_duration_ms = config.ms("maxDuration").value_or(0);
  w->max_iterations = config.integer("maxIterations", 1, 100000).value_or(10);
  w->concurrency = static_cast<std::size_t>(config.integer("concurrency", 1, 100000).value_or(0));

  std::vector<std::string> ids;
  std::vector<FieldReader> readers;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    readers.emplace_back(steps[i], config.where() + ": steps[" + std::to_string(i) + "]");
    const FieldReader& step = readers.back();
    step.only(kStepFields, "field");
    const std::string id = step.string("id");
    for (std::size_t j = 0; j < ids.size(); ++j)
      if (ids[j] == id) step.fail("id " + in_quotes(id) + " is already used by steps[" + std::to_string(j) + "]");
    ids.push_back(id);
  }
  const StepIndex index(config, ids);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const FieldReader& s = readers[i];
    WorkflowStep step;
    step.id = ids[i];
    step.action = s.string("action");
    step.condition = s.optional_string("condition");
    if (auto next = s.optional_string("onSuccess")) step.on_success = index.of(step.id, "onSuccess", *next);
    if (auto handler = s.optional_string("onError")) step.on_error = index.of(step.id, "onError", *handler);
    step.call = read_call_policy(s);
    step.parallel = s.optional_bool("parallel").value_or(false);
    if (step.parallel && (step.on_success || step.on_error))
      s.fail("step " + in_quotes(step.id) + ": a parallel step cannot route (" + (step.on_success ? "onSuccess" : "onError") +
             "); after its group the workflow goes on with the next step");
    for (const auto& dep : s.strings("dependsOn")) {
      const std::size_t d = index.of(step.id, "dependsOn", dep);
      if (d == i) s.fail("step " + in_quotes(step.id) + " depends on itself");
      step.depends_on.push_back(d);
    }
    if (!step.depends_on.empty()) w->dag = true;
    w->steps.push_back(std::move(step));
  }
  for (std::size_t i = 0; i < w->steps.size(); ++i) {
    WorkflowStep& step = w->steps[i];
    if (step.on_error) w->steps[*step.on_error].handler = true;
    if (w->dag && step.parallel)
      config.fail("step " + in_quotes(step.id) +
                  ": parallel cannot be combined with dependsOn in one workflow (a DAG already runs independent steps concurrently)");
    for (std::size_t d : step.depends_on) w->steps[d].dependents.push_back(i);
    if (w->dag && (step.on_success || step.on_error))
      config.fail("step " + in_quotes(step.id) + ": " + (step.on_success ? "onSuccess" : "onError") +
                  " cannot be combined with dependsOn in one workflow (a DAG runs each step once its dependencies are done)");
  }
  for (const auto& step : w->steps)
    if (step.handler && step.parallel)
      config.fail("step " + in_quotes(step.id) + ": an onError handler cannot be a parallel step (it runs only when routed to)");
  if (std::string cycle = find_cycle(*w); !cycle.empty()) config.fail("dependsOn forms a cycle, which no step could start: " + cycle);
  tree.definitions().add("workflow", name, std::move(w));
}

void link_workflows(pipeline::RunTree& tree) {
  for (auto& [name, w] : tree.definitions().all<Workflow>("workflow")) {
    if (!tree.definitions().own("workflow", name)) continue;
    for (auto& step : w->steps) resolve_call_policy(step.call, tree, "workflow " + in_quotes(name) + ": step " + in_quotes(step.id));
  }
}

// -------------------------------------------------------------------------------------- execution

// JavaScript truthiness (minus NaN, which JSON cannot carry): what a step condition returned.
bool js_truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_null()) return false;
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return true;
}

enum class Status { Success, Skipped, Failed };

struct StepOutcome {
  Status status = Status::Success;
  WireError error;
};

// One run of a workflow: its state, its results, what the host has been sent, the trace.
class Execution {
 public:
  Execution(const pipeline::CallEnv& env, Workflow& w, std::uint64_t id, json input, json state, const Deadline& deadline)
      : w_(w), id_(id), input_(std::move(input)), state_(std::move(state)), env_(env), deadline_(deadline), visits_(w.steps.size(), 0) {}

  Task<json> run() {
    event("workflow-start", json::object());
    // The steps' spans, and so what their callbacks start, hang under the workflow's.
    if (observe::SpanId span =
            open_span(env_, "workflow " + w_.name, "workflow", json{{"lmthing.workflow.name", w_.name}, {"lmthing.workflow.execution", id_}}))
      env_.span = span_ = span;
    if (w_.dag)
      co_await run_dag();
    else
      co_await run_linear();
    event("workflow-finish", json{{"status", "success"}});
    close_span(env_, span_, "", json{{"lmthing.workflow.status", "success"}});
    co_return json{{"output", output_}, {"results", results_}, {"state", state_}, {"steps", trace_}, {"execution", id_}};
  }

  const std::string& name() const { return w_.name; }

  // The workflow failed with `error` (its finish event is the caller's).
  void failed(const WireError& error) {
    close_span(env_, span_, error.message, json{{"lmthing.workflow.status", "error"}, {"error.type", error.kind}});
  }

 private:
  // --------------------------------------------------------------------------- in list order

  // Steps named by some step's onError are handlers: they run only when routed to, and after one
  // the workflow goes to its onSuccess or ends. Every other step runs in list order unless routed.
  Task<void> run_linear() {
    const std::size_t end = w_.steps.size();
    std::size_t i = next_in_order(0);
    json handled;  // the error an onError handler is about to receive
    while (i < end) {
      if (w_.steps[i].parallel) {
        i = next_in_order(co_await run_group(i));
        continue;
      }
      count_visit(i);
      StepOutcome outcome = co_await run_step(i, handled);
      handled = nullptr;
      const WorkflowStep& step = w_.steps[i];
      if (outcome.status == Status::Failed)
        i = route_error(i, outcome.error, handled);
      else if (outcome.status == Status::Success && step.on_success)
        i = *step.on_success;
      else if (step.handler)
        i = end;
      else
        i = next_in_order(i + 1);
    }
  }

  std::size_t next_in_order(std::size_t from) const {
    while (from < w_.steps.size() && w_.steps[from].handler) ++from;
    return from;
  }

  // The step to go to after step `i` failed with `error` (setting what its handler receives), or throws.
  std::size_t route_error(std::size_t i, const WireError& error, json& handled) {
    const WorkflowStep& step = w_.steps[i];
    if (!step.on_error) throw OpFailed(step_failed(step, error));
    handled = cause_of(error);
    handled["step"] = step.id;
    return *step.on_error;
  }

  // Runs the group of adjacent `parallel: true` steps that starts at `first` concurrently and
  // returns the index after it. A failed member fails the workflow once the others have finished.
  Task<std::size_t> run_group(std::size_t first) {
    std::size_t end = first;
    while (end < w_.steps.size() && w_.steps[end].parallel) count_visit(end++);
    std::vector<StepOutcome> outcomes(end - first);
    std::exception_ptr fatal;
    TaskGroup tasks(env_.loop, co_await current_scope());
    auto member = [&](std::size_t i) -> Task<void> {
      try {
        outcomes[i - first] = co_await run_step(i, nullptr);
      } catch (const OpFailed&) {
        if (!fatal) fatal = std::current_exception();  // maxDuration or the run's end
      }
    };
    for (std::size_t i = first; i < end; ++i) tasks.start(member(i));
    co_await tasks.wait_all();
    if (fatal) std::rethrow_exception(fatal);
    for (std::size_t i = first; i < end; ++i)
      if (outcomes[i - first].status == Status::Failed) throw OpFailed(step_failed(w_.steps[i], outcomes[i - first].error));
    // The group's output is its last member in list order that succeeded (they finish in any order).
    for (std::size_t i = end; i-- > first;)
      if (outcomes[i - first].status == Status::Success) {
        output_ = results_[w_.steps[i].id];
        break;
      }
    co_return end;
  }

  // ------------------------------------------------------------------------------------ DAG

  Task<void> run_dag() {
    const std::size_t n = w_.steps.size();
    std::vector<std::size_t> waiting(n);
    std::vector<bool> blocked(n, false);  // a dependency was skipped: skip this step too
    std::set<std::size_t> ready;
    std::vector<std::pair<std::size_t, Status>> done;
    for (std::size_t i = 0; i < n; ++i) {
      waiting[i] = w_.steps[i].depends_on.size();
      if (waiting[i] == 0) ready.insert(i);
    }
    std::optional<std::pair<std::size_t, WireError>> failure;
    std::exception_ptr fatal;
    TaskGroup tasks(env_.loop, co_await current_scope());
    auto member = [&](std::size_t i) -> Task<void> {
      // A step's failure (or the workflow's end) is kept for when the steps in flight have finished.
      try {
        StepOutcome outcome = co_await run_step(i, nullptr);
        done.emplace_back(i, outcome.status);
        if (outcome.status == Status::Failed && !failure) failure.emplace(i, outcome.error);
      } catch (const OpFailed&) {
        done.emplace_back(i, Status::Failed);
        if (!fatal) fatal = std::current_exception();
      }
    };
    auto resolve = [&](std::size_t i, Status status) {
      for (std::size_t d : w_.steps[i].dependents) {
        if (status != Status::Success) blocked[d] = true;
        if (--waiting[d] == 0) ready.insert(d);
      }
    };
    for (;;) {
      while (!failure && !fatal && !ready.empty() && (w_.concurrency == 0 || tasks.running() < w_.concurrency)) {
        const std::size_t i = *ready.begin();
        ready.erase(ready.begin());
        if (blocked[i]) {
          skip(i, "a step it depends on did not succeed");
          resolve(i, Status::Skipped);
          continue;
        }
        tasks.start(member(i));
      }
      if (tasks.running() == 0) break;
      co_await tasks.wait_any();
      for (auto [i, status] : std::exchange(done, {})) resolve(i, status);
    }
    if (fatal) std::rethrow_exception(fatal);
    if (failure) throw OpFailed(step_failed(w_.steps[failure->first], failure->second));
    // The output of a DAG is the result of its last step in list order that succeeded.
    for (std::size_t i = n; i-- > 0;)
      if (results_.contains(w_.steps[i].id)) {
        output_ = results_[w_.steps[i].id];
        break;
      }
  }

  // ------------------------------------------------------------------------------- one step

  Task<StepOutcome> run_step(std::size_t i, json handled) {
    const WorkflowStep& step = w_.steps[i];
    event("workflow-step-start", json{{"step", step.id}, {"visit", visits_[i]}});
    // What the step's callbacks start hangs under the step's span.
    pipeline::CallEnv env = env_;
    const observe::SpanId span = open_step_span(step, visits_[i]);
    if (span) env.span = span;
    StepOutcome outcome;
    const std::string label = "workflow " + in_quotes(w_.name) + " step " + in_quotes(step.id);
    try {
      if (step.condition) {
        json args = json::array({wire(step, "condition", handled)});
        args.back()["attempt"] = 1;
        if (!js_truthy(co_await call_callback(env, *step.condition, std::move(args), label + " condition", &deadline_))) {
          skip(i, "its condition was false", span);
          co_return StepOutcome{Status::Skipped, {}};
        }
      }
      const UserCall call{w_.name + "." + step.id, label, step.action, &step.call, &deadline_};
      json answer = co_await call_user(env, call, [&](int) { return json::array({wire(step, "action", handled)}); });
      record(step, std::move(answer));
      outcome.status = Status::Success;
    } catch (const pipeline::RunFailed& e) {
      close_span(env_, span, e.error.message, json{{"error.type", e.error.kind}});
      throw;  // past maxDuration: the workflow itself is over
    } catch (const OpFailed& e) {
      if (env.cancelled()) {
        close_span(env_, span, e.error.message, json{{"error.type", e.error.kind}});
        throw;  // the run was cancelled: so is the workflow
      }
      outcome = StepOutcome{Status::Failed, e.error};
    }
    if (outcome.status == Status::Success) {
      trace_.push_back(json{{"id", step.id}, {"status", "success"}});
      event("workflow-step-finish", json{{"step", step.id}, {"status", "success"}});
      close_span(env_, span, "", json{{"lmthing.workflow.step.status", "success"}});
    } else {
      trace_.push_back(json{{"id", step.id}, {"status", "error"}, {"error", cause_of(outcome.error)}});
      event("workflow-step-finish", json{{"step", step.id}, {"status", "error"}, {"error", outcome.error.message}});
      close_span(env_, span, outcome.error.message, json{{"lmthing.workflow.step.status", "error"}, {"error.type", outcome.error.kind}});
    }
    co_return outcome;
  }

  observe::SpanId open_step_span(const WorkflowStep& step, int visit) {
    return open_span(env_, "workflow_step " + step.id, "workflow_step", json{{"lmthing.workflow.step", step.id}, {"lmthing.workflow.visit", visit}});
  }

  // A step that does not run: its span (`span`, or one of its own when it never started) says why.
  void skip(std::size_t i, const std::string& why, observe::SpanId span = 0) {
    trace_.push_back(json{{"id", w_.steps[i].id}, {"status", "skipped"}});
    event("workflow-step-finish", json{{"step", w_.steps[i].id}, {"status", "skipped"}, {"reason", why}});
    if (!span) span = open_step_span(w_.steps[i], visits_[i]);
    close_span(env_, span, "", json{{"lmthing.workflow.step.status", "skipped"}, {"lmthing.workflow.step.skipped_because", why}});
  }

  void record(const WorkflowStep& step, json answer) {
    if (!answer.is_object() || !answer.contains("value"))
      throw OpFailed(WireError{"protocol",
                               "workflow " + in_quotes(w_.name) + " step " + in_quotes(step.id) +
                                   ": the host must answer an action with {value, state?}, got " + answer.dump().substr(0, 200),
                               json::object()});
    if (answer.contains("state")) state_ = std::move(answer["state"]);
    output_ = answer["value"];
    results_[step.id] = output_;
    sync_.emplace_back(step.id, std::move(answer["value"]));
  }

  void count_visit(std::size_t i) {
    if (++visits_[i] <= w_.max_iterations) return;
    throw OpFailed(flow_error("workflow", "WORKFLOW_LOOP_LIMIT",
                              "workflow " + in_quotes(w_.name) + ": step " + in_quotes(w_.steps[i].id) + " would run more than " +
                                  std::to_string(w_.max_iterations) + " times (maxIterations); a loop of onSuccess/onError routing needs a way out",
                              json{{"workflow", w_.name}, {"step", w_.steps[i].id}}));
  }

  WireError step_failed(const WorkflowStep& step, const WireError& error) const {
    return flow_error("workflow", "WORKFLOW_STEP_FAILED",
                      "workflow " + in_quotes(w_.name) + ": step " + in_quotes(step.id) + " failed: " + error.message,
                      json{{"workflow", w_.name}, {"step", step.id}, {"cause", cause_of(error)}});
  }

  // What a callback of this execution gets; the host is sent each result once (docs/orchestration.md).
  json wire(const WorkflowStep& step, const char* kind, const json& handled) {
    json w{{"workflow", w_.name}, {"execution", id_}, {"step", step.id}, {"kind", kind}};
    if (!host_started_) {
      w["start"] = json{{"input", input_}, {"state", state_}};
      host_started_ = true;
    }
    json results = json::array();
    for (; sent_ < sync_.size(); ++sent_) results.push_back(json::array({sync_[sent_].first, sync_[sent_].second}));
    w["results"] = std::move(results);
    if (!handled.is_null()) w["error"] = handled;
    return w;
  }

  void event(const char* type, json fields) {
    fields["type"] = type;
    fields["workflow"] = w_.name;
    fields["execution"] = id_;
    env_.emit(std::move(fields));
  }

  Workflow& w_;
  std::uint64_t id_;
  observe::SpanId span_ = 0;  // the workflow's, when traced
  json input_;
  json state_;
  pipeline::CallEnv env_;
  const Deadline& deadline_;
  std::vector<int> visits_;
  json results_ = json::object();
  json output_;
  json trace_ = json::array();
  std::vector<std::pair<std::string, json>> sync_;  // results in the order they came
  std::size_t sent_ = 0;
  bool host_started_ = false;
};

}  // namespace

Task<json> run_workflow(const pipeline::CallEnv& env, Workflow& workflow, json input, std::optional<json> state) {
  json initial = state ? std::move(*state) : input.is_object() ? input : json::object();
  const std::uint64_t id = workflow.next_execution++;
  Deadline deadline;
  if (workflow.max_duration_ms > 0) {
    deadline.at = env.loop.now_ms() + workflow.max_duration_ms;
    deadline.error = flow_error("timeout", "WORKFLOW_TIMEOUT",
                                "workflow \"" + workflow.name + "\" exceeded its maxDuration of " + format_ms(workflow.max_duration_ms) + " ms",
                                json{{"workflow", workflow.name}});
  }
  Execution execution(env, workflow, id, std::move(input), std::move(initial), deadline);
  std::optional<json> result;
  std::optional<WireError> failure;
  try {
    result = co_await execution.run();
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  if (failure) {
    execution.failed(*failure);
    env.emit(json{{"type", "workflow-finish"}, {"workflow", workflow.name}, {"execution", id}, {"status", "error"}, {"error", failure->message}});
    throw OpFailed(*failure);
  }
  co_return std::move(*result);
}

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind workflow_kind{
    "workflow", "workflow", {"steps", "maxDuration", "maxIterations", "concurrency"}, flow::define_workflow, flow::link_workflows};
}  // namespace lmthing::pipeline::registered
