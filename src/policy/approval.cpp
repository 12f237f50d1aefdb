#include "policy/approval.hpp"

#include <cmath>
#include <stdexcept>

namespace lmthing::policy {

namespace {

std::string options_text(const ApprovalSpec& spec) {
  std::string out;
  for (const auto& o : spec.options) out += (out.empty() ? "" : ", ") + o;
  return out;
}

std::string ms_text(double ms) { return ms == std::floor(ms) ? std::to_string(static_cast<long long>(ms)) : json(ms).dump(); }

Decision default_decision(const ApprovalSpec& spec, std::string source, std::string why) {
  Decision d;
  d.action = spec.default_action;
  d.source = std::move(source);
  d.reason = why + "; the default action (" + spec.default_action + ") was applied";
  return d;
}

json merged(json base, const json& extra) {
  if (extra.is_object()) base.update(extra);
  return base;
}

}  // namespace

json Decision::to_json() const {
  json out{{"request", id}, {"action", action}, {"source", source}};
  if (action == "modify") out["modifiedData"] = modified_data;
  if (!reason.empty()) out["reason"] = reason;
  if (!signature.empty()) out["signature"] = signature;
  return out;
}

Decision read_decision(const json& answer, const ApprovalSpec& spec, bool can_defer) {
  Decision d;
  if (answer.is_string()) {
    d.action = answer.get<std::string>();
  } else if (answer.is_object() && answer.contains("action") && answer["action"].is_string()) {
    d.action = answer["action"].get<std::string>();
    if (answer.contains("modifiedData")) d.modified_data = answer["modifiedData"];
    if (answer.contains("reason") && !answer["reason"].is_null()) {
      if (!answer["reason"].is_string()) throw std::invalid_argument("\"reason\" must be a string, got " + answer["reason"].dump());
      d.reason = answer["reason"].get<std::string>();
    }
  } else {
    throw std::invalid_argument("a decision must be {action: " + options_text(spec) + ", modifiedData?, reason?}, got " +
                                answer.dump().substr(0, 200));
  }
  if (d.action == "defer") {
    if (!can_defer)
      throw std::invalid_argument("action \"defer\" ends a run with the tool call pending, which only a prompt run's own tool calls can do");
    if (answer.is_object() && answer.contains("signature")) {
      if (!answer["signature"].is_string()) throw std::invalid_argument("\"signature\" must be a string");
      d.signature = answer["signature"].get<std::string>();
    }
    return d;
  }
  if (!spec.allows(d.action))
    throw std::invalid_argument("action \"" + d.action + "\" is not offered by approval \"" + spec.name + "\" (options: " + options_text(spec) + ")");
  if (d.action == "modify" && d.modified_data.is_null()) throw std::invalid_argument("action \"modify\" needs \"modifiedData\" (the edited data)");
  return d;
}

Task<Decision> ask_approval(const pipeline::CallEnv& env, ApprovalSpec spec, json context, json preview, json extra, bool can_defer) {
  Loop& loop = env.loop;
  const RunId run = env.run;
  const std::string message = co_await render_message(loop, run, spec.message_fn, spec.message, context);
  OpenRequest request(env.desk,
                      env.desk.open(run, env.host, "approval", [spec, can_defer](const json& answer) { read_decision(answer, spec, can_defer); }));
  json fields{{"request", request.id()},
              {"name", spec.name},
              {"message", message},
              {"options", spec.options},
              {"defaultAction", spec.default_action},
              {"preview", spec.show_preview ? preview : json()},
              {"deadline", spec.timeout_ms > 0 ? json(loop.now_ms() + spec.timeout_ms) : json()},
              {"context", context}};
  fields = merged(std::move(fields), extra);
  env.emit(merged(fields, {{"type", "approval-request"}}));

  json payload = merged(fields, {{"host", env.host}, {"path", env.path}});
  Decision decision;
  try {
    json answer = co_await loop.op(run, "approval.ask", std::move(payload), spec.timeout_ms).tracked(&request.entry().op);
    const bool by_id = request.entry().answered_by_id;
    try {
      decision = read_decision(answer, spec, can_defer);
      decision.source = by_id ? "respond" : "handler";
    } catch (const std::invalid_argument& e) {
      decision = default_decision(spec, "invalid", std::string("the approval handler returned an invalid decision: ") + e.what());
    }
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted" || env.cancelled()) throw;  // the run's timeout is not the approval's
    if (e.error.kind == "timeout")
      decision = default_decision(spec, "timeout", "no decision within " + ms_text(spec.timeout_ms) + " ms");
    else
      decision = default_decision(spec, "error", "the approval handler failed: " + e.error.message);
  }
  decision.id = request.id();
  env.emit(merged(merged(decision.to_json(), {{"type", "approval-decision"}, {"name", spec.name}}), extra));
  co_return decision;
}

}  // namespace lmthing::policy
