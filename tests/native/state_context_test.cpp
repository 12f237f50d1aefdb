// Context-window selection (src/state/context_window.*): sliding window, relevance, keepMinimum,
// the budget, summarization plans, and — on randomized conversations — that a tool call is never
// separated from its result.
#include <catch2/catch.hpp>

#include <numeric>
#include <string>
#include <vector>

#include "runtime/random.hpp"
#include "state/context_window.hpp"
#include "state/state_error.hpp"

namespace {

using lmthing::Random;
using json = lmthing::Json;
using namespace lmthing::state;

WindowMessage msg(std::string role, std::size_t tokens, std::vector<std::string> calls = {}, std::vector<std::string> results = {},
                  double relevance = 0) {
  return WindowMessage{std::move(role), tokens, std::move(calls), std::move(results), relevance};
}

ContextConfig sliding(std::size_t max, std::size_t reserve = 0) {
  ContextConfig c;
  c.name = "main";
  c.max_tokens = max;
  c.reserve_tokens = reserve;
  return c;
}

using Indices = std::vector<std::size_t>;

std::string context_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const StateError& e) {
    return std::string(e.code()) + ": " + e.what();
  }
  return "";
}

// A random conversation: a system prompt, then user turns, assistant turns with 0-3 tool calls
// whose results come in one or several tool messages, random sizes.
std::vector<WindowMessage> random_conversation(Random& rng, std::size_t turns) {
  std::vector<WindowMessage> m{msg("system", 5 + rng.below(30))};
  int call = 0;
  for (std::size_t t = 0; t < turns; ++t) {
    m.push_back(msg("user", 1 + rng.below(60), {}, {}, rng.uniform()));
    const std::size_t calls = rng.below(4);
    if (calls == 0) {
      m.push_back(msg("assistant", 1 + rng.below(80), {}, {}, rng.uniform()));
      continue;
    }
    std::vector<std::string> ids;
    for (std::size_t c = 0; c < calls; ++c) ids.push_back("call" + std::to_string(call++));
    m.push_back(msg("assistant", 5 + rng.below(40), ids, {}, rng.uniform()));
    if (rng.below(2)) {
      m.push_back(msg("tool", 1 + rng.below(200), {}, ids, rng.uniform()));
    } else {
      for (const auto& id : ids) m.push_back(msg("tool", 1 + rng.below(120), {}, {id}, rng.uniform()));
    }
  }
  return m;
}

}  // namespace

TEST_CASE("sliding window keeps the system prompt and the newest messages that fit", "[state][context]") {
  const std::vector<WindowMessage> m{msg("system", 10), msg("user", 30), msg("assistant", 30), msg("user", 20), msg("assistant", 25)};
  auto s = select_context(sliding(100, 10), m);
  CHECK(s.budget == 90);
  // 10 (system) + 25 + 20 + 30 = 85 <= 90; the oldest user message (30) no longer fits.
  CHECK(s.kept == Indices{0, 2, 3, 4});
  CHECK(s.dropped == Indices{1});
  CHECK(s.kept_tokens == 85);
  CHECK(s.dropped_tokens == 30);
  // Everything fits: nothing dropped.
  s = select_context(sliding(1000), m);
  CHECK(s.dropped.empty());
  // Fixed tokens (tools, reply priming) come off the budget too.
  s = select_context(sliding(100, 10), m, 30);
  CHECK(s.kept == Indices{0, 3, 4});
}

TEST_CASE("the window has no holes: it stops at the first message that does not fit", "[state][context]") {
  const std::vector<WindowMessage> m{msg("system", 5), msg("user", 5), msg("assistant", 80), msg("user", 10)};
  CHECK(select_context(sliding(50), m).kept == Indices{0, 3});
}

TEST_CASE("a tool call and its results are kept or dropped together", "[state][context]") {
  const std::vector<WindowMessage> m{msg("system", 10),          msg("user", 10),     msg("assistant", 10, {"a", "b"}), msg("tool", 30, {}, {"a"}),
                                     msg("tool", 30, {}, {"b"}), msg("assistant", 10)};
  // 10 + 10 (last) = 20; the tool unit needs 70: it does not fit in 60, so it goes as a whole.
  CHECK(select_context(sliding(60), m).kept == Indices{0, 5});
  CHECK(select_context(sliding(90), m).kept == Indices{0, 2, 3, 4, 5});
}

