#include "schema/uri.hpp"

#include <algorithm>
#include <optional>

#include "schema/format.hpp"

namespace lmthing::schema::uri {
namespace {

// The five components of RFC 3986 Appendix B; an absent component differs from an empty one.
struct UriParts {
  std::optional<std::string> scheme;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string> query;
  std::optional<std::string> fragment;
};

UriParts parse(std::string_view s) {
  UriParts parts;
  const std::size_t colon = s.find_first_of(":/?#");
  if (colon != std::string_view::npos && colon > 0 && s[colon] == ':') {
    parts.scheme = std::string(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  if (s.starts_with("//")) {
    s.remove_prefix(2);
    const std::size_t end = std::min(s.find_first_of("/?#"), s.size());
    parts.authority = std::string(s.substr(0, end));
    s.remove_prefix(end);
  }
  const std::size_t pathEnd = std::min(s.find_first_of("?#"), s.size());
  parts.path = std::string(s.substr(0, pathEnd));
  s.remove_prefix(pathEnd);
  if (!s.empty() && s.front() == '?') {
    s.remove_prefix(1);
    const std::size_t end = std::min(s.find('#'), s.size());
    parts.query = std::string(s.substr(0, end));
    s.remove_prefix(end);
  }
  if (!s.empty() && s.front() == '#') parts.fragment = std::string(s.substr(1));
  return parts;
}

std::string recompose(const UriParts& parts) {
  std::string out;
  if (parts.scheme) out += *parts.scheme + ":";
  if (parts.authority) out += "//" + *parts.authority;
  out += parts.path;
  if (parts.query) out += "?" + *parts.query;
  if (parts.fragment) out += "#" + *parts.fragment;
  return out;
}

void dropLastSegment(std::string& out) {
  const std::size_t slash = out.rfind('/');
  out.erase(slash == std::string::npos ? 0 : slash);
}

// RFC 3986 section 5.2.4.
std::string removeDotSegments(std::string in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.erase(0, 3);
    } else if (in.starts_with("./")) {
      in.erase(0, 2);
    } else if (in.starts_with("/./")) {
      in.replace(0, 3, "/");
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.replace(0, 4, "/");
      dropLastSegment(out);
    } else if (in == "/..") {
      in = "/";
      dropLastSegment(out);
    } else if (in == "." || in == "..") {
      in.clear();
    } else {
      const std::size_t end = std::min(in.find('/', in.front() == '/' ? 1 : 0), in.size());
      out += in.substr(0, end);
      in.erase(0, end);
    }
  }
  return out;
}

// RFC 3986 section 5.2.3.
std::string mergePaths(const UriParts& base, const std::string& referencePath) {
  if (base.authority && base.path.empty()) return "/" + referencePath;
  const std::size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return referencePath;
  return base.path.substr(0, slash + 1) + referencePath;
}

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isUnreserved(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool isSubDelim(char c) { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }

// Every character is unreserved, a sub-delimiter, a valid %XX escape, or one of `extra`.
bool hasOnlyUriChars(std::string_view text, std::string_view extra) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !isHex(text[i + 1]) || !isHex(text[i + 2])) return false;
      i += 2;
    } else if (!isUnreserved(c) && !isSubDelim(c) && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool isScheme(std::string_view scheme) {
  if (scheme.empty() || !isAlpha(scheme.front())) return false;
  for (char c : scheme) {
    if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

bool isPort(std::string_view port) {
  for (char c : port) {
    if (!isDigit(c)) return false;
  }
  return true;
}

// "v1.fe80::a+en1"-style future IP literal (RFC 3986 IPvFuture).
bool isIpFuture(std::string_view text) {
  if (text.size() < 4 || (text[0] != 'v' && text[0] != 'V')) return false;
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot < 2 || dot + 1 == text.size()) return false;
  for (std::size_t i = 1; i < dot; ++i) {
    if (!isHex(text[i])) return false;
  }
  const std::string_view rest = text.substr(dot + 1);
  return rest.find('%') == std::string_view::npos && hasOnlyUriChars(rest, ":");
}

bool isAuthority(std::string_view authority) {
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (!hasOnlyUriChars(authority.substr(0, at), ":")) return false;
    authority.remove_prefix(at + 1);
  }
  if (authority.starts_with("[")) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view literal = authority.substr(1, close - 1);
    if (!format::isIpv6(literal) && !isIpFuture(literal)) return false;
    const std::string_view rest = authority.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && isPort(rest.substr(1)));
  }
  const std::size_t colon = authority.find(':');
  const std::string_view host = authority.substr(0, colon);
  if (!hasOnlyUriChars(host, "")) return false;
  return colon == std::string_view::npos || isPort(authority.substr(colon + 1));
}

bool isWellFormed(std::string_view text, bool requireScheme) {
  const UriParts parts = parse(text);
  if (parts.scheme && !isScheme(*parts.scheme)) return false;
  if (!parts.scheme) {
    if (requireScheme) return false;
    // A relative path's first segment must not look like a scheme ("path-noscheme").
    const std::string_view firstSegment = std::string_view(parts.path).substr(0, parts.path.find('/'));
    if (firstSegment.find(':') != std::string_view::npos) return false;
  }
  if (parts.authority && !isAuthority(*parts.authority)) return false;
  if (!hasOnlyUriChars(parts.path, ":@/")) return false;
  if (parts.query && !hasOnlyUriChars(*parts.query, ":@/?")) return false;
  if (parts.fragment && !hasOnlyUriChars(*parts.fragment, ":@/?")) return false;
  return true;
}

}  // namespace

std::string resolve(std::string_view base, std::string_view reference) {
  const UriParts ref = parse(reference);
  const UriParts b = parse(base);
  UriParts target;
  if (ref.scheme) {
    target = ref;
    target.path = removeDotSegments(ref.path);
  } else {
    target.scheme = b.scheme;
    if (ref.authority) {
      target.authority = ref.authority;
      target.path = removeDotSegments(ref.path);
      target.query = ref.query;
    } else {
      target.authority = b.authority;
      if (ref.path.empty()) {
        target.path = b.path;
        target.query = ref.query ? ref.query : b.query;
      } else {
        target.path = removeDotSegments(ref.path.front() == '/' ? ref.path : mergePaths(b, ref.path));
        target.query = ref.query;
      }
    }
  }
  target.fragment = ref.fragment;
  return recompose(target);
}

std::pair<std::string, std::string> splitFragment(std::string_view uri) {
  const std::size_t hash = uri.find('#');
  if (hash == std::string_view::npos) return {std::string(uri), ""};
  return {std::string(uri.substr(0, hash)), std::string(uri.substr(hash + 1))};
}

std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && isHex(text[i + 1]) && isHex(text[i + 2])) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool isUri(std::string_view text) { return isWellFormed(text, true); }

bool isUriReference(std::string_view text) { return isWellFormed(text, false); }

}  // namespace lmthing::schema::uri
