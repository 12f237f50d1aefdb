// A directive run: the engine half of `run(agent, config)` (docs/directive-agents.md). The host's
// driver pulls directives from the user's generators and sends them as `conversation.*` commands;
// a Session owns what they act on: the conversations of the run (root and branches, by id), the
// model keys bound at start, and the run's events, each carrying its conversation's branch path.
//
// The run itself (`run.start {spec: {kind: "conversation", models}}`) lives until the host ends
// the root conversation; every command names the run and the conversation it applies to.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "directive/branch_group.hpp"
#include "directive/conversation.hpp"
#include "flow/run_models.hpp"
#include "flow/run_tools.hpp"
#include "observe/run_observation.hpp"
#include "pipeline/run_tree.hpp"
#include "policy/human_desk.hpp"
#include "runtime/loop.hpp"

namespace lmthing::directive {

// What a directive run shares with its calls: its tree (definitions, budgets), where approvals go,
// and the run's model settings (retry, fallback, circuit breaker, timeouts).
struct SessionSetup {
  std::shared_ptr<pipeline::RunTree> tree;
  policy::HumanDesk* desk = nullptr;
  std::string host;
  pipeline::RunSettings settings;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Loop& loop, RunId run, std::map<std::string, std::string> models, SessionSetup setup);

  // The run's body: resumes once the root conversation has ended.
  Task<json> until_ended();

  // One `conversation.<verb>` command. Synchronous verbs reply at once; `reply` replies when the
  // model is done. Throws protocol::ProtocolError for a malformed command (the caller replies).
  void handle(const json& command_id, const std::string& verb, const json& message);

  Loop& loop() const { return loop_; }
  RunId run() const { return run_; }
  // The model reference bound to `key`; throws ProtocolError listing the bound keys.
  const std::string& model_ref(const std::string& key, const std::string& where) const;
  // Where the run's own work happens (the root's path, no tools): saving its states at the end.
  pipeline::CallEnv root_env() const;
  // Where the calls of `conversation` happen (its path and its enabled tools).
  pipeline::CallEnv env_of(const Conversation& conversation) const;
  const pipeline::Chain& model_chain() const { return *model_chain_; }
  // Emits a run event of `conversation` ({type, path, ...fields}).
  void emit(const Conversation& conversation, json event) const;
  // Appends a message to `conversation` and emits message-appended; returns its position.
  std::size_t append(Conversation& conversation, json message, std::vector<Tag> tags);
  // Starts observing the run (run-start, its span); the end of the root conversation finishes it.
  void observe(const json& spec, const std::string& model);
  // Cancels the ops of branch `conversation` and of every branch under it (their later directives
  // fail with `error`): a branch its group no longer needs (directive/branch_group.hpp).
  void cancel_branch(std::uint64_t conversation, const protocol::WireError& error);

 private:
  std::shared_ptr<Conversation> find(const json& message, const std::string& where) const;
  void end_conversation(const json& command_id, const std::shared_ptr<Conversation>& conversation, const json& message);
  void start_reply(const json& command_id, std::shared_ptr<Conversation> conversation, const json& message);
  void start_call(const json& command_id, std::shared_ptr<Conversation> conversation, const json& message);
  static Task<json> call_tool(std::shared_ptr<Session> self, std::shared_ptr<Conversation> conversation,
                              std::shared_ptr<const pipeline::ToolBox> tools, std::string name, json args, json context);
  json enable_tool(Conversation& conversation, const json& message);
  // After the tools of `conversation` changed: the root conversation's are the run's (root_tools_).
  void publish_tools(const Conversation& conversation);
  json read_messages(const Conversation& conversation, const json& message) const;
  json open_group(const Conversation& conversation, const json& message);
  json open_branch(Conversation& conversation, const json& message);

  struct EndAwaiter;

  Loop& loop_;
  RunId run_;
  std::map<std::string, std::string> models_;  // key -> host model reference
  SessionSetup setup_;
  std::shared_ptr<const pipeline::Chain> model_chain_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Conversation>> conversations_;
  std::uint64_t next_conversation_ = 1;
  std::uint64_t next_handle_ = 1;
  std::uint64_t next_call_ = 1;
  bool ended_ = false;
  coro::coroutine_handle<> end_waiter_;
  std::unique_ptr<observe::RunObservation> observation_;
  std::unique_ptr<flow::RunModelEntry> run_model_;                          // a group's judge model calls through the run's chain
  std::unordered_map<std::uint64_t, std::shared_ptr<BranchGroup>> groups_;  // until every member opened and the wait came
  struct Member {
    std::shared_ptr<BranchGroup> group;
    std::size_t index;
  };
  std::unordered_map<std::uint64_t, Member> members_;  // branch conversation -> its group
  std::uint64_t next_group_ = 1;
  // Each branch's cancel scope, registered for the chains of its place (pipeline/cancel_scope.hpp).
  std::unordered_map<std::uint64_t, std::unique_ptr<pipeline::CancelScopeEntry>> scope_entries_;
  // The root conversation's tools, as the run's tools for workflow.tool (wctx.runTool, ctx.runTool).
  std::unique_ptr<flow::RunToolsEntry> root_tools_;
};

// The directive runs of an engine, by run id.
class Sessions {
 public:
  // Checks a `conversation` run spec ({kind, models: {default: ref, ...}, retry, fallback,
  // circuitBreaker, options, host}) and returns the run's body (not started). `tree` holds the run's
  // definitions. Throws ProtocolError naming what is wrong.
  Task<json> open(Loop& loop, RunId run, const json& spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk);
  // Routes a `conversation.*` command to its run; throws ProtocolError for an unknown run.
  void handle(const json& command_id, const std::string& type, const json& message);
  std::size_t size() const { return sessions_.size(); }

 private:
  Task<json> body(RunId run, std::shared_ptr<Session> session);
  std::unordered_map<RunId, std::shared_ptr<Session>> sessions_;
};

}  // namespace lmthing::directive
