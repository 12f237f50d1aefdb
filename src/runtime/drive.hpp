// The loop driver, shared by the native host and the wasm binding:
//
//   deliver(inbox) -> resume ready coroutines -> if work is still outstanding, wait for the inbox
//
// `wait` must be a direct call (a lambda), never a virtual one: in wasm it reaches host_wait, the
// only asyncify import, and asyncify instruments direct call paths only.
#pragma once

#include <string>
#include <utility>

#include "runtime/loop.hpp"

namespace lmthing {

// How the driver reads and frees a batch: for a std::string here; a host with its own kind of
// batch (the wasm binding's, in memory JS allocated) declares the same two functions beside it.
inline std::string_view batch_text(const std::string& batch) { return batch; }
inline void release_batch(std::string& batch) { std::string().swap(batch); }

// Runs until nothing is ready and nothing is outstanding (no op in flight and no live root).
// `first` is the batch the host had queued when it called in; each batch is released once the loop
// has read it. Returns false if the engine faulted (an exception escaped a turn); the loop has then
// reported an engine.fault event.
//
// No try/catch may enclose the call to `wait`: with Emscripten's JS-based exceptions the call would
// go through a JS invoke_* frame, which asyncify cannot unwind. Loop::turn catches instead.
template <typename Batch, typename Wait>
bool drive(Loop& loop, Batch first, Wait&& wait) {
  Batch batch = std::move(first);
  for (;;) {
    if (!loop.turn(batch_text(batch), [&batch] { release_batch(batch); })) return false;
    if (loop.idle()) return true;
    batch = wait();
  }
}

}  // namespace lmthing
