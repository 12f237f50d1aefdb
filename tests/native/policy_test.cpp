// Resilience policies: backoff delays, the circuit breaker's state machine, the rate limiter's slots.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "policy/backoff.hpp"
#include "policy/circuit_breaker.hpp"
#include "policy/rate_limiter.hpp"

namespace {

using lmthing::Random;
using json = lmthing::Json;
using namespace lmthing::policy;
using State = CircuitState;

BackoffConfig backoff(BackoffConfig::Kind kind, double base, double max, double jitter = 0) {
  BackoffConfig c;
  c.kind = kind;
  c.base_delay_ms = base;
  c.max_delay_ms = max;
  c.jitter = jitter;
  return c;
}

std::vector<double> sequence(const BackoffConfig& c, int n, Random& rng) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(backoff_delay(c, i, rng));
  return out;
}

// The message of the std::invalid_argument thrown by f ("" if none).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------- backoff

TEST_CASE("backoff without jitter gives exact sequences per kind", "[policy]") {
  Random rng(1);
  CHECK(sequence(backoff(BackoffConfig::Exponential, 100, 1000), 7, rng) == std::vector<double>{100, 200, 400, 800, 1000, 1000, 1000});
  CHECK(sequence(backoff(BackoffConfig::Linear, 100, 450), 6, rng) == std::vector<double>{100, 200, 300, 400, 450, 450});
  CHECK(sequence(backoff(BackoffConfig::Constant, 250, 1000), 4, rng) == std::vector<double>{250, 250, 250, 250});
}

TEST_CASE("backoff handles huge and negative attempts", "[policy]") {
  Random rng(1);
  const auto exp = backoff(BackoffConfig::Exponential, 100, 60000);
  CHECK(backoff_delay(exp, 5000, rng) == 60000);  // 2^5000 overflows; still the cap
  CHECK(backoff_delay(exp, 2147483647, rng) == 60000);
  CHECK(backoff_delay(exp, -3, rng) == 100);  // treated as the first retry
  CHECK(backoff_delay(backoff(BackoffConfig::Linear, 100, 1e300), 2147483647, rng) == Approx(214748364800.0));
}

TEST_CASE("backoff without jitter draws nothing from the generator", "[policy]") {
  Random used(7), fresh(7);
  sequence(backoff(BackoffConfig::Exponential, 100, 1000), 5, used);
  CHECK(used.next() == fresh.next());
}

TEST_CASE("jittered backoff stays within its bounds", "[policy]") {
  Random rng(42);
  for (const auto kind : {BackoffConfig::Exponential, BackoffConfig::Linear, BackoffConfig::Constant}) {
    const auto plain = backoff(kind, 100, 1000);
    const auto jittered = backoff(kind, 100, 1000, 0.25);
    for (int attempt = 0; attempt < 12; ++attempt) {
      const double d = backoff_delay(plain, attempt, rng);
      for (int i = 0; i < 50; ++i) {
        const double j = backoff_delay(jittered, attempt, rng);
        CHECK(j <= d);
        CHECK(j > d * 0.75);
      }
    }
  }
  // Full jitter: anywhere in [0, d), and actually spread over it.
  const auto full = backoff(BackoffConfig::Constant, 1000, 1000, 1);
  double lo = 1000, hi = 0;
  for (int i = 0; i < 500; ++i) {
    const double j = backoff_delay(full, 0, rng);
    REQUIRE(j >= 0);
    REQUIRE(j < 1000);
    lo = std::min(lo, j);
    hi = std::max(hi, j);
  }
  CHECK(lo < 100);
  CHECK(hi > 900);
}

TEST_CASE("jittered backoff is deterministic per seed", "[policy]") {
  const auto c = backoff(BackoffConfig::Exponential, 100, 10000, 0.5);
  Random a(123), b(123), other(124);
  const auto sa = sequence(c, 10, a);
  CHECK(sa == sequence(c, 10, b));
  CHECK(sa != sequence(c, 10, other));
}

