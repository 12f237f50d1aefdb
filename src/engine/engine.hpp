// The engine: routes host commands (run.start, run.cancel, conversation.*, engine.info ...) to the
// features that implement them and owns the runs in flight. It holds no host-specific code: the
// native test host and the wasm binding both drive it through Loop::turn.
#pragma once

#include <string>
#include <unordered_map>

#include "directive/session.hpp"
#include "observe/observatory.hpp"
#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"
#include "policy/human_desk.hpp"
#include "runtime/loop.hpp"

namespace lmthing {

inline constexpr const char* kEngineVersion = "0.2.0";

class Engine {
 public:
  explicit Engine(Host& host);
  Loop& loop() { return loop_; }
  std::size_t active_runs() const { return runs_.size(); }

 private:
  struct LiveRun {
    std::string kind;
    std::string host;  // where the run's approvals and interactions go
    json path = json::array({"root"});
  };

  void handle_command(const json& message);
  void start_run(const json& command_id, const json& message);
  void cancel_run(const json& command_id, const json& message);
  void validate(const json& command_id, const json& message);
  json info() const;
  // circuit.admit / circuit.record / constraints.check: the policies a running run's own code
  // (ctx.circuitBreaker(name).execute, ctx.checkConstraints) consults.
  void policy_command(const std::string& type, const json& command_id, const json& message);
  // Where a command about live run `run` happens; throws ProtocolError naming `where` when it is not live.
  pipeline::CallEnv env_of(RunId run, const std::string& where);
  void finish_run(RunId run);

  Loop loop_;
  observe::Observatory observatory_;  // engine-wide metrics (before trees_: trees report to it)
  policy::HumanDesk desk_;            // open approval / interaction requests
  std::unordered_map<RunId, LiveRun> runs_;
  pipeline::TreeRegistry trees_;
  directive::Sessions directives_;  // runs of kind "conversation" (Liminal-style agents)
};

}  // namespace lmthing
