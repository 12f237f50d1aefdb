#include "protocol/fields.hpp"

#include <algorithm>
#include <cmath>

namespace lmthing::protocol {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// 1000000000000 rather than 1000000000000.0 in messages.
std::string number_text(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return json(v).dump();
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && std::tolower(static_cast<unsigned char>(a[n])) == std::tolower(static_cast<unsigned char>(b[n]))) ++n;
  return n;
}

}  // namespace

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  std::size_t best_distance = 0;
  for (const auto& candidate : known) {
    const std::size_t d = edit_distance(word, candidate);
    // Ties go to the candidate that starts like the word ("retries" → "retry", not "maxRetries").
    if (!best || d < best_distance || (d == best_distance && common_prefix(word, candidate) > common_prefix(word, *best)))
      best = candidate, best_distance = d;
  }
  // Close enough to be a typo: up to half the longer word (at least 2 edits), or one contains the other.
  if (!best) return best;
  const std::size_t longest = std::max(word.size(), best->size());
  const bool contains = !word.empty() && (best->find(word) != std::string::npos || std::string(word).find(*best) != std::string::npos);
  if (best_distance <= std::max<std::size_t>(2, (longest + 1) / 2) || contains) return best;
  return std::nullopt;
}

std::string in_quotes(std::string_view name) { return "\"" + std::string(name) + "\""; }

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

std::string unknown_tool(std::string_view name, const std::vector<std::string>& defined) {
  std::string out = in_quotes(name) + " (";
  if (auto guess = nearest(name, defined)) out += "did you mean " + in_quotes(*guess) + "? ";
  return out + "defined tools: " + joined(defined) + ")";
}

FieldReader::FieldReader(const json& object, std::string where) : object_(object), where_(std::move(where)) {
  if (!object_.is_object()) fail("expected an object, got " + object_.dump().substr(0, 200));
}

void FieldReader::fail(const std::string& message) const { throw ProtocolError(where_ + ": " + message); }

void FieldReader::bad(std::string_view key, const std::string& expected) const {
  fail(in_quotes(key) + " must be " + expected + ", got " + object_.at(std::string(key)).dump().substr(0, 200));
}

bool FieldReader::has(std::string_view key) const {
  auto it = object_.find(key);
  return it != object_.end() && !it->is_null();
}

void FieldReader::only(const std::vector<std::string>& known, std::string_view noun) const {
  for (const auto& [key, value] : object_.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown " + std::string(noun) + " " + in_quotes(key) + " (";
    if (auto guess = nearest(key, known)) message += "did you mean " + in_quotes(*guess) + "? ";
    fail(message + "known: " + joined(known) + ")");
  }
}

std::string FieldReader::string(std::string_view key) const {
  if (!has(key)) fail("missing " + in_quotes(key) + " (expected a non-empty string)");
  auto value = optional_string(key);
  return *value;
}

const json& FieldReader::object_field(std::string_view key) const {
  if (!has(key)) fail("missing " + in_quotes(key) + " (expected an object)");
  return *optional_object(key);
}

const json& FieldReader::array_field(std::string_view key) const {
  if (!has(key)) fail("missing " + in_quotes(key) + " (expected an array)");
  return *optional_array(key);
}

std::optional<std::string> FieldReader::optional_string(std::string_view key, bool allow_empty) const {
  if (!has(key)) return std::nullopt;
  const json& v = at(key);
  if (!v.is_string() || (!allow_empty && v.get_ref<const std::string&>().empty())) bad(key, allow_empty ? "a string" : "a non-empty string");
  return v.get<std::string>();
}

std::optional<bool> FieldReader::optional_bool(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  if (!at(key).is_boolean()) bad(key, "true or false");
  return at(key).get<bool>();
}

std::optional<double> FieldReader::positive(std::string_view key, bool allow_zero, double max) const {
  if (!has(key)) return std::nullopt;
  const json& v = at(key);
  const std::string expected = std::string(allow_zero ? "a number >= 0" : "a number > 0") + (max < 1e300 ? " and <= " + number_text(max) : "");
  if (!v.is_number() || !std::isfinite(v.get<double>())) bad(key, expected);
  const double d = v.get<double>();
  if (d < 0 || (d == 0 && !allow_zero) || d > max) bad(key, expected);
  return d;
}

std::optional<double> FieldReader::ms(std::string_view key, bool allow_zero) const { return positive(key, allow_zero, 1e12); }

std::optional<int> FieldReader::integer(std::string_view key, int min, int max) const {
  if (!has(key)) return std::nullopt;
  const json& v = at(key);
  const std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v.is_number()) bad(key, expected);
  const double d = v.get<double>();
  if (!(d >= min && d <= max) || std::floor(d) != d) bad(key, expected);
  return static_cast<int>(d);
}

std::optional<std::string> FieldReader::choice(std::string_view key, const std::vector<std::string>& choices) const {
  if (!has(key)) return std::nullopt;
  const json& v = at(key);
  if (v.is_string())
    for (const auto& c : choices)
      if (c == v.get_ref<const std::string&>()) return c;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "'" : ", '") + c + "'";
  bad(key, "one of " + list);
}

std::vector<std::string> FieldReader::strings(std::string_view key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const json& v = at(key);
  if (!v.is_array()) bad(key, "an array of strings");
  for (const auto& item : v) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) bad(key, "an array of non-empty strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

const json* FieldReader::optional_object(std::string_view key) const {
  if (!has(key)) return nullptr;
  if (!at(key).is_object()) bad(key, "an object");
  return &at(key);
}

const json* FieldReader::optional_array(std::string_view key) const {
  if (!has(key)) return nullptr;
  if (!at(key).is_array()) bad(key, "an array");
  return &at(key);
}

}  // namespace lmthing::protocol
