// Block-style YAML emitter.
//
// Layout: 2-space indent; sequences indented under their key; a map or a
// sequence that is a sequence item starts on the dash line ("- a: 1",
// "- - x"); empty containers inline ("{}", "[]").
//
// Scalars: null/true/false, integers as stored, floats as JavaScript prints
// them. Strings are plain unless plain text would be read back as something
// else, in which case they are double-quoted with JSON-style escapes.
// Multi-line strings become literal block scalars ("|-", "|"); one ending in empty lines is quoted.
//
// Choices where the rules were silent, and differences from `yaml` npm:
// - Only the YAML 1.2 core schema decides what "looks like" a non-string, so
//   "yes", "on", "1_000" and dates such as "2024-01-02" or
//   "2024-01-02T03:04:05.000Z" stay plain (npm `yaml` does the same).
// - Quoting always uses double quotes (npm switches to single quotes when the
//   string contains '"'), and a leading ':' is always quoted (npm only quotes
//   ": "). Strings starting with "..." are quoted because "..." at column 0
//   would end the document.
// - No line folding: long strings stay on one line and multi-line strings are
//   always literal, never folded (npm folds past 80 columns).
// - A multi-line string that is all whitespace, whose last line is only
//   spaces/tabs, or that holds control characters other than tab cannot be a
//   block scalar and is double-quoted instead (as npm does). Tabs are allowed
//   inside block scalars.
// - C1 controls (U+0080..U+009F), DEL and a byte-order mark are escaped like
//   C0 controls, since YAML does not allow them unescaped; so are U+2028 and
//   U+2029, which YAML 1.1 parsers treat as line breaks.
// - The indentation indicator ("|2-") is added when the first non-empty line
//   starts with a space, since leading empty lines do not set the indent.
// - Integers print exactly as nlohmann stores them (9007199254740993 stays
//   as is); -0 prints as "-0" and non-finite floats as ".nan"/".inf"/"-.inf"
//   (npm).
// - Keys longer than 1024 characters are still written as implicit keys
//   (npm switches to "? key"); strict parsers may reject them.
// - Nesting is handled recursively, within the engine's depth limit (protocol/json_text.hpp):
//   a deeper value throws protocol::LimitExceeded.
#include "prompt/yaml.hpp"

