// The observing interceptors of the call pipeline (docs/observability.md):
//   observe_call     outermost, tools, only when the tree is traced: the `execute_tool` span around
//                    the whole call (approval wait, retries and fallbacks are its children).
//   observe_attempt  innermost, every model and tool call: measures each attempt that reaches the
//                    host. A model attempt is a GenAI `chat` span, a `model-call` event, its latency,
//                    tokens and cost in the metrics, and the token thresholds; a failed one is an
//                    `error` event of severity warning. A tool attempt records its latency.
#include "observe/tree_observer.hpp"
#include "pipeline/registry.hpp"
#include "policy/constraints.hpp"

namespace lmthing::observe {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;

// The generation settings a `chat` span carries, by their GenAI semantic-convention names.
constexpr std::pair<const char*, const char*> kRequestAttributes[] = {
    {"temperature", "gen_ai.request.temperature"},
    {"maxOutputTokens", "gen_ai.request.max_tokens"},
    {"topP", "gen_ai.request.top_p"},
    {"topK", "gen_ai.request.top_k"},
    {"stopSequences", "gen_ai.request.stop_sequences"},
    {"seed", "gen_ai.request.seed"},
    {"presencePenalty", "gen_ai.request.presence_penalty"},
    {"frequencyPenalty", "gen_ai.request.frequency_penalty"},
};

// "openai:gpt-4o-mini#2" → {provider "openai", model "gpt-4o-mini"}.
std::pair<std::string, std::string> split_model(const std::string& ref) {
  const auto colon = ref.find(':');
  std::string provider = colon == std::string::npos ? std::string() : ref.substr(0, colon);
  std::string model = colon == std::string::npos ? ref : ref.substr(colon + 1);
  if (auto hash = model.rfind('#'); hash != std::string::npos) model.erase(hash);
  return {provider, model};
}

double number_in(const json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_number() ? object[key].get<double>() : 0.0;
}

// The span a call of `env` hangs under: the tool call whose code made it (ctx.runTool inside a
// tool, a workflow step it started ...), else the current step or the run or branch at its path.
SpanId parent_of(const Tracer& tracer, const pipeline::CallEnv& env) { return env.span ? env.span : tracer.parent_at(env.run, env.path); }

class ToolSpanObserver : public pipeline::Interceptor {
 public:
  Task<json> intercept(Call call, Next next) override {
    const pipeline::CallEnv& env = *call.env;
    Tracer* tracer = env.tree->observer().tracer();
    if (!tracer) co_return co_await next(std::move(call));
    const std::string id = call.context.value("toolCallId", std::string());
    SpanId parent = call.context.contains("span") && call.context["span"].is_number() ? call.context["span"].get<SpanId>() : 0;
    if (!parent) parent = parent_of(*tracer, env);
    json attributes{
        {"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.name", call.target}, {"gen_ai.tool.call.id", id}, {"gen_ai.tool.type", "function"}};
    if (tracer->config().record_inputs) attributes["gen_ai.tool.call.arguments"] = call.input;
    const SpanId span = tracer->start(env.run, env.path, parent, "execute_tool " + call.target, "tool", std::move(attributes), env.loop.now_ms());
    const std::string key = Tracer::tool_key(env.run, id);
    tracer->remember(key, span);
    call.context["span"] = span;
    json result;
    try {
      result = co_await next(std::move(call));
    } catch (const OpFailed& e) {
      tracer->forget(key, span);
      tracer->end(span, e.error.message, json{{"error.type", e.error.kind}}, env.loop.now_ms());
      throw;
    }
    json done = json::object();
    if (tracer->config().record_outputs) done["gen_ai.tool.call.result"] = result;
    tracer->forget(key, span);
    tracer->end(span, "", std::move(done), env.loop.now_ms());
    co_return result;
  }
};

class AttemptObserver : public pipeline::Interceptor {
 public:
  // `prices`: USD per 1M tokens by model id, from the tree's cost constraints (first one wins).
  explicit AttemptObserver(std::map<std::string, policy::Constraint::Price> prices) : prices_(std::move(prices)) {}

  Task<json> intercept(Call call, Next next) override {
    if (call.kind == CallKind::Tool) return tool_attempt(std::move(call), next);
    return model_attempt(std::move(call), next);
  }

 private:
  Task<json> tool_attempt(Call call, Next next) {
    const pipeline::CallEnv& env = *call.env;
    const std::string tool = call.target;
    const double started = env.loop.now_ms();
    TreeObserver& observer = env.tree->observer();
    const MetricSpec& duration = *observer.builtins().tool_duration;
    json result;
    try {
      result = co_await next(std::move(call));
    } catch (const OpFailed&) {
      observer.record(duration, {tool, "error"}, (env.loop.now_ms() - started) / 1000.0, env.run, env.path);
      throw;
    }
    observer.record(duration, {tool, "ok"}, (env.loop.now_ms() - started) / 1000.0, env.run, env.path);
    co_return result;
  }

