// LruCache: a bounded map from string keys to JSON values that evicts the least recently used entry
// when full and lets entries expire on the engine clock. Every operation is O(1): a list keeps use
// order, a hash map finds a key's list node. The caller passes the engine's time (Loop::now_ms) to
// each call, so expiry is deterministic and replayable (the cache never reads a clock).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace lmthing::state {

using json = nlohmann::json;

// Why an entry left the cache, for the eviction callback (and the later cache events).
enum class Removal { capacity, expired };

struct LruStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;       // absent or expired
  std::uint64_t evictions = 0;    // removed to make room
  std::uint64_t expirations = 0;  // found expired (on get/put) and dropped
};

class LruCache {
 public:
  struct Options {
    std::size_t max_entries = 1000;  // > 0
    double ttl_ms = 0;               // default time to live; 0 = entries never expire
    // Called after an entry leaves the cache by eviction or expiry (not by erase/clear).
    std::function<void(const std::string& key, Removal why)> on_remove;
  };

  explicit LruCache(Options options);
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // The value for `key` (now the most recently used), or nullptr when absent or expired. The
  // pointer is valid until the next call that changes the cache.
  const json* get(std::string_view key, double now_ms);
  // Inserts or replaces `key` (now the most recently used); evicts the least recently used entry
  // when the cache is over capacity. `ttl_ms` overrides the default TTL (0 = never expires).
  void put(std::string_view key, json value, double now_ms, std::optional<double> ttl_ms = std::nullopt);
  // Removes `key`; false when it was not there.
  bool erase(std::string_view key);
  void clear();

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return options_.max_entries; }
  const LruStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::string key;
    json value;
    double expires_at;  // engine ms; 0 = never
  };
  using Order = std::list<Entry>;  // front = most recently used

  static bool expired(const Entry& e, double now_ms) { return e.expires_at != 0 && now_ms >= e.expires_at; }
  void remove(Order::iterator it, Removal why);

  Options options_;
  Order order_;
  // Keys view the strings inside the list nodes, which never move, so each key is stored once.
  std::unordered_map<std::string_view, Order::iterator> index_;
  LruStats stats_;
};

}  // namespace lmthing::state