TEST_CASE("retry_delay honours Retry-After, even above maxDelay", "[policy]") {
  const auto c = backoff(BackoffConfig::Exponential, 100, 1000);
  Random rng(1);
  CHECK(retry_delay(c, 0, 60000.0, rng) == 60000);  // above max_delay: still honoured
  CHECK(retry_delay(c, 3, 50.0, rng) == 800);       // below the backoff: backoff wins
  CHECK(retry_delay(c, 3, std::nullopt, rng) == 800);
  CHECK(retry_delay(c, 3, -5.0, rng) == 800);  // nonsense header ignored
  CHECK(retry_delay(c, 0, 0.0, rng) == 100);

  // Same draws whether or not Retry-After wins.
  const auto j = backoff(BackoffConfig::Exponential, 100, 1000, 1);
  Random with(9), without(9);
  CHECK(retry_delay(j, 2, 5e5, with) == 5e5);
  retry_delay(j, 2, std::nullopt, without);
  CHECK(with.next() == without.next());
}

TEST_CASE("retry_delay caps Retry-After at kMaxRetryAfterMs (10 minutes)", "[policy]") {
  const auto c = backoff(BackoffConfig::Exponential, 100, 1000);
  Random rng(1);
  CHECK(kMaxRetryAfterMs == 600000);
  CHECK(retry_delay(c, 0, 999999999000.0, rng) == kMaxRetryAfterMs);  // "Retry-After: 999999999"
  CHECK(retry_delay(c, 0, 1e300, rng) == kMaxRetryAfterMs);
  CHECK(retry_delay(c, 0, std::numeric_limits<double>::infinity(), rng) == 100);  // not finite: ignored
  CHECK(retry_delay(c, 0, kMaxRetryAfterMs, rng) == kMaxRetryAfterMs);
}

TEST_CASE("parse_backoff reads fields and applies defaults", "[policy]") {
  const auto d = parse_backoff(json::object());
  CHECK(d.kind == BackoffConfig::Exponential);
  CHECK(d.base_delay_ms == 1000);
  CHECK(d.max_delay_ms == 30000);
  CHECK(d.jitter == 0);

  const auto c = parse_backoff(json{{"backoff", "linear"},
                                    {"baseDelay", 50},
                                    {"maxDelay", 500},
                                    {"jitter", 0.2},
                                    {"maxAttempts", 3}});  // unknown keys belong to the enclosing policy
  CHECK(c.kind == BackoffConfig::Linear);
  CHECK(c.base_delay_ms == 50);
  CHECK(c.max_delay_ms == 500);
  CHECK(c.jitter == 0.2);
  CHECK(parse_backoff(json{{"backoff", "constant"}}).kind == BackoffConfig::Constant);
  CHECK(parse_backoff(json{{"jitter", 1}}).jitter == 1);
  CHECK(parse_backoff(json{{"jitter", 0}}).jitter == 0);
  // When only one bound is given, the other default yields to it rather than failing.
  CHECK(parse_backoff(json{{"baseDelay", 60000}}).max_delay_ms == 60000);
  CHECK(parse_backoff(json{{"maxDelay", 500}}).base_delay_ms == 500);
  CHECK(parse_backoff(json{{"maxDelay", 5000}}).base_delay_ms == 1000);
}

TEST_CASE("parse_backoff names the bad field and the accepted values", "[policy]") {
  const auto err = [](const json& spec) { return error_of([&] { parse_backoff(spec); }); };
  CHECK(err(json{{"backoff", "fibonacci"}}) == "backoff: 'backoff' must be one of 'exponential', 'linear', 'constant', got \"fibonacci\"");
  CHECK(err(json{{"backoff", 3}}) == "backoff: 'backoff' must be one of 'exponential', 'linear', 'constant', got 3");
  CHECK(err(json{{"baseDelay", 0}}) == "backoff: 'baseDelay' must be a number > 0 (milliseconds), got 0");
  CHECK(err(json{{"baseDelay", -5}}) == "backoff: 'baseDelay' must be a number > 0 (milliseconds), got -5");
  CHECK(err(json{{"baseDelay", "100"}}) == "backoff: 'baseDelay' must be a number > 0 (milliseconds), got \"100\"");
  CHECK(err(json{{"maxDelay", -1}}) == "backoff: 'maxDelay' must be a number > 0 (milliseconds), got -1");
  CHECK(err(json{{"baseDelay", 200}, {"maxDelay", 100}}) == "backoff: 'maxDelay' must be >= 'baseDelay' (200), got 100");
  CHECK(err(json{{"jitter", 1.5}}) == "backoff: 'jitter' must be a number in [0, 1] or a boolean, got 1.5");
  CHECK(err(json{{"jitter", -0.1}}) == "backoff: 'jitter' must be a number in [0, 1] or a boolean, got -0.1");
  CHECK(err(json{{"jitter", "yes"}}) == "backoff: 'jitter' must be a number in [0, 1] or a boolean, got \"yes\"");
  // The proposal's `jitter: true` randomizes half of each delay; false turns it off.
  CHECK(parse_backoff(json{{"jitter", true}}).jitter == 0.5);
  CHECK(parse_backoff(json{{"jitter", false}}).jitter == 0);
  CHECK(err(json(5)) == "backoff: expected an object {backoff, baseDelay, maxDelay, jitter}, got 5");
}

