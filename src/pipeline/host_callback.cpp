#include "pipeline/host_callback.hpp"

namespace lmthing::pipeline {

namespace {

json refusals_of(const json& answer, const std::string& who) {
  json errors = json::array();
  if (answer.is_null()) return errors;
  const auto list = answer.is_object() ? answer.find("errors") : answer.end();
  if (list == answer.end() || !list->is_array() || list->empty())
    throw OpFailed(protocol::WireError{"callback", who + " must answer null or {errors: [...]}, got " + answer.dump().substr(0, 100)});
  for (const json& issue : *list) {
    const bool described = issue.is_object() && issue.value("message", json()).is_string();
    const json path = issue.is_object() ? issue.value("instancePath", json("")) : json("");
    errors.push_back(
        {{"instancePath", path.is_string() ? path : json("")}, {"schemaPath", ""}, {"message", described ? issue["message"] : json(issue.dump())}});
  }
  return errors;
}

}  // namespace

Task<json> call_host_callback(const CallEnv& env, const std::string& callback, json argument, const std::string& who) {
  json payload{{"fn", callback}, {"args", json::array({std::move(argument)})}};
  try {
    co_return co_await env.loop.op(env.run, "callback.invoke", std::move(payload), 0, who);
  } catch (const OpFailed& e) {
    if (e.error.kind != "callback") throw;
    throw OpFailed(protocol::WireError{"callback", who + " failed: " + e.error.message, e.error.extra});
  }
}

Task<json> host_check(const CallEnv& env, const std::string& callback, json value, const std::string& who) {
  co_return refusals_of(co_await call_host_callback(env, callback, std::move(value), who), who);
}

std::string describe_refusals(const json& errors) {
  std::string text;
  for (const json& issue : errors) {
    const std::string& path = issue["instancePath"].get_ref<const std::string&>();
    text += (text.empty() ? "" : "; ") + (path.empty() ? std::string("(root)") : path) + ": " + issue["message"].get<std::string>();
  }
  return text;
}

}  // namespace lmthing::pipeline
