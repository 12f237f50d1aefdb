#include "runtime/reply.hpp"

namespace lmthing {

using protocol::WireError;

Task<void> reply_when_done(Loop& loop, json command_id, Task<json> body, std::function<void()> after, ReplySender send) {
  json reply;
  try {
    json value = co_await std::move(body);
    reply = protocol::reply_ok(command_id, std::move(value));
  } catch (const OpFailed& e) {
    reply = protocol::reply_error(command_id, e.error);
  } catch (const protocol::ProtocolError& e) {
    reply = protocol::reply_error(command_id, WireError{e.kind(), e.what(), json::object()});
  } catch (const std::exception& e) {
    reply = protocol::reply_error(command_id, WireError{"engine", e.what(), json{{"code", "ENGINE_ERROR"}}});
  }
  if (after) after();
  if (send)
    send(reply);
  else
    loop.emit(std::move(reply));
}

}  // namespace lmthing
