// defState and defCache through the package (docs/state-and-caches.md): the seed examples as
// written, state read and written by tools, persisted state surviving a process restart (file and
// Redis), two processes updating one counter through Redis, a cached tool running once for 100
// identical calls, a cached model call replaying its text, and the typed errors for bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import {
  ConfigError, createEngine, fileStorage, memoryStorage, mockModel, redisStorage, registerStorage, runPrompt, StateError, StorageError,
} from '../../dist/node.js';
import { runChild } from './helpers/cross-process.mjs';
import { startRedis } from './helpers/redis-server.mjs';

const stateChild = new URL('./helpers/state-child.mjs', import.meta.url);
const object = { type: 'object', properties: {} };

let redis;
const dirs = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-state-'));
  dirs.push(dir);
  return dir;
}

/** Runs tests/js/helpers/state-child.mjs (a fresh process each time). */
async function child(adapter, ...args) {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [stateChild.pathname, JSON.stringify(adapter), ...args.map(String)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (err += d));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`state child exited with ${code}: ${err}`))));
  });
}

/** A model that answers its first call with `parts` (tool calls at once), then with `text`. */
function parallelModel(parts, text = 'done') {
  let calls = 0;
  return {
    provider: 'test',
    modelId: 'parallel',
    get calls() {
      return calls;
    },
    async generate() {
      calls++;
      const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
      if (calls === 1) return { content: parts, finishReason: 'tool-calls', usage };
      return { content: [{ type: 'text', text }], finishReason: 'stop', usage };
    },
  };
}

// ------------------------------------------------------------------------------ defState

