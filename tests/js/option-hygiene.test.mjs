// Bad input across the public surface beyond the def* methods: each is refused where it is given,
// with a ConfigError (or the adapter's typed error) naming it and a did-you-mean for a near miss;
// nothing is silently ignored, nothing crashes later with an unrelated message.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ConfigError, configureDefaultEngine, countTokens, createAnthropic, createEngine, createGoogle, createOpenAI, createSteering, durableApprovals, fileStorage,
  getStorage, L, memoryStorage, Redactor, metricsText, mockModel, offlineEmbedding, readMetrics, registerStorage, resolveEmbeddingModel, resolveModel, run, runPrompt,
  unregisterStorage, VirtualClock,
} from '../../dist/node.js';
import { tempDir } from './helpers/temp-dir.mjs';

const refused = (pattern) => (e) => e instanceof ConfigError && e.code === 'INVALID_CONFIG' && pattern.test(e.message);

test('createEngine and configureDefaultEngine check the clock, the wasm source and each limit; limits leave durable runs working', async () => {
  await assert.rejects(createEngine({ clock: {} }), refused(/createEngine: 'clock' must be a clock with now\(\), setTimer\(ms, fire\) and clearTimer\(handle\)/));
  await assert.rejects(createEngine({ clock: 5 }), refused(/'clock' must be a clock/));
  await assert.rejects(createEngine({ wasm: 5 }), refused(/'wasm' must be the module's bytes \(a Uint8Array or ArrayBuffer\), or its URL or path, got the number 5/));
  assert.throws(() => configureDefaultEngine({ limits: { jsonDepht: 50 } }), refused(/configureDefaultEngine: limits: unknown limit 'jsonDepht' \(did you mean 'jsonDepth'\?/));
  assert.throws(() => configureDefaultEngine({ limits: 3 }), refused(/'limits' must be an object/));
  // Limits are the engine's set-up, not a run: a durable run still gets (and journals) an engine of its own.
  configureDefaultEngine({ limits: { jsonDepth: 50 } });
  try {
    const { result } = await runPrompt({ model: mockModel([{ type: 'text', text: 'a' }]), prompt: 'x', durable: { id: 'limits-1', storage: memoryStorage() } });
    assert.equal(await result.text, 'a');
    const value = await run(function* () {
      yield* L.user`x`;
      return (yield* L.reply).value;
    }, { models: { default: mockModel([{ type: 'text', text: 'b' }]) }, durable: { id: 'limits-2', storage: memoryStorage() } });
    assert.equal(value, 'b');
  } finally {
    configureDefaultEngine({});
  }
});

test('VirtualClock.setTimer refuses a timer that could only fail when it fires', () => {
  const clock = new VirtualClock();
  assert.throws(() => clock.setTimer(5, 'not a function'), refused(/VirtualClock\.setTimer: expected a function to call, got the string "not a function"/));
  assert.throws(() => clock.setTimer(NaN, () => {}), refused(/expected a number of milliseconds, got the number NaN/));
});

test("a provider's custom fetch must resolve to a Response", async () => {
  for (const create of [createOpenAI, createAnthropic, createGoogle]) {
    const model = create({ apiKey: 'sk-test-fetch-0123456789', fetch: async () => 5 })('m');
    const { result } = await runPrompt({ model, prompt: 'x', maxRetries: 0 });
    await assert.rejects(result.text, refused(/: the provider's `fetch` must resolve to a Response \(with status and headers\), got 5/));
  }
});

test('misspelt options of models, embeddings, storage writes, steering, L.messages and durable approvals are refused with a did-you-mean', async () => {
  const env = { OPENAI_API_KEY: 'sk-test-resolve-0123456789' };
  assert.throws(() => resolveModel('openai:gpt-4o', env, { modelOption: {} }), refused(/resolveModel: unknown option 'modelOption' \(did you mean 'modelOptions'\?/));
  assert.throws(() => resolveEmbeddingModel('openai:text-embedding-3-small', env, { modelOption: {} }), refused(/did you mean 'modelOptions'/));
  assert.throws(() => resolveModel(5), refused(/resolveModel: expected a model spec .* or a LanguageModel \(an object with generate\(\)\), got the number 5/));
  assert.throws(() => resolveEmbeddingModel({}), refused(/resolveEmbeddingModel: expected a model spec .* or an EmbeddingModel/));
  const fetch = async () => new Response(JSON.stringify({ data: [{ embedding: [1, 2], index: 0 }], usage: { prompt_tokens: 1, total_tokens: 1 } }), { headers: { 'content-type': 'application/json' } });
  const embedding = createOpenAI({ apiKey: 'sk-test-embed-0123456789', fetch }).embedding('e');
  await assert.rejects(embedding.embed({ values: ['a'] }, { signl: AbortSignal.abort() }), refused(/openai: embed\(\) options: unknown option 'signl' \(did you mean 'signal'\?/));
  await assert.rejects(embedding.embed({ values: ['a'], dimension: 3 }), refused(/embed\(\) request: unknown field 'dimension' \(did you mean 'dimensions'\?/));
  assert.deepEqual((await embedding.embed({ values: ['a'] })).embeddings, [[1, 2]]);
  assert.throws(() => offlineEmbedding({ dimension: 8 }), refused(/offlineEmbedding: unknown option 'dimension' \(did you mean 'dimensions'\?/));
  await assert.rejects(offlineEmbedding().embed({ values: ['a'] }, { signl: 1 }), refused(/offline: embed\(\) options: unknown option 'signl'/));
  for (const storage of [memoryStorage(), fileStorage(tempDir('lmthing-options-'))]) {
    const error = await storage.set('k', 1, { tll: 1 }).catch((e) => e);
    assert.equal(error.code, 'STORAGE_BAD_ARGUMENT');
    assert.match(error.message, /key "k": unknown write option 'tll' \(did you mean 'ttl'\?/);
    assert.equal((await storage.compareAndSet('k', null, 1, { tll: 1 }).catch((e) => e)).code, 'STORAGE_BAD_ARGUMENT');
    assert.equal(await storage.get('k'), undefined, 'nothing was written');
  }
  assert.throws(() => createSteering().steer('hey', { idd: 'A' }), refused(/steering\.steer: unknown option 'idd' \(did you mean 'id'\?/));
  await assert.rejects(run(function* () {
    const tag = L.tag('x');
    yield* L.user`a`.tag(tag);
    return yield* L.messages({ tagg: tag });
  }, { models: { default: mockModel([]) } }), refused(/L\.messages\(filter\): unknown filter field 'tagg' \(did you mean 'tag'\?/));
  // A suspended run's approval answered from another place.
  const storage = memoryStorage();
  const { prompt } = await runPrompt({
    model: mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'done' }]),
    prompt: 'x',
    tools: { t: { inputSchema: { type: 'object' }, execute: async () => 'R', needsApproval: true } },
    durable: { id: 'respond-1', storage },
    onApproval: () => new Promise(() => {}),
  });
  while (prompt.approvals.pending().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await prompt.suspend();
  const approvals = durableApprovals(storage);
  const [request] = await approvals.pending('respond-1');
  await assert.rejects(approvals.respond('respond-1', request.request, { action: 'approve', reasn: 'x' }), refused(/the decision: unknown field 'reasn' \(did you mean 'reason'\?/));
  assert.equal((await approvals.pending('respond-1')).length, 1, 'still waiting for an answer');
});

test('mockModel refuses a delay that would never end', () => {
  for (const delayMs of [Infinity, 1e308, NaN, -1])
    assert.throws(() => mockModel([{ type: 'text', text: 'x' }], { delayMs }), refused(/mockModel: 'delayMs' must be a number of milliseconds >= 0 \(at most 1e12\)/), String(delayMs));
});

test("the CLI refuses a prompt file's export one typo away from 'config' or 'mock', and keeps the file's own helpers", () => {
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
  const dir = tempDir('lmthing-cli-exports-');
  const file = join(dir, 'typo.lmt.mjs');
  writeFileSync(file, "export default async (ctx) => { ctx.$`hi`; };\nexport const confg = { options: { maxSteps: 1 } };\nexport const mock = [{ type: 'text', text: 'ran' }];\n");
  let failure;
  try {
    execFileSync(process.execPath, [cli, 'run', file, '--model', 'mock'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    failure = e;
  }
  assert.equal(failure?.status, 2);
  assert.match(failure.stderr, /typo\.lmt\.mjs: it exports 'confg'; did you mean 'config'\?/);
  const helpers = join(dir, 'helpers.lmt.mjs');
  writeFileSync(helpers, "export const model = 'a helper';\nexport const mode = 'another';\nexport default async (ctx) => { ctx.$`hi`; };\nexport const mock = [{ type: 'text', text: 'ran' }];\n");
  assert.match(execFileSync(process.execPath, [cli, 'run', helpers, '--model', 'mock'], { encoding: 'utf8' }), /ran/);
});

test('functions that take an engine refuse anything else, naming themselves', async () => {
  for (const [name, call] of [
    ['registerStorage', (e) => registerStorage(e, 'x', memoryStorage())],
    ['getStorage', (e) => getStorage(e, 'x')],
    ['unregisterStorage', (e) => unregisterStorage(e, 'x')],
  ]) {
    for (const bad of [undefined, {}, 5]) assert.throws(() => call(bad), refused(new RegExp(`^${name}: expected an engine \\(from createEngine\\), got`)), `${name}(${String(bad)})`);
  }
  await assert.rejects(readMetrics({}), refused(/^readMetrics: expected an engine/));
  await assert.rejects(metricsText(5), refused(/^metricsText: expected an engine \(from createEngine\), got the number 5/));
  await assert.rejects(countTokens('openai:gpt-4o', 'hi', { engine: {} }), refused(/countTokens\(\) options\.engine: expected an engine/));
  const engine = await createEngine();
  registerStorage(engine, 'x', memoryStorage());
  assert.ok(getStorage(engine, 'x'));
  assert.equal(typeof (await metricsText(engine)), 'string');
});

test("mockModel names a tool call's arguments JSON cannot hold; a streamed response refuses a status without a body and a reason phrase with a line break", async () => {
  assert.throws(() => mockModel([{ type: 'tool-call', toolName: 't', args: { n: 10n } }]), refused(/mockModel: items\[0\] \(tool-call\) "args" must be JSON: args\.n is a BigInt/));
  const result = runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'x' });
  for (const status of [204, 205, 304]) {
    assert.throws(() => result.toTextStreamResponse({ status }), refused(/'status' must be an HTTP status from 200 to 599 that has a body \(not 204, 205 or 304\)/));
    assert.throws(() => result.toUIMessageStreamResponse({ status }), refused(/'status' must be an HTTP status/));
  }
  assert.throws(() => result.toTextStreamResponse({ statusText: 'a\nb' }), refused(/'statusText' must be a string without line breaks/));
  assert.equal(await result.toTextStreamResponse({ status: 201, statusText: 'Created' }).text(), 'x');
});

test('the Redactor refuses keys, secrets and texts of the wrong type by name; countTokens refuses a misspelt role', async () => {
  assert.throws(() => new Redactor(5), refused(/new Redactor: keys must be an iterable of strings .*got the number 5/));
  assert.throws(() => new Redactor('apiKey'), refused(/new Redactor: keys must be an iterable of strings/));
  assert.throws(() => new Redactor(['apiKey', 7]), refused(/new Redactor: keys must be an iterable of strings/));
  assert.throws(() => new Redactor([], 'sk-secret-value'), refused(/new Redactor: secrets must be an array of strings/));
  assert.throws(() => new Redactor().redactText({ text: 'x' }), refused(/Redactor\.redactText: expected a string, got an object/));
  assert.deepEqual(new Redactor(new Set(['password']), []).redact({ password: 'hunter22', user: 'ann' }), { password: '[REDACTED]', user: 'ann' });
  await assert.rejects(countTokens('openai:gpt-4o', [{ role: 'usr', content: 'hi' }]), refused(/countTokens\(\): messages\[0\]\.role must be one of .*got the string "usr" \(did you mean "user"\?\)/));
  assert.ok((await countTokens('openai:gpt-4o', [{ role: 'user', content: 'hi' }])).tokens > 0);
});

test("an option name of an older AI SDK points to the name that took its place, not the nearest spelling", async () => {
  const model = mockModel([{ type: 'text', text: 'x' }]);
  for (const [old, now] of [['maxTokens', 'maxOutputTokens'], ['experimental_activeTools', 'activeTools'], ['experimental_prepareStep', 'prepareStep'], ['maxToolRoundtrips', 'stopWhen']])
    await assert.rejects(runPrompt({ model, prompt: 'x', [old]: 1 }).text, refused(new RegExp(`unknown option '${old}' \\(did you mean '${now}'\\?`)));
});

test('a storage adapter of your own that lacks a method is told which', async () => {
  const storage = { get: async () => undefined, set: async () => {}, delete: async () => {}, list: async () => [] };
  await assert.rejects(runPrompt({ model: mockModel([{ type: 'text', text: 'x' }]), prompt: 'x', storage }).text, refused(/'storage' must be a storage adapter .*; this adapter lacks compareAndSet/));
});
