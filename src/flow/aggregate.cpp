#include "flow/aggregate.hpp"

#include <algorithm>

#include "agent/content.hpp"
#include "flow/flow_error.hpp"
#include "flow/run_models.hpp"
#include "flow/user_call.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

namespace {

const char* name_of(Aggregation kind) {
  switch (kind) {
    case Aggregation::All: return "all";
    case Aggregation::First: return "first";
    case Aggregation::Majority: return "majority";
    case Aggregation::Consensus: return "consensus";
  }
  return "all";
}

bool compare_says_same(const json& v) { return v.is_boolean() ? v.get<bool>() : !v.is_null() && !(v.is_number() && v.get<double>() == 0); }

}  // namespace

AggregationSpec read_aggregation(const FieldReader& fields, std::vector<std::string> tasks, std::string label, std::string name) {
  AggregationSpec spec;
  spec.label = std::move(label);
  spec.name = std::move(name);
  spec.tasks = std::move(tasks);
  const std::size_t n = spec.tasks.size();
  const std::string kind = fields.choice("aggregation", {"all", "first", "majority", "consensus"}).value_or("all");
  spec.kind = kind == "first"       ? Aggregation::First
              : kind == "majority"  ? Aggregation::Majority
              : kind == "consensus" ? Aggregation::Consensus
                                    : Aggregation::All;
  spec.min_success = spec.kind == Aggregation::Majority ? n / 2 + 1 : spec.kind == Aggregation::First ? 1 : n;
  if (fields.has("minSuccess")) {
    if (spec.kind == Aggregation::First) fields.fail("\"minSuccess\" does not apply to aggregation 'first' (it takes the first success)");
    spec.min_success = static_cast<std::size_t>(*fields.integer("minSuccess", 1, 1000000));
    if (spec.min_success > n)
      fields.fail("\"minSuccess\" is " + std::to_string(spec.min_success) + " but there are only " + std::to_string(n) + " tasks");
  }
  spec.compare = fields.optional_string("compare");
  if (fields.has("judge") && fields.at("judge").is_object()) {
    const FieldReader judge(fields.at("judge"), fields.where() + ": judge");
    judge.only({"model", "instructions"}, "field");
    spec.judge_model = JudgeModel{judge.optional_string("model").value_or(""), judge.optional_string("instructions", true).value_or("")};
  } else {
    spec.judge = fields.optional_string("judge");
  }
  if ((spec.compare || spec.judged()) && (spec.kind == Aggregation::All || spec.kind == Aggregation::First))
    fields.fail(std::string("compare/judge apply to 'majority' and 'consensus', not to '") + kind + "'");
  return spec;
}

Join::Join(const AggregationSpec& spec) : spec_(spec), values_(spec.tasks.size()), errors_(spec.tasks.size()) {}

Task<bool> Join::add(const pipeline::CallEnv& env, std::size_t task, std::optional<json> value, const WireError* error) {
  if (decided_) co_return true;
  const std::size_t n = spec_.tasks.size();
  if (value) {
    ++successes_;
    values_[task] = *value;
    if (spec_.kind == Aggregation::First) {
      winner_ = task;
      decide(std::move(*value));
      co_return true;
    }
    if (spec_.kind == Aggregation::Majority || spec_.kind == Aggregation::Consensus) {
      // A compare function that fails decides the group: no answer can be counted any more.
      std::size_t group = 0;
      std::optional<WireError> compare_failed;
      try {
        group = co_await group_of(env, *values_[task]);
      } catch (const OpFailed& e) {
        if (e.error.kind == "aborted" || env.cancelled()) throw;
        compare_failed = e.error;
      }
      if (compare_failed) {
        fail("PARALLEL_COMPARE_FAILED", "the compare function failed: " + compare_failed->message);
        co_return true;
      }
      if (group == groups_.size())
        groups_.push_back({task});
      else
        groups_[group].push_back(task);
      if (spec_.kind == Aggregation::Majority && groups_[group].size() * 2 > n && successes_ >= spec_.min_success) {
        decide(*values_[groups_[group].front()], groups_[group].front());
        co_return true;
      }
    }
  } else {
    ++failures_;
    errors_[task] = error ? *error : WireError{"callback", "failed", json::object()};
  }
  // Decided early when the rest can no longer make it.
  const std::size_t remaining = n - successes_ - failures_;
  if (successes_ + remaining < spec_.min_success) {
    fail("PARALLEL_MIN_SUCCESS",
         std::to_string(successes_) + " of " + std::to_string(n) + " tasks succeeded, minSuccess is " + std::to_string(spec_.min_success));
  } else if (spec_.kind == Aggregation::Majority && !spec_.judged() && (largest_group() + remaining) * 2 <= n) {
    fail("PARALLEL_NO_MAJORITY",
         "no answer can reach a majority (" + std::to_string(largest_group()) + " of " + std::to_string(n) + " agree at most)");
  }
  co_return decided_;
}

