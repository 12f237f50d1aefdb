// defContext as a definition kind (spec.definitions[i] = {kind: "context", name, config: {strategy,
// maxTokens, reserveTokens?, prioritize?, keepMinimum?, relevanceScorer?, summarization?, weights?,
// maxChunks?}}) and the `context_window`
// step seam: before every model call of a prompt run or directive reply, each defined context
// chooses the messages that fit its budget (state/context_window.hpp: a tool call and its results
// are kept or dropped together) and the step sends only those. Tokens are counted exactly for models
// with a public encoding and with the documented estimate otherwise (memory/tokenizers.hpp); the
// system prompt and tool definitions count against the budget. A `context-trimmed` event reports
// what was left out. Summarizing contexts (and every hierarchical one) first fold the oldest
// messages into summaries with model calls (`context-summarized` events).
#include <algorithm>
#include <map>

#include "memory/context_requests.hpp"
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
  const std::string strategy = config.choice("strategy", {"sliding-window", "relevance-based", "hybrid", "hierarchical"}).value_or("sliding-window");
  json fields = json::object();
  for (const char* key : {"maxTokens", "reserveTokens", "prioritize", "keepMinimum", "summarization", "weights", "maxChunks"})
    if (config.has(key)) fields[key] = config.at(key);
  auto definition = std::make_shared<ContextDefinition>();
  try {
    definition->config = state::ContextConfig::parse(name, strategy, fields);
  } catch (const state::StateError& e) {
    config.fail(e.what());
  }
  definition->relevance_scorer = config.optional_string("relevanceScorer").value_or("");
  const bool ranks = strategy == "relevance-based" || strategy == "hybrid";
  if (ranks && definition->relevance_scorer.empty())
    config.fail("strategy '" + strategy + "' needs a relevanceScorer (a function (message, task) → number)");
  if (!ranks && !definition->relevance_scorer.empty()) config.fail("'relevanceScorer' applies to the 'relevance-based' and 'hybrid' strategies only");
  tree.definitions().add("context", name, std::move(definition));
}

json picked(const json& messages, const std::vector<std::size_t>& indices) {
  json out = json::array();
  for (std::size_t i : indices) out.push_back(messages[i]);
  return out;
}

[[noreturn]] void overflow(const std::string& context, const std::string& message) {
  throw OpFailed(protocol::WireError{"context_length", message, json{{"code", "CONTEXT_LENGTH"}, {"context", context}}});
}

// A context's summaries of the conversation's oldest messages, for one loop: the session summary
// (the only one of a summarizing sliding-window or relevance-based context), then, for a
// hierarchical context, the chunk summaries of the messages after it, oldest first.
struct Summary {
  std::string text;                         // the session summary; empty: none yet
  std::vector<std::string> chunks;          // hierarchical: not yet folded into the session summary
  std::vector<std::size_t> chunk_messages;  // how many messages each chunk stands for
  std::size_t covered = 0;                  // how many of the conversation's first messages all of them stand for
  bool empty() const { return text.empty() && chunks.empty(); }
};

constexpr const char* kSummaryHeading = "Summary of the earlier conversation:\n";
constexpr const char* kChunkSeparator = "\n\nThen:\n";

// The conversation as a context sends it: the summaries (one system message, session summary first,
// then the chunks in order) instead of the messages they cover.
bool is_system_message(const json& message) { return message.is_object() && message.value("role", "") == "system"; }

json with_summary(const Summary& summary, const json& conversation) {
  json out = json::array();
  // The system messages among those the summary covers are never folded into it: they stay, first.
  for (std::size_t i = 0; i < summary.covered && i < conversation.size(); ++i)
    if (is_system_message(conversation[i])) out.push_back(conversation[i]);
  if (!summary.empty()) {
    std::string text = kSummaryHeading + summary.text;
    for (std::size_t i = 0; i < summary.chunks.size(); ++i) text += (i == 0 && summary.text.empty() ? "" : kChunkSeparator) + summary.chunks[i];
    out.push_back(json{{"role", "system"}, {"content", std::move(text)}});
  }
  for (std::size_t i = summary.covered; i < conversation.size(); ++i) out.push_back(conversation[i]);
  return out;
}

