// L.branch(agents, options) and defParallel's judge model through the package
// (docs/directive-agents.md, docs/orchestration.md): the engine aggregates the branches' return
// values, cancels the branches it no longer needs (their model calls are aborted) and enforces the
// group's timeout; a judge model decides free text in one call through the run's model chain.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, L, mockModel, ParallelError, ProviderError, run } from '../../dist/node.js';
import { whileLive } from './helpers/while-live.mjs';

const text = (t) => ({ type: 'text', text: t });
const end = { type: 'end-step' };
/** A mockModel answering each call with the next string, after `delayMs`. */
const says = (answers, delayMs = 0) => mockModel(answers.flatMap((a) => [text(a), end]), { delayMs });

/** Wraps `model` to count its calls that were aborted. */
function counting(model) {
  const counts = { started: 0, aborted: 0 };
  return {
    counts,
    model: {
      provider: model.provider,
      modelId: model.modelId,
      async generate(request, options) {
        counts.started++;
        try {
          return await model.generate(request, options);
        } catch (error) {
          if (options.signal?.aborted) counts.aborted++;
          throw error;
        }
      },
    },
  };
}

const ask = (key) => function* () {
  yield* L.model(key);
  return (yield* L.reply).value;
};

test("L.branch 'first': the first branch to return wins; the slower branches' model calls are aborted", async () => {
  const slow = counting(says(['slow answer'], 5000));
  const slower = counting(says(['slower answer'], 8000));
  const events = [];
  const started = performance.now();
  const result = await run(function* () {
    yield* L.user`Quick: 2 + 2?`;
    return yield* L.branch([ask('slow'), ask('fast'), ask('slower')], { aggregation: 'first' });
  }, { models: { default: says(['unused']), slow: slow.model, fast: says(['4'], 10), slower: slower.model }, onEvent: (e) => events.push(e) });
  assert.deepEqual(result, { key: 1, value: '4' });
  assert.ok(performance.now() - started < 4000, 'the slow branches did not run to their end');
  assert.deepEqual([slow.counts, slower.counts], [{ started: 1, aborted: 1 }, { started: 1, aborted: 1 }]);
  const finish = events.find((e) => e.type === 'branch-group-finish');
  assert.equal(finish.winner, '1');
  assert.deepEqual(finish.branches, { 0: 'cancelled', 1: 'success', 2: 'cancelled' });
  // The cancelled branches threw, and nothing of theirs was appended after that.
  const threw = events.filter((e) => e.type === 'branch-threw').map((e) => e.path.at(-1)).sort();
  assert.deepEqual(threw, ['0', '2']);
  const late = events.filter((e) => e.type === 'message-appended' && ['0', '2'].includes(e.path[1]) && e.message.role === 'assistant');
  assert.deepEqual(late, []);
});

test("L.branch 'first' with a record: {key, value} names the record key", async () => {
  const result = await run(function* () {
    return yield* L.branch({ a: ask('slow'), b: ask('fast') }, { aggregation: 'first' });
  }, { models: { default: says(['unused']), slow: says(['late'], 5000), fast: says(['early'], 5) } });
  assert.deepEqual(result, { key: 'b', value: 'early' });
});

test("L.branch 'majority' of 3: two agreeing branches decide; a judge model decides free text", async () => {
  const agreed = await run(function* () {
    return yield* L.branch([ask('a'), ask('b'), ask('c')], { aggregation: 'majority' });
  }, { models: { default: says(['unused']), a: says(['42']), b: says(['41']), c: says(['42']) } });
  assert.equal(agreed, '42');

  const judge = mockModel([text('{"winner": "smart"}')]);
  const events = [];
  const judged = await run(function* () {
    yield* L.user`What is the capital of France?`;
    return yield* L.branch({ fast: ask('fast'), smart: ask('smart'), cheap: ask('cheap') }, {
      aggregation: 'majority',
      judge: { model: judge, instructions: 'Answers that name the same city agree.' },
    });
  }, { models: { default: says(['unused']), fast: says(['Paris']), smart: says(['Paris, France']), cheap: says(['Lyon']) }, onEvent: (e) => events.push(e) });
  assert.equal(judged, 'Paris, France');
  assert.equal(judge.calls.length, 1);
  assert.match(judge.calls[0].messages[0].content, /Answers that name the same city agree\./);
  assert.deepEqual(judge.calls[0].responseFormat?.type, 'json');
  const event = events.find((e) => e.type === 'parallel-judge');
  assert.equal(event.winner, 'smart');
  assert.deepEqual(event.candidates, ['fast', 'smart', 'cheap']);
});

