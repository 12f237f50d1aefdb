// Constraints (defConstraint) and the ledger that enforces them. One ledger serves a run and all
// its sub-agents and parallel branches, so a budget is counted across all of them.
//   tokens    {max, warn, onExceeded: 'stop'|'warn', track: ['input','output','embeddings']}
//   duration  {max (ms), onExceeded: 'graceful-stop'|'stop'}
//   rate      {requests, period (ms), strategy: 'wait'|'fail', scope: 'model'|'tool'|'all'}
//   cost      {max (USD), warn, onExceeded: 'stop'|'warn', prices: {modelId: {input, output}}} (USD per 1M tokens)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocol/json.hpp"

#include "policy/rate_limiter.hpp"
#include "protocol/messages.hpp"

namespace lmthing::policy {

struct Constraint {
  enum class Type { Tokens, Duration, Rate, Cost };
  std::string name;
  Type type = Type::Tokens;
  double max = 0;              // tokens, ms or USD
  std::optional<double> warn;  // tokens or USD: warn once when crossed
  bool stop = true;            // onExceeded: stop / graceful-stop (true) or warn (false)
  bool graceful = false;       // duration: end the loop after the current step
  bool track_input = true, track_output = true, track_embeddings = false;
  std::optional<RateLimiter> limiter;  // rate
  bool fail_when_busy = false;         // rate strategy 'fail'
  std::string scope = "model";         // rate: which calls wait for a slot
  struct Price {
    double input = 0, output = 0;  // USD per 1M tokens
  };
  std::map<std::string, Price> prices;  // cost
};

// Parses one definition {name, type, ...config}. Throws std::invalid_argument naming the field.
Constraint parse_constraint(const lmthing::Json& spec);

const char* to_string(Constraint::Type type) noexcept;

// What a call may not do because of a constraint.
struct Violation {
  std::string constraint;
  std::string message;
  protocol::WireError error() const;  // kind "budget", code BUDGET_EXCEEDED, extra.constraint
};

class Ledger {
 public:
  void add(Constraint constraint) { constraints_.push_back(std::move(constraint)); }
  void start(double now_ms) { started_ms_ = now_ms; }
  bool empty() const { return constraints_.empty(); }

  // Counts a model call's usage ({inputTokens, outputTokens, embeddingTokens}) made with `model_id`.
  // Returns the events to report: a `constraint-warning` when a warn level is crossed, a
  // `constraint-exceeded` when a max is crossed (each once per constraint).
  std::vector<lmthing::Json> record_usage(const std::string& model_id, const lmthing::Json& usage, double now_ms);

  // The first constraint with onExceeded 'stop' that forbids starting another call, if any.
  std::optional<Violation> blocking(double now_ms) const;
  // The first exceeded constraint of any kind (ctx.checkConstraints()).
  std::optional<Violation> exceeded(double now_ms) const;
  // A duration constraint with 'graceful-stop' whose time is up: the loop should end after this step.
  std::optional<std::string> graceful_stop(double now_ms) const;
  bool has_graceful_stop() const;
  // The hard time limit of the run tree (duration with onExceeded 'stop'), as {ms from start, violation}.
  std::optional<std::pair<double, Violation>> hard_deadline() const;

  // Reserves a start slot for a call of `scope` ('model' or 'tool') in every rate constraint that
  // covers it; returns how long to wait (ms). A 'fail' constraint that would make it wait returns
  // its violation instead. `starts` gets each covering constraint's reserved start, for release_slot.
  double reserve_slot(const std::string& scope, double now_ms, std::optional<Violation>& refused, std::vector<double>* starts = nullptr);
  // Gives back the starts reserve_slot reserved for a call that was cancelled before its slot came.
  void release_slot(const std::string& scope, const std::vector<double>& starts, double now_ms);

  // Running totals, for checkConstraints() and the run's result.
  lmthing::Json totals(double now_ms) const;

 private:
  std::optional<Violation> over(const Constraint& c, double now_ms) const;
  double tokens_for(const Constraint& c) const;

  std::vector<Constraint> constraints_;
  std::map<std::string, bool> warned_, exceeded_reported_;
  double started_ms_ = 0;
  double input_ = 0, output_ = 0, embeddings_ = 0, cost_usd_ = 0;
  std::vector<std::string> unpriced_models_;
};

}  // namespace lmthing::policy
