#include "state/hnsw.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

namespace lmthing::state {

namespace {

constexpr std::uint32_t kGraphMagic = 0x57534e48;  // "HNSW"
constexpr std::uint32_t kFormat = 1;
constexpr int kMaxLevel = 31;

std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct Closer {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return a.distance > b.distance; }  // min-heap
};
struct Farther {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return a.distance < b.distance; }  // max-heap
};

}  // namespace

HnswGraph::HnswGraph(HnswParams params) : params_(params), level_scale_(1.0 / std::log(static_cast<double>(std::max<std::uint32_t>(params.m, 2)))) {}

int HnswGraph::draw_level() {
  const std::uint64_t bits = mix64(params_.seed + 0x9e3779b97f4a7c15ULL * ++draws_);
  const double u = (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
  return std::min(kMaxLevel, static_cast<int>(-std::log(u) * level_scale_));
}

std::uint32_t* HnswGraph::links(std::uint32_t slot, int level) {
  if (level == 0) return layer0_.data() + static_cast<std::size_t>(slot) * (1 + 2 * params_.m);
  return upper_[slot].data() + static_cast<std::size_t>(level - 1) * (1 + params_.m);
}

const std::uint32_t* HnswGraph::links(std::uint32_t slot, int level) const { return const_cast<HnswGraph*>(this)->links(slot, level); }

bool HnswGraph::prepare(const float* v, std::vector<float>& out) const {
  out.assign(v, v + params_.dimensions);
  if (params_.metric != Metric::cosine) return true;
  double norm = 0;
  for (float x : out) norm += static_cast<double>(x) * x;
  if (norm == 0) return false;
  // In double: a tiny (subnormal) vector's scale overflows a float, which would make it all infinities.
  const double scale = 1.0 / std::sqrt(norm);
  for (float& x : out) x = static_cast<float>(static_cast<double>(x) * scale);
  return true;
}

std::uint32_t HnswGraph::add(const float* v) {
  const auto slot = static_cast<std::uint32_t>(levels_.size());
  const int level = draw_level();
  data_.insert(data_.end(), v, v + params_.dimensions);
  levels_.push_back(static_cast<std::uint8_t>(level));
  deleted_.push_back(0);
  layer0_.resize(layer0_.size() + 1 + 2 * params_.m, 0);
  upper_.emplace_back(static_cast<std::size_t>(level) * (1 + params_.m), 0);
  ++live_;
  connect(slot, level);
  return slot;
}

void HnswGraph::reuse(std::uint32_t slot, const float* v) {
  std::copy(v, v + params_.dimensions, data_.begin() + static_cast<std::ptrdiff_t>(slot) * static_cast<std::ptrdiff_t>(params_.dimensions));
  deleted_[slot] = 0;
  ++live_;
  connect(slot, levels_[slot]);
}

void HnswGraph::remove(std::uint32_t slot) {
  if (!is_live(slot)) return;
  deleted_[slot] = 1;
  --live_;
}

void HnswGraph::clear() {
  data_.clear();
  levels_.clear();
  deleted_.clear();
  layer0_.clear();
  upper_.clear();
  visited_.clear();
  live_ = 0;
  entry_ = 0;
  top_level_ = -1;
}

std::uint32_t HnswGraph::greedy_descend(const float* q, std::uint32_t entry, int from_level, int to_level) const {
  std::uint32_t current = entry;
  float best = distance_to(q, current);
  for (int level = from_level; level > to_level; --level) {
    for (bool moved = true; moved;) {
      moved = false;
      const std::uint32_t* l = links(current, level);
      for (std::uint32_t i = 1; i <= l[0]; ++i) {
        const float d = distance_to(q, l[i]);
        if (d < best) {
          best = d;
          current = l[i];
          moved = true;
        }
      }
    }
  }
  return current;
}

std::vector<Neighbor> HnswGraph::search_layer(const float* q, std::uint32_t entry, std::size_t ef, int level, bool only_live,
                                              const std::function<bool(std::uint32_t)>* accept) const {
  const auto wanted = [&](std::uint32_t slot) { return !(only_live && (deleted_[slot] || (accept && !(*accept)(slot)))); };
  if (visited_.size() < levels_.size()) visited_.resize(levels_.size(), 0);
  if (++epoch_ == 0) {  // wrapped: old marks could collide with the new epoch
    std::fill(visited_.begin(), visited_.end(), 0);
    epoch_ = 1;
  }
  std::priority_queue<Neighbor, std::vector<Neighbor>, Closer> frontier;
  std::priority_queue<Neighbor, std::vector<Neighbor>, Farther> found;
  const float d0 = distance_to(q, entry);
  visited_[entry] = epoch_;
  frontier.push({d0, entry});
  if (wanted(entry)) found.push({d0, entry});
  float bound = found.empty() ? std::numeric_limits<float>::infinity() : d0;
  while (!frontier.empty()) {
    const Neighbor current = frontier.top();
    if (current.distance > bound && found.size() >= ef) break;
    frontier.pop();
    const std::uint32_t* l = links(current.slot, level);
    // Ask for the neighbours' vectors before walking them (native only; wasm has no prefetch).
    for (std::uint32_t i = 1; i <= l[0]; ++i) __builtin_prefetch(vector(l[i]));
    for (std::uint32_t i = 1; i <= l[0]; ++i) {
      const std::uint32_t next = l[i];
      if (visited_[next] == epoch_) continue;
      visited_[next] = epoch_;
      const float d = distance_to(q, next);
      if (found.size() < ef || d < bound) {
        frontier.push({d, next});
        if (wanted(next)) {
          found.push({d, next});
          if (found.size() > ef) found.pop();
          bound = found.top().distance;
        }
      }
    }
  }
  std::vector<Neighbor> out(found.size());
  for (std::size_t i = out.size(); i-- > 0; found.pop()) out[i] = found.top();
  return out;
}

// The heuristic of the HNSW paper (algorithm 4): keep a candidate only if it is closer to the new
// node than to every neighbour kept so far, which spreads links over directions instead of
// spending them all on one tight cluster.
std::vector<Neighbor> HnswGraph::select_neighbors(std::vector<Neighbor> candidates, std::size_t limit) const {
  if (candidates.size() <= limit) return candidates;
  std::sort(candidates.begin(), candidates.end(), [](const Neighbor& a, const Neighbor& b) { return a.distance < b.distance; });
  std::vector<Neighbor> kept;
  kept.reserve(limit);
  for (const Neighbor& c : candidates) {
    if (kept.size() >= limit) break;
    bool diverse = true;
    for (const Neighbor& k : kept)
      if (metric_distance(params_.metric, vector(c.slot), vector(k.slot), params_.dimensions) < c.distance) {
        diverse = false;
        break;
      }
    if (diverse) kept.push_back(c);
  }
  return kept;
}

void HnswGraph::connect(std::uint32_t slot, int level) {
  if (top_level_ < 0) {
    entry_ = slot;
    top_level_ = level;
    return;
  }
  const float* q = vector(slot);
  std::uint32_t entry = greedy_descend(q, entry_, top_level_, level);
  for (int l = std::min(level, top_level_); l >= 0; --l) {
    std::vector<Neighbor> candidates = search_layer(q, entry, params_.ef_construction, l, false, nullptr);
    std::erase_if(candidates, [slot](const Neighbor& n) { return n.slot == slot; });
    if (!candidates.empty()) entry = candidates.front().slot;
    const std::vector<Neighbor> chosen = select_neighbors(std::move(candidates), params_.m);
    std::uint32_t* own = links(slot, l);
    own[0] = static_cast<std::uint32_t>(chosen.size());
    for (std::size_t i = 0; i < chosen.size(); ++i) own[1 + i] = chosen[i].slot;
    for (const Neighbor& n : chosen) link_back(n.slot, slot, n.distance, l);
  }
  if (level > top_level_) {
    top_level_ = level;
    entry_ = slot;
  }
}

void HnswGraph::link_back(std::uint32_t from, std::uint32_t to, float distance, int level) {
  std::uint32_t* l = links(from, level);
  for (std::uint32_t i = 1; i <= l[0]; ++i)
    if (l[i] == to) return;
  const std::uint32_t limit = max_links(level);
  if (l[0] < limit) {
    l[1 + l[0]++] = to;
    return;
  }
  std::vector<Neighbor> candidates;
  candidates.reserve(limit + 1);
  const float* origin = vector(from);
  for (std::uint32_t i = 1; i <= l[0]; ++i) candidates.push_back({metric_distance(params_.metric, origin, vector(l[i]), params_.dimensions), l[i]});
  candidates.push_back({distance, to});
  const std::vector<Neighbor> kept = select_neighbors(std::move(candidates), limit);
  l[0] = static_cast<std::uint32_t>(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) l[1 + i] = kept[i].slot;
}

std::vector<Neighbor> HnswGraph::search(const float* query, std::size_t k, std::size_t ef, const std::function<bool(std::uint32_t)>& accept) const {
  if (k == 0 || live_ == 0) return {};
  const std::uint32_t entry = greedy_descend(query, entry_, top_level_, 0);
  std::vector<Neighbor> found = search_layer(query, entry, std::max(ef, k), 0, true, accept ? &accept : nullptr);
  if (found.size() > k) found.resize(k);
  return found;
}

std::vector<Neighbor> HnswGraph::exact_search(const float* query, std::size_t k, const std::function<bool(std::uint32_t)>& accept) const {
  std::vector<Neighbor> all;
  for (std::uint32_t slot = 0; slot < levels_.size(); ++slot)
    if (!deleted_[slot] && (!accept || accept(slot))) all.push_back({distance_to(query, slot), slot});
  const std::size_t n = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                    [](const Neighbor& a, const Neighbor& b) { return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot); });
  all.resize(n);
  return all;
}

