// Reading what a model said: the text of its content parts, and the JSON body of an answer that was
// asked to be JSON (models often wrap it in a ``` fence).
#pragma once

#include <string>
#include <string_view>

#include "protocol/json.hpp"

namespace lmthing::agent {

// The concatenated text parts of `content` (an array of parts, or a plain string), or with `type`
// "reasoning" its reasoning parts' text.
std::string text_of(const lmthing::Json& content, std::string_view type = "text");

// The text inside the first ``` fence (after its info line) up to the last ```, or `text` itself
// when there is no such fence.
std::string json_body(std::string text);

}  // namespace lmthing::agent
