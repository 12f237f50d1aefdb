// Vector memory: the HNSW graph against brute force, save/load, eviction, metadata filters and
// the typed errors of bad input (src/state/hnsw.*, vector_memory.*, metadata_filter.*).
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "runtime/random.hpp"
#include "state/state_error.hpp"
#include "state/vector_memory.hpp"
#include "state_errors.hpp"

using lmthing::testing::state_error_code;
using lmthing::testing::state_error_message;

namespace {

using lmthing::Random;
using json = lmthing::Json;
using namespace lmthing::state;

std::vector<float> random_vector(Random& rng, std::size_t dims) {
  std::vector<float> v(dims);
  for (float& x : v) x = static_cast<float>(rng.uniform() * 2 - 1);
  return v;
}

// Points around a few hundred centres, like embeddings of related texts.
std::vector<std::vector<float>> clustered(Random& rng, std::size_t n, std::size_t dims, std::size_t clusters) {
  std::vector<std::vector<float>> centres;
  for (std::size_t c = 0; c < clusters; ++c) centres.push_back(random_vector(rng, dims));
  std::vector<std::vector<float>> out;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<float> v = centres[rng.below(clusters)];
    for (float& x : v) x += static_cast<float>((rng.uniform() * 2 - 1) * 0.35);
    out.push_back(std::move(v));
  }
  return out;
}

VectorMemoryConfig config(std::size_t dims, Metric metric = Metric::cosine) {
  VectorMemoryConfig c;
  c.dimensions = dims;
  c.metric = metric;
  return c;
}

MemoryItem item(std::string id, std::vector<float> v, json metadata = json::object(), double importance = 0, double created = 0) {
  return MemoryItem{std::move(id), std::move(v), std::move(metadata), importance, created};
}

std::vector<std::string> ids_of(const std::vector<SearchHit>& hits) {
  std::vector<std::string> ids;
  for (const auto& h : hits) ids.push_back(h.id);
  return ids;
}

// Mean share of the exact top-k that the graph search also returns.
double recall_at(const VectorMemory& memory, const std::vector<std::vector<float>>& queries, std::size_t k, const SearchOptions& base = {}) {
  double found = 0;
  for (const auto& q : queries) {
    SearchOptions approx = base, exact = base;
    approx.limit = exact.limit = k;
    exact.exact = true;
    const auto truth = ids_of(memory.search(q, exact));
    const auto approximate = ids_of(memory.search(q, approx));
    const std::set<std::string> got(approximate.begin(), approximate.end());
    std::size_t hit = 0;
    for (const auto& id : truth) hit += got.count(id);
    found += truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size());
  }
  return found / static_cast<double>(queries.size());
}

VectorMemory filled(std::size_t n, std::size_t dims, Metric metric, std::uint64_t seed) {
  Random rng(seed);
  VectorMemory memory("notes", config(dims, metric));
  std::vector<MemoryItem> batch;
  for (std::size_t i = 0; i < n; ++i)
    batch.push_back(item("m" + std::to_string(i), random_vector(rng, dims), json{{"i", i}, {"parity", i % 2 ? "odd" : "even"}, {"bucket", i % 10}}, 0,
                         static_cast<double>(i)));
  memory.insert(std::move(batch));
  return memory;
}

}  // namespace

TEST_CASE("HNSW recall@10 against brute force on seeded random data, every metric", "[state][vector]") {
  for (Metric metric : {Metric::cosine, Metric::dot, Metric::l2}) {
    Random rng(7);
    VectorMemory memory("notes", config(32, metric));
    std::vector<MemoryItem> batch;
    const auto points = clustered(rng, 3000, 32, 60);
    for (std::size_t i = 0; i < points.size(); ++i) batch.push_back(item("p" + std::to_string(i), points[i]));
    memory.insert(std::move(batch));
    const auto queries = clustered(rng, 60, 32, 60);
    INFO("metric " << to_string(metric));
    CHECK(recall_at(memory, queries, 10) >= 0.95);
  }
}

TEST_CASE("HNSW recall@10 on uniform random vectors (no structure to exploit)", "[state][vector]") {
  VectorMemory memory = filled(2000, 24, Metric::l2, 11);
  Random rng(12);
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 60; ++i) queries.push_back(random_vector(rng, 24));
  CHECK(recall_at(memory, queries, 10) >= 0.95);
}

