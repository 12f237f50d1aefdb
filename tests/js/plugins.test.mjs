// defPlugin and the plugin API through the package (docs/templates-roles-plugins.md): install order
// (config plugins, then defPlugin calls) and uninstall in reverse when the run ends, a plugin that
// adds a def*, methods and tool/model interceptors, uninstall after a failed run, a failed install
// and a throwing prompt function, and conflicts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AbortError, ConfigError, mockModel, runPrompt, TimeoutError } from '../../dist/node.js';

const text = (t) => ({ type: 'text', text: t });

/** A plugin object that logs install and uninstall into `log`. */
const logged = (log, name, extra = {}) => ({
  name,
  version: '1.0.0',
  install: () => log.push(`install ${name}`),
  uninstall: () => log.push(`uninstall ${name}`),
  ...extra,
});

test('install order: config plugins, then defPlugin in call order; uninstall in reverse when the run ends', async () => {
  const log = [];
  const { result, prompt } = await runPrompt((ctx) => {
    log.push('prompt function');
    ctx.defPlugin('c', logged(log, 'c'));
    ctx.defPlugin('d', async () => {
      await Promise.resolve();
      log.push('install d (function)');
    });
    ctx.$`Hi`;
  }, {
    model: mockModel([text('hi')]),
    plugins: [(ctx) => (log.push('plugin fn'), ctx.def('from', 'fn')), logged(log, 'b')],
  });
  assert.equal(await result.text, 'hi');
  await prompt.finished;
  assert.deepEqual(log, ['plugin fn', 'install b', 'prompt function', 'install c', 'install d (function)', 'uninstall c', 'uninstall b']);
});

test('a plugin adds a def*, methods and interceptors of tool and model calls', async () => {
  const modelCalls = [];
  const audit = {
    name: 'audit',
    version: '2.1.0',
    install(ctx, api) {
      ctx.defTool('clock', 'The time', { type: 'object', properties: { zone: { type: 'string' } } }, ({ zone }) => `12:00 ${zone}`);
      api.method('lines', () => modelCalls.length);
      api.method('summarize', (n) => `summary of ${n}`, { onContext: true });
      api.interceptTool(async (call, next) => {
        const result = await next({ ...call.args, zone: call.args.zone.toUpperCase() });
        return `[${call.toolName}] ${result}`;
      });
      api.interceptModel(async ({ model, request }, next) => {
        modelCalls.push(model.modelId);
        const response = await next({ ...request, params: { ...request.params, temperature: 0 } });
        return response;
      });
    },
  };
  const model = mockModel([{ type: 'tool-call', toolName: 'clock', args: { zone: 'utc' } }, text('It is noon.')]);
  let fromContext;
  let namespaced;
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defPlugin('audit', audit);
    fromContext = ctx.summarize(3);
    namespaced = ctx.plugins.audit;
    ctx.$`Time?`;
  }, { model, temperature: 0.9 });
  assert.equal(await result.text, 'It is noon.');
  assert.equal(fromContext, 'summary of 3');
  assert.equal(namespaced.lines(), 2);
  assert.deepEqual(prompt.getTools().map((t) => t.name), ['clock']);
  assert.equal(model.calls[1].messages.find((m) => m.role === 'tool').content[0].result, '[clock] 12:00 UTC');
  assert.deepEqual(modelCalls, ['mock', 'mock']);
  assert.equal(model.calls[0].params.temperature, 0, 'the interceptor changed the request');
});

