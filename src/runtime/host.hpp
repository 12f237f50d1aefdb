// What the engine needs from its host: somewhere to hand operations and events. Both calls only
// queue work on the host side; the host answers later through the inbox (see Loop::deliver).
// Waiting for the inbox is not part of this interface: the wasm host calls the loop once per batch
// (bindings/wasm_main.cpp), a native one may block in drive()'s wait.
#pragma once

#include <string_view>

namespace lmthing {

class Host {
 public:
  virtual ~Host() = default;
  virtual void start(std::string_view op_json) = 0;
  virtual void emit(std::string_view event_json) = 0;
  // A host that accepts blobs gets long strings beside the JSON (protocol/blobs.hpp): the text
  // passed to start/emit is then the JSON, optionally followed by a NUL and the blob bytes.
  virtual bool accepts_blobs() const { return false; }
};

}  // namespace lmthing
