// defCache (docs/state-and-caches.md): the part of a cache that outlives a run. A cache's entries
// in memory (an LruCache on the engine clock) and its in-flight executions (a SingleFlight) belong to
// the engine: every run that defines a cache with the same name and settings shares them, so a cache
// defined in a prompt function keeps its entries from one runPrompt to the next. A `persistent`
// cache (or an `lru`/`ttl` cache given a `storage`) also keeps its entries in a storage adapter.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/single_flight.hpp"
#include "state/lru_cache.hpp"

namespace lmthing::state {

enum class CacheStrategy { Lru, Ttl, Persistent };

struct CacheSpec {
  std::string name;
  CacheStrategy strategy = CacheStrategy::Lru;
  std::size_t max_size = 1000;  // entries in memory
  double ttl_ms = 0;            // 0: entries do not expire
  std::string key_generator;    // host callback: (args | normalized request, context) -> string
  std::string storage;          // persistent: empty = the run's storage; lru/ttl: empty = memory only
  std::string key_prefix;       // of storage keys (default "cache:<name>:")
  bool compression = false;     // entries are stored gzipped
  bool fail_on_storage_error = false;

  bool in_memory() const { return strategy != CacheStrategy::Persistent; }
  bool in_storage() const { return strategy == CacheStrategy::Persistent || !storage.empty(); }
  // What two definitions must agree on to share entries in memory.
  std::string identity() const;
};

// Entries in memory and executions in flight, shared by the runs that define the same cache.
class CacheCore {
 public:
  CacheCore(Loop& loop, const CacheSpec& spec);
  CacheCore(const CacheCore&) = delete;
  CacheCore& operator=(const CacheCore&) = delete;

  LruCache* memory() { return memory_ ? &*memory_ : nullptr; }
  SingleFlight& flights() { return flights_; }
  // The entries that left memory (evicted for room or found expired) since the last call.
  std::vector<std::pair<std::string, Removal>> take_removed() { return std::exchange(removed_, {}); }

 private:
  std::optional<LruCache> memory_;
  SingleFlight flights_;
  std::vector<std::pair<std::string, Removal>> removed_;
};

// The engine's caches by name. A definition whose settings differ from the cache of that name
// replaces it (runs still using the old one keep it until they end).
class CacheRegistry {
 public:
  std::shared_ptr<CacheCore> core(Loop& loop, const CacheSpec& spec);

 private:
  std::map<std::string, std::pair<std::string, std::shared_ptr<CacheCore>>> caches_;
};

// What a run tree's definitions hold for kind "cache".
struct CacheDefinition {
  CacheSpec spec;
  std::shared_ptr<CacheCore> core;
};

}  // namespace lmthing::state
