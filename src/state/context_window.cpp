#include "state/context_window.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "state/state_error.hpp"

namespace lmthing::state {

using json = lmthing::Json;

namespace {

std::string label(const std::string& name) { return "context \"" + name + "\""; }

// Messages grouped into units: an assistant message with tool calls plus the tool messages
// answering them (union-find over tool call ids); every other message is a unit of its own.
struct Units {
  std::vector<std::vector<std::size_t>> members;  // message indices, ascending; units ordered by first member
  std::vector<std::size_t> tokens;
  std::vector<std::size_t> unit_of;  // per message
};

Units group(const std::vector<WindowMessage>& messages) {
  std::vector<std::size_t> parent(messages.size());
  std::iota(parent.begin(), parent.end(), 0);
  const auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::unordered_map<std::string, std::size_t> caller;
  for (std::size_t i = 0; i < messages.size(); ++i)
    for (const auto& id : messages[i].tool_calls) caller.emplace(id, i);
  for (std::size_t i = 0; i < messages.size(); ++i)
    for (const auto& id : messages[i].tool_results)
      if (auto it = caller.find(id); it != caller.end()) parent[find(i)] = find(it->second);
  Units u;
  u.unit_of.resize(messages.size());
  std::unordered_map<std::size_t, std::size_t> index_of_root;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::size_t root = find(i);
    auto [it, fresh] = index_of_root.emplace(root, u.members.size());
    if (fresh) {
      u.members.emplace_back();
      u.tokens.push_back(0);
    }
    u.members[it->second].push_back(i);
    u.tokens[it->second] += messages[i].tokens;
    u.unit_of[i] = it->second;
  }
  return u;
}

bool is_system_unit(const Units& u, const std::vector<WindowMessage>& m, std::size_t unit) {
  return u.members[unit].size() == 1 && m[u.members[unit][0]].role == "system";
}

std::size_t budget_of(const ContextConfig& c, std::size_t fixed_tokens) {
  const std::size_t taken = c.reserve_tokens + fixed_tokens;
  if (taken >= c.max_tokens)
    throw StateError(error_code::kContextOverflow, label(c.name) + ": reserveTokens (" + std::to_string(c.reserve_tokens) +
                                                       ") plus the fixed part — system prompt, tool definitions, reply priming (" +
                                                       std::to_string(fixed_tokens) + " tokens) — leave nothing of maxTokens (" +
                                                       std::to_string(c.max_tokens) + ")");
  return c.max_tokens - taken;
}

std::size_t positive_integer(const json& config, const char* field, std::size_t fallback, bool required, const std::string& where, std::size_t low) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) {
    if (required) throw StateError(error_code::kInvalidConfig, where + ": \"" + field + "\" is required (an integer >= " + std::to_string(low) + ")");
    return fallback;
  }
  if (!it->is_number_integer() || it->get<std::int64_t>() < static_cast<std::int64_t>(low))
    throw StateError(error_code::kInvalidConfig, where + ": \"" + field + "\" must be an integer >= " + std::to_string(low) + ", got " + it->dump());
  return it->get<std::size_t>();
}

double fraction(const json& section, const char* field, double fallback, const std::string& where) {
  auto it = section.find(field);
  if (it == section.end() || it->is_null()) return fallback;
  if (!it->is_number() || !(it->get<double>() > 0) || it->get<double>() > 1)
    throw StateError(error_code::kInvalidConfig, where + ": \"summarization." + field + "\" must be a number in (0, 1], got " + it->dump());
  return it->get<double>();
}

}  // namespace

std::vector<WindowMessage> window_messages(const json& messages, const std::vector<std::size_t>& tokens) {
  if (!messages.is_array() || messages.size() != tokens.size())
    throw StateError(error_code::kInvalidMessages, "messages must be an array with one token count per message");
  std::vector<WindowMessage> out(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw StateError(error_code::kInvalidMessages, "messages[" + std::to_string(i) + "]: expected {role: string, content}");
    out[i].role = m["role"].get<std::string>();
    out[i].tokens = tokens[i];
    const json content = m.value("content", json());
    if (!content.is_array()) continue;
    for (const json& part : content) {
      if (!part.is_object()) continue;
      const std::string type = part.value("type", "");
      const std::string id = part.value("toolCallId", "");
      if (id.empty()) continue;
      if (type == "tool-call") out[i].tool_calls.push_back(id);
      if (type == "tool-result") out[i].tool_results.push_back(id);
    }
  }
  return out;
}

