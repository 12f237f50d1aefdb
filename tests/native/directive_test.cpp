// Directive runs (Liminal-style conversations): the engine half of run(agent), driven command by
// command the way the JS driver does, with ops answered by hand.
#include <catch2/catch.hpp>

#include "agent/content.hpp"
#include "prompt_script.hpp"
#include "scripted_host.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

json text_response(const std::string& text) {
  json part{{"type", "text"}, {"text", text}};
  json content = json::array();
  content.push_back(part);
  return {{"content", content}, {"finishReason", "stop"}, {"usage", {{"inputTokens", 1}, {"outputTokens", 2}, {"totalTokens", 3}}}};
}

json tool_call_response(const std::string& id, const std::string& name, json args) {
  json part{{"type", "tool-call"}, {"toolCallId", id}, {"toolName", name}, {"args", std::move(args)}};
  json content = json::array();
  content.push_back(part);
  return {{"content", content}, {"finishReason", "tool-calls"}, {"usage", json::object()}};
}

json user(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

// An engine driven one turn at a time: each command or op completion is its own batch.
struct Rig {
  ScriptedHost host;
  Engine engine{host};
  int next_id = 1000;
  std::size_t ops_seen = 0;
  static constexpr RunId kRun = 7;

  void deliver(const json& message) { REQUIRE(engine.loop().turn("0\n" + message.dump())); }

  // Sends a command and returns its reply if the engine already sent one.
  std::optional<json> send(json message) {
    const int id = next_id++;
    message["id"] = id;
    deliver(message);
    for (const auto& e : host.events)
      if (e["type"] == "reply" && e["id"] == id) return e;
    return std::nullopt;
  }

  std::optional<json> reply_to(int id) const {
    for (const auto& e : host.events)
      if (e["type"] == "reply" && e["id"] == id) return e;
    return std::nullopt;
  }

  // A command on conversation `conv` of the run; requires a successful, immediate reply.
  json ok(const std::string& verb, std::uint64_t conv, json fields = json::object()) {
    fields["type"] = "conversation." + verb;
    fields["run"] = kRun;
    fields["conversation"] = conv;
    auto r = send(fields);
    REQUIRE(r.has_value());
    INFO((*r).dump());
    REQUIRE((*r)["ok"] == true);
    return (*r)["value"];
  }

  json error(const std::string& verb, std::uint64_t conv, json fields = json::object()) {
    fields["type"] = "conversation." + verb;
    fields["run"] = kRun;
    fields["conversation"] = conv;
    auto r = send(fields);
    REQUIRE(r.has_value());
    REQUIRE((*r)["ok"] == false);
    return (*r)["error"];
  }

  void start(json models = json{{"default", "m:default"}, {"fast", "m:fast"}}) {
    deliver(json{{"type", "run.start"}, {"id", kRun}, {"spec", {{"kind", "conversation"}, {"models", models}}}});
  }

  // The host's copy of each conversation, by id: a model call sends only what the host lacks.
  std::map<std::uint64_t, HostConversation> copies;

  // Ops started since the last call; a model call with the full `messages` its model would get.
  std::vector<json> new_ops() {
    std::vector<json> out;
    for (; ops_seen < host.started.size(); ++ops_seen) {
      const json& op = host.started[ops_seen];
      out.push_back(op.contains("conversation") ? copies[op["conversation"]["id"].get<std::uint64_t>()].request(op) : op);
    }
    return out;
  }

  void complete(const json& op, json value) {
    if (op.contains("conversation")) copies[op["conversation"]["id"].get<std::uint64_t>()].answered(op, value);
    deliver(json{{"type", "op.done"}, {"id", op["id"]}, {"ok", true}, {"value", std::move(value)}});
  }

  // Starts a reply on `conv`, answers its model calls from `responses` and returns the reply event.
  json reply(std::uint64_t conv, std::vector<json> responses, json fields = json::object()) {
    fields["type"] = "conversation.reply";
    fields["run"] = kRun;
    fields["conversation"] = conv;
    const int id = next_id;
    send(fields);
    for (auto& response : responses) {
      auto ops = new_ops();
      REQUIRE(ops.size() == 1);
      REQUIRE(ops[0]["op"] == "model.generate");
      complete(ops[0], response);
    }
    auto r = reply_to(id);
    REQUIRE(r.has_value());
    return *r;
  }

  std::vector<json> run_events() const {
    std::vector<json> out;
    for (const auto& e : host.events)
      if (e["type"] == "run.event") out.push_back(e["event"]);
    return out;
  }

  json messages(std::uint64_t conv, json filter = json::object()) { return ok("messages", conv, std::move(filter))["messages"]; }
};

std::vector<std::string> texts(const json& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m["content"].is_string() ? m["content"].get<std::string>() : m["content"].dump());
  return out;
}

}  // namespace

