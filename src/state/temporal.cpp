#include "state/temporal.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "state/state_error.hpp"

namespace lmthing::state {

namespace {

double positive_number(const lmthing::Json& config, const char* field, double fallback, const std::string& where) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number() || !(it->get<double>() > 0) || !std::isfinite(it->get<double>()))
    throw StateError(error_code::kInvalidConfig, where + ": \"" + field + "\" must be a positive number of milliseconds, got " + it->dump());
  return it->get<double>();
}

}  // namespace

TemporalConfig TemporalConfig::parse(const lmthing::Json& config, const std::string& where) {
  TemporalConfig c;
  if (config.is_null()) return c;
  if (!config.is_object()) throw StateError(error_code::kInvalidConfig, where + ": the temporal config must be an object, got " + config.dump());
  if (auto it = config.find("decay"); it != config.end() && !it->is_null()) {
    const std::string d = it->is_string() ? it->get<std::string>() : "";
    if (d == "exponential")
      c.decay = Decay::exponential;
    else if (d == "linear")
      c.decay = Decay::linear;
    else if (d == "none")
      c.decay = Decay::none;
    else
      throw StateError(error_code::kInvalidConfig, where + ": \"decay\" must be \"exponential\", \"linear\" or \"none\", got " + it->dump());
  }
  c.half_life_ms = positive_number(config, "halfLifeMs", c.half_life_ms, where);
  c.window_ms = positive_number(config, "windowMs", c.window_ms, where);
  if (auto it = config.find("recencyWeight"); it != config.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1)
      throw StateError(error_code::kInvalidConfig, where + ": \"recencyWeight\" must be a number from 0 to 1, got " + it->dump());
    c.recency_weight = it->get<double>();
  }
  return c;
}

double recency_factor(const TemporalConfig& config, double age_ms) {
  const double age = std::max(0.0, age_ms);
  switch (config.decay) {
    case TemporalConfig::Decay::exponential: return std::exp2(-age / config.half_life_ms);
    case TemporalConfig::Decay::linear: return std::max(0.0, 1.0 - age / config.window_ms);
    case TemporalConfig::Decay::none: return 1.0;
  }
  return 1.0;
}

double temporal_score(const TemporalConfig& config, double similarity, double created_at_ms, double now_ms) {
  const double w = config.recency_weight;
  return similarity * ((1.0 - w) + w * recency_factor(config, now_ms - created_at_ms));
}

std::vector<std::size_t> rank_by_temporal_score(const TemporalConfig& config, const std::vector<double>& similarities,
                                                const std::vector<double>& created_at_ms, double now_ms) {
  std::vector<double> scores(similarities.size());
  for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = temporal_score(config, similarities[i], created_at_ms.at(i), now_ms);
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (scores[a] != scores[b]) return scores[a] > scores[b];
    return created_at_ms[a] > created_at_ms[b];
  });
  return order;
}

}  // namespace lmthing::state
