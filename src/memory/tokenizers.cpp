#include "memory/tokenizers.hpp"

#include "memory/base64.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory {

namespace {

[[noreturn]] void bad_file(const std::string& name, const std::string& problem) {
  throw OpFailed(
      protocol::WireError{"tokenizer", "tokenizer.load \"" + name + "\": " + problem, json{{"code", "INVALID_RANKS"}, {"encoding", name}}});
}

}  // namespace

Task<std::shared_ptr<const state::BpeEncoding>> Tokenizers::encoding(Loop& loop, RunId run, std::string name) {
  if (auto it = loaded_.find(name); it != loaded_.end()) co_return it->second;
  auto guard = co_await lock_.lock();
  if (auto it = loaded_.find(name); it != loaded_.end()) co_return it->second;  // loaded while we waited
  // Built before the co_await: g++ 12 cannot keep a braced list's array alive across one.
  json request{{"encoding", name}};
  const json answer = co_await loop.op(run, "tokenizer.load", std::move(request));
  if (!answer.is_object() || !answer.contains("data") || !answer["data"].is_string())
    bad_file(name, "the host answered without \"data\" (expected {data: base64 of the rank file})");
  const std::optional<std::string> bytes = base64_decode(answer["data"].get_ref<const std::string&>());
  if (!bytes) bad_file(name, "\"data\" is not base64");
  std::shared_ptr<const state::BpeEncoding> encoding;
  try {
    encoding = std::make_shared<const state::BpeEncoding>(state::BpeEncoding::load(*bytes));
  } catch (const state::StateError& e) {
    bad_file(name, e.what());
  }
  if (encoding->name() != name) bad_file(name, "the host sent the rank file of \"" + encoding->name() + "\"");
  loaded_.emplace(name, encoding);
  co_return encoding;
}

Tokenizers& tokenizers_of(pipeline::RunTree& tree) { return tree.engine_services().get<Tokenizers>(tree.loop()); }

Task<TokenCounter> counter_for(Loop& loop, RunId run, pipeline::RunTree& tree, std::string model) {
  // The host registers a second model object of the same name as "provider:id#2".
  if (const auto hash = model.find('#'); hash != std::string::npos) model.resize(hash);
  const std::optional<std::string> name = state::encoding_for_model(model);
  if (!name) co_return TokenCounter{[](std::string_view text) { return state::estimate_tokens(text); }, ""};
  std::shared_ptr<const state::BpeEncoding> encoding = co_await tokenizers_of(tree).encoding(loop, run, *name);
  co_return TokenCounter{[encoding](std::string_view text) { return encoding->count(text); }, *name};
}

std::size_t fixed_request_tokens(const json& request, const state::TextCounter& count) {
  const state::MessageCountRule rule;
  std::size_t n = rule.reply_priming;
  if (request.contains("system") && request["system"].is_string())
    n += state::count_message_tokens(json{{"role", "system"}, {"content", request["system"]}}, count);
  if (request.contains("tools") && request["tools"].is_array() && !request["tools"].empty()) n += count(request["tools"].dump());
  return n;
}

}  // namespace lmthing::memory
