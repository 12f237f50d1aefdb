#include "directive/reply.hpp"

#include "agent/content.hpp"
#include "agent/tool_calls.hpp"
#include "directive/session.hpp"
#include "policy/retry.hpp"
#include "runtime/when_all.hpp"

namespace lmthing::directive {

using protocol::WireError;

namespace {

[[noreturn]] void fail(const std::string& kind, const std::string& message, json extra = json::object()) {
  throw OpFailed(WireError{kind, message, std::move(extra)});
}

struct SchemaVerdict {
  bool ok = false;
  json value;
  std::string problem;  // what the model is told (and what the error says) when !ok
  json errors = json::array();
};

SchemaVerdict check_against_schema(const schema::Validator& validator, const std::string& text) {
  SchemaVerdict verdict;
  verdict.value = json::parse(agent::json_body(text), nullptr, false);
  if (verdict.value.is_discarded()) {
    verdict.problem = "the reply is not JSON: " + text.substr(0, 200);
    return verdict;
  }
  const auto result = validator.validate(verdict.value);
  if (result.valid) {
    verdict.ok = true;
    return verdict;
  }
  verdict.problem = "the reply does not match the schema; " + schema::describe(result);
  verdict.errors = schema::issues_json(result);
  return verdict;
}

class Reply {
 public:
  Reply(std::shared_ptr<Session> session, std::shared_ptr<Conversation> conversation, ReplyRequest request)
      : session_(std::move(session)), conversation_(std::move(conversation)), request_(std::move(request)) {}

  Task<json> run() {
    for (int attempt = 0;; ++attempt) {
      json message = co_await complete();
      const std::string text = agent::text_of(message["content"]);
      json result{{"message", message}, {"text", text}, {"index", conversation_->size() - 1}};
      if (!request_.validator) co_return result;
      SchemaVerdict verdict = check_against_schema(*request_.validator, text);
      if (verdict.ok) {
        result["value"] = std::move(verdict.value);
        co_return result;
      }
      if (attempt >= request_.max_retries)
        fail("validation", verdict.problem + " (after " + std::to_string(attempt + 1) + " attempts)", json{{"errors", verdict.errors}});
      // The model sees its own answer and why it was refused, and answers again.
      append(
          json{{"role", "user"},
               {"content", "Your reply was refused: " + verdict.problem + ". Reply again with only a JSON value that matches the required schema."}});
    }
  }

 private:
  // Model calls until one makes no tool call; returns that last assistant message.
  Task<json> complete() {
    json message;
    for (int step = 0; step < request_.max_steps; ++step) {
      const std::string key = conversation_->current_model();
      const std::vector<const agent::ToolSpec*> offered = conversation_->tools();
      json request = model_request(key, offered);
      session_->emit(*conversation_, json{{"type", "inference-requested"}, {"model", key}, {"step", step}});
      json response = co_await generate(std::move(request), key);
      if (!response.is_object() || !response.contains("content") || !response["content"].is_array())
        fail("provider", "the model response has no \"content\" array");
      message = json{{"role", "assistant"}, {"content", response["content"]}};
      append(message);
      session_->emit(*conversation_, json{{"type", "inferred"},
                                          {"model", key},
                                          {"step", step},
                                          {"text", agent::text_of(message["content"])},
                                          {"finishReason", response.value("finishReason", "other")},
                                          {"usage", response.value("usage", json::object())}});
      std::vector<agent::CheckedCall> calls;
      for (const auto& part : message["content"])
        if (part.value("type", "") == "tool-call") calls.push_back(agent::check_tool_call(offered, part));
      if (calls.empty()) co_return message;
      json results = co_await run_tools(calls);
      append(json{{"role", "tool"}, {"content", std::move(results)}});
    }
    co_return message;  // maxSteps reached while the model still called tools
  }

  // A model call with the default model retry rule (policy/retry.hpp): rate limits, timeouts and
  // retryable provider errors get 2 more attempts, after Retry-After or exponential backoff.
  Task<json> generate(json request, std::string key) {
    const policy::RetryPolicy retry = policy::default_model_retry(2);
    for (int attempt = 0;; ++attempt) {
      std::optional<WireError> failure;
      try {
        co_return co_await session_->loop().op(session_->run(), "model.generate", request);
      } catch (const OpFailed& e) {
        failure = e.error;
      }
      if (attempt + 1 >= retry.max_attempts || !policy::retries(retry, *failure, policy::model_error_retryable)) throw OpFailed(*failure);
      // The default rule has no jitter, so the generator is never drawn from.
      const double wait = policy::retry_delay(retry.backoff, attempt, policy::retry_after_ms(*failure), no_jitter_);
      session_->emit(*conversation_,
                     json{{"type", "retry"}, {"model", key}, {"attempt", attempt + 1}, {"delayMs", wait}, {"error", failure->message}});
      co_await session_->loop().sleep(session_->run(), wait);
    }
  }

  json model_request(const std::string& key, const std::vector<const agent::ToolSpec*>& offered) const {
    json tools = json::array();
    for (const agent::ToolSpec* tool : offered)
      tools.push_back({{"name", tool->name}, {"description", tool->description}, {"parameters", tool->parameters}});
    json request{{"model", session_->model_ref(key, "reply")},  {"step", request_.request_id}, {"system", nullptr},
                 {"messages", conversation_->model_messages()}, {"tools", std::move(tools)},   {"params", request_.params}};
    if (request_.validator) request["responseFormat"] = json{{"type", "json"}, {"schema", request_.schema}};
    return request;
  }

  Task<json> run_tools(const std::vector<agent::CheckedCall>& calls) {
    std::vector<json> slots(calls.size());
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < calls.size(); ++i) tasks.push_back(run_tool(calls[i], slots[i]));
    co_await when_all(session_->loop(), std::move(tasks));
    json results = json::array();
    for (auto& slot : slots) results.push_back(std::move(slot));
    co_return results;
  }

  // One checked call; a failure (except an abort) becomes the result the model sees.
  Task<void> run_tool(const agent::CheckedCall& call, json& result_part) {
    std::string error = call.error;
    json value;
    if (error.empty()) {
      session_->emit(*conversation_, json{{"type", "tool-called"}, {"toolCallId", call.id}, {"toolName", call.name}, {"args", call.args}});
      try {
        json context{{"toolCallId", call.id}, {"toolName", call.name}, {"conversation", conversation_->id()}};
        json payload{{"fn", call.tool->callback}, {"args", json::array({call.args, context})}};
        value = co_await session_->loop().op(session_->run(), "callback.invoke", std::move(payload));
      } catch (const OpFailed& e) {
        if (e.error.kind == "aborted") throw;
        error = e.error.message;
      }
    }
    result_part = {{"type", "tool-result"}, {"toolCallId", call.id}, {"toolName", call.name}};
    if (error.empty()) {
      result_part["result"] = value;
    } else {
      result_part["result"] = {{"error", error}};
      result_part["isError"] = true;
    }
  }

  void append(json message) {
    const std::size_t index = conversation_->append(message, {});
    session_->emit(*conversation_, json{{"type", "message-appended"}, {"index", index}, {"message", std::move(message)}, {"tags", json::array()}});
  }

  Random no_jitter_{0};
  std::shared_ptr<Session> session_;
  std::shared_ptr<Conversation> conversation_;
  ReplyRequest request_;
};

}  // namespace

Task<json> reply(std::shared_ptr<Session> session, std::shared_ptr<Conversation> conversation, ReplyRequest request) {
  Reply state(std::move(session), std::move(conversation), std::move(request));
  co_return co_await state.run();
}

}  // namespace lmthing::directive
