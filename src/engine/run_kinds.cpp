#include "engine/run_kinds.hpp"

#include <stdexcept>

#include "flow/parallel_map.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

const char* const kKinds = "call, map, sleep, fault";

double optional_non_negative(const json& spec, const char* field, const char* where) {
  if (!spec.contains(field)) return 0;
  const double v = require_field(spec, field, value_t::number_float, where).get<double>();
  if (!(v >= 0)) throw ProtocolError(std::string(where) + ": \"" + field + "\" must be >= 0, got " + spec[field].dump());
  return v;
}

void check_callback_name(const json& spec, const char* where) {
  const auto& fn = require_field(spec, "fn", value_t::string, where);
  if (fn.get_ref<const std::string&>().empty()) throw ProtocolError(std::string(where) + ": \"fn\" must not be empty");
}

// A diagnostic kind: lets a host check how it surfaces engine failures (see PROTOCOL.md).
Task<json> fault(const json& spec) {
  throw std::logic_error("deliberate fault requested by run.start {kind: \"fault\", where: \"" +
                         spec.value("where", std::string("run")) + "\"}");
  co_return json();
}

}  // namespace

void check_run_spec(const json& spec) {
  if (!spec.is_object()) throw ProtocolError("run.start: \"spec\" must be an object with a \"kind\" (one of " + std::string(kKinds) + ")");
  const std::string kind = require_field(spec, "kind", value_t::string, "run.start spec").get<std::string>();
  if (kind == "call") {
    check_callback_name(spec, "run.start spec (call)");
    optional_non_negative(spec, "timeoutMs", "run.start spec (call)");
  } else if (kind == "map") {
    check_callback_name(spec, "run.start spec (map)");
    require_field(spec, "items", value_t::array, "run.start spec (map)");
    optional_non_negative(spec, "concurrency", "run.start spec (map)");
    optional_non_negative(spec, "timeoutMs", "run.start spec (map)");
  } else if (kind == "sleep") {
    require_field(spec, "ms", value_t::number_float, "run.start spec (sleep)");
    optional_non_negative(spec, "ms", "run.start spec (sleep)");
  } else if (kind == "fault") {
    const std::string where = spec.value("where", std::string("run"));
    if (where != "run" && where != "loop")
      throw ProtocolError("run.start spec (fault): \"where\" must be \"run\" or \"loop\", got \"" + where + "\"");
    if (where == "loop") throw std::logic_error("deliberate fault requested by run.start {kind: \"fault\", where: \"loop\"}");
  } else {
    throw ProtocolError("run.start: unknown spec kind \"" + kind + "\" (expected one of " + kKinds + ")");
  }
}

Task<json> execute_run(Loop& loop, RunId run, const json& spec) {
  const std::string kind = spec["kind"].get<std::string>();
  if (kind == "call") {
    json payload{{"fn", spec["fn"]}, {"args", spec.value("args", json::array())}};
    co_return co_await loop.op(run, "callback.invoke", std::move(payload), spec.value("timeoutMs", 0.0));
  }
  if (kind == "map") {
    flow::MapOptions options;
    options.concurrency = static_cast<std::size_t>(spec.value("concurrency", 0.0));
    options.timeout_ms = spec.value("timeoutMs", 0.0);
    co_return co_await flow::parallel_map(loop, run, spec["fn"].get<std::string>(), spec["items"], options);
  }
  if (kind == "sleep") {
    const double started = loop.now_ms();
    co_await loop.sleep(run, spec["ms"].get<double>());
    co_return json{{"sleptMs", loop.now_ms() - started}};
  }
  co_return co_await fault(spec);
}

}  // namespace lmthing
