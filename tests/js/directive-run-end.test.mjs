// A directive run ends when it should and says why, and refuses what it would drop: an abort or timeout while an async agent awaits
// its own work (not a directive) rejects the run at once; an onApproval that returns nothing, in a
// run that has no approvals.respond, applies the default action instead of waiting for ever; the
// error of an agent that throws is in the run's events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { AbortError, L, mockModel, run, TimeoutError } from '../../dist/node.js';

const models = () => ({ default: mockModel([{ type: 'text', text: 'x' }]) });
const never = () => new Promise(() => {});

test("aborting a run whose async agent (or a branch of it) awaits its own work rejects it at once; the agent's finally runs", async () => {
  for (const [name, agent] of [
    ['root', async function* () {
      yield* L.user`x`;
      await never();
    }],
    ['branch', async function* () {
      yield* L.user`x`;
      return yield* L.branch(async function* () {
        await never();
      });
    }],
  ]) {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await assert.rejects(run(agent, { models: models(), signal: controller.signal }), (e) => e instanceof AbortError, name);
    assert.ok(Date.now() - started < 1000, `${name}: rejected after ${Date.now() - started} ms`);
  }
  // An agent whose work does settle later is told to return then: its finally blocks run.
  const controller = new AbortController();
  let cleaned = false;
  const agent = async function* () {
    try {
      yield* L.user`x`;
      await new Promise((resolve) => setTimeout(resolve, 150));
      yield* L.user`never sent`;
    } finally {
      cleaned = true;
    }
  };
  setTimeout(() => controller.abort(), 30);
  await assert.rejects(run(agent, { models: models(), signal: controller.signal }), AbortError);
  assert.equal(cleaned, false);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(cleaned, true);
});

test('a run timeout ends a run whose async agent awaits its own work', async () => {
  const started = Date.now();
  await assert.rejects(
    run(async function* () {
      yield* L.user`x`;
      await never();
    }, { models: models(), timeout: 100 }),
    (e) => e instanceof TimeoutError && /100 ms/.test(e.message),
  );
  assert.ok(Date.now() - started < 1000, `rejected after ${Date.now() - started} ms`);
});

test('onApproval returning nothing in a directive run applies the default action with the reason, instead of waiting for ever', async () => {
  const decisions = [];
  const value = await run(function* () {
    yield* L.tool('write', 'Writes a file', z.object({ p: z.string() }), ({ p }) => `wrote ${p}`, { approval: 'w' });
    return yield* L.call('write', { p: 'x' });
  }, {
    models: { default: mockModel([]) },
    define: (ctx) => ctx.defApproval('w', {}),
    onApproval: () => undefined,
    onEvent: (e) => e.type === 'approval-decision' && decisions.push(e),
  }).catch((e) => e);
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0].action, 'deny');
  assert.match(decisions[0].reason, /onApproval returned nothing .*no approvals\.respond/);
  assert.notEqual(value, 'wrote x');
});

test("an agent that throws: the run's error and run-finish events carry its message", async () => {
  const events = [];
  await assert.rejects(
    run(function* () {
      yield* L.user`x`;
      throw new RangeError('quota 7 exceeded');
    }, { models: models(), onEvent: (e) => events.push(e) }),
    /quota 7 exceeded/,
  );
  const finish = events.find((e) => e.type === 'run-finish');
  assert.equal(finish.ok, false);
  assert.equal(finish.error.message, 'quota 7 exceeded');
});

test("a Set of directives runs as an agent; a bad iterator result, a directive's extra arguments and a reversed mark range are refused by name", async () => {
  const model = mockModel([{ type: 'text', text: 'hello' }]);
  await run(new Set([L.system`Be brief.`, L.user`Hi`, L.reply]), { models: { default: model } });
  assert.deepEqual(model.calls[0].messages.map((m) => m.role), ['system', 'user']);
  await assert.rejects(run({ next: () => 5 }, { models: models() }), /an agent's iterator returned number 5 from next\(\), not an iterator result/);
  const schema = z.object({ n: z.number() });
  assert.throws(() => L.reply(schema, { maxSteps: 1 }), /L\.reply\(schema\) takes no more arguments, got 1 more/);
  assert.throws(() => L.infer(schema, 2), /L\.infer\(schema\) takes no more arguments/);
  assert.throws(() => L.stream(schema, 2), /L\.stream\(schema\) takes no more arguments/);
  assert.throws(() => L.event('a', 1, 2), /L\.event\(name, data\) takes no more arguments, got 1 more/);
  await assert.rejects(
    run(function* () {
      const a = yield* L.mark;
      yield* L.user`x`;
      const b = yield* L.mark;
      return yield* L.messages(b.to(a));
    }, { models: models() }),
    /mark\.to: the end mark \(at 0 messages\) comes before this one \(at 1\); write start\.to\(end\)/,
  );
});

test('a signal shared by many directive runs keeps no listener of a run that ended', async () => {
  const { getEventListeners } = await import('node:events');
  const controller = new AbortController();
  const before = getEventListeners(controller.signal, 'abort').length;
  for (let i = 0; i < 20; i++)
    await run(async function* () {
      yield* L.user`x`;
      return yield* L.reply;
    }, { models: models(), signal: controller.signal });
  assert.equal(getEventListeners(controller.signal, 'abort').length, before);
});