test('L.branch minSuccess unmet: ParallelError listing each failed branch', async () => {
  const failing = (message) => function* () {
    yield* L.user`try`;
    throw new Error(message);
  };
  await assert.rejects(
    run(function* () {
      return yield* L.branch({ ok: ask('a'), x: failing('x broke'), y: failing('y broke') }, { aggregation: 'all', minSuccess: 2 });
    }, { models: { default: says(['unused']), a: says(['fine']) } }),
    (error) => {
      assert.ok(error instanceof ParallelError, String(error));
      assert.equal(error.code, 'PARALLEL_MIN_SUCCESS');
      assert.equal(error.errors.x.message, 'x broke');
      assert.equal(error.errors.y.message, 'y broke');
      assert.match(error.message, /L.branch: [01] of 3 tasks succeeded, minSuccess is 2/);
      return true;
    },
  );
  // With enough successes, 'all' gives the successful values (the failed index is undefined).
  const some = await run(function* () {
    return yield* L.branch([ask('a'), failing('nope')], { minSuccess: 1 });
  }, { models: { default: says(['unused']), a: says(['fine']) } });
  assert.deepEqual(some, ['fine', undefined]);
});

test('L.branch timeout cancels the stragglers on the engine clock', async () => {
  const stuck = counting(says(['too late'], 10_000));
  const started = performance.now();
  const value = await run(function* () {
    return yield* L.branch({ quick: ask('quick'), stuck: ask('stuck') }, { timeout: 300, minSuccess: 1 });
  }, { models: { default: says(['unused']), quick: says(['done'], 5), stuck: stuck.model } });
  assert.deepEqual(value, { quick: 'done' });
  assert.deepEqual(stuck.counts, { started: 1, aborted: 1 });
  assert.ok(performance.now() - started < 5000);
  await assert.rejects(
    run(function* () {
      return yield* L.branch({ quick: ask('quick'), stuck: ask('stuck') }, { timeout: 300 });
    }, { models: { default: says(['unused']), quick: says(['done']), stuck: says(['too late'], 10_000) } }),
    (error) => error instanceof ParallelError && error.errors.stuck.kind === 'timeout',
  );
});

test('L.branch options: unknown keys get a did-you-mean; options that do not apply are refused', async () => {
  const attempt = (options, target = [ask('a'), ask('a')]) =>
    run(function* () {
      return yield* L.branch(target, options);
    }, { models: { default: says(['unused']), a: says(['x', 'y']) } });
  await assert.rejects(attempt({ aggregaton: 'first' }), (e) => e instanceof ConfigError && /did you mean 'aggregation'|did you mean "aggregation"/.test(e.message));
  await assert.rejects(attempt({ aggregation: 'first', minSuccess: 1 }), /'minSuccess' does not apply to aggregation 'first'/);
  await assert.rejects(attempt({ aggregation: 'all', compare: () => true }), /'compare' and 'judge' apply to aggregation 'majority' and 'consensus'/);
  await assert.rejects(attempt({ aggregation: 'majority', judge: { modle: 'x' } }), /judge.*did you mean .model./);
  await assert.rejects(attempt({ aggregation: 'first' }, ask('a')), /options apply to an array or a record of agents/);
});

