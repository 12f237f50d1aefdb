// Token counters inside runs (docs/memory.md, "Token counting"): exact BPE counts for models with a
// public encoding (OpenAI's o200k_base / cl100k_base), the documented estimate for the rest.
//
// The rank files are not part of the .wasm (issue 19); the first count that needs an encoding asks
// the host for its file with a `tokenizer.load` op (PROTOCOL.md §3), and the engine keeps the parsed
// encoding for every later run. Concurrent first uses share one load.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "pipeline/run_tree.hpp"
#include "runtime/async_mutex.hpp"
#include "state/bpe.hpp"
#include "state/token_count.hpp"

namespace lmthing::memory {

// The engine's loaded encodings.
class Tokenizers {
 public:
  explicit Tokenizers(Loop& loop) : lock_(loop) {}
  // Encoding `name`, loaded with a `tokenizer.load` op on first use. A host failure is rethrown as
  // is; a file that is not that encoding's rank file is an OpFailed of kind "tokenizer".
  Task<std::shared_ptr<const state::BpeEncoding>> encoding(Loop& loop, RunId run, std::string name);

 private:
  AsyncMutex lock_;
  std::map<std::string, std::shared_ptr<const state::BpeEncoding>> loaded_;
};

Tokenizers& tokenizers_of(pipeline::RunTree& tree);

// How a model's tokens are counted.
struct TokenCounter {
  state::TextCounter count;
  std::string encoding;  // "o200k_base", "cl100k_base"; empty: the estimate
};

// The counter of model reference `model` ("openai:gpt-4o", "openai:gpt-4o#2", "gpt-4o",
// "anthropic:claude-…"): exact when encoding_for_model knows its encoding, else the estimate.
Task<TokenCounter> counter_for(Loop& loop, RunId run, pipeline::RunTree& tree, std::string model);

// What a model request ({system?, tools?}, as StepState::preview gives it) carries besides its
// messages: the reply priming, the system prompt (as a system message) and the tool definitions
// (their JSON, as providers send them).
std::size_t fixed_request_tokens(const json& request, const state::TextCounter& count);

}  // namespace lmthing::memory
