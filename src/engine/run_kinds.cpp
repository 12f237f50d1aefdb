#include "engine/run_kinds.hpp"

#include <limits>
#include <new>
#include <stdexcept>

#include "flow/parallel_map.hpp"
#include "state/storage_script.hpp"

namespace lmthing {

using protocol::ProtocolError;
using protocol::require_field;
using value_t = json::value_t;

namespace {

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
Task<json> fault(json spec) {
  throw std::logic_error("deliberate fault requested by run.start {kind: \"fault\", where: \"" + spec.value("where", std::string("run")) + "\"}");
  co_return json();
}

Task<json> call(Loop& loop, RunId run, json spec) {
  json payload{{"fn", spec["fn"]}, {"args", spec.value("args", json::array())}};
  co_return co_await loop.op(run, "callback.invoke", std::move(payload), spec.value("timeoutMs", 0.0));
}

Task<json> map(Loop& loop, RunId run, json spec) {
  flow::MapOptions options;
  options.concurrency = static_cast<std::size_t>(spec.value("concurrency", 0.0));
  options.timeout_ms = spec.value("timeoutMs", 0.0);
  co_return co_await flow::parallel_map(loop, run, spec["fn"].get<std::string>(), spec["items"], options);
}

Task<json> sleep(Loop& loop, RunId run, double ms) {
  const double started = loop.now_ms();
  co_await loop.sleep(run, ms);
  co_return json{{"sleptMs", loop.now_ms() - started}};
}

}  // namespace

Task<json> prepare_simple_run(Loop& loop, RunId run, const std::string& kind, const json& spec) {
  if (kind == "call") {
    check_callback_name(spec, "run.start spec (call)");
    optional_non_negative(spec, "timeoutMs", "run.start spec (call)");
    return call(loop, run, spec);
  }
  if (kind == "map") {
    check_callback_name(spec, "run.start spec (map)");
    require_field(spec, "items", value_t::array, "run.start spec (map)");
    optional_non_negative(spec, "concurrency", "run.start spec (map)");
    optional_non_negative(spec, "timeoutMs", "run.start spec (map)");
    return map(loop, run, spec);
  }
  if (kind == "sleep") {
    require_field(spec, "ms", value_t::number_float, "run.start spec (sleep)");
    return sleep(loop, run, optional_non_negative(spec, "ms", "run.start spec (sleep)"));
  }
  if (kind == "storage") {  // diagnostic: storage ops through the engine (src/state/storage_script.hpp)
    state::check_storage_script(spec);
    return state::run_storage_script(loop, run, spec);
  }
  // kind == "fault"
  const std::string where = spec.value("where", std::string("run"));
  if (where != "run" && where != "loop" && where != "memory")
    throw ProtocolError("run.start spec (fault): \"where\" must be \"run\", \"loop\" or \"memory\", got \"" + where + "\"");
  if (where == "loop") throw std::logic_error("deliberate fault requested by run.start {kind: \"fault\", where: \"loop\"}");
  if (where == "memory") {
#ifdef __EMSCRIPTEN__
    // More than the engine's memory can grow to: the wasm engine stops (ENGINE_FAULT, bindings/wasm_main.cpp).
    // The whole address space: dlmalloc refuses it without asking the heap to grow, whatever the heap
    // holds (half of it could ask, and then Emscripten's own abort would name no size).
    [[maybe_unused]] static void* volatile kept = nullptr;  // volatile: the allocation cannot be optimised away
    kept = ::operator new(std::numeric_limits<std::size_t>::max());
#else
    throw std::bad_alloc();  // natively (and under the sanitizers, which would report the request itself)
#endif
  }
  return fault(spec);
}

}  // namespace lmthing
