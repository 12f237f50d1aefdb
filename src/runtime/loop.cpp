#include "runtime/loop.hpp"

#include "protocol/json_text.hpp"

#include <algorithm>
#include <cmath>

namespace lmthing {

using protocol::WireError;

namespace {
// How many given-up op ids to remember for ignoring their late completions.
constexpr std::size_t kGivenUpMemory = 1 << 16;

}  // namespace

std::string format_ms(double ms) {
  if (ms == std::floor(ms) && std::fabs(ms) < 9e15) return std::to_string(static_cast<long long>(ms));
  return json(ms).dump();
}

void OpAwaiter::start(coro::coroutine_handle<> waiter, OpId scope) {
  loop_->start_op(run_, std::move(kind_), std::move(payload_), timeout_ms_, label_, waiter, &outcome_, id_out_, scope, span_);
}

json OpAwaiter::await_resume() {
  if (!outcome_.ok) throw OpFailed(std::move(outcome_.error));
  return std::move(outcome_.value);
}

Loop::~Loop() {
  // Destroy roots before the pending table they may point into; no coroutine is resumed here.
  roots_.clear();
}

void Loop::start_op(RunId run, std::string kind, json payload, double timeout_ms, const std::string& label, coro::coroutine_handle<> waiter,
                    OpOutcome* outcome, OpId* id_out, OpId scope, std::uint64_t span) {
  if (auto cancelled = cancelled_runs_.find(run); cancelled != cancelled_runs_.end()) {
    outcome->ok = false;
    outcome->error = cancelled->second;
    if (outcome->error.kind == "aborted") outcome->error.message = "the run was cancelled before " + kind + " could start";
    schedule(waiter);
    return;
  }
  if (const WireError* cancelled = scope_cancelled(scope)) {
    outcome->ok = false;
    outcome->error = *cancelled;
    schedule(waiter);
    return;
  }
  const OpId id = next_op_id_++;
  if (id_out) *id_out = id;
  PendingOp entry{run, waiter, outcome, 0, false, {}};
  entry.kind = kind;
  entry.scope = scope;
  entry.span = span;
  if (timeout_ms > 0) {
    const OpId timer = next_op_id_++;
    entry.linked = timer;
    std::string what = label.empty() ? kind : label;
    if (label.empty())
      if (auto fn = payload.find("fn"); fn != payload.end() && fn->is_string()) what += " \"" + fn->get<std::string>() + "\"";
    pending_.emplace(timer, PendingOp{run, {}, nullptr, id, true, what + " timed out after " + format_ms(timeout_ms) + " ms"});
    host_.start(protocol::op_message(timer, run, "timer.sleep", json{{"ms", timeout_ms}}).dump());
  }
  json message = protocol::op_message(id, run, kind, std::move(payload));
  if (timeout_ms > 0) message["timeoutMs"] = timeout_ms;
  pending_.emplace(id, entry);
  protocol::send_outbound(std::move(message), host_.accepts_blobs(), starter());
}

void Loop::complete_op(json& message) {
  const OpId id = protocol::require_id(message, "id", "op.done");
  auto ok_field = message.find("ok");
  if (ok_field == message.end() || !ok_field->is_boolean()) {
    // The host meant to complete this op: it fails rather than waiting forever, and the host hears why.
    std::string problem;
    try {
      protocol::require_field(message, "ok", json::value_t::boolean, "op.done");
    } catch (const protocol::ProtocolError& e) {
      problem = e.what();
    }
    if (auto pending = pending_.find(id); pending != pending_.end() && !pending->second.is_timeout_timer && !pending->second.is_deadline) {
      PendingOp op = pending->second;
      pending_.erase(pending);
      finish(id, op,
             OpOutcome{
                 false, json(),
                 WireError{"protocol", "the result of " + op.kind + " op " + std::to_string(id) + " could not be read: " + problem, json::object()}});
    }
    throw protocol::ProtocolError(problem);
  }
  const bool ok = ok_field->get<bool>();
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    if (given_up_.count(id)) return;  // cancelled or timed out: the late answer is expected
    if (id == 0 || id >= next_op_id_) throw protocol::ProtocolError("op.done for unknown op id " + std::to_string(id) + " (no such op was started)");
    throw protocol::ProtocolError("op.done for op " + std::to_string(id) + " which has already completed");
  }
  OpOutcome outcome;
  outcome.ok = ok;
  if (ok) {
    // Moved, not copied: a model's answer can be megabytes.
    auto value = message.find("value");
    if (value != message.end()) outcome.value = std::move(*value);
  } else {
    auto error = message.find("error");
    outcome.error = error == message.end() ? WireError{"engine", "op failed without an error value", json::object()} : WireError::from_json(*error);
  }
  PendingOp op = it->second;
  pending_.erase(it);

