#include "schema/regex.hpp"

#include <algorithm>

namespace lmthing::schema {
namespace {

// One wchar_t per code point is what makes "." match a whole character.
static_assert(sizeof(wchar_t) == 4, "EcmaRegex needs 32-bit wchar_t (Linux, Emscripten)");

// Length of the UTF-8 sequence introduced by `lead`, or 0 for a stray byte.
std::size_t sequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

// Decodes UTF-8; a malformed sequence becomes U+FFFD so matching never fails on bad input.
std::wstring toWide(std::string_view utf8) {
  std::wstring out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    const std::size_t length = sequenceLength(lead);
    if (length == 0 || i + length > utf8.size()) {
      out += static_cast<wchar_t>(0xFFFD);
      ++i;
      continue;
    }
    char32_t code = length == 1 ? lead : (lead & (0x7F >> length));
    bool wellFormed = true;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(utf8[i + k]);
      wellFormed = wellFormed && (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    out += static_cast<wchar_t>(wellFormed ? code : 0xFFFD);
    i += wellFormed ? length : 1;
  }
  return out;
}

// std::regex expands a counted repetition into that many copies of its states, and libstdc++ reads
// the count without an overflow check: "a{99999999999999999999}" is undefined behaviour, and a
// count in the millions exhausts memory. Larger counts are refused when the pattern compiles.
constexpr unsigned long kMaxRepetition = 1000;

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Why `pattern` is refused before std::regex sees it, or an empty string.
std::string repetitionProblem(std::string_view pattern) {
  bool inClass = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      ++i;  // an escaped character is never a quantifier
    } else if (inClass) {
      inClass = c != ']';
    } else if (c == '[') {
      inClass = true;
    } else if (c == '{') {
      // Every run of digits in "{n}", "{n,}" or "{n,m}".
      for (std::size_t j = i + 1; j < pattern.size() && (isDigit(pattern[j]) || pattern[j] == ',');) {
        if (pattern[j] == ',') {
          ++j;
          continue;
        }
        const std::size_t start = j;
        unsigned long count = 0;
        for (; j < pattern.size() && isDigit(pattern[j]); ++j) {
          if (count <= kMaxRepetition) count = count * 10 + static_cast<unsigned long>(pattern[j] - '0');
        }
        if (count > kMaxRepetition) {
          const std::string digits(pattern.substr(start, std::min<std::size_t>(j - start, 24)));
          return "the repetition count " + digits + (j - start > 24 ? "..." : "") + " is over the limit of " + std::to_string(kMaxRepetition);
        }
      }
    }
  }
  return {};
}

}  // namespace

std::unique_ptr<EcmaRegex> EcmaRegex::compile(std::string_view pattern, std::string* error) {
  if (std::string problem = repetitionProblem(pattern); !problem.empty()) {
    if (error != nullptr) *error = std::move(problem);
    return nullptr;
  }
  try {
    return std::unique_ptr<EcmaRegex>(new EcmaRegex(std::wregex(toWide(pattern), std::regex::ECMAScript)));
  } catch (const std::regex_error& e) {
    if (error != nullptr) *error = e.what();
    return nullptr;
  }
}

bool EcmaRegex::search(std::string_view utf8) const {
  const std::wstring text = toWide(utf8);
  try {
    return std::regex_search(text, regex_);
  } catch (const std::regex_error&) {
    // Only complexity/stack limits can throw here; a pattern we cannot evaluate does not match.
    return false;
  }
}

}  // namespace lmthing::schema
