// Resilience policies at their edges (docs/resilience.md): the run's own end while a policy's
// callback waits, settings given twice or priced wrongly, a model that ignores its abort signal,
// and the circuit breaker handle's bookkeeping. Real clock, short waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { runPrompt, mockModel, AbortError, BudgetExceededError, CircuitOpenError, ConfigError, TimeoutError } from '../../dist/node.js';

const schema = { type: 'object', properties: {} };
const never = () => new Promise(() => {});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const callThenAnswer = () => mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'fin' }]);

/** Runs a prompt whose tool `t` has `toolOptions`; resolves with the run's error (or fails the test if it ends well). */
async function failureOf(define, toolOptions, config) {
  const { result } = await runPrompt((ctx) => {
    define(ctx);
    ctx.defTool('t', 'a tool', schema, () => ({ a: 1 }), toolOptions);
    ctx.$`go`;
  }, { model: callThenAnswer(), ...config });
  return result.text.then(() => assert.fail('the run ended well'), (error) => error);
}

test("the run's timeout or duration stop that ends a run while a validator or guard waits is the run's error, not the policy's", async () => {
  const timeout = { options: { timeout: 200 } };
  let error = await failureOf((ctx) => ctx.defValidator('v', { type: 'object' }, never), { validator: 'v' }, timeout);
  assert.ok(error instanceof TimeoutError, `${error.name}: ${error.message}`);
  assert.equal(error.message, 'the run timed out after 200 ms');
  error = await failureOf((ctx) => ctx.defGuard('g', never), { guards: ['g'] }, timeout);
  assert.ok(error instanceof TimeoutError, `${error.name}: ${error.message}`);
  error = await failureOf((ctx) => {
    ctx.defValidator('v', { type: 'object' }, never);
    ctx.defConstraint('d', 'duration', { max: 200, onExceeded: 'stop' });
  }, { validator: 'v' }, {});
  assert.ok(error instanceof BudgetExceededError, `${error.name}: ${error.message}`);
  // A validator that fails by itself still fails the call the validator's way.
  error = await failureOf((ctx) => ctx.defValidator('v', { type: 'object' }, () => {
    throw new Error('validator down');
  }), { validator: 'v' }, timeout);
  assert.match(error.message, /the validator failed: validator down/);
});