// -------------------------------------------------------------------------------- circuit breaker

namespace {

struct Recorder {
  std::vector<std::tuple<State, State, double>> calls;
  CircuitBreaker::Listener listener() {
    return [this](State from, State to, double now) { calls.emplace_back(from, to, now); };
  }
};

CircuitBreakerConfig breaker_config(int threshold, double reset, int half_open) {
  CircuitBreakerConfig c;
  c.failure_threshold = threshold;
  c.reset_timeout_ms = reset;
  c.half_open_requests = half_open;
  return c;
}

}  // namespace

TEST_CASE("breaker opens after failureThreshold consecutive failures", "[policy]") {
  Recorder rec;
  CircuitBreaker b(breaker_config(3, 1000, 1), rec.listener());
  CHECK(b.state(0) == State::Closed);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(b.admit(i));
    b.record_failure(i);
  }
  CHECK(b.state(2) == State::Closed);
  CHECK(rec.calls.empty());
  REQUIRE(b.admit(5));
  b.record_failure(5);
  CHECK(b.state(5) == State::Open);
  REQUIRE(rec.calls.size() == 1);
  CHECK(rec.calls[0] == std::make_tuple(State::Closed, State::Open, 5.0));
}

TEST_CASE("a success in closed resets the consecutive-failure count", "[policy]") {
  CircuitBreaker b(breaker_config(3, 1000, 1));
  b.record_failure(0);
  b.record_failure(1);
  b.record_success(2);
  b.record_failure(3);
  b.record_failure(4);
  CHECK(b.state(4) == State::Closed);  // only 2 consecutive since the success
  b.record_failure(5);
  CHECK(b.state(5) == State::Open);
}

TEST_CASE("threshold 1 opens on the first failure", "[policy]") {
  CircuitBreaker b(breaker_config(1, 100, 1));
  b.record_failure(0);
  CHECK(b.state(0) == State::Open);
}

TEST_CASE("open rejects with the remaining timeout, then turns half-open", "[policy]") {
  Recorder rec;
  CircuitBreaker b(breaker_config(1, 1000, 1), rec.listener());
  b.record_failure(100);
  auto a = b.admit(100);
  CHECK_FALSE(a.allowed);
  CHECK(a.retry_in_ms == 1000);
  a = b.admit(850);
  CHECK_FALSE(a);
  CHECK(a.retry_in_ms == 250);
  CHECK(b.state(1099.5) == State::Open);
  CHECK(b.state(1100) == State::HalfOpen);  // exactly resetTimeout later
  REQUIRE(rec.calls.size() == 2);
  CHECK(rec.calls[1] == std::make_tuple(State::Open, State::HalfOpen, 1100.0));
  CHECK(b.state(1200) == State::HalfOpen);
  CHECK(rec.calls.size() == 2);  // no repeated notification
}

TEST_CASE("the open -> half-open change is noticed by admit too, at its time", "[policy]") {
  Recorder rec;
  CircuitBreaker b(breaker_config(1, 1000, 1), rec.listener());
  b.record_failure(0);
  CHECK(b.admit(5000));  // first trial, admitted straight away
  REQUIRE(rec.calls.size() == 2);
  CHECK(rec.calls[1] == std::make_tuple(State::Open, State::HalfOpen, 5000.0));
}

TEST_CASE("half-open admits at most halfOpenRequests trials", "[policy]") {
  CircuitBreaker b(breaker_config(1, 1000, 2));
  b.record_failure(0);
  CHECK(b.admit(1000));
  CHECK(b.admit(1000));
  const auto third = b.admit(1001);
  CHECK_FALSE(third.allowed);
  CHECK(third.retry_in_ms == 1000);  // unknown; the full reset timeout as a hint
  // Budget, not just concurrency: a finished trial does not open a slot for a third trial.
  b.record_success(1010);
  CHECK(b.state(1010) == State::HalfOpen);
  CHECK_FALSE(b.admit(1011));
}

