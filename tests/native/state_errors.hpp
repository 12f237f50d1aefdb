// The code or message of the StateError a call throws ("" when it throws none): for tests of the
// state, memory and token modules.
#pragma once

#include <functional>
#include <string>

#include "state/state_error.hpp"

namespace lmthing::testing {

inline std::string state_error_code(const std::function<void()>& f) {
  try {
    f();
  } catch (const state::StateError& e) {
    return e.code();
  }
  return "";
}

inline std::string state_error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const state::StateError& e) {
    return e.what();
  }
  return "";
}

}  // namespace lmthing::testing
