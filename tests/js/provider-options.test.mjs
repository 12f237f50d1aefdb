// Per-call provider options and headers (js/providers/provider-options.ts), as the AI SDK's
// `providerOptions` and `headers` are written: each provider's request over real HTTP to a loopback
// server replaying recorded answers carries its own options in its own wire names, ignores other
// providers', and refuses options it does not know before anything is sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, ConfigError, createAnthropic, createEngine, createGoogle, createOpenAI, L, memoryStorage, mockModel, replay, run, runPrompt } from '../../dist/node.js';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';
import { KEY, response } from './helpers/provider-calls.mjs';
import { responsesStream } from './helpers/responses-stream.mjs';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const models = {
  openai: () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-4o'),
  responses: () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY }).responses('gpt-4.1', { reasoning: { effort: 'medium' } }),
  anthropic: (options) => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude-sonnet-4-5', options),
  google: () => createGoogle({ baseURL: `${srv.url}/v1beta`, apiKey: KEY })('gemini-2.5-flash'),
};

/** Runs one prompt with `config` against the answer queued, and returns its text and the request the server got. */
async function sent(model, answer, config) {
  srv.enqueue(answer);
  const before = srv.requests.length;
  const { result } = await runPrompt({ model, prompt: 'Hi', maxRetries: 0, ...config });
  const text = await result.text;
  assert.equal(srv.requests.length, before + 1);
  return { text, request: srv.requests.at(-1) };
}

// Options for every provider at once: each model takes its own.
const providerOptions = {
  openai: { reasoningEffort: 'low', user: 'user-7', parallelToolCalls: false, serviceTier: 'flex' },
  anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 }, metadata: { userId: 'user-7' } },
  google: { thinkingConfig: { thinkingBudget: 512, includeThoughts: true }, safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }] },
};

test('OpenAI Chat Completions: its options in wire names, the call\'s headers sent, the others\' options ignored', async () => {
  const { text, request } = await sent(models.openai(), loadFixture('openai-chat', 'text-stream-include-usage'), { providerOptions, headers: { 'x-trace-id': 'trace-1' } });
  assert.ok(text.length > 0);
  const { reasoning_effort, user, parallel_tool_calls, service_tier } = request.body;
  assert.deepEqual({ reasoning_effort, user, parallel_tool_calls, service_tier }, { reasoning_effort: 'low', user: 'user-7', parallel_tool_calls: false, service_tier: 'flex' });
  assert.equal(request.headers['x-trace-id'], 'trace-1');
  assert.equal(request.headers.authorization, `Bearer ${KEY}`, 'the provider\'s own headers stay');
  for (const key of ['thinking', 'metadata', 'thinkingConfig', 'safetySettings']) assert.ok(!(key in request.body), key);
});

test('OpenAI Responses: reasoning options merge with the model\'s, include adds to what the model asks for', async () => {
  const answer = response(responsesStream([{ type: 'message', text: 'Hello.', chunks: ['Hel', 'lo.'] }]));
  const { text, request } = await sent(models.responses(), answer, {
    providerOptions: { openai: { reasoningSummary: 'detailed', previousResponseId: 'resp_1', include: ['message.output_text.logprobs'], textVerbosity: 'low', truncation: 'auto' } },
  });
  assert.equal(text, 'Hello.');
  assert.deepEqual(request.body.reasoning, { effort: 'medium', summary: 'detailed' });
  assert.deepEqual(request.body.include, ['reasoning.encrypted_content', 'message.output_text.logprobs']);
  assert.equal(request.body.previous_response_id, 'resp_1');
  assert.equal(request.body.text.verbosity, 'low');
  assert.equal(request.body.truncation, 'auto');
});

test('Anthropic: thinking set for the call turns it on (and max_tokens grows with the budget) or off over the model\'s setting', async () => {
  const { request } = await sent(models.anthropic(), loadFixture('anthropic', 'text-stream'), { providerOptions });
  assert.deepEqual(request.body.thinking, { type: 'enabled', budget_tokens: 2048 });
  assert.equal(request.body.max_tokens, 4096 + 2048);
  assert.deepEqual(request.body.metadata, { user_id: 'user-7' });
  assert.ok(!('reasoning_effort' in request.body));

  const off = await sent(models.anthropic({ reasoning: { budgetTokens: 4000 } }), loadFixture('anthropic', 'text-stream'), { providerOptions: { anthropic: { thinking: { type: 'disabled' }, disableParallelToolUse: true } } });
  assert.ok(!('thinking' in off.request.body));
  assert.equal(off.request.body.max_tokens, 4096);
  assert.deepEqual(off.request.body.tool_choice, { type: 'auto', disable_parallel_tool_use: true });

  // The model's own checks apply to thinking set per call.
  await assert.rejects(
    runPrompt({ model: models.anthropic(), prompt: 'Hi', maxRetries: 0, temperature: 0.2, providerOptions: { anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 } } } }).then(({ result }) => result.text),
    /extended thinking only works with temperature 1/,
  );
});

