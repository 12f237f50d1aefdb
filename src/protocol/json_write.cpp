#include "protocol/json_write.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "protocol/json_text.hpp"

namespace lmthing::protocol {

namespace {

// Bytes a JSON string carries as they are: ASCII from the space up, but the quote and the backslash.
// Bytes of 0x80 and up are UTF-8, checked separately.
constexpr std::array<bool, 256> kPlainAscii = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return plain;
}();

// The writer's output, through a small buffer: a character is a store, not a call into
// std::string. Trivially destructible (nothing to clean up when an append throws); the owner
// flushes it at the end.
class JsonSink {
 public:
  JsonSink(std::string& out, StringStop stop) : out_(out), stop_(stop) {}
  // Whether the writing stopped at a string value `stop` picked (then the output is incomplete).
  bool stopped = false;
  bool stops_at(const std::string& text) { return stop_ && (stopped = stop_(text)); }
  void put(char c) {
    if (used_ == sizeof buffer_) flush();
    buffer_[used_++] = c;
  }
  void put(std::string_view text) {
    if (text.size() > sizeof buffer_ - used_) {
      flush();
      if (text.size() >= sizeof buffer_) {
        out_.append(text);
        return;
      }
    }
    std::memcpy(buffer_ + used_, text.data(), text.size());
    used_ += text.size();
  }
  // The string itself, everything written so far in it.
  std::string& flushed() {
    flush();
    return out_;
  }
  void flush() {
    out_.append(buffer_, used_);
    used_ = 0;
  }

 private:
  std::string& out_;
  StringStop stop_;
  char buffer_[512];
  std::size_t used_ = 0;
};

// nlohmann's own text for what this writer leaves to it (a string that is not UTF-8, binary values).
// Out of line, so that the writer's own functions keep nothing to clean up.
[[gnu::noinline]] void put_by_nlohmann(JsonSink& sink, const Json& value) {
  sink.flushed() += value.dump(-1, ' ', false, Json::error_handler_t::replace);
}
[[gnu::noinline]] void put_key_by_nlohmann(JsonSink& sink, const std::string& key) { put_by_nlohmann(sink, Json(key)); }

void put_escape(JsonSink& sink, unsigned char c) {
  switch (c) {
    case '"': sink.put("\\\""); return;
    case '\\': sink.put("\\\\"); return;
    case '\b': sink.put("\\b"); return;
    case '\f': sink.put("\\f"); return;
    case '\n': sink.put("\\n"); return;
    case '\r': sink.put("\\r"); return;
    case '\t': sink.put("\\t"); return;
    default: {
      constexpr char kHex[] = "0123456789abcdef";
      const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      sink.put(std::string_view(escape, sizeof escape));
    }
  }
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
    } else {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) return false;
      i += length;
    }
  }
  return true;
}

// Writes `text` as a JSON string, or returns false (writing nothing) when it is not UTF-8.
bool put_string(JsonSink& sink, std::string_view text) {
  if (!valid_utf8(text)) return false;
  sink.put('"');
  std::size_t run = 0;  // start of the bytes not yet written
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || kPlainAscii[c]) continue;
    sink.put(text.substr(run, i - run));
    put_escape(sink, c);
    run = i + 1;
  }
  sink.put(text.substr(run));
  sink.put('"');
  return true;
}

template <class Number>
void put_integer(JsonSink& sink, Number value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  sink.put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

void put_double(JsonSink& sink, double value) {
  if (!std::isfinite(value)) {
    sink.put("null");
    return;
  }
  char digits[64];
  const char* end = nlohmann::detail::to_chars(digits, digits + sizeof digits, value);
  sink.put(std::string_view(digits, static_cast<std::size_t>(end - digits)));
}

void put_value(JsonSink& sink, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: sink.put("null"); return;
    case Json::value_t::boolean: sink.put(value.get<bool>() ? "true" : "false"); return;
    case Json::value_t::number_integer: put_integer(sink, value.get<Json::number_integer_t>()); return;
    case Json::value_t::number_unsigned: put_integer(sink, value.get<Json::number_unsigned_t>()); return;
    case Json::value_t::number_float: put_double(sink, value.get<Json::number_float_t>()); return;
    case Json::value_t::string: {
      const std::string& text = value.get_ref<const Json::string_t&>();
      if (sink.stops_at(text)) return;
      if (!put_string(sink, text)) put_by_nlohmann(sink, value);
      return;
    }
    case Json::value_t::array: {
      sink.put('[');
      bool first = true;
      for (const Json& item : value.get_ref<const Json::array_t&>()) {
        if (!first) sink.put(',');
        first = false;
        put_value(sink, item);
        if (sink.stopped) return;
      }
      sink.put(']');
      return;
    }
    case Json::value_t::object: {
      sink.put('{');
      bool first = true;
      for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
        if (!first) sink.put(',');
        first = false;
        if (!put_string(sink, key)) put_key_by_nlohmann(sink, key);
        sink.put(':');
        put_value(sink, member);
        if (sink.stopped) return;
      }
      sink.put('}');
      return;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded: put_by_nlohmann(sink, value); return;
  }
}

}  // namespace

void append_json(std::string& out, const Json& value) { append_json_unless(out, value, nullptr); }

bool append_json_unless(std::string& out, const Json& value, StringStop stop) {
  JsonSink sink(out, stop);
  put_value(sink, value);
  sink.flush();
  return !sink.stopped;
}

std::string json_text(const Json& value) {
  std::string out;
  append_json(out, value);
  return out;
}

}  // namespace lmthing::protocol
