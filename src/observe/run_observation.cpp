#include "observe/run_observation.hpp"

#include "observe/tree_observer.hpp"
#include "pipeline/run_tree.hpp"
#include "policy/constraints.hpp"

namespace lmthing::observe {

namespace {

const json& observe_field(const json& spec) {
  static const json none = json::object();
  auto it = spec.find("observe");
  return it != spec.end() && it->is_object() ? *it : none;
}

std::string agent_name(const json& path) {
  return path.is_array() && !path.empty() && path.back().is_string() ? path.back().get<std::string>() : std::string("root");
}

}  // namespace

void check_observe_spec(const json& spec, const std::string& where) {
  if (!spec.contains("observe")) return;
  const std::string at = where + ": observe";
  if (!spec["observe"].is_object())
    throw protocol::ProtocolError(at + " must be an object {tokenThresholds?, tokenThresholdHandler?, metricEvents?, parentSpan?, emits?}");
  protocol::FieldReader fields(spec["observe"], at);
  fields.only({"tokenThresholds", "tokenThresholdHandler", "metricEvents", "parentSpan", "emits"}, "field");
  if (const json* thresholds = fields.optional_array("tokenThresholds"))
    for (const auto& t : *thresholds)
      if (!t.is_number() || !(t.get<double>() > 0)) fields.bad("tokenThresholds", "an array of token counts > 0");
  fields.optional_bool("tokenThresholdHandler");
  fields.optional_bool("metricEvents");
  if (fields.has("parentSpan") && !fields.at("parentSpan").is_number_unsigned()) fields.bad("parentSpan", "a span id");
  if (const json* emits = fields.optional_array("emits"))
    for (const auto& e : *emits)
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) fields.bad("emits", "an array of {name, value}");
}

RunObservation::RunObservation(const pipeline::CallEnv& env, const json& spec, std::string kind, std::string model)
    : env_(env), kind_(std::move(kind)), started_ms_(env.loop.now_ms()) {
  TreeObserver& observer = env_.tree->observer();
  const json& settings = observe_field(spec);
  if (settings.value("metricEvents", false)) observer.set_metric_events(true);
  if (auto t = settings.find("tokenThresholds"); t != settings.end() && t->is_array())
    for (const auto& tokens : *t) observer.add_token_threshold(tokens.get<double>(), "config");
  if (env_.tree->is_root())
    for (const auto& [name, constraint] : env_.tree->definitions().all<policy::Constraint>("constraint"))
      if (constraint->type == policy::Constraint::Type::Tokens) observer.add_token_threshold(constraint->max, name);

  json start{{"type", "run-start"}, {"kind", kind_}, {"model", model}};
  if (Tracer* tracer = observer.tracer()) {
    SpanId parent = settings.contains("parentSpan") ? settings["parentSpan"].get<SpanId>() : 0;
    const std::string name = agent_name(env_.path);
    json attributes{{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.agent.name", name}, {"lmthing.run.kind", kind_}};
    if (!model.empty()) attributes["lmthing.model"] = model;
    span_ = tracer->start(env_.run, env_.path, parent, "invoke_agent " + name, "run", std::move(attributes), started_ms_);
    tracer->remember(Tracer::scope_key(env_.run, env_.path), span_);
  }
  env_.emit(std::move(start));
  if (settings.value("tokenThresholdHandler", false) && !observer.has_token_thresholds()) warn_no_token_threshold();
  if (auto emits = settings.find("emits"); emits != settings.end() && emits->is_array())
    for (const auto& e : *emits) env_.emit(json{{"type", "emitted"}, {"name", e["name"]}, {"value", e.value("value", json())}});
}

// An onTokenThreshold handler without thresholds of its own fires at the tree's (other handlers',
// token constraints'); with none, it would wait in silence. Out of line: a first run never needs it.
void RunObservation::warn_no_token_threshold() {
  const protocol::WireError error{"config",
                                  "an onTokenThreshold handler has no threshold to fire at: give it one with defEvent('onTokenThreshold', "
                                  "handler, {threshold}), or define a token constraint (defConstraint(name, 'tokens', {max}))",
                                  json::object()};
  env_.emit(error_event("warning", "handler", error, json{{"handler", "onTokenThreshold"}}, env_.path));
}

void RunObservation::finished(json* result) {
  json fields = json::object();
  if (result) {
    fields["finishReason"] = result->value("finishReason", json());
    fields["usage"] = result->value("usage", json::object());
    auto steps = result->find("steps");  // counted in place: a copy would copy every step's text
    fields["steps"] = steps != result->end() ? steps->size() : 0;
  }
  finish(true, std::move(fields), "ok", "");
  if (result && env_.tree->is_root()) (*result)["metricsJson"] = env_.tree->observer().metrics().snapshot_text();
}

void RunObservation::failed(const protocol::WireError& error) {
  const bool aborted = error.kind == "aborted";
  if (!aborted) env_.emit(error_event("critical", "run", error, json{{"runKind", kind_}}, env_.path));
  json detail{{"message", error.message}, {"kind", error.kind}};
  if (auto code = error.extra.find("code"); code != error.extra.end()) detail["code"] = *code;
  finish(false, json{{"error", std::move(detail)}}, aborted ? "aborted" : "error", error.message);
}

void RunObservation::finish(bool ok, json fields, const std::string& outcome, const std::string& error) {
  if (over_) return;
  over_ = true;
  TreeObserver& observer = env_.tree->observer();
  const double now = env_.loop.now_ms();
  observer.record(*observer.builtins().runs, {kind_, outcome}, 1, env_.run, env_.path);
  json event{{"type", "run-finish"}, {"kind", kind_}, {"ok", ok}, {"durationMs", now - started_ms_}};
  event.update(fields);
  if (Tracer* tracer = observer.tracer()) {
    tracer->forget(Tracer::scope_key(env_.run, env_.path), span_);
    json attributes = json::object();
    if (fields.contains("usage")) {
      attributes["gen_ai.usage.input_tokens"] = fields["usage"].value("inputTokens", 0.0);
      attributes["gen_ai.usage.output_tokens"] = fields["usage"].value("outputTokens", 0.0);
    }
    tracer->end(span_, error, std::move(attributes), now);
    tracer->end_all(env_.run, error.empty() ? "the run ended first" : error, now);
  }
  observer.forget_run(env_.run);
  env_.emit(std::move(event));
}

}  // namespace lmthing::observe
