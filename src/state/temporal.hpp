// Recency-weighted retrieval for `temporal` memories: a similarity from the vector index is
// multiplied by how recent the memory is, and a time range can restrict what is searched at all.
// Pure functions of their arguments (the caller passes `now` from the engine clock).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::state {

// [from_ms, to_ms] on the memories' creation time (milliseconds since the epoch); open ends allowed.
struct TimeRange {
  std::optional<double> from_ms;
  std::optional<double> to_ms;
  bool contains(double t) const { return (!from_ms || t >= *from_ms) && (!to_ms || t <= *to_ms); }
  bool unbounded() const { return !from_ms && !to_ms; }
};

struct TemporalConfig {
  enum class Decay { exponential, linear, none };
  Decay decay = Decay::exponential;
  double half_life_ms = 24.0 * 3600 * 1000;   // exponential: the weight halves every half-life
  double window_ms = 7.0 * 24 * 3600 * 1000;  // linear: the weight falls to 0 over the window
  double recency_weight = 1.0;                // 0 = similarity only, 1 = similarity × decay

  // From {decay: "exponential"|"linear"|"none", halfLifeMs, windowMs, recencyWeight}; throws
  // StateError(INVALID_CONFIG) naming `where` and the field.
  static TemporalConfig parse(const lmthing::Json& config, const std::string& where);
};

// The recency factor in [0, 1] of something `age_ms` old (a future time counts as age 0).
double recency_factor(const TemporalConfig& config, double age_ms);

// similarity × ((1 - w) + w × recency_factor(now - created_at)).
double temporal_score(const TemporalConfig& config, double similarity, double created_at_ms, double now_ms);

// Indices of the candidates ordered by temporal_score, best first (ties: newer first, then by index).
std::vector<std::size_t> rank_by_temporal_score(const TemporalConfig& config, const std::vector<double>& similarities,
                                                const std::vector<double>& created_at_ms, double now_ms);

}  // namespace lmthing::state
