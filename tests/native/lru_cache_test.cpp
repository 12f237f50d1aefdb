#include <catch2/catch.hpp>

#include "runtime/random.hpp"
#include "scripted_host.hpp"
#include "state/lru_cache.hpp"

#include <algorithm>
#include <list>

using namespace lmthing;
using lmthing::state::LruCache;
using lmthing::state::Removal;

namespace {

std::vector<std::pair<std::string, Removal>> removals;

LruCache::Options capacity(std::size_t n, double ttl_ms = 0) {
  removals.clear();
  LruCache::Options options;
  options.max_entries = n;
  options.ttl_ms = ttl_ms;
  options.on_remove = [](const std::string& key, Removal why) { removals.emplace_back(key, why); };
  return options;
}

}  // namespace

TEST_CASE("LRU: a full cache evicts the least recently used entry, and a get counts as a use", "[state][lru]") {
  LruCache cache(capacity(3));
  cache.put("a", 1, 0);
  cache.put("b", 2, 0);
  cache.put("c", 3, 0);
  REQUIRE(cache.get("a", 0) != nullptr);  // a is now the most recent: b is the oldest
  cache.put("d", 4, 0);
  REQUIRE(cache.size() == 3);
  REQUIRE(cache.get("b", 0) == nullptr);
  REQUIRE(*cache.get("a", 0) == 1);
  REQUIRE(*cache.get("c", 0) == 3);
  REQUIRE(*cache.get("d", 0) == 4);
  REQUIRE(removals == std::vector<std::pair<std::string, Removal>>{{"b", Removal::capacity}});
  // The gets above left the order (oldest first) a c d; replacing a makes it the newest, so c goes.
  cache.put("a", 10, 0);
  cache.put("e", 5, 0);
  REQUIRE(cache.get("c", 0) == nullptr);
  CHECK(cache.stats().evictions == 2);
  CHECK(*cache.get("a", 0) == 10);
}

TEST_CASE("LRU: eviction order follows every use exactly", "[state][lru]") {
  LruCache cache(capacity(4));
  for (std::string k : {"a", "b", "c", "d"}) cache.put(k, k, 0);
  // Use order now (oldest first): a b c d. Touch b, a, d: oldest first becomes c b a d.
  cache.get("b", 0);
  cache.get("a", 0);
  cache.get("d", 0);
  std::vector<std::string> evicted;
  for (std::string k : {"w", "x", "y", "z"}) {
    cache.put(k, k, 0);
    evicted.push_back(removals.back().first);
  }
  REQUIRE(evicted == std::vector<std::string>{"c", "b", "a", "d"});
  REQUIRE(cache.stats().hits == 3);
}

TEST_CASE("LRU: hits, misses, evictions and expirations are counted", "[state][lru]") {
  LruCache cache(capacity(2, 100));
  REQUIRE(cache.get("nope", 0) == nullptr);
  cache.put("a", 1, 0);
  cache.get("a", 50);
  cache.get("a", 150);  // expired
  cache.put("b", 2, 200);
  cache.put("c", 3, 200);
  cache.put("d", 4, 200);  // evicts b
  const auto& s = cache.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 2);
  CHECK(s.expirations == 1);
  CHECK(s.evictions == 1);
  CHECK(removals == std::vector<std::pair<std::string, Removal>>{{"a", Removal::expired}, {"b", Removal::capacity}});
}