TEST_CASE("not fitting the system prompt or keepMinimum is CONTEXT_OVERFLOW naming the context", "[state][context]") {
  const std::vector<WindowMessage> m{msg("system", 120), msg("user", 10)};
  CHECK(context_error_of([&] { select_context(sliding(100, 20), m); }) ==
        "CONTEXT_OVERFLOW: context \"main\": the system messages need 120 tokens but the budget is 80 (maxTokens 100 - reserveTokens 20)");
  ContextConfig c = sliding(100);
  c.keep_minimum = 2;
  const std::vector<WindowMessage> big{msg("system", 10), msg("user", 50), msg("assistant", 60)};
  CHECK_THAT(context_error_of([&] { select_context(c, big); }),
             Catch::StartsWith("CONTEXT_OVERFLOW: context \"main\": the 2 most recent messages (keepMinimum)"));
  CHECK_THAT(context_error_of([&] { select_context(sliding(100), m, 200); }), Catch::Contains("leave nothing of maxTokens (100)"));
}

TEST_CASE("prioritize: without system, system messages compete by recency; first keeps the task", "[state][context]") {
  const std::vector<WindowMessage> m{msg("system", 40), msg("user", 20), msg("assistant", 30), msg("user", 30)};
  ContextConfig c = sliding(70);
  c.prioritize = {ContextPriority::recent};
  CHECK(select_context(c, m).kept == Indices{2, 3});
  c.prioritize = {ContextPriority::system, ContextPriority::first, ContextPriority::recent};
  c.max_tokens = 95;
  CHECK(select_context(c, m).kept == Indices{0, 1, 3});
}

TEST_CASE("relevance-based keeps the most relevant that fit, plus keepMinimum recent", "[state][context]") {
  ContextConfig c = ContextConfig::parse("task", "relevance-based", {{"maxTokens", 100}, {"keepMinimum", 1}});
  const std::vector<WindowMessage> m{msg("system", 10), msg("user", 30, {}, {}, 0.9), msg("assistant", 30, {}, {}, 0.1), msg("user", 41, {}, {}, 0.5),
                                     msg("assistant", 20, {}, {}, 0.0)};
  // system 10 + keepMinimum (last, 20) = 30; then 0.9 (30) → 60; 0.5 (41) does not fit; 0.1 (30) → 90.
  CHECK(select_context(c, m).kept == Indices{0, 1, 2, 4});
  // Ties go to the newer message.
  const std::vector<WindowMessage> ties{msg("user", 30, {}, {}, 0.5), msg("user", 30, {}, {}, 0.5), msg("user", 30, {}, {}, 0.5)};
  c.keep_minimum = 0;
  c.max_tokens = 60;
  CHECK(select_context(c, ties).kept == Indices{1, 2});
}

