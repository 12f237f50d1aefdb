// Aggregating the outcomes of concurrent tasks (defParallel, L.branch with options): `all`, `first`,
// `majority`, `consensus`, with `minSuccess`. Results are compared by deep equality, or by a host
// `compare(a, b)` callback; when no majority or consensus emerges, a judge may decide: a host
// callback given the successful results by task, or one call of a judge model through the run's
// model chain (flow/run_models.hpp) that names the task whose answer the majority/consensus
// supports. defParallel and L.branch groups feed it as their members finish, so `first` and an
// early majority end the group at once.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/call.hpp"
#include "protocol/fields.hpp"

namespace lmthing::flow {

enum class Aggregation { All, First, Majority, Consensus };

// `judge: {model?, instructions?}`: a model call decides (model empty: the run's own model).
struct JudgeModel {
  std::string model;
  std::string instructions;
};

struct AggregationSpec {
  std::string label;  // for messages: parallel "research", L.branch
  std::string name;   // the definition's name (the `parallel` field of errors), may be empty
  Aggregation kind = Aggregation::All;
  std::vector<std::string> tasks;
  std::size_t min_success = 0;
  std::optional<std::string> compare;  // callback (a, b) -> boolean
  std::optional<std::string> judge;    // callback (results by task) -> value
  std::optional<JudgeModel> judge_model;
  bool judged() const { return judge || judge_model; }
};

// Reads {aggregation, minSuccess, compare, judge} (`judge`: a callback name, or {model?,
// instructions?} for a judge model); the default minSuccess is every task for `all`
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
  // The task whose value the aggregate took (`first`'s winner, the front of the agreeing results, the
  // task a judge model named); none for `all` and a judge callback's own answer.
  std::optional<std::string> winner() const;

 private:
  Task<std::size_t> group_of(const pipeline::CallEnv& env, const json& value);
  Task<json> judge(const pipeline::CallEnv& env);
  // One call of the judge model; decides (its winner's value) or fails (PARALLEL_JUDGE_INVALID for
  // an answer that is not {winner: a candidate}, PARALLEL_JUDGE_FAILED when the call fails).
  Task<void> judge_with_model(const pipeline::CallEnv& env);
  void decide(json value, std::optional<std::size_t> winner = std::nullopt);
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
