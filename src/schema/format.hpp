// The "format" keyword: checks for the draft-07 formats we support. Unknown formats always pass.
#pragma once

#include <string_view>

namespace lmthing::schema::format {

using Checker = bool (*)(std::string_view value);

// The checker for a format name, or nullptr for a format we do not know (it is not asserted).
Checker findChecker(std::string_view name);

// Shared with the URI parser (IP literals in the authority).
bool isIpv4(std::string_view text);
bool isIpv6(std::string_view text);

}  // namespace lmthing::schema::format