TEST_CASE("search results are ordered, scored per metric and exact for the nearest point", "[state][vector]") {
  VectorMemory cos("c", config(3));
  cos.insert({item("x", {1, 0, 0}), item("y", {0, 1, 0}), item("xy", {1, 1, 0})});
  auto hits = cos.search({2, 0.1f, 0}, {});
  REQUIRE(hits.size() == 3);
  CHECK(ids_of(hits) == std::vector<std::string>{"x", "xy", "y"});
  CHECK(hits[0].score == Approx(2 / std::sqrt(4.01)).epsilon(1e-5));
  CHECK(hits[0].score >= hits[1].score);

  VectorMemory dot("d", config(2, Metric::dot));
  dot.insert({item("small", {1, 0}), item("big", {5, 0}), item("away", {-3, 0})});
  hits = dot.search({1, 0}, {});
  CHECK(ids_of(hits) == std::vector<std::string>{"big", "small", "away"});
  CHECK(hits[0].score == Approx(5));

  VectorMemory l2("l", config(2, Metric::l2));
  l2.insert({item("near", {1, 1}), item("far", {4, 6})});
  hits = l2.search({1, 2}, {});
  CHECK(ids_of(hits) == std::vector<std::string>{"near", "far"});
  CHECK(hits[0].score == Approx(1.0 / (1.0 + 1.0)));
  CHECK(hits[1].score == Approx(1.0 / (1.0 + 5.0)));
}

TEST_CASE("similarity threshold: from the config, overridden per search", "[state][vector]") {
  VectorMemoryConfig c = config(2);
  c.similarity_threshold = 0.9;
  VectorMemory memory("t", c);
  memory.insert({item("same", {1, 0}), item("close", {1, 0.3f}), item("orthogonal", {0, 1})});
  CHECK(ids_of(memory.search({1, 0}, {})) == std::vector<std::string>{"same", "close"});
  SearchOptions strict;
  strict.threshold = 0.99;
  CHECK(ids_of(memory.search({1, 0}, strict)) == std::vector<std::string>{"same"});
  SearchOptions all;
  all.threshold = -1;
  CHECK(memory.search({1, 0}, all).size() == 3);
}

TEST_CASE("save and load: the same memory without rebuilding, and it continues identically", "[state][vector]") {
  VectorMemory original = filled(1500, 16, Metric::cosine, 3);
  original.remove("m10");
  original.remove("m20");
  const std::string bytes = original.save();
  VectorMemory copy = VectorMemory::load("notes", bytes);
  CHECK(copy.size() == original.size());
  CHECK(copy.save() == bytes);  // byte-identical: graph, records and free slots came back as they were
  CHECK_FALSE(copy.contains("m10"));
  CHECK(copy.get("m5").metadata == json{{"i", 5}, {"parity", "odd"}, {"bucket", 5}});

  Random rng(99);
  for (int i = 0; i < 40; ++i) {
    const auto q = random_vector(rng, 16);
    SearchOptions o;
    o.limit = 10;
    const auto a = original.search(q, o), b = copy.search(q, o);
    REQUIRE(ids_of(a) == ids_of(b));
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k].score == b[k].score);
  }
  // Inserts after the reload reuse the same free slots and draw the same levels.
  std::vector<MemoryItem> more;
  for (int i = 0; i < 50; ++i) more.push_back(item("n" + std::to_string(i), random_vector(rng, 16)));
  auto more_copy = more;
  original.insert(std::move(more));
  copy.insert(std::move(more_copy));
  CHECK(copy.save() == original.save());
}

TEST_CASE("loading bytes that are not a saved memory fails with CORRUPT_DATA, never out of bounds", "[state][vector]") {
  const std::string bytes = filled(200, 8, Metric::l2, 5).save();
  CHECK(state_error_code([&] { VectorMemory::load("notes", ""); }) == error_code::kCorruptData);
  CHECK(state_error_code([&] { VectorMemory::load("notes", "hello world, not an index"); }) == error_code::kCorruptData);
  for (std::size_t cut : {std::size_t{4}, std::size_t{30}, bytes.size() / 3, bytes.size() / 2, bytes.size() - 1})
    CHECK(state_error_code([&] { VectorMemory::load("notes", std::string_view(bytes).substr(0, cut)); }) == error_code::kCorruptData);
  // Flip bytes all over the file: each load either fails cleanly or yields a usable memory.
  Random rng(8);
  for (int trial = 0; trial < 200; ++trial) {
    std::string damaged = bytes;
    damaged[rng.below(damaged.size())] ^= static_cast<char>(1 + rng.below(255));
    try {
      VectorMemory m = VectorMemory::load("notes", damaged);
      m.search(std::vector<float>(8, 0.5f), {});
    } catch (const StateError& e) {
      CHECK(std::string(e.code()) == error_code::kCorruptData);
    }
  }
  CHECK_THAT(state_error_message([&] { VectorMemory::load("kb", "xx"); }), Catch::Contains("memory \"kb\""));
}