TEST_CASE("randomized conversations: never a tool call without its results, always within budget", "[state][context]") {
  Random rng(2024);
  for (int trial = 0; trial < 300; ++trial) {
    const auto m = random_conversation(rng, 1 + rng.below(40));
    ContextConfig c = sliding(60 + rng.below(800), rng.below(40));
    if (const std::size_t pick = rng.below(3); pick > 0) {
      json config{{"maxTokens", c.max_tokens}, {"reserveTokens", c.reserve_tokens}};
      if (pick == 2) config["weights"] = {{"recent", rng.uniform()}, {"relevant", 0.5}};
      c = ContextConfig::parse("r", pick == 1 ? "relevance-based" : "hybrid", config);
    }
    c.keep_minimum = rng.below(2);
    ContextSelection s;
    try {
      s = select_context(c, m);
    } catch (const StateError& e) {
      CHECK(std::string(e.code()) == error_code::kContextOverflow);
      continue;
    }
    INFO("trial " << trial);
    CHECK(keeps_tool_pairs(m, s.kept));
    CHECK(s.kept_tokens <= s.budget);
    CHECK(s.kept.size() + s.dropped.size() == m.size());
    CHECK(std::is_sorted(s.kept.begin(), s.kept.end()));
    CHECK(s.kept.front() == 0);  // the system prompt
    if (c.strategy == ContextStrategy::sliding_window && !s.dropped.empty()) {
      // Sliding window: the non-system messages kept are one contiguous newest stretch.
      for (std::size_t k = 2; k < s.kept.size(); ++k) CHECK(s.kept[k] == s.kept[k - 1] + 1);
      if (s.kept.size() > 1) CHECK(s.kept.back() == m.size() - 1);
    }
    const auto plan = plan_summarization(c, m);
    std::vector<std::size_t> rest;
    std::set_difference(s.kept.begin(), s.kept.end(), plan.compress.begin(), plan.compress.end(), std::back_inserter(rest));
    CHECK(keeps_tool_pairs(m, rest));
    for (std::size_t i : plan.compress) CHECK(m[i].role != "system");
  }
}

TEST_CASE("hybrid keeps the newest messages within their share, then the most relevant", "[state][context][hybrid]") {
  // A system prompt of 10, ten messages of 10; the older ones scored 0.9, 0.8, 0.7, 0.6, the rest 0.
  std::vector<WindowMessage> m{msg("system", 10)};
  for (int i = 1; i <= 10; ++i) m.push_back(msg(i % 2 ? "user" : "assistant", 10, {}, {}, i <= 4 ? 1.0 - 0.1 * i : 0));
  const auto hybrid = [&](double recent, double relevant) {
    return select_context(ContextConfig::parse("main", "hybrid", {{"maxTokens", 70}, {"weights", {{"recent", recent}, {"relevant", relevant}}}}), m)
        .kept;
  };
  // Room after the system prompt: 60. Half for the newest (10, 9, 8), the rest by relevance (1, 2, 3).
  CHECK(hybrid(1, 1) == Indices{0, 1, 2, 3, 8, 9, 10});
  // Only recent: a sliding window.
  CHECK(hybrid(1, 0) == Indices{0, 5, 6, 7, 8, 9, 10});
  CHECK(hybrid(1, 0) == select_context(sliding(70), m).kept);
  // Only relevant: by score, then ties newer first.
  CHECK(hybrid(0, 1) == Indices{0, 1, 2, 3, 4, 9, 10});
  // Three quarters recent: 45 of the 60 → four newest (40), then 1 and 2.
  CHECK(hybrid(3, 1) == Indices{0, 1, 2, 7, 8, 9, 10});
  // keepMinimum comes before the shares: the share is of what it leaves.
  ContextConfig c = ContextConfig::parse("main", "hybrid", {{"maxTokens", 70}, {"keepMinimum", 2}});
  c.recent_share = 0.25;
  // 10 and 9 kept first (used 30); the recent share is a quarter of the 40 left → only 10 more (8); then 1, 2, 3.
  CHECK(select_context(c, m).kept == Indices{0, 1, 2, 3, 8, 9, 10});
}

TEST_CASE("keeps_tool_pairs detects a split pair", "[state][context]") {
  const std::vector<WindowMessage> m{msg("assistant", 1, {"a"}), msg("tool", 1, {}, {"a"})};
  CHECK(keeps_tool_pairs(m, {0, 1}));
  CHECK(keeps_tool_pairs(m, {}));
  CHECK_FALSE(keeps_tool_pairs(m, {0}));
  CHECK_FALSE(keeps_tool_pairs(m, {1}));
}