std::size_t HnswGraph::memory_bytes() const {
  std::size_t bytes = data_.capacity() * sizeof(float) + layer0_.capacity() * sizeof(std::uint32_t) + levels_.capacity() + deleted_.capacity() +
                      visited_.capacity() * sizeof(std::uint32_t) + upper_.capacity() * sizeof(std::vector<std::uint32_t>);
  for (const auto& u : upper_) bytes += u.capacity() * sizeof(std::uint32_t);
  return bytes;
}

void HnswGraph::save(ByteWriter& out) const {
  out.put(kGraphMagic);
  out.put(kFormat);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(params_.dimensions));
  out.put<std::uint8_t>(static_cast<std::uint8_t>(params_.metric));
  out.put(params_.m);
  out.put(params_.ef_construction);
  out.put(params_.seed);
  out.put(draws_);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(levels_.size()));
  out.put(entry_);
  out.put<std::int32_t>(top_level_);
  out.put_bytes(data_.data(), data_.size() * sizeof(float));
  out.put_bytes(levels_.data(), levels_.size());
  out.put_bytes(deleted_.data(), deleted_.size());
  out.put_bytes(layer0_.data(), layer0_.size() * sizeof(std::uint32_t));
  for (const auto& u : upper_) out.put_bytes(u.data(), u.size() * sizeof(std::uint32_t));
}

