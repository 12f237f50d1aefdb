// JS side of the wasm Host. `Module.lmthingHost` is installed by js/engine.ts before the first
// call into the module. start/emit only queue work (no user code runs inside a wasm->JS call);
// wait suspends the loop (asyncify) until the host hands over the next inbox batch, already copied
// into wasm memory (a malloc'd, NUL-terminated UTF-8 string; see Engine.copyIn in js/engine.ts).
//
// Text leaves wasm through one TextDecoder call over the exact byte range: Emscripten's
// UTF8ToString first scans for a NUL byte in a JS loop, which made large messages cost ~0.1 s/MB.
mergeInto(LibraryManager.library, {
  $lmthingDecode: function (ptr, length) {
    if (!Module['lmthingDecoder']) Module['lmthingDecoder'] = new TextDecoder('utf-8');
    return Module['lmthingDecoder'].decode(HEAPU8.subarray(ptr, ptr + length));
  },
  host_start__deps: ['$lmthingDecode'],
  host_start: function (ptr, length) {
    Module['lmthingHost'].start(lmthingDecode(ptr, length));
  },
  host_emit__deps: ['$lmthingDecode'],
  host_emit: function (ptr, length) {
    Module['lmthingHost'].emit(lmthingDecode(ptr, length));
  },
  host_wait: function () {
    return Asyncify.handleSleep(function (wakeUp) {
      Module['lmthingHost'].wait(function (batchPtr) {
        wakeUp(batchPtr);
      });
    });
  },
});
