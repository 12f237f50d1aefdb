#include "engine/observe_commands.hpp"

#include "observe/tree_observer.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing {

using protocol::FieldReader;
using protocol::ProtocolError;

namespace {

json read(observe::MetricRegistry& registry, const std::string& format) {
  if (format == "prometheus") return json{{"text", registry.prometheus()}, {"contentType", "text/plain; version=0.0.4; charset=utf-8"}};
  return registry.snapshot();
}

}  // namespace

bool handle_observe_command(Loop& loop, observe::Observatory& observatory, const EnvOfRun& env_of, const std::string& type, const json& id,
                            const json& message) {
  if (type == "metrics.read") {
    FieldReader fields(message, type);
    fields.only({"type", "id", "run", "format"}, "field");
    const std::string format = fields.choice("format", {"json", "prometheus"}).value_or("json");
    if (!fields.has("run")) {
      loop.emit(protocol::reply_ok(id, read(observatory.metrics(), format)));
      return true;
    }
    const pipeline::CallEnv env = env_of(protocol::require_id(message, "run", type), type);
    loop.emit(protocol::reply_ok(id, read(env.tree->observer().metrics(), format)));
    return true;
  }
  if (type == "metric.record") {
    FieldReader fields(message, type);
    fields.only({"type", "id", "run", "name", "value", "labels"}, "field");
    const pipeline::CallEnv env = env_of(protocol::require_id(message, "run", type), type);
    const std::string name = fields.string("name");
    if (!message.contains("value") || !message["value"].is_number()) fields.bad("value", "a number");
    try {
      observe::TreeObserver& observer = env.tree->observer();
      const observe::MetricSpec& spec = observer.observatory().metrics().get(name);
      if (name.rfind(observe::kBuiltinPrefix, 0) == 0)
        throw observe::MetricError("METRIC_INVALID", "metric \"" + name + "\" is built in; the engine records it itself");
      const double value = message["value"].get<double>();
      observe::MetricRegistry::check_value(spec, value);
      const auto labels = observe::MetricRegistry::label_values(spec, message.contains("labels") ? message["labels"] : json());
      observer.record(spec, labels, value, env.run, env.path);
    } catch (const observe::MetricError& e) {
      loop.emit(protocol::reply_error(id, protocol::WireError{"metric", e.what(), json{{"code", e.code}}}));
      return true;
    }
    loop.emit(protocol::reply_ok(id, json::object()));
    return true;
  }
  if (type == "event.emit") {
    FieldReader fields(message, type);
    fields.only({"type", "id", "run", "name", "value"}, "field");
    const pipeline::CallEnv env = env_of(protocol::require_id(message, "run", type), type);
    env.emit(json{{"type", "emitted"}, {"name", fields.string("name")}, {"value", message.contains("value") ? message["value"] : json()}});
    loop.emit(protocol::reply_ok(id, json::object()));
    return true;
  }
  return false;
}

}  // namespace lmthing
