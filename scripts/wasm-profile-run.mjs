// Runs a first request's work on a module instrumented by `wasm-split --instrument` and writes the
// profile wasm-split reads (which functions ran). Called by scripts/split-wasm.mjs; needs dist/node.js.
//
//   node scripts/wasm-profile-run.mjs <instrumented .wasm> <profile to write>
//
// The runs are those of preload()'s warm-up (js/preload.ts): a prompt with one tool call and a text
// answer, a directive run with one reply, and one with two branches (`L.branch`) of one reply each;
// and `engine.info`, which apps and tests ask first.
// What they do not reach goes to the deferred module.
import { writeFileSync } from 'node:fs';

const [instrumented, out] = process.argv.slice(2);
const { createEngine, runPrompt, run, L, mockModel } = await import(new URL('../dist/node.js', import.meta.url).href);

const engine = await createEngine({ wasmUrl: instrumented });
await engine.request('engine.info');
const echoParameters = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
const prompt = await runPrompt((ctx) => {
  ctx.defTool('echo', 'Echoes the text', echoParameters, ({ text }) => ({ text }));
  ctx.$`Warm up.`;
}, { model: mockModel([{ type: 'tool-call', toolName: 'echo', args: { text: 'warm' } }, { type: 'text', text: 'warm' }]), engine });
if ((await prompt.result.text) !== 'warm') throw new Error('wasm-profile-run: the prompt run did not answer "warm"');
const reply = await run(function* () {
  yield* L.user`Warm up.`;
  return (yield* L.reply).value;
}, { models: { default: mockModel([{ type: 'text', text: 'warm' }]) }, engine });
if (reply !== 'warm') throw new Error('wasm-profile-run: the directive run did not answer "warm"');
const branched = await run(function* () {
  return yield* L.branch([0, 1].map(() => function* () {
    yield* L.user`Warm up.`;
    return (yield* L.reply).value;
  }));
}, { models: { default: mockModel([{ type: 'text', text: 'warm' }, { type: 'end-step' }, { type: 'text', text: 'warm' }]) }, engine });
if (branched.join() !== 'warm,warm') throw new Error(`wasm-profile-run: the branches answered ${JSON.stringify(branched)}`);

// `__write_profile(address, size)` (added by the instrumentation) writes 8 bytes of the module's
// hash and 4 per defined function, and returns how many bytes it wrote.
const core = engine.module;
const room = 1 << 20;
const at = core._malloc(room);
const written = core.asm.__write_profile(at, room);
if (!(written > 8 && written < room)) throw new Error(`wasm-profile-run: __write_profile wrote ${written} bytes`);
writeFileSync(out, core.HEAPU8.slice(at, at + written));
process.exit(0);
