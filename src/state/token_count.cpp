#include "state/token_count.hpp"

#include <cmath>

#include "state/state_error.hpp"

namespace lmthing::state {

using json = lmthing::Json;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_cjk(char32_t c) {
  return (c >= 0x3040 && c <= 0x30ff) ||  // Hiragana, Katakana
         (c >= 0x3400 && c <= 0x4dbf) ||  // CJK Extension A
         (c >= 0x4e00 && c <= 0x9fff) ||  // CJK Unified Ideographs
         (c >= 0xac00 && c <= 0xd7af) ||  // Hangul syllables
         (c >= 0x1100 && c <= 0x11ff) ||  // Hangul Jamo
         (c >= 0xf900 && c <= 0xfaff) ||  // CJK compatibility ideographs
         (c >= 0x20000 && c <= 0x3134f);  // CJK Extensions B–H
}

}  // namespace

std::optional<std::string> encoding_for_model(std::string_view model) {
  if (const auto colon = model.find(':'); colon != std::string_view::npos) {
    if (model.substr(0, colon) != "openai") return std::nullopt;
    model = model.substr(colon + 1);
  }
  for (std::string_view p : {"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss"})
    if (starts_with(model, p)) return "o200k_base";
  for (std::string_view p : {"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002"})
    if (starts_with(model, p)) return "cl100k_base";
  return std::nullopt;
}

// Weights per character, fitted by eye to o200k_base on tests/fixtures/tokens and rounded so that
// budgets err on the generous side: BPE vocabularies hold whole English words (≈ 4 letters a
// token), split digits in threes, merge whitespace runs, and spend about a token per CJK
// character and per emoji or symbol code point.
std::size_t estimate_tokens(std::string_view text) {
  double tokens = 0;
  bool in_space = false;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char b = s[i];
    const int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    for (int k = 1; k < len && i + k < text.size(); ++k) c = (c << 6) | (s[i + k] & 0x3f);
    i += static_cast<std::size_t>(len);
    const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space) {
      tokens += in_space ? 1.0 / 64 : 0.25;  // a run of whitespace is about one token
    } else if (c < 0x80) {
      tokens += (c >= '0' && c <= '9') ? 0.4 : ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? 0.25 : 0.5;
    } else if (is_cjk(c)) {
      tokens += 1;
    } else if (c < 0x2000) {
      tokens += 0.5;  // Latin extensions, Greek, Cyrillic, Arabic, Hebrew, Indic scripts …
    } else if (c < 0x10000) {
      tokens += 1;  // symbols, emoji joiners and selectors
    } else {
      tokens += 1.5;  // emoji, math letters: four UTF-8 bytes, often two tokens
    }
    in_space = space;
  }
  return static_cast<std::size_t>(std::ceil(tokens));
}

std::size_t count_message_tokens(const json& message, const TextCounter& count_text, const MessageCountRule& rule, const std::string& where) {
  if (!message.is_object() || !message.contains("role") || !message["role"].is_string() || !message.contains("content"))
    throw StateError(error_code::kInvalidMessages, where + ": expected {role: string, content}, got " + message.dump().substr(0, 120));
  std::size_t n = rule.per_message + count_text(message["role"].get_ref<const std::string&>());
  if (auto name = message.find("name"); name != message.end() && name->is_string())
    n += count_text(name->get_ref<const std::string&>()) + rule.per_name;
  const json content = message.value("content", json());
  if (content.is_string()) return n + count_text(content.get_ref<const std::string&>());
  if (content.is_null()) return n;
  if (!content.is_array())
    throw StateError(error_code::kInvalidMessages,
                     where + ": content must be a string or an array of parts, got " + std::string(content.type_name()));
  for (const json& part : content) {
    const std::string type = part.is_object() ? part.value("type", "") : "";
    if (type == "text" || type == "reasoning") {
      n += count_text(part.value("text", ""));
    } else if (type == "tool-call") {
      n += count_text(part.value("toolName", ""));
      const json args = part.value("args", json::object());
      n += count_text(args.is_string() ? args.get<std::string>() : args.dump());
    } else if (type == "tool-result") {
      const json result = part.value("result", json());
      n += count_text(result.is_string() ? result.get<std::string>() : result.dump());
    } else if (type == "image" || type == "file") {
      n += rule.per_image;  // a file's pages are not known here: it counts as an image does
    } else {
      throw StateError(error_code::kInvalidMessages, where + ": unknown content part " + part.dump().substr(0, 80) +
                                                         " (expected type text, reasoning, tool-call, tool-result, image or file)");
    }
  }
  return n;
}

std::size_t count_messages_tokens(const json& messages, const TextCounter& count_text, const MessageCountRule& rule) {
  if (!messages.is_array()) throw StateError(error_code::kInvalidMessages, "messages must be an array, got " + std::string(messages.type_name()));
  if (messages.empty()) return 0;
  std::size_t n = rule.reply_priming;
  for (std::size_t i = 0; i < messages.size(); ++i) n += count_message_tokens(messages[i], count_text, rule, "messages[" + std::to_string(i) + "]");
  return n;
}

}  // namespace lmthing::state
