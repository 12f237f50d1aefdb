// Types of the Emscripten ES-module glue that scripts/build.sh copies to dist/wasm/ (browsers).
import type { CoreFactory } from '../engine.js';

declare const createLmthingCore: CoreFactory;
export default createLmthingCore;
