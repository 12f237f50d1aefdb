#include "directive/session.hpp"

#include <cmath>

#include "agent/prompt_run.hpp"
#include "agent/prompt_spec.hpp"
#include "directive/reply.hpp"
#include "observe/run_observation.hpp"
#include "observe/tree_observer.hpp"
#include "prompt/role.hpp"
#include "runtime/reply.hpp"
#include "schema/validator.hpp"
#include "state/state_store.hpp"

namespace lmthing::directive {

using protocol::ProtocolError;
using protocol::require_field;
using protocol::WireError;
using value_t = json::value_t;

namespace {

const char* const kVerbs =
    "append, reply, call, model.push, model.pop, tool.enable, tool.disable, branch, group, group.wait, end, messages, mark, emit";

std::string where_of(const std::string& verb) { return "conversation." + verb; }

std::size_t optional_position(const json& message, const char* field, const std::string& where, std::size_t fallback) {
  if (!message.contains(field) || message[field].is_null()) return fallback;
  return static_cast<std::size_t>(protocol::require_id(message, field, where));
}

json checked_message(const json& message, const std::string& where) {
  const json& m = require_field(message, "message", value_t::object, where);
  const std::string role = require_field(m, "role", value_t::string, where + " message").get<std::string>();
  if (role != "system" && role != "user" && role != "assistant" && role != "tool")
    throw ProtocolError(where + ": message role must be system, user, assistant or tool, got \"" + role + "\"");
  if (!m.contains("content") || !(m["content"].is_string() || m["content"].is_array()))
    throw ProtocolError(where + ": message content must be a string or an array of parts");
  return json{{"role", role}, {"content", m["content"]}};
}

std::vector<Tag> checked_tags(const json& message, const std::string& where) {
  std::vector<Tag> tags;
  if (!message.contains("tags") || message["tags"].is_null()) return tags;
  for (const auto& tag : require_field(message, "tags", value_t::array, where)) {
    if (!tag.is_object() || !tag.contains("id") || !tag["id"].is_string() || tag["id"].get<std::string>().empty())
      throw ProtocolError(where + ": each tag must be {id: non-empty string, description?: string}, got " + tag.dump());
    tags.push_back(Tag{tag["id"].get<std::string>(), tag.value("description", std::string())});
  }
  return tags;
}

}  // namespace

// ------------------------------------------------------------------------------------------ Session

struct Session::EndAwaiter {
  Session& session;
  bool await_ready() const noexcept { return session.ended_; }
  void await_suspend(coro::coroutine_handle<> waiter) noexcept { session.end_waiter_ = waiter; }
  void await_resume() const noexcept {}
};

Session::Session(Loop& loop, RunId run, std::map<std::string, std::string> models, SessionSetup setup)
    : loop_(loop), run_(run), models_(std::move(models)), setup_(std::move(setup)) {
  for (const auto& [key, ref] : models_) setup_.settings.primary_models.push_back(ref);
  model_chain_ =
      pipeline::build_chain(pipeline::Target{pipeline::CallKind::Model, nullptr, setup_.settings.model_options, setup_.settings, *setup_.tree});
  conversations_.emplace(0, std::make_shared<Conversation>(0, json::array({"root"})));
  run_model_ = std::make_unique<flow::RunModelEntry>(*setup_.tree, run_, flow::RunModel{model_chain_, models_.at("default")});
}

void Session::observe(const json& spec, const std::string& model) {
  observation_ = std::make_unique<observe::RunObservation>(env_of(*conversations_.at(0)), spec, "conversation", model);
}

pipeline::CallEnv Session::root_env() const {
  return pipeline::CallEnv{loop_, run_, setup_.tree, *setup_.desk, setup_.host, json::array({"root"}), nullptr};
}

pipeline::CallEnv Session::env_of(const Conversation& conversation) const {
  return pipeline::CallEnv{loop_, run_, setup_.tree, *setup_.desk, setup_.host, conversation.path(), conversation.tools()};
}

void Session::cancel_branch(std::uint64_t id, const WireError& error) {
  auto it = conversations_.find(id);
  if (it == conversations_.end()) return;
  const json& path = it->second->path();
  for (const auto& [other, conversation] : conversations_) {
    const json& p = conversation->path();
    if (p.size() >= path.size() && std::equal(path.begin(), path.end(), p.begin())) conversation->scope()->cancel(loop_, error);
  }
}

std::size_t Session::append(Conversation& conversation, json message, std::vector<Tag> tags) {
  json tag_list = json::array();
  for (const Tag& tag : tags) tag_list.push_back(json{{"id", tag.id}, {"description", tag.description}});
  const std::size_t index = conversation.append(std::move(message), std::move(tags));
  // The event lends the conversation's own message, so a long answer is not copied to announce it.
  json fields{{"index", index}, {"message", nullptr}, {"tags", std::move(tag_list)}};
  LentMessage lent(conversation, index, fields["message"]);
  observe::emit_observed_borrowing(loop_, setup_.tree.get(), run_, "message-appended", fields, conversation.path());
  return index;
}

Task<json> Session::until_ended() {
  co_await EndAwaiter{*this};
  co_return json{{"ended", true}};
}

const std::string& Session::model_ref(const std::string& key, const std::string& where) const {
  auto it = models_.find(key);
  if (it != models_.end()) return it->second;
  std::string bound;
  for (const auto& [name, ref] : models_) bound += (bound.empty() ? "" : ", ") + name;
  throw ProtocolError(where + ": model key \"" + key + "\" is not bound (bound keys: " + bound + ")");
}

void Session::emit(const Conversation& conversation, json event) const {
  event["path"] = conversation.path();
  observe::emit_observed(loop_, setup_.tree.get(), run_, std::move(event));
}

std::shared_ptr<Conversation> Session::find(const json& message, const std::string& where) const {
  const std::uint64_t id = protocol::require_id(message, "conversation", where);
  auto it = conversations_.find(id);
  if (it == conversations_.end()) throw ProtocolError(where + ": run " + std::to_string(run_) + " has no open conversation " + std::to_string(id));
  return it->second;
}

void Session::handle(const json& command_id, const std::string& verb, const json& message) {
  const std::string where = where_of(verb);
  if (ended_) throw ProtocolError(where + ": run " + std::to_string(run_) + " has ended");
  std::shared_ptr<Conversation> conversation = find(message, where);
  Conversation& c = *conversation;
  if (c.cancelled() && verb != "end") {
    loop_.emit(protocol::reply_error(command_id, c.scope()->error()));  // a branch its group cancelled
    return;
  }
  // The run's timeout (or a duration budget) passed, or it was aborted: the agent's code goes on
  // in the host, but each later directive fails with that, as an abort makes them.
  if (const protocol::WireError* cancelled = loop_.run_cancel_error(run_); cancelled && verb != "end") {
    loop_.emit(protocol::reply_error(command_id, *cancelled));
    return;
  }
  json value = json::object();
  if (verb == "append") {
    const std::size_t index = append(c, checked_message(message, where), checked_tags(message, where));
    value = json{{"index", index}};
  } else if (verb == "reply") {
    start_reply(command_id, std::move(conversation), message);
    return;  // replied when the model is done
  } else if (verb == "call") {
    start_call(command_id, std::move(conversation), message);
    return;  // replied when the tool is done
  } else if (verb == "model.push") {
    const std::string key = require_field(message, "key", value_t::string, where).get<std::string>();
    model_ref(key, where);  // refuses an unbound key now rather than at the next reply
    const std::uint64_t handle = next_handle_++;
    c.push_model(ModelPush{handle, key});
    emit(c, json{{"type", "model-pushed"}, {"key", key}, {"handle", handle}});
    value = json{{"handle", handle}, {"key", key}};
  } else if (verb == "model.pop") {
    const std::uint64_t handle = protocol::require_id(message, "handle", where);
    auto key = c.pop_model(handle);
    if (!key)
      throw protocol::config_error(where + ": model handle " + std::to_string(handle) + " is not on this conversation's stack (already popped?)");
    emit(c, json{{"type", "model-popped"}, {"key", *key}, {"handle", handle}});
    value = json{{"key", *key}};
  } else if (verb == "tool.enable") {
    value = enable_tool(c, message);
    publish_tools(c);
  } else if (verb == "tool.disable") {
    const std::string name = require_field(message, "name", value_t::string, where).get<std::string>();
    if (!c.disable_tool(name))
      throw protocol::config_error(where + ": tool \"" + name + "\" is not enabled in this conversation (already disabled?)");
    publish_tools(c);
    emit(c, json{{"type", "tool-disabled"}, {"name", name}});
    value = json{{"name", name}};
  } else if (verb == "branch") {
    value = open_branch(c, message);
  } else if (verb == "group") {
    value = open_group(c, message);
  } else if (verb == "group.wait") {
    const std::uint64_t id = protocol::require_id(message, "group", where);
    auto it = groups_.find(id);
    if (it == groups_.end()) throw ProtocolError(where + ": run " + std::to_string(run_) + " has no branch group " + std::to_string(id));
    auto group = it->second;
    group->wait(command_id);
    if (group->complete()) groups_.erase(it);
    return;  // replied when the group is decided
  } else if (verb == "end") {
    end_conversation(command_id, conversation, message);
  } else if (verb == "messages") {
    value = read_messages(c, message);
  } else if (verb == "mark") {
    value = json{{"position", c.size()}};
  } else if (verb == "emit") {
    json event{{"type", "emitted"}, {"value", message.contains("value") ? message["value"] : json()}};
    if (message.contains("name") && message["name"].is_string()) event["name"] = message["name"];  // L.event(name, data)
    emit(c, std::move(event));
  } else {
    throw ProtocolError("unknown command type \"conversation." + verb + "\" (expected conversation. followed by one of " + kVerbs + ")");
  }
  loop_.emit(protocol::reply_ok(command_id, std::move(value)));
}

void Session::end_conversation(const json&, const std::shared_ptr<Conversation>& conversation, const json& message) {
  const std::string where = "conversation.end";
  const bool ok = require_field(message, "ok", value_t::boolean, where).get<bool>();
  const json error = message.contains("error") ? message["error"] : json();
  // The agent's own error message, for the events of the branch or the run that it ended.
  const auto failure_text = [&error](const char* fallback) {
    return error.is_object() && error.contains("message") && error["message"].is_string() ? error["message"].get<std::string>()
           : error.is_string()                                                            ? error.get<std::string>()
                                                                                          : std::string(fallback);
  };
  if (conversation->id() != 0) {
    const json value = message.contains("value") ? message["value"] : json();
    if (ok)
      emit(*conversation, json{{"type", "branch-returned"}, {"value", value}});
    else
      emit(*conversation, json{{"type", "branch-threw"}, {"error", error}});
    conversations_.erase(conversation->id());
    scope_entries_.erase(conversation->id());
    if (auto member = members_.find(conversation->id()); member != members_.end()) {
      Member m = std::move(member->second);
      members_.erase(member);
      m.group->ended(m.index, ok ? std::optional<json>(value) : std::nullopt,
                     WireError{"callback", failure_text("the branch threw"), json::object()});
    }
    return;
  }
  // The root ended: the run is over. Branches still open (a host that did not end them) go too.
  if (observation_) {
    if (ok)
      observation_->finished(nullptr);
    else
      observation_->failed(WireError{"callback", failure_text("the agent failed"), json::object()});
  }
  ended_ = true;
  conversations_.clear();
  scope_entries_.clear();
  // Groups still waiting for members that will never end settle now (their drivers finish).
  for (auto& [id, group] : groups_) group->abandon();
  for (auto& [id, member] : members_) member.group->abandon();
  groups_.clear();
  members_.clear();
  if (end_waiter_) loop_.schedule(std::exchange(end_waiter_, {}));
}

void Session::start_reply(const json& command_id, std::shared_ptr<Conversation> conversation, const json& message) {
  const std::string where = "conversation.reply";
  protocol::FieldReader fields(message, where);
  fields.only({"type",     "id",          "run",         "conversation", "requestId",       "schema",     "check",          "onStepFinish",
               "stopWhen", "prepareStep", "activeTools", "maxSteps",     "maxRetries",      "params",     "repairToolCall", "toolCallConcurrency",
               "onStart",  "onStepStart", "onStepError", "toolOrder",    "refineToolInput", "refineTools"},
              "field");
  fields.integer("maxSteps", 1, 1000);
  fields.integer("toolCallConcurrency", 1, 1000000);
  fields.optional_string("check");
  fields.optional_string("onStepFinish");
  fields.optional_string("stopWhen");
  fields.optional_string("prepareStep");
  fields.optional_string("repairToolCall");
  for (const char* callback : {"onStart", "onStepStart", "onStepError", "refineToolInput"}) fields.optional_string(callback);
  for (const char* field : {"activeTools", "toolOrder", "refineTools"}) {
    if (!fields.has(field)) continue;
    const auto tools = env_of(*conversation).tools;
    for (const auto& name : fields.strings(field))
      if (!tools->find(name)) throw protocol::config_error(where + ": " + field + " names tool " + protocol::unknown_tool(name, tools->names()));
  }
  fields.integer("maxRetries", 0, 100);
  fields.optional_object("params");
  if (fields.has("schema")) {
    try {
      schema::Validator check(message["schema"]);
    } catch (const schema::SchemaError& e) {
      throw ProtocolError(where + ": \"schema\" is not a valid JSON Schema: " + e.what());
    }
  }
  model_ref(conversation->current_model(), where);  // an unbound key fails now, with the bound ones listed
  ReplySender send = [loop = &loop_, conversation](json& done) { send_reply(*loop, *conversation, done); };
  loop_.spawn(reply_when_done(loop_, command_id, reply(shared_from_this(), conversation, message), {}, std::move(send)));
}

// L.call: one of the conversation's tools, called by the agent itself (not the model), through the
// tool's whole chain (guards, approval, retry, cache ...). Arguments are checked against its schema.
void Session::start_call(const json& command_id, std::shared_ptr<Conversation> conversation, const json& message) {
  const std::string where = "conversation.call";
  protocol::FieldReader fields(message, where);
  fields.only({"type", "id", "run", "conversation", "name", "args"}, "field");
  const std::string name = fields.string("name");
  std::shared_ptr<const pipeline::ToolBox> tools = conversation->tools();
  const pipeline::ToolBox::Entry* entry = tools->find(name);
  if (!entry) {
    const auto names = tools->names();
    std::string text = where + ": tool \"" + name + "\" is not enabled in this conversation (";
    if (auto guess = protocol::nearest(name, names)) text += "did you mean \"" + *guess + "\"? ";
    throw protocol::config_error(text + "enabled: " + (names.empty() ? std::string("none") : protocol::joined(names)) + ")");
  }
  json args = message.contains("args") ? message["args"] : json::object();
  const auto checked = entry->spec.validator->validate(args);
  if (!checked.valid) {
    loop_.emit(
        protocol::reply_error(command_id, WireError{"validation", "L.call: invalid arguments for tool \"" + name + "\": " + schema::describe(checked),
                                                    json{{"errors", schema::issues_json(checked)}}}));
    return;
  }
  json context{
      {"conversation", conversation->id()}, {"toolCallId", "call-" + std::to_string(next_call_++)}, {"toolName", name}, {"stepNumber", nullptr}};
  loop_.spawn(reply_when_done(loop_, command_id,
                              call_tool(shared_from_this(), std::move(conversation), std::move(tools), name, std::move(args), std::move(context))));
}

Task<json> Session::call_tool(std::shared_ptr<Session> self, std::shared_ptr<Conversation> conversation,
                              std::shared_ptr<const pipeline::ToolBox> tools, std::string name, json args, json context) {
  pipeline::CallEnv env = self->env_of(*conversation);
  env.tools = tools;  // the box the tool was found in, even if the agent changes its tools meanwhile
  co_return co_await tools->find(name)->chain->call(pipeline::tool_call(env, name, std::move(args), std::move(context)));
}

json Session::enable_tool(Conversation& c, const json& message) {
  const std::string where = "conversation.tool.enable";
  json wire = json::object();
  for (const char* field : {"name", "description", "parameters", "callback", "options"})
    if (message.contains(field)) wire[field] = message[field];
  agent::ToolSpec tool;
  try {
    tool = agent::parse_tool(wire, where);
  } catch (const prompt::DefinitionError& e) {
    throw protocol::config_error(where + ": " + e.what());
  }
  auto chain = pipeline::build_chain(pipeline::Target{pipeline::CallKind::Tool, &tool, tool.options, setup_.settings, *setup_.tree});
  const std::string name = tool.name;
  c.enable_tool(pipeline::ToolBox::Entry{std::move(tool), std::move(chain)});
  emit(c, json{{"type", "tool-enabled"}, {"name", name}});
  return json{{"name", name}};
}

json Session::open_branch(Conversation& c, const json& message) {
  const std::string where = "conversation.branch";
  const std::string name = require_field(message, "name", value_t::string, where).get<std::string>();
  if (name.empty()) throw ProtocolError(where + ": \"name\" (the branch's path segment) must not be empty");
  const bool fresh = message.contains("fresh") && require_field(message, "fresh", value_t::boolean, where).get<bool>();
  std::shared_ptr<BranchGroup> group;
  std::size_t member = 0;
  if (message.contains("group")) {
    auto it = groups_.find(protocol::require_id(message, "group", where));
    if (it == groups_.end()) throw ProtocolError(where + ": no open branch group " + message["group"].dump());
    group = it->second;
    member = static_cast<std::size_t>(protocol::require_id(message, "member", where));
    if (member >= group->spec().tasks.size() || group->spec().tasks[member] != name)
      throw ProtocolError(where + ": group " + message["group"].dump() + " has no member " + std::to_string(member) + " named \"" + name + "\"");
  }
  auto child = c.branch(next_conversation_++, name, fresh);
  if (group && !group->join(member, child->id()))
    throw ProtocolError(where + ": member " + std::to_string(member) + " of group " + message["group"].dump() + " was already opened");
  conversations_.emplace(child->id(), child);
  scope_entries_.emplace(child->id(), std::make_unique<pipeline::CancelScopeEntry>(*setup_.tree, run_, child->path(), child->scope()));
  if (group) {
    members_.emplace(child->id(), Member{group, member});
    if (group->complete()) groups_.erase(group->id());
  }
  emit(*child, json{{"type", "branch-started"}});
  return json{{"conversation", child->id()}, {"path", child->path()}};
}

// L.branch(agents, options): the group of the branches about to open, aggregated by the engine.
json Session::open_group(const Conversation& c, const json& message) {
  const std::string where = "conversation.group";
  protocol::FieldReader fields(message, where);
  fields.only({"type", "id", "run", "conversation", "branches", "aggregation", "minSuccess", "timeout", "compare", "judge"}, "field");
  std::vector<std::string> names = fields.strings("branches");
  if (names.empty()) fields.fail("\"branches\" must name at least one branch");
  for (std::size_t i = 0; i < names.size(); ++i)
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) != names.begin() + static_cast<std::ptrdiff_t>(i))
      fields.fail("branch \"" + names[i] + "\" is named twice");
  flow::AggregationSpec spec = flow::read_aggregation(fields, std::move(names), "L.branch", "");
  const double timeout_ms = fields.ms("timeout").value_or(0);
  auto group = std::make_shared<BranchGroup>(next_group_++, std::move(spec), timeout_ms);
  groups_.emplace(group->id(), group);
  group->start(shared_from_this(), env_of(c));
  return json{{"group", group->id()}};
}

