// The one call pipeline seen from the package (issue "One call pipeline and one definition registry"):
// directive runs get every policy prompt runs get, the proposal's spellings work, every option bag
// refuses unknown keys naming the nearest one, and events take one path with a typed union.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import {
  createEngine, runPrompt, run, L, mockModel, createAnthropic, createOpenAI, VirtualClock,
  BudgetExceededError, ConfigError, GuardError, LmthingError, ValidationError, CircuitOpenError,
} from '../../dist/node.js';
import { startFixtureServer, loadFixture } from './helpers/fixture-server.mjs';

const KEY = 'sk-test-pipeline-0123456789';
let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const anthropic = () => createAnthropic({ baseURL: `${srv.url}/v1`, apiKey: KEY })('claude-haiku-4-5-20251001');
const openai = () => createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY })('gpt-3.5-turbo');
const pathSchema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
const text = (t) => ({ type: 'text', text: t });
const callTool = (toolName, args = {}) => ({ type: 'tool-call', toolName, args });
const end = { type: 'end-step' };

/** A model answering each call from `respond(index, request)` with fixed usage. */
function scripted(respond, usage = { inputTokens: 10, outputTokens: 30, totalTokens: 40 }) {
  let n = 0;
  return {
    provider: 'test',
    modelId: 'scripted',
    async generate(request) {
      const content = await respond(n++, request);
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { ...usage } };
    },
  };
}
const call = (toolName, args = {}) => ({ type: 'tool-call', toolCallId: `c${Math.random().toString(36).slice(2)}`, toolName, args });

