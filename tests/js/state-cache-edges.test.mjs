// State, caches and pools where work could be lost without a word: updateState keeps changes made
// to the live value before it, a corrupt cache record under onStorageError: 'fail' says what happens, a
// pool's destroy that throws is reported, and writing a state after its run ended is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine, memoryStorage, mockModel, NotRunningError, runPrompt } from '../../dist/node.js';

const callTool = (name) => mockModel([{ type: 'tool-call', toolName: name, args: {} }, { type: 'text', text: 'done' }]);
const noArgs = { type: 'object', properties: {} };

test('updateState keeps the changes made to the live value before it (they are saved first)', async () => {
  const engine = await createEngine();
  const storage = memoryStorage();
  await storage.set('state:global:cart', { items: ['apple'], count: 0 });
  let after;
  const { result } = await runPrompt((ctx) => {
    ctx.defState('cart', { items: [], count: 0 }, { persist: true, scope: 'global' });
    ctx.defTool('add', 'Adds', noArgs, async () => {
      ctx.getState('cart').items.push('banana');
      await ctx.updateState('cart', (v) => ({ ...v, count: v.count + 1 }));
      after = JSON.parse(JSON.stringify(ctx.getState('cart')));
      return 'ok';
    });
    ctx.$`go`;
  }, { model: callTool('add'), engine, storage });
  assert.equal(await result.text, 'done');
  assert.deepEqual(after, { items: ['apple', 'banana'], count: 1 });
  assert.deepEqual((await storage.get('state:global:cart')).value, { items: ['apple', 'banana'], count: 1 });
});

test("a stored record that is not a cache entry: under onStorageError: 'fail' the error says the call fails until it is gone (not that it is overwritten)", async () => {
  const engine = await createEngine();
  const storage = memoryStorage();
  await storage.set('cache:c:tool:A:{}', { something: 'not a cache entry' });
  const errors = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defCache('c', 'persistent', { onStorageError: 'fail' });
    ctx.defTool('A', 'A', noArgs, async () => 'fresh value', { cache: 'c' });
    ctx.$`go`;
  }, { model: callTool('A'), engine, storage, onEvent: (e) => e.type === 'tool-error' && errors.push(e) });
  assert.equal(await result.text, 'done');
  assert.match(String(errors[0]?.error), /with onStorageError: 'fail' the call fails until the record is deleted or replaced/);
  assert.doesNotMatch(String(errors[0]?.error), /will be overwritten/);
});

test("a pool's destroy that throws is reported as a failed clean-up, and pool-drained counts it apart", async () => {
  const events = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defResourcePool('p', () => ({ conn: 1 }), { max: 1, destroy: () => { throw new Error('destroy boom'); } });
    ctx.defTool('go', 'Go', noArgs, async (_args, { resources }) => {
      const value = await resources.acquire('p');
      await resources.release('p', value);
      return 'ok';
    });
    ctx.$`go`;
  }, { model: callTool('go'), onEvent: (e) => /^(pool|resource)/.test(e.type) && events.push(e) });
  assert.equal(await result.text, 'done');
  const cleanup = events.find((e) => e.type === 'resource-cleanup');
  assert.deepEqual([cleanup.pool, cleanup.ok], ['p', false]);
  assert.match(cleanup.error, /destroy boom/);
  const drained = events.find((e) => e.type === 'pool-drained');
  assert.deepEqual([drained.destroyed, drained.failed], [0, 1]);
});

test('setState and saveState after the run ended are refused (nothing would write them)', async () => {
  let saved;
  const { result } = await runPrompt((ctx) => {
    saved = ctx;
    ctx.defState('n', { n: 1 }, { persist: true, scope: 'global' });
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]), storage: memoryStorage() });
  await result.text;
  await assert.rejects(saved.saveState('n'), (e) => e instanceof NotRunningError && /ctx\.saveState\("n"\): the run has ended/.test(e.message));
  assert.throws(() => saved.setState('n', { n: 2 }), (e) => e instanceof NotRunningError);
  assert.deepEqual(JSON.parse(JSON.stringify(saved.getState('n'))), { n: 1 });
});

test('releasing into a misspelt pool says which pools the call holds values of', async () => {
  const errors = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defResourcePool('conns', () => ({ conn: 1 }), { max: 1 });
    ctx.defTool('go', 'Go', noArgs, async (_args, { resources }) => {
      const value = await resources.acquire('conns');
      await resources.release('conn', value).catch((e) => errors.push(e));
      await resources.release('conns', value);
      return 'ok';
    });
    ctx.$`go`;
  }, { model: callTool('go') });
  assert.equal(await result.text, 'done');
  assert.equal(errors[0].code, 'RESOURCE_NOT_ACQUIRED');
  assert.match(errors[0].message, /not acquired from resource pool "conn" \(it was acquired from resource pool "conns"\)/);
});
