// Driving prompt runs in native tests: a scripted host that answers model calls from a list of
// responses and callbacks from a table, keeping the host's copy of the conversation as a real host
// does, plus helpers to build specs and read a run's events.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "memory/base64.hpp"
#include "scripted_host.hpp"

namespace lmthing::testing {

inline json text_part(const std::string& text) { return {{"type", "text"}, {"text", text}}; }
inline json call_part(const std::string& id, const std::string& name, json args) {
  return {{"type", "tool-call"}, {"toolCallId", id}, {"toolName", name}, {"args", std::move(args)}};
}
// Parts as a vector: a braced list holding ONE json would be an array under g++ but a copy of the
// element under clang (nlohmann's brace-initialization ambiguity), so tests never rely on it.
inline json response(std::vector<json> content, const std::string& finish = "stop") {
  return {
      {"content", json(std::move(content))}, {"finishReason", finish}, {"usage", {{"inputTokens", 10}, {"outputTokens", 20}, {"totalTokens", 30}}}};
}

// A tool definition whose callback is "tool:<name>".
inline json tool_named(const std::string& name, json options = json::object()) {
  return json{
      {"name", name}, {"description", name}, {"parameters", {{"type", "object"}}}, {"callback", "tool:" + name}, {"options", std::move(options)}};
}

inline json weather_tool() {
  return {{"name", "weather"},
          {"description", "Weather for a city"},
          {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}, {"required", {"city"}}}},
          {"callback", "tool:weather"}};
}

// The host's copy of a run's conversation, kept as a real host does: model.generate sends only the
// messages the host does not have (`conversation: {base, append}`) and the host adds the assistant
// turn itself. `request` returns the op with the full `messages` the model would see.
struct HostConversation {
  json messages = json::array();

  json request(const json& op) {
    json full = op;
    json list = json::array();
    if (!op["system"].is_null()) list.push_back({{"role", "system"}, {"content", op["system"]}});
    if (op.contains("conversation")) {
      const std::size_t base = op["conversation"]["base"].get<std::size_t>();
      REQUIRE(messages.size() >= base);
      messages.erase(messages.begin() + static_cast<long>(base), messages.end());
      for (const auto& m : op["conversation"]["append"]) messages.push_back(m);
      for (const auto& m : messages) list.push_back(m);
    } else {
      for (const auto& m : op["messages"]) list.push_back(m);
    }
    full["messages"] = list;
    return full;
  }

  void answered(const json& op, const json& response) {
    if (op.contains("conversation") && response.contains("content")) messages.push_back({{"role", "assistant"}, {"content", response["content"]}});
  }
};

// A host that answers every op on the next wait: the model from a script of responses (one per
// model.generate, in order), callbacks from a table of functions.
struct Script {
  HostConversation conversation;
  std::vector<json> model_responses;
  std::map<std::string, std::function<json(const json& args)>> callbacks;
  std::vector<json> model_requests;
  std::size_t next_response = 0;
  std::size_t answered = 0;
  std::vector<std::string> tokenizer_loads;        // encodings the engine asked for, in order
  std::function<json(const json& request)> model;  // when set, answers every model.generate instead of model_responses

  void operator()(Harness& h) {
    for (; answered < h.host.started.size(); ++answered) {
      const json& op = h.host.started[answered];
      const OpId id = op["id"].get<OpId>();
      if (op["op"] == "model.generate") {
        model_requests.push_back(conversation.request(op));
        const json r = model                                    ? model(model_requests.back())
                       : next_response < model_responses.size() ? model_responses[next_response++]
                                                                : response({});
        if (r.contains("error")) {
          h.post(json{{"type", "op.done"}, {"id", id}, {"ok", false}, {"error", r["error"]}});
        } else {
          conversation.answered(op, r);
          h.post(Harness::done_ok(id, r));
        }
      } else if (op["op"] == "tokenizer.load") {
        // The package's rank files (dist/tokenizers, written by scripts/gen-bpe-ranks.mjs).
        const std::string encoding = op["encoding"].get<std::string>();
        tokenizer_loads.push_back(encoding);
        std::ifstream in(std::string(LMTHING_TOKENIZER_DIR) + "/" + encoding + ".bpe", std::ios::binary);
        REQUIRE(in);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        h.post(Harness::done_ok(id, json{{"data", memory::base64_encode(bytes)}}));
      } else if (op["op"] == "timer.sleep") {
        h.clock += op["ms"].get<double>();
        h.post(Harness::done_ok(id, nullptr));
      } else if (op["op"] == "callback.invoke") {
        auto fn = callbacks.find(op["fn"].get<std::string>());
        REQUIRE(fn != callbacks.end());
        try {
          h.post(Harness::done_ok(id, fn->second(op["args"])));
        } catch (const std::exception& e) {
          h.post(Harness::done_error(id, "callback", e.what()));
        }
      }
    }
  }
};

// One entry of a spec's `definitions`: {kind, name, config}.
inline json definition(const std::string& kind, const std::string& name, json config = json::object()) {
  return json{{"kind", kind}, {"name", name}, {"config", std::move(config)}};
}
inline json definitions(std::vector<json> list) { return json(std::move(list)); }

inline json prompt_spec(json extra = json::object()) {
  json spec{{"kind", "prompt"}, {"model", "m"}, {"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}}};
  spec.update(extra);
  return spec;
}

inline json run_prompt(Harness& h, Script& script, json spec) {
  h.post(json{{"type", "run.start"}, {"id", 1}, {"spec", std::move(spec)}});
  REQUIRE(h.run(std::ref(script)));
  auto reply = h.reply(1);
  REQUIRE(reply);
  return *reply;
}

inline std::vector<json> run_events(const Harness& h, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : h.host.events_of_type("run.event"))
    if (e["event"]["type"] == type) out.push_back(e["event"]);
  return out;
}

}  // namespace lmthing::testing
