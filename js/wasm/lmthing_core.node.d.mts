// Types of the engine's Node glue, which scripts/build.sh writes to dist/wasm/ (scripts/node-glue.mjs).
import type { CoreFactory } from '../engine.js';

declare const createLmthingCore: CoreFactory;
export default createLmthingCore;
