// How deep can a value be before the engine's recursive operations overflow the wasm stack?
// A wasm module (target depth_probe, bench/bench.cmake) exporting one probe per recursive
// operation the engine performs on the values it receives; bench/depth-limit.mjs calls each with
// growing depths in fresh module instances (a trap kills an instance) and reports the deepest that
// passed. docs/limits.md sets the engine's depth limit from these figures.
#include <emscripten/emscripten.h>

#include <string>

#include "prompt/yaml.hpp"
#include "protocol/json_text.hpp"
#include "schema/validator.hpp"

using lmthing::protocol::json;

namespace {

json nested_array(int depth) {
  // Parsing is iterative in lmthing::Json, so this never recurses.
  return json::parse(std::string(static_cast<std::size_t>(depth), '[') + "1" + std::string(static_cast<std::size_t>(depth), ']'));
}

// {"type":"object","properties":{"a":{...}}} nested `depth` schema levels (2 JSON levels each).
json nested_schema(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += R"({"type":"object","properties":{"a":)";
  text += "{}";
  for (int i = 0; i < depth; ++i) text += "}}";
  return json::parse(text);
}

// {"items": {"items": ...}}: one JSON level per schema level.
json nested_items_schema(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += R"({"items":)";
  text += "{}";
  for (int i = 0; i < depth; ++i) text += "}";
  return json::parse(text);
}

volatile std::size_t sink = 0;

}  // namespace

// Lets the probe raise the engine's own limit so the recursive code paths are reached.
extern "C" EMSCRIPTEN_KEEPALIVE void probe_unlimited() {
  // set_limits refuses values above the shipped maximum; the probe measures beyond it.
  const_cast<lmthing::protocol::Limits&>(lmthing::protocol::limits()).json_depth = 1u << 30;
}

// Returns 0 after running operation `op` on a value nested `depth` levels deep (a trap otherwise).
extern "C" EMSCRIPTEN_KEEPALIVE int probe(int op, int depth) {
  switch (op) {
    case 0: {  // copy (every value the engine keeps or forwards is copied at least once)
      json value = nested_array(depth);
      json copy = value;
      sink = copy.size();
      break;
    }
    case 1: {  // dump (every op and event the engine sends)
      sink = nested_array(depth).dump().size();
      break;
    }
    case 2: {  // equality (enum, const, uniqueItems; message comparisons)
      json a = nested_array(depth), b = nested_array(depth);
      sink = a == b;
      break;
    }
    case 3: {  // YAML rendering (defData)
      sink = lmthing::prompt::toYaml(nested_array(depth)).size();
      break;
    }
    case 4: {  // compiling a schema nested through properties (2 JSON levels per schema level)
      lmthing::schema::Validator validator(nested_schema(depth / 2));
      sink = validator.validate(json::object()).valid;
      break;
    }
    case 5: {  // compiling and applying a schema nested through items, on an equally deep value
      lmthing::schema::Validator validator(nested_items_schema(depth));
      sink = validator.validate(nested_array(depth)).valid;
      break;
    }
    case 6: {  // uniqueItems on deep items (the validator's own recursive comparison)
      json instance = json::array({nested_array(depth), nested_array(depth)});
      sink = lmthing::schema::validate(json::parse(R"({"uniqueItems":true})"), instance).valid;
      break;
    }
    default: return 1;
  }
  return 0;
}
