#include "protocol/json_read.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "protocol/json_text.hpp"

namespace lmthing::protocol {

namespace {

// One pass over the text. Every method returns false as soon as the text is anything but plain
// JSON; the caller then gives the whole text to the careful path. The recursive methods keep no
// locals that need destroying, so their calls need no landing pads.
class PlainJsonReader {
 public:
  PlainJsonReader(std::string_view text, std::size_t depth_limit) : text_(text), depth_limit_(depth_limit) {}

  bool read_document(Json& out) {
    if (!read_value(out, 0)) return false;
    skip_space();
    return at_ == text_.size();
  }

 private:
  bool at_end() const { return at_ >= text_.size(); }
  char peek() const { return text_[at_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\n' || peek() == '\r' || peek() == '\t')) ++at_;
  }

  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  bool read_value(Json& out, std::size_t depth) {
    skip_space();
    if (at_end()) return false;
    switch (peek()) {
      case '{': return read_object(out, depth + 1);
      case '[': return read_array(out, depth + 1);
      case '"': out = std::string(); return read_string(out.get_ref<std::string&>());
      case 't': return literal("true") && (out = true, true);
      case 'f': return literal("false") && (out = false, true);
      case 'n': return literal("null") && (out = nullptr, true);
      default: return read_number(out);
    }
  }

  bool read_array(Json& out, std::size_t depth) {
    if (depth > depth_limit_) return false;
    ++at_;  // [
    out = Json::array();
    auto& items = out.get_ref<Json::array_t&>();
    skip_space();
    if (!at_end() && peek() == ']') return ++at_, true;
    while (true) {
      items.emplace_back();
      if (!read_value(items.back(), depth)) return false;
      skip_space();
      if (at_end()) return false;
      const char c = text_[at_++];
      if (c == ']') return true;
      if (c != ',') return false;
    }
  }

  bool read_object(Json& out, std::size_t depth) {
    if (depth > depth_limit_) return false;
    ++at_;  // {
    out = Json::object();
    skip_space();
    if (!at_end() && peek() == '}') return ++at_, true;
    while (true) {
      skip_space();
      key_.clear();  // free again once the member is made, before its value (and nested keys) are read
      if (at_end() || peek() != '"' || !read_string(key_)) return false;
      skip_space();
      if (at_end() || text_[at_++] != ':') return false;
      // A repeated key keeps its first place and takes the last value, as nlohmann's parser does.
      if (!read_value(out[key_], depth)) return false;
      skip_space();
      if (at_end()) return false;
      const char c = text_[at_++];
      if (c == '}') return true;
      if (c != ',') return false;
    }
  }

  // Four hex digits of a \u escape.
  bool read_hex4(std::uint32_t& code) {
    if (text_.size() - at_ < 4) return false;
    code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[at_++];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        code |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        code |= static_cast<std::uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  static void put_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // A string whose raw bytes are valid UTF-8 and whose \u escapes pair their surrogates; anything
  // else (a control byte, a bad escape, invalid UTF-8, a lone surrogate) needs the careful path.
  bool read_string(std::string& out) {
    ++at_;  // "
    std::size_t run = at_;
    while (true) {
      if (at_end()) return false;
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c == '"') break;
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const std::size_t length = utf8_sequence_length(text_, at_);
        if (length == 0) return false;
        at_ += length;
        continue;
      }
      if (c != '\\') {
        ++at_;
        continue;
      }
      out.append(text_, run, at_ - run);
      ++at_;
      if (at_end()) return false;
      const char escape = text_[at_++];
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t code = 0;
          if (!read_hex4(code)) return false;
          if (code >= 0xDC00 && code <= 0xDFFF) return false;  // a low surrogate alone
          if (code >= 0xD800 && code <= 0xDBFF) {
            std::uint32_t low = 0;
            if (!literal("\\u") || !read_hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
          }
          put_utf8(out, code);
          break;
        }
        default: return false;
      }
      run = at_;
    }
    out.append(text_, run, at_ - run);
    ++at_;  // "
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  // JSON's number grammar; integers as nlohmann reads them (unsigned without a sign, signed with
  // one, a double when they do not fit), other numbers by strtod, as nlohmann's lexer does.
  bool read_number(Json& out) {
    const std::size_t start = at_;
    if (peek() == '-') ++at_;
    if (at_end() || !digit(peek())) return false;
    if (peek() == '0') {
      ++at_;
    } else {
      while (!at_end() && digit(peek())) ++at_;
    }
    bool integer = true;
    if (!at_end() && peek() == '.') {
      integer = false;
      ++at_;
      if (at_end() || !digit(peek())) return false;
      while (!at_end() && digit(peek())) ++at_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      integer = false;
      ++at_;
      if (!at_end() && (peek() == '+' || peek() == '-')) ++at_;
      if (at_end() || !digit(peek())) return false;
      while (!at_end() && digit(peek())) ++at_;
    }
    const std::string_view token = text_.substr(start, at_ - start);
    if (integer) {
      if (token[0] == '-') {
        std::int64_t value = 0;
        if (std::from_chars(token.data(), token.data() + token.size(), value).ec == std::errc()) return out = value, true;
      } else {
        std::uint64_t value = 0;
        if (std::from_chars(token.data(), token.data() + token.size(), value).ec == std::errc()) return out = value, true;
      }
    }
    char buffer[64];  // strtod needs a terminated copy; longer numbers are rare enough for the careful path
    if (token.size() >= sizeof buffer) return false;
    std::memcpy(buffer, token.data(), token.size());
    buffer[token.size()] = '\0';
    const double value = std::strtod(buffer, nullptr);
    if (!std::isfinite(value)) return false;  // nlohmann refuses an overflow
    out = value;
    return true;
  }

  std::string_view text_;
  std::size_t depth_limit_;
  std::size_t at_ = 0;
  std::string key_;  // the key being read (a member, not a local: the recursion keeps no locals to destroy)
};

}  // namespace

std::optional<Json> parse_plain_json(std::string_view text, std::size_t depth_limit) {
  Json value;
  if (!PlainJsonReader(text, depth_limit).read_document(value)) return std::nullopt;
  return value;
}

}  // namespace lmthing::protocol