test('seed: defState userPreferences, changed and saved in the prompt function as written', async () => {
  const engine = await createEngine();
  const storage = memoryStorage();
  let ctxRef;
  const { result } = await runPrompt(
    async (ctx) => {
      ctxRef = ctx;
      ctx.defState('userPreferences', {
        language: 'typescript',
        frameworks: ['react', 'nextjs'],
        codeStyle: 'functional'
      }, {
        persist: true,
        scope: 'session'
      });

      // Access and modify state
      ctx.getState('userPreferences').codeStyle = 'imperative';
      await ctx.saveState('userPreferences');
      ctx.$`Hello`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine, storage, sessionId: 'alice' },
  );
  assert.equal(await result.text, 'ok');
  const stored = await storage.get('state:session:alice:userPreferences');
  assert.deepEqual(stored.value, { language: 'typescript', frameworks: ['react', 'nextjs'], codeStyle: 'imperative' });
  // After the run, getState gives the final value (a plain copy).
  assert.equal(ctxRef.getState('userPreferences').codeStyle, 'imperative');

  // A second run of the same session starts from the stored value.
  let seen;
  const second = await runPrompt(
    (ctx) => {
      ctx.defState('userPreferences', { language: 'typescript', frameworks: [], codeStyle: 'functional' }, { persist: true, scope: 'session' });
      ctx.defTool('prefs', 'Reads the preferences', object, () => {
        seen = JSON.parse(JSON.stringify(ctx.getState('userPreferences'))); // a live object (a Proxy): structuredClone cannot copy it
        return 'read';
      });
      ctx.$`Read them.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'prefs' }, { type: 'text', text: 'ok' }]), engine, storage, sessionId: 'alice' },
  );
  await second.result.text;
  assert.deepEqual(seen, { language: 'typescript', frameworks: ['react', 'nextjs'], codeStyle: 'imperative' });
});

test('seed: the sessionState of the complete example, persisted per session', async () => {
  const engine = await createEngine();
  const storage = memoryStorage();
  const { result, prompt } = await runPrompt(
    (ctx) => {
      ctx.defState('sessionState', {
        filesModified: [],
        tasksCompleted: [],
        userPreferences: {}
      }, { persist: true, scope: 'session' });
      ctx.defTool('writeFile', 'Write to file', { type: 'object', properties: { path: { type: 'string' } } }, async ({ path }) => {
        ctx.getState('sessionState').filesModified.push(path);
        return { success: true };
      });
      ctx.$`Write a file.`;
    },
    {
      model: mockModel([{ type: 'tool-call', toolName: 'writeFile', args: { path: 'a.ts' } }, { type: 'tool-call', toolName: 'writeFile', args: { path: 'b.ts' } }, { type: 'text', text: 'ok' }]),
      engine,
      storage,
      sessionId: 's-1',
    },
  );
  await result.text;
  assert.deepEqual((await storage.get('state:session:s-1:sessionState')).value.filesModified, ['a.ts', 'b.ts']);
  const types = prompt.events.map((e) => e.type);
  assert.ok(types.includes('state-loaded'));
  assert.ok(types.includes('state-saved'));
});

test('state is shared by tools and sub-agents, and setState replaces it', async () => {
  const engine = await createEngine();
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defState('log', []);
      ctx.defTool('note', 'Notes', object, () => {
        ctx.getState('log').push('parent');
        return 'ok';
      });
      ctx.defAgent('helper', 'Helps', object, (args, child) => {
        child.defTool('note2', 'Notes', object, () => {
          child.getState('log').push('child');
          return 'ok';
        });
        child.$`Help.`;
      });
      ctx.defTool('reset', 'Resets', object, () => {
        ctx.setState('log', ['reset', ...ctx.getState('log')]);
        return ctx.getState('log').length;
      });
      ctx.$`Go.`;
    },
    {
      model: mockModel([
        { type: 'tool-call', toolName: 'note' },
        { type: 'tool-call', toolName: 'helper' },
        { type: 'tool-call', toolName: 'note2' },
        { type: 'text', text: 'child done' },
        { type: 'end-step' },
        { type: 'tool-call', toolName: 'reset' },
        { type: 'text', text: 'ok' },
      ]),
      engine,
    },
  );
  const steps = await result.steps;
  const resetResult = steps.flatMap((s) => s.toolResults).find((r) => r.toolName === 'reset');
  assert.equal(resetResult.result, 3);
});

test('guards read state through their context (ctx.state)', async () => {
  const engine = await createEngine();
  let used = 0;
  const { result, prompt } = await runPrompt(
    (ctx) => {
      ctx.defState('quota', { left: 1 });
      ctx.defGuard('hasQuota', (g) => g.state.quota.left > 0, { onFail: 'skip' });
      ctx.defTool('use', 'Uses quota', object, () => {
        used++;
        ctx.getState('quota').left -= 1;
        return 'used';
      }, { guards: ['hasQuota'] });
      ctx.$`Use it twice.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'use' }, { type: 'tool-call', toolName: 'use' }, { type: 'text', text: 'ok' }]), engine },
  );
  await result.text;
  assert.equal(used, 1);
  assert.deepEqual(prompt.events.filter((e) => e.type === 'guard').map((e) => e.passed), [true, false]);
});

test('state survives a process restart: file storage', async () => {
  const adapter = { kind: 'file', dir: tempDir() };
  assert.equal(JSON.parse(await child(adapter, 'count', 'sess')).count, 1);
  const second = JSON.parse(await child(adapter, 'count', 'sess'));
  assert.equal(second.count, 2);
  assert.equal(second.seenBy.length, 2);
  assert.notEqual(second.seenBy[0], second.seenBy[1]); // two different processes
  assert.equal(JSON.parse(await child(adapter, 'count', 'other')).count, 1); // another session starts afresh
});

test('state survives a process restart: Redis', async () => {
  const adapter = { kind: 'redis', url: redis.url, keyPrefix: `state${process.pid}:` };
  assert.equal(JSON.parse(await child(adapter, 'count', 'sess')).count, 1);
  assert.equal(JSON.parse(await child(adapter, 'count', 'sess')).count, 2);
});

test('two processes updating one state through Redis lose no update (updateState retries on conflict)', async () => {
  const adapter = { kind: 'redis', url: redis.url, keyPrefix: `total${process.pid}:` };
  await Promise.all([child(adapter, 'update', 15), child(adapter, 'update', 15)]);
  const storage = redisStorage({ url: redis.url, keyPrefix: adapter.keyPrefix });
  try {
    assert.equal((await storage.get('state:global:total')).value, 30);
  } finally {
    await storage.close();
  }
});

