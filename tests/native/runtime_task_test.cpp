#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "runtime/random.hpp"
#include "runtime/task.hpp"

using namespace lmthing;

namespace {

Task<int> constant(int v) { co_return v; }

Task<int> add_chain(int depth) {
  if (depth == 0) co_return 0;
  int below = co_await add_chain(depth - 1);
  co_return below + 1;
}

Task<int> thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}

Task<std::string> catches() {
  try {
    co_await thrower();
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "not reached";
}

// Drives a task that never suspends on anything external.
template <typename T>
T run_sync(Task<T> t) {
  Scheduler scheduler;
  scheduler.schedule(t.handle());
  scheduler.run();
  REQUIRE(t.done());
  return t.result();
}

}  // namespace

TEST_CASE("a task is lazy and yields its value when driven", "[runtime]") {
  Task<int> t = constant(42);
  REQUIRE_FALSE(t.done());
  REQUIRE(run_sync(std::move(t)) == 42);
}

TEST_CASE("exceptions propagate through co_await to the awaiter", "[runtime]") {
  REQUIRE(run_sync(catches()) == "caught boom");
  Task<int> t = thrower();
  Scheduler scheduler;
  scheduler.schedule(t.handle());
  scheduler.run();
  REQUIRE_THROWS_WITH(t.result(), "boom");
}

TEST_CASE("deep await chains do not grow the native stack (every resumption goes through the queue)", "[runtime]") {
  REQUIRE(run_sync(add_chain(100000)) == 100000);
}

TEST_CASE("an unstarted task is destroyed without leaking or running", "[runtime]") {
  bool ran = false;
  auto body = [&]() -> Task<void> {
    ran = true;
    co_return;
  };
  { Task<void> t = body(); }
  REQUIRE_FALSE(ran);
}

TEST_CASE("the PRNG is deterministic per seed and roughly uniform", "[runtime]") {
  Random a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) REQUIRE(a.next() == b.next());
  REQUIRE(Random(7).next() != c.next());
  Random r(123);
  std::array<int, 10> buckets{};
  for (int i = 0; i < 100000; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    buckets[static_cast<std::size_t>(u * 10)]++;
  }
  for (int count : buckets) REQUIRE(std::abs(count - 10000) < 600);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(r.below(5));
  REQUIRE(seen == std::set<std::uint64_t>{0, 1, 2, 3, 4});
}
