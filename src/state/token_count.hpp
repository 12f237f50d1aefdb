// Counting the tokens of text and of message lists, exactly for OpenAI models (BPE, bpe.hpp) and
// by a documented estimate for every other provider.
//
// Which encoding a model uses: `encoding_for_model` (gpt-4o, gpt-4.1, gpt-5, o1/o3/o4 → o200k_base;
// gpt-4, gpt-3.5-turbo, text-embedding-* → cl100k_base; anything else → none, i.e. the estimate).
//
// Messages are counted with OpenAI's documented rule for chat models ("How to count tokens with
// tiktoken", OpenAI cookbook): 3 tokens per message, plus the tokens of its role, content and name
// (+1 when a name is present), plus 3 for the assistant reply's priming. Parts the rule does not
// cover are counted as their text: a tool call as its tool name plus its JSON arguments, a tool
// result as its JSON, an image as a flat 85 tokens (OpenAI's low-detail price).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/json.hpp"

namespace lmthing::state {

// "o200k_base", "cl100k_base", or nothing for models whose tokenizer is not public/known here.
// Accepts "provider:model" ids; only `openai:` (and bare OpenAI model names) map to an encoding.
std::optional<std::string> encoding_for_model(std::string_view model);

// The estimate used when no exact encoding applies: a weight per character (ASCII letter 1/4,
// digit 0.4, punctuation 1/2, a whitespace run about 1/4, other alphabets below U+2000 1/2, CJK 1,
// other BMP symbols 1, characters beyond the BMP (emoji, math letters) 1.5), rounded up. On the
// fixed corpus (tests/fixtures/tokens) it totals within 3% of o200k_base; a single text can be off
// by 0.5×–2× (docs/memory.md).
std::size_t estimate_tokens(std::string_view text);

struct MessageCountRule {
  std::size_t per_message = 3;
  std::size_t per_name = 1;
  std::size_t reply_priming = 3;
  std::size_t per_image = 85;
};

using TextCounter = std::function<std::size_t(std::string_view)>;

// Tokens of one provider-neutral message {role, content: string | [parts], name?} without the
// reply priming. Throws StateError(INVALID_MESSAGES) naming `where` for a message of the wrong shape.
std::size_t count_message_tokens(const lmthing::Json& message, const TextCounter& count_text, const MessageCountRule& rule = {},
                                 const std::string& where = "message");

// Tokens of a whole request: every message plus the reply priming (0 messages → 0).
std::size_t count_messages_tokens(const lmthing::Json& messages, const TextCounter& count_text, const MessageCountRule& rule = {});

}  // namespace lmthing::state