Task<json> Join::result(const pipeline::CallEnv& env, const WireError& missing) {
  for (std::size_t i = 0; i < values_.size(); ++i)
    if (!values_[i] && !errors_[i]) {
      errors_[i] = missing;
      ++failures_;
    }
  if (!decided_) {
    const std::size_t n = spec_.tasks.size();
    if (successes_ < spec_.min_success) {
      fail("PARALLEL_MIN_SUCCESS",
           std::to_string(successes_) + " of " + std::to_string(n) + " tasks succeeded, minSuccess is " + std::to_string(spec_.min_success));
    } else if (spec_.kind == Aggregation::All) {
      json all = json::object();
      for (std::size_t i = 0; i < n; ++i)
        if (values_[i]) all[spec_.tasks[i]] = *values_[i];
      decide(std::move(all));
    } else if (spec_.kind == Aggregation::First) {
      fail("PARALLEL_MIN_SUCCESS", "no task succeeded");
    } else {
      const std::size_t largest = largest_group();
      const bool agreed = spec_.kind == Aggregation::Majority ? largest * 2 > n : groups_.size() == 1;
      if (agreed) {
        for (const auto& group : groups_)
          if (group.size() == largest) {
            decide(*values_[group.front()], group.front());
            break;
          }
      } else if (spec_.judge_model) {
        co_await judge_with_model(env);
      } else if (spec_.judge) {
        std::optional<WireError> judged;
        json value;
        try {
          value = co_await judge(env);
        } catch (const OpFailed& e) {
          judged = e.error;
        }
        if (judged)
          fail(spec_.kind == Aggregation::Majority ? "PARALLEL_NO_MAJORITY" : "PARALLEL_NO_CONSENSUS",
               "the judge found no agreement: " + judged->message);
        else
          decide(std::move(value));
      } else if (spec_.kind == Aggregation::Majority) {
        fail("PARALLEL_NO_MAJORITY", "no answer has a majority (" + std::to_string(largest) + " of " + std::to_string(n) + " agree at most)");
      } else {
        fail("PARALLEL_NO_CONSENSUS",
             "the " + std::to_string(successes_) + " successful tasks gave " + std::to_string(groups_.size()) + " different answers");
      }
    }
  }
  if (error_) throw OpFailed(*error_);
  co_return *value_;
}

json Join::statuses() const {
  json out = json::object();
  for (std::size_t i = 0; i < spec_.tasks.size(); ++i)
    out[spec_.tasks[i]] = values_[i] ? "success" : !errors_[i] ? "pending" : errors_[i]->kind == "aborted" ? "cancelled" : "error";
  return out;
}

std::optional<std::string> Join::winner() const {
  if (!winner_) return std::nullopt;
  return spec_.tasks[*winner_];
}

Task<std::size_t> Join::group_of(const pipeline::CallEnv& env, const json& value) {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    const json& other = *values_[groups_[g].front()];
    if (!spec_.compare) {
      if (other == value) co_return g;
      continue;
    }
    // Built before the co_await: g++ 12 cannot keep a braced list's array alive across one.
    json pair = json::array({other, value});
    json same = co_await call_callback(env, *spec_.compare, std::move(pair), spec_.label + " compare");
    if (compare_says_same(same)) co_return g;
  }
  co_return groups_.size();
}

Task<json> Join::judge(const pipeline::CallEnv& env) {
  json results = json::object();
  for (std::size_t i = 0; i < spec_.tasks.size(); ++i)
    if (values_[i]) results[spec_.tasks[i]] = *values_[i];
  json args = json::array({std::move(results)});  // before the co_await (g++ 12, see group_of)
  co_return co_await call_callback(env, *spec_.judge, std::move(args), spec_.label + " judge");
}

