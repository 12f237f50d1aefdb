// libFuzzer target: the boundary scanner (protocol/json_text.hpp) on arbitrary bytes.
// Invariants: scanning never recurses or crashes; a repaired text needs no further repair; when
// the text parses, the scanner's depth is the value's depth; envelope recovery never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/json_text.hpp"

using namespace lmthing::protocol;

namespace {
void require(bool condition, const char* what) {
  if (!condition) {
    __builtin_printf("invariant violated: %s\n", what);
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t kLimit = 64;
  std::string repaired;
  const TextScan scan = scan_json_text(text, kLimit, repaired);
  recover_envelope(text);
  if (scan.too_deep) {
    require(scan.depth == kLimit + 1, "a too-deep scan stops one level past the limit");
    return 0;
  }
  const std::string_view clean = scan.repaired ? std::string_view(repaired) : text;
  std::string again;
  const TextScan rescan = scan_json_text(clean, kLimit, again);
  require(!rescan.repaired, "a repaired text needs no further repair");
  require(rescan.depth == scan.depth, "repairing does not change the depth");
  if (clean.find('\0') != std::string_view::npos) {
    // nlohmann alone would stop at the NUL; the engine's parse refuses the whole text.
    bool refused = false;
    try {
      (void)parse_limited(clean);
    } catch (const json::parse_error&) {
      refused = true;
    }
    require(refused, "a text with a raw NUL byte is refused");
    return 0;
  }
  const json value = json::parse(clean, nullptr, false);
  if (!value.is_discarded()) {
    require(json_depth(value, kLimit) == scan.depth || !value.is_structured(), "the scanned depth is the parsed value's depth");
    // What parsed must serialize and parse back to the same value.
    require(json::parse(value.dump()) == value, "dump and parse round-trip");
  }
  return 0;
}
