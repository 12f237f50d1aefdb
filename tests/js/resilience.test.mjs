// Resilience of prompt runs (docs/resilience.md) against recorded provider responses served on
// loopback, on a virtual clock so that backoff of seconds takes no time.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';

import {
  createEngine, runPrompt, mockModel, createAnthropic, createOpenAI, VirtualClock, realClock,
  BudgetExceededError, CircuitOpenError, ConfigError, ProviderError, TimeoutError, RateLimitError,
} from '../../dist/node.js';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';

const KEY = 'sk-test-resilience-0123456789';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const anthropic = (id = 'claude-haiku-4-5-20251001') => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })(id);
const openai = (id = 'gpt-3.5-turbo') => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })(id);

/** A fresh engine on a virtual clock that starts at a fixed date. */
async function virtualEngine() {
  const clock = new VirtualClock(Date.parse('2026-11-21T12:00:00Z'));
  return { clock, engine: await createEngine({ clock }) };
}

/** Runs a prompt and returns what a test looks at: text or error, policy events, requests made. */
async function attempt(prompt, config) {
  const before = srv.requests.length;
  let text;
  let error;
  let info;
  try {
    const started = await runPrompt(prompt, config);
    info = started.prompt;
    text = await started.result.text;
  } catch (err) {
    error = err;
  }
  return { text, error, events: info?.events ?? [], requests: srv.requests.slice(before), info };
}

/** A model that answers each call with `respond(callIndex)`'s content. */
function scriptedModel(respond, { usage = { inputTokens: 10, outputTokens: 30, totalTokens: 40 }, modelId = 'scripted' } = {}) {
  let n = 0;
  return {
    provider: 'test',
    modelId,
    async generate() {
      const content = await respond(n++);
      const finishReason = content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop';
      return { content, finishReason, usage: { ...usage } };
    },
  };
}
const callPart = (toolName, args = {}, id = `call_${Math.random().toString(36).slice(2)}`) => ({
  type: 'tool-call', toolCallId: id, toolName, args, argsText: JSON.stringify(args),
});
const textPart = (text) => ({ type: 'text', text });

function assertNoSecret(value) {
  const s = JSON.stringify(value, (_k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v));
  assert.ok(!s.includes(KEY), `secret leaked: ${s}`);
}

