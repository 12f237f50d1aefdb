// defEvent, ctx.emit and L.event (docs/observability.md): lifecycle handlers fed from the run's one
// event path, with sub-agent paths; a throwing handler becomes an `error` event, never a failed run.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createEngine, runPrompt, run, L, mockModel, VirtualClock, ProviderError, ConfigError, NotRunningError } from '../../dist/node.js';
import { call, scriptedModel } from './helpers/scripted-model.mjs';

const LIFECYCLE = ['onRunStart', 'onStepStart', 'onModelCall', 'onToolStart', 'onToolEnd', 'onError', 'onTokenThreshold', 'onStepFinish', 'onRunFinish'];

const text = (t) => ({ type: 'text', text: t });

async function virtualEngine() {
  return createEngine({ clock: new VirtualClock(Date.parse('2026-12-01T00:00:00Z')) });
}

test('every lifecycle event in order for a run with a retry, a tool error and a sub-agent', async () => {
  const engine = await virtualEngine();
  const model = scriptedModel((n) => {
    if (n === 0) throw new ProviderError('429 slow down', { status: 429, retryable: true });
    if (n === 1) return [call('broken', 'c1')];
    if (n === 2) return [call('helper', 'c2')];
    return [text('done')];
  });
  const seen = [];
  const { result } = await runPrompt((ctx) => {
    for (const name of LIFECYCLE)
      ctx.defEvent(name, (e) => {
        const detail = e.type === 'error' ? `${e.severity}/${e.source}` : e.type === 'tool-call' || e.type === 'tool-error' || e.type === 'tool-result' ? e.toolName : e.type === 'model-call' ? `attempt ${e.attempt} ${e.ok ? 'ok' : 'failed'}` : '';
        seen.push(`${e.path.join('/')} ${name} ${e.type}${detail ? ` ${detail}` : ''}`);
      }, name === 'onTokenThreshold' ? { threshold: 55 } : undefined);
    ctx.defTool('broken', 'always fails', {}, () => {
      throw new Error('disk full');
    });
    ctx.defAgent('helper', 'helps', {}, (_args, sub) => sub.$`help`, { model: mockModel([{ type: 'text', text: 'helped' }]) });
    ctx.$`go`;
  }, { model, engine, maxRetries: 2 });
  assert.equal(await result.text, 'done');
  assert.deepEqual(seen, [
    'root onRunStart run-start',
    'root onStepStart step-start',
    'root onModelCall model-call attempt 1 failed',
    'root onError error warning/model',
    'root onModelCall model-call attempt 2 ok',
    'root onToolStart tool-call broken',
    'root onToolEnd tool-error broken',
    'root onError error error/tool',
    'root onStepFinish step-finish',
    'root onStepStart step-start',
    'root onModelCall model-call attempt 1 ok',
    'root onTokenThreshold token-threshold', // 2 calls × 30 tokens ≥ 55
    'root onToolStart tool-call helper',
    'root/helper onRunStart run-start',
    'root/helper onStepStart step-start',
    'root/helper onModelCall model-call attempt 1 ok',
    'root/helper onStepFinish step-finish',
    'root/helper onRunFinish run-finish',
    'root onToolEnd tool-result helper',
    'root onStepFinish step-finish',
    'root onStepStart step-start',
    'root onModelCall model-call attempt 1 ok',
    'root onStepFinish step-finish',
    'root onRunFinish run-finish',
  ]);
});

test("onTokenThreshold fires once at a token constraint's max too, with {usage, threshold}", async () => {
  const got = [];
  const model = mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defConstraint('budget', 'tokens', { max: 50, onExceeded: 'warn' });
    ctx.defTool('t', 't', {}, () => 'x');
    ctx.defEvent('onTokenThreshold', (e) => got.push([e.usage, e.threshold]));
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.deepEqual(got, [[60, 50]]); // 2 calls × 30 tokens reach 50; the third call fires nothing more
});

