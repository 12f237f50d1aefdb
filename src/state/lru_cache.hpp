// LruCache: a bounded map from string keys to JSON values that evicts the least recently used entry
// when full and lets entries expire on the engine clock. Every operation is O(1). The caller passes
// the engine's time (Loop::now_ms) to each call, so expiry is deterministic and replayable (the
// cache never reads a clock).
//
// Layout, for locality (a hit should touch as few cache lines as possible): entries live in one
// slot array allocated up front; the use order is a doubly linked list of slot indices in a
// separate compact array (8 bytes per entry); the index is an open-addressing hash table of
// (hash, slot) pairs with linear probing, so a lookup compares hashes in one contiguous array and
// reads a key only to confirm a match.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json.hpp"

namespace lmthing::state {

using json = lmthing::Json;

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

  std::size_t size() const { return count_; }
  std::size_t capacity() const { return options_.max_entries; }
  const LruStats& stats() const { return stats_; }

 private:
  using Slot = std::uint32_t;
  static constexpr Slot kNone = UINT32_MAX;
  struct Entry {
    std::string key;
    json value;
    double expires_at = 0;  // engine ms; 0 = never
  };
  struct Link {
    Slot prev = kNone;  // towards the most recently used
    Slot next = kNone;  // towards the least recently used
  };
  struct Bucket {
    std::uint64_t hash = 0;
    Slot slot = kNone;  // kNone: empty
  };

  static bool expired(const Entry& e, double now_ms) { return e.expires_at != 0 && now_ms >= e.expires_at; }
  void unlink(Slot s);
  void push_front(Slot s);
  void remove(Slot s, Removal why);
  void release(Slot s);
  static std::uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }
  // The bucket holding `key`, or SIZE_MAX.
  std::size_t find(std::string_view key, std::uint64_t hash) const;
  void index_insert(std::uint64_t hash, Slot s);
  void index_erase(std::size_t bucket);

  Options options_;
  std::vector<Entry> entries_;  // capacity slots, reused
  std::vector<Link> links_;
  std::vector<Slot> free_;       // unused slots
  Slot head_ = kNone;            // most recently used
  Slot tail_ = kNone;            // least recently used
  std::vector<Bucket> buckets_;  // a power of two, at least twice the slots: probes stay short
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
  LruStats stats_;
};

}  // namespace lmthing::state
