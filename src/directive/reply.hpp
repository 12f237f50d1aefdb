// `L.reply` in the engine: complete with the conversation's current model, run the tool calls the
// model makes (concurrently, checked like a prompt run's), append every turn, and, when a schema
// was given, parse and validate the final text, asking the model again with the validator's
// message before giving up with a `validation` error.
#pragma once

#include <memory>

#include "directive/conversation.hpp"
#include "runtime/loop.hpp"
#include "schema/validator.hpp"

namespace lmthing::directive {

class Session;

struct ReplyRequest {
  std::shared_ptr<const schema::Validator> validator;  // null: a text reply
  json schema;                                         // as given (sent to the model as responseFormat)
  json request_id = 0;                                 // copied into the model op's `step`, so the host can route stream deltas
  int max_steps = 20;                                  // model calls per reply (tool rounds)
  int max_retries = 2;                                 // extra attempts after a reply that fails the schema
  json params = json::object();
};

// The reply value: {message: {role, content}, text, index, value?}.
Task<json> reply(std::shared_ptr<Session> session, std::shared_ptr<Conversation> conversation, ReplyRequest request);

}  // namespace lmthing::directive