TEST_CASE("all trials succeeding closes the breaker with fresh counts", "[policy]") {
  Recorder rec;
  CircuitBreaker b(breaker_config(2, 1000, 2), rec.listener());
  b.record_failure(0);
  b.record_failure(1);
  REQUIRE(b.admit(1001));
  REQUIRE(b.admit(1002));
  b.record_success(1003);
  CHECK(b.state(1003) == State::HalfOpen);
  b.record_success(1004);
  CHECK(b.state(1004) == State::Closed);
  CHECK(b.admit(1005));
  // Counts reset: one failure is not enough to re-open with threshold 2.
  b.record_failure(1006);
  CHECK(b.state(1006) == State::Closed);
  b.record_failure(1007);
  CHECK(b.state(1007) == State::Open);

  const std::vector<std::tuple<State, State, double>> expected{
      {State::Closed, State::Open, 1.0},
      {State::Open, State::HalfOpen, 1001.0},
      {State::HalfOpen, State::Closed, 1004.0},
      {State::Closed, State::Open, 1007.0},
  };
  CHECK(rec.calls == expected);
}

TEST_CASE("a failing trial re-opens the breaker and restarts the timer", "[policy]") {
  Recorder rec;
  CircuitBreaker b(breaker_config(1, 1000, 3), rec.listener());
  b.record_failure(0);
  REQUIRE(b.admit(1000));
  REQUIRE(b.admit(1000));
  b.record_success(1100);  // one trial good ...
  b.record_failure(1200);  // ... but any failure re-opens
  CHECK(b.state(1200) == State::Open);
  const auto a = b.admit(1500);
  CHECK_FALSE(a);
  CHECK(a.retry_in_ms == 700);  // timer counts from 1200, not from 0
  CHECK(b.state(2199) == State::Open);
  CHECK(b.state(2200) == State::HalfOpen);
  // The new half-open round starts with a full trial budget.
  CHECK(b.admit(2200));
  CHECK(b.admit(2200));
  CHECK(b.admit(2200));
  CHECK_FALSE(b.admit(2200));

  const std::vector<std::tuple<State, State, double>> expected{
      {State::Closed, State::Open, 0.0},
      {State::Open, State::HalfOpen, 1000.0},
      {State::HalfOpen, State::Open, 1200.0},
      {State::Open, State::HalfOpen, 2200.0},
  };
  CHECK(rec.calls == expected);
}

TEST_CASE("outcomes of calls admitted before the circuit opened are ignored", "[policy]") {
  Recorder rec;
  CircuitBreaker b(breaker_config(2, 1000, 1), rec.listener());
  // Three calls in flight; two fail and open the circuit.
  for (int i = 0; i < 3; ++i) REQUIRE(b.admit(0));
  b.record_failure(10);
  b.record_failure(20);
  REQUIRE(b.state(20) == State::Open);
  SECTION("a late failure does not extend the timeout") {
    b.record_failure(500);
    CHECK(b.admit(600).retry_in_ms == 420);
    CHECK(b.state(1020) == State::HalfOpen);
  }
  SECTION("a late success does not close an open circuit") {
    b.record_success(500);
    CHECK(b.state(500) == State::Open);
  }
  SECTION("a late outcome in half-open with no trial outstanding is ignored") {
    REQUIRE(b.state(1020) == State::HalfOpen);
    b.record_failure(1030);
    CHECK(b.state(1030) == State::HalfOpen);
    b.record_success(1040);
    CHECK(b.state(1040) == State::HalfOpen);
    CHECK(rec.calls.size() == 2);
  }
}

TEST_CASE("a cancelled trial gives its slot back", "[policy]") {
  CircuitBreaker b(breaker_config(1, 1000, 1));
  b.record_failure(0);
  REQUIRE(b.admit(1000));
  CHECK_FALSE(b.admit(1001));
  b.record_cancelled(1002);
  CHECK(b.state(1002) == State::HalfOpen);
  REQUIRE(b.admit(1003));
  b.record_success(1004);
  CHECK(b.state(1004) == State::Closed);
  b.record_cancelled(1005);  // harmless in closed
  CHECK(b.state(1005) == State::Closed);
}

TEST_CASE("breaker states have stable names for events", "[policy]") {
  CHECK(std::string(to_string(State::Closed)) == "closed");
  CHECK(std::string(to_string(State::Open)) == "open");
  CHECK(std::string(to_string(State::HalfOpen)) == "half-open");
}

