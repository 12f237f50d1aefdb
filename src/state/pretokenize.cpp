#include "state/pretokenize.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace lmthing::state {

namespace {

enum CharClass : std::uint8_t { kOther, kUpper, kLower, kOtherLetter, kMark, kNumber, kSpace };

struct Run {
  char32_t first;
  CharClass cls;
};
constexpr Run kRuns[] = {
#include "state/unicode_classes.inc"
};

CharClass class_of(char32_t cp) {
  static const auto ascii = [] {
    std::array<CharClass, 128> table{};
    for (char32_t c = 0; c < 128; ++c) {
      const Run* run = std::upper_bound(std::begin(kRuns), std::end(kRuns), c, [](char32_t v, const Run& r) { return v < r.first; }) - 1;
      table[c] = run->cls;
    }
    return table;
  }();
  if (cp < 128) return ascii[cp];
  const Run* run = std::upper_bound(std::begin(kRuns), std::end(kRuns), cp, [](char32_t v, const Run& r) { return v < r.first; }) - 1;
  return run->cls;
}

// The text decoded once: one entry per character with its class, code point and byte offset.
struct Decoded {
  std::vector<char32_t> cp;
  std::vector<CharClass> cls;
  std::vector<std::uint32_t> offset;  // size() + 1 entries

  explicit Decoded(std::string_view text) {
    cp.reserve(text.size());
    cls.reserve(text.size());
    offset.reserve(text.size() + 1);
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
      offset.push_back(static_cast<std::uint32_t>(i));
      const unsigned char b = s[i];
      int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
      char32_t c = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
      bool valid = len > 0 && i + len <= n;
      for (int k = 1; valid && k < len; ++k) {
        if ((s[i + k] & 0xc0) != 0x80) valid = false;
        c = (c << 6) | (s[i + k] & 0x3f);
      }
      if (valid &&
          ((len == 2 && c < 0x80) || (len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (len == 4 && (c < 0x10000 || c > 0x10ffff))))
        valid = false;
      if (!valid) {
        cp.push_back(0xfffd);
        cls.push_back(kOther);
        i += 1;
        continue;
      }
      cp.push_back(c);
      cls.push_back(class_of(c));
      i += static_cast<std::size_t>(len);
    }
    offset.push_back(static_cast<std::uint32_t>(n));
  }
  std::size_t size() const { return cp.size(); }
};

bool is_newline(char32_t c) { return c == '\r' || c == '\n'; }
bool is_letter(CharClass c) { return c == kUpper || c == kLower || c == kOtherLetter; }

class Splitter {
 public:
  explicit Splitter(const Decoded& d) : d_(d), n_(d.size()) {}

  // [^\r\n\p{L}\p{N}]
  bool prefix_char(std::size_t i) const { return i < n_ && !is_newline(d_.cp[i]) && !is_letter(d_.cls[i]) && d_.cls[i] != kNumber; }
  // [^\s\p{L}\p{N}]
  bool punct_char(std::size_t i) const { return i < n_ && d_.cls[i] != kSpace && !is_letter(d_.cls[i]) && d_.cls[i] != kNumber; }
  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
  bool head_char(std::size_t i) const { return i < n_ && (d_.cls[i] == kUpper || d_.cls[i] == kOtherLetter || d_.cls[i] == kMark); }
  bool tail_char(std::size_t i) const { return i < n_ && (d_.cls[i] == kLower || d_.cls[i] == kOtherLetter || d_.cls[i] == kMark); }

  template <class Pred>
  std::size_t run(std::size_t i, Pred pred) const {
    while (i < n_ && pred(i)) ++i;
    return i;
  }

