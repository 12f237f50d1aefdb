// defContext as a definition kind (spec.definitions[i] = {kind: "context", name, config: {strategy,
// maxTokens, reserveTokens?, prioritize?, keepMinimum?, relevanceScorer?}}) and the `context_window`
// step seam: before every model call of a prompt run or directive reply, each defined context
// chooses the messages that fit its budget (state/context_window.hpp: a tool call and its results
// are kept or dropped together) and the step sends only those. Tokens are counted exactly for models
// with a public encoding and with the documented estimate otherwise (memory/tokenizers.hpp); the
// system prompt and tool definitions count against the budget. A `context-trimmed` event reports
// what was left out.
#include "memory/embed.hpp"
#include "memory/tokenizers.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/run_tree.hpp"
#include "state/context_window.hpp"
#include "state/state_error.hpp"
#include "state/token_count.hpp"

namespace lmthing::memory {

namespace {

struct ContextDefinition {
  state::ContextConfig config;
  std::string relevance_scorer;  // a host callback: (messages) → one score per message
};

void define_context(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  const std::string strategy = config.choice("strategy", {"sliding-window", "relevance-based"}).value_or("sliding-window");
  if (config.has("summarization")) config.fail("'summarization' is not wired yet (docs/memory.md): the context only leaves out what does not fit");
  json fields = json::object();
  for (const char* key : {"maxTokens", "reserveTokens", "prioritize", "keepMinimum"})
    if (config.has(key)) fields[key] = config.at(key);
  auto definition = std::make_shared<ContextDefinition>();
  try {
    definition->config = state::ContextConfig::parse(name, strategy, fields);
  } catch (const state::StateError& e) {
    config.fail(e.what());
  }
  definition->relevance_scorer = config.optional_string("relevanceScorer").value_or("");
  if (strategy == "relevance-based" && definition->relevance_scorer.empty())
    config.fail("strategy 'relevance-based' needs a relevanceScorer (a function (message, task) → number)");
  tree.definitions().add("context", name, std::move(definition));
}

json picked(const json& messages, const std::vector<std::size_t>& indices) {
  json out = json::array();
  for (std::size_t i : indices) out.push_back(messages[i]);
  return out;
}

// What every message of the step shares with the budget: the reply priming, the system prompt (as
// a system message) and the tool definitions (their JSON, as providers send them).
std::size_t fixed_tokens(const json& request, const state::TextCounter& count) {
  const state::MessageCountRule rule;
  std::size_t n = rule.reply_priming;
  if (request.contains("system") && request["system"].is_string())
    n += state::count_message_tokens(json{{"role", "system"}, {"content", request["system"]}}, count);
  if (request.contains("tools") && request["tools"].is_array() && !request["tools"].empty()) n += count(request["tools"].dump());
  return n;
}

class ContextWindowSeam : public pipeline::StepSeam {
 public:
  Task<void> before_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    json messages = state.overrides.messages ? *state.overrides.messages : state.messages;
    const json request = state.preview ? state.preview(state.overrides) : json::object();
    const TokenCounter counter = co_await counter_for(env.loop, env.run, *env.tree, request.value("model", std::string()));
    const std::size_t fixed = fixed_tokens(request, counter.count);
    bool trimmed = false;
    for (const auto& entry : env.tree->definitions().all<ContextDefinition>("context")) {
      const std::string& name = entry.first;
      const ContextDefinition* definition = entry.second;
      std::vector<std::size_t> tokens;
      tokens.reserve(messages.size());
      for (const json& m : messages) tokens.push_back(state::count_message_tokens(m, counter.count));
      std::vector<state::WindowMessage> window = state::window_messages(messages, tokens);
      if (!definition->relevance_scorer.empty()) {
        json args = json::array();
        args.push_back(messages);
        json payload = json::object();
        payload["fn"] = definition->relevance_scorer;
        payload["args"] = std::move(args);
        const json scores = co_await env.loop.op(env.run, "callback.invoke", std::move(payload));
        if (!scores.is_array() || scores.size() != messages.size())
          throw OpFailed(
              protocol::WireError{"callback", "context \"" + name + "\": relevanceScorer must give one number per message", json::object()});
        for (std::size_t i = 0; i < window.size(); ++i) window[i].relevance = scores[i].is_number() ? scores[i].get<double>() : 0;
      }
      state::ContextSelection selection;
      try {
        selection = state::select_context(definition->config, window, fixed);
      } catch (const state::StateError& e) {
        throw OpFailed(protocol::WireError{"context_length", e.what(), json{{"code", "CONTEXT_LENGTH"}, {"context", name}}});
      }
      if (selection.dropped.empty()) continue;
      env.emit(json{{"type", "context-trimmed"},
                    {"context", name},
                    {"stepNumber", state.step},
                    {"kept", selection.kept.size()},
                    {"dropped", selection.dropped.size()},
                    {"keptTokens", selection.kept_tokens},
                    {"droppedTokens", selection.dropped_tokens},
                    {"fixedTokens", fixed},
                    {"budget", selection.budget},
                    {"encoding", counter.encoding.empty() ? json() : json(counter.encoding)}});
      messages = picked(messages, selection.kept);
      trimmed = true;
    }
    if (trimmed) state.overrides.messages = std::move(messages);
  }
};

std::unique_ptr<pipeline::StepSeam> make_context_window(const pipeline::StepSeamContext& context) {
  if (context.tree.definitions().names("context").empty()) return nullptr;
  return std::make_unique<ContextWindowSeam>();
}

}  // namespace

}  // namespace lmthing::memory

namespace lmthing::pipeline::registered {
extern const DefinitionKind context_kind{"context",
                                         "context",
                                         {"strategy", "maxTokens", "reserveTokens", "prioritize", "keepMinimum", "relevanceScorer", "summarization"},
                                         memory::define_context,
                                         nullptr};
extern const StepSeamType context_window_seam{"context_window", memory::make_context_window};
}  // namespace lmthing::pipeline::registered