// Messages as plain text for the summarizer: "role: text", tool calls and results as JSON.
std::string transcript_of(const json& messages) {
  std::string out;
  for (const json& m : messages) {
    out += m.value("role", "?") + ": ";
    const json& content = m.contains("content") ? m["content"] : json();
    if (content.is_string()) out += content.get<std::string>();
    if (content.is_array())
      for (const json& part : content) {
        const std::string type = part.value("type", "");
        if (type == "text") out += part.value("text", "");
        if (type == "tool-call") out += "[calls " + part.value("toolName", "") + " " + part.value("args", json::object()).dump() + "]";
        if (type == "tool-result") out += "[" + part.value("toolName", "tool") + " returned " + part.value("result", json()).dump() + "]";
      }
    out += "\n";
  }
  return out;
}

// The instructions of the summary calls (each begins the same way, so a test model can tell them apart from steps).
constexpr const char* kCompressPrompt =
    "You compress conversations. Write a summary of the conversation below that keeps every fact, decision, open question and tool result a "
    "later reader needs.";
constexpr const char* kChunkPrompt =
    "You compress conversations. Write a summary of this part of a conversation that keeps every fact, decision, open question and tool "
    "result a later reader needs.";
constexpr const char* kSessionPrompt =
    "You compress conversations. Merge the session summary and the summaries that follow it into one summary that keeps every fact, "
    "decision and open question a later reader needs.";

std::vector<std::size_t> tokens_of(const json& messages, const TokenCounter& counter) {
  std::vector<std::size_t> tokens;
  tokens.reserve(messages.size());
  for (const json& m : messages) tokens.push_back(state::count_message_tokens(m, counter.count));
  return tokens;
}

std::size_t total_tokens(const json& messages, const TokenCounter& counter) {
  std::size_t n = 0;
  for (const json& m : messages) n += state::count_message_tokens(m, counter.count);
  return n;
}

std::string text_of(const json& response) {
  std::string out;
  for (const json& part : response.value("content", json::array()))
    if (part.is_object() && part.value("type", "") == "text") out += part.value("text", "");
  return out;
}

class ContextWindowSeam : public pipeline::StepSeam {
 public:
  explicit ContextWindowSeam(pipeline::RunTree& tree) : served_(tree.tree_services().get<ContextRequests>().summarize) {}

  Task<void> before_step(pipeline::StepState& state, const pipeline::CallEnv& env) override {
    // ctx.summarizeContext() since the last step: every context summarizes now.
    const std::uint64_t requested = env.tree->tree_services().get<ContextRequests>().summarize;
    const bool forced = requested != served_;
    served_ = requested;
    // A hook's replacement is this step's own message list: it is windowed, never summarized.
    const bool replaced = state.overrides.messages.has_value();
    json messages = replaced ? *state.overrides.messages : state.messages;
    const json request = state.preview ? state.preview(state.overrides) : json::object();
    const std::string model = request.value("model", std::string());
    const TokenCounter counter = co_await counter_for(env.loop, env.run, *env.tree, model);
    const std::size_t fixed = fixed_request_tokens(request, counter.count);
    bool changed = false;
    for (const auto& entry : env.tree->definitions().all<ContextDefinition>("context")) {
      const std::string& name = entry.first;
      const ContextDefinition* definition = entry.second;
      // Summaries stand for the conversation's oldest messages, so they apply while the list is
      // still the conversation (no hook replaced it, no earlier context trimmed it).
      if ((definition->config.summarize || forced) && !replaced && !changed) {
        messages = co_await summarized(name, *definition, state, env, counter, fixed, model, forced);
        changed = changed || !summaries_[name].empty();
      }
      std::vector<state::WindowMessage> window = state::window_messages(messages, tokens_of(messages, counter));
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
        for (std::size_t i = 0; i < window.size(); ++i) {
          // A score that is not a number would rank the message last in silence.
          if (!scores[i].is_number())
            throw OpFailed(protocol::WireError{"callback",
                                               "context \"" + name + "\": relevanceScorer gave " + scores[i].dump() + " for message " +
                                                   std::to_string(i) + ", expected a finite number",
                                               json::object()});
          window[i].relevance = scores[i].get<double>();
        }
      }
      state::ContextSelection selection;
      try {
        selection = state::select_context(definition->config, window, fixed);
      } catch (const state::StateError& e) {
        overflow(name, e.what());
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
      changed = true;
    }
    if (changed) state.overrides.messages = std::move(messages);
  }