describe('model calls against recorded provider failures', () => {
  test('Anthropic 429 with Retry-After: 41 is retried once, 41 s later in virtual time', async () => {
    const { clock, engine } = await virtualEngine();
    srv.enqueue(loadFixture('anthropic', 'error-429-rate-limit-retry-after', 1));
    srv.enqueue(loadFixture('anthropic', 'text-nonstream', 1));
    const started = clock.now();
    const wallStart = performance.now();
    const r = await attempt((ctx) => ctx.$`Hello`, { model: anthropic(), engine });
    assert.equal(r.error, undefined, String(r.error));
    assert.ok(r.text.length > 0);
    assert.equal(r.requests.length, 2);
    const retries = r.events.filter((e) => e.type === 'retry');
    assert.equal(retries.length, 1);
    assert.equal(retries[0].delayMs, 41000);
    assert.equal(clock.now() - started, 41000);
    assert.ok(performance.now() - wallStart < 30_000, 'the 41 s of virtual time were not waited for');
    assertNoSecret(r.events);
  });

  test('529 overloaded on model A with a cascade: model B answers and replaces A', async () => {
    const { engine } = await virtualEngine();
    const overloaded = loadFixture('anthropic', 'error-529-overloaded', 2);
    for (let i = 0; i < 3; i++) srv.enqueue(overloaded); // the call and its 2 default retries
    srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
    const r = await attempt(
      (ctx) => {
        ctx.defFallback('backup', 'cascade', { models: [openai('gpt-3.5-turbo-0125')] });
        ctx.$`Hello, how are you?`;
      },
      { model: anthropic('claude-3-5-haiku-20241022'), fallback: 'backup', engine },
    );
    assert.equal(r.error, undefined, String(r.error));
    assert.match(r.text, /\S/);
    assert.deepEqual(r.requests.map((q) => q.path), ['/v1/messages', '/v1/messages', '/v1/messages', '/v1/chat/completions']);
    const fallback = r.events.find((e) => e.type === 'fallback');
    assert.equal(fallback.strategy, 'cascade');
    assert.match(fallback.error, /Overloaded/);
    assert.equal(r.events.filter((e) => e.type === 'retry').length, 2);
  });

  test('500 from OpenAI is retried and the second answer is used', async () => {
    const { engine } = await virtualEngine();
    srv.enqueue(loadFixture('openai-chat', 'errors-429-tpm-chat_500-responses', 2));
    srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
    const r = await attempt((ctx) => ctx.$`Hello`, { model: openai(), engine });
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.requests.length, 2);
    const [retry] = r.events.filter((e) => e.type === 'retry');
    assert.match(retry.error, /HTTP 500/);
    assert.equal(retry.delayMs, 2000); // the default policy's first delay
  });

  test('a named retry policy replaces the default for model calls', async () => {
    const { engine } = await virtualEngine();
    for (let i = 0; i < 4; i++) srv.enqueue(loadFixture('openai-chat', 'errors-429-tpm-chat_500-responses', 2));
    const r = await attempt(
      (ctx) => {
        ctx.defRetry('patient', { maxAttempts: 4, backoff: 'constant', baseDelay: 500 });
        ctx.$`Hello`;
      },
      { model: openai(), engine, retry: 'patient' },
    );
    assert.ok(r.error instanceof ProviderError);
    assert.equal(r.requests.length, 4);
    assert.deepEqual(r.events.filter((e) => e.type === 'retry').map((e) => e.delayMs), [500, 500, 500]);
  });

  test('a stream cut before its first token is retried', async () => {
    const { engine } = await virtualEngine();
    srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage', 1), { cutAfter: 20 });
    srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage', 1));
    const r = await attempt((ctx) => ctx.$`Count from 1 to 5`, { model: openai(), engine });
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.requests.length, 2);
    assert.match(r.text, /1, 2, 3, 4, 5/);
  });

  test('a stream cut mid-way is not retried: a typed error keeps the partial text', async () => {
    const { engine } = await virtualEngine();
    const fx = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    const cut = fx.body.indexOf('\n\n', fx.body.indexOf('"content":"3"')) + 40;
    srv.enqueue(fx, { cutAfter: cut });
    const r = await attempt((ctx) => ctx.$`Count from 1 to 5`, { model: openai(), engine });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.equal(r.error.partialText, '1, 2, 3');
    assert.equal(r.requests.length, 1);
    assertNoSecret(r.error);
  });

  // A new attempt's text would follow the text already streamed: textStream would read "1, 1, 2, 3, 4, 5".
  test('a stream that stalls after its first text is not retried on its idle timeout', async () => {
    const fx = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    // Only one answer is queued: a retry would get the server's 599 and make a second request.
    srv.enqueue(fx, { hangAfter: fx.body.indexOf('\n\n', fx.body.indexOf('"content":"1"')) + 2 });
    const before = srv.requests.length;
    const model = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY, idleTimeoutMs: 200 })('gpt-3.5-turbo');
    const run = runPrompt({ model, prompt: 'Count from 1 to 5' });
    const shown = [];
    for await (const delta of run.textStream) shown.push(delta);
    await assert.rejects(run.text, TimeoutError);
    assert.equal(shown.join(''), '1');
    assert.equal(srv.requests.length - before, 1);
  });

  test("a model call that fails after streaming text is not retried, whatever the error or the policy; before any text it is", async () => {
    // The default rule of what is worth another attempt, and a policy that lists every one of the
    // failures: neither tries again once text was shown. A short delay (real time: a virtual clock
    // does not move while the model's call is pending).
    const policies = {
      'the default rule': { maxAttempts: 3, backoff: 'constant', baseDelay: 1 },
      'a policy listing the errors': { maxAttempts: 3, backoff: 'constant', baseDelay: 1, retryableErrors: ['timeout', 'cut', 'rate_limit'] },
    };
    const failures = {
      'its own modelTimeout': () => new Promise(() => {}),
      'a retryable ProviderError without partialText': () => Promise.reject(new ProviderError('cut', { retryable: true })),
      'a RateLimitError': () => Promise.reject(new RateLimitError('slow down', 10)),
    };
    for (const [failure, fail] of Object.entries(failures)) {
      for (const [policyName, policy] of Object.entries(policies)) {
        for (const textFirst of [true, false]) {
          const what = `${failure}, ${policyName}`;
          let calls = 0;
          const model = {
            provider: 'test',
            modelId: 'flaky',
            async generate(_req, opts) {
              if (calls++ > 0) {
                opts.onDelta?.({ type: 'text-delta', text: 'again' });
                return { content: [{ type: 'text', text: 'again' }], finishReason: 'stop' };
              }
              if (textFirst) opts.onDelta?.({ type: 'text-delta', text: 'Hel' });
              return fail();
            },
          };
          const run = runPrompt((ctx) => {
            ctx.defRetry('quick', policy);
            ctx.$`hi`;
          }, { model, retry: 'quick', options: { modelTimeout: 100 } });
          const shown = [];
          for await (const delta of run.textStream) shown.push(delta);
          if (textFirst) {
            await assert.rejects(run.text, (err) => err.name !== 'Error', what);
            assert.deepEqual([shown, calls], [['Hel'], 1], what);
          } else {
            assert.equal(await run.text, 'again', what);
            assert.deepEqual([shown, calls], [['again'], 2], what);
          }
        }
      }
    }
  });

  test('a malformed SSE chunk is a typed error, never a hang', async () => {
    const { engine } = await virtualEngine();
    const fx = loadFixture('openai-chat', 'text-stream-include-usage', 1);
    const firstEvent = fx.body.indexOf('\n\n') + 2;
    const body = Buffer.concat([fx.body.subarray(0, firstEvent), Buffer.from('data: {"choices": [{"delta": {"content": "x"\n\n')]);
    srv.enqueue({ ...fx, body });
    const r = await attempt((ctx) => ctx.$`Count`, { model: openai(), engine });
    assert.ok(r.error instanceof ProviderError, String(r.error));
    assert.match(r.error.message, /malformed stream chunk/);
    assert.equal(r.requests.length, 1);
  });
});