describe('directive runs get every policy', () => {
  test('a model call rate-limited with Retry-After: 41 is retried once, 41 s later in virtual time', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-21T12:00:00Z'));
    const engine = await createEngine({ clock });
    srv.enqueue(loadFixture('anthropic', 'error-429-rate-limit-retry-after', 1));
    srv.enqueue(loadFixture('anthropic', 'text-nonstream', 1));
    const events = [];
    const started = clock.now();
    const answer = await run(function* () {
      yield* L.user`Hello`;
      return (yield* L.reply).value;
    }, { models: { default: anthropic() }, engine, onEvent: (e) => events.push(e) });
    assert.ok(answer.length > 0);
    const retries = events.filter((e) => e.type === 'retry');
    assert.equal(retries.length, 1);
    assert.equal(retries[0].delayMs, 41000);
    assert.equal(clock.now() - started, 41000);
    assert.ok(!JSON.stringify(events).includes(KEY));
  });

  test('a cascade defined in define() replaces a failing model with the next one', async () => {
    const engine = await createEngine({ clock: new VirtualClock() });
    for (let i = 0; i < 3; i++) srv.enqueue(loadFixture('anthropic', 'error-529-overloaded', 2));
    srv.enqueue(loadFixture('openai-chat', 'text-nonstream', 1));
    const events = [];
    const answer = await run(function* () {
      yield* L.user`Hello`;
      return (yield* L.reply).value;
    }, {
      models: { default: anthropic() },
      engine,
      define: (ctx) => ctx.defFallback('backup', 'cascade', { models: [openai()] }),
      fallback: 'backup',
      onEvent: (e) => events.push(e),
    });
    assert.ok(answer.length > 0);
    const fallback = events.find((e) => e.type === 'fallback');
    assert.equal(fallback.strategy, 'cascade');
    assert.equal(fallback.to, 'openai:gpt-3.5-turbo');
    assert.equal(events.filter((e) => e.type === 'retry').length, 2);
  });

  test('a circuit breaker on an L.tool opens after its threshold and fails fast', async () => {
    let calls = 0;
    const model = scripted((n) => (n < 3 ? [call('api')] : [text('gave up')]));
    const events = [];
    const answer = await run(function* () {
      yield* L.tool('api', 'Calls the API', { type: 'object' }, () => {
        calls++;
        throw new Error('503');
      }, { circuitBreaker: 'api' });
      yield* L.user`Call it`;
      return (yield* L.reply).value;
    }, { models: { default: model }, define: (ctx) => ctx.defCircuitBreaker('api', { failureThreshold: 2, resetTimeout: 60_000 }), onEvent: (e) => events.push(e) });
    assert.equal(answer, 'gave up');
    assert.equal(calls, 2);
    const errors = events.filter((e) => e.type === 'tool-error').map((e) => e.error);
    assert.match(errors[2], /circuit breaker "api" is open/);
    assert.deepEqual(events.filter((e) => e.type === 'circuit-state').map((e) => `${e.from}->${e.to}`), ['closed->open']);
  });

  test('a token budget spans parallel branches', async () => {
    const model = scripted(() => [call('search')]);
    let searches = 0;
    const work = function* () {
      yield* L.user`Research`;
      return yield* L.reply;
    };
    await assert.rejects(
      run(function* () {
        yield* L.tool('search', 'Search', { type: 'object' }, () => (searches++, 'a result'));
        yield* L.branch([work(), work(), work()]);
      }, { models: { default: model }, define: (ctx) => ctx.defConstraint('tokens', 'tokens', { max: 200 }) }),
      (err) => err instanceof BudgetExceededError && err.constraint === 'tokens',
    );
    // 40 tokens a call: the fifth call reaches 200; no branch alone came near it.
    assert.ok(searches >= 4 && searches <= 6, `searches: ${searches}`);
  });

  test('approvals raised inside L.branch reach the run handler: approve, deny, timeout', async () => {
    const requests = [];
    const ran = [];
    const writer = (path) =>
      function* () {
        yield* L.user`Write ${path}`;
        return (yield* L.reply).value;
      };
    // Each branch's model writes its file, then reports what the tool answered.
    const model = scripted((n, request) => {
      const last = request.messages.at(-1);
      if (last.role === 'tool') return [text(JSON.stringify(last.content[0].result))];
      return [call('write', { path: last.content.split(' ')[1] })];
    });
    const results = await run(function* () {
      yield* L.tool('write', 'Writes a file', pathSchema, ({ path }) => (ran.push(path), `wrote ${path}`), { approval: 'write' });
      return yield* L.branch({ a: writer('a.txt'), b: writer('b.txt'), c: writer('c.txt') });
    }, {
      models: { default: model },
      define: (ctx) => ctx.defApproval('write', { timeout: 200 }),
      onApproval: (request) => {
        requests.push(request);
        const path = request.preview.args.path;
        if (path === 'a.txt') return 'approve';
        if (path === 'b.txt') return { action: 'deny', reason: 'not b' };
        return new Promise(() => {}); // c times out: the default action (deny) applies
      },
    });
    assert.deepEqual(ran, ['a.txt']);
    assert.equal(results.a, '"wrote a.txt"');
    assert.match(results.b, /denied: not b/);
    assert.match(results.c, /denied: no decision within 200 ms/);
    assert.deepEqual(requests.map((r) => r.path.join('/')).sort(), ['root/a', 'root/b', 'root/c']);
  });

  test('a guard redirects an L.tool call; a validator sends a bad output back, then fails the run', async () => {
    const ran = [];
    const model = scripted((n, request) => (request.messages.at(-1).role === 'tool' ? [text('ok')] : [call('delete', { path: '.env' })]));
    const answer = await run(function* () {
      yield* L.tool('delete', 'Deletes', pathSchema, ({ path }) => (ran.push(`delete ${path}`), 'deleted'), { guards: ['noSecrets'] });
      yield* L.tool('trash', 'Trashes', pathSchema, ({ path }) => (ran.push(`trash ${path}`), 'trashed'));
      yield* L.user`Clean up`;
      return (yield* L.reply).value;
    }, {
      models: { default: model },
      define: (ctx) => ctx.defGuard('noSecrets', (c) => !c.path.startsWith('.env'), { onFail: 'redirect', redirectTo: 'trash' }),
    });
    assert.equal(answer, 'ok');
    assert.deepEqual(ran, ['trash .env']);

    let counts = 0;
    const counter = scripted(() => [call('count')]);
    await assert.rejects(
      run(function* () {
        yield* L.tool('count', 'Counts', { type: 'object' }, () => (counts++, -1), { validator: 'positive', retryOnFailure: true, maxRetries: 1 });
        yield* L.user`Count`;
        yield* L.reply;
      }, { models: { default: counter }, define: (ctx) => ctx.defValidator('positive', { type: 'number', minimum: 0 }) }),
      (err) => err instanceof ValidationError && /failed validation "positive".*\(after 1 retry\)/.test(err.message),
    );
    assert.equal(counts, 2);
  });

  test('a guard that throws fails a directive run with GuardError', async () => {
    const model = scripted(() => [call('delete', { path: '.env' })]);
    await assert.rejects(
      run(function* () {
        yield* L.tool('delete', 'Deletes', pathSchema, () => 'deleted', { guards: ['noSecrets'] });
        yield* L.user`Clean up`;
        yield* L.reply;
      }, { models: { default: model }, define: (ctx) => ctx.defGuard('noSecrets', ({ path }) => !path.startsWith('.env'), { message: 'secrets stay' }) }),
      (err) => err instanceof GuardError && err.message === 'guard "noSecrets" refused tool "delete": secrets stay',
    );
  });
});

