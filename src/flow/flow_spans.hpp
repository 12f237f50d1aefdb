// Trace spans of a workflow, its steps and a parallel group (docs/observability.md), for a traced
// run: the work their callbacks start hangs under them, through the ops' spans (CallEnv::span).
#pragma once

#include <string>

#include "observe/tracer.hpp"
#include "pipeline/call.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

// Opens a span under `env`'s (a workflow's or group's; a tool call's, for work its code started;
// else the place's step or run). 0 when the run is not traced.
inline observe::SpanId open_span(const pipeline::CallEnv& env, const std::string& name, const char* kind, Json attributes) {
  observe::Tracer* tracer = env.tree->observer().tracer();
  if (!tracer) return 0;
  const observe::SpanId parent = env.span ? env.span : tracer->parent_at(env.run, env.path);
  return tracer->start(env.run, env.path, parent, name, kind, std::move(attributes), env.loop.now_ms());
}

// Ends `span` (0: nothing to end), as failed when `error` is not empty.
inline void close_span(const pipeline::CallEnv& env, observe::SpanId span, const std::string& error, Json attributes) {
  if (observe::Tracer* tracer = span ? env.tree->observer().tracer() : nullptr) tracer->end(span, error, std::move(attributes), env.loop.now_ms());
}

}  // namespace lmthing::flow
