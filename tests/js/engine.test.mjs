// The JS <-> wasm boundary, exercised through the built package under Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AbortError, CallbackError, createEngine, EngineError, TimeoutError } from '../../dist/node.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the next engine event of `type`. */
function nextEvent(engine, type) {
  return new Promise((resolve) => {
    const off = engine.onEvent((event) => {
      if (event.type === type) {
        off();
        resolve(event);
      }
    });
  });
}

test('10,000 concurrent ops with random latencies and completion order return the right results', async () => {
  const engine = await createEngine();
  const completionOrder = [];
  let inFlight = 0;
  let maxInFlight = 0;
  engine.registerCallback('square', async (x) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(Math.random() * 25);
    inFlight--;
    completionOrder.push(x);
    return x * x;
  });
  const items = Array.from({ length: 10_000 }, (_, i) => i);
  const results = await engine.startRun({ kind: 'map', fn: 'square', items });
  assert.deepEqual(results, items.map((x) => x * x));
  assert.equal(maxInFlight, 10_000, 'all ops were in flight at once');
  assert.notDeepEqual(completionOrder, items, 'completions arrived out of order');
});

test('a callback that throws, rejects or throws a non-Error reaches the engine as an error value', async () => {
  const engine = await createEngine();
  engine.registerCallback('throws', () => {
    throw new Error('sync failure');
  });
  engine.registerCallback('rejects', async () => {
    await sleep(5);
    throw new RangeError('async failure');
  });
  engine.registerCallback('throwsString', () => {
    throw 'just a string';
  });
  engine.registerCallback('bigint', () => ({ rows: [{ id: 1 }, { id: 10n }] }));
  const outcomes = await Promise.allSettled([
    engine.startRun({ kind: 'call', fn: 'throws' }),
    engine.startRun({ kind: 'call', fn: 'rejects' }),
    engine.startRun({ kind: 'call', fn: 'throwsString' }),
    engine.startRun({ kind: 'call', fn: 'bigint' }),
    engine.startRun({ kind: 'call', fn: 'missing' }),
  ]);
  const messages = outcomes.map((o) => {
    assert.equal(o.status, 'rejected');
    assert.ok(o.reason instanceof CallbackError, `${o.reason} is a CallbackError`);
    assert.equal(o.reason.code, 'CALLBACK_ERROR');
    return o.reason.message;
  });
  assert.deepEqual(messages.slice(0, 3), ['sync failure', 'async failure', 'just a string']);
  assert.equal(messages[3], 'callback result is not JSON-serializable: $.rows[1].id is a BigInt');
  assert.match(messages[4], /unknown callback "missing" \(registered: "throws", "rejects", "throwsString", "bigint"\)/);
  // The engine is still healthy.
  assert.equal((await engine.request('engine.info')).activeRuns, 0);
});

test('a command whose fields JSON cannot hold is refused before it is sent, naming the field', async () => {
  const engine = await createEngine();
  const cyclic = { name: 'x' };
  cyclic.self = { back: cyclic };
  const refused = async (fields) => {
    const error = await engine.request('schema.validate', fields).then(() => undefined, (e) => e);
    assert.ok(error instanceof TypeError, String(error));
    return error.message;
  };
  assert.equal(await refused({ schema: { type: 'object' }, value: { when: new Date(0), n: 5n } }),
    'schema.validate: $.value.n is a BigInt (what is sent to the engine must be JSON: null, booleans, finite numbers, strings, arrays and plain objects)');
  assert.match(await refused({ schema: { type: 'object' }, value: cyclic }), /^schema\.validate: \$\.value\.self\.back refers back to one of its parents \(a cycle\)/);
  const brokenToJSON = { toJSON() { throw new TypeError('no JSON for you'); } };
  assert.match(await refused({ schema: { type: 'object' }, value: { a: brokenToJSON } }), /^schema\.validate: \$\.value\.a\.toJSON\(\) throws \(no JSON for you\)/);
  // A Date goes as JSON.stringify writes it; the engine is still healthy.
  assert.equal((await engine.request('schema.validate', { schema: { type: 'string' }, value: new Date(0) })).valid, true);
});

