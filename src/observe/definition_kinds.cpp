// The definition kinds of observability: `metric` (defMetric: a metric of the engine-wide registry)
// and `tracing` (defTracing: spans for the whole run tree, sampled per tree). Event handlers and
// loggers live in the host; their engine-side settings arrive in the run spec's `observe` field.
#include "observe/tree_observer.hpp"
#include "pipeline/registry.hpp"

namespace lmthing::observe {

namespace {

[[noreturn]] void metric_failure(const MetricError& e) { throw OpFailed(protocol::WireError{"metric", e.what(), json{{"code", e.code}}}); }

void define_metric(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  try {
    if (name.rfind(kBuiltinPrefix, 0) == 0)
      throw MetricError("METRIC_INVALID", "metric \"" + name + "\": names starting with \"" + kBuiltinPrefix + "\" belong to the built-in metrics");
    MetricSpec spec = parse_metric_spec(name, config.object());
    tree.observer().observatory().metrics().define(spec);
    tree.definitions().add("metric", name, std::make_shared<MetricSpec>(std::move(spec)));
  } catch (const MetricError& e) {
    metric_failure(e);
  }
}

void define_tracing(pipeline::RunTree& tree, const std::string& name, const protocol::FieldReader& config) {
  if (!tree.is_root()) config.fail("tracing covers the whole run tree; define it on the root run, not in a sub-agent");
  if (tree.observer().tracing_defined()) config.fail("a run tree has one tracing definition; \"" + name + "\" would be a second");
  TracingConfig tracing;
  tracing.sampling = config.positive("sampling", true, 1).value_or(1.0);
  tracing.record_inputs = config.optional_bool("recordInputs").value_or(false);
  tracing.record_outputs = config.optional_bool("recordOutputs").value_or(false);
  tree.definitions().add("tracing", name, std::make_shared<TracingConfig>(tracing));
  tree.observer().enable_tracing(tracing, tree.root());
}

}  // namespace

}  // namespace lmthing::observe

namespace lmthing::pipeline::registered {
extern const DefinitionKind metric_kind{
    "metric", "metric", {"type", "labels", "buckets", "aggregation", "description", "unit"}, observe::define_metric, nullptr};
extern const DefinitionKind tracing_kind{"tracing", "tracing", {"sampling", "recordInputs", "recordOutputs"}, observe::define_tracing, nullptr};
}  // namespace lmthing::pipeline::registered
