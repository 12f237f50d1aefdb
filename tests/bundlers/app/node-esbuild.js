// Node entry for esbuild (`--platform=node`), as docs/bundlers.md writes it: the wasm files come
// through the `file` loader as paths relative to the bundle, made the bundle's own with
// `import.meta.url` so the bundle runs from any working directory.
import { configureDefaultEngine } from 'lmthing';
import wasmFile from 'lmthing/wasm';
import deferredFile from 'lmthing/wasm/deferred';

import { runAgent } from './agent.js';

configureDefaultEngine({ wasmUrl: new URL(wasmFile, import.meta.url), deferredWasm: new URL(deferredFile, import.meta.url) });
console.log(JSON.stringify({ ok: true, ...(await runAgent('node')) }));
