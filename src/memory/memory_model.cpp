#include "memory/memory_model.hpp"

#include "memory/embed.hpp"
#include "state/state_error.hpp"

namespace lmthing::memory {

std::string model_for(const std::string& configured, const ModelAccess& access, const std::string& memory, const std::string& what) {
  if (!configured.empty()) return configured;
  if (!access.run_model.empty()) return access.run_model;
  throw OpFailed(memory_error(state::error_code::kInvalidConfig,
                              "memory \"" + memory + "\": " + what +
                                  " needs a model: give the definition a 'model', or call it while a run is live (the run's model is used)",
                              memory));
}

Task<std::string> memory_model_text(Loop& loop, RunId run, std::shared_ptr<pipeline::RunTree> tree, const ModelAccess& access, std::string model,
                                    json input, std::string purpose) {
  const pipeline::RunSettings settings;
  const json options = json::object();
  const auto chain = pipeline::build_chain(pipeline::Target{pipeline::CallKind::Model, nullptr, options, settings, *tree});
  const pipeline::CallEnv env{loop, run, tree, *access.desk, "", tree->scope().path, nullptr};
  const json messages = input.value("messages", json::array());
  input["step"] = "memory-" + purpose;
  input["tools"] = json::array();
  input["params"] = input.value("params", json::object());
  input["purpose"] = std::move(purpose);
  pipeline::Call call;
  call.kind = pipeline::CallKind::Model;
  call.env = &env;
  call.target = std::move(model);
  call.input = std::move(input);
  call.context = json{{"stepNumber", 0}};
  call.messages = &messages;
  const json response = co_await chain->call(std::move(call));
  std::string text;
  for (const json& part : response.value("content", json::array()))
    if (part.is_object() && part.value("type", "") == "text") text += part.value("text", "");
  co_return text;
}

}  // namespace lmthing::memory