test("a plugin's methods never replace ctx's own, nor each other", async () => {
  const refused = async (install) => {
    try {
      await runPrompt((ctx) => {
        ctx.defPlugin('p', { name: 'p', version: '1.0.0', install });
      }, { model: mockModel([]) });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail('expected a ConfigError');
  };
  assert.equal(
    await refused((_ctx, api) => api.method('defTool', () => 1, { onContext: true })),
    'plugin "p": method("defTool"): ctx already has "defTool"; a plugin cannot replace it (it is at ctx.plugins.p.defTool instead)',
  );
  assert.match(await refused((_ctx, api) => (api.method('x', () => 1), api.method('x', () => 2))), /already added a method of that name/);
  assert.match(await refused((_ctx, api) => api.method('x', () => 1, { global: true })), /unknown option 'global'/);
  assert.match(await refused((_ctx, api) => api.interceptTool('nope')), /interceptTool expects a function/);
  assert.match(await refused((_ctx, api) => api.method('__proto__', () => 1)), /method\("__proto__"\): "__proto__" has a meaning of its own in JavaScript; pick another name/);
  assert.match(await refused((_ctx, api) => api.method('then', () => 1, { onContext: true })), /"then" has a meaning of its own in JavaScript \(ctx would become a promise-like\)/);
});

test('uninstall runs after a failed run, a failed install and a throwing prompt function', async () => {
  // The run fails (its role is unknown): the plugins are uninstalled all the same.
  let log = [];
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defPlugin('a', logged(log, 'a'));
    ctx.assumeRole('missing');
    ctx.$`Hi`;
  }, { model: mockModel([text('x')]) });
  await assert.rejects(result.text, /unknown role "missing"/);
  await prompt.finished;
  assert.deepEqual(log, ['install a', 'uninstall a']);

  // An install that throws: that plugin and those before it are uninstalled, and the run never starts.
  log = [];
  const model = mockModel([text('x')]);
  await assert.rejects(
    runPrompt(async (ctx) => {
      ctx.defPlugin('a', logged(log, 'a'));
      await ctx.defPlugin('b', logged(log, 'b', { install: async () => { log.push('install b'); throw new Error('b cannot start'); } }));
    }, { model }),
    /b cannot start/,
  );
  assert.deepEqual(log, ['install a', 'install b', 'uninstall b', 'uninstall a']);
  assert.equal(model.calls.length, 0);

  // The prompt function throws after installing.
  log = [];
  await assert.rejects(runPrompt((ctx) => {
    ctx.defPlugin('a', logged(log, 'a'));
    throw new Error('prompt failed');
  }, { model: mockModel([]) }), /prompt failed/);
  assert.deepEqual(log, ['install a', 'uninstall a']);
});

test('conflicts: the same plugin twice, another version, a name that is not its own, a bad version', async () => {
  const refused = async (fn) => {
    try {
      await runPrompt(fn, { model: mockModel([]) });
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail('expected a ConfigError');
  };
  const plugin = (version, name = 'cache') => ({ name, version, install: () => {} });
  assert.equal(await refused((ctx) => (ctx.defPlugin('cache', plugin('1.0.0')), ctx.defPlugin('cache', plugin('1.0.0')))), 'defPlugin("cache"): plugin "cache" is already installed');
  assert.equal(
    await refused((ctx) => (ctx.defPlugin('cache', plugin('1.0.0')), ctx.defPlugin('cache', plugin('2.0.0')))),
    'defPlugin("cache"): version conflict: plugin "cache" 1.0.0 is installed, this is 2.0.0',
  );
  assert.equal(await refused((ctx) => ctx.defPlugin('cache', plugin('1.0.0', 'store'))), 'defPlugin("cache"): the plugin calls itself "store"; install it under that name');
  assert.match(await refused((ctx) => ctx.defPlugin('cache', plugin('latest'))), /version must be a semantic version such as "1.0.0", got the string "latest"/);
  assert.match(await refused((ctx) => ctx.defPlugin('cache', { name: 'cache', version: '1.0.0', instal: () => {} })), /unknown field 'instal' \(did you mean 'install'\?/);
  assert.match(await refused((ctx) => ctx.defPlugin('cache', 5)), /expected a function or a plugin object/);
});

test("what an interceptModel passes on or makes up is checked and blamed on it, not on the model", async () => {
  const runWith = async (interceptor, items = [{ type: 'text', text: 'fine' }]) => {
    const model = mockModel(items);
    const { result } = await runPrompt((ctx) => {
      ctx.defPlugin('p', { name: 'p', version: '1.0.0', install: (_ctx, api) => api.interceptModel(interceptor) });
      ctx.$`hi`;
    }, { model, maxRetries: 0 });
    return { text: result.text, model };
  };
  // A request it broke never reaches the model.
  for (const [change, message] of [
    [(request) => ({ ...request, messages: 'x' }), `a plugin's interceptModel passed on a request without a messages array: the string "x"`],
    [(request) => ({ ...request, messages: [{ role: 'robot', content: 'x' }] }), `a plugin's interceptModel passed on a request: messages[0].role must be one of "system", "user", "assistant", "tool", got the string "robot"`],
  ]) {
    const { text, model } = await runWith(({ request }, next) => next(change(request)));
    await assert.rejects(text, (err) => err instanceof ConfigError && err.message === message);
    assert.equal(model.calls.length, 0);
  }
  // A response it made up (or none) is its own fault.
  for (const interceptor of [async () => ({ weird: 1 }), async () => undefined, async (_call, next) => ({ ...(await next(_call.request)), content: 'text' })]) {
    const { text } = await runWith(interceptor);
    await assert.rejects(text, (err) => err.name === 'ProviderError' && /^a plugin's interceptModel returned an invalid response for model "mock:mock": /.test(err.message));
  }
  // Passing on what it was given, or a changed valid response, works.
  assert.equal(await (await runWith((call, next) => next(call.request))).text, 'fine');
  assert.equal(await (await runWith(async (call, next) => ({ ...(await next(call.request)), content: [{ type: 'text', text: 'changed' }] }))).text, 'changed');
});

test("arguments an interceptTool changes are checked against the tool's parameters before the tool runs", async () => {
  const ran = [];
  const params = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
  const runWith = async (change) => {
    const { result } = await runPrompt((ctx) => {
      ctx.defTool('read', 'reads', params, (args) => (ran.push(args), `read ${args.path}`));
      ctx.defPlugin('p', { name: 'p', version: '1.0.0', install: (_ctx, api) => api.interceptTool((call, next) => next(change(call.args))) });
      ctx.$`go`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'read', args: { path: 'a' } }, { type: 'text', text: 'done' }]) });
    return (await result.steps)[0].toolResults[0].result;
  };
  // The tool ran with {path: 5} before; the model reads why instead.
  assert.deepEqual(await runWith(() => ({ path: 5 })), { error: `a plugin's interceptTool passed tool "read" arguments its parameters refuse: /path: must be string` });
  assert.deepEqual(await runWith((args) => ({ ...args, when: () => 1 })), { error: `a plugin's interceptTool passed tool "read" arguments that are not JSON: args.when is a function` });
  assert.deepEqual(ran, []);
  // Arguments passed on as they came, or changed within the schema, run the tool.
  assert.equal(await runWith((args) => args), 'read a');
  assert.equal(await runWith(() => ({ path: 'b' })), 'read b');
  assert.deepEqual(ran, [{ path: 'a' }, { path: 'b' }]);
});