describe("the proposal's spellings", () => {
  test('defRetry({jitter: true}); cascade [{model}] with retryDelay and maxAttempts; defaultValue and logError', async () => {
    const clock = new VirtualClock();
    const engine = await createEngine({ clock });
    let attempts = 0;
    const failing = scripted(() => {
      attempts++;
      throw Object.assign(new Error('overloaded'), {});
    });
    const rescuer = mockModel([text('rescued')]);
    const events = [];
    const { result } = await runPrompt((ctx) => {
      ctx.defRetry('jittery', { maxAttempts: 2, baseDelay: 1000, jitter: true, retryableErrors: ['callback'] });
      ctx.defFallback('modelFailure', 'cascade', { cascade: [{ model: failing }, { model: rescuer }], retryDelay: 500, maxAttempts: 3 });
      ctx.defFallback('dataError', 'default', { defaultValue: null, logError: false });
      ctx.defTool('flaky', 'Flaky', { type: 'object' }, () => {
        throw new Error('nope');
      }, { fallback: 'dataError' });
      ctx.$`Hello`;
    }, { model: failing, engine, retry: 'jittery', fallback: 'modelFailure', onEvent: (e) => events.push(e) });
    assert.equal(await result.text, 'rescued');
    const retry = events.find((e) => e.type === 'retry');
    assert.ok(retry.delayMs >= 500 && retry.delayMs <= 1000, `jittered delay ${retry.delayMs}`);
    assert.equal(events.find((e) => e.type === 'fallback').to, 'mock:mock');
    assert.equal(attempts, 2);
  });

  test('alternatives: {tool: [...]} routes each failing tool to its own alternatives', async () => {
    const ran = [];
    const model = mockModel([callTool('searchAPI', { q: 'x' }), text('done')]);
    const { result } = await runPrompt((ctx) => {
      ctx.defFallback('toolError', 'alternative', { alternatives: { searchAPI: ['searchBackup', 'searchCache'] } });
      ctx.defTool('searchAPI', 'Search', { type: 'object' }, () => {
        throw new Error('down');
      }, { fallback: 'toolError' });
      ctx.defTool('searchBackup', 'Backup', { type: 'object' }, () => {
        ran.push('backup');
        throw new Error('also down');
      });
      ctx.defTool('searchCache', 'Cache', { type: 'object' }, () => (ran.push('cache'), 'cached'));
      ctx.$`Search`;
    }, { model });
    assert.equal(await result.text, 'done');
    assert.deepEqual(ran, ['backup', 'cache']);
  });

  test('defInteraction({prompt}) and a choice whose options come from a function; default: 0 is the first option', async () => {
    const asked = [];
    const model = mockModel([callTool('ask'), text('done')]);
    const { result } = await runPrompt((ctx) => {
      ctx.defInteraction('askClarification', 'question', { prompt: (c) => c.question, allowSkip: false });
      ctx.defInteraction('selectOption', 'choice', { options: (c) => c.availableOptions, multiple: false, default: 0, allowSkip: true });
      ctx.defTool('ask', 'Asks', { type: 'object' }, async () => {
        const q = await ctx.interact('askClarification', { question: 'Which file?' });
        const choice = await ctx.interact('selectOption', { availableOptions: ['keep', 'drop'] });
        return { q: q.value, choice: choice.value };
      });
      ctx.$`Go`;
    }, {
      model,
      onInteraction: (request) => {
        asked.push(request);
        if (request.kind === 'question') return 'main.ts';
        return undefined; // skipping a choice with a default gives the default
      },
    });
    assert.equal(await result.text, 'done');
    assert.equal(asked[0].message, 'Which file?');
    assert.deepEqual(asked[1].choices, ['keep', 'drop']);
    assert.deepEqual((await result.steps)[0].toolResults[0].result, { q: 'main.ts', choice: 'keep' });
  });

  test("defConstraint({tracking}), rate strategy 'sliding-window', guards reading ctx.args / ctx.toolName, defMessage('system'), top-level temperature", async () => {
    const model = mockModel([callTool('deleteFile', { path: 'a.txt' }), text('done')]);
    const seen = [];
    const { result } = await runPrompt((ctx) => {
      ctx.defConstraint('tokenBudget', 'tokens', { max: 100000, warn: 80000, onExceeded: 'stop', tracking: ['input', 'output', 'embeddings'] });
      ctx.defConstraint('apiRateLimit', 'rate', { requests: 100, period: 60000, strategy: 'sliding-window' });
      ctx.defGuard('safe', (c) => (seen.push([c.args.path, c.toolName, typeof c.state]), true), { tools: ['deleteFile'] });
      ctx.defTool('deleteFile', 'Deletes', pathSchema, () => 'deleted');
      ctx.defMessage('system', 'Be careful.');
      ctx.$`Delete a.txt`;
    }, { model, temperature: 0.7 });
    assert.equal(await result.text, 'done');
    assert.deepEqual(seen, [['a.txt', 'deleteFile', 'object']]);
    assert.equal(model.calls[0].params.temperature, 0.7);
    assert.deepEqual(model.calls[0].messages[0], { role: 'system', content: 'Be careful.' });
  });

  test('defPlugin(name, {name, version, install, uninstall}): install adds definitions; uninstall runs at the end', async () => {
    const log = [];
    const plugin = {
      name: 'logging',
      version: '1.0.0',
      install: async (ctx) => {
        log.push('install');
        ctx.defHook(({ stepNumber }) => (log.push(`step ${stepNumber}`), {}));
      },
      uninstall: () => log.push('uninstall'),
    };
    const { result, prompt } = await runPrompt((ctx) => {
      ctx.defPlugin('logging', plugin);
      ctx.$`Hi`;
    }, { model: mockModel([text('hi')]) });
    assert.equal(await result.text, 'hi');
    await prompt.finished;
    assert.deepEqual(log, ['install', 'step 0', 'uninstall']);
  });
});

