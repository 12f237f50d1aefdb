// Runs a first request's work on a module instrumented by `wasm-split --instrument` and writes the
// profile wasm-split reads (which functions ran). Called by scripts/split-wasm.mjs; needs dist/node.js.
//
//   node scripts/wasm-profile-run.mjs <instrumented .wasm> <profile to write>
//
// The runs are those of preload()'s warm-up (js/preload.ts): a prompt with one tool call and a text
// answer, a directive run with one reply, and one with two branches (`L.branch`) of one reply each;
// and `engine.info`, which apps and tests ask first. Then the same kinds of run at a scale a first
// request reaches easily, for the code paths only scale takes (a container's growth, a number of
// four digits, a text long enough to cross as a blob, a `\u` escape): 1,100 branches, 1,001 steps,
// a 100 KB prompt and answer. Without them such a request loaded the whole deferred module for
// half a KB of code (bench/README.md, "Two wasm files").
// What they do not reach goes to the deferred module.
import { writeFileSync } from 'node:fs';

const [instrumented, out] = process.argv.slice(2);
const { createEngine, runPrompt, run, L, mockModel, ProviderError } = await import(new URL('../dist/node.js', import.meta.url).href);

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

// At scale. A text of 100 KB crosses as a blob (src/protocol/blobs.cpp); the control character
// reaches the engine as a \u escape.
const atOnce = { provider: 'profile', modelId: 'scale', async generate(request) {
  const last = request.messages.at(-1);
  return { content: [{ type: 'text', text: typeof last.content === 'string' ? last.content.slice(0, 16) : 'ok' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
} };
const wide = await run(function* () {
  return yield* L.branch(Array.from({ length: 1100 }, (_, i) => function* () {
    yield* L.user`Branch ${i}`;
    return (yield* L.reply).value;
  }));
}, { models: { default: atOnce }, engine });
if (wide.length !== 1100) throw new Error(`wasm-profile-run: ${wide.length} branches answered`);
let step = 0;
const counter = { provider: 'profile', modelId: 'steps', async generate() {
  step++;
  const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
  if (step > 1000) return { content: [{ type: 'text', text: 'counted' }], finishReason: 'stop', usage };
  return { content: [{ type: 'tool-call', toolCallId: `c${step}`, toolName: 'echo', args: { text: String(step) } }], finishReason: 'tool-calls', usage };
} };
const long = await runPrompt((ctx) => {
  ctx.defTool('echo', 'Echoes the text', echoParameters, ({ text }) => ({ text }));
  ctx.$`Count. ${'x'.repeat(100_000)}\u0001`;
}, { model: counter, options: { maxSteps: 1001 }, engine });
if ((await long.result.text) !== 'counted') throw new Error('wasm-profile-run: the 1,001-step run did not answer "counted"');
const longAnswer = await runPrompt((ctx) => {
  ctx.$`Answer at length.`;
}, { model: mockModel([{ type: 'text', text: `${'y'.repeat(100_000)}\u0001` }]), engine });
if ((await longAnswer.result.text).length !== 100_001) throw new Error('wasm-profile-run: the long answer did not come back whole');

// The error and control paths of those runs, which a first request meets as easily as the happy
// ones (a structured answer, a tool that throws, arguments that do not fit, a provider's 500 tried
// again, a stop condition, a sub-agent, an abort): without them the first such request loaded the
// deferred module on the spot.
const schema = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] };
const text = (t) => ({ type: 'text', text: t });
const toolCall = (toolName, args) => ({ type: 'tool-call', toolName, args });
const structured = await runPrompt((ctx) => ctx.$`Answer.`, { model: mockModel([text('{"a":1}')]), responseSchema: schema, engine });
if ((await structured.result.object).a !== 1) throw new Error('wasm-profile-run: the structured answer did not parse');
const replied = await run(function* () {
  yield* L.user`Answer.`;
  return (yield* L.reply(schema)).value;
}, { models: { default: mockModel([text('{"a":2}')]) }, engine });
if (replied.a !== 2) throw new Error('wasm-profile-run: L.reply(schema) did not parse');
const failing = await runPrompt((ctx) => {
  ctx.defTool('fails', 'Fails', { type: 'object', properties: {} }, () => { throw new Error('tool failed'); });
  ctx.defTool('strict', 'Takes a number', schema, () => 1);
  ctx.$`Use the tools.`;
}, { model: mockModel([toolCall('fails', {}), toolCall('strict', { a: 'not a number' }), text('done')]), stopWhen: ({ steps }) => steps.length >= 3, onStepFinish: () => {}, engine });
if ((await failing.result.text) !== 'done') throw new Error('wasm-profile-run: the failing tools run did not answer "done"');
let attempts = 0;
const flaky = { provider: 'profile', modelId: 'flaky', async generate() {
  if (attempts++ === 0) throw new ProviderError('server error', { status: 500, retryable: true });
  return { content: [text('recovered')], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
} };
const retried = await runPrompt((ctx) => ctx.$`Try.`, { model: flaky, engine });
if ((await retried.result.text) !== 'recovered') throw new Error('wasm-profile-run: the retried call did not recover');
const delegated = await runPrompt((ctx) => {
  ctx.defAgent('helper', 'Helps', { type: 'object', properties: { q: { type: 'string' } } }, (args, sub) => { sub.$`Help with ${args.q}.`; });
  ctx.$`Delegate.`;
}, { model: mockModel([toolCall('helper', { q: 'x' }), text('helped'), { type: 'end-step' }, text('done')]), engine });
if ((await delegated.result.text) !== 'done') throw new Error('wasm-profile-run: the sub-agent run did not answer "done"');
const stop = new AbortController();
const aborted = await runPrompt((ctx) => ctx.$`Wait.`, { model: mockModel([text('late')], { delayMs: 50 }), abortSignal: stop.signal, engine });
setTimeout(() => stop.abort(), 5);
if (!(await aborted.result.text.then(() => false, (err) => err.name === 'AbortError'))) throw new Error('wasm-profile-run: the aborted run did not fail with an AbortError');

// `__write_profile(address, size)` (added by the instrumentation) writes 8 bytes of the module's
// hash and 4 per defined function, and returns how many bytes it wrote.
const core = engine.module;
const room = 1 << 20;
const at = core._malloc(room);
const written = core.asm.__write_profile(at, room);
if (!(written > 8 && written < room)) throw new Error(`wasm-profile-run: __write_profile wrote ${written} bytes`);
writeFileSync(out, core.HEAPU8.slice(at, at + written));
process.exit(0);