TEST_CASE("maxSize evicts the lowest importance first, then the oldest", "[state][vector]") {
  VectorMemoryConfig c = config(2);
  c.max_size = 3;
  VectorMemory memory("bounded", c);
  CHECK(memory.insert({item("a", {1, 0}, {}, 0.9, 1), item("b", {0, 1}, {}, 0.1, 2), item("c", {1, 1}, {}, 0.5, 3)}).empty());
  CHECK(memory.insert({item("d", {1, 2}, {}, 0.5, 4)}) == std::vector<std::string>{"b"});
  // c and d tie on importance: the older (c) goes.
  CHECK(memory.insert({item("e", {2, 1}, {}, 0.7, 5)}) == std::vector<std::string>{"c"});
  // Something less important than everything stored is evicted at once.
  CHECK(memory.insert({item("f", {3, 1}, {}, 0.0, 6)}) == std::vector<std::string>{"f"});
  CHECK(memory.size() == 3);
  for (const char* id : {"a", "d", "e"}) CHECK(memory.contains(id));
  // Same importance and time: first stored goes first.
  VectorMemory ties("ties", c);
  ties.insert({item("1", {1, 0}), item("2", {0, 1}), item("3", {1, 1}), item("4", {2, 1}), item("5", {1, 2})});
  CHECK(ties.size() == 3);
  CHECK_FALSE(ties.contains("1"));
  CHECK_FALSE(ties.contains("2"));
}

TEST_CASE("a bounded memory under churn keeps its slots and its recall", "[state][vector]") {
  VectorMemoryConfig c = config(16);
  c.max_size = 500;
  VectorMemory memory("churn", c);
  Random rng(21);
  for (int i = 0; i < 3000; ++i) memory.insert({item("x" + std::to_string(i), random_vector(rng, 16), {}, rng.uniform(), i)});
  CHECK(memory.size() == 500);
  // Evicted slots were reused: the graph holds maxSize + 1 slots (a new memory is placed before the
  // lowest-ranked one is evicted), however many were inserted.
  CHECK(memory.graph().slot_count() == 501);
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 50; ++i) queries.push_back(random_vector(rng, 16));
  CHECK(recall_at(memory, queries, 10) >= 0.95);
}

TEST_CASE("storing an existing id replaces it; delete and clear", "[state][vector]") {
  VectorMemory memory("m", config(2));
  memory.insert({item("a", {1, 0}, {{"v", 1}}), item("b", {0, 1})});
  memory.insert({item("a", {0, 1}, {{"v", 2}})});
  CHECK(memory.size() == 2);
  CHECK(memory.get("a").metadata == json{{"v", 2}});
  auto hits = memory.search({0, 1}, {});
  CHECK(hits[0].score == Approx(1));
  memory.remove("b");
  CHECK(ids_of(memory.search({0, 1}, {})) == std::vector<std::string>{"a"});
  CHECK(state_error_code([&] { memory.remove("b"); }) == error_code::kUnknownId);
  CHECK_THAT(state_error_message([&] { memory.get("zz"); }), Catch::Contains("memory \"m\": no memory with id \"zz\""));
  memory.clear();
  CHECK(memory.size() == 0);
  CHECK(memory.search({1, 0}, {}).empty());
  memory.insert({item("again", {1, 0})});
  CHECK(ids_of(memory.search({1, 0}, {})) == std::vector<std::string>{"again"});
}