test('an onTokenThreshold handler with nothing to fire at is told so as a warning; with a threshold in the tree it is not', async () => {
  const warnings = async (define) => {
    const { result, prompt } = await runPrompt((ctx) => {
      define(ctx);
      ctx.$`go`;
    }, { model: mockModel([{ type: 'text', text: 'done' }]) });
    assert.equal(await result.text, 'done', 'the run goes on');
    await prompt.finished;
    return prompt.events.filter((e) => e.type === 'error' && e.context?.handler === 'onTokenThreshold');
  };
  // The seed's form: a handler and no threshold anywhere.
  const [warning, ...more] = await warnings((ctx) => ctx.defEvent('onTokenThreshold', () => {}));
  assert.equal(more.length, 0);
  assert.equal(warning.severity, 'warning');
  assert.equal(warning.source, 'handler');
  assert.match(warning.error.message, /onTokenThreshold handler has no threshold to fire at: give it one with defEvent\('onTokenThreshold', handler, \{threshold\}\), or define a token constraint/);
  // A threshold of its own, another handler's, or a token constraint: nothing to warn about.
  assert.deepEqual(await warnings((ctx) => ctx.defEvent('onTokenThreshold', () => {}, { threshold: 10 })), []);
  assert.deepEqual(await warnings((ctx) => { ctx.defEvent('onTokenThreshold', () => {}); ctx.defEvent('onTokenThreshold', () => {}, { threshold: 10 }); }), []);
  assert.deepEqual(await warnings((ctx) => { ctx.defConstraint('budget', 'tokens', { max: 50, onExceeded: 'warn' }); ctx.defEvent('onTokenThreshold', () => {}); }), []);
  // No handler of that event: nothing either.
  assert.deepEqual(await warnings((ctx) => ctx.defEvent('onToolEnd', () => {})), []);
});

test('a throwing handler is reported as an onError event and the run goes on', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'echo', args: {} }, { type: 'text', text: 'fine' }]);
  const errors = [];
  const onEvent = [];
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defTool('echo', 'echo', {}, () => 'x');
    ctx.defEvent('onToolStart', () => {
      throw new Error('handler bug');
    });
    ctx.defEvent('onError', async (e) => {
      errors.push(e);
      throw new Error('the onError handler fails too'); // not fed back to onError (no loop)
    });
    ctx.$`go`;
  }, { model, onEvent: (e) => onEvent.push(e) });
  assert.equal(await result.text, 'fine');
  await prompt.finished;
  assert.equal(errors.length, 1);
  assert.equal(errors[0].severity, 'warning');
  assert.equal(errors[0].source, 'handler');
  assert.match(errors[0].error.message, /onToolStart failed on tool-call: handler bug/);
  assert.deepEqual(errors[0].context, { handler: 'onToolStart', event: 'tool-call' });
  // Both failures are on the run's event path (onEvent, prompt.events).
  const handlerErrors = onEvent.filter((e) => e.type === 'error' && e.source === 'handler');
  assert.deepEqual(handlerErrors.map((e) => e.context.handler), ['onToolStart', 'onError']);
  assert.equal(prompt.events.filter((e) => e.type === 'error' && e.source === 'handler').length, 2);
});

