// `L.reply` in the engine: the agent loop (agent/agent_loop.hpp) on a conversation: complete with
// the conversation's current model, run the tool calls the model makes through their pipelines,
// append every turn; with a schema, the final text is parsed and validated (the response-schema
// seam), the model asked again with the validator's message before a `validation` error.
#pragma once

#include <memory>

#include "directive/conversation.hpp"
#include "runtime/loop.hpp"

namespace lmthing::directive {

class Session;

// `command` is the conversation.reply command ({requestId, schema, maxSteps, maxRetries, params}).
// The reply value: {message: {role, content}, text, index, value?}.
Task<json> reply(std::shared_ptr<Session> session, std::shared_ptr<Conversation> conversation, json command);

}  // namespace lmthing::directive