#include "protocol/json_text.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace lmthing::prompt {
namespace {

constexpr int kIndentStep = 2;

// ---------------------------------------------------------------- numbers

// value = 0.d1d2d3... * 10^pointPosition, digits without trailing zeros.
struct DecimalDigits {
  std::string digits;
  int pointPosition = 0;
};

// Shortest decimal digits that read back as `value` (> 0, finite). Tries
// increasing precision; 17 significant digits always round-trip. Works with
// printf/strtod rather than std::to_chars because libc++ 13 lacks the latter
// for doubles; both calls use the same locale, so the round-trip is sound.
DecimalDigits shortestDigits(double value) {
  char buffer[48];
  for (int precision = 0; precision <= 16; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*e", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  DecimalDigits result;
  const char* cursor = buffer;
  for (; *cursor != 'e'; ++cursor) {
    if (*cursor >= '0' && *cursor <= '9') result.digits += *cursor;
  }
  const int exponent = std::atoi(cursor + 1);
  while (result.digits.size() > 1 && result.digits.back() == '0') result.digits.pop_back();
  result.pointPosition = exponent + 1;
  return result;
}

// Number::toString from the ECMAScript spec, given k digits and n.
std::string formatDigitsLikeJs(const DecimalDigits& d) {
  const int k = static_cast<int>(d.digits.size());
  const int n = d.pointPosition;
  if (k <= n && n <= 21) return d.digits + std::string(n - k, '0');
  if (0 < n && n <= 21) return d.digits.substr(0, n) + "." + d.digits.substr(n);
  if (-6 < n && n <= 0) return "0." + std::string(-n, '0') + d.digits;
  const int exponent = n - 1;
  std::string mantissa = d.digits.substr(0, 1);
  if (k > 1) mantissa += "." + d.digits.substr(1);
  return mantissa + (exponent >= 0 ? "e+" : "e-") + std::to_string(std::abs(exponent));
}

std::string yamlFloat(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  if (value == 0 && std::signbit(value)) return "-0";
  return formatJsNumber(value);
}

// ------------------------------------------------------ string inspection

struct NonPrintable {
  std::uint32_t codePoint;
  std::size_t length;  // bytes in the UTF-8 input
};

// A character at s[i] that YAML cannot show as is: C0 controls (including
// tab and newline, which callers may allow), DEL, C1 controls, the BOM and
// the Unicode line/paragraph separators.
std::optional<NonPrintable> nonPrintableAt(std::string_view s, std::size_t i) {
  const auto byte = static_cast<unsigned char>(s[i]);
  if (byte < 0x20 || byte == 0x7F) return NonPrintable{byte, 1};
  if (byte == 0xC2 && i + 1 < s.size()) {
    const auto next = static_cast<unsigned char>(s[i + 1]);
    if (next >= 0x80 && next <= 0x9F) return NonPrintable{next, 2};
  }
  if (s.substr(i, 3) == "\xEF\xBB\xBF") return NonPrintable{0xFEFF, 3};
  // U+2028/U+2029 are line breaks to YAML 1.1 parsers and to older JS.
  if (s.substr(i, 3) == "\xE2\x80\xA8") return NonPrintable{0x2028, 3};
  if (s.substr(i, 3) == "\xE2\x80\xA9") return NonPrintable{0x2029, 3};
  return std::nullopt;
}

// True if s has a non-printable character other than those in `allowed`.
bool hasNonPrintable(std::string_view s, std::string_view allowed) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto found = nonPrintableAt(s, i);
    if (found && allowed.find(s[i]) == std::string_view::npos) return true;
  }
  return false;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isOctalDigit(char c) { return c >= '0' && c <= '7'; }
bool isHexDigit(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

template <class Predicate>
bool nonEmptyAndAll(std::string_view s, Predicate predicate) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!predicate(c)) return false;
  }
  return true;
}

std::string_view withoutSign(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  return s;
}

