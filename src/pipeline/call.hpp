// The one call pipeline (DESIGN.md §12, docs/ARCHITECTURE.md): every model call and every tool call
// of prompt runs, sub-agents and directive replies goes through a Chain of interceptors, each a small
// unit with one job, ending in the op that reaches the host (model.generate / callback.invoke).
//
//   co_await chain.call(call)   →   interceptor 1 → interceptor 2 → ... → op
//
// An interceptor receives the call and `next`; it may change the call, call `next` any number of
// times (retry), call another tool's chain (fallback, redirect), answer without calling it (a guard
// that skips), or throw. A chain is built once per call target (a tool, or a run's model) from the
// registered interceptor types in their fixed order (pipeline/interceptors.def); types that do not
// apply to the target (no retry policy named, say) are left out, so an unused policy costs nothing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/tool_spec.hpp"
#include "runtime/loop.hpp"

namespace lmthing::policy {
class HumanDesk;
}

namespace lmthing::pipeline {

class RunTree;
class Chain;

enum class CallKind { Model, Tool };

// A run failure that must end the run instead of going back to the model as a tool result
// (a guard with onFail "throw", a validator whose retries are used up).
class RunFailed : public OpFailed {
 public:
  using OpFailed::OpFailed;
};

// One call down the chain, for a policy that acts on its failure (retry, fallback): the value, or
// the failure. A RunFailed is never the policy's to handle and propagates.
struct Attempt {
  std::optional<json> value;
  std::optional<protocol::WireError> failure;
};
inline Task<Attempt> attempt(Task<json> pending) {
  try {
    co_return Attempt{co_await std::move(pending), std::nullopt};
  } catch (const RunFailed&) {
    throw;
  } catch (const OpFailed& e) {
    co_return Attempt{std::nullopt, e.error};
  }
}

// The tools a call can reach (for fallbacks to alternative tools and guard redirects): a run's
// tools, or a directive conversation's enabled tools. Each tool with its chain.
class ToolBox {
 public:
  struct Entry {
    agent::ToolSpec spec;
    std::shared_ptr<const Chain> chain;
  };
  const Entry* find(const std::string& name) const;
  // Adds, or replaces in place a tool of the same name.
  void put(Entry entry);
  bool remove(const std::string& name);
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<std::string> names() const;

 private:
  std::vector<Entry> entries_;
};

// Where calls happen: a run (prompt runs) or one conversation of a directive run.
struct CallEnv {
  Loop& loop;
  RunId run;
  std::shared_ptr<RunTree> tree;
  policy::HumanDesk& desk;
  std::string host;  // opaque routing string for approval.ask / interaction.ask
  json path;         // branch path of the events, e.g. ["root"] or ["root", "0"]
  std::shared_ptr<const ToolBox> tools;
  OpId scope = 0;  // the cancellation scope of the work done here (Loop::cancel_scope), 0 for none
  // The trace span what starts here hangs under: a tool call's, for the commands its code sends
  // (ctx.runTool, runWorkflow ... inside it); 0: the place's own step or run (Tracer::parent_at).
  std::uint64_t span = 0;

  // Emits `event` as a run event of this run, with this place's path.
  void emit(json event) const;
  // Emits {...fields, type, path} without copying `fields` (observe::emit_observed_borrowing).
  void emit_borrowing(std::string_view type, json& fields) const;
  // The run was cancelled, or the scope of this work was (nothing more of it should happen).
  bool cancelled() const { return loop.run_cancelled(run) || loop.scope_cancelled(scope) != nullptr; }
};

struct Call {
  CallKind kind = CallKind::Tool;
  const CallEnv* env = nullptr;
  std::string target;              // the tool's name, or the model reference
  json input;                      // tool: the arguments; model: the model.generate payload without "model"
  json context;                    // tool: {toolCallId, toolName, stepNumber}; model: {stepNumber}
  double timeout_ms = 0;           // the op's own time limit (set by the timeout interceptor)
  double deadline_at = 0;          // loop time the whole call must end by (a workflow's maxDuration): no retry waits past it
  int depth = 0;                   // re-entries through fallbacks and redirects (bounded)
  std::string redirected_by;       // the guard that redirected this call here: not asked again (the target's other guards are)
  const json* messages = nullptr;  // model calls: the whole conversation (the input may carry only what the host lacks)
  bool* substituted = nullptr;     // a fallback answered for the target (a default, another tool or model): caches skip it
  // Tool calls of a root prompt run: an approval may be deferred (the run ends with the call pending).
  bool can_defer = false;
  // A call approved in the messages that resumed the run (agent/pending_calls.hpp): the first
  // approval it meets takes this decision {action, reason?, approvalId?} instead of asking.
  json decided;
};

// The rest of the chain after an interceptor.
class Next {
 public:
  Next(const Chain* chain, std::size_t index) : chain_(chain), index_(index) {}
  Task<json> operator()(Call call) const;

 private:
  const Chain* chain_;
  std::size_t index_;
};

// One policy around a call. `intercept` may be a plain function that returns another coroutine's
// task (a smaller frame while the call waits), but it must not throw or do the call's work before
// that task is awaited: retry makes the next task, then hands it to `attempt`, which catches only
// what the awaited task throws.
class Interceptor {
 public:
  virtual ~Interceptor() = default;
  virtual Task<json> intercept(Call call, Next next) = 0;
};

// What an interceptor type sees when it builds the interceptor for one target.
struct RunSettings {
  json model_options = json::object();      // the run's model policies: {retry, fallback, circuitBreaker}
  int max_retries = 2;                      // the default model retry rule's retries
  int stream_retries = 0;                   // retries of a model call that failed after it streamed text (its own count)
  double model_timeout_ms = 0;              // each model call attempt (0 = none)
  double tool_timeout_ms = 0;               // each tool call attempt without its own timeoutMs
  std::vector<std::string> primary_models;  // the models a run's circuit breaker guards
};

struct Target {
  CallKind kind;
  const agent::ToolSpec* tool;  // tool targets
  const json& options;          // the tool's options, or the run's model options
  const RunSettings& run;
  RunTree& tree;
};

class Chain {
 public:
  Chain(CallKind kind, std::vector<std::unique_ptr<Interceptor>> interceptors, std::vector<std::string> names);
  Task<json> call(Call call) const { return Next(this, 0)(std::move(call)); }
  // The interceptor types in this chain, outermost first (for tests and diagnostics).
  const std::vector<std::string>& names() const { return names_; }
  CallKind kind() const { return kind_; }

 private:
  friend class Next;
  Task<json> op(Call call) const;  // the end of every chain
  CallKind kind_;
  std::vector<std::unique_ptr<Interceptor>> interceptors_;
  std::vector<std::string> names_;
};

// Builds the chain of `target` from the registered interceptor types (pipeline/registry.hpp).
// Throws protocol::ProtocolError when the target names an undefined policy.
std::shared_ptr<const Chain> build_chain(const Target& target);

// The call a chain makes for a tool: its arguments and context.
Call tool_call(const CallEnv& env, const std::string& name, json args, json context);

}  // namespace lmthing::pipeline
