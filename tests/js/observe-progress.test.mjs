// onProgress (docs/observability.md): the step, the tools running, tokens, elapsed engine-clock time
// and the cost when priced, reported after each event that changes them; for prompt and directive runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createEngine, runPrompt, run, L, mockModel, VirtualClock, RateLimitError, ConfigError } from '../../dist/node.js';
import { call, scriptedModel } from './helpers/scripted-model.mjs';


test('a prompt run reports step, running tools, tokens, cost and engine-clock time', async () => {
  const engine = await createEngine({ clock: new VirtualClock(Date.parse('2026-12-01T00:00:00Z')) });
  const model = scriptedModel((n) => {
    if (n === 0) throw new RateLimitError('slow down', 5000);
    if (n === 1) return [call('a', 'c1'), call('b', 'c2')];
    return [{ type: 'text', text: 'done' }];
  });
  const updates = [];
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defConstraint('spend', 'cost', { max: 10, prices: { scripted: { input: 1, output: 2 } } });
    ctx.defTool('a', 'a', {}, () => 'A');
    ctx.defTool('b', 'b', {}, () => 'B');
    ctx.$`go`;
  }, { model, engine, onProgress: (p) => updates.push(p) });
  assert.equal(await result.text, 'done');
  const last = updates.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.step, 2);
  assert.equal(last.inputTokens, 20);
  assert.equal(last.outputTokens, 40);
  assert.ok(Math.abs(last.costUsd - 2 * (10 * 1 + 20 * 2) / 1e6) < 1e-12);
  assert.ok(last.elapsedMs >= 5000, `the retry waited 5 s of engine time, elapsed ${last.elapsedMs}`);
  // Both tools were running at once at some point, and none is left running.
  assert.ok(updates.some((p) => p.toolsRunning.length === 2 && p.toolsRunning.includes('a') && p.toolsRunning.includes('b')));
  assert.deepEqual(last.toolsRunning, []);
  assert.deepEqual([...new Set(updates.filter((p) => p.event === 'step-start').map((p) => p.step))], [0, 1]);
  // The failed attempt has no cost and no tokens; the answered ones do.
  const modelCalls = updates.filter((p) => p.event === 'model-call');
  assert.deepEqual(modelCalls.map((p) => p.inputTokens), [0, 10, 20]);
  // Nothing after done.
  assert.equal(updates.filter((p) => p.done).length, 1);
  // The same cost is the built-in lmthing_cost_usd_total metric, by the run's model reference.
  const { metrics } = await prompt.metrics();
  const cost = metrics.find((m) => m.name === 'lmthing_cost_usd_total');
  assert.deepEqual(cost.series.map((s) => s.labels), [{ model: 'test:scripted' }]);
  assert.ok(Math.abs(cost.series[0].value - last.costUsd) < 1e-12);
});

test('a directive run reports progress too; onProgress must be a function', async () => {
  const updates = [];
  const agent = function* () {
    yield* L.system`be brief`;
    yield* L.user`hi`;
    return (yield* L.reply).value;
  };
  await run(agent, { models: { default: mockModel([{ type: 'text', text: 'hello' }]) }, onProgress: (p) => updates.push(p) });
  assert.ok(updates.some((p) => p.event === 'model-call'));
  assert.equal(updates.at(-1).done, true);
  await assert.rejects(runPrompt(() => {}, { model: mockModel([]), onProgress: 'yes' }), (e) => e instanceof ConfigError && /'onProgress' must be a function/.test(e.message));
});
