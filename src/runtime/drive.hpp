// The loop driver of a host that can block while it waits (the native tests' scripted host):
//
//   deliver(inbox) -> resume ready coroutines -> if work is still outstanding, wait for the inbox
//
// The wasm host does not wait inside the engine: it calls Loop::turn once per batch
// (bindings/wasm_main.cpp).
#pragma once

#include <string>
#include <utility>

#include "runtime/loop.hpp"

namespace lmthing {

// Runs until nothing is ready and nothing is outstanding (no op in flight and no live root).
// `batch` is the batch the host had queued when it called in; each batch is freed once the loop has
// read it (Loop::turn). Returns false if the engine faulted (an exception escaped a turn); the loop
// has then reported an engine.fault event.
template <typename Wait>
bool drive(Loop& loop, std::string batch, Wait&& wait) {
  for (;;) {
    if (!loop.turn(std::move(batch))) return false;
    if (loop.idle()) return true;
    batch = wait();
  }
}

}  // namespace lmthing