ContextConfig ContextConfig::parse(const std::string& name, const std::string& strategy, const json& config) {
  const std::string where = label(name);
  ContextConfig c;
  c.name = name;
  if (strategy == "sliding-window") {
    c.strategy = ContextStrategy::sliding_window;
    c.prioritize = {ContextPriority::system, ContextPriority::recent};
  } else if (strategy == "relevance-based") {
    c.strategy = ContextStrategy::relevance_based;
    c.prioritize = {ContextPriority::system, ContextPriority::relevant};
  } else if (strategy == "hybrid") {
    c.strategy = ContextStrategy::hybrid;
    c.prioritize = {ContextPriority::system, ContextPriority::recent, ContextPriority::relevant};
  } else if (strategy == "hierarchical") {
    c.strategy = ContextStrategy::hierarchical;
    c.prioritize = {ContextPriority::system, ContextPriority::recent};
    c.summarize = true;
  } else {
    throw StateError(error_code::kInvalidConfig, where + ": strategy \"" + strategy +
                                                     "\" is not supported here (expected sliding-window, relevance-based, hybrid or hierarchical)");
  }
  if (!config.is_object()) throw StateError(error_code::kInvalidConfig, where + ": the config must be an object, got " + config.dump());
  c.max_tokens = positive_integer(config, "maxTokens", 0, true, where, 1);
  c.reserve_tokens = positive_integer(config, "reserveTokens", 0, false, where, 0);
  if (c.reserve_tokens >= c.max_tokens)
    throw StateError(error_code::kInvalidConfig, where + ": \"reserveTokens\" (" + std::to_string(c.reserve_tokens) +
                                                     ") must be less than \"maxTokens\" (" + std::to_string(c.max_tokens) + ")");
  c.keep_minimum = positive_integer(config, "keepMinimum", 0, false, where, 0);
  if (auto it = config.find("prioritize"); it != config.end() && !it->is_null()) {
    if (!it->is_array() || it->empty())
      throw StateError(error_code::kInvalidConfig,
                       where + ": \"prioritize\" must be a non-empty array of system, first, recent or relevant, got " + it->dump());
    c.prioritize.clear();
    for (const json& p : *it) {
      const std::string s = p.is_string() ? p.get<std::string>() : p.dump();
      if (s == "system")
        c.prioritize.push_back(ContextPriority::system);
      else if (s == "first")
        c.prioritize.push_back(ContextPriority::first);
      else if (s == "recent")
        c.prioritize.push_back(ContextPriority::recent);
      else if (s == "relevant")
        c.prioritize.push_back(ContextPriority::relevant);
      else
        throw StateError(error_code::kInvalidConfig,
                         where + ": unknown \"prioritize\" entry " + p.dump() + " (expected system, first, recent or relevant)");
    }
  }
  if (auto it = config.find("summarization"); it != config.end() && !it->is_null()) {
    if (!it->is_object())
      throw StateError(error_code::kInvalidConfig, where + ": \"summarization\" must be an object {trigger, ratio}, got " + it->dump());
    c.summarize = true;
    c.summarization.trigger = fraction(*it, "trigger", c.summarization.trigger, where);
    c.summarization.ratio = fraction(*it, "ratio", c.summarization.ratio, where);
    // A summary starts above trigger × the budget and folds until at most ratio × the budget is used.
    if (c.summarization.ratio > c.summarization.trigger)
      throw StateError(error_code::kInvalidConfig, where + ": summarization's \"ratio\" (" + json(c.summarization.ratio).dump() +
                                                       ") must not exceed its \"trigger\" (" + json(c.summarization.trigger).dump() + ")");
  }
  if (auto it = config.find("weights"); it != config.end() && !it->is_null()) {
    if (c.strategy != ContextStrategy::hybrid)
      throw StateError(error_code::kInvalidConfig, where + ": \"weights\" applies to the hybrid strategy only");
    if (!it->is_object())
      throw StateError(error_code::kInvalidConfig, where + ": \"weights\" must be an object {recent, relevant}, got " + it->dump());
    double recent = 1, relevant = 1;
    for (const auto& [key, value] : it->items()) {
      if (key != "recent" && key != "relevant")
        throw StateError(error_code::kInvalidConfig, where + ": unknown \"weights\" entry \"" + key + "\" (expected recent or relevant)");
      if (!value.is_number() || value.get<double>() < 0 || !std::isfinite(value.get<double>()))
        throw StateError(error_code::kInvalidConfig, where + ": \"weights." + key + "\" must be a number >= 0, got " + value.dump());
      (key == "recent" ? recent : relevant) = value.get<double>();
    }
    if (recent + relevant <= 0) throw StateError(error_code::kInvalidConfig, where + ": \"weights\" must not all be 0");
    c.recent_share = recent / (recent + relevant);
  }
  if (config.contains("maxChunks") && c.strategy != ContextStrategy::hierarchical)
    throw StateError(error_code::kInvalidConfig, where + ": \"maxChunks\" applies to the hierarchical strategy only");
  c.max_chunks = positive_integer(config, "maxChunks", c.max_chunks, false, where, 1);
  return c;
}