  if (op.is_deadline) {
    auto deadline = deadlines_.find(op.run);
    if (deadline == deadlines_.end() || deadline->second.timer != id) return;
    WireError error = std::move(deadline->second.error);
    deadlines_.erase(deadline);
    cancel_run(op.run, error);
    return;
  }
  if (op.is_timeout_timer) {
    // The timer fired: the guarded op (if still pending) fails with a timeout and is cancelled.
    auto guarded = pending_.find(op.linked);
    if (guarded == pending_.end()) return;
    PendingOp target = guarded->second;
    pending_.erase(guarded);
    send_cancel(op.linked, "timeout");
    target.linked = 0;
    // A model call that timed out after its text was shown is not retried by default (policy/retry.cpp).
    const WireError error{"timeout", op.timeout_message, target.text_shown ? json{{"textShown", true}} : json::object()};
    finish(op.linked, target, OpOutcome{false, json(), error});
    gave_up(op.linked, error);
    return;
  }
  finish(id, op, std::move(outcome));
}

void Loop::note_progress(const json& message) {
  // The op's id is `op`, not `id`: `id` names commands, whose numbering a journal follows.
  const OpId id = protocol::require_id(message, "op", "op.progress");
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.is_timeout_timer || it->second.is_deadline) {
    // Progress of an op that ended meanwhile (completed, timed out, cancelled) is stale, not wrong.
    if (id == 0 || id >= next_op_id_)
      throw protocol::ProtocolError("op.progress for unknown op id " + std::to_string(id) + " (no such op was started)");
    return;
  }
  auto shown = message.find("textShown");
  if (shown != message.end()) {
    if (!shown->is_boolean()) throw protocol::ProtocolError("op.progress: \"textShown\" must be true or false, got " + shown->dump());
    it->second.text_shown = it->second.text_shown || shown->get<bool>();
  }
}

void Loop::finish(OpId, PendingOp op, OpOutcome outcome) {
  if (op.linked != 0 && pending_.erase(op.linked)) send_cancel(op.linked, "guarded op completed");
  *op.outcome = std::move(outcome);
  schedule(op.waiter);
}

bool Loop::settle_early(OpId id, json value, const std::string& reason) {
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.is_timeout_timer) return false;
  PendingOp op = it->second;
  pending_.erase(it);
  send_cancel(id, reason);
  finish(id, op, OpOutcome{true, std::move(value), {}});
  gave_up(id, WireError{"aborted", reason, json::object()});
  return true;
}

void Loop::set_deadline(RunId run, double ms, WireError error) {
  if (auto old = deadlines_.find(run); old != deadlines_.end()) {
    pending_.erase(old->second.timer);
    send_cancel(old->second.timer, "deadline replaced");
    deadlines_.erase(old);
  }
  const OpId timer = next_op_id_++;
  PendingOp entry{run, {}, nullptr, 0, false, {}};
  entry.is_deadline = true;
  pending_.emplace(timer, entry);
  deadlines_.emplace(run, Deadline{timer, std::move(error)});
  host_.start(protocol::op_message(timer, run, "timer.sleep", json{{"ms", ms}}).dump());
}

void Loop::forget_run(RunId run) {
  cancelled_runs_.erase(run);
  muted_runs_.erase(run);
  for (auto it = scope_runs_.begin(); it != scope_runs_.end();) it = it->second == run ? scope_runs_.erase(it) : std::next(it);
  child_runs_.erase(run);
  for (auto it = child_runs_.begin(); it != child_runs_.end();) it = it->second == run ? child_runs_.erase(it) : std::next(it);
  if (auto deadline = deadlines_.find(run); deadline != deadlines_.end()) {
    pending_.erase(deadline->second.timer);
    send_cancel(deadline->second.timer, "the run finished");
    deadlines_.erase(deadline);
  }
}

std::size_t Loop::cancel_run(RunId run, const WireError& error) {
  cancelled_runs_.insert_or_assign(run, error);
  const std::string& reason = error.message;
  if (auto deadline = deadlines_.find(run); deadline != deadlines_.end()) {
    pending_.erase(deadline->second.timer);
    send_cancel(deadline->second.timer, reason);
    deadlines_.erase(deadline);
  }
  std::vector<OpId> victims;
  for (const auto& [id, op] : pending_)
    if (op.run == run && !op.is_timeout_timer) victims.push_back(id);
  // Hash order is arbitrary; id order keeps cancellation deterministic (and so replayable).
  std::sort(victims.begin(), victims.end());
  for (OpId id : victims) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    PendingOp op = it->second;
    pending_.erase(it);
    send_cancel(id, reason);
    finish(id, op, OpOutcome{false, json(), error});
    gave_up(id, error);
  }
  std::vector<RunId> children;
  for (auto [it, end] = child_runs_.equal_range(run); it != end; ++it) children.push_back(it->second);
  child_runs_.erase(run);
  std::sort(children.begin(), children.end());  // deterministic, as above
  for (RunId child : children) cancel_run(child, error);
  return victims.size() + children.size();
}

