// JS side of the wasm Host. `Module.lmthingHost` is installed by js/engine.ts before the first
// call into the module. start/emit only queue work (no user code runs inside a wasm->JS call).
//
// An outbound message is JSON text; one that carries blobs (src/protocol/blobs.hpp) comes with a
// list of (address, byte length) pairs, one per blob in offset order. The JSON leaves wasm through
// one TextDecoder call over the exact byte range; each blob is handed over as a view of wasm memory
// (of the engine's own string), valid only during the call.
mergeInto(LibraryManager.library, {
  $lmthingDecode: function (ptr, length) {
    if (!Module['lmthingDecoder']) Module['lmthingDecoder'] = new TextDecoder('utf-8');
    return Module['lmthingDecoder'].decode(HEAPU8.subarray(ptr, ptr + length));
  },
  $lmthingBlobs: function (parts, count) {
    var views = [];
    for (var i = 0; i < count; i++) {
      var at = (parts >> 2) + 2 * i;
      views.push(HEAPU8.subarray(HEAPU32[at], HEAPU32[at] + HEAPU32[at + 1]));
    }
    return views;
  },
  host_start__deps: ['$lmthingDecode'],
  host_start: function (ptr, length) {
    Module['lmthingHost'].start(lmthingDecode(ptr, length));
  },
  host_emit__deps: ['$lmthingDecode'],
  host_emit: function (ptr, length) {
    var host = Module['lmthingHost'];
    // A run event that only a buffer keeps is taken as bytes (js/engine.ts, takeEventAsJson).
    if (!host.takeEvent(ptr, length)) host.emit(lmthingDecode(ptr, length));
  },
  host_start_blobs__deps: ['$lmthingDecode', '$lmthingBlobs'],
  host_start_blobs: function (ptr, length, parts, count) {
    Module['lmthingHost'].start(lmthingDecode(ptr, length), lmthingBlobs(parts, count));
  },
  host_emit_blobs__deps: ['$lmthingDecode', '$lmthingBlobs'],
  host_emit_blobs: function (ptr, length, parts, count) {
    Module['lmthingHost'].emit(lmthingDecode(ptr, length), lmthingBlobs(parts, count));
  },
});