HnswGraph HnswGraph::load(ByteReader& in) {
  in.expect(in.get<std::uint32_t>() == kGraphMagic, "not a saved HNSW graph (bad magic)");
  const auto format = in.get<std::uint32_t>();
  in.expect(format == kFormat, "HNSW format " + std::to_string(format) + " is not supported (expected " + std::to_string(kFormat) + ")");
  HnswParams p;
  p.dimensions = in.get<std::uint32_t>();
  const auto metric = in.get<std::uint8_t>();
  p.m = in.get<std::uint32_t>();
  p.ef_construction = in.get<std::uint32_t>();
  p.seed = in.get<std::uint64_t>();
  in.expect(p.dimensions > 0 && p.dimensions <= 65536, "dimensions out of range");
  in.expect(metric <= 2, "unknown metric");
  in.expect(p.m >= 2 && p.m <= 1024, "m out of range");
  p.metric = static_cast<Metric>(metric);
  HnswGraph g(p);
  g.draws_ = in.get<std::uint64_t>();
  const auto slots = in.get<std::uint32_t>();
  g.entry_ = in.get<std::uint32_t>();
  g.top_level_ = in.get<std::int32_t>();
  in.expect(slots / p.dimensions <= in.remaining() / sizeof(float), "truncated vector data");
  g.data_.resize(static_cast<std::size_t>(slots) * p.dimensions);
  in.get_bytes(g.data_.data(), g.data_.size() * sizeof(float));
  g.levels_.resize(slots);
  in.get_bytes(g.levels_.data(), slots);
  g.deleted_.resize(slots);
  in.get_bytes(g.deleted_.data(), slots);
  g.layer0_.resize(static_cast<std::size_t>(slots) * (1 + 2 * p.m));
  in.get_bytes(g.layer0_.data(), g.layer0_.size() * sizeof(std::uint32_t));
  g.upper_.resize(slots);
  int highest = -1;
  for (std::uint32_t s = 0; s < slots; ++s) {
    in.expect(g.levels_[s] <= kMaxLevel && g.deleted_[s] <= 1, "bad slot header");
    highest = std::max<int>(highest, g.levels_[s]);
    g.upper_[s].resize(static_cast<std::size_t>(g.levels_[s]) * (1 + p.m));
    in.get_bytes(g.upper_[s].data(), g.upper_[s].size() * sizeof(std::uint32_t));
    g.live_ += g.deleted_[s] ? 0 : 1;
  }
  in.expect(slots == 0 ? g.top_level_ == -1 : (g.entry_ < slots && g.top_level_ == highest && g.levels_[g.entry_] == highest),
            "entry point does not match the levels");
  // Every link must name an existing slot: a corrupt file must fail here, not read out of bounds later.
  for (std::uint32_t s = 0; s < slots; ++s)
    for (int level = 0; level <= g.levels_[s]; ++level) {
      const std::uint32_t* l = g.links(s, level);
      in.expect(l[0] <= g.max_links(level), "link count out of range");
      for (std::uint32_t i = 1; i <= l[0]; ++i) in.expect(l[i] < slots && g.levels_[l[i]] >= level, "link to a missing slot");
    }
  return g;
}

}  // namespace lmthing::state
