// The scripted host of the flow tests (workflows, pipelines, parallel groups, batchers): a live
// prompt run whose model waits for the flow commands' replies, and callbacks answered by name.
#pragma once

#include <set>

#include "prompt_script.hpp"

namespace lmthing::testing {

// A live prompt run whose model waits until the workflow command has its reply; callbacks are
// answered by name (a throw is a callback error), `silent` ones never; timers complete only when
// nothing else can (virtual time moves when everything waits on it).
struct FlowHost {
  json command;
  std::vector<json> more_commands;  // posted with `command`, each awaited by the model like it
  std::map<std::string, std::function<json(const json& arg)>> callbacks;
  // Callbacks that see all their arguments (compare(a, b), a stage's (value, context)); checked first.
  std::map<std::string, std::function<json(const json& args)>> with_args;
  std::set<std::string> silent;
  std::set<std::size_t> answered;
  std::vector<std::string> calls;      // callback names, in the order they were invoked
  Random* random = nullptr;            // set: one pending callback, picked at random, completes per wait
  std::size_t max_pending = 0;         // callbacks started and not answered at once, at most
  std::vector<std::string> also_wait;  // other commands the model waits for
  // Answers a judge model call (model.generate with step "judge") with this text.
  std::function<std::string(const json& op)> judge;
  bool posted = false;

  void operator()(Harness& h) {
    if (!posted) {
      posted = true;
      h.post(command);
      for (const auto& more : more_commands) h.post(more);
      return;
    }
    bool replied = h.reply(command["id"]).has_value();
    for (const auto& id : also_wait) replied = replied && h.reply(id).has_value();
    for (const auto& more : more_commands) replied = replied && h.reply(more["id"]).has_value();
    bool progressed = false;
    std::vector<std::size_t> pending;
    for (std::size_t i = 0; i < h.host.started.size(); ++i)
      if (!answered.count(i) && h.host.started[i]["op"] == "callback.invoke") pending.push_back(i);
    max_pending = std::max(max_pending, pending.size());
    std::optional<std::size_t> chosen;
    if (random && !pending.empty()) chosen = pending[random->below(pending.size())];
    for (std::size_t i = 0; i < h.host.started.size(); ++i) {
      if (answered.count(i)) continue;
      if (chosen && h.host.started[i]["op"] == "callback.invoke" && i != *chosen) continue;
      const json& op = h.host.started[i];
      const OpId id = op["id"].get<OpId>();
      if (op["op"] == "model.generate" && op.value("step", json()) == "judge") {
        REQUIRE(judge);
        answered.insert(i);
        h.post(Harness::done_ok(id, response({text_part(judge(op))})));
        progressed = true;
      } else if (op["op"] == "model.generate") {
        if (!replied) continue;
        answered.insert(i);
        h.post(Harness::done_ok(id, response({text_part("done")})));
        progressed = true;
      } else if (op["op"] == "callback.invoke") {
        const std::string fn = op["fn"];
        if (silent.count(fn)) continue;
        answered.insert(i);
        calls.push_back(fn);
        auto full = with_args.find(fn);
        auto it = callbacks.find(fn);
        REQUIRE((full != with_args.end() || it != callbacks.end()));
        try {
          h.post(Harness::done_ok(id, full != with_args.end() ? full->second(op["args"]) : it->second(op["args"][0])));
        } catch (const std::exception& e) {
          h.post(Harness::done_error(id, "callback", e.what()));
        }
        progressed = true;
      }
    }
    if (progressed) return;
    // Only timers are left: the earliest one fires.
    std::optional<std::size_t> first;
    for (std::size_t i = 0; i < h.host.started.size(); ++i) {
      const json& op = h.host.started[i];
      if (answered.count(i) || op["op"] != "timer.sleep") continue;
      const OpId id = op["id"].get<OpId>();
      if (std::find(h.host.cancelled.begin(), h.host.cancelled.end(), id) != h.host.cancelled.end()) continue;
      if (!first || op["ms"].get<double>() < h.host.started[*first]["ms"].get<double>()) first = i;
    }
    if (!first) return;
    answered.insert(*first);
    h.clock += h.host.started[*first]["ms"].get<double>();
    h.post(Harness::done_ok(h.host.started[*first]["id"].get<OpId>(), nullptr));
  }
};

}  // namespace lmthing::testing