TEST_CASE("a reply sends the conversation to the top model and appends the answer", "[directive]") {
  Rig rig;
  rig.start();
  rig.ok("append", 0, {{"message", {{"role", "system"}, {"content", "Be brief."}}}});
  rig.ok("append", 0, {{"message", user("Hi")}});
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}, {"requestId", 5}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["op"] == "model.generate");
  CHECK(ops[0]["model"] == "m:default");
  CHECK(ops[0]["step"] == 5);
  CHECK(ops[0]["run"] == Rig::kRun);
  REQUIRE(ops[0]["messages"].size() == 2);
  CHECK(ops[0]["messages"][1] == user("Hi"));
  rig.complete(ops[0], text_response("Hello."));

  auto reply = rig.reply_to(rig.next_id - 1);
  REQUIRE(reply.has_value());
  CHECK((*reply)["ok"] == true);
  CHECK(agent::text_of((*reply)["value"]["message"]["content"]) == "Hello.");
  CHECK_FALSE((*reply)["value"].contains("text"));
  CHECK((*reply)["value"]["index"] == 2);
  CHECK((*reply)["value"]["message"]["role"] == "assistant");
  CHECK(texts(rig.messages(0)).size() == 3);
}

TEST_CASE("message-appended lends the conversation its message: the event has it and the conversation keeps it", "[directive]") {
  Rig rig;
  rig.start();
  const std::string question(40000, 'q');
  const std::string answer = std::string(70000, 'a') + " \u00e9 end";
  rig.ok("append", 0, {{"message", user(question)}, {"tags", json::array({{{"id", "t1"}, {"description", "the question"}}})}});
  json reply = rig.reply(0, {text_response(answer)});
  REQUIRE(reply["ok"] == true);
  CHECK(reply["value"]["message"]["content"][0]["text"] == answer);

  std::vector<json> appended;
  for (const auto& e : rig.run_events())
    if (e["type"] == "message-appended") appended.push_back(e);
  REQUIRE(appended.size() == 2);
  CHECK(appended[0]["index"] == 0);
  CHECK(appended[0]["message"] == user(question));
  CHECK(appended[0]["tags"] == json::array({{{"id", "t1"}, {"description", "the question"}}}));
  CHECK(appended[0]["path"] == json::array({"root"}));
  CHECK(appended[1]["index"] == 1);
  CHECK(agent::text_of(appended[1]["message"]["content"]) == answer);

  // After lending, the conversation still holds both messages, tags and all, and a branch copies them.
  json messages = rig.messages(0);
  REQUIRE(messages.size() == 2);
  CHECK(messages[0]["content"] == question);
  CHECK(messages[0]["tags"][0]["id"] == "t1");
  CHECK(agent::text_of(messages[1]["content"]) == answer);
  const auto child = rig.ok("branch", 0, {{"name", "copy"}})["conversation"].get<std::uint64_t>();
  json copied = rig.messages(child);
  REQUIRE(copied.size() == 2);
  CHECK(agent::text_of(copied[1]["content"]) == answer);
  CHECK(rig.messages(0, {{"tag", "t1"}}).size() == 1);
  // The next model call gets the conversation as it was.
  rig.ok("append", 0, {{"message", user("more")}});
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  REQUIRE(ops[0]["messages"].size() == 3);
  CHECK(ops[0]["messages"][0] == user(question));
  CHECK(agent::text_of(ops[0]["messages"][1]["content"]) == answer);
}

TEST_CASE("a conversation's model calls send only what the host does not hold yet", "[directive]") {
  Rig rig;
  rig.start();
  rig.ok("append", 0, {{"message", user("one")}});
  rig.reply(0, {text_response("first")});
  rig.ok("append", 0, {{"message", user("two")}});
  rig.reply(0, {text_response("second")});
  const json first = rig.host.started[0];
  const json second = rig.host.started[1];
  CHECK_FALSE(second.contains("messages"));
  CHECK(first["conversation"] == json{{"id", 0}, {"base", 0}, {"append", json::array({user("one")})}});
  // The host appended the model's turn itself: the next call sends the user's message only.
  CHECK(second["conversation"] == json{{"id", 0}, {"base", 2}, {"append", json::array({user("two")})}});

  // A branch starts from a copy the host does not hold: its first call sends everything, under its id.
  const auto child = rig.ok("branch", 0, {{"name", "b"}})["conversation"].get<std::uint64_t>();
  rig.ok("append", child, {{"message", user("three")}});
  rig.reply(child, {text_response("third")});
  const json branched = rig.host.started[2];
  CHECK(branched["conversation"]["id"] == child);
  CHECK(branched["conversation"]["base"] == 0);
  CHECK(texts(branched["conversation"]["append"]).size() == 5);
  // The host's copies, rebuilt from the syncs and its own appends, are the conversations the engine holds.
  for (const std::uint64_t id : {std::uint64_t{0}, child}) {
    json held = rig.messages(id);
    for (auto& m : held) m.erase("tags"), m.erase("index");
    CHECK(rig.copies[id].messages == held);
  }
}

