// libFuzzer target: YAML rendering of arbitrary JSON (what defData renders). Never crashes; the
// output always ends with a newline, and a string scalar never leaves a raw control character.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "prompt/yaml.hpp"
#include "protocol/json_text.hpp"

using namespace lmthing;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lmthing::Json value;
  try {
    value = protocol::parse_limited<lmthing::Json>(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const std::exception&) {
    return 0;
  }
  const std::string yaml = prompt::toYaml(value);
  if (yaml.empty() || yaml.back() != '\n') std::abort();
  for (const char c : yaml) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 && c != '\n' && c != '\t') std::abort();  // C0 controls are always escaped
  }
  return 0;
}