TEST_CASE("summarization plan: past the trigger, compress the oldest until the ratio is met", "[state][context]") {
  ContextConfig c = ContextConfig::parse("main", "sliding-window", {{"maxTokens", 100}, {"summarization", {{"trigger", 0.8}, {"ratio", 0.5}}}});
  CHECK(c.summarize);
  const std::vector<WindowMessage> under{msg("system", 10), msg("user", 30), msg("assistant", 30)};
  CHECK_FALSE(plan_summarization(c, under).needed);
  const std::vector<WindowMessage> over{msg("system", 10),          msg("user", 20), msg("assistant", 20, {"t"}),
                                        msg("tool", 20, {}, {"t"}), msg("user", 15), msg("assistant", 10)};
  const auto plan = plan_summarization(c, over);
  CHECK(plan.needed);
  CHECK(plan.tokens == 95);
  CHECK(plan.target == 50);
  // 95 - 20 = 75 > 50; - 40 (the tool unit) = 35 <= 50.
  CHECK(plan.compress == Indices{1, 2, 3});
}

TEST_CASE("window_messages reads roles and tool ids from provider-neutral messages", "[state][context]") {
  const json messages =
      json::array({{{"role", "user"}, {"content", "hi"}},
                   {{"role", "assistant"}, {"content", {{{"type", "tool-call"}, {"toolCallId", "c1"}, {"toolName", "t"}, {"args", json::object()}}}}},
                   {{"role", "tool"}, {"content", {{{"type", "tool-result"}, {"toolCallId", "c1"}, {"result", 1}}}}}});
  const auto m = window_messages(messages, {3, 4, 5});
  CHECK(m[1].tool_calls == std::vector<std::string>{"c1"});
  CHECK(m[2].tool_results == std::vector<std::string>{"c1"});
  CHECK(m[2].tokens == 5);
  CHECK(context_error_of([&] { window_messages(messages, {1}); }).rfind("INVALID_MESSAGES", 0) == 0);
}

TEST_CASE("context config parsing names the context and the field", "[state][context]") {
  const auto bad = [](const std::string& strategy, const json& config) {
    return context_error_of([&] { ContextConfig::parse("main", strategy, config); });
  };
  CHECK(bad("sliding-window", json::object()) == "INVALID_CONFIG: context \"main\": \"maxTokens\" is required (an integer >= 1)");
  CHECK(bad("sliding-window", {{"maxTokens", 100}, {"reserveTokens", 100}}) ==
        "INVALID_CONFIG: context \"main\": \"reserveTokens\" (100) must be less than \"maxTokens\" (100)");
  CHECK(bad("sliding-window", {{"maxTokens", 100}, {"prioritize", {"system", "oldest"}}}) ==
        "INVALID_CONFIG: context \"main\": unknown \"prioritize\" entry \"oldest\" (expected system, first, recent or relevant)");
  CHECK(
      bad("fifo", {{"maxTokens", 100}}) ==
      "INVALID_CONFIG: context \"main\": strategy \"fifo\" is not supported here (expected sliding-window, relevance-based, hybrid or hierarchical)");
  CHECK(bad("hybrid", {{"maxTokens", 100}, {"weights", {{"recent", -1}}}}) ==
        "INVALID_CONFIG: context \"main\": \"weights.recent\" must be a number >= 0, got -1");
  CHECK(bad("hybrid", {{"maxTokens", 100}, {"weights", {{"recent", 0}, {"relevant", 0}}}}) ==
        "INVALID_CONFIG: context \"main\": \"weights\" must not all be 0");
  CHECK(bad("relevance-based", {{"maxTokens", 100}, {"weights", {{"recent", 1}}}}) ==
        "INVALID_CONFIG: context \"main\": \"weights\" applies to the hybrid strategy only");
  CHECK(bad("hybrid", {{"maxTokens", 100}, {"maxChunks", 2}}) ==
        "INVALID_CONFIG: context \"main\": \"maxChunks\" applies to the hierarchical strategy only");
  const ContextConfig h = ContextConfig::parse("main", "hierarchical", {{"maxTokens", 100}, {"maxChunks", 2}});
  CHECK(h.summarize);
  CHECK(h.max_chunks == 2);
  CHECK(bad("sliding-window", {{"maxTokens", 100}, {"summarization", {{"trigger", 1.5}}}}) ==
        "INVALID_CONFIG: context \"main\": \"summarization.trigger\" must be a number in (0, 1], got 1.5");
}