describe('strict config: unknown keys are refused naming the nearest one', () => {
  const model = mockModel([text('x')]);
  const refused = async (fn, config = {}) => {
    try {
      const { result } = await runPrompt(fn, { model, ...config });
      await result.text;
    } catch (err) {
      assert.ok(err instanceof ConfigError && err instanceof TypeError && err instanceof LmthingError, `${err?.name}: ${err?.message}`);
      assert.equal(err.code, 'INVALID_CONFIG');
      return err.message;
    }
    assert.fail('expected a ConfigError');
  };
  const cases = [
    [(ctx) => ctx.defRetry('r', { maxAtempts: 3 }), `defRetry("r"): unknown option 'maxAtempts' (did you mean 'maxAttempts'? known: maxAttempts, backoff, baseDelay, maxDelay, jitter, retryableErrors)`],
    [(ctx) => ctx.defFallback('f', 'default', { valu: 1 }), `defFallback("f"): unknown option 'valu' (did you mean 'value'? known: value, defaultValue, log, logError, errors)`],
    [(ctx) => ctx.defCircuitBreaker('c', { failureTreshold: 3 }), `defCircuitBreaker("c"): unknown option 'failureTreshold' (did you mean 'failureThreshold'? known: failureThreshold, resetTimeout, halfOpenRequests, states)`],
    [(ctx) => ctx.defConstraint('t', 'tokens', { max: 1, onExceed: 'stop' }), `defConstraint("t"): unknown option 'onExceed' (did you mean 'onExceeded'? known: max, warn, onExceeded, track, tracking)`],
    [(ctx) => ctx.defApproval('a', { defaultActon: 'deny' }), `defApproval("a"): unknown option 'defaultActon' (did you mean 'defaultAction'? known: message, options, timeout, defaultAction, showPreview)`],
    [(ctx) => ctx.defGuard('g', () => true, { onfail: 'skip' }), `defGuard("g"): unknown option 'onfail' (did you mean 'onFail'? known: onFail, message, tools, redirectTo, approval)`],
    [(ctx) => ctx.defInteraction('i', 'question', { timout: 5 }), `defInteraction("i"): unknown option 'timout' (did you mean 'timeout'? known: message, prompt, choices, options, multiple, validation, timeout, allowSkip, default, maxAttempts)`],
    [(ctx) => ctx.defTool('t', 'd', {}, () => 1, { retries: 'x' }), `defTool("t"): unknown option 'retries' (did you mean 'retry'? known: retry, fallback, circuitBreaker, timeout, approval, guards, validator, retryOnFailure, maxRetries, cache, beforeCall, onSuccess, onError, idempotent)`],
    [(ctx) => ctx.defAgent('a', 'd', {}, () => {}, { sytem: 'x' }), `defAgent("a"): unknown option 'sytem' (did you mean 'system'? known: retry, fallback, circuitBreaker, timeout, approval, guards, validator, retryOnFailure, maxRetries, cache, model, system, responseSchema, responseSchemaRetries)`],
  ];
  for (const [i, [fn, message]] of cases.entries()) test(`def* #${i + 1}: ${message.slice(0, 40)}…`, async () => assert.equal(await refused(fn), message));

  test('runPrompt config, its options, and run config', async () => {
    assert.match(await refused(() => {}, { temprature: 0.5 }), /^runPrompt config: unknown option 'temprature' \(did you mean 'temperature'\? known: /);
    assert.match(await refused(() => {}, { options: { maxStep: 3 } }), /^runPrompt config.options: unknown option 'maxStep' \(did you mean 'maxSteps'\?/);
    assert.equal(await refused(() => {}, { options: { maxSteps: 1.5 } }), `runPrompt config.options: 'maxSteps' must be an integer from 1 to 10000, got the number 1.5`);
    assert.equal(await refused(() => {}, { temperature: 'hot' }), `runPrompt config: 'temperature' must be a number from 0 to 2, got the string "hot"`);
    assert.equal(await refused(() => {}, { stopSequences: 'x' }), `runPrompt config: 'stopSequences' must be an array of non-empty strings, got the string "x"`);
    // An empty stop sequence would stop nothing (or everything); providers refuse it.
    assert.equal(await refused(() => {}, { stopSequences: ['END', ''] }), `runPrompt config: 'stopSequences' must be an array of non-empty strings (item 1 is the string ""), got an array`);
    assert.equal(await refused(() => {}, { toolChoice: 'bogus' }), `runPrompt config: 'toolChoice' must be 'auto', 'none', 'required' or {type: 'tool', toolName}, got the string "bogus"`);
    assert.equal(await refused(() => {}, { toolChoice: 'requried' }), `runPrompt config: 'toolChoice' must be 'auto', 'none', 'required' or {type: 'tool', toolName}, got the string "requried" (did you mean 'required'?)`);
    assert.equal(await refused(() => {}, { abortSignal: {} }), `runPrompt config: 'abortSignal' must be an AbortSignal, got an object`);
    assert.equal(await refused(() => {}, { stopWhen: 5 }), `runPrompt config: 'stopWhen' must be a function or an array of conditions (functions), got the number 5`);
    assert.equal(await refused(() => {}, { options: 'x' }), `runPrompt config: 'options' must be an object, got the string "x"`);
    assert.equal(await refused(() => {}, { plugins: 5 }), `runPrompt config: 'plugins' must be an array of plugin functions or plugin objects, got the number 5`);
    await assert.rejects(run(function* () {}, { models: { default: model }, maxStep: 3 }), { name: 'ConfigError', message: /^run config: unknown option 'maxStep' \(did you mean 'maxSteps'\?/ });
    await assert.rejects(run(function* () {}, { models: { default: model }, maxSteps: Number.NaN }), { message: `run config: 'maxSteps' must be an integer from 1 to 1000, got the number NaN` });
    await assert.rejects(
      run(function* () {
        yield* L.tool('t', 'd', {}, () => 1, { aproval: 'x' });
      }, { models: { default: model } }),
      { name: 'ConfigError', message: /^L\.tool\("t"\): unknown option 'aproval' \(did you mean 'approval'\?/ },
    );
    await assert.rejects(
      run(function* () {
        yield* L.tool('t', 'd', {}, () => 1, { approval: 'writ' });
      }, { models: { default: model }, define: (ctx) => ctx.defApproval('write') }),
      { name: 'ConfigError', message: 'L.tool("t"): unknown approval "writ" (did you mean "write"? defined: write)' },
    );
  });
});

test('misuse outside option bags is a typed LmthingError too: names, schemas, mock items, provider typos', async () => {
  const typed = (fn, code, message) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof LmthingError, `${err?.name}: ${err?.message}`);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return;
    }
    assert.fail('expected an error');
  };
  typed(() => mockModel(['ok']), 'INVALID_CONFIG', /^mockModel: items\[0\] must be an object with type 'text', 'tool-call' or 'end-step', got /);
  await assert.rejects(runPrompt((ctx) => ctx.defTool('', 'd', {}, () => 1), { model: mockModel([text('x')]) }), (err) =>
    err instanceof ConfigError && err instanceof LmthingError && /^defTool: invalid name ""/.test(err.message));
  await assert.rejects(runPrompt((ctx) => ctx.defTool('t', 'd', 42, () => 1), { model: mockModel([text('x')]) }), (err) =>
    err instanceof ConfigError && /expected a zod schema or a JSON Schema object, got number 42/.test(err.message));
  await assert.rejects(runPrompt((ctx) => ctx.$`hi`, { model: 'opnai:gpt-4o' }), (err) =>
    err instanceof ValidationError && /Unknown provider 'opnai' in model 'opnai:gpt-4o' \(did you mean 'openai'\?\)/.test(err.message));
});

test('the public RunEvent union covers every event type the engine emits', async () => {
  const engine = await createEngine();
  const info = await engine.request('engine.info');
  const dts = readFileSync(resolve(import.meta.dirname, '../../dist/run/events.d.ts'), 'utf8');
  const union = dts.slice(dts.indexOf('export type RunEvent ='), dts.indexOf(';', dts.indexOf('export type RunEvent =')));
  const members = [...union.matchAll(/\b(\w+Event)\b/g)].map((m) => m[1]).filter((name) => name !== 'RunEvent');
  const typeOf = (name) => {
    const body = dts.slice(dts.indexOf(`interface ${name} `));
    return body.match(/type: '([^']+)'/)[1];
  };
  const declared = members.map(typeOf).sort();
  assert.deepEqual(declared, [...info.eventTypes].sort());
  // No public d.ts describes events with an index signature instead of the union.
  const common = readFileSync(resolve(import.meta.dirname, '../../dist/common.d.ts'), 'utf8');
  assert.ok(common.includes("export type * from './run/events.js'"));
});

test('tool options the engine knows are the ones the package accepts', async () => {
  const engine = await createEngine();
  const info = await engine.request('engine.info');
  const { toolPolicyShape } = await import('../../dist/definitions/tool-options.js');
  const wire = Object.keys(toolPolicyShape).map((k) => (k === 'timeout' ? 'timeoutMs' : k)).sort();
  assert.deepEqual(wire, [...info.toolOptions].sort());
  assert.deepEqual([...info.definitionKinds].sort(), ['approval', 'batcher', 'cache', 'circuitBreaker', 'constraint', 'context', 'fallback', 'guard', 'interaction', 'memory', 'metric', 'parallel', 'pipeline', 'resource', 'resourcePool', 'retry', 'role', 'state', 'template', 'tracing', 'validator', 'workflow']);
});