TEST_CASE("LRU: entries expire on the engine clock, not on wall time", "[state][lru]") {
  testing::Harness h;
  Loop& loop = h.engine.loop();
  LruCache cache(capacity(10, 1000));
  REQUIRE(loop.turn("5000"));  // the host clock says 5000 ms
  cache.put("k", "v", loop.now_ms());
  cache.put("short", "s", loop.now_ms(), 10);
  cache.put("forever", "f", loop.now_ms(), 0);
  REQUIRE(loop.turn("5999"));
  REQUIRE(cache.get("k", loop.now_ms()) != nullptr);
  REQUIRE(cache.get("short", loop.now_ms()) == nullptr);
  REQUIRE(loop.turn("6000"));  // exactly the TTL later: gone
  REQUIRE(cache.get("k", loop.now_ms()) == nullptr);
  REQUIRE(loop.turn("1e12"));
  REQUIRE(*cache.get("forever", loop.now_ms()) == "f");
  // A put refreshes the TTL.
  cache.put("k", "again", loop.now_ms());
  REQUIRE(loop.turn("1000000000999"));
  REQUIRE(*cache.get("k", loop.now_ms()) == "again");
  CHECK(cache.stats().expirations == 2);
}

TEST_CASE("LRU: when the oldest entry has expired, making room reports an expiry", "[state][lru]") {
  LruCache cache(capacity(1, 10));
  cache.put("a", 1, 0);
  cache.put("b", 2, 20);
  REQUIRE(removals == std::vector<std::pair<std::string, Removal>>{{"a", Removal::expired}});
  REQUIRE(cache.stats().evictions == 0);
}

TEST_CASE("LRU: erase and clear; 100k inserts keep exactly the newest entries", "[state][lru]") {
  LruCache cache(capacity(1000));
  for (int i = 0; i < 100000; ++i) cache.put("key:" + std::to_string(i), i, 0);
  REQUIRE(cache.size() == 1000);
  REQUIRE(cache.stats().evictions == 99000);
  REQUIRE(cache.get("key:98999", 0) == nullptr);
  for (int i = 99000; i < 100000; ++i) REQUIRE(*cache.get("key:" + std::to_string(i), 0) == i);
  REQUIRE(cache.erase("key:99999"));
  REQUIRE_FALSE(cache.erase("key:99999"));
  REQUIRE(cache.size() == 999);
  cache.clear();
  REQUIRE(cache.size() == 0);
  REQUIRE(cache.get("key:99000", 0) == nullptr);
  cache.put("again", true, 0);
  REQUIRE(*cache.get("again", 0) == true);
}

TEST_CASE("LRU: bad options are refused", "[state][lru]") {
  REQUIRE_THROWS_WITH(LruCache(capacity(0)), Catch::Contains("max_entries must be at least 1"));
  REQUIRE_THROWS_WITH(LruCache(capacity(1, -5)), Catch::Contains("ttl_ms must be >= 0"));
  LruCache cache(capacity(1));
  REQUIRE_THROWS_WITH(cache.put("k", 1, 0, -1), Catch::Contains("ttl_ms must be >= 0"));
}

TEST_CASE("LRU: 200k random puts, gets and erases agree with a reference model", "[state][lru]") {
  // The reference: a list in use order (front = most recent) scanned linearly; slow but obvious.
  std::list<std::pair<std::string, int>> model;
  auto model_find = [&](const std::string& k) { return std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.first == k; }); };
  constexpr std::size_t kCapacity = 64;
  LruCache cache(capacity(kCapacity));
  Random random(99);
  for (int step = 0; step < 200000; ++step) {
    const std::string key = "k" + std::to_string(random.below(200));  // keys collide and repeat
    const auto action = random.below(10);
    auto it = model_find(key);
    if (action < 5) {
      const json* got = cache.get(key, 0);
      REQUIRE((got != nullptr) == (it != model.end()));
      if (got) {
        REQUIRE(*got == it->second);
        model.splice(model.begin(), model, it);
      }
    } else if (action < 9) {
      cache.put(key, step, 0);
      if (it != model.end()) model.erase(it);
      model.emplace_front(key, step);
      if (model.size() > kCapacity) {
        REQUIRE(removals.back().first == model.back().first);  // the evicted one is the model's oldest
        model.pop_back();
      }
    } else {
      REQUIRE(cache.erase(key) == (it != model.end()));
      if (it != model.end()) model.erase(it);
    }
    REQUIRE(cache.size() == model.size());
  }
}
