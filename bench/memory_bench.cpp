// Vector-memory and token-counting benchmark (bench/README.md, "Memory"). Built natively
// (build/native/bench_memory) and as wasm for Node with and without -msimd128
// (build/wasm/bench_memory_wasm[_simd].js); bench/memory.mjs runs them all and compares.
//
//   bench_memory vector N DIMS QUERIES M EF_CONSTRUCTION EF [hnswlib]   → one JSON line
//   bench_memory tokens RANK_FILE TEXT_FILE ROUNDS                       → one JSON line
//
// The data set is the one bench/memory.mjs generates in JS (same PRNG, same arithmetic): points of
// a 16-dimensional latent space mapped into DIMS dimensions by a random matrix, plus noise — the
// shape of real sentence embeddings, whose intrinsic dimension is far below their length.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "state/bpe.hpp"
#include "state/vector_memory.hpp"

#ifdef LMTHING_BENCH_HNSWLIB
#include <hnswlib/hnswlib.h>
#endif

#if defined(__EMSCRIPTEN__)
#include <emscripten/heap.h>
#else
#include <sys/resource.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;
using namespace lmthing::state;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// mulberry32: a tiny PRNG that JS reproduces bit for bit (bench/memory.mjs).
struct Mulberry32 {
  std::uint32_t state;
  double next() {
    std::uint32_t t = (state += 0x6d2b79f5u);
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    return static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
  }
  double centred() { return next() + next() + next() + next() - 2.0; }  // Irwin–Hall, ≈ normal
};

constexpr int kLatent = 16;

std::vector<float> generate(std::size_t count, std::size_t dims, std::uint32_t seed) {
  Mulberry32 rng{seed};
  std::vector<double> map(dims * kLatent);
  for (double& w : map) w = rng.next() * 2 - 1;
  std::vector<float> out(count * dims);
  double z[kLatent];
  for (std::size_t i = 0; i < count; ++i) {
    for (double& x : z) x = rng.centred();
    for (std::size_t d = 0; d < dims; ++d) {
      double v = 0;
      for (int l = 0; l < kLatent; ++l) v += map[d * kLatent + static_cast<std::size_t>(l)] * z[l];
      out[i * dims + d] = static_cast<float>(v + 0.5 * rng.centred());
    }
  }
  return out;
}

void normalize(std::vector<float>& data, std::size_t dims) {
  for (std::size_t i = 0; i < data.size(); i += dims) {
    double norm = 0;
    for (std::size_t d = 0; d < dims; ++d) norm += static_cast<double>(data[i + d]) * data[i + d];
    const float s = static_cast<float>(1 / std::sqrt(norm));
    for (std::size_t d = 0; d < dims; ++d) data[i + d] *= s;
  }
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

double peak_memory_mb() {
#if defined(__EMSCRIPTEN__)
  return static_cast<double>(emscripten_get_heap_size()) / (1 << 20);
#else
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024;
#endif
}

struct Timings {
  double build_ms = 0, p50_us = 0, p99_us = 0, mean_us = 0, recall = 0, index_mb = 0;
};

template <class Search>
void measure_queries(Timings& t, const std::vector<float>& queries, std::size_t dims, const std::vector<std::vector<std::uint32_t>>& truth,
                     Search search) {
  std::vector<double> latencies;
  double found = 0;
  const std::size_t nq = queries.size() / dims;
  for (int pass = 0; pass < 2; ++pass) {  // the first pass warms caches (and the wasm tier-up)
    latencies.clear();
    found = 0;
    for (std::size_t q = 0; q < nq; ++q) {
      const auto start = Clock::now();
      std::vector<std::uint32_t> got = search(queries.data() + q * dims);
      latencies.push_back(ms_since(start) * 1000);
      for (std::uint32_t id : truth[q]) found += std::count(got.begin(), got.end(), id) ? 1 : 0;
    }
  }
  t.recall = found / static_cast<double>(nq * 10);
  t.p50_us = percentile(latencies, 0.5);
  t.p99_us = percentile(latencies, 0.99);
  double sum = 0;
  for (double l : latencies) sum += l;
  t.mean_us = sum / static_cast<double>(latencies.size());
}

std::string timings_json(const char* name, const Timings& t) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "\"%s\":{\"buildMs\":%.1f,\"p50Us\":%.1f,\"p99Us\":%.1f,\"meanUs\":%.1f,\"recallAt10\":%.4f,\"indexMb\":%.1f}", name,
                t.build_ms, t.p50_us, t.p99_us, t.mean_us, t.recall, t.index_mb);
  return buf;
}

