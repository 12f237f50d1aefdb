// ctx.summarizeContext() (docs/memory.md): a request, kept per run tree, that every context of the
// tree summarize before its next model call whatever its trigger. The `context.summarize` command
// bumps the count; each context_window seam remembers the count it has served.
#pragma once

#include <cstdint>

namespace lmthing::memory {

struct ContextRequests {
  std::uint64_t summarize = 0;
};

}  // namespace lmthing::memory