test('an exception inside a run reaches JS as an EngineError with a stable code', async () => {
  const engine = await createEngine();
  await assert.rejects(engine.startRun({ kind: 'fault', where: 'run' }), (err) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.code, 'ENGINE_ERROR');
    assert.match(err.message, /deliberate fault/);
    return true;
  });
  assert.deepEqual(await engine.startRun({ kind: 'sleep', ms: 1 }).then((v) => typeof v.sleptMs), 'number');
});

test('an exception escaping the loop faults the engine: pending and later requests reject with ENGINE_FAULT', async () => {
  const engine = await createEngine();
  engine.registerCallback('slow', () => sleep(50).then(() => 1));
  const pending = engine.startRun({ kind: 'call', fn: 'slow' });
  const faulted = engine.startRun({ kind: 'fault', where: 'loop' });
  for (const run of [pending, faulted]) {
    await assert.rejects(run, (err) => err instanceof EngineError && err.code === 'ENGINE_FAULT');
  }
  assert.equal(engine.fault?.code, 'ENGINE_FAULT');
  await assert.rejects(engine.request('engine.info'), (err) => err.code === 'ENGINE_FAULT');
});

test('a message posted while the loop waits wakes it', async () => {
  const engine = await createEngine();
  let release;
  engine.registerCallback('gate', () => new Promise((resolve) => (release = resolve)));
  const run = engine.startRun({ kind: 'call', fn: 'gate' });
  await sleep(10); // the loop's last turn returned with the gate op in flight
  const info = await engine.request('engine.info');
  assert.deepEqual([info.activeRuns, info.pendingOps], [1, 1]);
  release('opened');
  assert.equal(await run, 'opened');
});

test('two runs started together both finish; an AbortSignal cancels only its own run', async () => {
  const engine = await createEngine();
  const signals = { a: [], b: [] };
  let releaseB;
  const bGate = new Promise((resolve) => (releaseB = resolve));
  // Run a's calls end only when aborted and run b's when the test says so: no timing decides the
  // order, however loaded the machine is.
  engine.registerCallback('work', async (item, index, context) => {
    signals[item.run].push(context.signal);
    if (item.run === 'a') await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
    else await bGate;
    return `${item.run}${index}`;
  });
  const controller = new AbortController();
  const runA = engine.startRun({ kind: 'map', fn: 'work', items: [{ run: 'a' }, { run: 'a' }] }, { signal: controller.signal });
  const runB = engine.startRun({ kind: 'map', fn: 'work', items: [{ run: 'b' }, { run: 'b' }] });
  while (signals.a.length < 2 || signals.b.length < 2) await sleep(1);
  controller.abort(new Error('user pressed stop'));
  await assert.rejects(runA, (err) => err instanceof AbortError && err.code === 'ABORTED' && /user pressed stop/.test(err.message));
  releaseB();
  assert.deepEqual(await runB, ['b0', 'b1']);
  assert.deepEqual(signals.a.map((s) => s.aborted), [true, true]);
  assert.deepEqual(signals.b.map((s) => s.aborted), [false, false]);
});

test('an already aborted signal rejects at once and starts nothing', async () => {
  const engine = await createEngine();
  let called = false;
  engine.registerCallback('never', () => (called = true));
  await assert.rejects(engine.startRun({ kind: 'call', fn: 'never' }, { signal: AbortSignal.abort() }), AbortError);
  await sleep(5);
  assert.equal(called, false);
});

test('an op that never completes is bounded by its timeout and its callback is aborted', async () => {
  const engine = await createEngine();
  let signal;
  engine.registerCallback('hang', (context) => {
    signal = context.signal;
    return new Promise(() => {});
  });
  // Without the timeout this would never settle; how long it took on a busy machine does not matter.
  await assert.rejects(engine.startRun({ kind: 'call', fn: 'hang', timeoutMs: 40 }), TimeoutError);
  assert.equal(signal.aborted, true);
});

