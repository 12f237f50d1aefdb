#include "flow/parallel_map.hpp"

#include <memory>

#include "runtime/when_all.hpp"

namespace lmthing::flow {

namespace {

struct MapJob {
  std::string fn;
  json items;
  json results;
  std::size_t next = 0;
  double timeout_ms = 0;
  bool failed = false;  // after a failure no new item starts; calls in flight still finish
};

// One worker pulls items until none is left, so `concurrency` workers bound the calls in flight.
Task<void> worker(Loop& loop, RunId run, MapJob& job) {
  while (!job.failed && job.next < job.items.size()) {
    const std::size_t index = job.next++;
    json payload{{"fn", job.fn}, {"args", json::array({job.items[index], index})}};
    try {
      job.results[index] = co_await loop.op(run, "callback.invoke", std::move(payload), job.timeout_ms);
    } catch (...) {
      job.failed = true;
      throw;
    }
  }
}

}  // namespace

Task<json> parallel_map(Loop& loop, RunId run, std::string fn, json items, MapOptions options) {
  auto job = std::make_unique<MapJob>();
  job->fn = std::move(fn);
  job->items = std::move(items);
  job->results = json::array();
  job->timeout_ms = options.timeout_ms;
  const std::size_t count = job->items.size();
  for (std::size_t i = 0; i < count; ++i) job->results.push_back(nullptr);
  const std::size_t workers = options.concurrency == 0 || options.concurrency > count ? count : options.concurrency;
  std::vector<Task<void>> tasks;
  tasks.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) tasks.push_back(worker(loop, run, *job));
  co_await when_all(loop, std::move(tasks));
  co_return std::move(job->results);
}

}  // namespace lmthing::flow
