#include "state/vector_distance.hpp"

#include <cmath>

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace lmthing::state {

const char* to_string(Metric metric) noexcept {
  switch (metric) {
    case Metric::cosine: return "cosine";
    case Metric::dot: return "dot";
    case Metric::l2: return "l2";
  }
  return "?";
}

bool parse_metric(std::string_view name, Metric& out) noexcept {
  if (name == "cosine")
    out = Metric::cosine;
  else if (name == "dot")
    out = Metric::dot;
  else if (name == "l2")
    out = Metric::l2;
  else
    return false;
  return true;
}

#if defined(__wasm_simd128__)

float dot_product(const float* a, const float* b, std::size_t n) noexcept {
  v128_t acc0 = wasm_f32x4_splat(0), acc1 = wasm_f32x4_splat(0);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  v128_t acc = wasm_f32x4_add(acc0, acc1);
  float sum = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float squared_l2(const float* a, const float* b, std::size_t n) noexcept {
  v128_t acc0 = wasm_f32x4_splat(0), acc1 = wasm_f32x4_splat(0);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    v128_t d0 = wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    v128_t d1 = wasm_f32x4_sub(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(d0, d0));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(d1, d1));
  }
  v128_t acc = wasm_f32x4_add(acc0, acc1);
  float sum = wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1) + wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3);
  for (; i < n; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

#else

// Eight independent lanes: no reassociation is needed to vectorize them, so the compiler's SLP
// vectorizer turns the body into SIMD without -ffast-math.
float dot_product(const float* a, const float* b, std::size_t n) noexcept {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  float sum = ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float squared_l2(const float* a, const float* b, std::size_t n) noexcept {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) {
      const float d = a[i + k] - b[i + k];
      lane[k] += d * d;
    }
  float sum = ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  for (; i < n; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

#endif

double similarity_of(Metric metric, float distance) noexcept {
  switch (metric) {
    case Metric::cosine: return 1.0 - static_cast<double>(distance);
    case Metric::dot: return -static_cast<double>(distance);
    case Metric::l2: return 1.0 / (1.0 + std::sqrt(static_cast<double>(distance < 0 ? 0 : distance)));
  }
  return 0;
}

std::string unreachable_threshold(Metric metric, double threshold) {
  if (metric == Metric::dot || threshold <= 1) return "";
  return std::string("no score can reach it: ") + to_string(metric) + " scores are at most 1";
}

}  // namespace lmthing::state