void Session::publish_tools(const Conversation& c) {
  if (c.id() != 0) return;  // a branch's tools are its own replies'
  if (root_tools_)
    root_tools_->update(c.tools());
  else
    root_tools_ = std::make_unique<flow::RunToolsEntry>(*setup_.tree, run_, c.tools(), json{{"conversation", c.id()}});
}

json Session::read_messages(const Conversation& c, const json& message) const {
  const std::string where = "conversation.messages";
  MessageFilter filter;
  filter.tag = protocol::FieldReader(message, where).optional_string("tag", true).value_or("");
  filter.from = optional_position(message, "from", where, 0);
  filter.to = optional_position(message, "to", where, filter.to);
  return json{{"messages", c.messages(filter)}};
}

// ----------------------------------------------------------------------------------------- Sessions

Task<json> Sessions::open(Loop& loop, RunId run, const json& spec, std::shared_ptr<pipeline::RunTree> tree, policy::HumanDesk& desk) {
  const std::string where = "run.start spec (conversation)";
  protocol::FieldReader fields(spec, where);
  fields.only({"kind", "models", "definitions", "limits", "retry", "fallback", "circuitBreaker", "options", "host", "seed", "parentRun", "storage",
               "sessionId", "agent", "cache", "observe", "role", "events", "providerOptions"},
              "field");
  observe::check_observe_spec(spec, where);
  // run(agent, {events: false}): the host keeps no events, so none is sent.
  if (fields.optional_bool("events") == false) loop.mute_run_events(run);
  const json& models = fields.object_field("models");
  std::map<std::string, std::string> bound;
  for (const auto& [key, ref] : models.items()) {
    if (key.empty()) throw ProtocolError(where + ": model keys must not be empty");
    if (!ref.is_string() || ref.get<std::string>().empty())
      throw ProtocolError(where + ": models[\"" + key + "\"] must be a non-empty model reference string, got " + ref.dump());
    bound.emplace(key, ref.get<std::string>());
  }
  if (!bound.count("default")) {
    std::string keys;
    for (const auto& [key, ref] : bound) keys += (keys.empty() ? "" : ", ") + key;
    throw ProtocolError(where + ": models must bind the key \"default\" (bound keys: " + (keys.empty() ? "none" : keys) + ")");
  }
  std::optional<protocol::FieldReader> options;
  if (const json* o = fields.optional_object("options")) {
    options.emplace(*o, where + ": options");
    options->only({"maxRetries", "streamRetries", "timeoutMs", "timeoutSpentMs", "modelTimeoutMs", "toolTimeoutMs"});
  }
  SessionSetup setup{tree, &desk, fields.optional_string("host", true).value_or(""),
                     agent::parse_run_settings(fields, options ? &*options : nullptr)};
  const agent::RunTimeout timeout{options ? options->ms("timeoutMs").value_or(0) : 0, options ? options->ms("timeoutSpentMs").value_or(0) : 0};
  const std::string default_model = bound.at("default");
  // A directive run's role (run(agent, {role}) or L.role) covers all its conversations; its tools are
  // enabled one by one later, so a role's tool lists are not checked against them.
  if (auto role = fields.optional_string("role")) prompt::assume_role(*tree, run, *role);
  auto session = std::make_shared<Session>(loop, run, std::move(bound), std::move(setup));
  session->observe(spec, default_model);
  sessions_[run] = session;
  agent::set_run_deadline(loop, run, timeout, *tree);
  return body(run, std::move(session));
}

Task<json> Sessions::body(RunId run, std::shared_ptr<Session> session) {
  json result = co_await session->until_ended();
  sessions_.erase(run);
  // The run's dirty persisted states (a cancelled run cannot save).
  pipeline::CallEnv env = session->root_env();
  if (!env.cancelled()) co_await state::save_at_end(env);
  // An agent that caught the timeout and returned still ran out of time.
  if (const protocol::WireError* cancelled = session->loop().run_cancel_error(run)) throw OpFailed(*cancelled);
  co_return result;
}

void Sessions::handle(const json& command_id, const std::string& type, const json& message) {
  const std::string verb = type.substr(std::string("conversation.").size());
  const RunId run = protocol::require_id(message, "run", type);
  auto it = sessions_.find(run);
  if (it == sessions_.end())
    throw ProtocolError(type + ": no directive run with id " + std::to_string(run) + " (start one with run.start {spec: {kind: \"conversation\"}})");
  std::shared_ptr<Session> session = it->second;  // the command may end the run
  session->handle(command_id, verb, message);
}

}  // namespace lmthing::directive