test('a cost constraint refuses price entries that would price calls at $0: a misspelt field, NaN, Infinity, no price at all', async () => {
  const define = (prices) => runPrompt((ctx) => {
    ctx.defConstraint('spend', 'cost', { max: 0.0001, prices });
    ctx.$`go`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  await assert.rejects(define({ 'gpt-x': { inpt: 1, output: 1 } }), (e) => e instanceof ConfigError && /prices\["gpt-x"\]: unknown field 'inpt' \(did you mean 'input'\?/.test(e.message));
  await assert.rejects(define({ 'gpt-x': { input: NaN, output: 1 } }), (e) => e instanceof ConfigError && /'input' must be a number >= 0, got the number NaN/.test(e.message));
  await assert.rejects(define({ 'gpt-x': { input: 1, output: Infinity } }), (e) => e instanceof ConfigError && /'output' must be a number >= 0, got the number Infinity/.test(e.message));
  await assert.rejects(define({ 'gpt-x': {} }), (e) => e instanceof ConfigError && /give 'input' and\/or 'output'/.test(e.message));
  await assert.rejects(define({ 'gpt-x': 3 }), (e) => e instanceof ConfigError && /prices\["gpt-x"\]: expected an options object, got the number 3/.test(e.message));
  await assert.rejects(define({}), (e) => e instanceof ConfigError && /for at least one model/.test(e.message));
  // A right price still stops the run at its budget.
  let n = 0;
  const model = { provider: 'test', modelId: 'gpt-x', generate: async () => ({ content: [{ type: 'tool-call', toolCallId: `c${n++}`, toolName: 't', args: {}, argsText: '{}' }], finishReason: 'tool-calls', usage: { inputTokens: 10, outputTokens: 20 } }) };
  const { result } = await runPrompt((ctx) => {
    ctx.defConstraint('spend', 'cost', { max: 0.0001, prices: { 'gpt-x': { input: 1, output: 1 } } });
    ctx.defTool('t', 'a tool', schema, () => 'ok');
    ctx.$`go`;
  }, { model, options: { maxSteps: 8 } });
  await assert.rejects(result.text, BudgetExceededError);
  assert.ok(n < 8, `${n} model calls`);
});

test('one setting under both of its names is refused, not half ignored', async () => {
  const define = (fn) => runPrompt((ctx) => {
    fn(ctx);
    ctx.$`go`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  const model = mockModel([{ type: 'text', text: 'x' }]);
  await assert.rejects(define((ctx) => ctx.defFallback('fb', 'cascade', { models: [model], cascade: [{ model }] })), { message: "defFallback(\"fb\"): give 'models' or 'cascade' (two names of one setting), not both" });
  await assert.rejects(define((ctx) => ctx.defConstraint('b', 'tokens', { max: 45, track: ['input'], tracking: ['output'] })), /give 'track' or 'tracking'/);
  await assert.rejects(define((ctx) => ctx.defFallback('d', 'default', { value: 'a', defaultValue: 'b' })), /give 'value' or 'defaultValue'/);
  await assert.rejects(define((ctx) => ctx.defFallback('d', 'default', { value: 'a', log: true, logError: false })), /give 'log' or 'logError'/);
});

test('a fallback lists each model and each alternative tool once: a model string or a tool named twice is refused', async () => {
  const define = (config, tools = () => {}) => runPrompt((ctx) => {
    ctx.defFallback('fb', config.tools || config.alternatives ? 'alternative' : 'cascade', config);
    tools(ctx);
    ctx.$`go`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) }).then(({ result }) => result.text);
  await assert.rejects(define({ models: ['openai:gpt-4o', 'openai:gpt-4o'] }), (e) => e instanceof ConfigError && /'models' lists the model "openai:gpt-4o" twice \(items 0 and 1\)/.test(e.message));
  await assert.rejects(define({ cascade: [{ model: 'openai:gpt-4o-mini' }, { model: 'anthropic:claude' }, { model: 'openai:gpt-4o-mini' }] }), /'cascade' lists the model "openai:gpt-4o-mini" twice \(items 0 and 2\)/);
  const tools = (ctx) => {
    ctx.defTool('a', 'a', schema, () => 'a', { fallback: 'fb' });
    ctx.defTool('b', 'b', schema, () => 'b');
  };
  await assert.rejects(define({ tools: ['b', 'b'] }, tools), (e) => e instanceof ConfigError && /'tools' lists the tool "b" twice/.test(e.message));
  await assert.rejects(define({ alternatives: { a: ['b', 'b'] } }, tools), (e) => e instanceof ConfigError && /'a' lists the tool "b" twice/.test(e.message));
});

test("timeout.firstChunkMs and chunkMs end a stalled call even when the model ignores its abort signal", async () => {
  const model = (streams) => ({
    provider: 'test',
    modelId: 'deaf',
    async generate(_request, options) {
      if (streams) {
        await sleep(20);
        options.onDelta?.({ type: 'text-delta', text: 'Hel' });
      }
      await sleep(1_000); // a stall; this model never looks at options.signal
      return { content: [{ type: 'text', text: 'Hello (late)' }], finishReason: 'stop' };
    },
  });
  for (const [streams, timeout, pattern] of [[false, { firstChunkMs: 100 }, /no first chunk within 100 ms \(timeout\.firstChunkMs\)/], [true, { chunkMs: 100 }, /no chunk after chunk 1 within 100 ms \(timeout\.chunkMs\)/]]) {
    const started = performance.now();
    const { result } = await runPrompt((ctx) => void ctx.$`go`, { model: model(streams), timeout, options: { maxRetries: 0 } });
    await assert.rejects(result.text, (e) => e instanceof TimeoutError && pattern.test(e.message));
    assert.ok(performance.now() - started < 700, `ended after ${performance.now() - started} ms`);
  }
});

test("ctx.circuitBreaker(name).execute: the platform's AbortError counts as neither outcome, and a non-function is refused without touching the breaker", async () => {
  const seen = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defCircuitBreaker('svc', { failureThreshold: 2, resetTimeout: 60_000 });
    ctx.defTool('t', 'a tool', schema, async () => {
      const breaker = ctx.circuitBreaker('svc');
      for (let i = 0; i < 3; i++) {
        await breaker.execute(() => {
          throw new DOMException('This operation was aborted', 'AbortError');
        }).catch((e) => seen.push(e.name));
        await breaker.execute(() => Promise.reject(new AbortError('stopped'))).catch((e) => seen.push(e.name));
        await breaker.execute(undefined).catch((e) => seen.push(e instanceof ConfigError ? e.message : e.name));
      }
      seen.push(await breaker.execute(() => 'still closed'));
      // Two real failures open it.
      for (let i = 0; i < 2; i++) await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
      await breaker.execute(() => 'refused').catch((e) => seen.push(e instanceof CircuitOpenError ? 'open' : e.name));
      return 'ok';
    });
    ctx.$`go`;
  }, { model: callThenAnswer() });
  assert.equal(await result.text, 'fin');
  assert.deepEqual(seen.slice(0, 3), ['AbortError', 'AbortError', 'circuitBreaker("svc").execute: expected a function to run, got undefined']);
  assert.deepEqual(seen.slice(9), ['still closed', 'open']);
});
