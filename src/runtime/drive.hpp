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

// Runs until nothing is ready and nothing is outstanding (no op in flight and no live root).
// `first` is the batch the host had queued when it called in. Returns false if the engine faulted
// (an exception escaped a turn); the loop has then reported an engine.fault event.
//
// No try/catch may enclose the call to `wait`: with Emscripten's JS-based exceptions the call would
// go through a JS invoke_* frame, which asyncify cannot unwind. Loop::turn catches instead.
template <typename Wait>
bool drive(Loop& loop, std::string batch, Wait&& wait) {
  for (;;) {
    if (!loop.turn(std::move(batch))) return false;
    if (loop.idle()) return true;
    batch = wait();
  }
}

}  // namespace lmthing