test("a failing onEvent or onProgress, thrown or async, is an error event: never a failed run or an unhandled rejection", async () => {
  const unhandled = [];
  const onUnhandled = (err) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    const reported = [];
    const { result, prompt } = await runPrompt((ctx) => {
      ctx.defEvent('onError', (e) => void reported.push(e.context));
      ctx.$`go`;
    }, {
      model: mockModel([text('fine')]),
      onEvent: (e) => {
        if (e.type === 'step-finish') throw new Error('sync bug');
      },
      onProgress: () => {
        throw new Error('progress bug');
      },
    });
    assert.equal(await result.text, 'fine');
    await prompt.finished;
    const failures = prompt.events.filter((e) => e.type === 'error' && e.source === 'handler');
    assert.ok(failures.some((e) => e.context.handler === 'onEvent' && e.context.event === 'step-finish' && /event handler onEvent failed on step-finish: sync bug/.test(e.error.message)));
    assert.ok(failures.some((e) => e.context.handler === 'onProgress' && /progress bug/.test(e.error.message)));
    assert.deepEqual(reported.find((c) => c.handler === 'onEvent'), { handler: 'onEvent', event: 'step-finish' }, 'defEvent onError handlers hear of it');

    // An async onEvent that rejects on every event (its own failure reports included) is reported
    // once per event it failed on, and does not loop.
    const calls = [];
    const asyncRun = runPrompt({ model: mockModel([text('hi')]), prompt: 'x', onEvent: async (e) => {
      calls.push(e.type);
      throw new Error('async bug');
    } });
    assert.equal(await asyncRun.text, 'hi');
    const directive = await run(function* () {
      yield* L.user`x`;
      return (yield* L.reply).value;
    }, { models: { default: mockModel([text('hi')]) }, onEvent: async () => Promise.reject(new Error('directive bug')) });
    assert.equal(directive, 'hi');
    const { prompt: asyncPrompt } = await asyncRun;
    const asyncFailures = asyncPrompt.events.filter((e) => e.type === 'error' && e.source === 'handler');
    assert.equal(asyncFailures.length, calls.filter((type) => type !== 'error').length);
    assert.ok(asyncFailures.every((e) => /event handler onEvent failed on .*: async bug/.test(e.error.message)));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test("the result settles after the promises onEvent and onProgress returned, and their failures are reported before it", async () => {
  const later = () => new Promise((resolve) => setTimeout(resolve, 5));
  const written = [];
  const config = {
    onEvent: async (e) => {
      await later();
      written.push(`event ${e.type}`);
      if (e.type === 'run-finish') throw new Error('late bug');
    },
    onProgress: async () => {
      await later();
      written.push('progress');
    },
  };
  const { result, prompt } = await runPrompt({ model: mockModel([text('hi')]), prompt: 'x', ...config });
  assert.equal(await result.text, 'hi');
  // Every event's write is done, the failure on the last one is reported, and the report's own
  // onEvent call is done too.
  const events = prompt.events.filter((e) => !(e.type === 'error' && e.source === 'handler'));
  for (const e of events) assert.ok(written.includes(`event ${e.type}`), `onEvent finished for ${e.type}`);
  assert.ok(written.includes('progress'));
  const failure = prompt.events.find((e) => e.type === 'error' && e.source === 'handler');
  assert.match(failure?.error.message ?? '', /onEvent failed on run-finish: late bug/);
  assert.ok(written.includes('event error'), "the failure report's own onEvent call finished");

  written.length = 0;
  const seen = [];
  const value = await run(function* () {
    yield* L.user`x`;
    return (yield* L.reply).value;
  }, { models: { default: mockModel([text('hi')]) }, onEvent: async (e) => {
    seen.push(e.type);
    await config.onEvent(e);
  }, onProgress: config.onProgress });
  assert.equal(value, 'hi');
  assert.equal(written.filter((w) => w.startsWith('event ')).length, seen.length, 'every directive onEvent call finished');
  assert.ok(seen.includes('error'), 'the late failure was reported before the result');
});

test('the result settles only after the handlers are done', async () => {
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  let finishedHandler = false;
  const { result } = await runPrompt((ctx) => {
    ctx.defEvent('onRunFinish', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      finishedHandler = true;
    });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'hi');
  assert.equal(finishedHandler, true);
});

test('custom events: ctx.emit before and during the run, from a sub-agent, with their paths', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'work', args: {} }, { type: 'tool-call', toolName: 'helper', args: {} }, { type: 'text', text: 'done' }]);
  const got = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defEvent('progress', (e) => got.push([e.path.join('/'), e.name, e.value]));
    ctx.emit('progress', { phase: 'setup' }); // before the run: raised after run-start
    ctx.defTool('work', 'works', {}, async () => {
      await ctx.emit('progress', { phase: 'working' });
      return 'ok';
    });
    ctx.defAgent('helper', 'helps', {}, (_args, sub) => {
      sub.defTool('noop', 'n', {}, () => 'x');
      sub.emit('progress', { phase: 'sub-agent' });
      sub.$`help`;
    }, { model: mockModel([{ type: 'text', text: 'helped' }]) });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.deepEqual(got, [
    ['root', 'progress', { phase: 'setup' }],
    ['root', 'progress', { phase: 'working' }],
    ['root/helper', 'progress', { phase: 'sub-agent' }],
  ]);
});

test("a sub-agent's handlers see its own events, not its parent's", async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'helper', args: {} }, { type: 'text', text: 'done' }]);
  const subSaw = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defAgent('helper', 'helps', {}, (_args, sub) => {
      sub.defEvent('onStepStart', (e) => subSaw.push(e.path.join('/')));
      sub.$`help`;
    }, { model: mockModel([{ type: 'text', text: 'helped' }]) });
    ctx.$`go`;
  }, { model });
  await result.text;
  assert.deepEqual(subSaw, ['root/helper']);
});

