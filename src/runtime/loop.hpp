// The event loop: a ready queue of coroutines, the table of operations handed to the host and not
// yet completed, the engine clock, and the roots (top-level tasks) it owns.
//
// Nothing here blocks. A turn delivers one inbound batch, then resumes every ready coroutine. The
// driver (drive.hpp) decides when to wait for the host.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "protocol/blobs.hpp"
#include "protocol/messages.hpp"
#include "runtime/host.hpp"
#include "runtime/scheduler.hpp"
#include "runtime/task.hpp"

namespace lmthing {

using json = lmthing::Json;
using RunId = std::uint64_t;
using OpId = std::uint64_t;

// How an operation ended, as reported by the host (or by the engine for timeouts/cancellation).
struct OpOutcome {
  bool ok = false;
  json value;
  protocol::WireError error;
};

// Thrown into a coroutine whose operation failed; carries the wire error unchanged.
using protocol::OpFailed;

class Loop;

// A number of milliseconds for messages: "100" rather than "100.0" when whole.
std::string format_ms(double ms);

// co_await loop.op(...): hands the operation to the host and resumes with its value (or throws OpFailed).
class [[nodiscard]] OpAwaiter {
 public:
  OpAwaiter(Loop& loop, RunId run, std::string kind, json payload, double timeout_ms, std::string label)
      : loop_(&loop), run_(run), kind_(std::move(kind)), payload_(std::move(payload)), timeout_ms_(timeout_ms), label_(std::move(label)) {}
  bool await_ready() const noexcept { return false; }
  // The op belongs to the cancellation scope of the task that awaits it (PromiseBase::scope).
  template <typename P>
  void await_suspend(coro::coroutine_handle<P> waiter) {
    std::uint64_t scope = 0;
    if constexpr (std::is_base_of_v<detail::PromiseBase, P>) scope = waiter.promise().scope;
    start(waiter, scope);
  }
  json await_resume();
  // Writes the op's id to *out when it starts, so the engine can later settle it itself
  // (Loop::settle_early): e.g. an approval answered by id while the host's handler still runs.
  OpAwaiter& tracked(OpId* out) {
    id_out_ = out;
    return *this;
  }
  // Tags the op with the trace span its work belongs to (observe/tracer.hpp), so that what its
  // callback starts through commands hangs under that span (Loop::span_of).
  OpAwaiter& in_span(std::uint64_t span) {
    span_ = span;
    return *this;
  }

 private:
  void start(coro::coroutine_handle<> waiter, OpId scope);
  Loop* loop_;
  RunId run_;
  std::string kind_;
  json payload_;
  double timeout_ms_;
  std::string label_;
  OpOutcome outcome_;
  OpId* id_out_ = nullptr;
  std::uint64_t span_ = 0;
};

class Loop {
 public:
  // Called for every inbound message that is not an op completion (commands).
  using CommandHandler = std::function<void(const json& message)>;

  explicit Loop(Host& host) : host_(host) {}
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  ~Loop();

  void set_command_handler(CommandHandler handler) { on_command_ = std::move(handler); }

  // --- operations ---
  // timeout_ms > 0 bounds the op: when it elapses the op fails with kind "timeout" and the host is
  // told to cancel it. The timeout is itself a timer op, so it is visible to (and replayable by) the host.
  // `label` names the op in the timeout message as the user knows it (`tool "search"`); default: the kind.
  OpAwaiter op(RunId run, std::string kind, json payload = json::object(), double timeout_ms = 0, std::string label = {}) {
    return OpAwaiter(*this, run, std::move(kind), std::move(payload), timeout_ms, std::move(label));
  }
  // A timer is an op like any other; the host completes it after `ms` (of real or virtual time).
  OpAwaiter sleep(RunId run, double ms) { return op(run, "timer.sleep", json{{"ms", ms}}); }

