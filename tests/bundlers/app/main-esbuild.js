// Client entry for esbuild, which does not emit assets named by `new URL(..., import.meta.url)`:
// the two wasm files are imported as files (esbuild's `file` loader for .wasm) and handed to the
// shared engine.
import { configureDefaultEngine } from 'lmthing';
import wasmUrl from 'lmthing/wasm';
import deferredWasm from 'lmthing/wasm/deferred';

import { report, runAgent } from './agent.js';

configureDefaultEngine({ wasmUrl, deferredWasm });
report(runAgent('browser'));
