// Parallel groups (defParallel): named tasks, each a host callback given the input and its context
// {parallel, task, attempt}, run concurrently (at most `concurrency` at a time), their outcomes
// aggregated as the group says (flow/aggregate.hpp). `timeout` bounds the whole group: a task
// still running then is cancelled (its op times out, its AbortSignal fires) and counts as failed.
// Once the aggregate is decided (the first success of `first`, a majority reached early, minSuccess
// out of reach), the tasks still running are cancelled the same way. Events: parallel-start,
// parallel-finish {tasks: {name: status}, winner?}.
#pragma once

#include <string>
#include <vector>

#include "flow/aggregate.hpp"

namespace lmthing::flow {

struct ParallelTask {
  std::string name;
  std::string fn;  // callback
};

struct Parallel {
  std::string name;
  std::vector<ParallelTask> tasks;
  AggregationSpec aggregation;
  double timeout_ms = 0;
  std::size_t concurrency = 0;  // 0 = every task at once
};

// Resolves with the aggregate (Join::result); throws OpFailed of kind `parallel` when it fails.
Task<json> run_parallel(const pipeline::CallEnv& env, const Parallel& parallel, json input);

}  // namespace lmthing::flow
