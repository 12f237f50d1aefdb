#include "flow/batcher.hpp"

#include "flow/flow_error.hpp"
#include "pipeline/registry.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

using protocol::FieldReader;
using protocol::WireError;

class Batcher::Wait {
 public:
  explicit Wait(std::shared_ptr<Waiter> waiter) : waiter_(std::move(waiter)) {}
  bool await_ready() const noexcept { return waiter_->value || waiter_->error; }
  void await_suspend(coro::coroutine_handle<> handle) noexcept { waiter_->handle = handle; }
  json await_resume() {
    if (waiter_->error) throw OpFailed(*waiter_->error);
    return std::move(*waiter_->value);
  }

 private:
  std::shared_ptr<Waiter> waiter_;
};

namespace {

WireError run_ended(const std::string& name, std::size_t waiting) {
  return flow_error("batch", "BATCH_RUN_ENDED",
                    "batcher \"" + name + "\": the run that defines it ended" +
                        (waiting > 0 ? " before the batch of " + protocol::counted(waiting, "item", "items") + " waiting for it was processed" : "") +
                        " (await ctx.batch while the run is live)",
                    json{{"batcher", name}});
}

}  // namespace

Task<json> Batcher::add(const pipeline::CallEnv& env, json item) {
  if (ended_) throw OpFailed(run_ended(name_, 0));
  loop_ = &env.loop;
  run_ = env.tree->root();
  auto waiter = std::make_shared<Waiter>();
  waiter->item = std::move(item);
  waiter->scope = env.scope;
  open_.push_back(waiter);
  if (open_.size() >= max_size_)
    flush("size");
  else if (open_.size() == 1)
    env.loop.spawn(window(shared_from_this(), generation_));
  co_return co_await Wait(waiter);
}

// The batch's time window: flushes what is open once maxWait has passed, unless it went already.
Task<void> Batcher::window(std::shared_ptr<Batcher> self, std::uint64_t generation) {
  if (self->generation_ != generation) co_return;  // filled up before its window could start
  try {
    co_await self->loop_->sleep(self->run_, self->max_wait_ms_).tracked(&self->window_timer_);
  } catch (const OpFailed& e) {
    // The run was cancelled: the batch waiting for this window fails with it.
    if (self->generation_ != generation) co_return;
    Batch batch = std::exchange(self->open_, {});
    ++self->generation_;
    const WireError error = e.error;
    settle(*self->loop_, batch, [&](Waiter& w, std::size_t) { w.error = error; });
    co_return;
  }
  self->window_timer_ = 0;
  if (self->generation_ == generation && !self->open_.empty()) self->flush("wait");
}

Task<void> Batcher::end() {
  ended_ = true;
  if (open_.empty()) co_return;
  Batch batch = std::exchange(open_, {});
  ++generation_;
  if (window_timer_ != 0) loop_->settle_early(std::exchange(window_timer_, 0), nullptr, "the run has ended");
  const WireError error = run_ended(name_, batch.size());
  settle(*loop_, batch, [&](Waiter& w, std::size_t) { w.error = error; });
}

void Batcher::flush(const char* reason) {
  Batch batch = std::exchange(open_, {});
  ++generation_;
  // A window still waiting for this batch has nothing left to do.
  if (window_timer_ != 0) loop_->settle_early(std::exchange(window_timer_, 0), nullptr, "batch \"" + name_ + "\" flushed by size");
  loop_->spawn(process(shared_from_this(), std::move(batch), reason));
}

Task<void> Batcher::process(std::shared_ptr<Batcher> self, Batch batch, std::string reason) {
  Loop& loop = *self->loop_;
  // Items whose caller was cancelled while they waited (its step timed out) are not processed.
  for (auto it = batch.begin(); it != batch.end();) {
    const WireError* gone = (*it)->scope != 0 ? loop.scope_cancelled((*it)->scope) : nullptr;
    if (!gone) {
      ++it;
      continue;
    }
    (*it)->error = *gone;
    if ((*it)->handle) loop.schedule(std::exchange((*it)->handle, {}));
    it = batch.erase(it);
  }
  if (batch.empty()) co_return;
  json items = json::array();
  for (const auto& waiter : batch) items.push_back(waiter->item);
  const std::size_t size = batch.size();
  ++self->calls_;
  loop.emit_run_event(self->run_,
                      json{{"type", "batch-flush"}, {"batcher", self->name_}, {"size", size}, {"reason", reason}, {"path", json::array({"root"})}});
  std::optional<json> results;
  std::optional<WireError> failure;
  try {
    // Built before the co_await: g++ 12 cannot keep a braced list's array alive across one.
    json request{{"fn", self->processor_}, {"args", json::array({std::move(items)})}};
    results = co_await loop.op(self->run_, "callback.invoke", std::move(request), 0, "batcher \"" + self->name_ + "\" processor");
  } catch (const OpFailed& e) {
    failure = e.error;
  }
  const std::string where = "batcher \"" + self->name_ + "\"";
  if (failure) {
    const WireError error = failure->kind == "aborted"
                                ? *failure
                                : flow_error("batch", "BATCH_FAILED", where + ": the processor failed: " + failure->message,
                                             json{{"batcher", self->name_}, {"field", "processor"}, {"cause", cause_of(*failure)}});
    settle(loop, batch, [&](Waiter& w, std::size_t) { w.error = error; });
  } else if (!results->is_array() || results->size() != size) {
    const std::string got = results->is_array() ? std::to_string(results->size()) + " results" : "no array (" + results->dump().substr(0, 80) + ")";
    const WireError error = flow_error("batch", "BATCH_RESULT_COUNT",
                                       where + ": the processor returned " + got + " for a batch of " + std::to_string(size) +
                                           " items (field \"processor\" must return one result per item, in order)",
                                       json{{"batcher", self->name_}, {"field", "processor"}});
    settle(loop, batch, [&](Waiter& w, std::size_t) { w.error = error; });
  } else {
    settle(loop, batch, [&](Waiter& w, std::size_t i) { w.value = std::move((*results)[i]); });
  }
}

void Batcher::settle(Loop& loop, Batch& batch, const std::function<void(Waiter&, std::size_t)>& fill) {
  std::size_t i = 0;
  for (auto& waiter : batch) {
    fill(*waiter, i++);
    if (waiter->handle) loop.schedule(std::exchange(waiter->handle, {}));
  }
}

namespace {

void define_batcher(pipeline::RunTree& tree, const std::string& name, const FieldReader& config) {
  const std::size_t max_size = static_cast<std::size_t>(config.integer("maxSize", 1, 1000000).value_or(100));
  const double max_wait = config.ms("maxWait", true).value_or(10);
  tree.definitions().add("batcher", name, std::make_shared<Batcher>(name, max_size, max_wait, config.string("processor")));
}

}  // namespace

}  // namespace lmthing::flow

namespace lmthing::pipeline::registered {
extern const DefinitionKind batcher_kind{"batcher", "batcher", {"maxSize", "maxWait", "processor"}, flow::define_batcher, nullptr};
}  // namespace lmthing::pipeline::registered
