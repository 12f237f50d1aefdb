// defResource and defResourcePool through the package (docs/orchestration.md): the proposal's
// examples as written (with mockModel), lazy initialization shared by concurrent first gets,
// health checks, clean-up newest first when the run ends — normally, with an error, or aborted —
// pools (FIFO, use(), acquireTimeout, min/max checks), resources in workflow steps, bad input.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { AbortError, ConfigError, L, mockModel, ResourceError, run, runPrompt } from '../../dist/node.js';
import { whileLive } from './helpers/while-live.mjs';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };
const schema = objectSchema;

/** {@link whileLive} with `body(toolContext)`: the tool's `resources` are what these tests use. */
const withTool = (define, body, config) => whileLive(define, (_ctx, toolContext) => body(toolContext), config);

test("the proposal's resource examples run as written: lazy, then cleaned up when the prompt completes", async () => {
  // Stands in for pg's Pool (the example's own dependency).
  const ended = [];
  class Pool {
    constructor(options) {
      this.options = options;
    }
    async end() {
      ended.push(this.options.database);
    }
  }
  const model = mockModel([{ type: 'tool-call', toolName: 'readFile', args: { path: 'README.md' } }, { type: 'text', text: 'read' }]);
  const toolResults = [];
  const { result } = await runPrompt((ctx) => {
    // Example: File system resource
    ctx.defResource('fileSystem', 'filesystem', {
      initialize: async () => ({
        rootPath: process.cwd(),
        permissions: { read: true, write: true }
      }),
      healthCheck: async () => {
        return fs.existsSync(process.cwd());
      }
    });

    // Example: Database connection
    ctx.defResource('database', 'postgres', {
      initialize: async () => {
        return new Pool({
          host: 'localhost',
          database: 'mydb',
          max: 20
        });
      },
      cleanup: async (pool) => {
        await pool.end();
      }
    });

    // Tools can then access resources via context
    ctx.defTool('readFile', 'Read a file', schema, async (args, { resources }) => {
      const fs = resources.get('fileSystem');
      return await fs.readFile(args.path);
    });
    ctx.$`Read the README`;
  }, { model, onEvent: (e) => e.type.startsWith('tool-') && toolResults.push(e) });
  assert.equal(await result.text, 'read');
  // As written, `fs.readFile` is called on the get's promise, which waits for the value; but the
  // example's value has no readFile: the model gets the tool's error, naming it, and goes on.
  assert.equal(toolResults.at(-1).type, 'tool-error');
  assert.match(toolResults.at(-1).error, /resources\.get\("fileSystem"\)\.readFile\(\.\.\.\): the resource's value has no method "readFile"/);
  // `database` was never used: never initialized, so nothing to end.
  assert.deepEqual(ended, []);
});

test("resources.get's promise takes the value's method calls without await, as the proposal writes them", async () => {
  const written = [];
  const { value, error } = await withTool(
    (ctx) => ctx.defResource('fileSystem', 'fs', {
      initialize: async () => ({ root: '/work', async writeFile(path, content) { written.push([this.root, path, content]); return content.length; } }),
    }),
    async ({ resources }) => {
      const fs = resources.get('fileSystem');
      const size = await fs.writeFile('a.txt', 'hello');
      const missing = await resources.get('fileSystem').readFile('a.txt').catch((e) => e);
      return { size, root: (await fs).root, missing };
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(written, [['/work', 'a.txt', 'hello']]); // called on the value, `this` included
  assert.equal(value.size, 5);
  assert.equal(value.root, '/work');
  assert.ok(value.missing instanceof TypeError);
  assert.match(value.missing.message, /resources\.get\("fileSystem"\)\.readFile\(\.\.\.\): the resource's value has no method "readFile"/);
});

test('a resource is initialized once for concurrent first gets, shared, and cleaned up with its value', async () => {
  const log = [];
  let made = 0;
  const { value, events } = await withTool(
    (ctx) =>
      ctx.defResource('db', 'postgres', {
        initialize: async () => {
          log.push('init');
          await new Promise((r) => setTimeout(r, 20));
          return { id: ++made, query: (q) => `rows of ${q}` };
        },
        cleanup: async (db) => log.push(`cleanup ${db.id}`),
      }),
    async ({ resources }) => {
      const all = await Promise.all([resources.get('db'), resources.get('db'), resources.get('db')]);
      const again = await resources.get('db');
      return { same: all.every((db) => db === again), answer: again.query('users') };
    },
  );
  assert.deepEqual(value, { same: true, answer: 'rows of users' });
  assert.deepEqual(log, ['init', 'cleanup 1']);
  assert.deepEqual(events.filter((e) => e.type.startsWith('resource-')).map((e) => [e.type, e.resource]), [
    ['resource-initialized', 'db'],
    ['resource-cleanup', 'db'],
  ]);
});

test('an unhealthy value is cleaned up and initialized again; initialize retries follow retryPolicy', async () => {
  const log = [];
  let made = 0;
  let failNext = 1;
  const { value } = await withTool(
    (ctx) =>
      ctx.defResource('api', 'http', {
        initialize: async () => {
          if (failNext-- > 0) throw new Error('connection refused');
          return { id: ++made, healthy: true };
        },
        healthCheck: async (client) => client.healthy,
        cleanup: async (client) => log.push(`cleanup ${client.id}`),
        retryPolicy: { maxAttempts: 2, backoff: 'constant', baseDelay: 1 },
      }),
    async ({ resources }) => {
      const first = await resources.get('api');
      first.healthy = false;
      const second = await resources.get('api');
      return [first.id, second.id];
    },
  );
  assert.deepEqual(value, [1, 2]);
  assert.deepEqual(log, ['cleanup 1', 'cleanup 2']);
});

test('initialize failing past its retries rejects the get with ResourceError RESOURCE_INIT_FAILED', async () => {
  const { error } = await withTool(
    (ctx) => ctx.defResource('db', 'postgres', { initialize: async () => { throw new Error('no route to host'); } }),
    ({ resources }) => resources.get('db'),
  );
  assert.ok(error instanceof ResourceError, String(error));
  assert.equal(error.code, 'RESOURCE_INIT_FAILED');
  assert.equal(error.resource, 'db');
  assert.match(error.message, /resource "db": initialize failed: no route to host/);
});

test('resources are cleaned up newest first after an error ends the run, and after an abort', async () => {
  for (const ending of ['error', 'abort']) {
    const log = [];
    const controller = new AbortController();
    const model = mockModel([{ type: 'tool-call', toolName: 'go', args: {} }, { type: 'text', text: 'unreached' }]);
    const generate = model.generate.bind(model);
    let calls = 0;
    model.generate = async (...args) => {
      if (++calls === 2 && ending === 'error') throw new Error('model exploded');
      return generate(...args);
    };
    const resource = (name) => ({ initialize: async () => name, cleanup: async (value) => log.push(`cleanup ${value}`) });
    const { result } = await runPrompt((ctx) => {
      ctx.defResource('first', 'x', resource('first'));
      ctx.defResource('second', 'x', resource('second'));
      ctx.defResourcePool('conns', async () => 'conn', { max: 1, destroy: async (c) => log.push(`destroy ${c}`) });
      ctx.defTool('go', 'uses resources', objectSchema, async (args, { resources, abortSignal }) => {
        await resources.get('second');
        await resources.acquire('conns');
        await resources.get('first');
        if (ending === 'abort') {
          controller.abort();
          await new Promise((resolve) => abortSignal.addEventListener('abort', resolve, { once: true }));
        }
        return 'ok';
      });
      ctx.$`go`;
    }, { model, maxRetries: 0, abortSignal: controller.signal });
    await assert.rejects(result.text, ending === 'abort' ? AbortError : /model exploded/);
    assert.deepEqual(log, ['cleanup first', 'destroy conn', 'cleanup second'], ending);
  }
});

test('a pool lends each value to one caller at a time; waiters are served first come, first served', async () => {
  let made = 0;
  let inUse = 0;
  let maxInUse = 0;
  const order = [];
  const { value } = await withTool(
    (ctx) => ctx.defResourcePool('clients', () => ({ id: ++made }), { max: 2, acquireTimeout: 10000 }),
    async ({ resources }) =>
      Promise.all([1, 2, 3, 4, 5].map((n) =>
        resources.use('clients', async (client) => {
          order.push(n);
          maxInUse = Math.max(maxInUse, ++inUse);
          await new Promise((r) => setTimeout(r, 5));
          inUse--;
          return client.id;
        }),
      )),
  );
  assert.equal(made, 2, 'never more than max values');
  assert.equal(maxInUse, 2);
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
  assert.ok(value.every((id) => id === 1 || id === 2));
});

test('acquireTimeout rejects with ResourceError POOL_ACQUIRE_TIMEOUT; release of a stranger is RESOURCE_NOT_ACQUIRED', async () => {
  const { value } = await withTool(
    (ctx) => ctx.defResourcePool('clients', () => ({}), { max: 1, acquireTimeout: 30 }),
    async ({ resources }) => {
      const held = await resources.acquire('clients');
      const timedOut = await resources.acquire('clients').catch((e) => e);
      const stranger = await resources.release('clients', {}).catch((e) => e);
      await resources.release('clients', held);
      const again = await resources.acquire('clients');
      return { timedOut, stranger, same: again === held };
    },
  );
  assert.ok(value.timedOut instanceof ResourceError);
  assert.equal(value.timedOut.code, 'POOL_ACQUIRE_TIMEOUT');
  assert.match(value.timedOut.message, /resource pool "clients": no value was free within acquireTimeout \(30 ms; all 1 are in use\)/);
  assert.ok(value.stranger instanceof ResourceError);
  assert.equal(value.stranger.code, 'RESOURCE_NOT_ACQUIRED');
  assert.equal(value.same, true);
});

test('workflow steps reach resources through wctx.resources', async () => {
  let cleaned = 0;
  let output;
  const model = mockModel([{ type: 'tool-call', toolName: 'go', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defResource('store', 'kv', { initialize: () => new Map([['greeting', 'hello']]), cleanup: () => cleaned++ });
    ctx.defWorkflow('read', [{ id: 'get', action: async (wctx) => (await wctx.resources.get('store')).get('greeting') }]);
    ctx.defTool('go', 'runs the workflow', objectSchema, async () => {
      output = (await ctx.runWorkflow('read')).output;
      return 'ok';
    });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.equal(output, 'hello');
  assert.equal(cleaned, 1);
});

test('bad input: typed errors naming the definition and the field', async () => {
  const define = async (fn) => {
    let error;
    const { result } = await runPrompt((ctx) => {
      try {
        fn(ctx);
      } catch (e) {
        error = e;
      }
      ctx.$`x`;
    }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
    await result.text;
    return error;
  };
  const minMax = await define((ctx) => ctx.defResourcePool('p', () => 1, { min: 5, max: 2 }));
  assert.ok(minMax instanceof ConfigError);
  assert.match(minMax.message, /defResourcePool\("p"\).*min \(5\) must not exceed max \(2\)/);
  const typo = await define((ctx) => ctx.defResourcePool('p', () => 1, { maxSize: 2 }));
  assert.match(typo.message, /maxSize.*did you mean 'max'/);
  assert.match((await define((ctx) => ctx.defResourcePool('p', 'factory'))).message, /factory must be a function/);
  assert.match((await define((ctx) => ctx.defResource('r', 'x', { init: () => 1 }))).message, /init.*did you mean 'initialize'/);
  assert.match((await define((ctx) => ctx.defResource('r', 42))).message, /type must be a string/);
  // A resource and a pool are both found by name: they cannot share one.
  const shared = await define((ctx) => (ctx.defResource('db', 'postgres', { initialize: () => 1 }), ctx.defResourcePool('db', () => 2)));
  assert.ok(shared instanceof ConfigError, String(shared));
  assert.equal(shared.message, 'defResourcePool("db"): a resource named "db" is already defined in this run, and the two share their names; give this one another name');
  assert.match((await define((ctx) => ctx.defResource('r', 'x', { retryPolicy: 3 }))).message, /retryPolicy/);

  const { error } = await withTool((ctx) => ctx.defResource('db', 'x', { initialize: () => 1 }), ({ resources }) => resources.get('dbb'));
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /unknown resource "dbb" \(did you mean "db"\? defined: db\)/);
  // A pool asked for as a resource (and the other way round) is named with the method that fits it.
  const defineBoth = (ctx) => {
    ctx.defResource('db', 'x', { initialize: () => 1 });
    ctx.defResourcePool('browsers', () => ({}), { max: 1 });
  };
  const asResource = await withTool(defineBoth, ({ resources }) => resources.get('browsers'));
  assert.match(asResource.error?.message ?? '', /unknown resource "browsers" .*; "browsers" is a resource pool \(defResourcePool\): borrow a value with resources\.acquire or resources\.use$/);
  const asPool = await withTool(defineBoth, ({ resources }) => resources.acquire('db'));
  assert.match(asPool.error?.message ?? '', /unknown resource pool "db" .*; "db" is a resource \(defResource\): read it with resources\.get$/);
  const notFn = await withTool(defineBoth, ({ resources }) => resources.use('browsers', 5));
  assert.ok(notFn.error instanceof ConfigError, String(notFn.error));
});

test('directive runs: resources defined in run(agent, {define}) reach L.tool implementations and end with the run', async () => {
  const log = [];
  const value = await run(function* () {
    yield* L.tool('lookup', 'Looks up a key', { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] }, async (args, { resources }) =>
      (await resources.get('kv'))[args.key]);
    return yield* L.call('lookup', { key: 'answer' });
  }, {
    models: { default: mockModel([]) },
    define: (ctx) => ctx.defResource('kv', 'memory', { initialize: () => (log.push('init'), { answer: 42 }), cleanup: () => log.push('cleanup') }),
  });
  assert.equal(value, 42);
  assert.deepEqual(log, ['init', 'cleanup']);
});