TEST_CASE("parse_circuit_breaker reads fields and applies defaults", "[policy]") {
  const auto d = parse_circuit_breaker(json::object());
  CHECK(d.failure_threshold == 5);
  CHECK(d.reset_timeout_ms == 30000);
  CHECK(d.half_open_requests == 1);
  const auto c = parse_circuit_breaker(json{{"failureThreshold", 3}, {"resetTimeout", 2500.5}, {"halfOpenRequests", 2.0}});
  CHECK(c.failure_threshold == 3);
  CHECK(c.reset_timeout_ms == 2500.5);
  CHECK(c.half_open_requests == 2);  // 2.0 is an integer to JavaScript
}

TEST_CASE("parse_circuit_breaker names the bad field and the accepted values", "[policy]") {
  const auto err = [](const json& spec) { return error_of([&] { parse_circuit_breaker(spec); }); };
  CHECK(err(json{{"failureThreshold", 0}}) == "circuitBreaker: 'failureThreshold' must be an integer >= 1, got 0");
  CHECK(err(json{{"failureThreshold", 2.5}}) == "circuitBreaker: 'failureThreshold' must be an integer >= 1, got 2.5");
  CHECK(err(json{{"failureThreshold", "3"}}) == "circuitBreaker: 'failureThreshold' must be an integer >= 1, got \"3\"");
  CHECK(err(json{{"failureThreshold", 1e12}}) == "circuitBreaker: 'failureThreshold' must be an integer >= 1, got 1000000000000.0");
  CHECK(err(json{{"resetTimeout", 0}}) == "circuitBreaker: 'resetTimeout' must be a number > 0 (milliseconds), got 0");
  CHECK(err(json{{"resetTimeout", -1}}) == "circuitBreaker: 'resetTimeout' must be a number > 0 (milliseconds), got -1");
  CHECK(err(json{{"halfOpenRequests", -2}}) == "circuitBreaker: 'halfOpenRequests' must be an integer >= 1, got -2");
  CHECK(err(json::array()) == "circuitBreaker: expected an object {failureThreshold, resetTimeout, halfOpenRequests}, got []");
}

// ----------------------------------------------------------------------------------- rate limiter

namespace {

RateLimitConfig limit(int requests, double period) {
  RateLimitConfig c;
  c.requests = requests;
  c.period_ms = period;
  return c;
}

// No half-open window [t, t + period) holds more than `requests` of the (sorted) starts.
bool within_limit(const std::vector<double>& starts, const RateLimitConfig& c) {
  for (std::size_t i = 0; i + c.requests < starts.size(); ++i)
    if (starts[i + c.requests] - starts[i] < c.period_ms) return false;
  return true;
}

}  // namespace

TEST_CASE("50 simultaneous callers are spaced 10 per 1000 ms, in order", "[policy]") {
  const auto c = limit(10, 1000);
  RateLimiter limiter(c);
  std::vector<double> starts;
  for (int i = 0; i < 50; ++i) {
    const double wait = limiter.acquire(0);
    CHECK(wait == (i / 10) * 1000.0);  // FIFO: the i-th caller gets the i-th slot
    starts.push_back(0 + wait);
  }
  CHECK(std::is_sorted(starts.begin(), starts.end()));
  CHECK(within_limit(starts, c));
  // Checked directly too: count starts in every window beginning at a start.
  for (double t : starts) {
    const auto n = std::count_if(starts.begin(), starts.end(), [&](double s) { return s >= t && s < t + 1000; });
    CHECK(n <= 10);
  }
}

TEST_CASE("the limiter is reusable after idle periods", "[policy]") {
  RateLimiter limiter(limit(10, 1000));
  for (int i = 0; i < 50; ++i) limiter.acquire(0);  // last slot reserved at 4000
  SECTION("long idle: full burst again, then waiting resumes") {
    for (int i = 0; i < 10; ++i) CHECK(limiter.acquire(10000) == 0);
    CHECK(limiter.acquire(10000) == 1000);
    CHECK(limiter.acquire(10400) == 600);  // slot 11000 too (2 of the next 10)
  }
  SECTION("callers arriving while reserved slots are pending queue behind them") {
    CHECK(limiter.acquire(4500) == 500);  // the window from 4000 already holds 10 starts
    CHECK(limiter.acquire(5200) == 0);    // 1 start in [4200, 5200): room again
  }
}