test('Gemini: thinkingConfig and safety settings where the API takes them', async () => {
  const { text, request } = await sent(models.google(), loadFixture('gemini', 'text-stream-sse'), { providerOptions });
  assert.ok(text.length > 0);
  assert.deepEqual(request.body.generationConfig.thinkingConfig, { thinkingBudget: 512, includeThoughts: true });
  assert.deepEqual(request.body.safetySettings, [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }]);
});

test('an option the provider does not know, or a value of the wrong kind, fails the run with a ConfigError before anything is sent', async () => {
  const cases = [
    [models.openai(), { openai: { reasoningEfort: 'low' } }, /providerOptions\.openai: unknown openai option 'reasoningEfort' \(did you mean 'reasoningEffort'\?/],
    [models.openai(), { openai: { reasoningEffort: 'extreme' } }, /'reasoningEffort' must be one of/],
    [models.anthropic(), { anthropic: { thinking: { type: 'enabled' } } }, /'thinking' must be \{type: 'enabled', budgetTokens: <integer>\}/],
    [models.google(), { google: { thinkingConfig: { thinkingBudjet: 5 } } }, /did you mean 'thinkingBudget'/],
  ];
  for (const [model, options, message] of cases) {
    const before = srv.requests.length;
    const { result } = await runPrompt({ model, prompt: 'Hi', maxRetries: 0, providerOptions: options });
    await assert.rejects(result.text, (e) => e instanceof ConfigError && message.test(e.message), JSON.stringify(options));
    assert.equal(srv.requests.length, before, 'nothing was sent');
  }
  // The config's own shape is checked when the run starts.
  await assert.rejects(runPrompt({ model: models.openai(), prompt: 'Hi', providerOptions: { openai: 'low' } }), (e) => e instanceof ConfigError && /'providerOptions' must be an object of provider names to option objects/.test(e.message));
  await assert.rejects(runPrompt({ model: models.openai(), prompt: 'Hi', headers: { 'x-n': 1 } }), (e) => e instanceof ConfigError && /'headers' must be an object of header names to string values \(header 'x-n' is not a string\)/.test(e.message));
  await assert.rejects(runPrompt({ model: models.openai(), prompt: 'Hi', headers: { 'x-n': 'a\nb' } }), (e) => e instanceof ConfigError && /\(header 'x-n' has a line break or NUL in its value, not shown\)/.test(e.message));
  // Whitespace around a value is fetch's to drop, and Latin-1 is a header value's alphabet.
  assert.equal(await (await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'Hi', headers: { 'x-n': ' caf\u00e9\n' } })).result.text, 'ok');
  await assert.rejects(runPrompt({ model: models.openai(), prompt: 'Hi', providerOption: {} }), (e) => e instanceof ConfigError && /did you mean 'providerOptions'/.test(e.message));
});