int vector_bench(std::size_t n, std::size_t dims, std::size_t nq, std::uint32_t m, std::uint32_t ef_construction, std::uint32_t ef,
                 bool with_hnswlib) {
  std::vector<float> data = generate(n + nq, dims, 1234);
  std::vector<float> queries(data.begin() + static_cast<std::ptrdiff_t>(n * dims), data.end());
  data.resize(n * dims);
  std::vector<float> unit = data, unit_queries = queries;
  normalize(unit, dims);
  normalize(unit_queries, dims);

  // Exact top-10 by cosine, for recall.
  std::vector<std::vector<std::uint32_t>> truth(nq);
  for (std::size_t q = 0; q < nq; ++q) {
    std::vector<std::pair<float, std::uint32_t>> all(n);
    for (std::size_t i = 0; i < n; ++i)
      all[i] = {-dot_product(unit_queries.data() + q * dims, unit.data() + i * dims, dims), static_cast<std::uint32_t>(i)};
    std::partial_sort(all.begin(), all.begin() + 10, all.end());
    for (int k = 0; k < 10; ++k) truth[q].push_back(all[static_cast<std::size_t>(k)].second);
  }

  std::string out = "{\"n\":" + std::to_string(n) + ",\"dims\":" + std::to_string(dims) + ",\"queries\":" + std::to_string(nq) +
                    ",\"m\":" + std::to_string(m) + ",\"efConstruction\":" + std::to_string(ef_construction) + ",\"ef\":" + std::to_string(ef) +
#if defined(__wasm_simd128__)
                    ",\"simd\":true";
#else
                    ",\"simd\":false";
#endif

  {
    VectorMemoryConfig c;
    c.dimensions = dims;
    c.m = m;
    c.ef_construction = ef_construction;
    c.ef_search = ef;
    VectorMemory memory("bench", c);
    Timings t;
    auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      std::vector<MemoryItem> one(1);
      one[0].id = std::to_string(i);
      one[0].vector.assign(data.begin() + static_cast<std::ptrdiff_t>(i * dims), data.begin() + static_cast<std::ptrdiff_t>((i + 1) * dims));
      memory.insert(std::move(one));
    }
    t.build_ms = ms_since(start);
    t.index_mb = static_cast<double>(memory.memory_bytes()) / (1 << 20);
    SearchOptions options;
    options.limit = 10;
    std::vector<float> query(dims);
    measure_queries(t, queries, dims, truth, [&](const float* q) {
      query.assign(q, q + dims);
      std::vector<std::uint32_t> ids;
      for (const SearchHit& hit : memory.search(query, options)) ids.push_back(static_cast<std::uint32_t>(std::stoul(hit.id)));
      return ids;
    });
    start = Clock::now();
    const std::string saved = memory.save();
    const double save_ms = ms_since(start);
    start = Clock::now();
    VectorMemory loaded = VectorMemory::load("bench", saved);
    const double load_ms = ms_since(start);
    char extra[200];
    std::snprintf(extra, sizeof extra, ",\"saveMs\":%.1f,\"loadMs\":%.1f,\"savedMb\":%.1f", save_ms, load_ms,
                  static_cast<double>(saved.size()) / (1 << 20));
    out += "," + timings_json("lmthing", t);
    out.insert(out.size() - 1, extra);
  }

#ifdef LMTHING_BENCH_HNSWLIB
  if (with_hnswlib) {
    hnswlib::InnerProductSpace space(dims);
    hnswlib::HierarchicalNSW<float> index(&space, n, m, ef_construction, 100);
    Timings t;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) index.addPoint(unit.data() + i * dims, i);
    t.build_ms = ms_since(start);
    t.index_mb = static_cast<double>(n * index.size_data_per_element_ + n * sizeof(void*)) / (1 << 20);
    index.setEf(ef);
    measure_queries(t, unit_queries, dims, truth, [&](const float* q) {
      std::vector<std::uint32_t> ids;
      auto found = index.searchKnn(q, 10);
      for (; !found.empty(); found.pop()) ids.push_back(static_cast<std::uint32_t>(found.top().second));
      return ids;
    });
    out += "," + timings_json("hnswlib", t);
  }
#else
  (void)with_hnswlib;
#endif
  char tail[64];
  std::snprintf(tail, sizeof tail, ",\"peakMemoryMb\":%.0f}", peak_memory_mb());
  std::printf("%s%s\n", out.c_str(), tail);
  return 0;
}

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int tokens_bench(const char* rank_file, const char* text_file, int rounds) {
  auto start = Clock::now();
  const BpeEncoding encoding = BpeEncoding::load(read_file(rank_file));
  const double load_ms = ms_since(start);
  const std::string text = read_file(text_file);
  std::size_t count = encoding.count(text);  // warm-up
  std::vector<double> runs;
  for (int r = 0; r < rounds; ++r) {
    start = Clock::now();
    count = encoding.count(text);
    runs.push_back(ms_since(start));
  }
  const double median = percentile(runs, 0.5);
  std::printf("{\"encoding\":\"%s\",\"bytes\":%zu,\"tokens\":%zu,\"loadMs\":%.1f,\"medianMs\":%.2f,\"mbPerSecond\":%.2f}\n", encoding.name().c_str(),
              text.size(), count, load_ms, median, static_cast<double>(text.size()) / (1 << 20) / (median / 1000));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "vector" && argc >= 8)
    return vector_bench(std::stoul(argv[2]), std::stoul(argv[3]), std::stoul(argv[4]), static_cast<std::uint32_t>(std::stoul(argv[5])),
                        static_cast<std::uint32_t>(std::stoul(argv[6])), static_cast<std::uint32_t>(std::stoul(argv[7])),
                        argc > 8 && std::string(argv[8]) == "hnswlib");
  if (mode == "tokens" && argc >= 5) return tokens_bench(argv[2], argv[3], std::stoi(argv[4]));
  std::fprintf(stderr, "usage: bench_memory vector N DIMS QUERIES M EF_CONSTRUCTION EF [hnswlib] | tokens RANK_FILE TEXT_FILE ROUNDS\n");
  return 2;
}
