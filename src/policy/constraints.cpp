#include "policy/constraints.hpp"

#include <algorithm>
#include <cmath>

#include "protocol/fields.hpp"
#include "runtime/loop.hpp"

namespace lmthing::policy {

using json = lmthing::Json;

namespace {

// Token counts and milliseconds print as whole numbers when they are.
std::string number_text(double v) { return format_ms(v); }

std::string usd(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "$%.6f", v);
  return buffer;
}

void read_tracking(const protocol::FieldReader& config, Constraint& c) {
  // `tracking` is the proposal's spelling of `track`.
  const char* key = config.has("tracking") ? "tracking" : "track";
  if (!config.has(key)) return;
  c.track_input = c.track_output = c.track_embeddings = false;
  for (const auto& item : config.strings(key)) {
    if (item == "input")
      c.track_input = true;
    else if (item == "output")
      c.track_output = true;
    else if (item == "embeddings")
      c.track_embeddings = true;
    else
      config.fail("'track' items must be 'input', 'output' or 'embeddings', got \"" + item + "\"");
  }
  if (!c.track_input && !c.track_output && !c.track_embeddings) config.fail("'track' must name at least one of 'input', 'output', 'embeddings'");
}

void read_prices(const protocol::FieldReader& config, Constraint& c) {
  if (!config.has("prices")) config.fail("a cost constraint needs 'prices': {modelId: {input, output}} in USD per 1M tokens");
  const json& prices = config.object().at("prices");
  if (!prices.is_object() || prices.empty()) config.fail("'prices' must be a non-empty object {modelId: {input, output}}, got " + prices.dump());
  for (const auto& [model, price] : prices.items()) {
    protocol::FieldReader entry(price, "price of \"" + model + "\"");
    entry.only({"input", "output"}, "field");
    Constraint::Price p;
    p.input = entry.positive("input", true).value_or(0);
    p.output = entry.positive("output", true).value_or(0);
    c.prices.emplace(model, p);
  }
}

}  // namespace

Constraint parse_constraint(const json& spec) {
  if (!spec.is_object() || !spec.contains("name") || !spec["name"].is_string())
    throw std::invalid_argument("constraint: expected {name, type, ...config}, got " + spec.dump());
  Constraint c;
  c.name = spec["name"].get<std::string>();
  protocol::FieldReader config(spec, "constraint \"" + c.name + "\"");
  const auto type = config.choice("type", {"tokens", "duration", "rate", "cost"});
  if (!type) config.fail("'type' is required: one of 'tokens', 'duration', 'rate', 'cost'");
  if (*type == "rate") {
    c.type = Constraint::Type::Rate;
    try {
      c.limiter.emplace(parse_rate_limit(spec));
    } catch (const std::invalid_argument& e) {
      config.fail(e.what());
    }
    // 'sliding-window' (the proposal's spelling) names the limiter's algorithm, which waits for a slot.
    c.fail_when_busy = config.choice("strategy", {"wait", "fail", "sliding-window"}).value_or("wait") == "fail";
    c.scope = config.choice("scope", {"model", "tool", "all"}).value_or("model");
    return c;
  }
  const auto max = config.positive("max");
  if (!max) config.fail("'max' is required: a number > 0");
  c.max = *max;
  if (*type == "duration") {
    c.type = Constraint::Type::Duration;
    const std::string on = config.choice("onExceeded", {"graceful-stop", "stop"}).value_or("graceful-stop");
    c.graceful = on == "graceful-stop";
    return c;
  }
  c.type = *type == "tokens" ? Constraint::Type::Tokens : Constraint::Type::Cost;
  c.warn = config.positive("warn");
  if (c.warn && *c.warn > c.max) config.fail("'warn' must be <= 'max' (" + number_text(c.max) + "), got " + number_text(*c.warn));
  c.stop = config.choice("onExceeded", {"stop", "warn"}).value_or("stop") == "stop";
  if (c.type == Constraint::Type::Tokens)
    read_tracking(config, c);
  else
    read_prices(config, c);
  return c;
}

const char* to_string(Constraint::Type type) noexcept {
  switch (type) {
    case Constraint::Type::Tokens: return "tokens";
    case Constraint::Type::Duration: return "duration";
    case Constraint::Type::Rate: return "rate";
    case Constraint::Type::Cost: return "cost";
  }
  return "?";
}

protocol::WireError Violation::error() const {
  return protocol::WireError{"budget", message, json{{"code", "BUDGET_EXCEEDED"}, {"constraint", constraint}}};
}

double Ledger::tokens_for(const Constraint& c) const {
  return (c.track_input ? input_ : 0) + (c.track_output ? output_ : 0) + (c.track_embeddings ? embeddings_ : 0);
}

std::optional<Violation> Ledger::over(const Constraint& c, double now_ms) const {
  switch (c.type) {
    case Constraint::Type::Tokens: {
      const double used = tokens_for(c);
      if (used < c.max) return std::nullopt;
      return Violation{c.name, "constraint \"" + c.name + "\" exceeded: " + number_text(used) + " of " + number_text(c.max) + " tokens used"};
    }
    case Constraint::Type::Cost:
      if (cost_usd_ < c.max) return std::nullopt;
      return Violation{c.name, "constraint \"" + c.name + "\" exceeded: " + usd(cost_usd_) + " of " + usd(c.max) + " spent"};
    case Constraint::Type::Duration: {
      const double elapsed = now_ms - started_ms_;
      if (elapsed < c.max) return std::nullopt;
      return Violation{c.name, "constraint \"" + c.name + "\" exceeded: the run has taken " + number_text(std::floor(elapsed)) + " ms of " +
                                   number_text(c.max) + " ms"};
    }
    case Constraint::Type::Rate: return std::nullopt;
  }
  return std::nullopt;
}