TEST_CASE("bad vectors are typed errors naming the memory, and a bad batch inserts nothing", "[state][vector]") {
  VectorMemory memory("kb", config(3));
  memory.insert({item("ok", {1, 2, 3})});
  CHECK(state_error_message([&] {
          memory.insert({item("short", {1, 2})});
        }) == "memory \"kb\": item 0 (id \"short\"): the vector has 2 dimensions, expected 3");
  CHECK(state_error_code([&] { memory.insert({item("short", {1, 2})}); }) == error_code::kDimensionMismatch);
  CHECK(state_error_code([&] { memory.insert({item("nan", {1, NAN, 3})}); }) == error_code::kNonFiniteVector);
  CHECK_THAT(state_error_message([&] { memory.insert({item("inf", {1, 2, INFINITY})}); }), Catch::Contains("an infinite value at index 2"));
  CHECK(state_error_code([&] { memory.insert({item("zero", {0, 0, 0})}); }) == error_code::kZeroVector);
  CHECK(state_error_code([&] { memory.insert({item("d", {1, 1, 1}), item("d", {2, 2, 2})}); }) == error_code::kDuplicateId);
  // The good items before the bad one are not inserted either.
  CHECK(state_error_code([&] {
          memory.insert({item("good1", {1, 1, 1}), item("good2", {1, 0, 1}), item("bad", {1, 1})});
        }) == error_code::kDimensionMismatch);
  CHECK(memory.size() == 1);
  CHECK_FALSE(memory.contains("good1"));
  CHECK(state_error_code([&] { memory.search({1, 2}, {}); }) == error_code::kDimensionMismatch);
  CHECK(state_error_code([&] { memory.search({1, 2, NAN}, {}); }) == error_code::kNonFiniteVector);
  // Zero vectors are fine where the metric allows them.
  VectorMemory l2("l2", config(2, Metric::l2));
  l2.insert({item("origin", {0, 0})});
  CHECK(l2.search({0, 0}, {}).size() == 1);
}

TEST_CASE("config parsing names the memory and the field", "[state][vector]") {
  const auto c = VectorMemoryConfig::parse(json{{"dimensions", 1536}, {"maxSize", 1000}, {"similarityThreshold", 0.8}, {"metric", "dot"}}, "kb");
  CHECK(c.dimensions == 1536);
  CHECK(c.max_size == 1000);
  CHECK(c.similarity_threshold == 0.8);
  CHECK(c.metric == Metric::dot);
  CHECK(state_error_message([] { VectorMemoryConfig::parse(json::object(), "kb"); }) ==
        "memory \"kb\": \"dimensions\" is required (an integer from 1 to 65536)");
  CHECK(state_error_message([] {
          VectorMemoryConfig::parse(json{{"dimensions", 0}}, "kb");
        }) == "memory \"kb\": \"dimensions\" must be an integer from 1 to 65536, got 0");
  CHECK(state_error_message([] {
          VectorMemoryConfig::parse(json{{"dimensions", 2.5}}, "kb");
        }) == "memory \"kb\": \"dimensions\" must be an integer from 1 to 65536, got 2.5");
  CHECK(state_error_message([] {
          VectorMemoryConfig::parse(json{{"dimensions", 3}, {"metric", "hamming"}}, "kb");
        }) == "memory \"kb\": \"metric\" must be \"cosine\", \"dot\" or \"l2\", got \"hamming\"");
  CHECK(state_error_code([] { VectorMemoryConfig::parse(json{{"dimensions", 3}, {"maxSize", -1}}, "kb"); }) == error_code::kInvalidConfig);
  CHECK(state_error_code([] {
          VectorMemoryConfig::parse(json{{"dimensions", 3}, {"similarityThreshold", "high"}}, "kb");
        }) == error_code::kInvalidConfig);
  // Cosine and l2 scores are at most 1: a higher threshold would make every search empty. Dot products are unbounded.
  CHECK(state_error_message([] {
          VectorMemoryConfig::parse(json{{"dimensions", 3}, {"similarityThreshold", 2}}, "kb");
        }) == "memory \"kb\": \"similarityThreshold\" 2: no score can reach it: cosine scores are at most 1");
  CHECK(state_error_code([] {
          VectorMemoryConfig::parse(json{{"dimensions", 3}, {"metric", "l2"}, {"similarityThreshold", 1.01}}, "kb");
        }) == error_code::kInvalidConfig);
  CHECK(VectorMemoryConfig::parse(json{{"dimensions", 3}, {"metric", "dot"}, {"similarityThreshold", 2}}, "kb").similarity_threshold == 2);
  CHECK(VectorMemoryConfig::parse(json{{"dimensions", 3}, {"similarityThreshold", 1}}, "kb").similarity_threshold == 1);
}

