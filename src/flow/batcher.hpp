// Batchers (defBatcher): items that concurrent callers (tools, branches, sub-agents of the tree) add
// with ctx.batch are grouped, up to `maxSize` items or until `maxWait` ms of engine time have
// passed since the first item of the batch, and the host `processor` is called once per batch
// with the items; it must answer an array with one result per item, in order. Each caller gets its
// own item's result. A processor that throws fails every caller of that batch (kind `batch`, code
// BATCH_FAILED); one that answers the wrong number of results too (BATCH_RESULT_COUNT). The
// batcher's ops (its window timer, the processor calls) belong to the tree's root run. When the run
// that defines it ends, items still waiting for their batch fail (BATCH_RUN_ENDED), and so do later ones.
#pragma once

#include <list>
#include <memory>
#include <string>

#include "flow/lifecycle.hpp"
#include "pipeline/call.hpp"

namespace lmthing::flow {

class Batcher : public Lifecycle, public std::enable_shared_from_this<Batcher> {
 public:
  Batcher(std::string name, std::size_t max_size, double max_wait_ms, std::string processor)
      : name_(std::move(name)), max_size_(max_size), max_wait_ms_(max_wait_ms), processor_(std::move(processor)) {}

  // Adds `item` to the open batch and resumes with its result once the batch is processed.
  Task<json> add(const pipeline::CallEnv& env, json item);

  std::size_t processor_calls() const { return calls_; }

  // The run that defines it ended: the open batch fails; later adds fail at once.
  Task<void> end() override;

 private:
  struct Waiter {
    json item;
    OpId scope = 0;  // the caller's cancellation scope (a workflow step's op): cancelled, the item is dropped
    coro::coroutine_handle<> handle;
    std::optional<json> value;
    std::optional<protocol::WireError> error;
  };
  using Batch = std::list<std::shared_ptr<Waiter>>;
  class Wait;

  void flush(const char* reason);
  static Task<void> window(std::shared_ptr<Batcher> self, std::uint64_t generation);
  static Task<void> process(std::shared_ptr<Batcher> self, Batch batch, std::string reason);
  static void settle(Loop& loop, Batch& batch, const std::function<void(Waiter&, std::size_t)>& fill);

  std::string name_;
  std::size_t max_size_;
  double max_wait_ms_;
  std::string processor_;
  Loop* loop_ = nullptr;
  RunId run_ = 0;  // the tree's root run
  Batch open_;
  std::uint64_t generation_ = 0;  // which batch the window timer belongs to
  OpId window_timer_ = 0;
  std::size_t calls_ = 0;
};

}  // namespace lmthing::flow