  // Fails every pending op of `run` with kind "aborted", tells the host to cancel them, and makes
  // later ops of that run fail at once. Returns how many ops were cancelled.
  std::size_t cancel_run(RunId run, const std::string& reason) { return cancel_run(run, protocol::WireError{"aborted", reason, json::object()}); }
  // The same with the error the ops (and later ops of the run) fail with, e.g. a run timeout.
  std::size_t cancel_run(RunId run, const protocol::WireError& error);
  // Cancels `run` with `error` once `ms` have passed on a timer op, unless the run is forgotten
  // first. One deadline per run; a later call replaces an earlier one.
  void set_deadline(RunId run, double ms, protocol::WireError error);
  // Forget a finished run: drops its deadline and its cancelled mark (so neither grows forever).
  void forget_run(RunId run);
  bool run_cancelled(RunId run) const { return cancelled_runs_.count(run) != 0; }
  // The trace span pending op `id` was tagged with (OpAwaiter::in_span); 0 when none or not pending.
  std::uint64_t span_of(OpId id) const {
    auto it = pending_.find(id);
    return it == pending_.end() ? 0 : it->second.span;
  }
  // What a cancelled run's later ops fail with (its abort, its deadline), or null.
  const protocol::WireError* run_cancel_error(RunId run) const {
    auto it = cancelled_runs_.find(run);
    return it == cancelled_runs_.end() ? nullptr : &it->second;
  }

  // --- cancellation scopes ---
  // A callback op is the scope of the work its callback starts through the engine (a workflow step
  // calling wctx.runTool: the command names the op as its `scope`; the tasks and ops of that work
  // inherit it, see PromiseBase::scope). Whenever the engine gives up on an op (its timeout, a
  // parallel group decided without it, settle_early, cancel_run, the cancel of its own scope), it
  // cancels the op's scope: the scope's pending ops fail with the same error and the host is told
  // to cancel them, the runs linked to it are cancelled, and later ops in it fail at once.
  std::size_t cancel_scope(OpId scope, const protocol::WireError& error);
  // The error scope `scope` was cancelled with, or null.
  const protocol::WireError* scope_cancelled(OpId scope) const;
  // Links `run` (a sub-agent started by op `scope`'s callback) to the scope: cancelling the scope
  // cancels the run with the scope's error (at once when it already is). forget_run unlinks it.
  void link_run(OpId scope, RunId run);
  // Links run `child` (started with `parentRun`: a memory run a tool or directive asked for) to run
  // `parent`: cancelling the parent (its abort, its timeout) cancels the child, at once when it already
  // is. forget_run unlinks it.
  void link_child_run(RunId parent, RunId child);
  // Completes pending op `id` from inside the engine with `value` (its timeout timer is dropped) and
  // tells the host to stop working on it. False when the op is not pending.
  bool settle_early(OpId id, json value, const std::string& reason);

  // --- scheduling ---
  void schedule(coro::coroutine_handle<> h) { ready_.schedule(h); }
  // Start a top-level task owned by the loop, in cancellation scope `scope` (0: none); its frame is
  // freed once it finishes.
  void spawn(Task<void> task, OpId scope = 0);

  // --- driving ---
  // One turn: deliver `batch`, then run every ready coroutine. Never throws: an exception that
  // escapes (an engine bug) is reported as an engine.fault event and the turn returns false.
  // `delivered` is called once the batch is read, before any coroutine runs: the driver frees the
  // batch there, so that a large answer's text is not held by it while the run works.
  bool turn(std::string_view batch, const std::function<void()>& delivered) noexcept;
  bool turn(std::string batch) noexcept {
    return turn(batch, [&batch] { std::string().swap(batch); });
  }
  // Nothing ready and nothing that could make anything ready (no op in flight, no live root).
  bool idle() const { return ready_.empty() && pending_.empty() && roots_.empty(); }

  // Parse and dispatch one inbound batch (clock line + messages). Bad messages are reported as
  // protocol.error events; the rest of the batch is still delivered.
  void deliver(std::string_view batch);
  // Resume ready coroutines until none is ready.
  void run_ready();
  // Ops handed to the host and not yet completed (timeout timers included).
  std::size_t pending_op_count() const { return pending_.size(); }

  // --- environment ---
  double now_ms() const { return now_ms_; }
  void emit(const json& event) { protocol::send_outbound(event, host_.accepts_blobs(), emitter()); }
  void emit(json&& event) { protocol::send_outbound(std::move(event), host_.accepts_blobs(), emitter()); }
  // Emits `event` without copying it; it is left as it was (protocol::send_outbound_borrowing).
  void emit_borrowing(json& event) { protocol::send_outbound_borrowing(event, host_.accepts_blobs(), emitter()); }
  // Emits {"type":"run.event","run":run,"event":event}, unless the run's events are muted.
  void emit_run_event(RunId run, json&& event) {
    if (!muted(run)) protocol::send_run_event(run, std::move(event), host_.accepts_blobs(), emitter());
  }
  // Emits a run event made of `fields` and `more_members` without copying `fields`
  // (protocol::send_run_event_borrowing), unless the run's events are muted.
  void emit_run_event_borrowing(RunId run, json& fields, std::string_view more_members) {
    if (!muted(run)) protocol::send_run_event_borrowing(run, fields, more_members, host_.accepts_blobs(), emitter());
  }
  // A run whose host keeps none of its events (run(agent, {events: false})): they are still made
  // and observed (metrics, limits) but not sent. Until forget_run.
  void mute_run_events(RunId run) { muted_runs_.insert(run); }

