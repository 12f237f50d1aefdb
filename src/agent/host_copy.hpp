// The host's copy of a conversation (docs/prompt-runs.md, "Ops the run issues"): a model call sends
// only the messages the host does not hold yet (`conversation: {base, append}`, with the
// conversation's `id` when a run has several), and the host appends the model's turn itself.
// Sending the whole conversation every call made a run quadratic in its length.
#pragma once

#include <cstddef>
#include <optional>

#include "protocol/json.hpp"

namespace lmthing::agent {

class HostCopy {
 public:
  // Puts the next model call's messages into `payload`. A seam's `replacement` goes whole, as
  // `messages`, and leaves the host's copy alone; returns whether the call syncs the copy instead.
  bool fill(lmthing::Json& payload, const lmthing::Json& messages, const std::optional<lmthing::Json>& replacement,
            const lmthing::Json& id = lmthing::Json()) const {
    if (replacement) {
      payload["messages"] = *replacement;
      return false;
    }
    lmthing::Json sync = id.is_null() ? lmthing::Json::object() : lmthing::Json{{"id", id}};
    sync["base"] = held_;
    sync["append"] = unsynced(messages);
    payload["conversation"] = std::move(sync);
    return true;
  }

  // A synced call was answered: the host now holds the conversation's first `size` messages.
  void answered(std::size_t size) { held_ = size; }

  // What the host lacks at the end of a run ({base, append}: the tool results after the last model
  // call), or null when it holds everything.
  lmthing::Json tail(const lmthing::Json& messages) const {
    if (messages.size() <= held_) return lmthing::Json();
    lmthing::Json sync{{"base", held_}};
    sync["append"] = unsynced(messages);
    return sync;
  }

 private:
  // The messages from `held_` on: what the host lacks.
  lmthing::Json unsynced(const lmthing::Json& messages) const {
    lmthing::Json append = lmthing::Json::array();
    for (std::size_t i = held_; i < messages.size(); ++i) append.push_back(messages[i]);
    return append;
  }

  std::size_t held_ = 0;
};

}  // namespace lmthing::agent
