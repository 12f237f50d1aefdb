// Exact byte-pair encoding of OpenAI's o200k_base and cl100k_base: a rank table loaded from a rank
// file (scripts/gen-bpe-ranks.mjs writes them from js-tiktoken into dist/tokenizers/; they are not
// part of the .wasm), the encoding's pre-splitter (pretokenize.hpp), and tiktoken's merge rule:
// inside each piece, repeatedly merge the adjacent pair whose concatenation has the lowest rank
// (leftmost on ties) until no pair is a token.
//
// Special tokens (<|endoftext|> …) are counted as ordinary text, like tiktoken's encode_ordinary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "state/pretokenize.hpp"

namespace lmthing::state {

class BpeEncoding {
 public:
  // Parses a rank file. Throws StateError(INVALID_RANKS) when it is not one, names an encoding
  // this engine has no splitter for, or carries a pattern that differs from the splitter's.
  static BpeEncoding load(std::string_view file_bytes);

  const std::string& name() const { return name_; }  // "o200k_base" or "cl100k_base"
  std::size_t vocabulary_size() const { return lengths_.size(); }

  std::vector<std::uint32_t> encode(std::string_view text) const;
  std::size_t count(std::string_view text) const;

  // The rank of exactly these bytes, or kNoRank.
  static constexpr std::uint32_t kNoRank = 0xffffffffu;
  std::uint32_t rank_of(std::string_view bytes) const;

  // The merge of one piece, exposed so tests can compare the two merge algorithms on long input.
  // Calls `emit(rank)` for each token. `use_heap` selects the O(n log n) merge used for long pieces.
  template <class Emit>
  void merge_piece(std::string_view piece, bool use_heap, Emit&& emit) const;

 private:
  BpeEncoding() = default;
  void build_table();
  // Token boundaries of `piece` after merging (offsets, first 0, last piece.size()).
  std::vector<std::uint32_t> merge_linear(std::string_view piece) const;
  std::vector<std::uint32_t> merge_heap(std::string_view piece) const;

  std::string name_;
  Pretokenizer splitter_ = Pretokenizer::o200k;
  std::vector<std::uint8_t> lengths_;   // by rank
  std::vector<std::uint32_t> offsets_;  // by rank, into bytes_
  std::string bytes_;                   // all token bytes, in rank order
  std::vector<std::uint32_t> table_;    // open addressing: rank + 1, 0 = empty
  std::uint64_t mask_ = 0;
};

template <class Emit>
void BpeEncoding::merge_piece(std::string_view piece, bool use_heap, Emit&& emit) const {
  if (const std::uint32_t whole = rank_of(piece); whole != kNoRank) {
    emit(whole);
    return;
  }
  const std::vector<std::uint32_t> bounds = use_heap ? merge_heap(piece) : merge_linear(piece);
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) emit(rank_of(piece.substr(bounds[i], bounds[i + 1] - bounds[i])));
}

}  // namespace lmthing::state