test('a state is JSON: bad values are StateErrors naming the state; the value stays as it was', async () => {
  const engine = await createEngine();
  const { result } = await runPrompt(
    (ctx) => {
      assert.throws(() => ctx.defState('bad', { f: () => 1 }), (e) => e instanceof StateError && /bad/.test(e.message) && e.code === 'STORAGE_UNSERIALIZABLE');
      ctx.defState('prefs', { a: 1 });
      assert.throws(() => (ctx.getState('prefs').when = new Date()), (e) => e instanceof StateError && e.state === 'prefs');
      assert.throws(() => ctx.setState('prefs', { n: NaN }), StateError);
      assert.deepEqual(ctx.getState('prefs'), { a: 1 });
      // A member set to undefined is left out, as JSON and setState leave it out; an array has no such hole.
      ctx.defState('opts', { a: 1, b: { c: 2 }, list: [1] });
      ctx.getState('opts').a = undefined;
      ctx.getState('opts').b.c = undefined;
      assert.equal(JSON.stringify(ctx.getState('opts')), '{"b":{},"list":[1]}');
      assert.throws(() => (ctx.getState('opts').list[0] = undefined), (e) => e instanceof StateError && e.state === 'opts' && /opts\.list\[0\] is undefined/.test(e.message));
      assert.throws(() => ctx.getState('nope'), (e) => e instanceof ConfigError && /prefs/.test(e.message));
      assert.throws(() => ctx.defState('x', 1, { ttl: 5 }), (e) => e instanceof ConfigError && /persist/.test(e.message));
      assert.throws(() => ctx.defState('y', 1, { scope: 'galaxy' }), ConfigError);
      ctx.$`Hi`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  );
  await result.text;
  // Persisted session state without a sessionId fails the run, naming the fix.
  const { result: failing } = await runPrompt(
    (ctx) => {
      ctx.defState('s', 1, { persist: true });
      ctx.$`Hi`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  );
  await assert.rejects(failing.text, (e) => e instanceof ConfigError && /state "s": scope 'session' needs a sessionId/.test(e.message));
});

/** An object nested `levels` deep ({} is one level). */
function nested(levels) {
  let value = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

test('a state nested deeper than the engine takes is refused at the write, naming the state and the limit; what was written before is kept', async () => {
  const storage = memoryStorage();
  const tooDeep = (state, limit) => (e) =>
    e instanceof StateError && e.code === 'STORAGE_UNSERIALIZABLE' && e.state === state && e.message.includes(`nested deeper than the limit of ${limit} levels`);
  const { result } = await runPrompt(
    (ctx) => {
      assert.throws(() => ctx.defState('initial', { x: nested(5000) }), tooDeep('initial', 990));
      ctx.defState('prefs', { n: 0 }, { persist: true, scope: 'global' });
      assert.throws(() => (ctx.getState('prefs').x = nested(990)), tooDeep('prefs', 990)); // the state's own level + 990
      assert.throws(() => ctx.setState('prefs', nested(991)), tooDeep('prefs', 990));
      ctx.getState('prefs').x = nested(989); // 990 levels in all: the deepest a state may be
      ctx.defTool('write', 'writes', object, () => {
        ctx.getState('prefs').n = 1;
        ctx.getState('prefs').y = nested(3000);
      });
      ctx.$`Hi`;
    },
    {
      model: mockModel([{ type: 'tool-call', toolName: 'write', args: {} }, { type: 'text', text: 'ok' }]),
      storage,
    },
  );
  assert.equal(await result.text, 'ok');
  const written = (await result.steps)[0].toolResults[0];
  assert.equal(written.isError, true, 'the tool that wrote the deep value failed');
  assert.match(written.result.error, /state "prefs": prefs\.y\.a\.a.*… is nested deeper than the limit of 990 levels/);
  // What the run wrote before the refused write reached storage, and reads back whole in the next run.
  const stored = (await storage.get('state:global:prefs'))?.value;
  assert.equal(stored.n, 1);
  assert.equal(stored.y, undefined);
  let depth = 0;
  for (let v = stored.x; typeof v === 'object'; v = v.a) depth++;
  assert.equal(depth, 989);
  const { result: again } = await runPrompt(
    (ctx) => {
      ctx.defState('prefs', {}, { persist: true, scope: 'global' });
      ctx.defTool('read', 'reads', object, () => JSON.stringify(ctx.getState('prefs')).length);
      ctx.$`Hi`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'read', args: {} }, { type: 'text', text: 'ok' }]), storage },
  );
  assert.equal((await again.steps)[0].toolResults[0].result, JSON.stringify(stored).length);
  // An engine with a lower limit lowers the states' limit with it.
  const engine = await createEngine({ limits: { jsonDepth: 100 } });
  const { result: low } = await runPrompt(
    (ctx) => {
      ctx.defState('small', {});
      ctx.defTool('write', 'writes', object, () => {
        ctx.getState('small').x = nested(95);
      });
      ctx.$`Hi`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'write', args: {} }, { type: 'text', text: 'ok' }]), engine },
  );
  const lowResult = (await low.steps)[0].toolResults[0];
  assert.equal(lowResult.isError, true);
  assert.match(lowResult.result.error, /nested deeper than the limit of 90 levels/);
});

