// Temporal scoring: time decay × similarity and time ranges (src/state/temporal.*).
#include <catch2/catch.hpp>

#include "state/state_error.hpp"
#include "state/temporal.hpp"

using namespace lmthing::state;
using json = lmthing::Json;

TEST_CASE("exponential decay halves the score every half-life", "[state][temporal]") {
  TemporalConfig c;
  c.half_life_ms = 1000;
  CHECK(recency_factor(c, 0) == 1);
  CHECK(recency_factor(c, 1000) == Approx(0.5));
  CHECK(recency_factor(c, 3000) == Approx(0.125));
  CHECK(recency_factor(c, -500) == 1);  // a time in the future counts as now
  CHECK(temporal_score(c, 0.8, 9000, 10000) == Approx(0.4));
}

TEST_CASE("linear decay, no decay and a partial recency weight", "[state][temporal]") {
  TemporalConfig c;
  c.decay = TemporalConfig::Decay::linear;
  c.window_ms = 100;
  CHECK(recency_factor(c, 25) == Approx(0.75));
  CHECK(recency_factor(c, 500) == 0);
  c.decay = TemporalConfig::Decay::none;
  CHECK(recency_factor(c, 1e12) == 1);
  TemporalConfig half;
  half.half_life_ms = 10;
  half.recency_weight = 0.5;
  // similarity × (0.5 + 0.5 × 0.5)
  CHECK(temporal_score(half, 1.0, 0, 10) == Approx(0.75));
}

TEST_CASE("ranking prefers recent memories of similar relevance", "[state][temporal]") {
  TemporalConfig c;
  c.half_life_ms = 1000;
  // old but very similar, new and fairly similar, new and dissimilar
  const std::vector<double> sims{0.95, 0.8, 0.2}, times{0, 9900, 10000};
  CHECK(rank_by_temporal_score(c, sims, times, 10000) == std::vector<std::size_t>{1, 2, 0});
  c.recency_weight = 0;
  CHECK(rank_by_temporal_score(c, sims, times, 10000) == std::vector<std::size_t>{0, 1, 2});
  // Equal scores: newer first.
  c.decay = TemporalConfig::Decay::none;
  CHECK(rank_by_temporal_score(c, {0.5, 0.5}, {1, 2}, 10) == std::vector<std::size_t>{1, 0});
}

TEST_CASE("time ranges are inclusive with open ends", "[state][temporal]") {
  CHECK(TimeRange{}.unbounded());
  CHECK(TimeRange{}.contains(-1e18));
  TimeRange r{10.0, 20.0};
  CHECK(r.contains(10));
  CHECK(r.contains(20));
  CHECK_FALSE(r.contains(20.5));
  CHECK(TimeRange{10.0, std::nullopt}.contains(1e15));
  CHECK_FALSE(TimeRange{std::nullopt, 5.0}.contains(6));
}

TEST_CASE("temporal config parsing", "[state][temporal]") {
  const auto c = TemporalConfig::parse({{"decay", "linear"}, {"windowMs", 60000}, {"recencyWeight", 0.3}}, "memory \"t\"");
  CHECK(c.decay == TemporalConfig::Decay::linear);
  CHECK(c.window_ms == 60000);
  CHECK(c.recency_weight == 0.3);
  const auto fails = [](const json& j) {
    try {
      TemporalConfig::parse(j, "memory \"t\"");
    } catch (const StateError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(fails({{"decay", "cubic"}}) == "memory \"t\": \"decay\" must be \"exponential\", \"linear\" or \"none\", got \"cubic\"");
  CHECK(fails({{"halfLifeMs", 0}}) == "memory \"t\": \"halfLifeMs\" must be a positive number of milliseconds, got 0");
  CHECK(fails({{"recencyWeight", 2}}) == "memory \"t\": \"recencyWeight\" must be a number from 0 to 1, got 2");
}
