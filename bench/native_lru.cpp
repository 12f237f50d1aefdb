// Native half of bench/storage.mjs: hit latency of the engine's LruCache (src/state/lru_cache.hpp)
// at 100k entries, in CPU time. Prints JSON: {entries, lookups, runs: [ns per hit ...], median_ns}.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "runtime/random.hpp"
#include "state/lru_cache.hpp"

// CPU time of this process: on a machine shared with other jobs, wall time mostly measures them.
static double cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

int main(int argc, char** argv) {
  const std::size_t entries = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  const std::size_t lookups = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 2000000;
  const int runs = 7;
  lmthing::state::LruCache::Options options;
  options.max_entries = entries;
  lmthing::state::LruCache cache(options);
  std::vector<std::string> keys;
  keys.reserve(entries);
  for (std::size_t i = 0; i < entries; ++i) {
    keys.push_back("key:" + std::to_string(i));
    cache.put(keys.back(), lmthing::state::json{{"i", i}, {"text", "value " + std::to_string(i)}}, 0);
  }
  // Uniformly random existing keys, drawn before timing.
  lmthing::Random random(42);
  std::vector<std::size_t> order(lookups);
  for (auto& o : order) o = random.below(entries);
  std::vector<double> ns;
  std::size_t found = 0;
  for (int r = 0; r < runs + 1; ++r) {
    const double start = cpu_ns();
    for (std::size_t i = 0; i < lookups; ++i) found += cache.get(keys[order[i]], 1) != nullptr;
    const double elapsed = cpu_ns() - start;
    if (r > 0) ns.push_back(elapsed / static_cast<double>(lookups));  // the first run warms up
  }
  if (found != lookups * (runs + 1)) {
    std::fprintf(stderr, "expected every lookup to hit\n");
    return 1;
  }
  std::vector<double> sorted = ns;
  std::sort(sorted.begin(), sorted.end());
  std::printf("{\"entries\": %zu, \"lookups\": %zu, \"runs\": [", entries, lookups);
  for (std::size_t i = 0; i < ns.size(); ++i) std::printf("%s%.2f", i ? ", " : "", ns[i]);
  std::printf("], \"median_ns\": %.2f}\n", sorted[sorted.size() / 2]);
  return 0;
}
