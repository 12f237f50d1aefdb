// defContext wired as the `context_window` step seam (docs/memory.md): every model call of a
// prompt run gets only the messages that fit maxTokens − reserveTokens, the newest first, never a
// tool result without its call; what cannot be left out is a context_length error.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <set>

#include "prompt_script.hpp"
#include "state/bpe.hpp"
#include "state/token_count.hpp"

using namespace lmthing;
using namespace lmthing::testing;

namespace {

std::string long_text(int i) { return "message " + std::to_string(i) + " talks about the weather in some city for a while, at length"; }

// user / assistant turns, with a tool call and its result every third turn.
json conversation(int turns) {
  json messages = json::array();
  for (int i = 0; i < turns; ++i) {
    messages.push_back({{"role", "user"}, {"content", long_text(i)}});
    if (i % 3 == 1) {
      const std::string id = "call-" + std::to_string(i);
      messages.push_back({{"role", "assistant"}, {"content", json::array({call_part(id, "weather", {{"city", "Paris"}})})}});
      messages.push_back(
          {{"role", "tool"},
           {"content", json::array({json{{"type", "tool-result"}, {"toolCallId", id}, {"toolName", "weather"}, {"result", "sunny"}}})}});
    } else {
      messages.push_back({{"role", "assistant"}, {"content", long_text(i) + " (answer)"}});
    }
  }
  messages.push_back({{"role", "user"}, {"content", "and now the final question"}});
  return messages;
}

json context_spec(json config, json messages) {
  return prompt_spec(json{{"messages", std::move(messages)}, {"definitions", definitions({definition("context", "main", std::move(config))})}});
}

// Every kept tool result has its call, and every kept call its result.
bool pairs_intact(const json& messages) {
  std::set<std::string> calls, results;
  for (const auto& m : messages)
    if (m["content"].is_array())
      for (const auto& p : m["content"]) {
        if (p.value("type", "") == "tool-call") calls.insert(p["toolCallId"].get<std::string>());
        if (p.value("type", "") == "tool-result") results.insert(p["toolCallId"].get<std::string>());
      }
  return calls == results;
}

}  // namespace

TEST_CASE("a sliding window sends the newest messages that fit and reports what it left out", "[context]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("ok")})};
  json reply = run_prompt(h, script, context_spec({{"strategy", "sliding-window"}, {"maxTokens", 200}, {"reserveTokens", 40}}, conversation(12)));
  REQUIRE(reply["ok"] == true);
  const json& sent = script.model_requests.at(0)["messages"];
  REQUIRE(sent.size() < conversation(12).size());
  REQUIRE(sent.back()["content"] == "and now the final question");
  REQUIRE(pairs_intact(sent));
  auto trimmed = run_events(h, "context-trimmed");
  REQUIRE(trimmed.size() == 1);
  REQUIRE(trimmed[0]["context"] == "main");
  REQUIRE(trimmed[0]["kept"].get<std::size_t>() == sent.size());
  REQUIRE(trimmed[0]["keptTokens"].get<std::size_t>() <= trimmed[0]["budget"].get<std::size_t>());
  REQUIRE(trimmed[0]["budget"] == 200 - 40 - 3);
}

TEST_CASE("whatever the budget, a tool result is never sent without its call", "[context]") {
  for (int max_tokens = 60; max_tokens <= 600; max_tokens += 15) {
    Harness h;
    Script script;
    script.model_responses = {response({text_part("ok")})};
    json reply = run_prompt(h, script, context_spec({{"maxTokens", max_tokens}}, conversation(10)));
    INFO("maxTokens " << max_tokens);
    REQUIRE(reply["ok"] == true);
    REQUIRE(pairs_intact(script.model_requests.at(0)["messages"]));
  }
}

TEST_CASE("a context that fits everything changes nothing", "[context]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("ok")})};
  run_prompt(h, script, context_spec({{"maxTokens", 100000}}, conversation(3)));
  REQUIRE(script.model_requests.at(0)["messages"].size() == conversation(3).size());
  REQUIRE(run_events(h, "context-trimmed").empty());
}

TEST_CASE("keepMinimum that cannot fit fails the run with context_length naming the context", "[context]") {
  Harness h;
  Script script;
  json reply = run_prompt(h, script, context_spec({{"maxTokens", 40}, {"keepMinimum", 6}}, conversation(6)));
  REQUIRE(reply["ok"] == false);
  REQUIRE(reply["error"]["kind"] == "context_length");
  REQUIRE_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("context \"main\""));
  REQUIRE(script.model_requests.empty());
}

