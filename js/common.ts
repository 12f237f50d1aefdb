/** What both entry points (Node and browser) export besides their own `createEngine`. */
export * from './errors.js';
export { Engine } from './engine.js';
export type { Callback, CallbackContext, EngineEvent, RunOptions } from './engine.js';
