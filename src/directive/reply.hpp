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
// The reply value is {index, value?} naming the conversation's last assistant message, which
// send_reply lends it as `message`; {index: 0, message} when the conversation has none.
Task<json> reply(std::shared_ptr<Session> session, std::shared_ptr<Conversation> conversation, json command);

// Sends a conversation.reply's reply (see reply_when_done) with the message it names lent from
// `conversation` rather than copied: a long answer is not held twice to be returned.
void send_reply(Loop& loop, Conversation& conversation, json& reply);

}  // namespace lmthing::directive
