// Aggregating the outcomes of concurrent tasks (defParallel, L.branch with options): `all`, `first`,
// `majority`, `consensus`, with `minSuccess`. Results are compared by deep equality, or by a host
// `compare(a, b)` callback; when no majority or consensus emerges, a `judge` host callback given
// the successful results by task may decide. defParallel feeds it as its tasks finish, so `first`
// and an early majority end the group at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/call.hpp"
#include "protocol/fields.hpp"

namespace lmthing::flow {

enum class Aggregation { All, First, Majority, Consensus };

struct AggregationSpec {
  std::string label;  // for messages: parallel "research", L.branch
  std::string name;   // the definition's name (the `parallel` field of errors), may be empty
  Aggregation kind = Aggregation::All;
  std::vector<std::string> tasks;
  std::size_t min_success = 0;
  std::optional<std::string> compare;  // callback (a, b) -> boolean
  std::optional<std::string> judge;    // callback (results by task) -> value
};

// Reads {aggregation, minSuccess, compare, judge}; the default minSuccess is every task for `all`
// and `consensus`, more than half for `majority`, one for `first` (which takes no other).
AggregationSpec read_aggregation(const protocol::FieldReader& fields, std::vector<std::string> tasks, std::string label, std::string name);

class Join {
 public:
  explicit Join(const AggregationSpec& spec);

  // Adds task `task`'s outcome: its value, or its error. Compare callbacks run in `env`. Returns
  // true once the aggregate is decided (the tasks still running can be cancelled).
  Task<bool> add(const pipeline::CallEnv& env, std::size_t task, std::optional<json> value, const protocol::WireError* error);
  bool decided() const { return decided_; }

  // The aggregate, deciding now if needed (tasks that never reported count as failed with `missing`).
  // Throws OpFailed of kind `parallel`: code PARALLEL_MIN_SUCCESS, PARALLEL_NO_MAJORITY,
  // PARALLEL_NO_CONSENSUS, listing each task's error in `errors`.
  Task<json> result(const pipeline::CallEnv& env, const protocol::WireError& missing);

  // {task: "success" | "error" | "pending"}.
  json statuses() const;
  // The task whose value a `first` aggregate took.
  std::optional<std::string> winner() const;

 private:
  Task<std::size_t> group_of(const pipeline::CallEnv& env, const json& value);
  Task<json> judge(const pipeline::CallEnv& env);
  void decide(json value);
  void fail(const std::string& code, const std::string& why);
  protocol::WireError failure(const std::string& code, const std::string& why) const;
  std::size_t largest_group() const;

  const AggregationSpec& spec_;
  std::vector<std::optional<json>> values_;
  std::vector<std::optional<protocol::WireError>> errors_;
  std::vector<std::vector<std::size_t>> groups_;  // task indices with equal values
  std::size_t successes_ = 0;
  std::size_t failures_ = 0;
  bool decided_ = false;
  std::optional<json> value_;
  std::optional<protocol::WireError> error_;
  std::optional<std::size_t> winner_;
};

}  // namespace lmthing::flow
