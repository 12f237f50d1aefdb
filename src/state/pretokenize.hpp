// The pre-tokenization step of OpenAI's BPE encodings: text is cut into pieces (words with their
// leading space, runs of up to three digits, punctuation runs, whitespace runs) before BPE merges
// bytes inside each piece. Hand-written equivalents of the encodings' regular expressions, as
// js-tiktoken runs them (JS RegExp, `u` flag):
//
// cl100k_base  ('s|'S|'t|'T|'re|'rE|'Re|'RE|'ve|'vE|'Ve|'VE|'m|'M|'ll|'lL|'Ll|'LL|'d|'D)
//              |[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// o200k_base   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(contraction)?
//              |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(contraction)?
//              |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Each alternative is a small matcher that reproduces the regex's backtracking exactly (see the
// comments in pretokenize.cpp). Bytes that are not valid UTF-8 count as one "other" character each.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace lmthing::state {

enum class Pretokenizer { cl100k, o200k };

// The exact pattern string each splitter implements (as in js-tiktoken's rank files), so a rank file
// whose pattern differs is refused instead of silently miscounted.
std::string_view pattern_of(Pretokenizer kind);

// The pieces of `text` in order; they concatenate to `text`.
std::vector<std::string_view> split_pieces(Pretokenizer kind, std::string_view text);

}  // namespace lmthing::state
