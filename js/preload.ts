/**
 * `preload()`: the shared engine made ready before the app's first run. Besides loading it, it runs
 * one offline prompt (with a tool call), one directive reply and two branches of one reply each on
 * a throwaway engine from the same compiled module. V8 compiles wasm functions when they first run,
 * and that code belongs to the module, so it serves the shared engine too; the JS the runs take is
 * compiled on the way. The shared engine itself sees nothing: no runs, no events, no metrics.
 * The build splits the engine's wasm by the same runs, and by the same kinds of run at scale and
 * on their error paths (scripts/wasm-profile-run.mjs).
 */
import * as c from './config/check.js';
import { defaultEngine, defaultEngineOptions, newEngine } from './default-engine.js';
import { run } from './directive/driver.js';
import { L } from './directive/index.js';
import type { Engine } from './engine.js';
import { mockModel } from './mock-model.js';
import { runPrompt } from './prompt/run-prompt.js';

/** Options of {@link preload}. */
export interface PreloadOptions {
  /**
   * Also run the engine's code once, offline, so the first real run does not pay for compiling it
   * (default true). It keeps the thread busy for about as long as a first run takes (≈ 0.1 s in
   * Node, more in a browser); pass false where that must not happen at start-up.
   */
  warmUp?: boolean;
}

/** One warm-up per shared-engine configuration (configureDefaultEngine may point at another module). */
const warmUps = new WeakMap<object, Promise<void>>();

/**
 * Loads, compiles and starts the shared engine now, so that the first `runPrompt`, `run` or
 * `validate` does not wait for it (call it at app start-up, e.g. while the page renders), loads the
 * engine's deferred code (`lmthing_core.deferred.wasm`, docs/bundlers.md) and warms its code (see
 * {@link PreloadOptions.warmUp}). Resolves with the engine when it is ready (e.g. to
 * watch its `engine.fault` events); rejects with the load error (`EngineLoadError`) if the wasm
 * cannot be loaded, and a later call tries again. Calling it more than once costs nothing; after a
 * fault it gives the replacement engine.
 *
 * @throws ConfigError (as a rejection) for an unknown option or one of the wrong type.
 */
export async function preload(options: PreloadOptions = {}): Promise<Engine> {
  c.checkOptions('preload', options, { warmUp: c.boolean });
  const engine = await defaultEngine();
  // The code a first request does not run, so that no later call has to load it synchronously.
  await engine.prepareDeferredCode();
  const config = defaultEngineOptions();
  // A virtual clock is the app's to advance: a warm-up on it could wait for the app.
  if (options.warmUp !== false && config.clock === undefined) {
    let warming = warmUps.get(config);
    if (!warming) {
      warming = warmUp();
      warmUps.set(config, warming);
    }
    await warming;
  }
  return engine;
}

/** The warm-up runs. Best effort: a failure only means the first real run is not faster. */
async function warmUp(): Promise<void> {
  try {
    const engine = await newEngine();
    const model = mockModel([{ type: 'tool-call', toolName: 'echo', args: { text: 'warm' } }, { type: 'text', text: 'warm' }]);
    const prompt = await runPrompt((ctx) => {
      ctx.defTool('echo', 'Echoes the text', { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, ({ text }) => ({ text }));
      ctx.$('Warm up.');
    }, { model, engine });
    await prompt.result.text;
    await run(function* () {
      yield* L.user`Warm up.`;
      return (yield* L.reply).value;
    }, { models: { default: mockModel([{ type: 'text', text: 'warm' }]) }, engine });
    await run(function* () {
      return yield* L.branch([0, 1].map(() => function* () {
        yield* L.user`Warm up.`;
        return (yield* L.reply).value;
      }));
    }, { models: { default: mockModel([{ type: 'text', text: 'warm' }, { type: 'end-step' }, { type: 'text', text: 'warm' }]) }, engine });
  } catch {
    // Nothing to report: the shared engine is loaded, which is what preload() promises.
  }
}