std::size_t Loop::cancel_scope(OpId scope, const WireError& error) {
  if (scope == 0 || cancelled_scopes_.count(scope)) return 0;
  cancelled_scopes_.emplace(scope, error);
  cancelled_scopes_order_.push_back(scope);
  if (cancelled_scopes_order_.size() > kGivenUpMemory) {
    cancelled_scopes_.erase(cancelled_scopes_order_.front());
    cancelled_scopes_order_.pop_front();
  }
  std::vector<OpId> victims;
  for (const auto& [id, op] : pending_)
    if (op.scope == scope && !op.is_timeout_timer) victims.push_back(id);
  std::sort(victims.begin(), victims.end());  // deterministic, as in cancel_run
  for (OpId id : victims) {
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    PendingOp op = it->second;
    pending_.erase(it);
    send_cancel(id, error.message);
    finish(id, op, OpOutcome{false, json(), error});
    gave_up(id, error);  // and what that op's callback started, in turn
  }
  std::vector<RunId> runs;
  for (auto [it, end] = scope_runs_.equal_range(scope); it != end; ++it) runs.push_back(it->second);
  scope_runs_.erase(scope);
  std::sort(runs.begin(), runs.end());
  for (RunId run : runs) cancel_run(run, error);
  return victims.size() + runs.size();
}

const WireError* Loop::scope_cancelled(OpId scope) const {
  if (scope == 0) return nullptr;
  auto it = cancelled_scopes_.find(scope);
  return it == cancelled_scopes_.end() ? nullptr : &it->second;
}

void Loop::link_run(OpId scope, RunId run) {
  if (scope == 0) return;
  if (const WireError* cancelled = scope_cancelled(scope)) {
    const WireError error = *cancelled;
    cancel_run(run, error);
    return;
  }
  scope_runs_.emplace(scope, run);
}

void Loop::link_child_run(RunId parent, RunId child) {
  if (auto cancelled = cancelled_runs_.find(parent); cancelled != cancelled_runs_.end()) {
    const WireError error = cancelled->second;
    cancel_run(child, error);
    return;
  }
  child_runs_.emplace(parent, child);
}

void Loop::send_cancel(OpId id, const std::string& reason) {
  given_up_.insert(id);
  given_up_order_.push_back(id);
  if (given_up_order_.size() > kGivenUpMemory) {
    given_up_.erase(given_up_order_.front());
    given_up_order_.pop_front();
  }
  host_.emit(protocol::op_cancel_message(id, reason).dump());
}

void Loop::report_protocol_error(const std::string& message) { emit(protocol::protocol_error_event(message)); }

void Loop::deliver(std::string_view text) {
  protocol::InboundBatch batch = protocol::parse_batch(text);
  if (batch.now_ms > now_ms_) now_ms_ = batch.now_ms;  // the engine clock never goes backwards
  input_.clear();
  for (auto& line : batch.lines) {
    if (!line.problem.empty()) {
      answer_unreadable(line);
      continue;
    }
    json& message = line.message;
    note_input(message);
    try {
      const std::string& type = message["type"].get_ref<const std::string&>();
      if (type == "op.done")
        complete_op(message);
      else if (type == "op.progress")
        note_progress(message);
      else if (type == "engine.configure")
        configure(message);
      else if (on_command_)
        on_command_(message);
      else
        report_protocol_error("no command handler for message type " + message["type"].dump());
    } catch (const protocol::ProtocolError& e) {
      report_protocol_error(e.what());
    } catch (const protocol::OpFailed& e) {
      // A command refused with a typed error (say, a limit exceeded while reading its spec).
      if (auto id = message.find("id"); id != message.end() && (id->is_number() || id->is_string()))
        emit(protocol::reply_error(*id, e.error));
      else
        report_protocol_error(e.what());
    } catch (const lmthing::Json::exception& e) {
      report_protocol_error(std::string("malformed message: ") + e.what());
    }
  }
}