Task<void> Join::judge_with_model(const pipeline::CallEnv& env) {
  const bool majority = spec_.kind == Aggregation::Majority;
  const RunModel* run_model = model_of(*env.tree, env.run);
  if (!run_model) {
    fail("PARALLEL_JUDGE_FAILED", "the judge model needs a live run to call it through (run " + std::to_string(env.run) + " has no model)");
    co_return;
  }
  const std::string model = spec_.judge_model->model.empty() ? run_model->model : spec_.judge_model->model;
  json candidates = json::object();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < spec_.tasks.size(); ++i)
    if (values_[i]) {
      candidates[spec_.tasks[i]] = *values_[i];
      names.push_back(spec_.tasks[i]);
    }
  std::string system =
      "You judge the answers that " + std::to_string(spec_.tasks.size()) +
      " independent attempts gave to the same task. The candidates below are keyed by attempt name. Two answers agree when they say "
      "the same thing, in whatever words. " +
      (majority ? "Find the answer that more than half of all " + std::to_string(spec_.tasks.size()) + " attempts support."
                : "Find the answer that every candidate supports.") +
      " Reply with JSON only: {\"winner\": \"<attempt name>\"} naming one candidate that gives that answer, or {\"winner\": null} when "
      "no answer has that support.";
  if (!spec_.judge_model->instructions.empty()) system += "\n\n" + spec_.judge_model->instructions;
  const json messages = json::array({json{{"role", "user"}, {"content", "Candidates:\n" + candidates.dump(2)}}});
  json winner_schema{{"type", json::array({"string", "null"})}, {"enum", names}};
  winner_schema["enum"].push_back(nullptr);
  const json schema{
      {"type", "object"}, {"properties", json{{"winner", winner_schema}}}, {"required", json::array({"winner"})}, {"additionalProperties", false}};
  pipeline::Call call;
  call.kind = pipeline::CallKind::Model;
  call.env = &env;
  call.target = model;
  call.input = json{{"step", "judge"},        {"system", system},         {"messages", messages},
                    {"tools", json::array()}, {"params", json::object()}, {"responseFormat", json{{"type", "json"}, {"schema", schema}}},
                    {"purpose", "judge"}};
  call.context = json{{"stepNumber", nullptr}};
  call.messages = &messages;
  json event{{"type", "parallel-judge"}, {"group", spec_.label}, {"model", model}, {"candidates", names}};
  if (!spec_.name.empty()) event["parallel"] = spec_.name;
  json response;
  try {
    response = co_await run_model->chain->call(std::move(call));
  } catch (const OpFailed& e) {
    if (e.error.kind == "aborted" || env.cancelled()) throw;
    event["error"] = e.error.message;
    env.emit(std::move(event));
    fail("PARALLEL_JUDGE_FAILED", "the judge model \"" + model + "\" failed: " + e.error.message);
    co_return;
  }
  const std::string text = agent::text_of(response["content"]);
  event["usage"] = response.value("usage", json::object());
  event["text"] = text;
  const json answer = json::parse(agent::json_body(text), nullptr, false);
  const std::string expected = "expected {\"winner\": one of " + protocol::joined(names) + ", or null}";
  std::string invalid;
  std::optional<std::size_t> winner;
  if (answer.is_discarded() || !answer.is_object() || !answer.contains("winner") || !(answer["winner"].is_string() || answer["winner"].is_null())) {
    invalid = "the judge model \"" + model + "\" answered " + (text.size() > 200 ? text.substr(0, 200) + "..." : text) + "; " + expected;
  } else if (answer["winner"].is_string()) {
    const std::string named = answer["winner"].get<std::string>();
    auto it = std::find(names.begin(), names.end(), named);
    if (it == names.end()) {
      invalid = "the judge model \"" + model + "\" named \"" + named + "\", which is not a candidate";
      if (auto guess = protocol::nearest(named, names)) invalid += " (did you mean \"" + *guess + "\"?)";
      invalid += "; " + expected;
    } else {
      winner = static_cast<std::size_t>(std::find(spec_.tasks.begin(), spec_.tasks.end(), named) - spec_.tasks.begin());
    }
  }
  event["winner"] = winner ? json(spec_.tasks[*winner]) : json();
  if (!invalid.empty()) event["error"] = invalid;
  env.emit(std::move(event));
  if (!invalid.empty())
    fail("PARALLEL_JUDGE_INVALID", invalid);
  else if (!winner)
    fail(majority ? "PARALLEL_NO_MAJORITY" : "PARALLEL_NO_CONSENSUS",
         "the judge model \"" + model + "\" found no answer that " + (majority ? "a majority" : "every task") + " supports");
  else
    decide(*values_[*winner], winner);
}

void Join::decide(json value, std::optional<std::size_t> winner) {
  decided_ = true;
  value_ = std::move(value);
  if (winner) winner_ = winner;
}

void Join::fail(const std::string& code, const std::string& why) {
  decided_ = true;
  error_ = failure(code, why);
}

WireError Join::failure(const std::string& code, const std::string& why) const {
  json errors = json::object();
  std::string detail;
  for (std::size_t i = 0; i < spec_.tasks.size(); ++i) {
    if (!errors_[i]) continue;
    errors[spec_.tasks[i]] = cause_of(*errors_[i]);
    detail += (detail.empty() ? "" : "; ") + spec_.tasks[i] + ": " + errors_[i]->message;
  }
  json extra{{"aggregation", name_of(spec_.kind)}, {"errors", errors}};
  if (!spec_.name.empty()) extra["parallel"] = spec_.name;
  return flow_error("parallel", code, spec_.label + ": " + why + (detail.empty() ? "" : " (" + detail + ")"), std::move(extra));
}

std::size_t Join::largest_group() const {
  std::size_t largest = 0;
  for (const auto& group : groups_) largest = std::max(largest, group.size());
  return largest;
}

}  // namespace lmthing::flow