TEST_CASE("each reply's model call is its first attempt: attempts count per step, not per conversation", "[directive]") {
  Rig rig;
  rig.start();
  for (const char* question : {"first?", "second?", "third?"}) {
    rig.ok("append", 0, {{"message", user(question)}});
    REQUIRE(rig.reply(0, {text_response("ok")})["ok"] == true);
  }
  std::vector<json> attempts;
  for (const json& e : rig.run_events())
    if (e["type"] == "model-call") attempts.push_back(e["attempt"]);
  CHECK(attempts == std::vector<json>{1, 1, 1});
}

TEST_CASE("a run started with events: false sends none of its run events; commands, model calls and replies go on", "[directive]") {
  auto converse = [](Rig& rig) {
    rig.ok("append", 0, {{"message", user("first?")}});
    REQUIRE(rig.reply(0, {text_response("one")})["ok"] == true);
    json child = rig.ok("branch", 0, {{"name", "a"}});
    const auto id = child["conversation"].get<std::uint64_t>();
    REQUIRE(rig.reply(id, {text_response("two")})["ok"] == true);
    rig.ok("end", id, {{"ok", true}, {"value", 2}});
    rig.ok("emit", 0, {{"name", "note"}, {"value", 3}});
    CHECK(rig.messages(0).size() == 2);
  };
  Rig quiet;
  quiet.deliver(json{
      {"type", "run.start"}, {"id", Rig::kRun}, {"spec", {{"kind", "conversation"}, {"models", {{"default", "m:default"}}}, {"events", false}}}});
  converse(quiet);
  CHECK(quiet.run_events().empty());
  // The same conversation without the flag: its events are sent.
  Rig loud;
  loud.start();
  converse(loud);
  CHECK(loud.run_events().size() >= 8);
  // Anything but a boolean is refused, naming the field.
  Rig wrong;
  wrong.deliver(
      json{{"type", "run.start"}, {"id", Rig::kRun}, {"spec", {{"kind", "conversation"}, {"models", {{"default", "m:default"}}}, {"events", "no"}}}});
  auto reply = wrong.reply_to(Rig::kRun);
  REQUIRE(reply.has_value());
  CHECK((*reply)["ok"] == false);
  CHECK_THAT((*reply)["error"]["message"].get<std::string>(), Catch::Contains("events") && Catch::Contains("true or false"));
}

TEST_CASE("the model stack: push, pop by handle, and unbound keys listing the bound ones", "[directive]") {
  Rig rig;
  rig.start();
  json pushed = rig.ok("model.push", 0, {{"key", "fast"}});
  rig.ok("append", 0, {{"message", user("q")}});
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["model"] == "m:fast");
  rig.complete(ops[0], text_response("a"));

  CHECK(rig.ok("model.pop", 0, {{"handle", pushed["handle"]}})["key"] == "fast");
  json again = rig.error("model.pop", 0, {{"handle", pushed["handle"]}});
  CHECK_THAT(again["message"].get<std::string>(), Catch::Contains("not on this conversation's stack"));

  json unbound = rig.error("model.push", 0, {{"key", "smart"}});
  CHECK(unbound["kind"] == "protocol");
  CHECK_THAT(unbound["message"].get<std::string>(), Catch::Contains("\"smart\" is not bound (bound keys: default, fast)"));
}

TEST_CASE("a directive run needs a default model", "[directive]") {
  Rig rig;
  rig.deliver(json{{"type", "run.start"}, {"id", 3}, {"spec", {{"kind", "conversation"}, {"models", {{"fast", "m"}}}}}});
  auto reply = rig.reply_to(3);
  REQUIRE(reply.has_value());
  CHECK((*reply)["ok"] == false);
  CHECK_THAT((*reply)["error"]["message"].get<std::string>(), Catch::Contains("must bind the key \"default\" (bound keys: fast)"));
}