TEST_CASE("relevance-based keeps the messages the scorer ranks highest", "[context]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("ok")})};
  // Scores: the final question and message 0 high, everything else low.
  script.callbacks["score"] = [](const json& args) {
    json scores = json::array();
    for (const auto& m : args[0]) {
      const std::string text = m["content"].is_string() ? m["content"].get<std::string>() : "";
      scores.push_back(text == long_text(0) || text == "and now the final question" ? 1.0 : 0.0);
    }
    return scores;
  };
  run_prompt(h, script, context_spec({{"strategy", "relevance-based"}, {"maxTokens", 60}, {"relevanceScorer", "score"}}, conversation(8)));
  const json& sent = script.model_requests.at(0)["messages"];
  // Message 0 (the oldest) is kept for its score although newer ones are dropped; the rest of the
  // budget goes to unscored messages, newest first.
  REQUIRE(sent.size() < conversation(8).size());
  REQUIRE(sent[0]["content"] == long_text(0));
  REQUIRE(sent.back()["content"] == "and now the final question");
  REQUIRE(sent[1]["content"] != long_text(0) + " (answer)");
}

TEST_CASE("context configs are checked when the run starts", "[context]") {
  Harness h;
  Script script;
  json typo = run_prompt(h, script, context_spec({{"maxTokens", 100}, {"reserveTokns", 10}}, conversation(1)));
  REQUIRE(typo["error"]["kind"] == "config");
  REQUIRE_THAT(typo["error"]["message"].get<std::string>(), Catch::Contains("reserveTokens"));
  Harness h2;
  json no_scorer = run_prompt(h2, script, context_spec({{"strategy", "relevance-based"}, {"maxTokens", 100}}, conversation(1)));
  REQUIRE_THAT(no_scorer["error"]["message"].get<std::string>(), Catch::Contains("relevanceScorer"));
  // A scorer the strategy would never call, and a summary that would start below where it stops.
  Harness h3;
  json idle_scorer = run_prompt(h3, script, context_spec({{"maxTokens", 100}, {"relevanceScorer", "score"}}, conversation(1)));
  REQUIRE_THAT(idle_scorer["error"]["message"].get<std::string>(),
               Catch::Contains("'relevanceScorer' applies to the 'relevance-based' and 'hybrid' strategies only"));
  Harness h4;
  json upside_down =
      run_prompt(h4, script, context_spec({{"maxTokens", 100}, {"summarization", {{"trigger", 0.5}, {"ratio", 0.9}}}}, conversation(1)));
  REQUIRE(upside_down["error"]["kind"] == "config");
  REQUIRE_THAT(upside_down["error"]["message"].get<std::string>(),
               Catch::Contains("summarization's \"ratio\" (0.9) must not exceed its \"trigger\" (0.5)"));
}

TEST_CASE("a relevanceScorer's answer that is not a number fails the step, naming the message", "[context]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("unused")})};
  script.callbacks["score"] = [](const json& args) {
    json scores = json::array();
    for (std::size_t i = 0; i < args[0].size(); ++i) scores.push_back(i == 1 ? json("high") : json(1.0));
    return scores;
  };
  json reply =
      run_prompt(h, script, context_spec({{"strategy", "relevance-based"}, {"maxTokens", 60}, {"relevanceScorer", "score"}}, conversation(3)));
  REQUIRE(reply["ok"] == false);
  REQUIRE_THAT(reply["error"]["message"].get<std::string>(),
               Catch::Contains("relevanceScorer gave \"high\" for message 1, expected a finite number"));
  REQUIRE(script.model_requests.empty());
}

