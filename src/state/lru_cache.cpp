#include "state/lru_cache.hpp"

#include <stdexcept>

namespace lmthing::state {

LruCache::LruCache(Options options) : options_(std::move(options)) {
  if (options_.max_entries == 0) throw std::invalid_argument("LruCache: max_entries must be at least 1");
  if (!(options_.ttl_ms >= 0)) throw std::invalid_argument("LruCache: ttl_ms must be >= 0 (0 = no expiry)");
  index_.reserve(options_.max_entries);
}

const json* LruCache::get(std::string_view key, double now_ms) {
  auto found = index_.find(key);
  if (found == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  auto it = found->second;
  if (expired(*it, now_ms)) {
    ++stats_.misses;
    remove(it, Removal::expired);
    return nullptr;
  }
  ++stats_.hits;
  order_.splice(order_.begin(), order_, it);  // list nodes keep their address: the index stays valid
  return &it->value;
}

void LruCache::put(std::string_view key, json value, double now_ms, std::optional<double> ttl_ms) {
  const double ttl = ttl_ms.value_or(options_.ttl_ms);
  if (!(ttl >= 0)) throw std::invalid_argument("LruCache: ttl_ms must be >= 0 (0 = no expiry)");
  const double expires_at = ttl > 0 ? now_ms + ttl : 0;
  if (auto found = index_.find(key); found != index_.end()) {
    auto it = found->second;
    it->value = std::move(value);
    it->expires_at = expires_at;
    order_.splice(order_.begin(), order_, it);
    return;
  }
  order_.push_front(Entry{std::string(key), std::move(value), expires_at});
  index_.emplace(order_.front().key, order_.begin());
  if (index_.size() > options_.max_entries) {
    // The least recently used entry goes; an expired one is reported as such.
    auto last = std::prev(order_.end());
    remove(last, expired(*last, now_ms) ? Removal::expired : Removal::capacity);
  }
}

bool LruCache::erase(std::string_view key) {
  auto found = index_.find(key);
  if (found == index_.end()) return false;
  auto it = found->second;
  index_.erase(found);
  order_.erase(it);
  return true;
}

void LruCache::clear() {
  index_.clear();
  order_.clear();
}

void LruCache::remove(Order::iterator it, Removal why) {
  (why == Removal::capacity ? stats_.evictions : stats_.expirations)++;
  std::string key = options_.on_remove ? it->key : std::string();
  index_.erase(std::string_view(it->key));
  order_.erase(it);
  if (options_.on_remove) options_.on_remove(key, why);
}

}  // namespace lmthing::state
