#include "policy/config_fields.hpp"

#include <climits>
#include <cmath>

namespace lmthing::policy {

ConfigReader::ConfigReader(const nlohmann::json& spec, std::string what) : spec_(spec), what_(std::move(what)) {
  if (!spec_.is_object()) fail("expected a config object, got " + spec_.dump());
}

void ConfigReader::fail(const std::string& message) const { throw std::invalid_argument(what_ + ": " + message); }

void ConfigReader::bad(const char* key, const std::string& expected) const {
  fail(std::string("'") + key + "' must be " + expected + ", got " + spec_.at(key).dump());
}

std::optional<double> ConfigReader::positive(const char* key, bool allow_zero) const {
  auto it = spec_.find(key);
  if (it == spec_.end()) return std::nullopt;
  const char* expected = allow_zero ? "a number >= 0" : "a number > 0";
  if (!it->is_number() || !std::isfinite(it->get<double>())) bad(key, expected);
  const double v = it->get<double>();
  if (v < 0 || (v == 0 && !allow_zero)) bad(key, expected);
  return v;
}

std::optional<int> ConfigReader::integer(const char* key, int min, int max) const {
  auto it = spec_.find(key);
  if (it == spec_.end()) return std::nullopt;
  const std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!it->is_number()) bad(key, expected);
  const double v = it->get<double>();
  if (!(v >= min && v <= max) || std::floor(v) != v) bad(key, expected);
  return static_cast<int>(v);
}

std::optional<std::string> ConfigReader::choice(const char* key, const std::vector<std::string>& choices) const {
  auto it = spec_.find(key);
  if (it == spec_.end()) return std::nullopt;
  if (it->is_string())
    for (const auto& c : choices)
      if (c == it->get_ref<const std::string&>()) return c;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "'" : ", '") + c + "'";
  bad(key, "one of " + list);
}

std::vector<std::string> ConfigReader::strings(const char* key) const {
  std::vector<std::string> out;
  auto it = spec_.find(key);
  if (it == spec_.end()) return out;
  if (!it->is_array()) bad(key, "an array of strings");
  for (const auto& item : *it) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) bad(key, "an array of non-empty strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<bool> ConfigReader::boolean(const char* key) const {
  auto it = spec_.find(key);
  if (it == spec_.end()) return std::nullopt;
  if (!it->is_boolean()) bad(key, "true or false");
  return it->get<bool>();
}

}  // namespace lmthing::policy
