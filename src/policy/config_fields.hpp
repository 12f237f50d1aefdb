// Reading policy configs (defRetry, defFallback, defConstraint ...) as they arrive from the host:
// every error names the policy, the field, what was expected and what was given.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmthing::policy {

class ConfigReader {
 public:
  // `what` prefixes every message, e.g. `retry "api"`.
  ConfigReader(const nlohmann::json& spec, std::string what);

  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void bad(const char* key, const std::string& expected) const;

  bool has(const char* key) const { return spec_.contains(key); }
  const nlohmann::json& spec() const { return spec_; }

  // A finite number > 0 (or >= 0 when `allow_zero`), absent → nullopt.
  std::optional<double> positive(const char* key, bool allow_zero = false) const;
  // An integer in [min, max], absent → nullopt.
  std::optional<int> integer(const char* key, int min, int max) const;
  // One of `choices`, absent → nullopt.
  std::optional<std::string> choice(const char* key, const std::vector<std::string>& choices) const;
  // An array of non-empty strings, absent → empty.
  std::vector<std::string> strings(const char* key) const;
  std::optional<bool> boolean(const char* key) const;

 private:
  const nlohmann::json& spec_;
  std::string what_;
};

}  // namespace lmthing::policy