describe('tools and budgets', () => {
  test('a circuit breaker around your own calls: open, fail fast, half-open, closed', async () => {
    // A clock that moves only when the test says so: the breaker's 40 ms reset timeout elapses
    // exactly where the test waits, however slow the machine is.
    const clock = { ms: 0, now: () => clock.ms, setTimer: realClock.setTimer, clearTimer: realClock.clearTimer };
    const engine = await createEngine({ clock });
    let serviceCalls = 0;
    let healthy = false;
    const outcomes = [];
    const r = await attempt(
      (ctx) => {
        ctx.defCircuitBreaker('api', { failureThreshold: 2, resetTimeout: 40 });
        ctx.defTool('fetchData', 'Fetches data', { type: 'object' }, async () => {
          try {
            const value = await ctx.circuitBreaker('api').execute(async () => {
              serviceCalls++;
              if (!healthy) throw new Error('503 from service');
              return 'data';
            });
            outcomes.push('ok');
            return value;
          } catch (err) {
            outcomes.push(err instanceof CircuitOpenError ? 'fast-fail' : 'failed');
            if (outcomes.length === 3) {
              clock.ms += 60; // longer than the reset timeout
              healthy = true;
            }
            throw err;
          }
        });
        ctx.$`Fetch four times`;
      },
      {
        model: mockModel([1, 2, 3, 4].map(() => ({ type: 'tool-call', toolName: 'fetchData', args: {} })).concat([{ type: 'text', text: 'done' }])),
        engine,
      },
    );
    assert.equal(r.error, undefined, String(r.error));
    assert.deepEqual(outcomes, ['failed', 'failed', 'fast-fail', 'ok']);
    assert.equal(serviceCalls, 3);
    assert.deepEqual(
      r.events.filter((e) => e.type === 'circuit-state').map((e) => `${e.from}->${e.to}`),
      ['closed->open', 'open->half-open', 'half-open->closed'],
    );
  });

  test('a rate constraint spaces 50 concurrent tool calls: 10 per second, in virtual time', async () => {
    const { clock, engine } = await virtualEngine();
    const starts = [];
    const model = scriptedModel((n) => (n === 0 ? Array.from({ length: 50 }, (_, i) => callPart('ping', { i })) : [textPart('done')]));
    const begin = clock.now();
    const r = await attempt(
      (ctx) => {
        ctx.defConstraint('rps', 'rate', { requests: 10, period: 1000, scope: 'tool' });
        ctx.defTool('ping', 'Ping', { type: 'object' }, () => {
          starts.push(engine.now() - begin);
          return 'pong';
        });
        ctx.$`Ping 50 times`;
      },
      { model, engine },
    );
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(starts.length, 50);
    const perWindow = new Map();
    for (const t of starts) perWindow.set(t, (perWindow.get(t) ?? 0) + 1);
    assert.deepEqual([...perWindow].sort((a, b) => a[0] - b[0]), [[0, 10], [1000, 10], [2000, 10], [3000, 10], [4000, 10]]);
  });

  test('a token budget stops a 3-branch parallel run at the limit, counted across branches', async () => {
    const engine = await createEngine();
    // The parent fans out to three researchers at once; each researcher loops on its own tool.
    const parent = scriptedModel(() => [callPart('research', { topic: 'a' }), callPart('research', { topic: 'b' }), callPart('research', { topic: 'c' })]);
    const child = scriptedModel(() => [callPart('search', { q: 'more' })]);
    let childModelCalls = 0;
    const counting = { ...child, generate: (...args) => (childModelCalls++, child.generate(...args)) };
    const r = await attempt(
      (ctx) => {
        ctx.defConstraint('tokens', 'tokens', { max: 200 });
        ctx.defAgent('research', 'Researches a topic', { type: 'object', properties: { topic: { type: 'string' } } }, (args, sub) => {
          sub.defTool('search', 'Search', { type: 'object' }, () => 'a result');
          sub.$`Research ${args.topic}`;
        }, { model: counting });
        ctx.$`Research three topics in parallel`;
      },
      { model: parent, engine },
    );
    assert.ok(r.error instanceof BudgetExceededError, String(r.error));
    assert.equal(r.error.constraint, 'tokens');
    // Stopped at the limit, or refused before a call whose input alone no longer fits (docs/resilience.md):
    // either way by the shared ledger — each branch alone used at most 2 calls (80 tokens).
    const used = /constraint "tokens"(?: exceeded: (\d+) of 200 tokens used|: the next model call was not made: .* \((\d+) used\))/.exec(r.error.message);
    assert.ok(used, r.error.message);
    assert.ok(Number(used[1] ?? used[2]) > 80, r.error.message);
    assert.ok(childModelCalls >= 3 && childModelCalls <= 6, `${childModelCalls} calls`);
    assert.ok(r.events.filter((e) => e.type === 'constraint-exceeded').length <= 1);
  });

  test('ctx.checkConstraints() reports totals and cost, then throws naming the constraint', async () => {
    const engine = await createEngine();
    const seen = [];
    const r = await attempt(
      (ctx) => {
        ctx.defConstraint('spend', 'cost', { max: 0.001, prices: { mock: { input: 10, output: 30 } } });
        ctx.defTool('check', 'Checks the budget', { type: 'object' }, async () => {
          try {
            seen.push(await ctx.checkConstraints());
          } catch (err) {
            seen.push(err);
          }
          return 'checked';
        });
        ctx.$`Check twice`;
      },
      {
        model: mockModel(
          [{ type: 'tool-call', toolName: 'check', args: {} }, { type: 'tool-call', toolName: 'check', args: {} }, { type: 'text', text: 'done' }],
          { usage: { inputTokens: 10, outputTokens: 20, totalTokens: 30 } },
        ),
        engine,
      },
    );
    // 30 tokens cost 10*10/1e6 + 20*30/1e6 = $0.0007 per call: under after one call, over after two.
    assert.equal(seen[0].inputTokens, 10);
    assert.ok(Math.abs(seen[0].costUsd - 0.0007) < 1e-12);
    assert.ok(seen[1] instanceof BudgetExceededError);
    assert.equal(seen[1].constraint, 'spend');
    assert.ok(r.error instanceof BudgetExceededError); // the third model call is refused
  });

  test('per-tool, per-model-call and per-run timeouts', async () => {
    const engine = await createEngine();
    let toolAborted = false;
    const hang = (signal) =>
      new Promise((_, reject) =>
        signal.addEventListener('abort', () => {
          toolAborted = true;
          reject(signal.reason);
        }),
      );
    const tool = await attempt(
      (ctx) => {
        ctx.defTool('stuck', 'Never answers', { type: 'object' }, (_args, { abortSignal }) => hang(abortSignal), { timeout: 30 });
        ctx.$`Call it`;
      },
      { model: mockModel([{ type: 'tool-call', toolName: 'stuck', args: {} }, { type: 'text', text: 'gave up' }]), engine },
    );
    assert.equal(tool.text, 'gave up');
    assert.ok(toolAborted);
    const [toolResult] = (await tool.info.finished, tool.info.steps[0].toolResults);
    assert.match(JSON.stringify(toolResult), /timed out after 30 ms/);

    const model = await attempt((ctx) => ctx.$`Slow`, {
      model: mockModel([{ type: 'text', text: 'late' }], { delayMs: 5000 }),
      engine,
      options: { modelTimeout: 30, maxRetries: 0 },
    });
    assert.ok(model.error instanceof TimeoutError, String(model.error));

    const run = await attempt(
      (ctx) => {
        ctx.defTool('stuck', 'Never answers', { type: 'object' }, (_args, { abortSignal }) => hang(abortSignal));
        ctx.$`Call it`;
      },
      { model: mockModel([{ type: 'tool-call', toolName: 'stuck', args: {} }]), engine, options: { timeout: 50 } },
    );
    assert.ok(run.error instanceof TimeoutError, String(run.error));
    assert.equal(run.error.message, 'the run timed out after 50 ms'); // the tool never answers
  });

  test('alternative and default fallbacks on tools', async () => {
    const engine = await createEngine();
    const r = await attempt(
      (ctx) => {
        ctx.defFallback('useBackup', 'alternative', { tools: ['backupSearch'] });
        ctx.defFallback('empty', 'default', { value: { results: [] } });
        ctx.defTool('search', 'Search', { type: 'object', properties: { q: { type: 'string' } } }, () => {
          throw new Error('search is down');
        }, { fallback: 'useBackup' });
        ctx.defTool('backupSearch', 'Backup search', { type: 'object', properties: { q: { type: 'string' } } }, ({ q }) => `backup results for ${q}`);
        ctx.defTool('news', 'News', { type: 'object' }, () => {
          throw new Error('news is down');
        }, { fallback: 'empty' });
        ctx.$`Search and read the news`;
      },
      {
        model: mockModel([
          { type: 'tool-call', toolName: 'search', args: { q: 'lmthing' } },
          { type: 'tool-call', toolName: 'news', args: {} },
          { type: 'text', text: 'done' },
        ]),
        engine,
      },
    );
    assert.equal(r.error, undefined, String(r.error));
    const results = r.info.steps.flatMap((s) => s.toolResults ?? []);
    assert.equal(results[0].result, 'backup results for lmthing');
    assert.deepEqual(results[1].result, { results: [] });
    assert.deepEqual(r.events.filter((e) => e.type === 'fallback').map((e) => e.strategy), ['alternative', 'default']);
  });
});

