#include "agent/pending_calls.hpp"

#include <algorithm>

#include "protocol/fields.hpp"

namespace lmthing::agent {

namespace {

using protocol::in_quotes;

std::string part_at(std::size_t message, std::size_t part) {
  return "run.start spec (prompt): messages[" + std::to_string(message) + "].content[" + std::to_string(part) + "]";
}

[[noreturn]] void refuse(const std::string& where, const std::string& message) { throw protocol::config_error(where + ": " + message); }

bool is_part(const json& part, const char* type) { return part.is_object() && part.value("type", "") == type; }

std::string call_id(const json& part) {
  const auto it = part.find("toolCallId");
  return it != part.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A response {type, toolCallId, approved, reason?, approvalId?}.
std::pair<std::string, CallDecision> read_response(const json& part, const std::string& where) {
  for (const auto& [key, value] : part.items())
    // `signature` is the host's to check (runPrompt's approvalSecret), before the run starts.
    if (key != "type" && key != "toolCallId" && key != "approved" && key != "reason" && key != "approvalId" && key != "signature")
      refuse(where, "a tool-approval-response has no field " + in_quotes(key) + " (expected toolCallId, approved, reason?, approvalId?, signature?)");
  const std::string id = call_id(part);
  if (id.empty()) refuse(where, "a tool-approval-response needs the toolCallId of the call it decides");
  if (!part.contains("approved") || !part["approved"].is_boolean())
    refuse(where, "a tool-approval-response needs approved: true or false, got " + (part.contains("approved") ? part["approved"].dump() : "nothing"));
  CallDecision decision;
  decision.approved = part["approved"].get<bool>();
  if (part.contains("reason") && !part["reason"].is_null()) {
    if (!part["reason"].is_string()) refuse(where, "a tool-approval-response's reason must be a string, got " + part["reason"].dump());
    decision.reason = part["reason"].get<std::string>();
  }
  if (part.contains("approvalId") && !part["approvalId"].is_null()) {
    if (!part["approvalId"].is_string()) refuse(where, "a tool-approval-response's approvalId must be a string, got " + part["approvalId"].dump());
    decision.approval_id = part["approvalId"];
  }
  return {id, std::move(decision)};
}

}  // namespace

const CallDecision* PendingCalls::decision(const std::string& tool_call_id) const {
  for (const auto& [id, decision] : decisions)
    if (id == tool_call_id) return &decision;
  return nullptr;
}

PendingCalls take_pending_calls(json& messages) {
  PendingCalls pending;
  if (!messages.is_array()) return pending;
  // The tool messages right after the last assistant turn are where its calls are answered.
  std::size_t assistant = messages.size();
  for (std::size_t i = messages.size(); i-- > 0;)
    if (messages[i].is_object() && messages[i].value("role", "") == "assistant") {
      assistant = i;
      break;
    }
  std::size_t answers_end = assistant == messages.size() ? assistant : assistant + 1;
  while (answers_end < messages.size() && messages[answers_end].value("role", "") == "tool") ++answers_end;

  for (std::size_t i = 0; i < messages.size(); ++i) {
    const json& content = messages[i].is_object() ? messages[i].value("content", json()) : json();
    if (!content.is_array()) continue;
    for (std::size_t j = 0; j < content.size(); ++j) {
      if (!is_part(content[j], "tool-approval-response")) continue;
      const std::string where = part_at(i, j);
      if (i <= assistant || i >= answers_end)
        refuse(where, "a tool-approval-response belongs in a tool message right after the last assistant message, whose tool calls it decides");
      auto [id, decision] = read_response(content[j], where);
      if (pending.decision(id)) refuse(where, "tool call " + in_quotes(id) + " is decided twice");
      pending.decisions.emplace_back(std::move(id), std::move(decision));
    }
  }
  if (pending.empty()) return pending;
  // A decision is sent before the chat goes on: run after a later message, the tool's result would
  // belong to no message the chat shows, and each later turn would send the decision again.
  if (answers_end < messages.size())
    refuse(part_at(answers_end, 0), "the chat went on (a " + messages[answers_end].value("role", std::string("?")) +
                                        " message) after an approval response that no run applied yet; send the response before the next "
                                        "message (useChat: sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses)");

  const json& turn = messages[assistant].value("content", json());
  std::vector<std::string> call_ids;
  if (turn.is_array())
    for (const auto& part : turn)
      if (is_part(part, "tool-call")) {
        pending.calls.push_back(part);
        call_ids.push_back(call_id(part));
      }
  std::vector<std::string> answered;
  for (std::size_t i = assistant + 1; i < answers_end; ++i)
    for (const auto& part : messages[i].value("content", json::array()))
      if (!is_part(part, "tool-approval-response")) {
        pending.results.push_back(part);
        if (is_part(part, "tool-result")) answered.push_back(call_id(part));
      }
  const std::string turn_at = "run.start spec (prompt): messages[" + std::to_string(assistant) + "]";
  for (const auto& [id, decision] : pending.decisions) {
    if (std::find(call_ids.begin(), call_ids.end(), id) == call_ids.end())
      refuse(turn_at, "an approval response decides tool call " + in_quotes(id) +
                          ", which this last assistant message does not make (its calls: " + protocol::joined(call_ids) + ")");
    if (std::find(answered.begin(), answered.end(), id) != answered.end())
      refuse(turn_at, "tool call " + in_quotes(id) + " has a result already and an approval response too");
  }
  for (const auto& call : pending.calls) {
    const std::string id = call_id(call);
    if (!pending.decision(id) && std::find(answered.begin(), answered.end(), id) == answered.end())
      refuse(turn_at, "tool call " + in_quotes(id) + " (tool " + in_quotes(call.value("toolName", "")) +
                          ") has neither a result nor a tool-approval-response after it");
  }
  pending.position = assistant + 1;
  messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(assistant + 1), messages.begin() + static_cast<std::ptrdiff_t>(answers_end));
  return pending;
}

}  // namespace lmthing::agent