 private:
  // Hand a message's parts to the host: events through emit, ops through start.
  protocol::OutboundSender emitter() {
    return [this](std::string_view text, protocol::BlobBytes blobs) { blobs.empty() ? host_.emit(text) : host_.emit_parts(text, blobs); };
  }
  protocol::OutboundSender starter() {
    return [this](std::string_view text, protocol::BlobBytes blobs) { blobs.empty() ? host_.start(text) : host_.start_parts(text, blobs); };
  }
  bool muted(RunId run) const { return !muted_runs_.empty() && muted_runs_.count(run) != 0; }
  friend class OpAwaiter;
  struct PendingOp {
    RunId run = 0;
    coro::coroutine_handle<> waiter;  // empty for a timeout timer
    OpOutcome* outcome = nullptr;     // where the waiter reads its result
    OpId linked = 0;                  // op's timeout timer, or the timer's guarded op
    bool is_timeout_timer = false;
    std::string timeout_message;  // for a timeout timer: what the guarded op fails with
    bool is_deadline = false;     // a run deadline timer (see set_deadline)
    std::string kind{};           // the op's kind, for messages about its result
    OpId scope = 0;               // the cancellation scope it was started in
    bool text_shown = false;      // the host streamed some of its text to the user (op.progress)
    std::uint64_t span = 0;       // the trace span it belongs to (OpAwaiter::in_span), 0 for none
  };

  void start_op(RunId run, std::string kind, json payload, double timeout_ms, const std::string& label, coro::coroutine_handle<> waiter,
                OpOutcome* outcome, OpId* id_out = nullptr, OpId scope = 0, std::uint64_t span = 0);
  void complete_op(json& message);          // moves the value out of `message`
  void note_progress(const json& message);  // op.progress: what the host did with a pending op so far
  // A line that is not a message: its op fails or its command gets an error reply when its type
  // and id could be read, so that nothing waits forever; else a protocol.error event.
  void answer_unreadable(const protocol::InboundLine& line);
  // engine.configure {limits?: {jsonDepth}}: the inbox's own settings; replies with the limits in force.
  void configure(const json& message);
  void finish(OpId id, PendingOp op, OpOutcome outcome);
  void send_cancel(OpId id, const std::string& reason);
  // The engine gave up on op `id` with `error` (already finished): its scope is cancelled too.
  void gave_up(OpId id, const protocol::WireError& error) { cancel_scope(id, error); }
  void report_protocol_error(const std::string& message);
  void report_fault(const std::string& what) noexcept;
  // "run.start #3, op.done #7 (callback.invoke)": the messages being handled, for engine.fault.
  void note_input(const json& message);
  Task<void> root(Task<void> body, std::uint64_t key);

  Host& host_;
  CommandHandler on_command_;
  Scheduler ready_;
  std::unordered_map<OpId, PendingOp> pending_;
  OpId next_op_id_ = 1;
  // Ops the engine gave up on (cancel, timeout): a late op.done for them is expected and ignored.
  std::unordered_set<OpId> given_up_;
  std::deque<OpId> given_up_order_;
  std::unordered_map<RunId, protocol::WireError> cancelled_runs_;  // and what their later ops fail with
  std::unordered_set<RunId> muted_runs_;                           // mute_run_events
  // Cancelled scopes and their errors (bounded like given_up_), and the runs linked to live scopes.
  std::unordered_map<OpId, protocol::WireError> cancelled_scopes_;
  std::deque<OpId> cancelled_scopes_order_;
  std::unordered_multimap<OpId, RunId> scope_runs_;
  std::unordered_multimap<RunId, RunId> child_runs_;  // parent run → runs started on its behalf
  struct Deadline {
    OpId timer;
    protocol::WireError error;
  };
  std::unordered_map<RunId, Deadline> deadlines_;
  std::map<std::uint64_t, Task<void>> roots_;
  std::vector<std::uint64_t> finished_roots_;
  std::uint64_t next_root_key_ = 1;
  double now_ms_ = 0;
  std::string input_;  // what note_input recorded for the current batch
};

}  // namespace lmthing