test('a corrupted stored state fails the run before the model is called, with a StateError naming state and key', async () => {
  const engine = await createEngine();
  const storage = memoryStorage();
  await storage.set('state:global:cfg', 'not json {');
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defState('cfg', {}, { persist: true, scope: 'global', serialize: (v) => JSON.stringify(v), deserialize: (s) => JSON.parse(s) });
      ctx.$`Hi`;
    },
    { model, engine, storage },
  );
  await assert.rejects(result.text, (e) => e instanceof StateError && e.code === 'STORAGE_CORRUPT' && e.state === 'cfg' && e.key === 'state:global:cfg');
  assert.equal(model.calls.length, 0);
});

test('an unknown storage name is a StorageError naming the registered ones', async () => {
  const engine = await createEngine();
  await assert.rejects(
    runPrompt((ctx) => ctx.$`Hi`, { model: mockModel([]), engine, storage: 'redis-typo' }),
    (e) => e instanceof StorageError && e.code === 'STORAGE_UNKNOWN' && /memory/.test(e.message),
  );
});

// ------------------------------------------------------------------------------ defCache

test('a cached tool runs once for 100 identical concurrent calls', async () => {
  const engine = await createEngine();
  let executions = 0;
  const parts = Array.from({ length: 100 }, (_, i) => ({ type: 'tool-call', toolCallId: `c${i}`, toolName: 'slow', args: { q: 'same' } }));
  const { result, prompt } = await runPrompt(
    (ctx) => {
      ctx.defCache('results', 'lru', { maxSize: 10 });
      ctx.defTool('slow', 'Slow lookup', { type: 'object', properties: { q: { type: 'string' } } }, async ({ q }) => {
        executions++;
        await new Promise((r) => setTimeout(r, 20));
        return { answer: q.toUpperCase() };
      }, { cache: 'results' });
      ctx.$`Look it up a hundred times.`;
    },
    { model: parallelModel(parts), engine },
  );
  const steps = await result.steps;
  assert.equal(executions, 1);
  const results = steps[0].toolResults;
  assert.equal(results.length, 100);
  for (const r of results) assert.deepEqual(r.result, { answer: 'SAME' });
  const hits = prompt.events.filter((e) => e.type === 'cache-hit');
  assert.equal(hits.length, 99);
  assert.equal(prompt.events.filter((e) => e.type === 'cache-miss').length, 1);
  assert.ok(hits.every((h) => h.cache === 'results' && h.toolName === 'slow'));
});

