// Standard base64 (RFC 4648, with padding): how a saved index travels as JSON through storage.* ops.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lmthing::memory {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace lmthing::memory
