// Native baseline for the engine<->host boundary: the engine driven in-process by the test
// Harness (tests/native/scripted_host.hpp), with a host that answers every op the moment the
// engine waits. No latency anywhere, so the figures are pure engine + protocol cost:
// op JSON out, json::parse on the host side, op.done JSON back, batch parse, coroutine resume.
//
//   sequential: map with concurrency 1 -> one op per engine->host->engine round trip
//   concurrent: map with no limit      -> all ops handed out in one turn, answered in one batch
//
// Prints one JSON object (medians of 5 runs) for bench/boundary.mjs to parse.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "scripted_host.hpp"

using lmthing::json;
using lmthing::testing::Harness;

namespace {

// One `map` run of `n` items through a fresh engine; returns wall seconds from run.start to reply.
double time_map_run(std::size_t n, double concurrency) {
  Harness h;
  json items = json::array();
  for (std::size_t i = 0; i < n; ++i) items.push_back(static_cast<double>(i));
  json spec{{"kind", "map"}, {"fn", "inc"}, {"items", std::move(items)}};
  if (concurrency > 0) spec["concurrency"] = concurrency;

  const auto t0 = std::chrono::steady_clock::now();
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", std::move(spec)}});
  const bool ok = h.run([](Harness& hh) {
    // Answer every op started since the last wait with args[0] + 1 (the JS bench's `inc`).
    for (const json& op : hh.host.started) hh.post(Harness::done_ok(op["id"].get<lmthing::OpId>(), op["args"][0].get<double>() + 1));
    hh.host.started.clear();  // keep memory flat: the harness would otherwise keep every op
  });
  const auto t1 = std::chrono::steady_clock::now();

  // Sanity: the run must have replied ok with n results (else the timing measured a failure).
  auto reply = h.reply(1);
  if (!ok || !reply || !(*reply)["ok"].get<bool>() || (*reply)["value"].size() != n) {
    std::fprintf(stderr, "bench_boundary: map run failed: %s\n", reply ? reply->dump().substr(0, 300).c_str() : "no reply");
    std::exit(1);
  }
  return std::chrono::duration<double>(t1 - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

json measure(std::size_t n, double concurrency, int repeats) {
  time_map_run(n / 10, concurrency);  // warm-up (allocator, caches)
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) seconds.push_back(time_map_run(n, concurrency));
  const double s = median(seconds);
  return json{{"ops", n}, {"usPerOp", s * 1e6 / static_cast<double>(n)}, {"opsPerSec", static_cast<double>(n) / s}, {"runsSec", seconds}};
}

}  // namespace

int main(int argc, char** argv) {
  // Optional argument: item count (default 200k), e.g. for a quick smoke run.
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200000;
  json out{{"sequential", measure(n, 1, 5)}, {"concurrent", measure(n, 0, 5)}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
