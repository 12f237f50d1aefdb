#include "memory/embed.hpp"

#include <cmath>

namespace lmthing::memory {

protocol::WireError memory_error(const std::string& code, const std::string& message, const std::string& memory) {
  json extra{{"code", code}};
  if (!memory.empty()) extra["memory"] = memory;
  return protocol::WireError{"memory", message, std::move(extra)};
}

namespace {

[[noreturn]] void bad_answer(const std::string& where, const std::string& memory, const std::string& problem) {
  throw OpFailed(memory_error("EMBEDDING_MISMATCH", where + ": model.embed answered " + problem, memory));
}

}  // namespace

Task<Embeddings> embed(Loop& loop, RunId run, pipeline::RunTree& tree, std::string model, std::vector<std::string> values,
                       std::optional<int> dimensions, std::string where, std::string memory) {
  Embeddings out;
  if (values.empty()) co_return out;
  json payload{{"model", model}, {"values", json(values)}};
  if (dimensions) payload["dimensions"] = *dimensions;
  const json answer = co_await loop.op(run, "model.embed", std::move(payload));
  if (!answer.is_object() || !answer.contains("embeddings") || !answer["embeddings"].is_array())
    bad_answer(where, memory, "without an \"embeddings\" array (expected {embeddings: number[][], usage?: {tokens}})");
  const json& list = answer["embeddings"];
  if (list.size() != values.size())
    bad_answer(where, memory, std::to_string(list.size()) + " vector(s) for " + std::to_string(values.size()) + " input(s)");
  out.vectors.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& v = list[i];
    if (!v.is_array() || v.empty()) bad_answer(where, memory, "embedding " + std::to_string(i) + " that is not a non-empty array of numbers");
    std::vector<float> vector;
    vector.reserve(v.size());
    for (const json& x : v) {
      if (!x.is_number()) bad_answer(where, memory, "embedding " + std::to_string(i) + " holding a non-number");
      vector.push_back(x.get<float>());
    }
    if (!out.vectors.empty() && vector.size() != out.vectors.front().size())
      bad_answer(where, memory,
                 "vectors of different lengths (" + std::to_string(out.vectors.front().size()) + " and " + std::to_string(vector.size()) + ")");
    out.vectors.push_back(std::move(vector));
  }
  if (answer.contains("usage") && answer["usage"].is_object()) {
    const json& tokens = answer["usage"].value("tokens", json(0));
    if (tokens.is_number() && std::isfinite(tokens.get<double>()) && tokens.get<double>() > 0) out.tokens = tokens.get<double>();
  }
  const std::string model_id = answer.contains("modelId") && answer["modelId"].is_string() ? answer["modelId"].get<std::string>() : model;
  for (json& event : tree.ledger().record_usage(model_id, json{{"embeddingTokens", out.tokens}}, loop.now_ms())) tree.emit(std::move(event));
  co_return out;
}

}  // namespace lmthing::memory