  Task<json> model_attempt(Call call, Next next) {
    const pipeline::CallEnv& env = *call.env;
    TreeObserver& observer = env.tree->observer();
    const Builtins& b = observer.builtins();
    const std::string ref = call.target;
    const auto names = split_model(ref);
    const std::string provider = names.first, model = names.second;
    const json step = call.context.value("stepNumber", json());
    const int attempt = observer.next_attempt(env.run, env.path, step.is_number() ? step.get<int>() : -1);
    const double started = env.loop.now_ms();

    Tracer* tracer = observer.tracer();
    SpanId span = 0;
    if (tracer) {
      json attributes{{"gen_ai.operation.name", "chat"},
                      {"gen_ai.provider.name", provider},
                      {"gen_ai.system", provider},
                      {"gen_ai.request.model", model},
                      {"lmthing.model", ref},
                      {"lmthing.attempt", attempt}};
      const json params = call.input.value("params", json::object());
      for (const auto& [param, attribute] : kRequestAttributes)
        if (auto it = params.find(param); it != params.end()) attributes[attribute] = *it;
      if (tracer->config().record_inputs) {
        if (call.input.contains("system") && !call.input["system"].is_null()) attributes["gen_ai.system_instructions"] = call.input["system"];
        if (call.input.contains("messages"))
          attributes["gen_ai.input.messages"] = call.input["messages"];
        else if (call.input.contains("conversation"))
          attributes["gen_ai.input.messages"] = call.input["conversation"].value("append", json::array());
      }
      span = tracer->start(env.run, env.path, parent_of(*tracer, env), "chat " + model, "model", std::move(attributes), started);
    }

    json response;
    try {
      response = co_await next(std::move(call));
    } catch (const OpFailed& e) {
      const double ms = env.loop.now_ms() - started;
      observer.record(*b.model_duration, {ref, "error"}, ms / 1000.0, env.run, env.path);
      if (tracer) tracer->end(span, e.error.message, json{{"error.type", e.error.kind}}, env.loop.now_ms());
      env.emit(json{{"type", "model-call"},
                    {"stepNumber", step},
                    {"model", ref},
                    {"attempt", attempt},
                    {"ok", false},
                    {"durationMs", ms},
                    {"error", json{{"message", e.error.message}, {"kind", e.error.kind}}}});
      if (e.error.kind != "aborted" && !env.cancelled())
        env.emit(error_event("warning", "model", e.error, json{{"model", ref}, {"stepNumber", step}, {"attempt", attempt}}, env.path));
      throw;
    }

    const double ms = env.loop.now_ms() - started;
    const json usage = response.value("usage", json::object());
    const std::string model_id = response.value("modelId", model);
    const double input = number_in(usage, "inputTokens"), output = number_in(usage, "outputTokens");
    observer.record(*b.model_duration, {ref, "ok"}, ms / 1000.0, env.run, env.path);
    observer.record(*b.tokens, {ref, "input"}, input, env.run, env.path);
    observer.record(*b.tokens, {ref, "output"}, output, env.run, env.path);
    json event{{"type", "model-call"}, {"stepNumber", step}, {"model", ref},
               {"modelId", model_id},  {"attempt", attempt}, {"ok", true},
               {"durationMs", ms},     {"usage", usage},     {"finishReason", response.value("finishReason", "other")}};
    if (auto price = prices_.find(model_id); price != prices_.end()) {
      const double cost = (input * price->second.input + output * price->second.output) / 1e6;
      observer.record(*b.cost, {ref}, cost, env.run, env.path);
      event["costUsd"] = cost;
    }
    if (tracer) {
      json attributes{{"gen_ai.response.model", model_id},
                      {"gen_ai.usage.input_tokens", input},
                      {"gen_ai.usage.output_tokens", output},
                      {"gen_ai.response.finish_reasons", json::array({response.value("finishReason", "other")})}};
      if (tracer->config().record_outputs)
        attributes["gen_ai.output.messages"] = json::array({json{{"role", "assistant"}, {"content", response.value("content", json::array())}}});
      tracer->end(span, "", std::move(attributes), env.loop.now_ms());
    }
    env.emit(std::move(event));
    for (auto& threshold : observer.count_tokens(usage)) env.emit(std::move(threshold));
    co_return response;
  }

  std::map<std::string, policy::Constraint::Price> prices_;
};

std::unique_ptr<pipeline::Interceptor> make_call_observer(const pipeline::Target& target) {
  if (target.kind != CallKind::Tool || !target.tree.observer().tracer()) return nullptr;
  return std::make_unique<ToolSpanObserver>();
}

std::unique_ptr<pipeline::Interceptor> make_attempt_observer(const pipeline::Target& target) {
  std::map<std::string, policy::Constraint::Price> prices;
  if (target.kind == CallKind::Model)
    for (const auto& [name, constraint] : target.tree.definitions().all<policy::Constraint>("constraint"))
      if (constraint->type == policy::Constraint::Type::Cost)
        for (const auto& [model, price] : constraint->prices) prices.emplace(model, price);
  return std::make_unique<AttemptObserver>(std::move(prices));
}

}  // namespace

}  // namespace lmthing::observe

namespace lmthing::pipeline::registered {
extern const InterceptorType observe_call_interceptor{"observe_call", {}, {}, observe::make_call_observer};
extern const InterceptorType observe_attempt_interceptor{"observe_attempt", {}, {}, observe::make_attempt_observer};
}  // namespace lmthing::pipeline::registered
