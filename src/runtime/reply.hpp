// Commands that take time (run.start, conversation.reply, approval.request ...) run as spawned
// tasks and reply when they end. This is the one place that maps how such a task ended to its reply:
// a value → ok; OpFailed → its wire error; ProtocolError → kind protocol; anything else → kind engine
// (code ENGINE_ERROR), so an engine bug inside one run never stops the loop.
#pragma once

#include <functional>

#include "runtime/loop.hpp"

namespace lmthing {

// Sends a finished reply in place of loop.emit (e.g. to lend it a large part the task did not copy).
using ReplySender = std::function<void(json& reply)>;

// Awaits `body`, then emits the reply to `command_id`; `after` runs first (e.g. to forget the run).
Task<void> reply_when_done(Loop& loop, json command_id, Task<json> body, std::function<void()> after = {}, ReplySender send = {});

}  // namespace lmthing
