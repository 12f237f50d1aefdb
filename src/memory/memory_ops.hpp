// What the operations of every memory type share (memory_store.cpp defines them): loading an
// instance on first use, writing it back, its events, the wire errors of its index, and the vector
// of a search query.
#pragma once

#include "memory/embed.hpp"
#include "memory/memory_store.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory::detail {

// A memory event, located at the run that made the call (its tool, hook or agent).
void emit_memory_event(const pipeline::RunTree& tree, json event);

std::string where_of(const MemoryInstance& instance);

// Runs `body`, turning the index's StateError into the memory's wire error.
template <class F>
auto guarded(const MemoryInstance& instance, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const state::StateError& e) {
    throw OpFailed(memory_error(e.code(), e.what(), instance.spec->name));
  }
}

// Loads the instance once (caller holds the lock); writes it back after a change (persisted memories).
Task<void> ensure_loaded(Loop& loop, RunId run, MemoryInstance& instance);
Task<void> persist(Loop& loop, RunId run, MemoryInstance& instance);

struct QueryVector {
  std::vector<float> vector;
  double tokens = 0;  // embedding tokens spent on it
};

// The vector of a search query: `vector` as given, or the embedded `query` text.
Task<QueryVector> query_vector(Loop& loop, RunId run, pipeline::RunTree& tree, const MemoryInstance& instance, const json& query);

}  // namespace lmthing::memory::detail
