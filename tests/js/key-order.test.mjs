// Object keys keep the order the model and the user wrote them in, through the engine and back
// (issue 19: the engine's JSON keeps written order; equality and cache keys ignore it).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { L, mockModel, run, runPrompt } from '../../dist/node.js';

const keysDeep = (value) =>
  Array.isArray(value) ? value.map(keysDeep)
    : value && typeof value === 'object' ? Object.entries(value).map(([k, v]) => [k, keysDeep(v)])
      : value;

const schema = {
  type: 'object',
  properties: { zeta: { type: 'number' }, alpha: { type: 'object', properties: { y: { type: 'number' }, b: { type: 'number' } } } },
  required: ['zeta', 'alpha'],
};

test('tool arguments, tool results and tool schemas keep their written key order', async () => {
  const args = { zeta: 1, alpha: { y: 2, b: 3 } };
  const model = mockModel([{ type: 'tool-call', toolName: 'pick', args }, { type: 'text', text: 'ok' }]);
  const seen = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('pick', 'picks', schema, (a) => {
      seen.push(a);
      return { zulu: true, apple: [{ m: 1, c: 2 }] };
    });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(keysDeep(seen[0]), keysDeep(args), 'the callback gets the model\'s order');
  assert.equal(JSON.stringify(seen[0]), JSON.stringify(args));

  const steps = await result.steps;
  assert.equal(JSON.stringify(steps[0].toolCalls[0].args), '{"zeta":1,"alpha":{"y":2,"b":3}}');
  assert.equal(JSON.stringify(steps[0].toolResults[0].result), '{"zulu":true,"apple":[{"m":1,"c":2}]}');

  // What goes back to the model: its own call as it wrote it, the result as the tool returned it.
  const second = model.calls[1].messages;
  const call = second.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((p) => p.type === 'tool-call');
  const res = second.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((p) => p.type === 'tool-result');
  assert.equal(JSON.stringify(call.args), '{"zeta":1,"alpha":{"y":2,"b":3}}');
  assert.equal(JSON.stringify(res.result), '{"zulu":true,"apple":[{"m":1,"c":2}]}');
  // The tool's schema reaches the provider with its properties in the user's order.
  assert.deepEqual(Object.keys(model.calls[0].tools[0].parameters.properties), ['zeta', 'alpha']);
  assert.deepEqual(Object.keys(model.calls[0].tools[0].parameters.properties.alpha.properties), ['y', 'b']);
});

test('L.reply(schema).value keeps the order of the model\'s JSON', async () => {
  const Verdict = z.object({ reason: z.string(), score: z.number(), tags: z.array(z.string()) });
  const model = mockModel([{ type: 'text', text: '{"score": 7, "tags": ["x"], "reason": "fine"}' }]);
  const value = await run(function* () {
    yield* L.user`judge`;
    return (yield* L.reply(Verdict)).value;
  }, { models: { default: model } });
  assert.deepEqual(Object.keys(value), ['score', 'tags', 'reason']);
  assert.deepEqual(value, { reason: 'fine', score: 7, tags: ['x'] });
  // The response schema travels in the user's property order too.
  const format = model.calls[0].responseFormat;
  assert.deepEqual(Object.keys(format.schema.properties), ['reason', 'score', 'tags']);
});

test('a cache answers the same arguments written in another key order', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'lookup', args: { b: 1, a: 2 } },
    { type: 'tool-call', toolName: 'lookup', args: { a: 2, b: 1 } },
    { type: 'tool-call', toolName: 'lookup', args: { a: 2, b: 3 } },
    { type: 'text', text: 'done' },
  ]);
  let executions = 0;
  const { result } = await runPrompt((ctx) => {
    ctx.defCache('lookups', 'lru', { maxSize: 10 });
    ctx.defTool('lookup', 'looks up', { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } }, ({ a, b }) => {
      executions++;
      return a + b;
    }, { cache: 'lookups' });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.equal(executions, 2, '{b:1,a:2} and {a:2,b:1} are one entry; {a:2,b:3} another');
});

test('an object with 200,000 keys crosses the engine both ways in its order (a quadratic map would take minutes)', { timeout: 30_000 }, async () => {
  const huge = {};
  for (let i = 199_999; i >= 0; i--) huge[`k${i}`] = i;
  const args = {};
  for (let i = 0; i < 50_000; i++) args[`a${(i * 7919) % 50_000}`] = i;
  const model = mockModel([{ type: 'tool-call', toolName: 'echo', args }, { type: 'text', text: 'ok' }]);
  let received;
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('echo', 'echoes', { type: 'object' }, (a) => {
      received = a;
      return huge;
    });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(Object.keys(received), Object.keys(args));
  const sent = model.calls[1].messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((p) => p.type === 'tool-result');
  assert.deepEqual(Object.keys(sent.result), Object.keys(huge));
  assert.equal(sent.result.k0, 0);
});
