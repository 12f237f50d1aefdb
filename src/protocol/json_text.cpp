#include "protocol/json_text.hpp"

#include <algorithm>

namespace lmthing::protocol {

namespace {

Limits current_limits;

// U+FFFD as a JSON escape (same length as the escape it replaces) and as UTF-8 bytes.
constexpr std::string_view kReplacementEscape = "\\ufffd";
constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of the \uXXXX escape starting at `at` (the backslash), or -1.
long escape_unit(std::string_view text, std::size_t at) {
  if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return -1;
  long unit = 0;
  for (std::size_t k = at + 2; k < at + 6; ++k) {
    const int digit = hex_value(text[k]);
    if (digit < 0) return -1;
    unit = unit * 16 + digit;
  }
  return unit;
}

// Builds the repaired copy of a text lazily: nothing is copied until the first replacement.
class Repairer {
 public:
  Repairer(std::string_view text, std::string& out) : text_(text), out_(out) {}
  void replace(std::size_t at, std::size_t length, std::string_view with) {
    if (!active_) {
      out_.clear();
      out_.reserve(text_.size() + 16);
      active_ = true;
    }
    out_.append(text_.substr(copied_, at - copied_));
    out_.append(with);
    copied_ = at + length;
  }
  bool finish() {
    if (active_) out_.append(text_.substr(copied_));
    return active_;
  }

