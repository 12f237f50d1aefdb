#include "flow/resource_scope.hpp"

#include <algorithm>

#include "flow/batcher.hpp"
#include "flow/resource.hpp"
#include "flow/resource_pool.hpp"
#include "pipeline/run_tree.hpp"

namespace lmthing::flow {

namespace {

template <class T>
void collect(const pipeline::Definitions& definitions, const char* kind, std::vector<Lifecycle*>& out) {
  for (auto& [name, value] : definitions.all<T>(kind))
    if (definitions.own(kind, name)) out.push_back(value);
}

}  // namespace

Task<json> with_resources(pipeline::CallEnv owner, Task<json> body) {
  std::vector<Lifecycle*> own;
  collect<Resource>(owner.tree->definitions(), "resource", own);
  collect<Pool>(owner.tree->definitions(), "resourcePool", own);
  collect<Batcher>(owner.tree->definitions(), "batcher", own);
  if (own.empty()) co_return co_await std::move(body);
  for (Lifecycle* each : own) each->bind(owner);
  std::optional<json> value;
  std::exception_ptr error;
  try {
    value = co_await std::move(body);
  } catch (...) {
    error = std::current_exception();
  }
  // Newest first; those never set up (order 0) last, which only marks them ended.
  std::stable_sort(own.begin(), own.end(), [](const Lifecycle* a, const Lifecycle* b) { return a->setup_order() > b->setup_order(); });
  for (Lifecycle* each : own) co_await each->end();
  if (error) std::rethrow_exception(error);
  co_return std::move(*value);
}

}  // namespace lmthing::flow
