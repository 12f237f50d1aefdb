// Types of the Emscripten CommonJS glue that scripts/build.sh copies to dist/wasm/ (Node).
import type { CoreFactory } from '../engine.js';

declare const createLmthingCore: CoreFactory;
export = createLmthingCore;