test("the run's abortSignal and timeout bound a plugin install and a prompt function that never settle", async () => {
  const never = () => new Promise(() => {});
  // Not AbortSignal.timeout: its timer does not keep the process alive while everything else waits.
  const abortAfter = (ms) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), ms);
    return controller.signal;
  };
  const started = performance.now();
  await assert.rejects(
    runPrompt((ctx) => void ctx.defPlugin('stuck', { name: 'stuck', version: '1.0.0', install: never }), { model: mockModel([text('x')]), abortSignal: abortAfter(50) }),
    (e) => e instanceof AbortError,
  );
  await assert.rejects(
    runPrompt((ctx) => void ctx.defPlugin('stuck', { name: 'stuck', version: '1.0.0', install: never }), { model: mockModel([text('x')]), timeout: 50 }),
    (e) => e instanceof TimeoutError && /the prompt function and the plugins' installs had not finished when the run's timeout of 50 ms passed/.test(e.message),
  );
  const log = [];
  await assert.rejects(
    runPrompt(async (ctx) => {
      void ctx.defPlugin('audit', logged(log, 'audit'));
      await never();
    }, { model: mockModel([text('x')]), abortSignal: abortAfter(50) }),
    AbortError,
  );
  assert.deepEqual(log, ['install audit', 'uninstall audit'], 'what was installed is released');
  await assert.rejects(runPrompt({ model: mockModel([text('x')]), prompt: 'hi', plugins: [never], timeout: 50 }), TimeoutError);
  assert.ok(performance.now() - started < 5_000, 'each settles at its deadline');
  // An install that settles in time is not disturbed; the engine's own timeout then applies.
  const slow = () => new Promise((resolve) => setTimeout(resolve, 20));
  const { result } = await runPrompt((ctx) => void ctx.defPlugin('slow', { name: 'slow', version: '1.0.0', install: slow }), { model: mockModel([text('fine')]), prompt: 'hi', timeout: 5_000 });
  assert.equal(await result.text, 'fine');
  // The setup's time is the run's: a 300 ms prompt function leaves the engine 200 ms of a 500 ms timeout.
  const slowModel = { provider: 'test', modelId: 'slow', generate: (_request, { signal }) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ content: [{ type: 'text', text: 'late' }], finishReason: 'stop' }), 400);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  }) };
  const setupFirst = performance.now();
  const late = runPrompt(async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    ctx.$`hi`;
  }, { model: slowModel, timeout: 500 });
  await assert.rejects(late.then((r) => r.result.text), { name: 'TimeoutError', message: 'the run timed out after 500 ms' });
  assert.ok(performance.now() - setupFirst < 650, `ended ${performance.now() - setupFirst} ms after the start`);
});
