// The only Emscripten-facing C++: the wasm Host (host_start / host_emit) and the loop export.
//
// JS calls lmthing_run_turn(batch) whenever it has messages and no turn is running; the turn
// returns once nothing more is ready. Between turns the engine's state lives in its coroutines, so
// nothing waits inside wasm (no asyncify).
#include <emscripten/em_js.h>
#include <emscripten/emscripten.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.hpp"

// Implemented in bindings/host.js. `noexcept`: they only queue work and never throw, and a call
// that may throw would be routed through a JS invoke_* frame under -fexceptions.
extern "C" {
// `text` is JSON of `length` bytes.
void host_start(const char* text, std::size_t length) noexcept;
void host_emit(const char* text, std::size_t length) noexcept;
// The same with blobs: `parts` holds `count` pairs (address, byte length), one per blob in offset order.
void host_start_blobs(const char* text, std::size_t length, const std::uint32_t* parts, std::size_t count) noexcept;
void host_emit_blobs(const char* text, std::size_t length, const std::uint32_t* parts, std::size_t count) noexcept;
}

// Running out of memory is fatal to the wasm engine: `new` stops it with a JS error (a trap for
// the host, which reports ENGINE_FAULT naming it) instead of throwing bad_alloc. The engine is
// compiled with -fnew-infallible (calls that can only fail by allocating skip the JS invoke_*
// trampolines), so a throwing `new` would unwind through frames that do not run their cleanups.
// The library's operator delete calls free. The definitions are `noexcept` as -fnew-infallible
// declares them (a JS error still leaves them: it is not a C++ exception).
EM_JS(void, lmthing_out_of_memory, (std::size_t size),
      { throw new Error('the engine ran out of memory (an allocation of ' + (size >>> 0) + ' bytes failed)'); });

void* operator new(std::size_t size) noexcept {
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  lmthing_out_of_memory(size);
  std::abort();  // not reached: the call above throws
}
void* operator new[](std::size_t size) noexcept { return ::operator new(size); }
void* operator new(std::size_t size, std::align_val_t alignment) noexcept {
  void* memory = nullptr;
  const std::size_t align = std::max(static_cast<std::size_t>(alignment), sizeof(void*));
  if (posix_memalign(&memory, align, size == 0 ? 1 : size) == 0) return memory;
  lmthing_out_of_memory(size);
  std::abort();
}
void* operator new[](std::size_t size, std::align_val_t alignment) noexcept { return ::operator new(size, alignment); }

namespace {

class WasmHost final : public lmthing::Host {
 public:
  void start(std::string_view text) override { host_start(text.data(), text.size()); }
  void emit(std::string_view text) override { host_emit(text.data(), text.size()); }
  bool accepts_blobs() const override { return true; }
  // The blobs are read by JS where they are, in the engine's strings: not copied into one text first.
  void start_parts(std::string_view text, lmthing::protocol::BlobBytes blobs) override {
    const auto parts = addresses(blobs);
    host_start_blobs(text.data(), text.size(), parts.data(), blobs.size());
  }
  void emit_parts(std::string_view text, lmthing::protocol::BlobBytes blobs) override {
    const auto parts = addresses(blobs);
    host_emit_blobs(text.data(), text.size(), parts.data(), blobs.size());
  }

 private:
  static std::vector<std::uint32_t> addresses(lmthing::protocol::BlobBytes blobs) {
    std::vector<std::uint32_t> parts;
    parts.reserve(2 * blobs.size());
    for (std::string_view blob : blobs) {
      parts.push_back(static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(blob.data())));
      parts.push_back(static_cast<std::uint32_t>(blob.size()));
    }
    return parts;
  }
};

WasmHost wasm_host;
std::unique_ptr<lmthing::Engine> the_engine;

lmthing::Engine* engine() noexcept {
  if (!the_engine) {
    try {
      the_engine = std::make_unique<lmthing::Engine>(wasm_host);
    } catch (const std::exception& e) {
      std::string fault =
          std::string(R"({"type":"engine.fault","error":{"kind":"engine","code":"ENGINE_FAULT","message":"engine could not start"})") + "}}";
      host_emit(fault.data(), fault.size());
    }
  }
  return the_engine.get();
}

// A batch from JS, in the memory JS malloc'd for it: its length as 4 little-endian bytes, then the
// bytes (which may hold NULs). Read in place and freed once delivered (Loop::turn): a 50 MB answer
// is not copied on its way in.
class HostBatch {
 public:
  explicit HostBatch(char* batch) : memory_(batch) {}
  HostBatch(const HostBatch&) = delete;
  HostBatch& operator=(const HostBatch&) = delete;
  ~HostBatch() { std::free(memory_); }

  std::string_view text() const {
    if (!memory_) return {};
    const auto* bytes = reinterpret_cast<const unsigned char*>(memory_);
    const std::size_t length = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (static_cast<std::size_t>(bytes[3]) << 24);
    return {memory_ + 4, length};
  }
  void release() {
    std::free(memory_);
    memory_ = nullptr;
  }

 private:
  char* memory_;
};

}  // namespace

// Runs one turn of the engine loop over `batch` (malloc'd by JS, freed here): delivers it and
// resumes every coroutine that becomes ready, then returns. The engine keeps no C++ stack between
// turns (its concurrency is coroutines), so JS calls again with the next batch when one arrives.
// Returns 0 when idle (nothing outstanding), 2 when ops or runs are still outstanding, and 1 when
// the engine faulted (an engine.fault event says why).
extern "C" EMSCRIPTEN_KEEPALIVE int lmthing_run_turn(char* batch) {
  lmthing::Engine* e = engine();
  if (!e) {
    std::free(batch);
    return 1;
  }
  HostBatch inbound(batch);
  if (!e->loop().turn(inbound.text(), [&inbound] { inbound.release(); })) return 1;
  return e->loop().idle() ? 0 : 2;
}