 private:
  // The conversation with context `name`'s summaries; when it passes `trigger` × budget, the oldest
  // messages (whole tool-call units, never the newest ones) are folded with model calls, each
  // recorded by a context-summarized event: into the running session summary, or, for a
  // hierarchical context, into a new chunk summary, the older chunks folding into the session
  // summary once there are more than maxChunks of them (or the summaries alone overflow the budget).
  Task<json> summarized(const std::string& name, const ContextDefinition& definition, const pipeline::StepState& state, const pipeline::CallEnv& env,
                        const TokenCounter& counter, std::size_t fixed, std::string model, bool forced) {
    Summary& summary = summaries_[name];
    if (summary.covered > state.messages.size()) summary = Summary{};  // the conversation was edited (directive runs)
    json view = with_summary(summary, state.messages);
    state::SummaryPlan plan;
    state::ContextConfig config = definition.config;
    if (forced) config.summarization = {0, 0};  // summarizeContext(): everything but the newest unit and keepMinimum
    try {
      plan = state::plan_summarization(config, state::window_messages(view, tokens_of(view, counter)), fixed);
    } catch (const state::StateError& e) {
      overflow(name, e.what());
    }
    if (!plan.needed || !state.side_call) co_return view;
    // Fold every message up to the last one chosen but the system messages, which stay (the summary
    // itself is one, and is never chosen). `first`: past those the summary covers already, and it.
    std::size_t first = summary.empty() ? 0 : 1;
    for (std::size_t i = 0; i < summary.covered; ++i)
      if (is_system_message(state.messages[i])) ++first;
    const std::size_t last = plan.compress.back();
    json folded = json::array();
    for (std::size_t i = first; i <= last; ++i)
      if (!is_system_message(view[i])) folded.push_back(view[i]);
    const std::size_t consumed = last + 1 - first;  // messages of the conversation the summary covers from now on
    const std::size_t budget = definition.config.max_tokens - definition.config.reserve_tokens - fixed;
    // Room for summaries: what the ratio leaves free; a rolling summary asks for half of it, a
    // hierarchical context shares it among maxChunks chunks and a session summary twice their size.
    const std::size_t free = budget - std::min(budget, std::max<std::size_t>(plan.target, 1));
    const bool hierarchical = definition.config.strategy == state::ContextStrategy::hierarchical;
    const std::size_t chunk_tokens = std::max<std::size_t>(32, hierarchical ? free / (definition.config.max_chunks + 3) : free / 2);
    if (!hierarchical) {
      std::string ask = summary.text.empty() ? "" : "The summary so far:\n" + summary.text + "\n\nThe messages that follow it:\n";
      ask += transcript_of(folded);
      summary.text = co_await summarize(name, state, model, kCompressPrompt, std::move(ask), chunk_tokens);
    } else {
      summary.chunks.push_back(co_await summarize(name, state, model, kChunkPrompt, transcript_of(folded), chunk_tokens));
      summary.chunk_messages.push_back(folded.size());
    }
    summary.covered += consumed;
    json out = with_summary(summary, state.messages);
    report(name, state, env, counter, hierarchical ? "chunk" : "session", folded.size(), plan.tokens, out,
           hierarchical ? summary.chunks.back() : summary.text);
    if (!hierarchical) co_return out;
    // Second level: every chunk but the newest folds into the session summary.
    const std::size_t summaries_tokens = state::count_message_tokens(out[0], counter.count);
    if (summary.chunks.size() > definition.config.max_chunks || (summary.chunks.size() > 1 && summaries_tokens > free)) {
      const std::size_t folding = summary.chunks.size() - 1;
      std::string ask = summary.text.empty() ? "" : "The session summary so far:\n" + summary.text + "\n\n";
      ask += "Summaries of what followed, in order:\n";
      std::size_t messages = 0;
      for (std::size_t i = 0; i < folding; ++i) {
        ask += "- " + summary.chunks[i] + "\n";
        messages += summary.chunk_messages[i];
      }
      const std::size_t before = total_tokens(out, counter);
      summary.text = co_await summarize(name, state, model, kSessionPrompt, std::move(ask), 2 * chunk_tokens);
      summary.chunks.erase(summary.chunks.begin(), summary.chunks.begin() + static_cast<std::ptrdiff_t>(folding));
      summary.chunk_messages.erase(summary.chunk_messages.begin(), summary.chunk_messages.begin() + static_cast<std::ptrdiff_t>(folding));
      out = with_summary(summary, state.messages);
      report(name, state, env, counter, "session", messages, before, out, summary.text);
    }
    co_return out;
  }

