// Choosing which messages of a conversation go to the model when it does not fit its context
// window (defContext). Pure functions: messages with token counts in, the kept and the dropped
// indices out; the caller counts tokens (token_count.hpp), scores relevance, and later summarizes
// what was dropped.
//
// Rules, for every strategy:
//   * the budget is maxTokens - reserveTokens - fixed tokens (tools, reply priming);
//   * an assistant message with tool calls and the tool messages answering them form one unit,
//     kept or dropped together (a provider rejects a tool result without its call and vice versa);
//   * `system` in `prioritize` means every system message is kept, and not fitting them is a
//     CONTEXT_OVERFLOW error; so is not fitting the `keepMinimum` most recent messages;
//   * then `prioritize` is applied in order: `first` keeps the first non-system message (the task)
//     if it fits, `recent` keeps units newest first and stops at the first that does not fit (a
//     window never has holes), `relevant` keeps units by descending relevance (ties: newer first),
//     skipping those that do not fit;
//   * kept messages keep their original order.
// Strategies: `sliding-window` (default prioritize [system, recent]), `relevance-based`
// (default [system, relevant]; relevance per message from the caller's relevanceScorer, a unit
// scores its best message), `hybrid` (default [system, recent, relevant]: `recent` may take only
// the `weights.recent` share of the room left after system and keepMinimum, `relevant` fills the
// rest) and `hierarchical` (a window as sliding-window; the caller always summarizes: chunk
// summaries of older messages, folded into one session summary past `maxChunks`).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::state {

struct WindowMessage {
  std::string role;  // system, user, assistant, tool
  std::size_t tokens = 0;
  std::vector<std::string> tool_calls;    // ids of the tool calls this message makes
  std::vector<std::string> tool_results;  // ids of the tool calls this message answers
  double relevance = 0;
};

// The WindowMessage view of provider-neutral messages ({role, content}, tool-call / tool-result
// parts carrying toolCallId) with their token counts (same length). Throws INVALID_MESSAGES.
std::vector<WindowMessage> window_messages(const lmthing::Json& messages, const std::vector<std::size_t>& tokens);

enum class ContextStrategy { sliding_window, relevance_based, hybrid, hierarchical };
enum class ContextPriority { system, first, recent, relevant };

struct SummarizationConfig {
  double trigger = 0.8;  // summarize once the messages use this fraction of the budget
  double ratio = 0.5;    // compress the oldest messages until this fraction remains
};

struct ContextConfig {
  std::string name;  // for errors: context "main"
  ContextStrategy strategy = ContextStrategy::sliding_window;
  std::size_t max_tokens = 0;
  std::size_t reserve_tokens = 0;
  std::vector<ContextPriority> prioritize{ContextPriority::system, ContextPriority::recent};
  std::size_t keep_minimum = 0;
  SummarizationConfig summarization;
  bool summarize = false;      // a summarization section was given (always true for hierarchical)
  double recent_share = 0.5;   // hybrid: weights.recent / (weights.recent + weights.relevant)
  std::size_t max_chunks = 4;  // hierarchical: chunk summaries kept before they fold into the session summary

  // From defContext(name, strategy, {maxTokens, reserveTokens?, prioritize?, keepMinimum?,
  // summarization?: {trigger, ratio}, weights?: {recent, relevant} (hybrid), maxChunks? (hierarchical)});
  // relevanceScorer is the caller's. Throws INVALID_CONFIG
  // naming the context and the field.
  static ContextConfig parse(const std::string& name, const std::string& strategy, const lmthing::Json& config);
};

struct ContextSelection {
  std::vector<std::size_t> kept;     // message indices, ascending
  std::vector<std::size_t> dropped;  // message indices, ascending
  std::size_t kept_tokens = 0;
  std::size_t dropped_tokens = 0;
  std::size_t budget = 0;
};

// Throws StateError(CONTEXT_OVERFLOW) naming the context when what must be kept does not fit.
ContextSelection select_context(const ContextConfig& config, const std::vector<WindowMessage>& messages, std::size_t fixed_tokens = 0);

struct SummaryPlan {
  bool needed = false;
  std::vector<std::size_t> compress;  // the oldest non-system messages to summarize, ascending, whole units
  std::size_t tokens = 0;             // of all messages now
  std::size_t target = 0;             // ratio × budget
};

// When the messages use more than trigger × budget, which oldest messages to compress so that the
// rest fits in ratio × budget (never system messages, never the keepMinimum newest, never the
// newest unit, never half a unit).
SummaryPlan plan_summarization(const ContextConfig& config, const std::vector<WindowMessage>& messages, std::size_t fixed_tokens = 0);

// True when every kept tool result has its call kept and every kept call has all its results kept.
bool keeps_tool_pairs(const std::vector<WindowMessage>& messages, const std::vector<std::size_t>& kept);

}  // namespace lmthing::state