 private:
  std::string_view text_;
  std::string& out_;
  std::size_t copied_ = 0;
  bool active_ = false;
};

// Index just past the UTF-8 sequence whose lead byte (>= 0x80) is at `at`; an invalid byte there
// is replaced by U+FFFD and skipped.
std::size_t step_over_utf8(std::string_view text, std::size_t at, Repairer& repair) {
  const std::size_t length = utf8_sequence_length(text, at);
  if (length != 0) return at + length;
  repair.replace(at, 1, kReplacementUtf8);
  return at + 1;
}

// Index just past the string token whose opening quote is at `at`, or npos when it never closes.
std::size_t skip_string(std::string_view text, std::size_t at) {
  for (std::size_t i = at + 1; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i;
    else if (text[i] == '"')
      return i + 1;
  }
  return std::string_view::npos;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::size_t skip_space(std::string_view text, std::size_t at) {
  while (at < text.size() && is_space(text[at])) ++at;
  return at;
}

// Index of the ',' or '}' that ends the member value starting at `at` (nesting counted, not
// recursed), or npos.
std::size_t skip_value(std::string_view text, std::size_t at) {
  std::size_t depth = 0;
  for (std::size_t i = at; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      i = skip_string(text, i);
      if (i == std::string_view::npos) return i;
      --i;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (depth == 0) return c == '}' ? i : std::string_view::npos;
      --depth;
    } else if (c == ',' && depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

// A flat token (string or number) as a value; nullopt when it does not parse.
std::optional<json> token_value(std::string_view token) {
  std::string repaired;
  const TextScan scan = scan_json_text(token, 1, repaired);
  if (scan.too_deep) return std::nullopt;  // a type or an id is never an array or an object
  json value = json::parse(scan.repaired ? std::string_view(repaired) : token, nullptr, false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

}  // namespace

const Limits& limits() { return current_limits; }

void set_limits(const Limits& limits) {
  if (limits.json_depth < 1 || limits.json_depth > kMaxJsonDepth)
    throw ProtocolError("limits: \"jsonDepth\" must be an integer from 1 to " + std::to_string(kMaxJsonDepth) + ", got " +
                        std::to_string(limits.json_depth));
  current_limits = limits;
}

LimitExceeded::LimitExceeded(std::string_view what, std::size_t limit)
    : OpFailed(WireError{"limit", std::string(what) + " is nested deeper than the limit of " + std::to_string(limit) + " levels",
                         json{{"code", "LIMIT_EXCEEDED"}, {"limit", "jsonDepth"}, {"levels", limit}}}) {}

TextScan scan_json_text(std::string_view text, std::size_t depth_limit, std::string& repaired) {
  TextScan scan;
  Repairer repair(text, repaired);
  std::size_t depth = 0;
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const char c = text[i];
    if (c == '"') {
      // Inside a string: only escapes, the closing quote and non-ASCII bytes need a look.
      ++i;
      while (i < n) {
        const unsigned char s = static_cast<unsigned char>(text[i]);
        if (s == '"') break;
        if (s == '\\') {
          const long unit = escape_unit(text, i);
          if (unit >= 0xD800 && unit <= 0xDBFF) {
            const long low = escape_unit(text, i + 6);
            if (low >= 0xDC00 && low <= 0xDFFF) {
              i += 12;  // a valid pair
              continue;
            }
            repair.replace(i, 6, kReplacementEscape);
            i += 6;
          } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            repair.replace(i, 6, kReplacementEscape);
            i += 6;
          } else {
            i += unit >= 0 ? 6 : 2;
          }
          continue;
        }
        i = s < 0x80 ? i + 1 : step_over_utf8(text, i, repair);
      }
      ++i;  // the closing quote (or past the end of an unterminated string)
      continue;
    }
    if (c == '[' || c == '{') {
      if (++depth > scan.depth) scan.depth = depth;
      if (depth > depth_limit) {
        scan.too_deep = true;
        return scan;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    ++i;
  }
  scan.repaired = repair.finish();
  return scan;
}

bool repair_utf8(std::string_view text, std::string& repaired) {
  Repairer repair(text, repaired);
  for (std::size_t i = 0; i < text.size();) i = static_cast<unsigned char>(text[i]) < 0x80 ? i + 1 : step_over_utf8(text, i, repair);
  return repair.finish();
}

Envelope recover_envelope(std::string_view line) {
  Envelope envelope;
  std::size_t i = skip_space(line, 0);
  if (i >= line.size() || line[i] != '{') return envelope;
  ++i;
  for (;;) {
    i = skip_space(line, i);
    if (i >= line.size() || line[i] != '"') return envelope;
    const std::size_t key_end = skip_string(line, i);
    if (key_end == std::string_view::npos) return envelope;
    const std::string_view key = line.substr(i + 1, key_end - i - 2);
    i = skip_space(line, key_end);
    if (i >= line.size() || line[i] != ':') return envelope;
    i = skip_space(line, i + 1);
    const std::size_t end = skip_value(line, i);
    if (end == std::string_view::npos) return envelope;
    std::string_view token = line.substr(i, end - i);
    while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
    if (key == "type" || key == "id") {
      if (auto value = token_value(token)) {
        if (key == "type" && value->is_string()) envelope.type = value->get<std::string>();
        if (key == "id" && (value->is_number() || value->is_string())) envelope.id = std::move(*value);
      }
    }
    if (line[end] == '}') return envelope;
    i = end + 1;
  }
}

std::vector<const json::object_t::value_type*> members_by_key(const json& object) {
  std::vector<const json::object_t::value_type*> members;
  members.reserve(object.size());
  for (const auto& member : object.get_ref<const json::object_t&>()) members.push_back(&member);
  std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  return members;
}

namespace {

void write_canonical(const json& value, std::string& out) {
  if (value.is_object()) {
    out += '{';
    for (const auto* member : members_by_key(value)) {
      if (out.back() != '{') out += ',';
      out += json(member->first).dump();
      out += ':';
      write_canonical(member->second, out);
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    for (const json& item : value) {
      if (out.back() != '[') out += ',';
      write_canonical(item, out);
    }
    out += ']';
  } else {
    out += value.dump();
  }
}

}  // namespace

std::string canonical_dump(const json& value) {
  std::string out;
  write_canonical(value, out);
  return out;
}

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  const unsigned lead = byte(at);
  std::size_t length;
  unsigned low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  const unsigned second = byte(at + 1);
  if (second < low || second > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if ((byte(at + k) & 0xC0) != 0x80) return 0;
  return length;
}

}  // namespace lmthing::protocol
