// A parallel group over data: call one host callback per item, at most `concurrency` at a time,
// and return the results in item order. The building block of defParallel and batch fan-out.
#pragma once

#include <string>

#include "runtime/loop.hpp"

namespace lmthing::flow {

struct MapOptions {
  std::size_t concurrency = 0;  // 0 = all items at once
  double timeout_ms = 0;        // per callback; 0 = none
};

// Invokes callback `fn` with args [item, index] for each item. Throws the first failure (by
// index) after every started call has finished.
Task<json> parallel_map(Loop& loop, RunId run, std::string fn, json items, MapOptions options);

}  // namespace lmthing::flow