TEST_CASE("a branch starts from a copy and nothing merges back", "[directive]") {
  Rig rig;
  rig.start();
  rig.ok("append", 0, {{"message", user("topic")}});
  rig.ok("tool.enable", 0, {{"name", "lookup"}, {"callback", "cb:lookup"}, {"parameters", {{"type", "object"}}}});
  json child = rig.ok("branch", 0, {{"name", "a"}});
  const auto id = child["conversation"].get<std::uint64_t>();
  CHECK(child["path"] == json::array({"root", "a"}));
  CHECK(texts(rig.messages(id)) == std::vector<std::string>{"topic"});

  json fresh = rig.ok("branch", 0, {{"name", "tool"}, {"fresh", true}});
  CHECK(rig.messages(fresh["conversation"].get<std::uint64_t>()).empty());
  rig.ok("end", fresh["conversation"].get<std::uint64_t>(), {{"ok", true}});

  rig.ok("model.push", id, {{"key", "fast"}});
  rig.ok("append", id, {{"message", user("child only")}});
  rig.ok("tool.disable", id, {{"name", "lookup"}});
  rig.ok("end", id, {{"ok", true}, {"value", 1}});

  CHECK(texts(rig.messages(0)) == std::vector<std::string>{"topic"});
  // The parent's stack and tools are untouched: its next reply uses the default model with the tool.
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["model"] == "m:default");
  REQUIRE(ops[0]["tools"].size() == 1);
  CHECK(ops[0]["tools"][0]["name"] == "lookup");
  // A closed branch takes no more commands.
  CHECK_THAT(rig.error("append", id, {{"message", user("x")}})["message"].get<std::string>(), Catch::Contains("no open conversation"));
}

TEST_CASE("parallel branches reply concurrently", "[directive]") {
  Rig rig;
  rig.start();
  std::vector<std::uint64_t> children;
  for (int i = 0; i < 3; ++i) children.push_back(rig.ok("branch", 0, {{"name", std::to_string(i)}})["conversation"].get<std::uint64_t>());
  std::vector<int> ids;
  for (auto c : children) {
    ids.push_back(rig.next_id);
    rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", c}});
  }
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 3);  // all three model calls are in flight at once
  // Answered in reverse order; each reply gets its own answer.
  for (int i = 2; i >= 0; --i) rig.complete(ops[static_cast<std::size_t>(i)], text_response("answer " + std::to_string(i)));
  for (int i = 0; i < 3; ++i)
    CHECK(agent::text_of(rig.reply_to(ids[static_cast<std::size_t>(i)]).value()["value"]["message"]["content"]) == "answer " + std::to_string(i));
}

TEST_CASE("tool calls made by the model run inside the reply", "[directive]") {
  Rig rig;
  rig.start();
  json params{{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}, {"required", json::array({"city"})}};
  rig.ok("tool.enable", 0, {{"name", "weather"}, {"description", "Weather"}, {"callback", "cb:weather"}, {"parameters", params}});
  rig.ok("append", 0, {{"message", user("Weather in Paris?")}});
  const int id = rig.next_id;
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  rig.complete(ops[0], tool_call_response("c1", "weather", {{"city", "Paris"}}));
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["op"] == "callback.invoke");
  CHECK(ops[0]["fn"] == "cb:weather");
  CHECK(ops[0]["args"][0] == json{{"city", "Paris"}});
  CHECK(ops[0]["args"][1]["conversation"] == 0);
  rig.complete(ops[0], json{{"celsius", 21}});
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  REQUIRE(ops[0]["messages"].size() == 3);
  CHECK(ops[0]["messages"][2]["role"] == "tool");
  CHECK(ops[0]["messages"][2]["content"][0]["result"] == json{{"celsius", 21}});
  rig.complete(ops[0], text_response("21 C"));
  CHECK(agent::text_of(rig.reply_to(id).value()["value"]["message"]["content"]) == "21 C");
  CHECK(rig.messages(0).size() == 4);

  // A call with bad arguments goes back to the model, not to the tool.
  const int id2 = rig.next_id;
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  rig.complete(rig.new_ops()[0], tool_call_response("c2", "weather", {{"town", "Paris"}}));
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["op"] == "model.generate");
  const json& result = ops[0]["messages"].back()["content"][0];
  CHECK(result["isError"] == true);
  CHECK_THAT(result["result"]["error"].get<std::string>(), Catch::Contains("Invalid arguments for tool \"weather\""));
  rig.complete(ops[0], text_response("sorry"));
  CHECK(rig.reply_to(id2).value()["ok"] == true);
}