void Loop::answer_unreadable(const protocol::InboundLine& line) {
  const protocol::Envelope& envelope = line.envelope;
  if (envelope.type && envelope.id) {
    if (*envelope.type != "op.done") {
      emit(protocol::reply_error(*envelope.id, WireError{line.problem_kind, *envelope.type + ": " + line.problem, json::object()}));
      return;
    }
    // The op's result could not be read: the op fails with that problem instead of waiting forever.
    const json& id = *envelope.id;
    if (id.is_number_unsigned() && given_up_.count(id.get<OpId>())) return;  // a late answer, ignored as always
    auto it = id.is_number_unsigned() ? pending_.find(id.get<OpId>()) : pending_.end();
    if (it != pending_.end() && !it->second.is_timeout_timer && !it->second.is_deadline) {
      const OpId op_id = it->first;
      PendingOp op = it->second;
      pending_.erase(it);
      const std::string what = "the result of " + op.kind + " op " + id.dump();
      const std::string message = line.problem_kind == "limit"
                                      ? what + " is nested deeper than the limit of " + std::to_string(protocol::limits().json_depth) + " levels"
                                      : what + " could not be read: " + line.problem;
      json details = line.problem_kind == "limit" ? json{{"code", "LIMIT_EXCEEDED"}, {"limit", "jsonDepth"}} : json::object();
      finish(op_id, op, OpOutcome{false, json(), WireError{line.problem_kind, message, std::move(details)}});
      return;
    }
  }
  json event = protocol::protocol_error_event(line.problem);
  event["error"]["kind"] = line.problem_kind;
  emit(event);
}

void Loop::configure(const json& message) {
  const json& id = message.contains("id") ? message["id"] : json();
  protocol::Limits limits = protocol::limits();
  try {
    if (auto it = message.find("limits"); it != message.end()) {
      if (!it->is_object()) throw protocol::ProtocolError("engine.configure: \"limits\" must be an object {jsonDepth?}, got " + it->dump());
      if (auto depth = it->find("jsonDepth"); depth != it->end()) {
        const bool in_range = depth->is_number_unsigned() && depth->get<std::size_t>() >= 1 && depth->get<std::size_t>() <= protocol::kMaxJsonDepth;
        if (!in_range)
          throw protocol::ProtocolError("engine.configure: \"limits.jsonDepth\" must be an integer from 1 to " +
                                        std::to_string(protocol::kMaxJsonDepth) + ", got " + depth->dump());
        limits.json_depth = depth->get<std::size_t>();
      }
    }
    protocol::set_limits(limits);
  } catch (const protocol::ProtocolError& e) {
    if (id.is_null()) throw;
    emit(protocol::reply_error(id, WireError{e.kind(), e.what(), json::object()}));
    return;
  }
  json in_force{{"limits", {{"jsonDepth", protocol::limits().json_depth}, {"maxJsonDepth", protocol::kMaxJsonDepth}}}};
  if (!id.is_null()) emit(protocol::reply_ok(id, std::move(in_force)));
}

void Loop::note_input(const json& message) {
  constexpr std::size_t kMaxInput = 300;
  if (input_.size() >= kMaxInput) return;
  std::string entry = message["type"].get<std::string>();
  if (auto id = message.find("id"); id != message.end() && (id->is_number() || id->is_string())) entry += " #" + id->dump();
  if (entry.rfind("op.done", 0) == 0) {
    if (auto id = message.find("id"); id != message.end() && id->is_number_unsigned())
      if (auto op = pending_.find(id->get<OpId>()); op != pending_.end() && !op->second.kind.empty()) entry += " (" + op->second.kind + ")";
  } else if (auto spec = message.find("spec"); spec != message.end() && spec->is_object() && spec->contains("kind") && (*spec)["kind"].is_string()) {
    entry += " (" + (*spec)["kind"].get<std::string>() + ")";
  }
  input_ += (input_.empty() ? "" : ", ") + entry;
  if (input_.size() > kMaxInput) input_ = input_.substr(0, kMaxInput) + "...";
}

Task<void> Loop::root(Task<void> body, std::uint64_t key) {
  try {
    co_await std::move(body);
  } catch (const std::exception& e) {
    // Roots are expected to handle their own errors; this is the last line of defence.
    report_fault(e.what());
  }
  finished_roots_.push_back(key);
}

void Loop::spawn(Task<void> task, OpId scope) {
  const std::uint64_t key = next_root_key_++;
  auto [it, inserted] = roots_.emplace(key, root(std::move(task), key).in_scope(scope));
  (void)inserted;
  schedule(it->second.handle());
}

void Loop::run_ready() {
  ready_.run();
  for (auto key : finished_roots_) roots_.erase(key);
  finished_roots_.clear();
}

bool Loop::turn(std::string_view batch, const std::function<void()>& delivered) noexcept {
  try {
    deliver(batch);
    if (delivered) delivered();
    run_ready();
    return true;
  } catch (const std::exception& e) {
    report_fault(e.what());
  } catch (...) {
    report_fault("unknown exception");
  }
  return false;
}

void Loop::report_fault(const std::string& what) noexcept {
  try {
    json error{{"kind", "engine"}, {"code", "ENGINE_FAULT"}, {"message", what}};
    if (!input_.empty()) error["input"] = input_;
    emit(json{{"type", "engine.fault"}, {"error", std::move(error)}});
  } catch (...) {
    // Nothing more can be done: the host will see the loop return a failure status.
  }
}

}  // namespace lmthing