TEST_CASE("metadata filters: equality, operators, paths, combinators", "[state][vector][filter]") {
  const json m = {{"topic", "billing"}, {"importance", 0.7}, {"tags", {"a", "b"}}, {"user", {{"tier", "pro"}, {"age", 30}}}, {"dotted.key", 1}};
  const auto matches = [&](const json& f) { return MetadataFilter::parse(f, "memory \"m\"").matches(m); };
  CHECK(matches(json::object()));
  CHECK(matches(json(nullptr)));
  CHECK(matches({{"topic", "billing"}}));
  CHECK_FALSE(matches({{"topic", "support"}}));
  CHECK(matches({{"tags", {"a", "b"}}}));
  CHECK(matches({{"importance", {{"$gte", 0.7}}}}));
  CHECK_FALSE(matches({{"importance", {{"$gt", 0.7}}}}));
  CHECK(matches({{"importance", {{"$gt", 0.5}, {"$lt", 1}}}}));
  CHECK(matches({{"topic", {{"$in", {"billing", "sales"}}}}}));
  CHECK_FALSE(matches({{"topic", {{"$nin", {"billing"}}}}}));
  CHECK(matches({{"missing", {{"$ne", 1}}}}));
  CHECK_FALSE(matches({{"missing", 1}}));
  CHECK(matches({{"missing", {{"$exists", false}}}}));
  CHECK(matches({{"user.tier", "pro"}}));
  CHECK(matches({{"user.age", {{"$lte", 30}}}}));
  CHECK(matches({{"dotted.key", 1}}));
  CHECK(matches({{"topic", {{"$gt", "a"}}}}));
  CHECK_FALSE(matches({{"importance", {{"$gt", "a"}}}}));  // a number never orders against a string
  CHECK(matches({{"$or", {{{"topic", "x"}}, {{"user.tier", "pro"}}}}}));
  CHECK_FALSE(matches({{"$and", {{{"topic", "billing"}}, {{"user.tier", "free"}}}}}));
  CHECK(matches({{"importance", 0.7}, {"topic", "billing"}}));
  CHECK(state_error_message([] {
          MetadataFilter::parse({{"x", {{"$regex", "a"}}}}, "memory \"m\"");
        }) == "memory \"m\": invalid filter at \"x.$regex\": unknown operator (expected one of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)");
  CHECK(state_error_code([] { MetadataFilter::parse({{"x", {{"$in", 3}}}}, "m"); }) == error_code::kInvalidFilter);
  CHECK(state_error_code([] { MetadataFilter::parse({{"$or", json::array()}}, "m"); }) == error_code::kInvalidFilter);
  CHECK(state_error_code([] { MetadataFilter::parse(json::array(), "m"); }) == error_code::kInvalidFilter);
  CHECK(state_error_code([] { MetadataFilter::parse({{"$nor", json::array()}}, "m"); }) == error_code::kInvalidFilter);
}

TEST_CASE("filtered search returns only matching memories and finds the true neighbours among them", "[state][vector][filter]") {
  VectorMemory memory = filled(2000, 16, Metric::cosine, 31);
  Random rng(32);
  std::vector<std::vector<float>> queries;
  for (int i = 0; i < 40; ++i) queries.push_back(random_vector(rng, 16));
  for (const json& f : {json{{"parity", "odd"}}, json{{"bucket", 3}}, json{{"i", {{"$in", {5, 77, 1999}}}}}}) {
    SearchOptions o;
    o.filter = MetadataFilter::parse(f, "memory \"notes\"");
    INFO(f.dump());
    for (const auto& q : queries)
      for (const auto& hit : memory.search(q, o)) CHECK(o.filter.matches(*hit.metadata));
    CHECK(recall_at(memory, queries, 10, o) >= 0.95);
  }
  // A filter that leaves three memories finds exactly those three.
  SearchOptions three;
  three.filter = MetadataFilter::parse({{"i", {{"$in", {5, 77, 1999}}}}}, "m");
  CHECK(memory.search(queries[0], three).size() == 3);
  // A time range on the creation time.
  SearchOptions range;
  range.created = TimeRange{100.0, 199.0};
  range.limit = 500;
  const auto hits = memory.search(queries[1], range);
  CHECK(hits.size() == 100);
  for (const auto& h : hits) CHECK((h.created_at_ms >= 100 && h.created_at_ms <= 199));
}
