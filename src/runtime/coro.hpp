// One place that knows where the coroutine library lives: g++ 12 ships <coroutine>, while the
// libc++ 13 of Emscripten 3.1.6 only has <experimental/coroutine>. Everything else includes this.
#pragma once

#if __has_include(<coroutine>)
#include <coroutine>
namespace lmthing::coro {
using std::coroutine_handle;
using std::suspend_always;
using std::suspend_never;
}  // namespace lmthing::coro
#else
#include <experimental/coroutine>
namespace lmthing::coro {
using std::experimental::coroutine_handle;
using std::experimental::suspend_always;
using std::experimental::suspend_never;
}  // namespace lmthing::coro
#endif