ContextSelection select_context(const ContextConfig& config, const std::vector<WindowMessage>& messages, std::size_t fixed_tokens) {
  const Units u = group(messages);
  ContextSelection out;
  out.budget = budget_of(config, fixed_tokens);
  std::vector<bool> kept(u.members.size(), false);
  std::size_t used = 0;
  const auto take = [&](std::size_t unit, std::size_t cap) {
    if (kept[unit]) return true;
    if (used + u.tokens[unit] > cap) return false;
    kept[unit] = true;
    used += u.tokens[unit];
    return true;
  };
  const bool system_first = std::find(config.prioritize.begin(), config.prioritize.end(), ContextPriority::system) != config.prioritize.end();
  if (system_first) {
    std::size_t system_tokens = 0;
    for (std::size_t unit = 0; unit < u.members.size(); ++unit)
      if (is_system_unit(u, messages, unit)) system_tokens += u.tokens[unit];
    if (system_tokens > out.budget)
      throw StateError(error_code::kContextOverflow,
                       label(config.name) + ": the system messages need " + std::to_string(system_tokens) + " tokens but the budget is " +
                           std::to_string(out.budget) + " (maxTokens " + std::to_string(config.max_tokens) + " - reserveTokens " +
                           std::to_string(config.reserve_tokens) + (fixed_tokens ? " - fixed " + std::to_string(fixed_tokens) : "") + ")");
    for (std::size_t unit = 0; unit < u.members.size(); ++unit)
      if (is_system_unit(u, messages, unit)) take(unit, out.budget);
  }
  // keepMinimum: the newest non-system messages, with whatever their units drag along.
  std::size_t minimum_left = config.keep_minimum;
  for (std::size_t i = messages.size(); i-- > 0 && minimum_left > 0;) {
    if (messages[i].role == "system") continue;
    --minimum_left;
    if (!take(u.unit_of[i], out.budget))
      throw StateError(error_code::kContextOverflow, label(config.name) + ": the " + std::to_string(config.keep_minimum) +
                                                         " most recent messages (keepMinimum) do not fit in the budget of " +
                                                         std::to_string(out.budget) + " tokens (message " + std::to_string(i) + " alone needs " +
                                                         std::to_string(u.tokens[u.unit_of[i]]) + ")");
  }
  // hybrid: the recent window may use only its share of what system and keepMinimum left.
  const std::size_t recent_cap = config.strategy == ContextStrategy::hybrid
                                     ? used + static_cast<std::size_t>(std::floor(config.recent_share * static_cast<double>(out.budget - used)))
                                     : out.budget;
  for (ContextPriority p : config.prioritize) {
    if (p == ContextPriority::first) {
      for (std::size_t i = 0; i < messages.size(); ++i)
        if (messages[i].role != "system") {
          take(u.unit_of[i], out.budget);
          break;
        }
    } else if (p == ContextPriority::recent) {
      for (std::size_t unit = u.members.size(); unit-- > 0;)
        if (!kept[unit] && !(system_first && is_system_unit(u, messages, unit)) && !take(unit, recent_cap)) break;
    } else if (p == ContextPriority::relevant) {
      std::vector<double> score(u.members.size(), -HUGE_VAL);
      for (std::size_t i = 0; i < messages.size(); ++i) score[u.unit_of[i]] = std::max(score[u.unit_of[i]], messages[i].relevance);
      std::vector<std::size_t> order(u.members.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return score[a] != score[b] ? score[a] > score[b] : a > b; });
      for (std::size_t unit : order) take(unit, out.budget);
    }
  }
  // A model call with none of the conversation would be refused by the provider (or answer nothing
  // it was asked): when not even the newest unit fits, the window is too small for this turn.
  const auto conversation = [&](std::size_t i) { return messages[i].role != "system"; };
  bool any = false, any_kept = false;
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (conversation(i)) {
      any = true;
      any_kept = any_kept || kept[u.unit_of[i]];
    }
  if (any && !any_kept) {
    const std::string newest =
        u.members.back().size() > 1 ? "the newest messages (a tool call with its results) alone need " : "the newest message alone needs ";
    throw StateError(error_code::kContextOverflow, label(config.name) + ": " + newest + std::to_string(u.tokens.back()) +
                                                       " tokens but the budget is " + std::to_string(out.budget) +
                                                       " (maxTokens - reserveTokens): nothing of the conversation would be sent");
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (kept[u.unit_of[i]]) {
      out.kept.push_back(i);
      out.kept_tokens += messages[i].tokens;
    } else {
      out.dropped.push_back(i);
      out.dropped_tokens += messages[i].tokens;
    }
  }
  return out;
}