TEST_CASE("a reply's activeTools and its prepareStep's changes shape each step; unknown tools are refused", "[directive]") {
  Rig rig;
  rig.start();
  json params{{"type", "object"}, {"properties", json::object()}};
  rig.ok("tool.enable", 0, {{"name", "look"}, {"description", "Looks"}, {"callback", "cb:look"}, {"parameters", params}});
  rig.ok("tool.enable", 0, {{"name", "note"}, {"description", "Notes"}, {"callback", "cb:note"}, {"parameters", params}});
  rig.ok("append", 0, {{"message", user("Look.")}});
  CHECK_THAT(rig.error("reply", 0, {{"activeTools", {"lok"}}})["message"].get<std::string>(),
             Catch::Contains("activeTools names tool \"lok\" (did you mean \"look\"?"));
  const int id = rig.next_id;
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}, {"activeTools", {"look"}}, {"prepareStep", "cb:prep"}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["fn"] == "cb:prep");
  CHECK(ops[0]["args"][0]["stepNumber"] == 0);
  rig.complete(ops[0], nullptr);  // no change: the reply's activeTools
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  REQUIRE(ops[0]["op"] == "model.generate");
  REQUIRE(ops[0]["tools"].size() == 1);
  CHECK(ops[0]["tools"][0]["name"] == "look");
  rig.complete(ops[0], tool_call_response("c1", "look", json::object()));
  rig.complete(rig.new_ops().at(0), json("seen"));  // the tool
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["args"][0]["stepNumber"] == 1);
  rig.complete(ops[0], json{{"activeTools", {"note"}}, {"system", "Be brief."}});
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  CHECK(ops[0]["tools"][0]["name"] == "note");
  CHECK(ops[0]["system"] == "Be brief.");
  rig.complete(ops[0], text_response("done"));
  CHECK(rig.reply_to(id).value()["ok"] == true);

  // A prepareStep naming a tool the conversation has not enabled fails the reply, naming it.
  const int bad = rig.next_id;
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}, {"prepareStep", "cb:prep"}});
  rig.complete(rig.new_ops().at(0), json{{"activeTools", {"nope"}}});
  CHECK_THAT(rig.reply_to(bad).value()["error"]["message"].get<std::string>(),
             Catch::Contains("prepareStep: \"activeTools\" names unknown tool \"nope\" (did you mean \"note\"?"));
}

TEST_CASE("a structured reply is validated and retried with the validator's message", "[directive]") {
  Rig rig;
  rig.start();
  json schema{{"type", "object"}, {"properties", {{"n", {{"type", "number"}}}}}, {"required", json::array({"n"})}};
  rig.ok("append", 0, {{"message", user("a number")}});
  json ok = rig.reply(0, {text_response("{\"n\": \"one\"}"), text_response("```json\n{\"n\": 1}\n```")}, {{"schema", schema}});
  REQUIRE(ok["ok"] == true);
  CHECK(ok["value"]["value"] == json{{"n", 1}});
  const json all = rig.messages(0);
  REQUIRE(all.size() == 4);
  CHECK(all[2]["role"] == "user");
  CHECK_THAT(all[2]["content"].get<std::string>(), Catch::Contains("/n: must be number"));
  // The model was asked with the schema as response format.
  CHECK(rig.host.started.back()["responseFormat"]["schema"] == schema);

  json bad = rig.reply(0, {text_response("nope"), text_response("{}")}, {{"schema", schema}, {"maxRetries", 1}});
  REQUIRE(bad["ok"] == false);
  CHECK(bad["error"]["kind"] == "validation");
  CHECK_THAT(bad["error"]["message"].get<std::string>(), Catch::Contains("must have required property 'n'"));
  CHECK(bad["error"]["errors"].size() == 1);

  json not_schema = rig.error("reply", 0, {{"schema", {{"type", "nonsense"}}}});
  CHECK_THAT(not_schema["message"].get<std::string>(), Catch::Contains("\"schema\" is not a valid JSON Schema"));
}

TEST_CASE("tags and marks select messages", "[directive]") {
  Rig rig;
  rig.start();
  rig.ok("append", 0, {{"message", user("one")}});
  const auto mark = rig.ok("mark", 0)["position"].get<std::size_t>();
  rig.ok("append", 0, {{"message", user("two")}, {"tags", json::array({json{{"id", "t1"}, {"description", "draft"}}})}});
  rig.ok("append", 0, {{"message", user("three")}});
  const auto end = rig.ok("mark", 0)["position"].get<std::size_t>();
  rig.ok("append", 0, {{"message", user("four")}});
  CHECK(texts(rig.messages(0, {{"tag", "t1"}})) == std::vector<std::string>{"two"});
  CHECK(texts(rig.messages(0, {{"from", mark}, {"to", end}})) == std::vector<std::string>{"two", "three"});
  CHECK(rig.messages(0, {{"tag", "t1"}})[0]["tags"][0]["description"] == "draft");
  json bad = rig.error("append", 0, {{"message", user("x")}, {"tags", json::array({5})}});
  CHECK_THAT(bad["message"].get<std::string>(), Catch::Contains("each tag must be"));
}