test('an agent with a cascade fallback: its own model fails, the next one answers for it', async () => {
  const { engine } = await virtualEngine();
  const failing = scriptedModel(() => {
    throw new ProviderError('upstream overloaded', { status: 529, retryable: true });
  });
  const backup = mockModel([{ type: 'text', text: 'summary from backup' }]);
  const r = await attempt(
    (ctx) => {
      ctx.defFallback('agentModels', 'cascade', { models: [backup] });
      ctx.defAgent('summarize', 'Summarizes', { type: 'object' }, (_args, sub) => sub.$`Summarize`, { model: failing, fallback: 'agentModels' });
      ctx.$`Summarize please`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'summarize', args: {} }, { type: 'text', text: 'done' }]), engine },
  );
  assert.equal(r.error, undefined, String(r.error));
  assert.equal(r.info.steps[0].toolResults[0].result, 'summary from backup');
  assert.equal(backup.calls.length, 1);
});

describe('bad input', () => {
  const run = (define, config = {}) =>
    attempt(
      (ctx) => {
        define(ctx);
        ctx.$`Hi`;
      },
      { model: mockModel([{ type: 'text', text: 'hi' }]), ...config },
    );

  test('unknown policy names list the defined ones', async () => {
    const r = await run((ctx) => {
      ctx.defRetry('quick', {});
      ctx.defTool('t', 'T', { type: 'object' }, () => 1, { retry: 'qiuck' });
    });
    assert.ok(r.error instanceof ConfigError, String(r.error));
    assert.equal(r.error.message, 'tool "t": unknown retry policy "qiuck" (did you mean "quick"? defined: quick)');
    const cb = await run((ctx) => ctx.defCircuitBreaker('api', {}), { circuitBreaker: 'db' });
    assert.equal(cb.error.message, 'runPrompt config: unknown circuit breaker "db" (defined: api)');
  });

  test('negative or zero limits are refused naming the field', async () => {
    const tokens = await run((ctx) => ctx.defConstraint('b', 'tokens', { max: -1 }));
    assert.equal(tokens.error.message, `defConstraint("b"): 'max' must be a number > 0, got the number -1`);
    const retry = await run((ctx) => ctx.defRetry('r', { maxAttempts: 0 }));
    assert.equal(retry.error.message, `defRetry("r"): 'maxAttempts' must be an integer from 1 to 100, got the number 0`);
    const rate = await run((ctx) => ctx.defConstraint('r', 'rate', { requests: 0, period: 1000 }));
    assert.match(rate.error.message, /'requests' must be an integer from 1 to/);
    const timeout = await run(() => {}, { options: { timeout: 0 } });
    assert.match(timeout.error.message, /'timeout' must be a number of milliseconds > 0/);
  });

  test('a fallback cycle is refused before anything runs', async () => {
    let called = false;
    const r = await run((ctx) => {
      ctx.defFallback('toB', 'alternative', { tools: ['b'] });
      ctx.defFallback('toA', 'alternative', { tools: ['a'] });
      ctx.defTool('a', 'A', { type: 'object' }, () => (called = true), { fallback: 'toB' });
      ctx.defTool('b', 'B', { type: 'object' }, () => (called = true), { fallback: 'toA' });
    });
    assert.ok(r.error instanceof ConfigError, String(r.error)); // found by the engine, the user's mistake
    assert.match(r.error.message, /fallback cycle: a -> b -> a/);
    assert.equal(called, false);
  });

  test('def* methods reject bad shapes at once', async () => {
    await runPrompt((ctx) => {
      assert.throws(() => ctx.defFallback('x', 'retry-forever', {}), /the strategy must be one of "cascade", "alternative", "default", got the string "retry-forever"/);
      assert.throws(() => ctx.defConstraint('x', 'memory', { max: 1 }), /the type must be one of "tokens", "duration", "rate", "cost"/);
      assert.throws(() => ctx.defRetry('', {}), TypeError);
      assert.throws(() => ctx.defCircuitBreaker('cb', 5), /expected an options object, got the number 5/);
      assert.throws(() => ctx.circuitBreaker('nope'), /unknown circuit breaker "nope" \(defined: none\)/);
      ctx.defCircuitBreaker('cb', {});
      assert.throws(() => ctx.circuitBreaker('cb'), { name: 'NotRunningError', message: /only while the run is live/ });
      ctx.$`Hi`;
    }, { model: mockModel([{ type: 'text', text: 'hi' }]) });
  });

  test('a RateLimitError without retries surfaces typed, with its Retry-After', async () => {
    const { engine } = await virtualEngine();
    srv.enqueue(loadFixture('anthropic', 'error-429-rate-limit-retry-after', 1));
    const r = await attempt((ctx) => ctx.$`Hi`, { model: anthropic(), engine, options: { maxRetries: 0 } });
    assert.ok(r.error instanceof RateLimitError, String(r.error));
    assert.equal(r.error.retryAfterMs, 41000);
    assertNoSecret(r.error);
  });
});

test("retryableErrors matches a thrown error's code (a Node system error's ECONNRESET) as well as its kind and message", async () => {
  for (const retryableErrors of [['ECONNRESET'], ['hang up'], ['callback']]) {
    const engine = await createEngine({ clock: new VirtualClock(0) });
    let calls = 0;
    const { result } = await runPrompt(
      (ctx) => {
        ctx.defRetry('net', { maxAttempts: 3, backoff: 'constant', baseDelay: 100, retryableErrors });
        ctx.defTool('fetchIt', 'Fetches', { type: 'object', properties: {} }, () => {
          calls++;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }, { retry: 'net' });
        ctx.$`go`;
      },
      { engine, model: mockModel([{ type: 'tool-call', toolName: 'fetchIt', args: {} }, { type: 'text', text: 'done' }]) },
    );
    assert.equal(await result.text, 'done');
    assert.equal(calls, 3, `retried under ${JSON.stringify(retryableErrors)}`);
  }
});