test('a cached model call replays the recorded text (and its tool calls) without calling the model', async () => {
  const engine = await createEngine();
  let toolRuns = 0;
  const model = mockModel([{ type: 'tool-call', toolName: 'clock' }, { type: 'text', text: 'It is noon in Paris.' }]);
  const prompt = (ctx) => {
    ctx.defCache('answers', 'lru');
    ctx.defTool('clock', 'Time', object, () => {
      toolRuns++;
      return '12:00';
    });
    ctx.$`What time is it in Paris?`;
  };
  const first = await runPrompt(prompt, { model, engine, cache: 'answers' });
  assert.equal(await first.result.text, 'It is noon in Paris.');
  assert.equal(model.calls.length, 2);

  const second = await runPrompt(prompt, { model, engine, cache: 'answers' });
  let streamed = '';
  for await (const delta of second.result.textStream) streamed += delta;
  assert.equal(streamed, 'It is noon in Paris.');
  assert.equal(model.calls.length, 2); // no new model call
  assert.equal(toolRuns, 2); // the replayed tool call ran the tool again
  const hits = second.prompt.events.filter((e) => e.type === 'cache-hit' && e.target === 'model');
  assert.equal(hits.length, 2);
  assert.equal((await second.result.usage).totalTokens, 0);
});

test('seed: defCache responseCache (lru with a keyGenerator) and embeddingCache (persistent on Redis, compressed)', async () => {
  const engine = await createEngine();
  const redisAdapter = redisStorage({ url: redis.url, keyPrefix: `cache${process.pid}:` });
  registerStorage(engine, 'redis', redisAdapter);
  let embeds = 0;
  const schema = { type: 'object', properties: { text: { type: 'string' } } };
  const executor = async ({ text }) => {
    embeds++;
    return Array.from({ length: 64 }, (_, i) => text.length * i);
  };
  const promptFn = (ctx) => {
    ctx.defCache('responseCache', 'lru', {
      maxSize: 1000,
      ttl: 3600000, // 1 hour
      keyGenerator: (args) => JSON.stringify(args),
      storage: 'memory' // or 'redis', 'file'
    });

    ctx.defCache('embeddingCache', 'persistent', {
      storage: 'redis',
      keyPrefix: 'embeddings:',
      compression: true
    });

    // Use with tools
    ctx.defTool('embedText', 'Generate embeddings', schema, executor, {
      cache: 'embeddingCache'
    });
    ctx.$`Embed it.`;
  };
  try {
    for (let i = 0; i < 2; i++) {
      const { result } = await runPrompt(promptFn, {
        model: mockModel([{ type: 'tool-call', toolName: 'embedText', args: { text: 'hello' } }, { type: 'text', text: 'ok' }]),
        engine,
        cache: 'responseCache',
      });
      await result.text;
    }
    assert.equal(embeds, 1);
    const keys = await redisAdapter.list('embeddings:');
    assert.equal(keys.length, 1);
    const stored = await redisAdapter.get(keys[0]);
    assert.equal(typeof stored.value.$gzip, 'string'); // stored compressed
  } finally {
    await redisAdapter.close();
  }
});

test('cache options are checked: unknown caches, strategies and options are ConfigErrors', async () => {
  const engine = await createEngine();
  await assert.rejects(
    runPrompt(
      (ctx) => {
        ctx.defCache('results', 'lru');
        ctx.defTool('t', 't', object, () => 1, { cache: 'result' });
      },
      { model: mockModel([]), engine },
    ),
    (e) => e instanceof ConfigError && /did you mean "results"/.test(e.message),
  );
  await runPrompt(
    (ctx) => {
      assert.throws(() => ctx.defCache('c', 'fifo'), (e) => e instanceof ConfigError && /lru/.test(e.message));
      assert.throws(() => ctx.defCache('c', 'ttl', {}), (e) => e instanceof ConfigError && /ttl/.test(e.message));
      assert.throws(() => ctx.defCache('c', 'lru', { maxSise: 3 }), (e) => e instanceof ConfigError && /maxSize/.test(e.message));
      assert.throws(() => ctx.defCache('c', 'lru', { compression: true }), (e) => e instanceof ConfigError && /storage/.test(e.message));
      ctx.$`Hi`;
    },
    { model: mockModel([{ type: 'text', text: 'ok' }]), engine },
  );
});
