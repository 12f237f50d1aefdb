#include "directive/reply.hpp"

#include "agent/agent_loop.hpp"
#include "directive/session.hpp"
#include "prompt/role.hpp"

namespace lmthing::directive {

namespace {

// A conversation as the agent loop's transcript: every turn is appended to the conversation (with a
// message-appended event), and model calls sync the host's copy of it (agent/host_copy.hpp).
class ConversationTranscript : public agent::Transcript {
 public:
  ConversationTranscript(Session& session, Conversation& conversation) : session_(session), conversation_(conversation) {}
  const json& messages() const override { return conversation_.model_messages(); }
  void append(json message) override { session_.append(conversation_, std::move(message), {}); }
  void fill(json& payload, const std::optional<json>& replacement) override {
    synced_ = conversation_.host_copy().fill(payload, conversation_.model_messages(), replacement, conversation_.id());
  }
  void answered(bool mended) override {
    if (synced_) conversation_.host_copy().answered(conversation_.size() - (mended ? 1 : 0));
  }

 private:
  Session& session_;
  Conversation& conversation_;
  bool synced_ = false;
};

[[noreturn]] void fail(const std::string& message) { throw OpFailed(protocol::WireError{"callback", message, json::object()}); }

}  // namespace

Task<json> reply(std::shared_ptr<Session> session, std::shared_ptr<Conversation> conversation, json command) {
  protocol::FieldReader fields(command, "conversation.reply");
  const pipeline::CallEnv env = session->env_of(*conversation);
  agent::AgentLoopConfig config;
  config.max_steps = fields.integer("maxSteps", 1, 1000).value_or(20);
  config.tool_call_concurrency = fields.integer("toolCallConcurrency", 1, 1000000).value_or(0);
  if (fields.has("toolOrder")) config.tool_order = fields.strings("toolOrder");
  config.seams = agent::make_seams(fields, *env.tree, true);
  config.call_context = json{{"conversation", conversation->id()}};
  const json params = fields.has("params") ? fields.object_field("params") : json::object();
  const json step_id = command.value("requestId", json(0));
  const json response_format = fields.has("schema") ? agent::response_format(command["schema"]) : json();
  std::optional<std::vector<std::string>> active_tools;
  if (fields.has("activeTools")) active_tools = fields.strings("activeTools");
  config.plan = [&](int, const pipeline::StepOverrides& overrides) {
    if (overrides.active_systems || overrides.active_variables)
      fail("prepareStep: activeSystems and activeVariables choose a prompt run's defSystem and def sections, which a directive reply has none of");
    agent::StepPlan plan;
    plan.model = overrides.model.value_or(session->model_ref(conversation->current_model(), "conversation.reply"));
    plan.offered = agent::offered_tools(*env.tools, overrides.active_tools ? overrides.active_tools : active_tools);
    plan.tool_choice = overrides.tool_choice.value_or(json());
    plan.response_format = response_format;
    plan.params = params;
    plan.step_id = step_id;
    if (const prompt::RoleSpec* role = prompt::assumed_role(*env.tree, env.run).role; role && !role->section.empty()) plan.system = role->section;
    if (overrides.system) plan.system = *overrides.system;  // in place of the role's section; L.system messages stay
    return plan;
  };
  ConversationTranscript transcript(*session, *conversation);
  agent::LoopOutcome outcome = co_await agent::run_agent_loop(env, session->model_chain(), transcript, std::move(config));
  // The reply is the last assistant turn (the model may still have been calling tools at maxSteps).
  const json& messages = conversation->model_messages();
  std::size_t index = messages.size();
  while (index > 0 && messages[index - 1].value("role", "") != "assistant") --index;
  // No copy of the message (send_reply lends it) and no `text` (the host joins its text parts).
  json result{{"index", index > 0 ? index - 1 : 0}};
  if (index == 0) result["message"] = json{{"role", "assistant"}, {"content", json::array()}};
  if (outcome.value) result["value"] = *outcome.value;
  co_return result;
}

void send_reply(Loop& loop, Conversation& conversation, json& reply) {
  json* value = reply.value("ok", false) ? &reply["value"] : nullptr;
  if (!value || value->contains("message")) return loop.emit(std::move(reply));
  (*value)["message"] = nullptr;  // the member first: `value` gets no more, so the place stays valid
  LentMessage lent(conversation, (*value)["index"].get<std::size_t>(), (*value)["message"]);
  loop.emit_borrowing(reply);
}

}  // namespace lmthing::directive