test('defParallel judge model: free text decided by one model call; a garbage answer is a ParallelError naming the group', async () => {
  const judge = mockModel([text('{"winner": "b"}'), end, text('no idea'), end, text('{"winner": "d"}')]);
  const { value, error, events } = await whileLive(
    (ctx) => {
      ctx.defParallel('capital', { a: () => 'Paris', b: () => 'It is Paris.', c: () => 'Lyon' }, { aggregation: 'majority', judge: { model: judge } });
    },
    async (ctx) => {
      const first = await ctx.executeParallel('capital');
      const failures = [];
      for (let i = 0; i < 2; i++) failures.push(await ctx.executeParallel('capital').catch((e) => e));
      return { first, failures };
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.equal(value.first, 'It is Paris.');
  assert.equal(judge.calls.length, 3);
  const [garbage, unknown] = value.failures;
  assert.ok(garbage instanceof ParallelError);
  assert.equal(garbage.code, 'PARALLEL_JUDGE_INVALID');
  assert.equal(garbage.parallel, 'capital');
  assert.match(garbage.message, /parallel "capital": the judge model ".*" answered no idea; expected \{"winner": one of a, b, c, or null\}/);
  assert.equal(unknown.code, 'PARALLEL_JUDGE_INVALID');
  assert.match(unknown.message, /named "d", which is not a candidate/);
  assert.deepEqual(events.filter((e) => e.type === 'parallel-judge').map((e) => e.winner ?? null), ['b', null, null]);
});

test('defParallel judge option is checked at the def* call', async () => {
  const { error } = await whileLive(
    (ctx) => ctx.defParallel('p', { a: () => 1, b: () => 2 }, { aggregation: 'consensus', judge: { model: 'mock:x', instruction: 'be fair' } }),
    async () => null,
  ).catch((e) => ({ error: e }));
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /instruction.*did you mean .instructions./);
});

test('defParallel judge model in a directive run: the judge calls through the run (its default model)', async () => {
  let ctx;
  const events = [];
  const value = await run(function* () {
    yield* L.tool('vote', 'Runs the vote', { type: 'object', properties: {} }, () => ctx.executeParallel('vote'));
    return yield* L.call('vote', {});
  }, {
    models: { default: mockModel([text('{"winner": "y"}')]) },
    define: (c) => {
      ctx = c;
      c.defParallel('vote', { x: () => 'left', y: () => 'right' }, { aggregation: 'consensus', judge: {} });
    },
    onEvent: (e) => events.push(e),
  });
  assert.equal(value, 'right');
  const judged = events.find((e) => e.type === 'parallel-judge');
  assert.equal(judged.winner, 'y');
  assert.equal(judged.parallel, 'vote');
});

test("a branch its group cancels stops while its model call waits to retry (the retry's wait is the branch's)", async () => {
  for (const options of [{ aggregation: 'first' }, { timeout: 600, minSuccess: 1 }]) {
    let calls = 0;
    const flaky = { provider: 'test', modelId: 'flaky', generate: async () => { calls++; throw new ProviderError('503 overloaded', { status: 503, retryable: true }); } };
    const started = Date.now();
    const value = await run(
      function* () {
        yield* L.user`q`;
        return yield* L.branch(
          {
            loser: function* () { yield* L.model('flaky'); return (yield* L.reply).value; },
            winner: function* () { yield* L.model('fast'); return (yield* L.reply).value; },
          },
          options,
        );
      },
      { models: { default: mockModel([]), flaky, fast: mockModel([{ type: 'text', text: 'w' }], { delayMs: 300 }) } },
    );
    const ms = Date.now() - started;
    assert.equal(calls, 1, 'the retry (2 s later by default) never came');
    assert.ok(ms < 1500, `L.branch returned when the group was decided, not after the retry wait (${ms} ms, ${JSON.stringify(options)})`);
    assert.ok(JSON.stringify(value).includes('w'));
  }
});

test("a member whose agent function throws is that member's failure: the group waits for every branch, nothing runs on after", async () => {
  const events = [];
  const value = await run(function* () {
    yield* L.user`q`;
    try {
      return yield* L.branch({ a: function* () { return (yield* L.reply).value; }, b: () => { throw new Error('factory failed'); } }, { aggregation: 'all' });
    } catch (error) {
      return `caught ${error.constructor.name}: ${error.message}`;
    }
  }, { models: { default: says(['a answer'], 50) }, onEvent: (e) => events.push(`${e.type} ${e.path?.join('/') ?? ''}`) });
  assert.match(value, /^caught ParallelError: .*factory failed/);
  // Both branches ended (b failed, a was cancelled by the decision) before the run went on and finished.
  const ends = events.filter((e) => /^branch-(returned|threw) root\/[ab]$/.test(e));
  assert.deepEqual(ends.map((e) => e.slice(-1)).sort(), ['a', 'b']);
  assert.equal(events.at(-1), 'run-finish root');
  // A member that is not an agent at all is its failure too.
  const notAgent = run(function* () {
    return yield* L.branch([function* () { return 1; }, () => 42], { aggregation: 'all' });
  }, { models: { default: says([]) } });
  await assert.rejects(notAgent, (e) => e instanceof ParallelError && /the agent function returned number 42/.test(e.message));
});

test("aborting the run during a branch group rejects with AbortError, not the group's ParallelError", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = performance.now();
  const outcome = run(function* () {
    return yield* L.branch([function* () { return (yield* L.reply).value; }, function* () { return (yield* L.reply).value; }], { aggregation: 'all' });
  }, { models: { default: says(['x', 'y'], 2_000) }, signal: controller.signal });
  await assert.rejects(outcome, (e) => e.name === 'AbortError' || e.code === 'ABORTED');
  assert.ok(performance.now() - started < 1_500);
});
