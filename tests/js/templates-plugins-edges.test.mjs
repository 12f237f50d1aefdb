// Templates and plugins under hostile or unusual use: includes shared by many templates are checked
// once (not once per path), includes nest to a limit instead of overflowing the engine's stack, a
// rendered text has a size limit, a def value filling a typed variable is checked; a plugin given as
// a function gets its api, a class instance is a plugin, an async uninstall finishes before the
// result, and an interceptor that changes arguments in place has them checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createEngine, mockModel, runPrompt, TemplateError } from '../../dist/node.js';

const answer = () => mockModel([{ type: 'text', text: 'ok' }]);

test('templates that each include the next twice are checked in linear time (30 levels: 2^29 paths)', async () => {
  const started = Date.now();
  const { result } = await runPrompt((ctx) => {
    for (let i = 0; i < 30; i++) ctx.defTemplate(`t${i}`, i === 29 ? 'leaf' : `{{> t${i + 1}}}{{> t${i + 1}}}`);
    ctx.$`hello`;
  }, { model: answer(), timeout: 5000 });
  assert.equal(await result.text, 'ok');
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  // Rendering it would make 2^29 copies: the size limit stops it.
  const rendering = runPrompt(async (ctx) => {
    for (let i = 0; i < 30; i++) ctx.defTemplate(`t${i}`, i === 29 ? 'leaf' : `{{> t${i + 1}}}{{> t${i + 1}}}`);
    ctx.$`${await ctx.renderTemplate('t0')}`;
  }, { model: answer() });
  await assert.rejects(rendering, (e) => e instanceof TemplateError && e.code === 'TEMPLATE_LIMIT' && /grows beyond the limit of 16 MiB/.test(e.message));
});

test("a chain of includes deeper than the limit fails that run alone with TEMPLATE_LIMIT; the engine's other runs go on", async () => {
  const engine = await createEngine();
  const slow = runPrompt((ctx) => {
    ctx.defTool('slow', 'Slow', { type: 'object', properties: {} }, () => new Promise((resolve) => setTimeout(() => resolve('done'), 300)));
    ctx.$`A`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'slow', args: {} }, { type: 'text', text: 'A finished' }]), engine }).then(({ result }) => result.text);
  const deep = runPrompt((ctx) => {
    for (let i = 0; i < 8000; i++) ctx.defTemplate(`t${i}`, i === 7999 ? 'end' : `{{> t${i + 1}}}`);
    ctx.$`B`;
  }, { model: answer(), engine }).then(({ result }) => result.text);
  await assert.rejects(deep, (e) => e instanceof TemplateError && e.code === 'TEMPLATE_LIMIT' && /includes nest deeper than the limit of 64 levels/.test(e.message));
  assert.equal(await slow, 'A finished');
  // 64 levels are fine.
  const { result } = await runPrompt(async (ctx) => {
    for (let i = 0; i < 64; i++) ctx.defTemplate(`t${i}`, i === 63 ? 'end' : `{{> t${i + 1}}}`);
    ctx.$`${await ctx.renderTemplate('t0')}`;
  }, { model: answer(), engine });
  assert.equal(await result.text, 'ok');
});

test('a declared variable filled from a def of its name is checked against its type and values', async () => {
  const render = (defs, declared) => runPrompt(async (ctx) => {
    for (const [name, value] of Object.entries(defs)) ctx.def(name, value);
    ctx.defTemplate('t', 'value={{v}}', { v: declared });
    ctx.$`${await ctx.renderTemplate('t')}`;
  }, { model: answer() });
  await assert.rejects(render({ v: 'paranoid' }, { type: 'enum', values: ['basic', 'strict'] }), (e) => e.code === 'TEMPLATE_BAD_ENUM_VALUE' && /variable "v" must be one of .*got "paranoid" from the def of that name/.test(e.message));
  await assert.rejects(render({ v: 'seven' }, { type: 'number' }), (e) => e.code === 'TEMPLATE_WRONG_TYPE' && /must be a number, got "seven"/.test(e.message));
  await assert.rejects(render({ v: 'yes' }, { type: 'boolean' }), (e) => e.code === 'TEMPLATE_WRONG_TYPE');
  for (const [value, declared] of [['strict', { type: 'enum', values: ['basic', 'strict'] }], ['7.5', { type: 'number' }], ['true', { type: 'boolean' }], ['anything', { type: 'string' }]])
    assert.equal(await (await render({ v: value }, declared)).result.text, 'ok');
});

test("useTemplate with something that is neither a name nor a template's reference names it", async () => {
  for (const bad of [42, true, undefined, { nam: 'x' }])
    await assert.rejects(runPrompt(async (ctx) => ctx.useTemplate(bad), { model: answer() }), (e) => e instanceof ConfigError && /useTemplate: expected a template's name or the reference defTemplate returned, got/.test(e.message));
});

test("plugins: a function in the config gets (ctx, api); a class instance is a plugin; an async uninstall ends before the result", async () => {
  let uninstalled = false;
  class Counter {
    calls = 0;
    name = 'counter';
    version = '1.0.0';
    install(ctx, api) {
      api.method('count', () => ++this.calls);
    }
    async uninstall() {
      await new Promise((resolve) => setTimeout(resolve, 100));
      uninstalled = true;
    }
  }
  let seenApi;
  const { result, prompt } = await runPrompt((ctx) => {
    assert.equal(ctx.plugins.counter.count(), 1);
    assert.equal(ctx.plugins.helper.twice(2), 4);
    ctx.$`x`;
  }, {
    model: answer(),
    plugins: [
      function helper(ctx, api) {
        seenApi = api;
        api.method('twice', (n) => n * 2);
      },
      new Counter(),
    ],
  });
  assert.equal(await result.text, 'ok');
  assert.equal(seenApi.name, 'helper');
  assert.equal(uninstalled, true, 'the async uninstall finished before the result settled');
  await prompt.finished;
});

test('a tool interceptor that changes the arguments in place has them checked against the parameters', async () => {
  const ran = [];
  const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'], additionalProperties: false };
  const model = mockModel([{ type: 'tool-call', toolName: 'square', args: { n: 3 } }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('square', 'n squared', schema, (args) => (ran.push(args), args.n ** 2));
    ctx.defPlugin('p', {
      name: 'p',
      version: '1.0.0',
      install(_ctx, api) {
        api.interceptTool((call, next) => {
          call.args.n = 'three';
          return next(call.args);
        });
      },
    });
    ctx.$`x`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.deepEqual(ran, []);
  assert.match(JSON.stringify(model.calls[1].messages.at(-1).content[0].result), /its parameters refuse/);
});

test("a template's reference interpolated into a message is refused: it would be a tag naming nothing", async () => {
  await assert.rejects(
    runPrompt((ctx) => {
      const greeting = ctx.defTemplate('greeting', 'Hello {{name}}', { name: { type: 'string', default: 'Ada' } });
      ctx.$`Please say ${greeting}`;
    }, { model: answer() }),
    (e) => e instanceof ConfigError && /interpolated value #1 is the reference of template "greeting", which would be sent as "<greeting>" and name nothing; render it first/.test(e.message),
  );
  // Rendered, it is the text.
  const { result } = await runPrompt(async (ctx) => {
    const greeting = ctx.defTemplate('greeting', 'Hello {{name}}', { name: { type: 'string', default: 'Ada' } });
    ctx.$`Please say ${await ctx.renderTemplate(greeting)}`;
  }, { model: answer() });
  assert.equal(await result.text, 'ok');
});
