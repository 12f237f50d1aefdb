// Asking a human a question or for a choice: one `interaction.ask` op per attempt, raced against
// the interaction's timeout. An answer that is not one of the choices or fails the validation
// schema is re-asked (with the problem) up to maxAttempts times. A timeout or handler failure
// falls back to the default (or a skip, when skipping is allowed).
#pragma once

#include "pipeline/call.hpp"
#include "policy/human_desk.hpp"

namespace lmthing::policy {

// What is wrong with `answer` ({value} or {skipped: true}) for `spec`; empty when it is acceptable.
std::string check_answer(const InteractionSpec& spec, const json& answer);

// Resolves to {request, value, skipped, attempts, reason?}. Fails with a `validation` error after
// maxAttempts unacceptable answers, with `timeout` / `callback` when there is nothing to fall back
// to, and with `aborted` when the run is cancelled.
Task<json> ask_interaction(const pipeline::CallEnv& env, InteractionSpec spec, json context);

}  // namespace lmthing::policy
