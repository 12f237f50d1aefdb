#include "agent/step_callback.hpp"

namespace lmthing::agent {

Task<json> call_step_callback(const pipeline::CallEnv& env, const std::string& callback, json argument, const std::string& who) {
  json payload{{"fn", callback}, {"args", json::array({std::move(argument)})}};
  try {
    co_return co_await env.loop.op(env.run, "callback.invoke", std::move(payload), 0, who);
  } catch (const OpFailed& e) {
    if (e.error.kind != "callback") throw;
    throw OpFailed(protocol::WireError{"callback", who + " failed: " + e.error.message, e.error.extra});
  }
}

}  // namespace lmthing::agent
