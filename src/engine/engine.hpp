// The engine: routes host commands (run.start, run.cancel, conversation.*, engine.info) to the features that
// implement them and owns the runs in flight. It holds no host-specific code: the native test host
// and the wasm binding both drive it through Loop::turn.
#pragma once

#include <string>
#include <unordered_map>

#include "directive/session.hpp"
#include "policy/human_desk.hpp"
#include "policy/run_policies.hpp"
#include "runtime/loop.hpp"

namespace lmthing {

inline constexpr const char* kEngineVersion = "0.1.0";

class Engine {
 public:
  explicit Engine(Host& host);
  Loop& loop() { return loop_; }
  std::size_t active_runs() const { return runs_.size(); }

 private:
  void handle_command(const json& message);
  void start_run(const json& command_id, const json& message);
  void cancel_run(const json& command_id, const json& message);
  void validate(const json& command_id, const json& message);
  // circuit.admit / circuit.record / constraints.check: the policies a running prompt's own code
  // (ctx.circuitBreaker(name).execute, ctx.checkConstraints) consults.
  void policy_command(const std::string& type, const json& command_id, const json& message);
  Task<void> run_main(json command_id, RunId run, Task<json> body);

  Loop loop_;
  policy::HumanDesk desk_;                       // open approval / interaction requests
  std::unordered_map<RunId, std::string> runs_;  // run id -> kind, for diagnostics
  policy::PolicyRegistry policies_;
  directive::Sessions directives_;  // runs of kind "conversation" (Liminal-style agents)
};

}  // namespace lmthing
