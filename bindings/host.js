// JS side of the wasm Host. `Module.lmthingHost` is installed by js/engine.ts before the first
// call into the module. start/emit only queue work (no user code runs inside a wasm->JS call).
//
// An outbound message is JSON text of `jsonLength` bytes, optionally followed by a NUL and blob
// bytes (src/protocol/blobs.hpp). The JSON leaves wasm through one TextDecoder call over the exact
// byte range; the blob bytes are handed over as a view of wasm memory, valid only during the call.
mergeInto(LibraryManager.library, {
  $lmthingDecode: function (ptr, length) {
    if (!Module['lmthingDecoder']) Module['lmthingDecoder'] = new TextDecoder('utf-8');
    return Module['lmthingDecoder'].decode(HEAPU8.subarray(ptr, ptr + length));
  },
  $lmthingBlobs: function (ptr, jsonLength, length) {
    return length > jsonLength ? HEAPU8.subarray(ptr + jsonLength + 1, ptr + length) : undefined;
  },
  host_start__deps: ['$lmthingDecode', '$lmthingBlobs'],
  host_start: function (ptr, jsonLength, length) {
    Module['lmthingHost'].start(lmthingDecode(ptr, jsonLength), lmthingBlobs(ptr, jsonLength, length));
  },
  host_emit__deps: ['$lmthingDecode', '$lmthingBlobs'],
  host_emit: function (ptr, jsonLength, length) {
    Module['lmthingHost'].emit(lmthingDecode(ptr, jsonLength), lmthingBlobs(ptr, jsonLength, length));
  },
});
