// Embeddings as a model op (docs/memory.md): the engine asks the host to embed a batch of texts
// with `model.embed` and checks the answer before anything uses it. The usage is counted in the run
// tree's constraint ledger (`embeddingTokens`), so token budgets that track 'embeddings' see it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pipeline/run_tree.hpp"
#include "runtime/loop.hpp"

namespace lmthing::memory {

struct Embeddings {
  std::vector<std::vector<float>> vectors;  // one per input, in input order
  double tokens = 0;                        // as the host reported them (0 when the provider reports none)
};

// Embeds `values` with host model reference `model` (one op for the whole batch; the host splits it
// into provider requests). `where` names the caller in errors ("memory \"kb\"") and `memory` goes into them as a field. A host failure is
// rethrown as is (kind provider, rate_limit ...); an answer of the wrong shape — another count of
// vectors, vectors of different lengths, non-numbers — is an OpFailed of kind "memory", code
// EMBEDDING_MISMATCH, so nothing half-embedded is used.
Task<Embeddings> embed(Loop& loop, RunId run, pipeline::RunTree& tree, std::string model, std::vector<std::string> values,
                       std::optional<int> dimensions, std::string where, std::string memory = {});

// The typed wire error of memory failures: {kind: "memory", message, code, memory}.
protocol::WireError memory_error(const std::string& code, const std::string& message, const std::string& memory);

}  // namespace lmthing::memory