  // 's|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D at i: the end, or i.
  std::size_t contraction(std::size_t i) const {
    if (i + 1 >= n_ || d_.cp[i] != '\'') return i;
    const char32_t a = d_.cp[i + 1] | 0x20;  // ASCII lower case (only ASCII letters are compared)
    const bool ascii = d_.cp[i + 1] < 128;
    if (ascii && (a == 's' || a == 't' || a == 'm' || a == 'd')) return i + 2;
    if (i + 2 < n_ && ascii && d_.cp[i + 2] < 128) {
      const char32_t b = d_.cp[i + 2] | 0x20;
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    return i;
  }

  // \p{N}{1,3}
  std::size_t digits(std::size_t i) const {
    std::size_t e = i;
    while (e < n_ && e - i < 3 && d_.cls[e] == kNumber) ++e;
    return e;
  }

  // ` ?[^\s\p{L}\p{N}]+` followed by `[\r\n]*` (cl100k) or `[\r\n/]*` (o200k).
  std::size_t punctuation(std::size_t i, bool slash) const {
    const std::size_t s = (d_.cp[i] == ' ' && punct_char(i + 1)) ? i + 1 : i;
    if (!punct_char(s)) return i;
    std::size_t e = run(s, [&](std::size_t k) { return punct_char(k); });
    return run(e, [&](std::size_t k) { return is_newline(d_.cp[k]) || (slash && d_.cp[k] == '/'); });
  }

  // \s*[\r\n]+ | \s+(?!\S) | \s+ — three alternatives over one whitespace run [i, j):
  // the first ends after the run's last newline; the second leaves the run's last character for
  // the next piece when a non-space follows; the third takes the whole run.
  std::size_t whitespace(std::size_t i) const {
    const std::size_t j = run(i, [&](std::size_t k) { return d_.cls[k] == kSpace; });
    for (std::size_t k = j; k > i; --k)
      if (is_newline(d_.cp[k - 1])) return k;
    if (j == i) return i;
    if (j == n_) return j;
    return j - 1 > i ? j - 1 : j;
  }

  // o200k's first two alternatives (word pieces): [pre]?[head]*[tail]+c? then [pre]?[head]+[tail]*c?
  std::size_t o200k_word(std::size_t i) const {
    // Alternative 1. With the optional prefix first, then without. head* is greedy and gives back
    // one character at a time until tail+ can start: the first k (from the end of the head run
    // downwards) at a tail character wins, and tail+ then runs greedily from k.
    for (int pre = prefix_char(i) ? 1 : 0; pre >= 0; --pre) {
      const std::size_t s = i + static_cast<std::size_t>(pre);
      const std::size_t j = run(s, [&](std::size_t k) { return head_char(k); });
      for (std::size_t k = j + 1; k-- > s;)
        if (tail_char(k)) return contraction(run(k, [&](std::size_t x) { return tail_char(x); }));
    }
    // Alternative 2: head+ greedy, then tail* greedy (always succeeds once head+ matched).
    for (int pre = prefix_char(i) ? 1 : 0; pre >= 0; --pre) {
      const std::size_t s = i + static_cast<std::size_t>(pre);
      if (!head_char(s)) continue;
      const std::size_t j = run(s, [&](std::size_t k) { return head_char(k); });
      return contraction(run(j, [&](std::size_t k) { return tail_char(k); }));
    }
    return i;
  }

  // cl100k's [^\r\n\p{L}\p{N}]?\p{L}+
  std::size_t cl100k_word(std::size_t i) const {
    for (int pre = prefix_char(i) ? 1 : 0; pre >= 0; --pre) {
      const std::size_t s = i + static_cast<std::size_t>(pre);
      if (s < n_ && is_letter(d_.cls[s])) return run(s, [&](std::size_t k) { return is_letter(d_.cls[k]); });
    }
    return i;
  }

  std::size_t next_end(Pretokenizer kind, std::size_t i) const {
    std::size_t e = i;
    if (kind == Pretokenizer::cl100k) {
      if ((e = contraction(i)) > i) return e;
      if ((e = cl100k_word(i)) > i) return e;
    } else if ((e = o200k_word(i)) > i) {
      return e;
    }
    if ((e = digits(i)) > i) return e;
    if ((e = punctuation(i, kind == Pretokenizer::o200k)) > i) return e;
    if ((e = whitespace(i)) > i) return e;
    return i + 1;  // unreachable: every character starts some alternative
  }

 private:
  const Decoded& d_;
  std::size_t n_;
};

}  // namespace

std::string_view pattern_of(Pretokenizer kind) {
  static constexpr std::string_view kContraction = "('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)";
  static const std::string cl100k =
      std::string(kContraction) + R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static const std::string o200k = R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)" + std::string(kContraction) +
                                   R"(?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)" + std::string(kContraction) +
                                   R"(?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  return kind == Pretokenizer::cl100k ? cl100k : o200k;
}

std::vector<std::string_view> split_pieces(Pretokenizer kind, std::string_view text) {
  const Decoded decoded(text);
  const Splitter splitter(decoded);
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < decoded.size();) {
    const std::size_t e = splitter.next_end(kind, i);
    pieces.push_back(text.substr(decoded.offset[i], decoded.offset[e] - decoded.offset[i]));
    i = e;
  }
  return pieces;
}

}  // namespace lmthing::state
