// Distance kernels of the vector index: dot product and squared L2 over float vectors, with an
// explicit wasm SIMD path when the engine is built with -msimd128 and a lane-split scalar loop
// that compilers vectorize elsewhere.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lmthing::state {

// How similarity is measured. Cosine normalizes vectors on the way in, so it is a dot product inside.
enum class Metric : unsigned char { cosine = 0, dot = 1, l2 = 2 };

const char* to_string(Metric metric) noexcept;
// "cosine", "dot" or "l2"; false for anything else.
bool parse_metric(std::string_view name, Metric& out) noexcept;

float dot_product(const float* a, const float* b, std::size_t n) noexcept;
float squared_l2(const float* a, const float* b, std::size_t n) noexcept;

// The graph's ordering key (smaller = closer): 1 - a·b for cosine (unit vectors), -a·b for dot,
// |a-b|² for l2.
inline float metric_distance(Metric metric, const float* a, const float* b, std::size_t n) noexcept {
  switch (metric) {
    case Metric::cosine: return 1.0f - dot_product(a, b, n);
    case Metric::dot: return -dot_product(a, b, n);
    case Metric::l2: return squared_l2(a, b, n);
  }
  return 0;
}

// What users see as the score (larger = more similar): cosine similarity, the dot product, or
// 1 / (1 + Euclidean distance) for l2 — so one `threshold` reads the same way for every metric.
double similarity_of(Metric metric, float distance) noexcept;

// Why no score of `metric` can reach `threshold` (cosine and l2 scores are at most 1), or empty:
// such a threshold would make every search come back empty.
std::string unreachable_threshold(Metric metric, double threshold);

}  // namespace lmthing::state