bool isCoreNull(std::string_view s) { return s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool isCoreBool(std::string_view s) { return s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE"; }

// [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+
bool isCoreInt(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o') return nonEmptyAndAll(s.substr(2), isOctalDigit);
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x') return nonEmptyAndAll(s.substr(2), isHexDigit);
  return nonEmptyAndAll(withoutSign(s), isDigit);
}

std::size_t countDigits(std::string_view s, std::size_t from) {
  std::size_t end = from;
  while (end < s.size() && isDigit(s[end])) ++end;
  return end - from;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool isCoreDecimal(std::string_view s) {
  s = withoutSign(s);
  std::size_t pos = countDigits(s, 0);
  const bool hasIntegerPart = pos > 0;
  if (pos < s.size() && s[pos] == '.') {
    const std::size_t fraction = countDigits(s, pos + 1);
    if (!hasIntegerPart && fraction == 0) return false;
    pos += 1 + fraction;
  } else if (!hasIntegerPart) {
    return false;
  }
  if (pos == s.size()) return true;
  if (s[pos] != 'e' && s[pos] != 'E') return false;
  std::string_view exponent = withoutSign(s.substr(pos + 1));
  return nonEmptyAndAll(exponent, isDigit);
}

bool isCoreFloat(std::string_view s) {
  const std::string_view unsignedPart = withoutSign(s);
  if (unsignedPart == ".inf" || unsignedPart == ".Inf" || unsignedPart == ".INF") return true;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  return isCoreDecimal(s);
}

// Plain text the core schema would resolve to null, a bool or a number.
bool readsAsNonString(std::string_view s) { return isCoreNull(s) || isCoreBool(s) || isCoreInt(s) || isCoreFloat(s); }

bool startsWithIndicator(std::string_view s) {
  constexpr std::string_view kIndicators = "-?:,[]{}#&*!|>'\"%@`";
  return kIndicators.find(s.front()) != std::string_view::npos;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// Whether a single-line string must be quoted to read back unchanged.
bool needsQuotes(std::string_view s) {
  if (s.empty()) return true;
  if (s.front() == ' ' || s.back() == ' ') return true;
  if (startsWithIndicator(s) || s.substr(0, 3) == "...") return true;
  if (contains(s, ": ") || contains(s, " #") || s.back() == ':') return true;
  if (hasNonPrintable(s, "")) return true;
  return readsAsNonString(s);
}

// ----------------------------------------------------------- string output

void appendHex4(std::string& out, std::uint32_t codePoint) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(codePoint >> shift) & 0xF];
}

// Escape for a character YAML cannot show as is, JSON style.
void appendEscape(std::string& out, std::uint32_t codePoint) {
  switch (codePoint) {
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: appendHex4(out, codePoint);
  }
}

std::string doubleQuoted(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    if (const auto special = nonPrintableAt(s, i)) {
      appendEscape(out, special->codePoint);
      i += special->length;
      continue;
    }
    if (s[i] == '"' || s[i] == '\\') out += '\\';
    out += s[i];
    ++i;
  }
  return out + "\"";
}

std::string singleLineString(std::string_view s) { return needsQuotes(s) ? doubleQuoted(s) : std::string(s); }

bool isBlankChar(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Literal block scalars cannot carry control characters, cannot express a
// string that is only whitespace, and would lose a last line of only blanks.
// Nor trailing empty lines ("|+"): the rendered YAML loses its final newline,
// which a keep-chomped block at the end of the document needs.
bool fitsBlockScalar(std::string_view s) {
  if (!contains(s, "\n") || hasNonPrintable(s, "\n\t")) return false;
  if (nonEmptyAndAll(s, isBlankChar)) return false;
  if (s.size() >= 2 && s.substr(s.size() - 2) == "\n\n") return false;
  const std::string_view lastLine = s.substr(s.rfind('\n') + 1);
  const bool lastLineBlank = nonEmptyAndAll(lastLine, [](char c) { return c == ' ' || c == '\t'; });
  return !lastLineBlank;
}

// Content lines of a block scalar: the final line break belongs to the
// chomping indicator, any further ones become empty lines.
std::vector<std::string_view> blockLines(std::string_view s) {
  if (s.back() == '\n') s.remove_suffix(1);
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = s.find('\n', start)) != std::string_view::npos; start = end + 1) {
    lines.push_back(s.substr(start, end - start));
  }
  lines.push_back(s.substr(start));
  return lines;
}

// "|" plus an indentation indicator when the first non-empty line starts
// with a space (auto-detection would swallow it) plus the chomping mode.
std::string blockHeader(std::string_view s, const std::vector<std::string_view>& lines) {
  std::string header = "|";
  for (std::string_view line : lines) {
    if (line.empty()) continue;
    if (line.front() == ' ') header += std::to_string(kIndentStep);
    break;
  }
  const std::size_t lastContent = s.find_last_not_of('\n');
  const std::size_t contentEnd = lastContent == std::string_view::npos ? 0 : lastContent + 1;
  const std::size_t trailingBreaks = s.size() - contentEnd;
  if (trailingBreaks == 0) header += '-';  // more than one is never a block (fitsBlockScalar)
  return header;
}

void appendBlockScalar(std::string& out, std::string_view s, int indent) {
  const auto lines = blockLines(s);
  out += blockHeader(s, lines);
  out += '\n';
  for (std::string_view line : lines) {
    // Empty lines carry no indentation, so the output has no trailing spaces.
    if (!line.empty()) out.append(static_cast<std::size_t>(indent), ' ').append(line);
    out += '\n';
  }
}

// ------------------------------------------------------------ tree output

template <class Json>
const std::string& stringOf(const Json& value) {
  return value.template get_ref<const typename Json::string_t&>();
}

