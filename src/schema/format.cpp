#include "schema/format.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "schema/regex.hpp"
#include "schema/uri.hpp"

namespace lmthing::schema::format {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Reads exactly `count` digits at `pos` into `out`.
bool readDigits(std::string_view s, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!isDigit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int daysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

// RFC 3339 full-date: YYYY-MM-DD.
bool isDate(std::string_view s) {
  int year = 0, month = 0, day = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!readDigits(s, 0, 4, year) || !readDigits(s, 5, 2, month) || !readDigits(s, 8, 2, day)) return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

// Parses "Z" or "+HH:MM"/"-HH:MM" (the whole rest of the string) as minutes east of UTC.
bool readOffset(std::string_view s, int& minutes) {
  if (s.size() == 1 && (s[0] == 'Z' || s[0] == 'z')) {
    minutes = 0;
    return true;
  }
  int hours = 0, mins = 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return false;
  if (!readDigits(s, 1, 2, hours) || !readDigits(s, 4, 2, mins) || hours > 23 || mins > 59) return false;
  minutes = (s[0] == '+' ? 1 : -1) * (hours * 60 + mins);
  return true;
}

// RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM). A leap second is only valid at 23:59 UTC.
bool isTime(std::string_view s) {
  int hour = 0, minute = 0, second = 0;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  if (!readDigits(s, 0, 2, hour) || !readDigits(s, 3, 2, minute) || !readDigits(s, 6, 2, second)) return false;
  std::size_t pos = 8;
  if (s[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < s.size() && isDigit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  int offset = 0;
  if (!readOffset(s.substr(pos), offset)) return false;
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (second < 60) return true;
  const int utcMinutes = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440;
  return utcMinutes == 23 * 60 + 59;
}

bool isDateTime(std::string_view s) { return s.size() > 11 && (s[10] == 'T' || s[10] == 't') && isDate(s.substr(0, 10)) && isTime(s.substr(11)); }

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens, at most 63
// characters each and 253 in total (one trailing dot allowed).
bool isHostname(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find('.', start), s.size());
    const std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!isAlnum(c) && c != '-') return false;
    }
    // "ab--" is reserved for IDNA; only the "xn--" A-label prefix may use it.
    if (label.size() >= 4 && label.substr(2, 2) == "--" && !(lower(label[0]) == 'x' && lower(label[1]) == 'n')) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

bool isAtext(char c) { return isAlnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos; }

// RFC 5321 local part: a dot-atom or a quoted string.
bool isEmailLocalPart(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      const char c = s[i];
      if (c == '\\') {
        if (++i + 1 >= s.size()) return false;
      } else if (c == '"' || c < 0x20 || c == 0x7F) {
        return false;
      }
    }
    return true;
  }
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos) return false;
  for (char c : s) {
    if (!isAtext(c) && c != '.') return false;
  }
  return true;
}

bool isEmail(std::string_view s) {
  const std::size_t at = s.rfind('@');
  if (at == std::string_view::npos || !isEmailLocalPart(s.substr(0, at))) return false;
  const std::string_view domain = s.substr(at + 1);
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    const std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.starts_with("IPv6:")) return isIpv6(literal.substr(5));
    return isIpv4(literal);
  }
  return isHostname(domain);
}

// One to four hex digits.
bool isHexGroup(std::string_view group) {
  if (group.empty() || group.size() > 4) return false;
  for (char c : group) {
    if (!isHex(c)) return false;
  }
  return true;
}

// Counts the ':'-separated hex groups of `part` (which may end with an embedded IPv4 address when
// `mayEndWithIpv4`); -1 when malformed.
int countIpv6Groups(std::string_view part, bool mayEndWithIpv4) {
  if (part.empty()) return 0;
  int groups = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(part.find(':', start), part.size());
    const std::string_view group = part.substr(start, end - start);
    const bool last = end == part.size();
    if (last && mayEndWithIpv4 && group.find('.') != std::string_view::npos) {
      return isIpv4(group) ? groups + 2 : -1;
    }
    if (!isHexGroup(group)) return -1;
    ++groups;
    if (last) return groups;
    start = end + 1;
  }
}

bool isJsonPointer(std::string_view s) {
  if (!s.empty() && s.front() != '/') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && (i + 1 >= s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
  }
  return true;
}

// A non-negative integer (no leading zeros) followed by "#" or a JSON pointer.
bool isRelativeJsonPointer(std::string_view s) {
  std::size_t digits = 0;
  while (digits < s.size() && isDigit(s[digits])) ++digits;
  if (digits == 0 || (digits > 1 && s[0] == '0')) return false;
  const std::string_view rest = s.substr(digits);
  return rest == "#" || isJsonPointer(rest);
}

bool isRegex(std::string_view s) { return EcmaRegex::compile(s) != nullptr; }

}  // namespace

bool isIpv4(std::string_view s) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(s.find('.', start), s.size());
    const std::string_view part = s.substr(start, end - start);
    int value = 0;
    if (part.empty() || part.size() > 3 || !readDigits(part, 0, part.size(), value)) return false;
    if (value > 255 || (part.size() > 1 && part[0] == '0')) return false;
    ++parts;
    if (end == s.size()) return parts == 4;
    start = end + 1;
  }
}

// RFC 4291 text form: eight groups, or fewer with one "::", optionally ending in dotted IPv4.
bool isIpv6(std::string_view s) {
  const std::size_t gap = s.find("::");
  if (gap == std::string_view::npos) return countIpv6Groups(s, true) == 8;
  if (s.find("::", gap + 1) != std::string_view::npos) return false;
  const int head = countIpv6Groups(s.substr(0, gap), false);
  const int tail = countIpv6Groups(s.substr(gap + 2), true);
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

Checker findChecker(std::string_view name) {
  static constexpr std::pair<std::string_view, Checker> kCheckers[] = {
      {"date-time", &isDateTime},
      {"date", &isDate},
      {"time", &isTime},
      {"email", &isEmail},
      {"hostname", &isHostname},
      {"ipv4", &isIpv4},
      {"ipv6", &isIpv6},
      {"uri", &uri::isUri},
      {"uri-reference", &uri::isUriReference},
      {"json-pointer", &isJsonPointer},
      {"relative-json-pointer", &isRelativeJsonPointer},
      {"regex", &isRegex},
  };
  for (const auto& [formatName, checker] : kCheckers) {
    if (formatName == name) return checker;
  }
  return nullptr;
}

}  // namespace lmthing::schema::format
