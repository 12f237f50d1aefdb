#include "observe/tree_observer.hpp"

#include "pipeline/run_tree.hpp"
#include "protocol/json_write.hpp"
#include "runtime/random.hpp"

namespace lmthing::observe {

namespace {

const json& root_path() {
  static const json path = json::array({"root"});
  return path;
}

std::string text_of(const json& event, const char* field) {
  auto it = event.find(field);
  return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

json error_event(const std::string& severity, const std::string& source, const protocol::WireError& error, json context, const json& path) {
  json detail{{"message", error.message}, {"kind", error.kind}, {"severity", severity}};
  if (auto code = error.extra.find("code"); code != error.extra.end() && code->is_string()) detail["code"] = *code;
  return json{{"type", "error"}, {"severity", severity}, {"source", source}, {"error", std::move(detail)}, {"context", std::move(context)},
              {"path", path}};
}

void emit_observed(Loop& loop, pipeline::RunTree* tree, RunId run, json event) {
  if (!tree) {
    loop.emit_run_event(run, std::move(event));
    return;
  }
  std::vector<json> follow;
  tree->observer().observe(run, event, follow);
  loop.emit_run_event(run, std::move(event));
  for (auto& derived : follow) loop.emit_run_event(run, std::move(derived));
}

void emit_observed_borrowing(Loop& loop, pipeline::RunTree* tree, RunId run, std::string_view type, json& fields, const json& path) {
  std::vector<json> follow;
  if (tree) {
    json seen{{"type", type}, {"path", path}};
    tree->observer().observe(run, seen, follow);
  }
  std::string more_members = R"(,"type":)";
  protocol::append_json(more_members, json(type));
  more_members += R"(,"path":)";
  protocol::append_json(more_members, path);
  loop.emit_run_event_borrowing(run, fields, more_members);
  for (auto& derived : follow) loop.emit_run_event(run, std::move(derived));
}

void TreeObserver::record(const MetricSpec& spec, const std::vector<std::string>& labels, double value, RunId run, const json& path) {
  observatory_.metrics().record(spec, labels, value);
  const double current = metrics_.record(spec, labels, value);
  if (!metric_events_) return;
  json label_object = json::object();
  for (std::size_t i = 0; i < spec.labels.size(); ++i) label_object[spec.labels[i]] = labels[i];
  json event{{"type", "metric"}, {"name", spec.name}, {"value", value}, {"current", current}, {"labels", std::move(label_object)}, {"path", path}};
  event["definition"] = spec.to_json();
  loop_.emit_run_event(run, std::move(event));
}

void TreeObserver::enable_tracing(TracingConfig config, std::uint64_t seed) {
  tracing_defined_ = true;
  Random draw(seed ^ 0x74726163696e67ULL);
  const bool sampled = config.sampling >= 1 || (config.sampling > 0 && draw.uniform() < config.sampling);
  if (sampled) tracer_.emplace(loop_, config);
}

void TreeObserver::add_token_threshold(double tokens, const std::string& source) {
  for (const auto& t : thresholds_)
    if (t.tokens == tokens && t.source == source) return;
  thresholds_.push_back(Threshold{tokens, source, tokens_ >= tokens});
}

std::vector<json> TreeObserver::count_tokens(const json& usage) {
  auto number = [&](const char* key) { return usage.is_object() && usage.contains(key) && usage[key].is_number() ? usage[key].get<double>() : 0.0; };
  input_tokens_ += number("inputTokens");
  output_tokens_ += number("outputTokens");
  tokens_ = input_tokens_ + output_tokens_;
  std::vector<json> events;
  for (auto& t : thresholds_) {
    if (t.fired || tokens_ < t.tokens) continue;
    t.fired = true;
    events.push_back(json{{"type", "token-threshold"},
                          {"usage", tokens_},
                          {"threshold", t.tokens},
                          {"source", t.source},
                          {"inputTokens", input_tokens_},
                          {"outputTokens", output_tokens_}});
  }
  return events;
}

int TreeObserver::next_attempt(RunId run, const json& path, int step) {
  auto& [at_step, count] = attempts_[Tracer::scope_key(run, path)];
  if (at_step != step || count == 0) at_step = step, count = 0;
  return ++count;
}

void TreeObserver::forget_run(RunId run) {
  const std::string prefix = std::to_string(run) + "[";
  for (auto it = attempts_.lower_bound(prefix); it != attempts_.end() && it->first.rfind(prefix, 0) == 0;) it = attempts_.erase(it);
}

void TreeObserver::observe(RunId run, json& event, std::vector<json>& follow) {
  const std::string type = text_of(event, "type");
  const json& path = event.contains("path") ? event["path"] : root_path();
  const Builtins& b = builtins();
  const double now = loop_.now_ms();
  if (type == "step-start") {
    // A directive conversation numbers each reply's steps from 0 again: a new step counts attempts from 1.
    attempts_.erase(Tracer::scope_key(run, path));
  } else if (type == "tool-error") {
    const std::string tool = text_of(event, "toolName");
    record(*b.tool_errors, {tool}, 1, run, path);
    json context{{"toolName", tool}, {"toolCallId", event.value("toolCallId", json())}, {"stepNumber", event.value("stepNumber", json())}};
    follow.push_back(
        error_event("error", "tool", protocol::WireError{"callback", text_of(event, "error"), json::object()}, std::move(context), path));
  } else if (type == "retry") {
    const std::string target = text_of(event, "target");
    const std::string name = target == "tool" ? text_of(event, "toolName") : text_of(event, "model");
    record(*b.retries, {target, name}, 1, run, path);
    if (tracer_) {
      SpanId parent = target == "tool" ? tracer_->recall(Tracer::tool_key(run, text_of(event, "toolCallId"))) : 0;
      if (!parent) parent = tracer_->parent_at(run, path);
      const double delay = event.value("delayMs", 0.0);
      const SpanId span = tracer_->start(run, path, parent, "retry " + name, "retry",
                                         json{{"lmthing.retry.attempt", event.value("attempt", 0)},
                                              {"lmthing.retry.delay_ms", delay},
                                              {"lmthing.retry.target", target},
                                              {"lmthing.retry.error", text_of(event, "error")},
                                              {"error.type", text_of(event, "errorKind")}},
                                         now);
      tracer_->end(span, "", json::object(), now + delay);
    }
  } else if (type == "fallback") {
    record(*b.fallbacks, {text_of(event, "name"), text_of(event, "strategy")}, 1, run, path);
    if (tracer_) {
      // A tool's fallback is part of its call; a model cascade belongs to the step.
      SpanId parent = event.contains("toolCallId") ? tracer_->recall(Tracer::tool_key(run, text_of(event, "toolCallId"))) : 0;
      if (!parent) parent = tracer_->parent_at(run, path);
      const SpanId span = tracer_->start(run, path, parent, "fallback " + text_of(event, "name"), "fallback",
                                         json{{"lmthing.fallback.strategy", text_of(event, "strategy")},
                                              {"lmthing.fallback.from", text_of(event, "from")},
                                              {"lmthing.fallback.to", text_of(event, "to")},
                                              {"lmthing.fallback.error", text_of(event, "error")},
                                              {"error.type", text_of(event, "errorKind")}},
                                         now);
      tracer_->end(span, "", json::object(), now);
    }
  } else if (type == "approval-request") {
    SpanId span = 0;
    if (tracer_) {
      SpanId parent = tracer_->recall(Tracer::tool_key(run, text_of(event, "toolCallId")));
      if (!parent) parent = tracer_->parent_at(run, path);
      span = tracer_->start(run, path, parent, "approval " + text_of(event, "name"), "approval",
                            json{{"lmthing.approval.name", text_of(event, "name")}}, now);
    }
    approvals_[text_of(event, "request")] = ApprovalWait{now, span};
  } else if (type == "approval-decision") {
    auto it = approvals_.find(text_of(event, "request"));
    if (it != approvals_.end()) {
      const double waited = now - it->second.started_ms;
      event["waitMs"] = waited;
      record(*b.approval_wait, {text_of(event, "name"), text_of(event, "action")}, waited / 1000.0, run, path);
      if (tracer_)
        tracer_->end(it->second.span, "",
                     json{{"lmthing.approval.action", text_of(event, "action")}, {"lmthing.approval.source", text_of(event, "source")}}, now);
      approvals_.erase(it);
    }
  } else if (type == "branch-started") {
    if (tracer_ && path.is_array() && path.size() > 1) {
      json parent_path = path;
      parent_path.erase(parent_path.size() - 1);
      const std::string segment = path.back().is_string() ? path.back().get<std::string>() : path.back().dump();
      const SpanId span =
          tracer_->start(run, path, tracer_->parent_at(run, parent_path), "branch " + segment, "branch", json{{"lmthing.branch", segment}}, now);
      tracer_->remember(Tracer::scope_key(run, path), span);
    }
  } else if (type == "branch-returned" || type == "branch-threw") {
    const std::string key = Tracer::scope_key(run, path);
    attempts_.erase(key);
    if (tracer_) {
      const SpanId span = tracer_->recall(key);
      std::string error;
      if (type == "branch-threw") {
        const json& e = event.contains("error") ? event["error"] : json();
        error = e.is_object() && e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "the branch threw";
      }
      tracer_->end_below(run, path, span, error.empty() ? "the branch ended first" : error, now);
      tracer_->end(span, error, json::object(), now);
      tracer_->forget(key, span);
    }
  } else if (type == "cache-hit") {
    record(*b.cache_hits, {event.contains("cache") ? text_of(event, "cache") : text_of(event, "name")}, 1, run, path);
  } else if (type == "constraint-exceeded") {
    const bool stops = event.value("stops", false);
    protocol::WireError error{"budget", text_of(event, "message"), json{{"code", "BUDGET_EXCEEDED"}}};
    follow.push_back(error_event(stops ? "error" : "warning", "constraint", error, json{{"constraint", text_of(event, "constraint")}}, path));
  }
}

}  // namespace lmthing::observe
