#include "directive/branch_group.hpp"

#include "directive/session.hpp"
#include "runtime/reply.hpp"

namespace lmthing::directive {

using protocol::WireError;

namespace {

const char* aggregation_name(flow::Aggregation kind) {
  switch (kind) {
    case flow::Aggregation::First: return "first";
    case flow::Aggregation::Majority: return "majority";
    case flow::Aggregation::Consensus: return "consensus";
    case flow::Aggregation::All: break;
  }
  return "all";
}

}  // namespace

struct BranchGroup::Wake {
  BranchGroup& group;
  bool await_ready() const noexcept { return !group.finished_.empty() || group.timed_out_ || group.abandoned_; }
  void await_suspend(coro::coroutine_handle<> waiter) noexcept { group.waiter_ = waiter; }
  void await_resume() const noexcept {}
};

void BranchGroup::start(const std::shared_ptr<Session>& session, pipeline::CallEnv env) {
  loop_ = &session->loop();
  env.emit(json{{"type", "branch-group-start"}, {"group", id_}, {"aggregation", aggregation_name(spec_.kind)}, {"branches", spec_.tasks}});
  if (timeout_ms_ > 0) loop_->spawn(time_out(shared_from_this(), env.run));
  loop_->spawn(drive(shared_from_this(), session, std::move(env)));
}

bool BranchGroup::join(std::size_t member, std::uint64_t conversation) {
  if (member >= members_.size() || members_[member]) return false;
  members_[member] = conversation;
  return true;
}

void BranchGroup::ended(std::size_t member, std::optional<json> value, WireError error) {
  if (ended_[member]) return;
  ended_[member] = true;
  finished_.push_back(Outcome{member, std::move(value), std::move(error)});
  wake();
}

void BranchGroup::wait(json command_id) {
  waited_ = true;
  wait_id_ = std::move(command_id);
  reply();
}

void BranchGroup::wake() {
  if (waiter_) loop_->schedule(std::exchange(waiter_, {}));
}

void BranchGroup::cancel_running(Session& session, const WireError& error) {
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (members_[i] && !ended_[i]) session.cancel_branch(*members_[i], error);
}

// Feeds the members' outcomes to the join one at a time (a compare callback may be in flight while
// more members end), until the aggregate is decided, the timeout passes or every member has ended.
Task<void> BranchGroup::drive(std::shared_ptr<BranchGroup> self, std::shared_ptr<Session> session, pipeline::CallEnv env) {
  BranchGroup& g = *self;
  flow::Join join(g.spec_);
  const std::size_t n = g.spec_.tasks.size();
  const WireError decided{"aborted", g.spec_.label + ": the group was decided without this branch", json::object()};
  std::size_t reported = 0;
  for (;;) {
    for (auto& outcome : std::exchange(g.finished_, {})) {
      ++reported;
      const bool was_decided = join.decided();
      if (co_await join.add(env, outcome.member, std::move(outcome.value), &outcome.error) && !was_decided) g.cancel_running(*session, decided);
    }
    if (join.decided() || g.timed_out_ || g.abandoned_ || reported == n) break;
    co_await Wake{g};
  }
  if (g.timer_ != 0) g.loop_->settle_early(std::exchange(g.timer_, 0), nullptr, "the branch group was decided");
  WireError missing = g.abandoned_ ? WireError{"aborted", g.spec_.label + ": the run ended before this branch did", json::object()} : decided;
  if (g.timed_out_) {
    missing = WireError{"timeout", g.spec_.label + ": the branch was still running after the group's timeout of " + format_ms(g.timeout_ms_) + " ms",
                        json::object()};
    g.cancel_running(*session, WireError{"aborted", missing.message, json::object()});
  }
  try {
    // The run's abort or timeout, not the failures it caused in the branches, is what happened.
    if (const WireError* cancelled = g.loop_->run_cancel_error(env.run)) throw OpFailed(*cancelled);
    g.value_ = co_await join.result(env, missing);
  } catch (const OpFailed& e) {
    g.failure_ = e.error;
  }
  json event{{"type", "branch-group-finish"}, {"group", g.id_}, {"branches", join.statuses()}, {"status", g.failure_ ? "error" : "success"}};
  auto winner = join.winner();
  if (winner) event["winner"] = *winner;
  if (g.failure_) event["error"] = g.failure_->message;
  env.emit(std::move(event));
  if (!g.failure_) {
    json value{{"value", std::move(g.value_)}, {"branches", join.statuses()}};
    if (winner) value["winner"] = *winner;
    g.value_ = std::move(value);
  }
  g.settled_ = true;
  g.reply();
}

Task<void> BranchGroup::time_out(std::shared_ptr<BranchGroup> self, RunId run) {
  try {
    co_await self->loop_->sleep(run, self->timeout_ms_).tracked(&self->timer_);
  } catch (const OpFailed&) {
    co_return;  // the run ended
  }
  if (self->timer_ == 0 || self->settled_) co_return;  // settled early: the group was decided first
  self->timer_ = 0;
  self->timed_out_ = true;
  self->wake();
}

void BranchGroup::reply() {
  if (!settled_ || !wait_id_) return;
  if (failure_)
    loop_->emit(protocol::reply_error(*wait_id_, *failure_));
  else
    loop_->emit(protocol::reply_ok(*wait_id_, value_));
  wait_id_.reset();
}

}  // namespace lmthing::directive