test('a callback that reads its signal only after its op was cancelled sees it aborted, with the reason', async () => {
  // The AbortController is made on the first read of the signal; a late read must not miss the abort.
  const engine = await createEngine();
  let context;
  let entered;
  const started = new Promise((resolve) => (entered = resolve));
  engine.registerCallback('hang', (ctx) => {
    context = ctx;
    entered();
    return new Promise(() => {});
  });
  const controller = new AbortController();
  const run = engine.startRun({ kind: 'call', fn: 'hang' }, { signal: controller.signal });
  await started;
  controller.abort();
  await assert.rejects(run, AbortError);
  await sleep(5); // the op.cancel event is dispatched in its own microtask
  assert.equal(context.signal.aborted, true);
  assert.ok(context.signal.reason instanceof AbortError, String(context.signal.reason));
  assert.equal(context.signal, context.signal); // one signal per op, however often it is read
});

test('bad input at the boundary is reported by name and the loop keeps running', async () => {
  const engine = await createEngine();
  const errors = [];
  engine.onEvent((event) => event.type === 'protocol.error' && errors.push(event.error.message));
  let release;
  engine.registerCallback('gate', () => new Promise((resolve) => (release = resolve)));
  const run = engine.startRun({ kind: 'call', fn: 'gate' });
  await sleep(5);
  engine.postRaw('{"type": "op.done", "id": 424242, "ok": true}');
  engine.postRaw('this is not json');
  engine.postRaw('{"no": "type"}');
  assert.throws(() => engine.postRaw('{"a":\n1}'), /one line/);
  await sleep(5);
  release(7);
  assert.equal(await run, 7);
  // The op id of the finished run, completed a second time.
  const runOp = (await engine.request('engine.info'), 1);
  engine.postRaw(JSON.stringify({ type: 'op.done', id: runOp, ok: true, value: 8 }));
  await nextEvent(engine, 'protocol.error');
  assert.match(errors[0], /unknown op id 424242/);
  assert.match(errors[1], /not valid JSON/);
  assert.match(errors[2], /string "type"/);
  assert.match(errors[3], /op 1 which has already completed/);
  await assert.rejects(engine.request('run.start', { spec: { kind: 'map', fn: 'f', items: 'nope' } }), /"items" must be array, got string/);
  await assert.rejects(engine.request('no.such.command'), /unknown command type "no.such.command"/);
  assert.equal((await engine.request('engine.info')).protocol, 1);
});

test('callbacks are validated when registered', async () => {
  const engine = await createEngine();
  assert.throws(() => engine.registerCallback('', () => 1), /non-empty string/);
  assert.throws(() => engine.registerCallback('x', 'not a function'), /must be a function, got string/);
});

test('running out of memory faults the engine (ENGINE_FAULT): the wasm engine aborts instead of unwinding half-way', async () => {
  // The engine is compiled with -fnew-infallible (no unwinding out of a failed `new`), so an
  // allocation that fails must stop it rather than throw through frames that skip their cleanups.
  const engine = await createEngine();
  const other = engine.startRun({ kind: 'sleep', ms: 50 });
  await assert.rejects(engine.startRun({ kind: 'fault', where: 'memory' }), (err) => {
    assert.ok(err instanceof EngineError && err.code === 'ENGINE_FAULT', String(err));
    assert.match(err.message, /the engine ran out of memory \(an allocation of \d+ bytes failed\).*while handling: .*run\.start #\d+ \(fault\)/);
    return true;
  });
  await assert.rejects(other, (err) => err.code === 'ENGINE_FAULT');
  const fresh = await createEngine();
  assert.equal(typeof (await fresh.request('engine.info')).version, 'string', 'another engine of the same module still works');
});
