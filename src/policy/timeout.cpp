// The timeout interceptor: bounds each attempt of a call (a tool's `timeoutMs`, else the run's
// toolTimeout / modelTimeout). The op itself races its timer (Loop::op), so the host sees the timer
// and is told to cancel the op; a timed-out attempt fails with kind `timeout`, which retries see.
#include "pipeline/registry.hpp"

namespace lmthing::policy {

namespace {

using pipeline::Call;
using pipeline::CallKind;
using pipeline::Next;

class TimeoutInterceptor : public pipeline::Interceptor {
 public:
  explicit TimeoutInterceptor(double ms) : ms_(ms) {}
  Task<json> intercept(Call call, Next next) override {
    call.timeout_ms = ms_;
    return next(std::move(call));
  }

 private:
  double ms_;
};

std::unique_ptr<pipeline::Interceptor> make_timeout(const pipeline::Target& target) {
  double ms = target.kind == CallKind::Model ? target.run.model_timeout_ms : target.run.tool_timeout_ms;
  if (target.kind == CallKind::Tool) {
    protocol::FieldReader options(target.options, "tool \"" + target.tool->name + "\"");
    ms = options.ms("timeoutMs").value_or(ms);
  }
  if (ms <= 0) return nullptr;
  return std::make_unique<TimeoutInterceptor>(ms);
}

}  // namespace

}  // namespace lmthing::policy

namespace lmthing::pipeline::registered {
extern const InterceptorType timeout_interceptor{"timeout", {"timeoutMs"}, {}, policy::make_timeout};
}  // namespace lmthing::pipeline::registered