template <class Json>
bool isNonEmptyContainer(const Json& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

template <class Json>
bool isBlockString(const Json& value) {
  return value.is_string() && fitsBlockScalar(stringOf(value));
}

// One-line text for a scalar or an empty container.
template <class Json>
std::string inlineText(const Json& value) {
  switch (value.type()) {
    case lmthing::Json::value_t::null: return "null";
    case lmthing::Json::value_t::boolean: return value.template get<bool>() ? "true" : "false";
    case lmthing::Json::value_t::number_integer: return std::to_string(value.template get<std::int64_t>());
    case lmthing::Json::value_t::number_unsigned: return std::to_string(value.template get<std::uint64_t>());
    case lmthing::Json::value_t::number_float: return yamlFloat(value.template get<double>());
    case lmthing::Json::value_t::string: return singleLineString(stringOf(value));
    case lmthing::Json::value_t::object: return "{}";
    case lmthing::Json::value_t::array: return "[]";
    default: throw std::invalid_argument("toYaml: binary and discarded values have no YAML form");
  }
}

template <class Json>
class Emitter {
 public:
  std::string document(const Json& value) {
    if (value.is_object() && !value.empty()) {
      writeMap(value, 0, false);
    } else if (value.is_array() && !value.empty()) {
      writeSequence(value, 0, false);
    } else {
      writeLeaf(value, kIndentStep);
    }
    return std::move(out_);
  }

 private:
  std::string out_;

  // Starts an entry line; skipped when the entry continues a "- " line.
  void startLine(int indent, bool continuesLine) {
    if (!continuesLine) out_.append(static_cast<std::size_t>(indent), ' ');
  }

  // A scalar, empty container or block scalar, ending its last line.
  void writeLeaf(const Json& value, int blockIndent) {
    if (isBlockString(value)) {
      appendBlockScalar(out_, stringOf(value), blockIndent);
    } else {
      out_ += inlineText(value);
      out_ += '\n';
    }
  }

  void writeMap(const Json& map, int indent, bool continuesLine) {
    bool first = true;
    for (const auto& entry : map.items()) {
      startLine(indent, first && continuesLine);
      first = false;
      // Keys follow the string rules; a multi-line key is double-quoted.
      out_ += singleLineString(entry.key());
      out_ += ':';
      writeMapValue(entry.value(), indent);
    }
  }

  void writeMapValue(const Json& value, int keyIndent) {
    const int childIndent = keyIndent + kIndentStep;
    if (!isNonEmptyContainer(value)) {
      out_ += ' ';
      writeLeaf(value, childIndent);
      return;
    }
    out_ += '\n';
    if (value.is_object()) {
      writeMap(value, childIndent, false);
    } else {
      writeSequence(value, childIndent, false);
    }
  }

  void writeSequence(const Json& sequence, int indent, bool continuesLine) {
    bool first = true;
    for (const auto& item : sequence) {
      startLine(indent, first && continuesLine);
      first = false;
      out_ += "- ";
      writeSequenceItem(item, indent);
    }
  }

  void writeSequenceItem(const Json& item, int dashIndent) {
    const int childIndent = dashIndent + kIndentStep;
    if (!isNonEmptyContainer(item)) {
      writeLeaf(item, childIndent);
    } else if (item.is_object()) {
      writeMap(item, childIndent, true);
    } else {
      writeSequence(item, childIndent, true);
    }
  }
};

}  // namespace

std::string formatJsNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return "0";  // JS prints -0 as "0" too
  const std::string sign = value < 0 ? "-" : "";
  return sign + formatDigitsLikeJs(shortestDigits(std::fabs(value)));
}

// The emitter recurses once per nesting level: the engine's depth limit keeps that within the stack.
std::string toYaml(const lmthing::Json& value) {
  protocol::check_depth(value, "a value rendered as YAML");
  return Emitter<lmthing::Json>().document(value);
}

}  // namespace lmthing::prompt
