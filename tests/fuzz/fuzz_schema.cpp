// libFuzzer target: the JSON Schema validator on arbitrary schemas and values. The input is the
// schema's JSON text, a NUL byte, then the value's JSON text. Invalid schemas must throw SchemaError
// and nothing else; valid ones must validate any value without crashing, and an invalid verdict
// always carries at least one issue.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/json_text.hpp"
#include "schema/validator.hpp"

using namespace lmthing;
using json = lmthing::Json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\0');
  json schema, value;
  try {
    schema = protocol::parse_limited(input.substr(0, split));
    value = split == std::string_view::npos ? json() : protocol::parse_limited(input.substr(split + 1));
  } catch (const std::exception&) {
    return 0;  // not JSON, or deeper than the limit: the boundary refuses it before the validator
  }
  try {
    const schema::Validator validator(schema);
    const schema::ValidationResult result = validator.validate(value);
    if (!result.valid && result.errors.empty()) std::abort();
    if (result.valid && !result.errors.empty()) std::abort();
    schema::issues_json(result).dump();
  } catch (const schema::SchemaError&) {
  }
  return 0;
}