namespace {

// The exact tokens of one message as the seam counts them for gpt-4o.
std::size_t o200k_message_tokens(const json& message) {
  static const state::BpeEncoding o200k = [] {
    std::ifstream in(std::string(LMTHING_TOKENIZER_DIR) + "/o200k_base.bpe", std::ios::binary);
    return state::BpeEncoding::load(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }();
  return state::count_message_tokens(message, [](std::string_view text) { return o200k.count(text); });
}

json openai_spec(json config, json messages, json extra = json::object()) {
  json spec = context_spec(std::move(config), std::move(messages));
  spec["model"] = "openai:gpt-4o";
  for (auto& [key, value] : extra.items()) spec[key] = value;
  return spec;
}

}  // namespace

TEST_CASE("an OpenAI model's context counts exact o200k tokens, loading the rank file once", "[context][tokens]") {
  Harness h;
  Script script;
  script.model_responses = {response({call_part("c1", "weather", {{"city", "Paris"}})}, "tool-calls"), response({text_part("ok")})};
  script.callbacks["tool:weather"] = [](const json&) { return json{{"tempC", 21}}; };
  run_prompt(h, script, openai_spec({{"maxTokens", 300}, {"reserveTokens", 40}}, conversation(12), {{"tools", json::array({weather_tool()})}}));
  REQUIRE(script.tokenizer_loads == std::vector<std::string>{"o200k_base"});  // two steps, one load
  auto trimmed = run_events(h, "context-trimmed");
  REQUIRE(trimmed.size() == 2);
  for (std::size_t step = 0; step < trimmed.size(); ++step) {
    REQUIRE(trimmed[step]["encoding"] == "o200k_base");
    std::size_t sent_tokens = 0;
    for (const json& m : script.model_requests.at(step)["messages"]) sent_tokens += o200k_message_tokens(m);
    REQUIRE(trimmed[step]["keptTokens"].get<std::size_t>() == sent_tokens);
    // The tool definitions count against the budget, so it is less than maxTokens − reserve − priming.
    const std::size_t fixed = trimmed[step]["fixedTokens"].get<std::size_t>();
    REQUIRE(fixed > 3);
    REQUIRE(trimmed[step]["budget"].get<std::size_t>() == 300 - 40 - fixed);
    REQUIRE(sent_tokens <= trimmed[step]["budget"].get<std::size_t>());
  }
  // A second run on the same engine reuses the loaded encoding.
  Script again;
  again.answered = h.host.started.size();
  again.model_responses = {response({text_part("ok")})};
  h.post(json{{"type", "run.start"}, {"id", 2}, {"spec", openai_spec({{"maxTokens", 300}}, conversation(12))}});
  REQUIRE(h.run(std::ref(again)));
  REQUIRE(h.reply(2));
  REQUIRE((*h.reply(2))["ok"] == true);
  REQUIRE(again.model_requests.size() == 1);
  REQUIRE(again.tokenizer_loads.empty());
}

TEST_CASE("a model without a public tokenizer is counted with the estimate", "[context][tokens]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("ok")})};
  run_prompt(h, script, context_spec({{"maxTokens", 200}}, conversation(12)));
  REQUIRE(script.tokenizer_loads.empty());
  auto trimmed = run_events(h, "context-trimmed");
  REQUIRE(trimmed.size() == 1);
  REQUIRE(trimmed[0]["encoding"].is_null());
}

TEST_CASE("a system prompt that does not fit fails with context_length naming the context", "[context][tokens]") {
  Harness h;
  Script script;
  std::string big;
  for (int i = 0; i < 60; ++i) big += "You are a careful assistant who reads everything twice. ";
  json reply = run_prompt(h, script, openai_spec({{"maxTokens", 200}}, conversation(2), {{"systems", {{{"name", "role"}, {"value", big}}}}}));
  REQUIRE(reply["ok"] == false);
  REQUIRE(reply["error"]["kind"] == "context_length");
  REQUIRE(reply["error"]["context"] == "main");
  REQUIRE_THAT(reply["error"]["message"].get<std::string>(), Catch::Contains("context \"main\"") && Catch::Contains("system prompt"));
  REQUIRE(script.model_requests.empty());
}

TEST_CASE("summarization folds the oldest messages into a running summary and keeps every call under the budget", "[context][summary]") {
  Harness h;
  Script script;
  int summaries = 0;
  std::vector<json> summary_requests;
  script.model = [&](const json& request) {
    if (request.value("purpose", "") == "summary") {
      summary_requests.push_back(request);
      return response({text_part("summary " + std::to_string(++summaries) + ": the user asked for weather in many cities; all were sunny.")});
    }
    return response({call_part("c" + std::to_string(request["step"].get<int>()), "weather", {{"city", "Paris"}})}, "tool-calls");
  };
  script.callbacks["tool:weather"] = [](const json&) { return json{{"report", std::string(120, 'x') + " sunny, 21 degrees, light wind"}}; };
  const int steps = 60;
  json spec = openai_spec({{"maxTokens", 700}, {"reserveTokens", 100}, {"summarization", {{"trigger", 0.8}, {"ratio", 0.5}}}}, conversation(1),
                          {{"tools", json::array({weather_tool()})}, {"options", {{"maxSteps", steps}}}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  auto summarized = run_events(h, "context-summarized");
  REQUIRE(summarized.size() >= 3);
  REQUIRE(summary_requests.size() == summarized.size());
  // Later summaries fold the previous one in, and never send tools.
  REQUIRE_THAT(summary_requests.back()["messages"][1]["content"].get<std::string>(), Catch::Contains("The summary so far:\nsummary "));
  REQUIRE(summary_requests.back()["tools"].empty());
  std::size_t covered = 0;
  for (const json& e : summarized) {
    REQUIRE(e["context"] == "main");
    REQUIRE(e["covered"].get<std::size_t>() > covered);  // it only grows
    covered = e["covered"].get<std::size_t>();
    REQUIRE(e["tokensAfter"].get<std::size_t>() < e["tokensBefore"].get<std::size_t>());
  }
  // Every step's call: the summary first once there is one, tool calls with their results, and
  // (exactly counted) within maxTokens − reserveTokens with the fixed part.
  std::size_t step_calls = 0;
  for (const json& request : script.model_requests) {
    if (request.value("purpose", "") == "summary") continue;
    ++step_calls;
    json messages = json::array();
    for (const json& m : request["messages"])
      if (m["role"] != "system" || m["content"] != request["system"]) messages.push_back(m);
    REQUIRE(pairs_intact(messages));
    std::size_t tokens = 0;
    for (const json& m : messages) tokens += o200k_message_tokens(m);
    REQUIRE(tokens <= 700 - 100);
  }
  REQUIRE(step_calls == steps);
  const json& last = script.model_requests.back()["messages"];
  REQUIRE(last[0]["role"] == "system");
  REQUIRE_THAT(last[0]["content"].get<std::string>(), Catch::Contains("summary " + std::to_string(summaries)));
}

TEST_CASE("hierarchical keeps chunk summaries and a session summary, and every call under the budget", "[context][summary][hierarchical]") {
  Harness h;
  Script script;
  int chunks = 0, sessions = 0;
  std::vector<json> chunk_requests, session_requests;
  script.model = [&](const json& request) {
    if (request.value("purpose", "") == "summary") {
      const bool session = request["system"].get<std::string>().find("Merge the session summary") != std::string::npos;
      (session ? session_requests : chunk_requests).push_back(request);
      return session ? response({text_part("session " + std::to_string(++sessions) + ": weather was asked for many times; sunny.")})
                     : response({text_part("chunk " + std::to_string(++chunks) + ": two weather calls, both sunny.")});
    }
    return response({call_part("c" + std::to_string(request["step"].get<int>()), "weather", {{"city", "Paris"}})}, "tool-calls");
  };
  script.callbacks["tool:weather"] = [](const json&) { return json{{"report", std::string(120, 'x') + " sunny, 21 degrees, light wind"}}; };
  const int steps = 80;
  json spec = openai_spec({{"strategy", "hierarchical"}, {"maxTokens", 700}, {"reserveTokens", 100}, {"maxChunks", 2}}, conversation(1),
                          {{"tools", json::array({weather_tool()})}, {"options", {{"maxSteps", steps}}}});
  json reply = run_prompt(h, script, spec);
  REQUIRE(reply["ok"] == true);
  auto summarized = run_events(h, "context-summarized");
  REQUIRE(chunks >= 4);
  REQUIRE(sessions >= 1);
  REQUIRE(summarized.size() == chunk_requests.size() + session_requests.size());
  // A chunk summarizes only its own messages; a session summary folds the earlier chunks (and the previous session summary).
  for (const json& r : chunk_requests) REQUIRE(r["messages"][1]["content"].get<std::string>().find("summary so far") == std::string::npos);
  REQUIRE_THAT(session_requests.front()["messages"][1]["content"].get<std::string>(),
               Catch::Contains("Summaries of what followed, in order:\n- chunk 1"));
  if (sessions > 1)
    REQUIRE_THAT(session_requests.back()["messages"][1]["content"].get<std::string>(), Catch::Contains("The session summary so far:\nsession"));
  std::size_t covered = 0;
  for (const json& e : summarized) {
    REQUIRE(e["context"] == "main");
    REQUIRE((e["level"] == "chunk" || e["level"] == "session"));
    REQUIRE(e["covered"].get<std::size_t>() >= covered);
    covered = e["covered"].get<std::size_t>();
  }
  std::size_t step_calls = 0;
  for (const json& request : script.model_requests) {
    if (request.value("purpose", "") == "summary") continue;
    ++step_calls;
    json messages = json::array();
    for (const json& m : request["messages"])
      if (m["role"] != "system" || m["content"] != request["system"]) messages.push_back(m);
    REQUIRE(pairs_intact(messages));
    std::size_t tokens = 0;
    for (const json& m : messages) tokens += o200k_message_tokens(m);
    REQUIRE(tokens <= 700 - 100);
    // Never more than maxChunks chunk summaries beside the session summary.
    if (messages[0]["role"] == "system") {
      const std::string text = messages[0]["content"].get<std::string>();
      std::size_t shown = 0;
      for (std::size_t at = text.find("chunk "); at != std::string::npos; at = text.find("chunk ", at + 1)) ++shown;
      REQUIRE(shown <= 2);
    }
  }
  REQUIRE(step_calls == steps);
  // The last call: the session summary, then the chunks after it, then the newest messages verbatim.
  const std::string first = script.model_requests.back()["messages"][0]["content"].get<std::string>();
  REQUIRE_THAT(first, Catch::StartsWith("Summary of the earlier conversation:\nsession " + std::to_string(sessions)));
}

TEST_CASE("hybrid sends the newest messages in its share and the most relevant of the rest", "[context][hybrid]") {
  Harness h;
  Script script;
  script.model_responses = {response({text_part("ok")})};
  script.callbacks["score"] = [](const json& args) {
    json scores = json::array();
    for (const auto& m : args[0]) scores.push_back(m["content"].is_string() && m["content"] == long_text(1) ? 1.0 : 0.0);
    return scores;
  };
  json config{{"strategy", "hybrid"}, {"maxTokens", 120}, {"relevanceScorer", "score"}, {"weights", {{"recent", 1}, {"relevant", 1}}}};
  run_prompt(h, script, context_spec(config, conversation(8)));
  const json& sent = script.model_requests.at(0)["messages"];
  REQUIRE(sent.size() < conversation(8).size());
  REQUIRE(sent[0]["content"] == long_text(1));  // the relevant one, far older than the window
  REQUIRE(sent.back()["content"] == "and now the final question");
  REQUIRE(pairs_intact(sent));
  // Only the recent weight: a plain sliding window, which does not reach message 1.
  Harness h2;
  Script window;
  window.model_responses = {response({text_part("ok")})};
  window.callbacks = script.callbacks;
  config["weights"] = {{"recent", 1}, {"relevant", 0}};
  run_prompt(h2, window, context_spec(config, conversation(8)));
  for (const json& m : window.model_requests.at(0)["messages"]) REQUIRE(m["content"] != long_text(1));
}

TEST_CASE("hybrid and hierarchical configs are checked when the run starts", "[context][hybrid][hierarchical]") {
  Script script;
  const auto error_of = [&](json config) {
    Harness h;
    json reply = run_prompt(h, script, context_spec(std::move(config), conversation(1)));
    REQUIRE(reply["ok"] == false);
    return reply["error"]["message"].get<std::string>();
  };
  REQUIRE_THAT(error_of({{"strategy", "hybrid"}, {"maxTokens", 100}}), Catch::Contains("'hybrid' needs a relevanceScorer"));
  REQUIRE_THAT(error_of({{"strategy", "sliding-window"}, {"maxTokens", 100}, {"weights", {{"recent", 1}}}}),
               Catch::Contains("context \"main\"") && Catch::Contains("\"weights\" applies to the hybrid strategy only"));
  REQUIRE_THAT(error_of({{"strategy", "hybrid"}, {"maxTokens", 100}, {"relevanceScorer", "s"}, {"weights", {{"recnt", 1}}}}),
               Catch::Contains("unknown \"weights\" entry \"recnt\""));
  REQUIRE_THAT(error_of({{"strategy", "hierarchical"}, {"maxTokens", 100}, {"maxChunks", 0}}),
               Catch::Contains("\"maxChunks\" must be an integer >= 1"));
  REQUIRE_THAT(error_of({{"strategy", "sliding-window"}, {"maxTokens", 100}, {"maxChunks", 3}}),
               Catch::Contains("\"maxChunks\" applies to the hierarchical strategy only"));
}