std::vector<json> Ledger::record_usage(const std::string& model_id, const json& usage, double now_ms) {
  std::vector<json> events;
  auto field = [&](const char* key) { return usage.is_object() && usage.contains(key) && usage[key].is_number() ? usage[key].get<double>() : 0.0; };
  const double in = field("inputTokens"), out = field("outputTokens");
  input_ += in;
  output_ += out;
  embeddings_ += field("embeddingTokens");
  for (const auto& c : constraints_) {
    if (c.type != Constraint::Type::Cost) continue;
    auto price = c.prices.find(model_id);
    if (price == c.prices.end()) {
      if (std::find(unpriced_models_.begin(), unpriced_models_.end(), model_id) == unpriced_models_.end()) {
        unpriced_models_.push_back(model_id);
        events.push_back({{"type", "constraint-warning"},
                          {"constraint", c.name},
                          {"constraintType", "cost"},
                          {"message", "constraint \"" + c.name + "\" has no price for model \"" + model_id + "\"; its calls are not counted"}});
      }
      continue;
    }
    // Counted once, with the first cost constraint that prices this model.
    cost_usd_ += (in * price->second.input + out * price->second.output) / 1e6;
    break;
  }
  for (const auto& c : constraints_) {
    if (c.type != Constraint::Type::Tokens && c.type != Constraint::Type::Cost) continue;
    const double used = c.type == Constraint::Type::Tokens ? tokens_for(c) : cost_usd_;
    if (c.warn && used >= *c.warn && !warned_[c.name]) {
      warned_[c.name] = true;
      events.push_back({{"type", "constraint-warning"},
                        {"constraint", c.name},
                        {"constraintType", to_string(c.type)},
                        {"used", used},
                        {"warn", *c.warn},
                        {"max", c.max}});
    }
    if (auto violation = over(c, now_ms); violation && !exceeded_reported_[c.name]) {
      exceeded_reported_[c.name] = true;
      events.push_back({{"type", "constraint-exceeded"},
                        {"constraint", c.name},
                        {"constraintType", to_string(c.type)},
                        {"used", used},
                        {"max", c.max},
                        {"stops", c.stop},
                        {"message", violation->message}});
    }
  }
  return events;
}

std::optional<Violation> Ledger::blocking(double now_ms) const {
  for (const auto& c : constraints_) {
    if (!c.stop || (c.type == Constraint::Type::Duration && c.graceful)) continue;
    if (auto violation = over(c, now_ms)) return violation;
  }
  return std::nullopt;
}

std::optional<Violation> Ledger::exceeded(double now_ms) const {
  for (const auto& c : constraints_)
    if (auto violation = over(c, now_ms)) return violation;
  return std::nullopt;
}

std::optional<std::string> Ledger::graceful_stop(double now_ms) const {
  for (const auto& c : constraints_)
    if (c.type == Constraint::Type::Duration && c.graceful && over(c, now_ms)) return c.name;
  return std::nullopt;
}

bool Ledger::has_graceful_stop() const {
  for (const auto& c : constraints_)
    if (c.type == Constraint::Type::Duration && c.graceful) return true;
  return false;
}

std::optional<std::pair<double, Violation>> Ledger::hard_deadline() const {
  std::optional<std::pair<double, Violation>> earliest;
  for (const auto& c : constraints_) {
    if (c.type != Constraint::Type::Duration || c.graceful) continue;
    if (earliest && earliest->first <= c.max) continue;
    earliest.emplace(c.max,
                     Violation{c.name, "constraint \"" + c.name + "\" exceeded: the run reached its time limit of " + number_text(c.max) + " ms"});
  }
  return earliest;
}

double Ledger::reserve_slot(const std::string& scope, double now_ms, std::optional<Violation>& refused, std::vector<double>* starts) {
  double wait = 0;
  for (auto& c : constraints_) {
    if (c.type != Constraint::Type::Rate || !(c.scope == "all" || c.scope == scope)) continue;
    if (c.fail_when_busy) {
      // Probe on a copy: a refused call must not take a slot.
      RateLimiter probe = *c.limiter;
      if (probe.acquire(now_ms) > 0) {
        refused = Violation{c.name, "constraint \"" + c.name + "\": no free slot (" + std::to_string(c.limiter->config().requests) + " calls per " +
                                        number_text(c.limiter->config().period_ms) + " ms) and its strategy is 'fail'"};
        return 0;
      }
    }
  }
  for (auto& c : constraints_)
    if (c.type == Constraint::Type::Rate && (c.scope == "all" || c.scope == scope)) {
      double start = 0;
      const double own = c.limiter->acquire(now_ms, &start);
      if (starts) starts->push_back(start);
      wait = std::max(wait, own);
    }
  return wait;
}

void Ledger::release_slot(const std::string& scope, const std::vector<double>& starts, double now_ms) {
  std::size_t i = 0;
  for (auto& c : constraints_)
    if (c.type == Constraint::Type::Rate && (c.scope == "all" || c.scope == scope) && i < starts.size()) c.limiter->release(starts[i++], now_ms);
}

json Ledger::totals(double now_ms) const {
  return json{{"inputTokens", input_},
              {"outputTokens", output_},
              {"embeddingTokens", embeddings_},
              {"costUsd", cost_usd_},
              {"elapsedMs", now_ms - started_ms_}};
}

}  // namespace lmthing::policy
