// ctx.requestHumanIntervention (docs/observability.md): asks the run's onInteraction handler with no
// defInteraction; choices are checked and re-asked, a missing handler or a timeout is a skip or the default.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createEngine, runPrompt, mockModel, VirtualClock, ConfigError, NotRunningError } from '../../dist/node.js';

const virtualEngine = () => createEngine({ clock: new VirtualClock(Date.parse('2026-12-01T00:00:00Z')) });
const model = () => mockModel([{ type: 'tool-call', toolName: 'stuck', args: {} }, { type: 'text', text: 'ok' }]);

test('a tool asks for help; the handler sees the event and its answer comes back, a wrong choice is asked again', async () => {
  const engine = await virtualEngine();
  const requests = [];
  let answer;
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defTool('stuck', 'needs a person', {}, async () => {
      answer = await ctx.requestHumanIntervention({ reason: 'the build keeps failing', severity: 'critical', choices: ['retry', 'abort'], data: { failures: 3 } });
      return answer.value;
    });
    ctx.$`go`;
  }, {
    model: model(),
    engine,
    onInteraction: (request) => {
      requests.push(request);
      return request.attempt === 1 ? 'maybe' : 'abort';
    },
  });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(answer, { value: 'abort', skipped: false, attempts: 2 });
  assert.equal(requests.length, 2);
  const [first, second] = requests;
  assert.equal(first.name, 'humanIntervention');
  assert.equal(first.kind, 'choice');
  assert.equal(first.message, 'the build keeps failing');
  assert.deepEqual(first.choices, ['retry', 'abort']);
  assert.deepEqual(first.context, { reason: 'the build keeps failing', severity: 'critical', data: { failures: 3 } });
  assert.match(second.error, /"maybe" is not one of the choices/);
  const types = prompt.events.filter((e) => e.type.startsWith('interaction-')).map((e) => e.type);
  assert.deepEqual(types, ['interaction-request', 'interaction-invalid', 'interaction-request', 'interaction-answer']);
});

test('no handler is a skip with the reason; a timeout gives the default', async () => {
  const engine = await virtualEngine();
  const answers = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('stuck', 'needs a person', {}, async () => {
      answers.push(await ctx.requestHumanIntervention({ reason: 'which region?', message: 'Pick a region' }));
      return 'done';
    });
    ctx.$`go`;
  }, { model: model(), engine });
  await result.text;
  assert.equal(answers[0].skipped, true);
  assert.match(answers[0].reason, /no onInteraction handler/);

  const late = [];
  const { result: second } = await runPrompt((ctx) => {
    ctx.defTool('stuck', 'needs a person', {}, async () => {
      late.push(await ctx.requestHumanIntervention({ reason: 'which region?', timeout: 30, default: 'eu' }));
      return 'done';
    });
    ctx.$`go`;
  }, { model: model(), onInteraction: () => new Promise(() => {}) /* never answers: only the timeout settles it */ });
  await second.text;
  assert.equal(late[0].value, 'eu');
  assert.match(late[0].reason, /no answer in time; the default was used/);
});

test('a bad event is a ConfigError naming the field; outside a run it is NotRunningError', async () => {
  const engine = await virtualEngine();
  const errors = [];
  let saved;
  const { result } = await runPrompt((ctx) => {
    saved = ctx;
    ctx.defTool('stuck', 'needs a person', {}, async () => {
      const choiceProblems = [{ reason: 'x', choices: ['a', 'b'], default: 'c' }, { reason: 'x', choices: ['a', 'a'] }];
      for (const bad of [{}, { reason: 'x', choice: ['a'] }, { reason: 'x', severity: 'urgent' }, { reason: 'x', data: () => 1 }, ...choiceProblems])
        await ctx.requestHumanIntervention(bad).catch((e) => errors.push(e));
      return 'done';
    });
    ctx.$`go`;
  }, { model: model(), engine });
  await result.text;
  assert.ok(errors.every((e) => e instanceof ConfigError), errors.map((e) => e.message).join('\n'));
  assert.match(errors[0].message, /'reason' is required/);
  assert.match(errors[1].message, /did you mean 'choices'/);
  assert.match(errors[2].message, /'severity' must be one of "info", "warning", "critical"/);
  assert.match(errors[3].message, /must be JSON/);
  // As defInteraction refuses them: a default that is not a choice, a choice listed twice.
  assert.equal(errors[4].message, `ctx.requestHumanIntervention: the default must be one of the choices ("a", "b"), got the string "c"`);
  assert.equal(errors[5].message, `ctx.requestHumanIntervention: choices[1] (the string "a") is listed twice; each choice must be distinct`);
  await assert.rejects(saved.requestHumanIntervention({ reason: 'late' }), NotRunningError);
});
