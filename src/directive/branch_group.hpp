// L.branch(agents, {aggregation, minSuccess, timeout, compare, judge}) (docs/directive-agents.md):
// sibling branches of one conversation whose return values the engine aggregates with defParallel's
// code (flow/aggregate.hpp). `first` takes the first branch to return and cancels the others;
// `majority` ends as soon as more than half agree; `timeout` cancels the branches still running on
// the engine clock. A cancelled branch (and every branch under it) has its in-flight model and tool
// ops cancelled at the host and its later directives fail with kind `aborted`; its driver ends it
// (a branch-threw event), so its events stop there.
//
// Commands: conversation.group on the parent opens a group ({group}); conversation.branch {group,
// member} makes a branch member `member`; a member's conversation.end is its outcome;
// conversation.group.wait {group} replies with {value, winner?, branches} once the group is decided
// and every member has ended, or with the ParallelError.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "flow/aggregate.hpp"

namespace lmthing::directive {

class Session;

class BranchGroup : public std::enable_shared_from_this<BranchGroup> {
 public:
  BranchGroup(std::uint64_t id, flow::AggregationSpec spec, double timeout_ms) : id_(id), spec_(std::move(spec)), timeout_ms_(timeout_ms) {
    members_.resize(spec_.tasks.size());
    ended_.resize(spec_.tasks.size(), false);
  }

  std::uint64_t id() const { return id_; }
  const flow::AggregationSpec& spec() const { return spec_; }

  // Starts aggregating in `env` (the parent conversation's place), and the timeout's timer.
  void start(const std::shared_ptr<Session>& session, pipeline::CallEnv env);
  // Member `member` is conversation `conversation`; false when that member is already taken.
  bool join(std::size_t member, std::uint64_t conversation);
  // Member `member` ended: its value, or its error.
  void ended(std::size_t member, std::optional<json> value, protocol::WireError error);
  // Replies to `command_id` with the aggregate once there is one.
  void wait(json command_id);
  // The run ended first: the members that did not report count as failed, and the group settles.
  void abandon() {
    abandoned_ = true;
    wake();
  }
  // Every member has its branch and the wait was sent: the session no longer needs to find it.
  bool complete() const {
    return waited_ && std::all_of(members_.begin(), members_.end(), [](const auto& member) { return member.has_value(); });
  }

 private:
  struct Outcome {
    std::size_t member;
    std::optional<json> value;
    protocol::WireError error;
  };
  struct Wake;

  static Task<void> drive(std::shared_ptr<BranchGroup> self, std::shared_ptr<Session> session, pipeline::CallEnv env);
  static Task<void> time_out(std::shared_ptr<BranchGroup> self, RunId run);
  // Cancels the members that have not ended (and their branches) with `error`.
  void cancel_running(Session& session, const protocol::WireError& error);
  void wake();
  void reply();

  std::uint64_t id_;
  flow::AggregationSpec spec_;
  double timeout_ms_;
  std::vector<std::optional<std::uint64_t>> members_;  // conversation ids
  std::vector<bool> ended_;
  std::vector<Outcome> finished_;
  bool timed_out_ = false;
  bool abandoned_ = false;
  bool settled_ = false;
  OpId timer_ = 0;
  coro::coroutine_handle<> waiter_;
  Loop* loop_ = nullptr;
  std::optional<json> wait_id_;
  bool waited_ = false;
  json value_;
  std::optional<protocol::WireError> failure_;
};

}  // namespace lmthing::directive