test('L.event(name, data) in a directive agent reaches defEvent handlers of run(..., {define})', async () => {
  const got = [];
  const answer = await run(function* () {
    yield* L.event('phase', { n: 1 });
    yield* L.event({ plain: true }); // the one-argument form stays an unnamed `emitted` event
    yield* L.user`hi`;
    return (yield* L.reply).value;
  }, {
    models: { default: mockModel([{ type: 'text', text: 'hello' }]) },
    define: (ctx) => {
      ctx.defEvent('phase', (e) => got.push(['phase', e.value]));
      ctx.defEvent('onRunStart', (e) => got.push(['start', e.kind]));
      ctx.defEvent('onRunFinish', (e) => got.push(['finish', e.ok]));
    },
  });
  assert.equal(answer, 'hello');
  assert.deepEqual(got, [['start', 'conversation'], ['phase', { n: 1 }], ['finish', true]]);
});

test("events of a directive run's parallel branches reach the run's handlers with the branch's path", async () => {
  const got = [];
  const worker = (topic) =>
    function* () {
      yield* L.event('phase', { topic });
      yield* L.user`write about ${topic}`;
      return (yield* L.reply).value;
    };
  const answers = await run(function* () {
    return yield* L.branch({ docs: worker('docs'), tests: worker('tests') });
  }, {
    models: { default: mockModel([{ type: 'text', text: 'one' }, { type: 'end-step' }, { type: 'text', text: 'two' }]) },
    define: (ctx) => {
      ctx.defEvent('phase', (e) => got.push(`${e.path.join('/')} phase ${e.value.topic}`));
      ctx.defEvent('onModelCall', (e) => got.push(`${e.path.join('/')} model-call`));
    },
  });
  assert.deepEqual(Object.keys(answers), ['docs', 'tests']);
  assert.deepEqual(got.sort(), ['root/docs model-call', 'root/docs phase docs', 'root/tests model-call', 'root/tests phase tests']);
});

test('bad event definitions and emits are typed errors naming what is expected', async () => {
  const model = mockModel([{ type: 'text', text: 'x' }]);
  const define = (fn) => runPrompt((ctx) => {
    fn(ctx);
    ctx.$`go`;
  }, { model });
  await assert.rejects(define((ctx) => ctx.defEvent('onToolStrat', () => {})), (e) => e instanceof ConfigError && /did you mean 'onToolStart'/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defEvent('onToolStart', 'not a function')), (e) => e instanceof ConfigError && /handler must be a function/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defEvent('onToolStart', () => {}, { threshold: 10 })), (e) => e instanceof ConfigError && /onTokenThreshold only/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defEvent('onTokenThreshold', () => {}, { treshold: 10 })), (e) => e instanceof ConfigError && /threshold/.test(e.message));
  await assert.rejects(define((ctx) => ctx.emit('onToolStart', {})), (e) => e instanceof ConfigError && /lifecycle event/.test(e.message));
  await assert.rejects(define((ctx) => ctx.emit('custom', { f: () => 1 })), (e) => e instanceof ConfigError && /JSON/.test(e.message));
  await assert.rejects(define((ctx) => ctx.emit('bad name!', 1)), (e) => e instanceof ConfigError && /event name/.test(e.message));
  assert.throws(() => L.event('onRunStart', 1), ConfigError);
  // A run event's type is not an event name: such a handler waited for an emit that never came.
  await assert.rejects(
    define((ctx) => ctx.defEvent('tool-result', () => {})),
    (e) => e instanceof ConfigError && e.message === "defEvent: 'tool-result' is the type of a run event, not an event name: its handlers are defEvent('onToolEnd', …) (or onEvent for every run event); a custom event needs a name of its own",
  );
  assert.throws(() => L.event('step-finish', 1), (e) => e instanceof ConfigError && /defEvent\('onStepFinish', …\)/.test(e.message));

  let kept;
  const { result } = await runPrompt((ctx) => {
    kept = ctx;
    ctx.$`go`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  await result.text;
  assert.throws(() => kept.emit('late', 1), NotRunningError);
});
