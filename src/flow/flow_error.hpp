// The errors flows fail with, as they cross to the host (PROTOCOL.md §5): a kind per feature
// (`workflow`, `pipeline`, `parallel`, `batch`, `resource`), a stable `code`, the definition's name
// and, where another error caused it, that error as `cause`.
#pragma once

#include <string>

#include "protocol/messages.hpp"

namespace lmthing::flow {

inline protocol::WireError flow_error(const std::string& kind, const std::string& code, std::string message,
                                      lmthing::Json extra = lmthing::Json::object()) {
  extra["code"] = code;
  return protocol::WireError{kind, std::move(message), std::move(extra)};
}

// An error as a `cause` field: {kind, message, code?}.
inline lmthing::Json cause_of(const protocol::WireError& error) {
  lmthing::Json cause = error.extra.is_object() ? error.extra : lmthing::Json::object();
  cause["kind"] = error.kind;
  cause["message"] = error.message;
  return cause;
}

}  // namespace lmthing::flow
