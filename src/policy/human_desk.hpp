// The engine's desk of open human requests (approvals, interactions): each has an id that a host
// can answer by (`approval.respond` / `interaction.respond`) while the `*.ask` op the engine handed
// out is still pending. One desk per engine.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "policy/human_policy.hpp"

namespace lmthing::policy {

class HumanDesk {
 public:
  struct Request {
    RunId run = 0;
    std::string host;  // the host route of the run's tree (a run's desk answers only its own)
    std::string kind;  // "approval" or "interaction"
    OpId op = 0;       // the pending *.ask op (set when it starts)
    bool answered_by_id = false;
    // Throws std::invalid_argument explaining why an answer given by id is not acceptable.
    std::function<void(const json& answer)> check;
  };

  // Opens a request and returns its id ("approval-3"); the entry lives until close(id).
  std::string open(RunId run, std::string host, const std::string& kind, std::function<void(const json&)> check);
  Request& at(const std::string& id) { return requests_.at(id); }
  void close(const std::string& id);

  // Answers request `id` of `kind` with `answer`: its op completes with it and the host is told to
  // drop its own handler. Throws protocol::ProtocolError for an unknown id (listing the open ones),
  // a request of another kind, or an answer the request does not accept. With `host` (a run's
  // desk), only that route's requests count: another run's id is unknown there, and not listed.
  void respond(Loop& loop, const std::string& kind, const std::string& id, const json& answer, const std::string* host = nullptr);

  std::size_t open_count() const { return requests_.size(); }

 private:
  std::map<std::string, Request> requests_;
  // The ids closed last, so that a second answer to one is told it came too late, not that the id
  // never existed. Bounded: an engine may serve requests for as long as it runs.
  std::deque<std::string> recently_closed_;
  std::uint64_t next_id_ = 1;
};

// Closes a desk request when the coroutine that opened it ends, however it ends.
class OpenRequest {
 public:
  OpenRequest(HumanDesk& desk, std::string id) : desk_(desk), id_(std::move(id)) {}
  OpenRequest(const OpenRequest&) = delete;
  OpenRequest& operator=(const OpenRequest&) = delete;
  ~OpenRequest() { desk_.close(id_); }
  const std::string& id() const { return id_; }
  HumanDesk::Request& entry() { return desk_.at(id_); }

 private:
  HumanDesk& desk_;
  std::string id_;
};

// A request's message: `fallback`, or what callback `fn(context)` returns (a failure of the
// callback falls back, except an abort, which propagates).
Task<std::string> render_message(Loop& loop, RunId run, std::optional<std::string> fn, std::string fallback, json context);

}  // namespace lmthing::policy
