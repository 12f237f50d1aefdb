#include "agent/tool_calls.hpp"

#include "protocol/json_text.hpp"

namespace lmthing::agent {

namespace {

std::string available_tools(const std::vector<const pipeline::ToolBox::Entry*>& offered) {
  if (offered.empty()) return "No tools are available.";
  std::string list;
  for (const auto* tool : offered) list += (list.empty() ? "" : ", ") + tool->spec.name;
  return "Available tools: " + list + ".";
}

// The model's arguments: an already parsed value, or the raw text to parse. Text is parsed with the
// engine's depth limit (protocol::parse_limited): arguments nested deeper become an error result
// the model reads, like any other invalid JSON.
bool read_arguments(const json& part, json& args, std::string& problem) {
  if (part.contains("args") && !part["args"].is_null()) {
    args = part["args"];
    return true;
  }
  const std::string text = part.value("argsText", std::string());
  if (text.empty()) {
    args = json::object();
    return true;
  }
  try {
    args = protocol::parse_limited(text, "the argument text");
    return true;
  } catch (const protocol::LimitExceeded& e) {
    problem = e.what();
    return false;
  } catch (const json::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] "; keep only the useful part.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    problem = what;
    return false;
  }
}

}  // namespace

CheckedCall check_tool_call(const std::vector<const pipeline::ToolBox::Entry*>& offered, const json& part, const std::string& restriction) {
  CheckedCall call;
  call.id = part.value("toolCallId", std::string());
  call.name = part.value("toolName", std::string());
  if (auto signature = part.find("signature"); signature != part.end() && signature->is_string()) {
    call.signature = signature->get<std::string>();
    call.signed_by = part.value("signedBy", std::string());
  }
  const pipeline::ToolBox::Entry* tool = nullptr;
  for (const auto* candidate : offered)
    if (candidate->spec.name == call.name) tool = candidate;
  if (!tool) {
    call.error =
        "Tool \"" + call.name + "\" is not available" + (restriction.empty() ? "" : " (" + restriction + ")") + ". " + available_tools(offered);
    // What the model wrote still goes with the call (its events, a UI stream, the next turn).
    std::string unreadable;
    if (!read_arguments(part, call.args, unreadable)) {
      call.args = nullptr;
      call.unparsed_args = part.value("argsText", std::string());
    }
    return call;
  }
  call.tool = tool;
  std::string problem;
  if (!read_arguments(part, call.args, problem)) {
    call.args = nullptr;
    call.unparsed_args = part.value("argsText", std::string());
    call.error = "Invalid JSON in arguments of tool \"" + call.name + "\": " + problem;
    return call;
  }
  const auto result = tool->spec.validator->validate(call.args);
  if (!result.valid) call.error = "Invalid arguments for tool \"" + call.name + "\": " + schema::describe(result);
  return call;
}

}  // namespace lmthing::agent
