#include "observe/tracer.hpp"

#include <algorithm>

namespace lmthing::observe {

SpanId Tracer::start(RunId run, const json& path, SpanId parent, const std::string& name, const char* kind, json attributes, double start_ms) {
  const SpanId id = next_++;
  open_.emplace(id, Open{run, path});
  json event{{"type", "span-start"}, {"span", id},   {"parent", parent == 0 ? json() : json(parent)},
             {"name", name},         {"kind", kind}, {"attributes", std::move(attributes)},
             {"startMs", start_ms},  {"path", path}};
  loop_.emit_run_event(run, std::move(event));
  return id;
}

void Tracer::end(SpanId span, const std::string& error, json attributes, double end_ms) {
  auto it = open_.find(span);
  if (it == open_.end()) return;
  json event{
      {"type", "span-end"},     {"span", span}, {"endMs", end_ms}, {"status", error.empty() ? "ok" : "error"}, {"attributes", std::move(attributes)},
      {"path", it->second.path}};
  if (!error.empty()) event["error"] = error;
  const RunId run = it->second.run;
  open_.erase(it);
  loop_.emit_run_event(run, std::move(event));
}

void Tracer::end_all(RunId run, const std::string& error, double end_ms) {
  std::vector<SpanId> ids;
  for (const auto& [id, open] : open_)
    if (open.run == run) ids.push_back(id);
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) end(*it, error, json::object(), end_ms);
}

void Tracer::end_below(RunId run, const json& path, SpanId keep, const std::string& error, double end_ms) {
  std::vector<SpanId> ids;
  for (const auto& [id, open] : open_)
    if (open.run == run && id != keep && open.path.is_array() && path.is_array() && open.path.size() >= path.size() &&
        std::equal(path.begin(), path.end(), open.path.begin()))
      ids.push_back(id);
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) end(*it, error, json::object(), end_ms);
}

void Tracer::forget(const std::string& key, SpanId span) {
  auto it = places_.find(key);
  if (it != places_.end() && it->second == span) places_.erase(it);
}

SpanId Tracer::recall(const std::string& key) const {
  auto it = places_.find(key);
  return it == places_.end() ? 0 : it->second;
}

SpanId Tracer::parent_at(RunId run, const json& path) const {
  if (SpanId step = recall(step_key(run, path))) return step;
  return recall(scope_key(run, path));
}

}  // namespace lmthing::observe