test('a credential in the call\'s headers never appears in an error', async () => {
  const secret = 'sk-call-scoped-SECRET-9876543210';
  srv.enqueue({ status: 401, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${secret}`, type: 'invalid_request_error', code: 'invalid_api_key' } }) });
  const { result } = await runPrompt({ model: models.openai(), prompt: 'Hi', maxRetries: 0, headers: { Authorization: `Bearer ${secret}` } });
  const error = await result.text.then(() => undefined, (e) => e);
  assert.ok(error instanceof AuthenticationError, String(error));
  assert.match(error.message, /HTTP 401/);
  assert.equal(srv.requests.at(-1).headers.authorization, `Bearer ${secret}`, 'the call\'s header replaced the provider\'s');
  assert.ok(!error.message.includes(secret) && !JSON.stringify(error).includes(secret), error.message);
});

test('a directive run\'s providerOptions and headers reach every model call of its replies', async () => {
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage'));
  const before = srv.requests.length;
  const value = await run(function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).value;
  }, { models: { default: models.openai() }, providerOptions: { openai: { user: 'user-9' } }, headers: { 'x-trace-id': 'trace-2' } });
  assert.ok(typeof value === 'string' && value.length > 0);
  const request = srv.requests[before];
  assert.equal(request.body.user, 'user-9');
  assert.equal(request.headers['x-trace-id'], 'trace-2');
});

test('a setting the provider\'s API does not have is left out of its request and reported in result.warnings, each once', async () => {
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage'));
  const topK = runPrompt({ model: models.openai(), prompt: 'Hi', maxRetries: 0, topK: 5, seed: 7 });
  await topK.text;
  assert.ok(!('top_k' in srv.requests.at(-1).body) && srv.requests.at(-1).body.seed === 7);
  assert.deepEqual(await topK.warnings, [{ type: 'unsupported-setting', setting: 'topK', details: "openai's API has no topK; it was left out of the request" }]);

  const responses = await sent(models.responses(), response(responsesStream([{ type: 'message', text: 'ok', chunks: ['ok'] }])), { seed: 1, stopSequences: ['END'], temperature: 0.5 });
  assert.ok(!('seed' in responses.request.body) && !('stop' in responses.request.body) && responses.request.body.temperature === 0.5);

  // A sub-agent's calls count as the run's, and a warning repeated by many calls is listed once.
  const child = { provider: 'child', modelId: 'c', generate: async () => ({ content: [{ type: 'text', text: 'done' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, warnings: [{ type: 'unsupported-setting', setting: 'seed', details: 'child has no seed' }] }) };
  let calls = 0;
  const parent = {
    provider: 'parent', modelId: 'p',
    generate: async () => {
      calls++;
      const warnings = [{ type: 'unsupported-setting', setting: 'topK', details: 'parent has no topK' }];
      if (calls <= 2) return { content: [{ type: 'tool-call', toolCallId: `c${calls}`, toolName: 'helper', args: {}, argsText: '{}' }], finishReason: 'tool-calls', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, warnings };
      return { content: [{ type: 'text', text: 'all done' }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, warnings };
    },
  };
  const run = runPrompt((ctx) => {
    ctx.defAgent('helper', 'helps', {}, (_args, c) => c.$`Help`, { model: child });
    ctx.$`Go`;
  }, { model: parent });
  assert.equal(await run.text, 'all done');
  assert.deepEqual((await run.warnings).map((w) => `${w.setting}: ${w.details}`), ['topK: parent has no topK', 'seed: child has no seed']);
  assert.deepEqual(await run.totalUsage, await run.usage, 'totalUsage is the AI SDK\'s older name of the summed usage');
});

test('consumeStream waits for the run without reading it; a failure goes to onError', async () => {
  const ok = runPrompt({ model: { provider: 'p', modelId: 'm', generate: async () => ({ content: [{ type: 'text', text: 'hi' }], finishReason: 'stop' }) }, prompt: 'x' });
  assert.equal(await ok.consumeStream(), undefined);
  assert.equal(await ok.text, 'hi');
  const errors = [];
  const failing = runPrompt({ model: { provider: 'p', modelId: 'm', generate: async () => ({ content: 'not parts' }) }, prompt: 'x', maxRetries: 0 });
  await failing.consumeStream({ onError: (e) => errors.push(e.message) });
  assert.deepEqual(errors, ['model "p:m" returned an invalid response: content must be an array of parts, got the string "not parts"']);
  const badWarnings = runPrompt({ model: { provider: 'p', modelId: 'm', generate: async () => ({ content: [], warnings: [3] }) }, prompt: 'x', maxRetries: 0 });
  await assert.rejects(badWarnings.text, /warnings must be an array of \{type, setting\?, details\?\}, got/);
});

// A step's call settings (prepareStep and defHook return them as the AI SDK's prepareStep does).
const weatherTool = () => ({
  description: 'Get the current weather in a given location',
  inputSchema: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location'] },
  execute: ({ location }) => `Sunny in ${location}`,
});

test('a step hook sets its step\'s generation settings and providerOptions, merged over the run\'s; the next step has the run\'s again', async () => {
  srv.enqueue(loadFixture('openai-chat', 'tool-call-single-nonstream'));
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage'));
  const before = srv.requests.length;
  const seen = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defHook(({ stepNumber }) => (stepNumber === 0 ? { providerOptions: { openai: { user: 'hook-user', store: true } }, seed: 7 } : undefined));
      ctx.$`What is the weather like in Boston?`;
    },
    {
      model: models.openai(),
      maxRetries: 0,
      tools: { getCurrentWeather: weatherTool() },
      temperature: 0.5,
      providerOptions: { openai: { user: 'run-user', serviceTier: 'flex' } },
      // After the defHooks: its fields win, its provider options merge over theirs.
      prepareStep: ({ stepNumber }) => {
        seen.push(stepNumber);
        return stepNumber === 0 ? { temperature: 0, maxOutputTokens: 64, providerOptions: { openai: { reasoningEffort: 'low', store: false } } } : undefined;
      },
    },
  );
  assert.ok((await result.text).length > 0);
  assert.deepEqual(seen, [0, 1]);
  const [first, second] = srv.requests.slice(before).map((r) => r.body);
  const pick = (body) => ({ temperature: body.temperature, max_completion_tokens: body.max_completion_tokens, seed: body.seed, user: body.user, service_tier: body.service_tier, reasoning_effort: body.reasoning_effort, store: body.store });
  assert.deepEqual(pick(first), { temperature: 0, max_completion_tokens: 64, seed: 7, user: 'hook-user', service_tier: 'flex', reasoning_effort: 'low', store: false });
  assert.deepEqual(pick(second), { temperature: 0.5, max_completion_tokens: undefined, seed: undefined, user: 'run-user', service_tier: 'flex', reasoning_effort: undefined, store: undefined });
});

test('a step hook\'s bad call settings fail the run with a ConfigError naming the hook and the field, before anything is sent', async () => {
  const cases = [
    [{ temprature: 0 }, /prepareStep returned: unknown field 'temprature' \(did you mean 'temperature'\?/],
    [{ temperature: 'hot' }, /prepareStep returned: 'temperature' must be a number/],
    [{ providerOptions: { openai: 'low' } }, /prepareStep returned: 'providerOptions' must be an object of provider names to option objects/],
    [{ providerOptions: { openai: { reasoningEfort: 'low' } } }, /providerOptions\.openai: unknown openai option 'reasoningEfort' \(did you mean 'reasoningEffort'\?/],
    [5, /prepareStep: must return an object of changes for the step or nothing, got the number 5/],
  ];
  for (const [changes, message] of cases) {
    const before = srv.requests.length;
    const { result } = await runPrompt({ model: models.openai(), prompt: 'Hi', maxRetries: 0, prepareStep: () => changes });
    await assert.rejects(result.text, (e) => e instanceof ConfigError && message.test(e.message), `${JSON.stringify(changes)}: ${message}`);
    assert.equal(srv.requests.length, before, 'nothing was sent');
  }
});

test('a directive run\'s prepareStep sets the call settings of one step of a reply', async () => {
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage'));
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage'));
  const before = srv.requests.length;
  await run(function* () {
    yield* L.user`Hi`;
    yield* L.reply;
    yield* L.user`Again`;
    yield* L.reply;
  }, {
    models: { default: models.openai() },
    providerOptions: { openai: { user: 'run-user' } },
    prepareStep: ({ messages }) => (messages.length === 1 ? { topP: 0.5, providerOptions: { openai: { user: 'first-reply' } } } : undefined),
  });
  const [first, second] = srv.requests.slice(before).map((r) => r.body);
  assert.deepEqual([first.top_p, first.user], [0.5, 'first-reply']);
  assert.deepEqual([second.top_p, second.user], [undefined, 'run-user']);
});

test('a cached model call is keyed by its step\'s provider options: other options miss, the same hit', async () => {
  const engine = await createEngine();
  const model = mockModel([{ type: 'text', text: 'low' }, { type: 'end-step' }, { type: 'text', text: 'high' }]);
  const ask = (effort) =>
    runPrompt(
      (ctx) => {
        ctx.defCache('answers', 'lru');
        ctx.$`Think.`;
      },
      { model, engine, cache: 'answers', prepareStep: () => ({ providerOptions: { openai: { reasoningEffort: effort } } }) },
    ).then(({ result }) => result.text);
  assert.equal(await ask('low'), 'low');
  assert.equal(await ask('high'), 'high');
  assert.equal(await ask('low'), 'low');
  assert.equal(model.calls.length, 2, 'the third run was answered from the cache');
  assert.deepEqual(model.calls.map((call) => call.providerOptions), [{ openai: { reasoningEffort: 'low' } }, { openai: { reasoningEffort: 'high' } }]);
});

test('a cached model call is keyed by the run\'s own provider options too, a branch\'s by the ones it inherits; headers are not in the key', async () => {
  const engine = await createEngine();
  const model = mockModel([{ type: 'text', text: 'low' }, { type: 'end-step' }, { type: 'text', text: 'high' }, { type: 'end-step' }, { type: 'text', text: 'agent' }]);
  const ask = (effort, headers) =>
    runPrompt(
      (ctx) => {
        ctx.defCache('answers', 'lru');
        ctx.$`Think.`;
      },
      { model, engine, cache: 'answers', providerOptions: { openai: { reasoningEffort: effort } }, headers },
    ).then(({ result }) => result.text);
  assert.equal(await ask('low'), 'low');
  assert.equal(await ask('high'), 'high');
  assert.equal(await ask('low', { 'x-request-id': 'other' }), 'low', 'a run that differs only in its headers shares the entry');
  assert.equal(model.calls.length, 2, 'the third run was answered from the cache');
  assert.deepEqual(model.calls.map((call) => call.providerOptions), [{ openai: { reasoningEffort: 'low' } }, { openai: { reasoningEffort: 'high' } }]);

  // A directive run under options no run had before misses; its branches inherit them, so they hit its entry.
  const question = function* () {
    yield* L.user`Think.`;
    return (yield* L.reply).value;
  };
  const config = (effort) => ({ models: { default: model }, engine, cache: 'answers', providerOptions: { openai: { reasoningEffort: effort } }, define: (ctx) => ctx.defCache('answers', 'lru') });
  assert.equal(await run(question, config('medium')), 'agent');
  assert.equal(model.calls.length, 3);
  assert.deepEqual(model.calls[2].providerOptions, { openai: { reasoningEffort: 'medium' } });
  const events = [];
  for await (const e of run(function* () {
    return yield* L.branch([question, question]);
  }, config('medium'))) events.push(e);
  assert.equal(model.calls.length, 3, 'the branches were answered from the cache');
  assert.equal(events.filter((e) => e.type === 'cache-hit').length, 2);
});

test('a directive run\'s warnings: its replies\' and branches\', each once, when the run has ended; a failed run\'s reject as the run does', async () => {
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage'));
  const openai = run(function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).value;
  }, { models: { default: models.openai() }, params: { topK: 5 } });
  await openai;
  assert.ok(!('top_k' in srv.requests.at(-1).body));
  assert.deepEqual(await openai.warnings, [{ type: 'unsupported-setting', setting: 'topK', details: "openai's API has no topK; it was left out of the request" }]);

  let calls = 0;
  const warned = {
    provider: 'warned', modelId: 'w',
    generate: async () => ({ content: [{ type: 'text', text: `answer ${++calls}` }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, warnings: [{ type: 'unsupported-setting', setting: 'seed', details: 'warned has no seed' }] }),
  };
  const worker = function* () {
    yield* L.user`Work`;
    return (yield* L.reply).value;
  };
  const branched = run(function* () {
    yield* L.user`Hi`;
    yield* L.reply;
    return yield* L.branch([worker, worker]);
  }, { models: { default: warned } });
  assert.equal((await branched).length, 2);
  assert.equal(calls, 3);
  assert.deepEqual(await branched.warnings, [{ type: 'unsupported-setting', setting: 'seed', details: 'warned has no seed' }]);

  const failing = run(function* () {
    yield* L.user`Hi`;
    yield* L.reply;
    throw new Error('the agent gave up');
  }, { models: { default: warned } });
  await assert.rejects(failing, /the agent gave up/);
  await assert.rejects(failing.warnings, /the agent gave up/);
});

test('a durable run\'s journal keeps its warnings: a replay reports them again without calling the model', async () => {
  const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
  const warning = { type: 'unsupported-setting', setting: 'seed', details: 'warned has no seed' };
  const warned = { provider: 'warned', modelId: 'w', generate: async () => ({ content: [{ type: 'text', text: 'ok' }], finishReason: 'stop', usage, warnings: [warning] }) };
  const uncalled = { provider: 'warned', modelId: 'w', generate: () => Promise.reject(new Error('the model was called during a replay')) };

  const prompt = (ctx) => {
    ctx.$`Hi`;
  };
  const first = await runPrompt(prompt, { model: warned, durable: { id: 'warned-prompt', storage: memoryStorage() } });
  assert.deepEqual(await first.result.warnings, [warning]);
  await first.prompt.finished;
  const replayed = await replay(first.prompt.journal, prompt, { model: uncalled });
  assert.equal(await replayed.result.text, 'ok');
  assert.deepEqual(await replayed.result.warnings, [warning]);

  const agent = function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).value;
  };
  const live = run(agent, { models: { default: warned }, durable: { id: 'warned-directive', storage: memoryStorage() } });
  assert.equal(await live, 'ok');
  const again = replay(live.journal(), agent, { models: { default: uncalled } });
  assert.equal(await again, 'ok');
  assert.deepEqual(await again.warnings, [warning]);
});
