// ECMA-262 regular expressions for "pattern", "patternProperties" and the "regex" format, on top of
// std::regex's ECMAScript grammar. Matching runs on code points (UTF-8 is decoded to UTF-32 wide
// strings) so that "." and character classes see whole characters, as JavaScript's "u" mode does.
#pragma once

#include <memory>
#include <regex>
#include <string>
#include <string_view>

namespace lmthing::schema {

class EcmaRegex {
 public:
  // nullptr when the pattern does not compile; `error` then says why.
  static std::unique_ptr<EcmaRegex> compile(std::string_view pattern, std::string* error = nullptr);

  // Unanchored search, as JSON Schema specifies.
  bool search(std::string_view utf8) const;

 private:
  explicit EcmaRegex(std::wregex regex) : regex_(std::move(regex)) {}
  std::wregex regex_;
};

}  // namespace lmthing::schema
