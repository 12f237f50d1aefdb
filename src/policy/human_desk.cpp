#include "policy/human_desk.hpp"

#include <algorithm>
#include <stdexcept>

namespace lmthing::policy {

std::string HumanDesk::open(RunId run, std::string host, const std::string& kind, std::function<void(const json&)> check) {
  std::string id = kind + "-" + std::to_string(next_id_++);
  requests_.emplace(id, Request{run, std::move(host), kind, 0, false, std::move(check)});
  return id;
}

void HumanDesk::close(const std::string& id) {
  if (requests_.erase(id) == 0) return;
  constexpr std::size_t kRemembered = 256;
  if (recently_closed_.size() == kRemembered) recently_closed_.pop_front();
  recently_closed_.push_back(id);
}

void HumanDesk::respond(Loop& loop, const std::string& kind, const std::string& id, const json& answer, const std::string* host) {
  const auto visible = [&](const Request& request) { return !host || request.host == *host; };
  auto it = requests_.find(id);
  if (it != requests_.end() && !visible(it->second)) it = requests_.end();
  if (it == requests_.end() && id.rfind(kind + "-", 0) == 0 &&
      std::find(recently_closed_.begin(), recently_closed_.end(), id) != recently_closed_.end())
    throw protocol::config_error(kind + ".respond: request \"" + id + "\" is no longer open: it was answered, timed out, or its run ended");
  if (it == requests_.end() || it->second.kind != kind) {
    std::string open;
    for (const auto& [key, request] : requests_)
      if (request.kind == kind && visible(request)) open += (open.empty() ? "" : ", ") + key;
    throw protocol::config_error(kind + ".respond: no pending " + kind + " request with id \"" + id + "\"" + (host ? " in this run" : "") +
                                 " (pending: " + (open.empty() ? "none" : open) + ")");
  }
  Request& request = it->second;
  if (request.op == 0) throw protocol::config_error(kind + ".respond: request \"" + id + "\" has not been asked yet");
  if (request.check) {
    try {
      request.check(answer);
    } catch (const std::invalid_argument& e) {
      throw protocol::config_error(kind + ".respond \"" + id + "\": " + e.what());
    }
  }
  request.answered_by_id = true;
  if (!loop.settle_early(request.op, answer, "answered by " + kind + ".respond"))
    throw protocol::config_error(kind + ".respond: request \"" + id + "\" is no longer waiting for an answer");
}

Task<std::string> render_message(Loop& loop, RunId run, std::optional<std::string> fn, std::string fallback, json context) {
  if (!fn) co_return fallback;
  json payload{{"fn", *fn}, {"args", json::array({context})}};
  try {
    json message = co_await loop.op(run, "callback.invoke", std::move(payload));
    if (message.is_string()) co_return message.get<std::string>();
    if (!message.is_null()) co_return message.dump();
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted" || loop.run_cancelled(run)) throw;
  }
  co_return fallback;
}

}  // namespace lmthing::policy
