#include "state/cache_store.hpp"

#include "protocol/json.hpp"

namespace lmthing::state {

std::string CacheSpec::identity() const {
  // The key generator is not part of it: its callback is named per run.
  return lmthing::Json{{"strategy", static_cast<int>(strategy)}, {"maxSize", max_size}, {"ttl", ttl_ms}}.dump();
}

CacheCore::CacheCore(Loop& loop, const CacheSpec& spec) : flights_(loop) {
  if (!spec.in_memory()) return;
  LruCache::Options options;
  options.max_entries = spec.max_size;
  options.ttl_ms = spec.ttl_ms;
  options.on_remove = [this](const std::string& key, Removal why) { removed_.emplace_back(key, why); };
  memory_.emplace(std::move(options));
}

std::shared_ptr<CacheCore> CacheRegistry::core(Loop& loop, const CacheSpec& spec) {
  auto& [identity, core] = caches_[spec.name];
  if (!core || identity != spec.identity()) {
    identity = spec.identity();
    core = std::make_shared<CacheCore>(loop, spec);
  }
  return core;
}

}  // namespace lmthing::state
