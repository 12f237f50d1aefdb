// Client entry for esbuild, which does not emit assets named by `new URL(..., import.meta.url)`:
// the wasm is imported as a file (esbuild's `file` loader for .wasm) and handed to the shared engine.
import { configureDefaultEngine } from 'lmthing';
import wasmUrl from 'lmthing/wasm';

import { report, runAgent } from './agent.js';

configureDefaultEngine({ wasmUrl });
report(runAgent('browser'));
