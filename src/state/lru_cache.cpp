#include "state/lru_cache.hpp"

#include <stdexcept>

namespace lmthing::state {

LruCache::LruCache(Options options) : options_(std::move(options)) {
  if (options_.max_entries == 0) throw std::invalid_argument("LruCache: max_entries must be at least 1");
  if (options_.max_entries >= kNone) throw std::invalid_argument("LruCache: max_entries must be below 2^32 - 1");
  if (!(options_.ttl_ms >= 0)) throw std::invalid_argument("LruCache: ttl_ms must be >= 0 (0 = no expiry)");
  // One extra slot: a put inserts before it evicts.
  const std::size_t slots = options_.max_entries + 1;
  entries_.resize(slots);
  links_.resize(slots);
  free_.reserve(slots);
  for (std::size_t s = slots; s-- > 0;) free_.push_back(static_cast<Slot>(s));
  std::size_t buckets = 16;
  while (buckets < 2 * slots) buckets *= 2;
  buckets_.resize(buckets);
  mask_ = buckets - 1;
}

std::size_t LruCache::find(std::string_view key, std::uint64_t hash) const {
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Bucket& b = buckets_[i];
    if (b.slot == kNone) return SIZE_MAX;
    if (b.hash == hash && entries_[b.slot].key == key) return i;
  }
}

void LruCache::index_insert(std::uint64_t hash, Slot s) {
  std::size_t i = hash & mask_;
  while (buckets_[i].slot != kNone) i = (i + 1) & mask_;
  buckets_[i] = Bucket{hash, s};
  ++count_;
}

// Backward-shift deletion: later entries of the probe run move up, so no tombstones accumulate.
void LruCache::index_erase(std::size_t hole) {
  for (std::size_t j = (hole + 1) & mask_; buckets_[j].slot != kNone; j = (j + 1) & mask_) {
    const std::size_t home = buckets_[j].hash & mask_;
    // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (stays) continue;
    buckets_[hole] = buckets_[j];
    hole = j;
  }
  buckets_[hole] = Bucket{};
  --count_;
}

const json* LruCache::get(std::string_view key, double now_ms) {
  const std::size_t bucket = find(key, hash_of(key));
  if (bucket == SIZE_MAX) {
    ++stats_.misses;
    return nullptr;
  }
  const Slot s = buckets_[bucket].slot;
  if (expired(entries_[s], now_ms)) {
    ++stats_.misses;
    remove(s, Removal::expired);
    return nullptr;
  }
  ++stats_.hits;
  if (s != head_) {
    unlink(s);
    push_front(s);
  }
  return &entries_[s].value;
}

void LruCache::put(std::string_view key, json value, double now_ms, std::optional<double> ttl_ms) {
  const double ttl = ttl_ms.value_or(options_.ttl_ms);
  if (!(ttl >= 0)) throw std::invalid_argument("LruCache: ttl_ms must be >= 0 (0 = no expiry)");
  const double expires_at = ttl > 0 ? now_ms + ttl : 0;
  const std::uint64_t hash = hash_of(key);
  if (const std::size_t bucket = find(key, hash); bucket != SIZE_MAX) {
    const Slot s = buckets_[bucket].slot;
    entries_[s].value = std::move(value);
    entries_[s].expires_at = expires_at;
    if (s != head_) {
      unlink(s);
      push_front(s);
    }
    return;
  }
  const Slot s = free_.back();
  free_.pop_back();
  Entry& entry = entries_[s];
  entry.key.assign(key.data(), key.size());
  entry.value = std::move(value);
  entry.expires_at = expires_at;
  index_insert(hash, s);
  push_front(s);
  if (count_ > options_.max_entries) remove(tail_, expired(entries_[tail_], now_ms) ? Removal::expired : Removal::capacity);
}

bool LruCache::erase(std::string_view key) {
  const std::size_t bucket = find(key, hash_of(key));
  if (bucket == SIZE_MAX) return false;
  const Slot s = buckets_[bucket].slot;
  index_erase(bucket);
  unlink(s);
  release(s);
  return true;
}

void LruCache::clear() {
  while (head_ != kNone) {
    const Slot s = head_;
    unlink(s);
    release(s);
  }
  for (auto& b : buckets_) b = Bucket{};
  count_ = 0;
}

void LruCache::unlink(Slot s) {
  Link& link = links_[s];
  (link.prev == kNone ? head_ : links_[link.prev].next) = link.next;
  (link.next == kNone ? tail_ : links_[link.next].prev) = link.prev;
  link = Link{};
}

void LruCache::push_front(Slot s) {
  links_[s] = Link{kNone, head_};
  if (head_ != kNone) links_[head_].prev = s;
  head_ = s;
  if (tail_ == kNone) tail_ = s;
}

void LruCache::remove(Slot s, Removal why) {
  (why == Removal::capacity ? stats_.evictions : stats_.expirations)++;
  std::string key = options_.on_remove ? entries_[s].key : std::string();
  index_erase(find(entries_[s].key, hash_of(entries_[s].key)));
  unlink(s);
  release(s);
  if (options_.on_remove) options_.on_remove(key, why);
}

void LruCache::release(Slot s) {
  entries_[s].key.clear();
  entries_[s].value = json();
  free_.push_back(s);
}

}  // namespace lmthing::state