TEST_CASE("events of a nested branch carry their paths, in order", "[directive]") {
  Rig rig;
  rig.start();
  rig.ok("append", 0, {{"message", user("go")}});
  auto a = rig.ok("branch", 0, {{"name", "0"}})["conversation"].get<std::uint64_t>();
  auto judge = rig.ok("branch", a, {{"name", "judge"}})["conversation"].get<std::uint64_t>();
  auto pushed = rig.ok("model.push", judge, {{"key", "fast"}});
  rig.reply(judge, {text_response("verdict")});
  rig.ok("model.pop", judge, {{"handle", pushed["handle"]}});
  rig.ok("emit", judge, {{"value", {{"score", 3}}}});
  rig.ok("end", judge, {{"ok", true}, {"value", "verdict"}});
  rig.ok("end", a, {{"ok", false}, {"error", {{"message", "boom"}}}});
  rig.ok("end", 0, {{"ok", true}});

  std::vector<std::string> seen;
  for (const auto& e : rig.run_events()) {
    std::string path;
    for (const auto& segment : e["path"]) path += "/" + segment.get<std::string>();
    seen.push_back(e["type"].get<std::string>() + " " + path);
  }
  CHECK(seen == std::vector<std::string>{
                    "run-start /root",
                    "message-appended /root",
                    "branch-started /root/0",
                    "branch-started /root/0/judge",
                    "model-pushed /root/0/judge",
                    "step-start /root/0/judge",
                    "model-call /root/0/judge",
                    "message-appended /root/0/judge",
                    "step-finish /root/0/judge",
                    "model-popped /root/0/judge",
                    "emitted /root/0/judge",
                    "branch-returned /root/0/judge",
                    "branch-threw /root/0",
                    "run-finish /root",
                });
  // Ending the root ends the run.
  auto done = rig.reply_to(Rig::kRun);
  REQUIRE(done.has_value());
  CHECK(done.value()["ok"] == true);
  CHECK(rig.engine.active_runs() == 0);
  json after = rig.send({{"type", "conversation.mark"}, {"run", Rig::kRun}, {"conversation", 0}}).value();
  CHECK_THAT(after["error"]["message"].get<std::string>(), Catch::Contains("no directive run with id 7"));
}

TEST_CASE("malformed conversation commands are refused with what was expected", "[directive]") {
  Rig rig;
  rig.start();
  CHECK_THAT(rig.error("frobnicate", 0)["message"].get<std::string>(), Catch::Contains("unknown command type \"conversation.frobnicate\""));
  CHECK_THAT(rig.error("append", 0, {{"message", {{"role", "robot"}, {"content", "x"}}}})["message"].get<std::string>(),
             Catch::Contains("role must be system, user, assistant or tool"));
  CHECK_THAT(rig.error("append", 9, {{"message", user("x")}})["message"].get<std::string>(), Catch::Contains("has no open conversation 9"));
  CHECK_THAT(rig.error("branch", 0, {{"name", ""}})["message"].get<std::string>(), Catch::Contains("must not be empty"));
  CHECK_THAT(rig.error("tool.enable", 0, {{"name", "t"}, {"callback", "cb"}, {"parameters", {{"type", 5}}}})["message"].get<std::string>(),
             Catch::Contains("not a valid JSON Schema"));
  CHECK_THAT(rig.error("tool.disable", 0, {{"name", "t"}})["message"].get<std::string>(), Catch::Contains("\"t\" is not enabled"));
  // The run is still usable.
  rig.ok("append", 0, {{"message", user("still here")}});
}

TEST_CASE("a cancelled directive run fails its model call with aborted", "[directive]") {
  Rig rig;
  rig.start();
  const int id = rig.next_id;
  rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  REQUIRE(rig.new_ops().size() == 1);
  rig.send({{"type", "run.cancel"}, {"run", Rig::kRun}});
  auto r = rig.reply_to(id);
  REQUIRE(r.has_value());
  CHECK(r.value()["error"]["kind"] == "aborted");
  rig.ok("end", 0, {{"ok", false}});
  CHECK(rig.engine.active_runs() == 0);
}

