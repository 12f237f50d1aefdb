// defState as a definition kind (spec.definitions[i] = {kind: "state", name, config}) and the
// `state_load` step seam, which loads every state a loop's run sees before its first step, so a
// corrupted or unreachable store fails the run before any model call is paid for.
#include "pipeline/registry.hpp"
#include "state/json_changes.hpp"
#include "state/state_store.hpp"

namespace lmthing::state {

namespace {

void define_state(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  auto spec = std::make_shared<StateSpec>();
  spec->name = name;
  spec->initial = config.has("initial") ? config.at("initial") : json();
  spec->persist = config.optional_bool("persist").value_or(false);
  const std::string scope = config.choice("scope", {"session", "global", "agent"}).value_or("session");
  spec->scope = scope == "global" ? StateScope::Global : scope == "agent" ? StateScope::Agent : StateScope::Session;
  spec->ttl_ms = config.ms("ttl").value_or(0);
  spec->storage = config.optional_string("storage").value_or("");
  spec->serialize = config.optional_string("serialize").value_or("");
  spec->deserialize = config.optional_string("deserialize").value_or("");
  if (config.has("changes")) {
    check_changes(config.at("changes"), config.where());
    spec->changes = config.at("changes");
  }
  spec->save_on_load = config.optional_bool("save").value_or(false);
  if (!spec->persist)
    for (const char* key : {"ttl", "storage", "serialize", "deserialize"})
      if (config.has(key)) config.fail(std::string("'") + key + "' applies to persisted state only (add persist: true)");
  if (spec->serialize.empty() != spec->deserialize.empty())
    config.fail("'serialize' and 'deserialize' go together: what one writes, the other must read back");
  if (spec->persist && spec->scope == StateScope::Session && tree.scope().session.empty())
    config.fail(
        "scope 'session' needs a sessionId in the run config (runPrompt(fn, {sessionId}) or run(agent, {sessionId})); "
        "use scope 'global' for state every run shares, or 'agent' for state per agent");
  tree.definitions().add("state", name, std::make_shared<StateDefinition>(StateDefinition{std::move(spec)}));
}

class StateLoadSeam : public pipeline::StepSeam {
 public:
  Task<void> before_step(pipeline::StepState&, const pipeline::CallEnv& env) override {
    if (loaded_) co_return;
    co_await load_visible(env);
    loaded_ = true;
  }

 private:
  bool loaded_ = false;
};

std::unique_ptr<pipeline::StepSeam> make_state_load(const pipeline::StepSeamContext& context) {
  if (context.tree.definitions().names("state").empty()) return nullptr;
  return std::make_unique<StateLoadSeam>();
}

}  // namespace

}  // namespace lmthing::state

namespace lmthing::pipeline::registered {
extern const DefinitionKind state_kind{
    "state", "state", {"initial", "persist", "scope", "ttl", "storage", "serialize", "deserialize", "changes", "save"}, state::define_state, nullptr};
extern const StepSeamType state_load_seam{"state_load", state::make_state_load};
}  // namespace lmthing::pipeline::registered