TEST_CASE("the limiter uses the sliding window, not fixed buckets", "[policy]") {
  RateLimiter limiter(limit(2, 1000));
  CHECK(limiter.acquire(0) == 0);
  CHECK(limiter.acquire(300) == 0);
  CHECK(limiter.acquire(600) == 400);   // slot at 1000: window [0, 1000) already has 2
  CHECK(limiter.acquire(1100) == 200);  // slot at 1300: a period after the start at 300
  CHECK(limiter.acquire(5000) == 0);
}

TEST_CASE("random arrivals never exceed the limit and keep FIFO order", "[policy]") {
  Random rng(2024);
  for (int round = 0; round < 20; ++round) {
    const auto c = limit(1 + static_cast<int>(rng.below(8)), 100 + static_cast<double>(rng.below(900)));
    RateLimiter limiter(c);
    std::vector<double> starts;
    double now = 0;
    for (int i = 0; i < 300; ++i) {
      // Whole-ms arrivals keep now + wait exact, so the checks below need no tolerance.
      now += rng.uniform() < 0.5 ? 0 : std::floor(rng.uniform() * c.period_ms / c.requests * 2);
      const double wait = limiter.acquire(now);
      REQUIRE(wait >= 0);
      starts.push_back(now + wait);
    }
    CHECK(std::is_sorted(starts.begin(), starts.end()));
    CHECK(within_limit(starts, c));
  }
}

TEST_CASE("a reservation given back goes to the next caller; a start whose time came stays", "[policy]") {
  RateLimiter limiter(limit(1, 1000));
  CHECK(limiter.acquire(0) == 0);
  double reserved = 0;
  CHECK(limiter.acquire(0, &reserved) == 1000);
  limiter.release(reserved, 100);      // its caller was cancelled at 100, while it waited
  CHECK(limiter.acquire(200) == 800);  // the slot at 1000, not 2000
  limiter.release(1000, 1000);         // too late: that start was made
  CHECK(limiter.acquire(1000) == 1000);
}

TEST_CASE("random arrivals and cancellations never exceed the limit", "[policy]") {
  Random rng(77);
  for (int round = 0; round < 20; ++round) {
    const auto c = limit(1 + static_cast<int>(rng.below(5)), 100 + static_cast<double>(rng.below(900)));
    RateLimiter limiter(c);
    std::vector<double> kept;     // starts that happen
    std::vector<double> waiting;  // reserved, still ahead
    double now = 0;
    for (int i = 0; i < 300; ++i) {
      now += std::floor(rng.uniform() * c.period_ms / c.requests);
      // Starts whose time came happen; a waiting caller is cancelled now and then.
      for (auto it = waiting.begin(); it != waiting.end();) {
        if (*it <= now) {
          kept.push_back(*it);
          it = waiting.erase(it);
        } else if (rng.uniform() < 0.2) {
          limiter.release(*it, now);
          it = waiting.erase(it);
        } else {
          ++it;
        }
      }
      double start = 0;
      limiter.acquire(now, &start);
      REQUIRE(start >= now);
      waiting.push_back(start);
    }
    kept.insert(kept.end(), waiting.begin(), waiting.end());
    std::sort(kept.begin(), kept.end());
    CHECK(within_limit(kept, c));
  }
}

TEST_CASE("parse_rate_limit requires both fields and names the bad one", "[policy]") {
  const auto c = parse_rate_limit(json{{"requests", 10}, {"period", 1000}});
  CHECK(c.requests == 10);
  CHECK(c.period_ms == 1000);
  const auto err = [](const json& spec) { return error_of([&] { parse_rate_limit(spec); }); };
  CHECK(err(json{{"period", 1000}}) == "rateLimit: 'requests' is required: an integer >= 1");
  CHECK(err(json{{"requests", 10}}) == "rateLimit: 'period' is required: a number > 0 (milliseconds)");
  CHECK(err(json{{"requests", 0}, {"period", 1000}}) == "rateLimit: 'requests' must be an integer >= 1, got 0");
  CHECK(err(json{{"requests", 1.5}, {"period", 1000}}) == "rateLimit: 'requests' must be an integer >= 1, got 1.5");
  CHECK(err(json{{"requests", 10}, {"period", 0}}) == "rateLimit: 'period' must be a number > 0 (milliseconds), got 0");
  CHECK(err(json{{"requests", 10}, {"period", "1s"}}) == "rateLimit: 'period' must be a number > 0 (milliseconds), got \"1s\"");
  CHECK(err(json("10/s")) == "rateLimit: expected an object {requests, period}, got \"10/s\"");
}