  // One summary call of the step's model (no tools; `purpose: "summary"` keeps it out of the run's text).
  Task<std::string> summarize(const std::string& name, const pipeline::StepState& state, std::string model, const char* instructions, std::string ask,
                              std::size_t max_tokens) {
    json input{{"system", std::string(instructions) + " At most " + std::to_string(max_tokens * 3 / 4) +
                              " words. Answer with the summary only."},  // ≈ 0.75 words per token
               {"messages", json::array({json{{"role", "user"}, {"content", std::move(ask)}}})},
               {"params", json{{"maxOutputTokens", max_tokens}}},
               {"purpose", "summary"}};
    const json response = co_await state.side_call(model, std::move(input));
    std::string text = text_of(response);
    if (text.empty()) overflow(name, "context \"" + name + "\": the summarization call answered no text (model \"" + model + "\")");
    co_return text;
  }

  void report(const std::string& name, const pipeline::StepState& state, const pipeline::CallEnv& env, const TokenCounter& counter, const char* level,
              std::size_t summarized, std::size_t before, const json& out, const std::string& text) {
    env.emit(json{{"type", "context-summarized"},
                  {"context", name},
                  {"stepNumber", state.step},
                  {"level", level},
                  {"summarized", summarized},
                  {"covered", summaries_[name].covered},
                  {"tokensBefore", before},
                  {"tokensAfter", total_tokens(out, counter)},
                  {"summaryTokens", counter.count(text)},
                  {"summary", text}});
  }

  std::map<std::string, Summary> summaries_;
  std::uint64_t served_;
};

std::unique_ptr<pipeline::StepSeam> make_context_window(const pipeline::StepSeamContext& context) {
  if (context.tree.definitions().names("context").empty()) return nullptr;
  return std::make_unique<ContextWindowSeam>(context.tree);
}

}  // namespace

}  // namespace lmthing::memory

namespace lmthing::pipeline::registered {
extern const DefinitionKind context_kind{
    "context",
    "context",
    {"strategy", "maxTokens", "reserveTokens", "prioritize", "keepMinimum", "relevanceScorer", "summarization", "weights", "maxChunks"},
    memory::define_context,
    nullptr};
extern const StepSeamType context_window_seam{"context_window", memory::make_context_window};
}  // namespace lmthing::pipeline::registered
