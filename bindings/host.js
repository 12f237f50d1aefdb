// JS side of the wasm Host. `Module.lmthingHost` is installed by js/engine.ts before the first
// call into the module. start/emit only queue work (no user code runs inside a wasm->JS call);
// wait suspends the loop (asyncify) until the host hands over the next inbox batch.
mergeInto(LibraryManager.library, {
  host_start: function (ptr, length) {
    Module['lmthingHost'].start(UTF8ToString(ptr, length));
  },
  host_emit: function (ptr, length) {
    Module['lmthingHost'].emit(UTF8ToString(ptr, length));
  },
  host_wait: function () {
    return Asyncify.handleSleep(function (wakeUp) {
      Module['lmthingHost'].wait(function (batch) {
        wakeUp(allocateUTF8(batch));
      });
    });
  },
});
