#include "state/bpe.hpp"

#include <cstring>
#include <queue>

#include "state/byte_io.hpp"
#include "state/state_error.hpp"

namespace lmthing::state {

namespace {

constexpr char kRanksMagic[8] = {'L', 'M', 'T', 'B', 'P', 'E', '\0', '\x01'};
// Pieces longer than this merge with a heap: the quadratic scan of tiktoken would take minutes on
// a megabyte of one repeated character.
constexpr std::size_t kHeapThreshold = 256;

std::uint64_t hash_bytes(std::string_view s) noexcept {
  std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (s.size() * 0xff51afd7ed558ccdULL);
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  h = (h ^ tail) * 0x94d049bb133111ebULL;
  return h ^ (h >> 29);
}

}  // namespace

BpeEncoding BpeEncoding::load(std::string_view file_bytes) {
  ByteReader in(file_bytes, "BPE rank file");
  try {
    char magic[8];
    in.get_bytes(magic, 8);
    if (std::memcmp(magic, kRanksMagic, 8) != 0)
      throw StateError(error_code::kInvalidRanks, "BPE rank file: bad magic (not written by scripts/gen-bpe-ranks.mjs)");
    BpeEncoding e;
    e.name_ = in.get_string();
    const std::string pattern = in.get_string();
    if (e.name_ == "o200k_base")
      e.splitter_ = Pretokenizer::o200k;
    else if (e.name_ == "cl100k_base")
      e.splitter_ = Pretokenizer::cl100k;
    else
      throw StateError(error_code::kInvalidRanks, "BPE rank file: no splitter for encoding \"" + e.name_ + "\" (expected o200k_base or cl100k_base)");
    if (pattern != pattern_of(e.splitter_))
      throw StateError(error_code::kInvalidRanks,
                       "BPE rank file " + e.name_ + ": its pre-tokenization pattern differs from the one the engine implements: " + pattern);
    const auto count = in.get<std::uint32_t>();
    in.expect(count <= in.remaining(), "rank count larger than the file");
    e.lengths_.resize(count);
    in.get_bytes(e.lengths_.data(), count);
    e.offsets_.resize(count);
    std::size_t total = 0;
    for (std::uint32_t r = 0; r < count; ++r) {
      e.offsets_[r] = static_cast<std::uint32_t>(total);
      total += e.lengths_[r];
    }
    in.expect(total <= in.remaining(), "token bytes truncated");
    e.bytes_.resize(total);
    in.get_bytes(e.bytes_.data(), total);
    const auto specials = in.get<std::uint32_t>();
    for (std::uint32_t i = 0; i < specials; ++i) {
      in.get<std::uint32_t>();
      in.get_string();
    }
    in.expect(in.remaining() == 0, "unexpected bytes at the end");
    e.build_table();
    return e;
  } catch (const StateError& error) {
    if (error.code() == error_code::kInvalidRanks) throw;
    throw StateError(error_code::kInvalidRanks, error.what());
  }
}

void BpeEncoding::build_table() {
  std::size_t size = 1;
  while (size < lengths_.size() * 2) size <<= 1;
  table_.assign(size, 0);
  mask_ = size - 1;
  for (std::uint32_t r = 0; r < lengths_.size(); ++r) {
    if (!lengths_[r]) continue;
    const std::string_view token(bytes_.data() + offsets_[r], lengths_[r]);
    if (rank_of(token) != kNoRank)
      throw StateError(error_code::kInvalidRanks, "BPE rank file " + name_ + ": token " + std::to_string(r) + " repeats an earlier token");
    for (std::uint64_t h = hash_bytes(token);; ++h)
      if (!table_[h & mask_]) {
        table_[h & mask_] = r + 1;
        break;
      }
  }
}

std::uint32_t BpeEncoding::rank_of(std::string_view s) const {
  if (s.empty() || s.size() > 255 || table_.empty()) return kNoRank;
  for (std::uint64_t h = hash_bytes(s);; ++h) {
    const std::uint32_t entry = table_[h & mask_];
    if (!entry) return kNoRank;
    const std::uint32_t r = entry - 1;
    if (lengths_[r] == s.size() && std::memcmp(bytes_.data() + offsets_[r], s.data(), s.size()) == 0) return r;
  }
}

// tiktoken's byte_pair_merge: parts[i] is a boundary with the rank of the pair that starts there
// (the bytes from boundary i to boundary i + 2); merge the lowest, update its two neighbours.
std::vector<std::uint32_t> BpeEncoding::merge_linear(std::string_view piece) const {
  struct Part {
    std::uint32_t start;
    std::uint32_t rank;
  };
  std::vector<Part> parts;
  parts.reserve(piece.size() + 1);
  for (std::uint32_t i = 0; i + 1 < piece.size(); ++i) parts.push_back({i, rank_of(piece.substr(i, 2))});
  parts.push_back({static_cast<std::uint32_t>(piece.size() - 1), kNoRank});
  parts.push_back({static_cast<std::uint32_t>(piece.size()), kNoRank});
  const auto pair_rank = [&](std::size_t i) {
    return i + 3 < parts.size() ? rank_of(piece.substr(parts[i].start, parts[i + 3].start - parts[i].start)) : kNoRank;
  };
  for (;;) {
    std::uint32_t best = kNoRank;
    std::size_t at = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i)
      if (parts[i].rank < best) {
        best = parts[i].rank;
        at = i;
      }
    if (best == kNoRank) break;
    if (at > 0) parts[at - 1].rank = pair_rank(at - 1);
    parts[at].rank = pair_rank(at);
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<std::uint32_t> bounds;
  bounds.reserve(parts.size());
  for (const Part& p : parts) bounds.push_back(p.start);
  return bounds;
}

// The same merges in O(n log n): a linked list of parts and a heap of (rank, start) candidate
// pairs; an entry is stale when either part has changed since it was pushed. Ties on rank go to
// the smaller start, i.e. the leftmost pair, exactly like the linear scan.
std::vector<std::uint32_t> BpeEncoding::merge_heap(std::string_view piece) const {
  const auto n = static_cast<std::uint32_t>(piece.size());
  std::vector<std::uint32_t> end(n), next(n), prev(n), version(n, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    end[i] = i + 1;
    next[i] = i + 1;  // n = none
    prev[i] = i == 0 ? n : i - 1;
  }
  struct Candidate {
    std::uint32_t rank, start, left_version, right_version;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : start > o.start; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  const auto push = [&](std::uint32_t left) {
    const std::uint32_t right = next[left];
    if (right >= n) return;
    const std::uint32_t r = rank_of(piece.substr(left, end[right] - left));
    if (r != kNoRank) heap.push({r, left, version[left], version[right]});
  };
  for (std::uint32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    const std::uint32_t left = c.start, right = next[left];
    if (right >= n || version[left] != c.left_version || version[right] != c.right_version || end[left] == 0) continue;
    end[left] = end[right];
    next[left] = next[right];
    if (next[right] < n) prev[next[right]] = left;
    end[right] = 0;  // removed
    ++version[left];
    ++version[right];
    if (prev[left] < n) push(prev[left]);
    push(left);
  }
  std::vector<std::uint32_t> bounds;
  for (std::uint32_t i = 0; i < n; i = next[i]) bounds.push_back(i);
  bounds.push_back(n);
  return bounds;
}

std::vector<std::uint32_t> BpeEncoding::encode(std::string_view text) const {
  std::vector<std::uint32_t> out;
  for (std::string_view piece : split_pieces(splitter_, text))
    merge_piece(piece, piece.size() > kHeapThreshold, [&](std::uint32_t r) { out.push_back(r); });
  return out;
}

std::size_t BpeEncoding::count(std::string_view text) const {
  std::size_t n = 0;
  for (std::string_view piece : split_pieces(splitter_, text)) merge_piece(piece, piece.size() > kHeapThreshold, [&](std::uint32_t) { ++n; });
  return n;
}

}  // namespace lmthing::state
