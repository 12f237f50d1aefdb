// What the engine needs from its host: somewhere to hand operations and events. Both calls only
// queue work on the host side; the host answers later through the inbox (see Loop::deliver).
// Waiting for the inbox is not part of this interface: the wasm host calls the loop once per batch
// (bindings/wasm_main.cpp), a native one may block in drive()'s wait.
#pragma once

#include <span>
#include <string_view>

#include "protocol/blobs.hpp"

namespace lmthing {

class Host {
 public:
  virtual ~Host() = default;
  virtual void start(std::string_view op_json) = 0;
  virtual void emit(std::string_view event_json) = 0;
  // A host that accepts blobs gets long strings beside the JSON (protocol/blobs.hpp): a message
  // without them comes through start/emit, one with them through start_parts/emit_parts.
  virtual bool accepts_blobs() const { return false; }
  // A message that carries blobs, in parts: its JSON and the blobs' bytes (views valid only during
  // the call). A host that can read the parts where they are overrides these; the default joins them.
  virtual void start_parts(std::string_view op_json, protocol::BlobBytes blobs) { start(protocol::joined_parts(op_json, blobs)); }
  virtual void emit_parts(std::string_view event_json, protocol::BlobBytes blobs) { emit(protocol::joined_parts(event_json, blobs)); }
};

}  // namespace lmthing