SummaryPlan plan_summarization(const ContextConfig& config, const std::vector<WindowMessage>& messages, std::size_t fixed_tokens) {
  const Units u = group(messages);
  SummaryPlan plan;
  const std::size_t budget = budget_of(config, fixed_tokens);
  for (const auto& m : messages) plan.tokens += m.tokens;
  plan.target = static_cast<std::size_t>(std::floor(config.summarization.ratio * static_cast<double>(budget)));
  if (static_cast<double>(plan.tokens) <= config.summarization.trigger * static_cast<double>(budget)) return plan;
  // Units that must stay: the newest unit and those holding the keepMinimum newest messages.
  std::vector<bool> protect(u.members.size(), false);
  if (!u.members.empty()) protect.back() = true;
  std::size_t minimum_left = config.keep_minimum;
  for (std::size_t i = messages.size(); i-- > 0 && minimum_left > 0;)
    if (messages[i].role != "system") {
      protect[u.unit_of[i]] = true;
      --minimum_left;
    }
  std::size_t remaining = plan.tokens;
  for (std::size_t unit = 0; unit < u.members.size() && remaining > plan.target; ++unit) {
    if (protect[unit] || is_system_unit(u, messages, unit)) continue;
    plan.compress.insert(plan.compress.end(), u.members[unit].begin(), u.members[unit].end());
    remaining -= u.tokens[unit];
  }
  std::sort(plan.compress.begin(), plan.compress.end());
  plan.needed = !plan.compress.empty();
  return plan;
}

bool keeps_tool_pairs(const std::vector<WindowMessage>& messages, const std::vector<std::size_t>& kept) {
  std::unordered_map<std::string, bool> call_kept, result_kept;
  std::vector<bool> is_kept(messages.size(), false);
  for (std::size_t i : kept) is_kept[i] = true;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    for (const auto& id : messages[i].tool_calls) call_kept[id] = is_kept[i];
    for (const auto& id : messages[i].tool_results) result_kept[id] = result_kept.count(id) ? (result_kept[id] && is_kept[i]) : is_kept[i];
  }
  for (std::size_t i : kept)
    for (const auto& id : messages[i].tool_results)
      if (call_kept.count(id) && !call_kept[id]) return false;
  for (const auto& [id, k] : call_kept)
    if (k && result_kept.count(id) && !result_kept[id]) return false;
  return true;
}

}  // namespace lmthing::state