TEST_CASE("a reply retries a rate-limited model call after Retry-After", "[directive]") {
  Rig rig;
  rig.start();
  rig.ok("append", 0, json{{"message", user("hi")}});
  const int id = rig.next_id;
  rig.send(json{{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", 0}});
  auto ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  rig.deliver(json{{"type", "op.done"},
                   {"id", ops[0]["id"]},
                   {"ok", false},
                   {"error", {{"kind", "rate_limit"}, {"message", "slow down"}, {"retryAfterMs", 41000}}}});
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  REQUIRE(ops[0]["op"] == "timer.sleep");
  REQUIRE(ops[0]["ms"] == 41000);
  rig.complete(ops[0], nullptr);
  ops = rig.new_ops();
  REQUIRE(ops.size() == 1);
  REQUIRE(ops[0]["op"] == "model.generate");
  rig.complete(ops[0], text_response("hello"));
  auto reply = rig.reply_to(id);
  REQUIRE(reply.has_value());
  REQUIRE(agent::text_of((*reply)["value"]["message"]["content"]) == "hello");
}

// ------------------------------------------------------------------- branch groups (L.branch options)

namespace {

struct Group {
  json id;
  std::vector<std::uint64_t> branches;
  std::vector<int> replies;  // the reply command of each branch
  std::vector<json> ops;     // each branch's model op
  int wait = 0;
};

// Opens a group on the root with `options`, one member branch per name, a reply in flight on each
// (their model ops started) and the group's wait sent.
Group open_group(Rig& rig, const std::vector<std::string>& names, json options) {
  Group g;
  options["branches"] = names;
  g.id = rig.ok("group", 0, options)["group"];
  for (std::size_t i = 0; i < names.size(); ++i)
    g.branches.push_back(rig.ok("branch", 0, {{"name", names[i]}, {"group", g.id}, {"member", i}})["conversation"].get<std::uint64_t>());
  for (auto c : g.branches) {
    g.replies.push_back(rig.next_id);
    rig.send({{"type", "conversation.reply"}, {"run", Rig::kRun}, {"conversation", c}});
  }
  for (const json& op : rig.new_ops())
    if (op["op"] == "model.generate") g.ops.push_back(op);
  REQUIRE(g.ops.size() == names.size());
  g.wait = rig.next_id;
  rig.send({{"type", "conversation.group.wait"}, {"run", Rig::kRun}, {"conversation", 0}, {"group", g.id}});
  return g;
}

// Answers branch `i`'s model call with `text` and ends the branch with that text as its value.
void finish(Rig& rig, const Group& g, std::size_t i, const std::string& text) {
  rig.complete(g.ops[i], text_response(text));
  REQUIRE(rig.reply_to(g.replies[i]).value()["ok"] == true);
  rig.ok("end", g.branches[i], {{"ok", true}, {"value", text}});
}

bool was_cancelled(const Rig& rig, const json& op) {
  return std::find(rig.host.cancelled.begin(), rig.host.cancelled.end(), op["id"].get<OpId>()) != rig.host.cancelled.end();
}

}  // namespace

TEST_CASE("branch group 'first': the first branch to return wins, the others' model calls are cancelled", "[directive][branch-group]") {
  Rig rig;
  rig.start();
  Group g = open_group(rig, {"slow", "fast", "slower"}, {{"aggregation", "first"}});
  CHECK_FALSE(rig.reply_to(g.wait).has_value());
  finish(rig, g, 1, "fast answer");
  auto decided = rig.reply_to(g.wait);
  REQUIRE(decided.has_value());
  REQUIRE((*decided)["ok"] == true);
  CHECK((*decided)["value"]["value"] == "fast answer");
  CHECK((*decided)["value"]["winner"] == "fast");
  CHECK((*decided)["value"]["branches"] == json{{"slow", "cancelled"}, {"fast", "success"}, {"slower", "cancelled"}});
  // The losers' model ops were cancelled at the host and their replies failed with `aborted`.
  CHECK(was_cancelled(rig, g.ops[0]));
  CHECK(was_cancelled(rig, g.ops[2]));
  CHECK_FALSE(was_cancelled(rig, g.ops[1]));
  for (std::size_t i : {0u, 2u}) CHECK(rig.reply_to(g.replies[i]).value()["error"]["kind"] == "aborted");
  // A cancelled branch's later directives fail at once, without an op; ending it still works.
  CHECK(rig.error("append", g.branches[0], {{"message", user("more")}})["kind"] == "aborted");
  CHECK(rig.new_ops().empty());
  rig.ok("end", g.branches[0], {{"ok", false}, {"error", {{"message", "cancelled"}}}});
  auto finish_events = std::vector<json>();
  for (const auto& e : rig.run_events())
    if (e["type"] == "branch-group-finish") finish_events.push_back(e);
  REQUIRE(finish_events.size() == 1);
  CHECK(finish_events[0]["winner"] == "fast");
  CHECK(finish_events[0]["path"] == json::array({"root"}));
}

TEST_CASE("branch group 'majority' of 3: decided when two agree, or by a judge model", "[directive][branch-group]") {
  {
    Rig rig;
    rig.start();
    Group g = open_group(rig, {"0", "1", "2"}, {{"aggregation", "majority"}});
    finish(rig, g, 0, "42");
    CHECK_FALSE(rig.reply_to(g.wait).has_value());
    finish(rig, g, 2, "42");
    auto decided = rig.reply_to(g.wait);
    REQUIRE(decided.has_value());
    CHECK((*decided)["value"]["value"] == "42");
    CHECK(was_cancelled(rig, g.ops[1]));  // no longer needed
  }
  {
    Rig rig;
    rig.start(json{{"default", "m:default"}, {"judge", "m:judge"}});
    Group g = open_group(rig, {"0", "1", "2"}, {{"aggregation", "majority"}, {"judge", {{"model", "m:judge"}}}});
    finish(rig, g, 0, "Paris");
    finish(rig, g, 1, "paris, France");
    finish(rig, g, 2, "Lyon");
    auto ops = rig.new_ops();
    REQUIRE(ops.size() == 1);
    REQUIRE(ops[0]["op"] == "model.generate");
    CHECK(ops[0]["model"] == "m:judge");
    CHECK(ops[0]["step"] == "judge");
    rig.complete(ops[0], text_response("{\"winner\": \"1\"}"));
    auto decided = rig.reply_to(g.wait);
    REQUIRE(decided.has_value());
    REQUIRE((*decided)["ok"] == true);
    CHECK((*decided)["value"]["value"] == "paris, France");
    CHECK((*decided)["value"]["winner"] == "1");
  }
}

TEST_CASE("branch group: minSuccess unmet lists each branch's error; the timeout cancels stragglers on the engine clock",
          "[directive][branch-group]") {
  {
    Rig rig;
    rig.start();
    Group g = open_group(rig, {"a", "b"}, {{"aggregation", "all"}});
    finish(rig, g, 0, "fine");
    rig.complete(g.ops[1], text_response("x"));
    rig.ok("end", g.branches[1], {{"ok", false}, {"error", {{"message", "b broke"}}}});
    auto decided = rig.reply_to(g.wait);
    REQUIRE(decided.has_value());
    REQUIRE((*decided)["ok"] == false);
    CHECK((*decided)["error"]["kind"] == "parallel");
    CHECK((*decided)["error"]["code"] == "PARALLEL_MIN_SUCCESS");
    CHECK((*decided)["error"]["errors"]["b"]["message"] == "b broke");
    CHECK((*decided)["error"]["message"].get<std::string>().find("L.branch: 1 of 2 tasks succeeded, minSuccess is 2 (b: b broke)") == 0);
  }
  for (int min_success : {2, 3}) {
    Rig rig;
    rig.start();
    Group g = open_group(rig, {"a", "b", "slow"}, {{"timeout", 5000}, {"minSuccess", min_success}});
    // The group's timer started with it.
    json timer;
    for (const auto& op : rig.host.started)
      if (op["op"] == "timer.sleep") timer = op;
    REQUIRE(timer["ms"] == 5000);
    finish(rig, g, 0, "A");
    finish(rig, g, 1, "B");
    CHECK_FALSE(rig.reply_to(g.wait).has_value());
    rig.complete(timer, nullptr);  // 5 s pass
    CHECK(was_cancelled(rig, g.ops[2]));
    auto decided = rig.reply_to(g.wait);
    REQUIRE(decided.has_value());
    if (min_success == 2) {
      REQUIRE((*decided)["ok"] == true);
      CHECK((*decided)["value"]["value"] == json{{"a", "A"}, {"b", "B"}});
      CHECK((*decided)["value"]["branches"]["slow"] == "error");
    } else {
      REQUIRE((*decided)["ok"] == false);
      CHECK((*decided)["error"]["errors"]["slow"]["kind"] == "timeout");
    }
  }
}

TEST_CASE("branch group: bad options are refused naming the field", "[directive][branch-group]") {
  Rig rig;
  rig.start();
  auto e = rig.error("group", 0, {{"branches", {"a", "b"}}, {"aggregaton", "first"}});
  CHECK(e["message"].get<std::string>().find("did you mean \"aggregation\"") != std::string::npos);
  e = rig.error("group", 0, {{"branches", {"a", "b"}}, {"aggregation", "first"}, {"compare", "f"}});
  CHECK(e["message"].get<std::string>().find("compare/judge apply to 'majority' and 'consensus'") != std::string::npos);
  e = rig.error("group", 0, {{"branches", {"a", "a"}}});
  CHECK(e["message"].get<std::string>().find("branch \"a\" is named twice") != std::string::npos);
  const json group = rig.ok("group", 0, {{"branches", {"a"}}})["group"];
  e = rig.error("branch", 0, {{"name", "b"}, {"group", group}, {"member", 0}});
  CHECK(e["message"].get<std::string>().find("has no member 0 named \"b\"") != std::string::npos);
}

TEST_CASE("branch group: a run that ends before its members settles the group (no waiter is left behind)", "[directive][branch-group]") {
  Rig rig;
  rig.start();
  const json group = rig.ok("group", 0, {{"branches", {"a", "b"}}, {"timeout", 60000}})["group"];
  rig.ok("branch", 0, {{"name", "a"}, {"group", group}, {"member", 0}});
  const int wait = rig.next_id;
  rig.send({{"type", "conversation.group.wait"}, {"run", Rig::kRun}, {"conversation", 0}, {"group", group}});
  rig.ok("end", 0, {{"ok", true}});
  auto settled = rig.reply_to(wait);
  REQUIRE(settled.has_value());
  CHECK((*settled)["error"]["code"] == "PARALLEL_MIN_SUCCESS");
  CHECK((*settled)["error"]["errors"]["a"]["message"] == "L.branch: the run ended before this branch did");
  CHECK(rig.engine.active_runs() == 0);
  bool timer_cancelled = false;
  for (const auto& op : rig.host.started)
    if (op["op"] == "timer.sleep")
      timer_cancelled = std::find(rig.host.cancelled.begin(), rig.host.cancelled.end(), op["id"].get<OpId>()) != rig.host.cancelled.end();
  CHECK(timer_cancelled);
}
