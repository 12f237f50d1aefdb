// AI SDK users feel at home (docs/typescript.md, "Coming from the AI SDK"): runPrompt({model,
// prompt}) without a prompt function, a result read without awaiting the call, the final
// conversation in `response.messages` to continue a chat, and 'mock' rejected with its reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, L, ValidationError, hasToolCall, isLoopFinished, isStepCount, mockModel, resolveModel, run, runPrompt, stepCountIs } from '../../dist/node.js';

test('the AI SDK 7 names (instructions, onStepEnd, onEnd) work as system, onStepFinish and onFinish; giving both names is a ConfigError', async () => {
  const model = mockModel([{ type: 'text', text: 'Paris.' }]);
  const ended = [];
  const text = await runPrompt({ model, instructions: 'Answer in one word.', prompt: 'Capital of France?', onStepEnd: (step) => ended.push(`step ${step.stepNumber}`), onEnd: ({ text }) => ended.push(`end ${text}`) }).text;
  assert.equal(text, 'Paris.');
  assert.match(model.calls[0].system, /Answer in one word\./);
  assert.deepEqual(ended, ['step 0', 'end Paris.']);
  for (const [newer, older] of [['instructions', 'system'], ['onStepEnd', 'onStepFinish'], ['onEnd', 'onFinish']]) {
    const both = { [newer]: newer === 'instructions' ? 'a' : () => {}, [older]: older === 'system' ? 'b' : () => {} };
    await assert.rejects(runPrompt({ model, prompt: 'x', ...both }).text, (e) => e instanceof ConfigError && e.message === `runPrompt config: give '${newer}' or '${older}' (two names of one option), not both`, newer);
  }
  await assert.rejects(runPrompt({ model, instructions: 7, prompt: 'x' }).text, (e) => e instanceof ConfigError && /'instructions' must be a string/.test(e.message));

  const steps = [];
  assert.equal(await run(function* () {
    yield* L.user`Hi`;
    return (yield* L.reply).value;
  }, { models: { default: mockModel([{ type: 'text', text: 'Hello.' }]) }, onStepEnd: (step) => steps.push(step.path.join('/')) }), 'Hello.');
  assert.deepEqual(steps, ['root']);
  await assert.rejects(run(function* () {}, { models: { default: model }, onStepEnd: () => {}, onStepFinish: () => {} }), /run config: give 'onStepEnd' or 'onStepFinish' \(two names of one option\), not both/);
});

test('runPrompt({model, prompt, system}) runs without a prompt function; parts are read without awaiting the call', async () => {
  const model = mockModel([{ type: 'text', text: 'Paris is the capital.' }]);
  const run = runPrompt({ model, system: 'Be terse.', prompt: 'Capital of France?' });
  assert.equal(await run.text, 'Paris is the capital.');
  assert.equal(await run.finishReason, 'stop');
  assert.equal((await run.steps).length, 1);
  let streamed = '';
  for await (const delta of run.textStream) streamed += delta;
  assert.equal(streamed, 'Paris is the capital.');
  assert.ok((await run.usage).inputTokens > 0);
  const [call] = model.calls;
  assert.match(call.system, /Be terse\./);
  assert.deepEqual(call.messages.filter((m) => m.role !== 'system'), [{ role: 'user', content: 'Capital of France?' }]);
  // The same object is still the promise of {result, prompt}.
  const { result, prompt } = await run;
  assert.equal(await result.text, 'Paris is the capital.');
  assert.equal(prompt.steps.length, 1);
  // Each part is one object however often it is read, and the methods work taken off the run.
  assert.equal(run.text, run.text);
  assert.equal(run.fullStream, run.fullStream);
  const { text, toUIMessageStream, toTextStreamResponse } = run;
  assert.equal(await text, 'Paris is the capital.');
  const chunks = [];
  for await (const chunk of toUIMessageStream()) chunks.push(chunk.type);
  assert.ok(chunks.includes('text-delta') && chunks.at(-1) === 'finish', chunks.join(' '));
  assert.equal(await toTextStreamResponse().text(), 'Paris is the capital.');
  // A run that fails to start rejects each part with the start's error.
  const bad = runPrompt({ model, prompt: 'x', tempreature: 1 });
  await assert.rejects(bad.text, /tempreature/);
  await assert.rejects(bad.steps, /tempreature/);
});

test('response.messages is the final conversation; fed back as messages it continues the chat', async () => {
  const model = mockModel([
    { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } },
    { type: 'text', text: 'It is 4 °C in Oslo.' },
    { type: 'end-step' },
    { type: 'text', text: 'Yes, take a coat.' },
  ]);
  const first = runPrompt((ctx) => ctx.defTool('weather', 'Weather', { type: 'object', properties: { city: { type: 'string' } } }, () => ({ tempC: 4 })), {
    model,
    prompt: 'Weather in Oslo?',
  });
  const { messages } = await first.response;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant']);
  assert.deepEqual(messages[0], { role: 'user', content: 'Weather in Oslo?' });
  assert.equal(messages[1].content.find((p) => p.type === 'tool-call').toolName, 'weather');
  assert.deepEqual(messages[3].content, [{ type: 'text', text: 'It is 4 °C in Oslo.' }]);

  const second = runPrompt({ model, messages: [...messages, { role: 'user', content: 'Do I need a coat?' }] });
  assert.equal(await second.text, 'Yes, take a coat.');
  const sent = model.calls[2].messages.filter((m) => m.role !== 'system');
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant', 'user']);
  assert.equal(sent[4].content, 'Do I need a coat?');
  assert.deepEqual((await second.response).messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant', 'user', 'assistant']);
});

test("the model string 'mock' is rejected with the reason and what to use instead", async () => {
  assert.throws(() => resolveModel('mock'), (err) => err instanceof ValidationError && /mockModel\(\[/.test(err.message) && /script/.test(err.message));
  assert.throws(() => resolveModel('mock:echo'), (err) => err instanceof ValidationError && /mockModel\(\[/.test(err.message));
  const run = runPrompt({ model: 'mock', prompt: 'Hi' });
  await assert.rejects(run.text, (err) => err instanceof ValidationError && /'mock' is not a model string/.test(err.message));
  await assert.rejects(run, ValidationError);
});

test('runPrompt(config) without prompt or messages, and bad messages, are ConfigErrors', async () => {
  const model = mockModel([]);
  await assert.rejects(runPrompt({ model }), (err) => err instanceof ConfigError && /needs "prompt" \(a string\) or "messages"/.test(err.message));
  await assert.rejects(runPrompt({ model, messages: [{ role: 'robot', content: 'x' }] }), (err) => err instanceof ConfigError && /messages/.test(err.message));
  await assert.rejects(runPrompt({ model, prompt: 42 }), (err) => err instanceof ConfigError && /prompt/.test(err.message));
  await assert.rejects(runPrompt({ model, promt: 'typo' }), (err) => err instanceof ConfigError && /prompt/.test(err.message));
});

test('responseSchema: result.object is the answer parsed and validated; a refused answer goes back to the model', async () => {
  const { z } = await import('zod');
  const schema = z.object({ city: z.string(), tempC: z.number() });
  const model = mockModel([{ type: 'text', text: 'It is sunny.' }, { type: 'end-step' }, { type: 'text', text: '```json\n{"city": "Lisbon", "tempC": 21}\n```' }]);
  const run = runPrompt({ model, prompt: 'Weather in Lisbon?', responseSchema: schema });
  assert.deepEqual(await run.object, { city: 'Lisbon', tempC: 21 });
  const { result } = await run;
  assert.deepEqual(await result.object, { city: 'Lisbon', tempC: 21 });
  // The model was asked for JSON of the schema, and told why its first answer was refused.
  assert.deepEqual(model.calls[0].responseFormat, { type: 'json', schema: { type: 'object', properties: { city: { type: 'string' }, tempC: { type: 'number' } }, required: ['city', 'tempC'], additionalProperties: false } });
  assert.match(model.calls[1].messages.at(-1).content, /^Your reply was refused: the reply is not JSON: "It is sunny\."/);
  // A JSON Schema works the same, with the prompt function.
  const counted = runPrompt((ctx) => ctx.$`Count`, { model: mockModel([{ type: 'text', text: '{"n": 3}' }]), responseSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } });
  assert.deepEqual(await counted.object, { n: 3 });
  assert.equal(await counted.text, '{"n": 3}');
});

test('responseSchemaRetries: how many refused answers go back, for runPrompt and defAgent; it needs a responseSchema', async () => {
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
  const answers = (...texts) => texts.flatMap((t) => [{ type: 'text', text: t }, { type: 'end-step' }]);
  // 0: the first refusal fails the run; 4: the fifth answer may still pass.
  const once = mockModel(answers('{"n": "x"}', '{"n": 1}'));
  await assert.rejects(runPrompt({ model: once, prompt: 'Count', responseSchema: schema, responseSchemaRetries: 0 }).object, (e) => e instanceof ValidationError && /\(after 1 attempt\)/.test(e.message));
  assert.equal(once.calls.length, 1);
  const patient = mockModel(answers('a', 'b', 'c', 'd', '{"n": 5}'));
  assert.deepEqual(await runPrompt({ model: patient, prompt: 'Count', responseSchema: schema, responseSchemaRetries: 4 }).object, { n: 5 });
  assert.equal(patient.calls.length, 5);
  // A sub-agent's count is its own.
  const child = mockModel(answers('nope', '{"n": 2}'));
  const parent = mockModel([{ type: 'tool-call', toolName: 'counter', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defAgent('counter', 'counts', {}, (_args, c) => c.$`Count`, { model: child, responseSchema: schema, responseSchemaRetries: 0 });
  }, { model: parent });
  assert.equal(await result.text, 'done');
  assert.match((await result.steps)[0].toolResults[0].result.error, /agent "counter": .*\(after 1 attempt\)/);
  assert.equal(child.calls.length, 1);
  // Without a schema it would count nothing: refused, as is a value out of range, before any call.
  const unused = mockModel([]);
  await assert.rejects(runPrompt({ model: unused, prompt: 'x', responseSchemaRetries: 1 }).text, (e) => e instanceof ConfigError && /"responseSchemaRetries" needs "responseSchema"/.test(e.message));
  await assert.rejects(runPrompt({ model: unused, prompt: 'x', responseSchema: schema, responseSchemaRetries: -1 }).text, (e) => e instanceof ConfigError && /responseSchemaRetries/.test(e.message));
  await assert.rejects(runPrompt((ctx) => ctx.defAgent('a', 'd', {}, () => {}, { responseSchemaRetries: 1 }), { model: unused }), (e) => e instanceof ConfigError && /defAgent\("a"\): "responseSchemaRetries" needs "responseSchema"/.test(e.message));
  // An agent's schema is checked when the agent is defined, not first when the model calls it.
  await assert.rejects(runPrompt((ctx) => ctx.defAgent('a', 'd', {}, () => {}, { responseSchema: 'json' }), { model: unused }), (e) => e instanceof ConfigError && /agent "a" responseSchema: expected a zod schema or a JSON Schema object, got string/.test(e.message));
  assert.equal(unused.calls.length, 0);
});

test('responseSchema: answers that keep failing the schema are a ValidationError naming the problem; no schema, no object', async () => {
  const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
  const wrong = mockModel(Array.from({ length: 3 }, (_, i) => [{ type: 'text', text: `{"n": "three ${i}"}` }, { type: 'end-step' }]).flat());
  const failed = runPrompt({ model: wrong, prompt: 'Count', responseSchema: schema });
  await assert.rejects(failed.object, (e) => e instanceof ValidationError && /does not match the schema.*\(after 3 attempts\)/.test(e.message));
  await assert.rejects(failed.text, ValidationError);
  assert.equal(wrong.calls.length, 3);
  // Without a responseSchema the answer is text only.
  const plain = runPrompt({ model: mockModel([{ type: 'text', text: '{"n": 3}' }]), prompt: 'Count' });
  assert.equal(await plain.text, '{"n": 3}');
  await assert.rejects(plain.object, (e) => e instanceof ConfigError && /no responseSchema/.test(e.message));
  // ... also for a reader that asked before the run ended.
  const early = runPrompt({ model: mockModel([{ type: 'text', text: 'later' }], { delayMs: 5 }), prompt: 'Count' });
  const asked = early.object;
  await assert.rejects(asked, (e) => e instanceof ConfigError && /no responseSchema/.test(e.message));
  assert.equal(await early.text, 'later');
  assert.equal(early.object, asked);
  // A schema that is not one is refused before any model call.
  const model = mockModel([]);
  await assert.rejects(runPrompt({ model, prompt: 'x', responseSchema: 42 }).text, (e) => e instanceof ConfigError && /runPrompt config\.responseSchema: expected a zod schema or a JSON Schema object, got number 42/.test(e.message));
  assert.equal(model.calls.length, 0);
});

test('onStepFinish, onFinish and onError: called as the AI SDK calls them, awaited before the result settles', async () => {
  const later = () => new Promise((resolve) => setTimeout(resolve, 5));
  const seen = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'double', args: { n: 2 } }, { type: 'text', text: '{"n": 4}' }]);
  const run = runPrompt((ctx) => {
    ctx.defTool('double', 'Doubles', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }) => n * 2);
    ctx.$`Double 2`;
  }, {
    model,
    responseSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    onStepFinish: async (step) => {
      await later();
      seen.push(['step', step]);
    },
    onFinish: async (finish) => {
      await later();
      seen.push(['finish', finish]);
    },
    onError: () => seen.push(['error']),
  });
  const { result } = await run;
  const steps = await result.steps;
  // Both steps were reported, in order and as result.steps holds them, then the finish.
  assert.deepEqual(seen.map(([kind]) => kind), ['step', 'step', 'finish']);
  assert.deepEqual(seen[0][1], steps[0]);
  assert.deepEqual(steps[0].toolResults, [{ type: 'tool-result', toolCallId: 'call_1', toolName: 'double', args: { n: 2 }, result: 4 }]);
  const finish = seen[2][1];
  assert.equal(finish.text, await result.text);
  assert.deepEqual(finish.steps, steps);
  assert.deepEqual(finish.usage, await result.usage);
  assert.equal(finish.finishReason, 'stop');
  assert.deepEqual(finish.object, { n: 4 });
  assert.deepEqual(finish.response, await result.response);
  // As the AI SDK's: totalUsage, and the last step's tool calls and results (none: it answered).
  assert.deepEqual(finish.totalUsage, await result.totalUsage);
  assert.equal((await result.response).modelId, steps.at(-1).model, "response.modelId: the last step's model, as the AI SDK's");
  assert.deepEqual([finish.toolCalls, finish.toolResults], [[], []]);
  // A run stopped after a step with a tool call finishes with that call and its result.
  let stopped;
  const { result: cut } = await runPrompt((ctx) => {
    ctx.defTool('double', 'Doubles', { type: 'object', properties: { n: { type: 'number' } } }, ({ n }) => n * 2);
    ctx.$`Double 2`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'double', args: { n: 2 } }]), stopWhen: stepCountIs(1), onFinish: (f) => { stopped = f; } });
  await cut.text;
  assert.deepEqual(stopped.toolCalls, await cut.toolCalls);
  assert.deepEqual(stopped.toolCalls.map((c) => [c.toolName, c.args]), [['double', { n: 2 }]]);
  assert.deepEqual(stopped.toolResults.map((r) => r.result), [4]);

  // A failed run calls onError with the error it rejects with, and not onFinish.
  const calls = [];
  const failed = runPrompt({
    model: { provider: 'down', modelId: 'm', generate: async () => Promise.reject(new Error('the model is down')) },
    prompt: 'x',
    maxRetries: 0,
    onFinish: () => calls.push('finish'),
    onError: async ({ error }) => {
      await later();
      calls.push(error);
    },
  });
  const error = await failed.text.then(() => null, (e) => e);
  assert.match(error?.message ?? '', /the model is down/);
  assert.deepEqual(calls, [error]);

  // The next step waits for onStepFinish's promise, sub-agents' steps are not reported, and a step
  // the response schema refuses is reported too.
  const order = [];
  const slow = mockModel([
    { type: 'tool-call', toolName: 'helper', args: { task: 't' } },
    { type: 'text', text: 'not json' },
    { type: 'end-step' },
    { type: 'text', text: '{"n": 1}' },
  ]);
  const helperModel = mockModel([{ type: 'text', text: 'helped' }]);
  const { result: waited } = await runPrompt((ctx) => {
    ctx.defAgent('helper', 'Helps', { type: 'object', properties: { task: { type: 'string' } } }, ({ task }, sub) => sub.$`${task}`, { model: helperModel });
    ctx.$`go`;
  }, {
    model: {
      provider: 'slow', modelId: 'm',
      generate: async (request) => {
        order.push(`model ${order.filter((o) => o.startsWith('model')).length}`);
        return slow.generate(request);
      },
    },
    responseSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
    onStepFinish: async (step) => {
      await later();
      order.push(`step ${step.stepNumber} done`);
    },
  });
  assert.deepEqual(await waited.object, { n: 1 });
  assert.deepEqual(order, ['model 0', 'step 0 done', 'model 1', 'step 1 done', 'model 2', 'step 2 done']);
  assert.equal(helperModel.calls.length, 1);

  // A callback that throws is reported as an error event, never as the run's failure.
  const { result: ok, prompt } = await runPrompt({
    model: mockModel([{ type: 'text', text: 'fine' }]),
    prompt: 'x',
    onStepFinish: () => {
      throw new Error('step bug');
    },
    onFinish: async () => Promise.reject(new Error('finish bug')),
  });
  assert.equal(await ok.text, 'fine');
  const reported = prompt.events.filter((e) => e.type === 'error' && e.source === 'handler').map((e) => e.error.message);
  assert.deepEqual(reported, ['event handler onStepFinish failed on step-finish: step bug', 'event handler onFinish failed on run-finish: finish bug']);
  // Typos of them are refused with the right name.
  await assert.rejects(runPrompt({ model: mockModel([]), prompt: 'x', onStepFinished: () => {} }).text, /unknown option 'onStepFinished' \(did you mean 'onStepFinish'\?/);
});

test('stopWhen as the AI SDK writes it: isStepCount (stepCountIs), isLoopFinished, hasToolCall, ({ steps }) conditions and lists of them', async () => {
  const looping = () => mockModel([
    { type: 'tool-call', toolName: 'search', args: {} },
    { type: 'tool-call', toolName: 'search', args: {} },
    { type: 'tool-call', toolName: 'answer', args: {} },
    { type: 'tool-call', toolName: 'search', args: {} },
    { type: 'text', text: 'done' },
  ]);
  const stepsWith = async (stopWhen) => {
    const { result } = await runPrompt((ctx) => {
      ctx.defTool('search', 'Searches', {}, () => 'found');
      ctx.defTool('answer', 'Answers', {}, () => 'answered');
      ctx.$`go`;
    }, { model: looping(), stopWhen });
    return (await result.steps).map((s) => s.toolCalls[0]?.toolName ?? s.text);
  };
  assert.deepEqual(await stepsWith(undefined), ['search', 'search', 'answer', 'search', 'done']);
  assert.deepEqual(await stepsWith(isStepCount(2)), ['search', 'search']);
  assert.deepEqual(await stepsWith(stepCountIs(1)), ['search']);
  assert.deepEqual(await stepsWith(isLoopFinished()), ['search', 'search', 'answer', 'search', 'done']);
  assert.deepEqual(await stepsWith(hasToolCall('answer')), ['search', 'search', 'answer']);
  assert.deepEqual(await stepsWith(hasToolCall('other', 'search')), ['search']);
  // A list stops at the first condition met; a condition sees every step so far, and the step itself.
  const seen = [];
  const watch = ({ steps, stepNumber }) => {
    seen.push([stepNumber, steps.map((s) => s.stepNumber)]);
    return false;
  };
  assert.deepEqual(await stepsWith([watch, stepCountIs(4), hasToolCall('answer')]), ['search', 'search', 'answer']);
  assert.deepEqual(seen, [[0, [0]], [1, [0, 1]], [2, [0, 1, 2]]]);
  assert.deepEqual(await stepsWith(async (step) => step.stepNumber === 0), ['search']);

  assert.throws(() => isStepCount(0), (e) => e instanceof ConfigError && /isStepCount: expected an integer >= 1, got the number 0/.test(e.message));
  assert.throws(() => hasToolCall(''), (e) => e instanceof ConfigError && /hasToolCall: expected tool names, got/.test(e.message));
  assert.throws(() => hasToolCall(), (e) => e instanceof ConfigError && /expected one tool name or more, got none/.test(e.message));
  await assert.rejects(runPrompt({ model: looping(), prompt: 'x', stopWhen: [stepCountIs(2), 'never'] }).text, (e) => e instanceof ConfigError && /'stopWhen' must be a function or an array of conditions/.test(e.message));
});

test('activeTools and prepareStep, as in the AI SDK: the offered tools of every step, and changes to one step', async () => {
  const define = (ctx) => {
    ctx.defTool('search', 'Searches', {}, () => 'found');
    ctx.defTool('answer', 'Answers', {}, () => 'answered');
    ctx.defTool('delete', 'Deletes', {}, () => 'deleted');
    ctx.$`go`;
  };
  const offered = (model) => model.calls.map((call) => (call.tools ?? []).map((t) => t.name));
  const model = mockModel([{ type: 'tool-call', toolName: 'search', args: {} }, { type: 'tool-call', toolName: 'answer', args: {} }, { type: 'text', text: 'done' }]);
  const other = mockModel([{ type: 'text', text: 'from the other model' }]);
  const inputs = [];
  const { result } = await runPrompt(define, {
    model,
    activeTools: ['search', 'answer'],
    prepareStep: ({ stepNumber, steps, lastToolCall }) => {
      inputs.push([stepNumber, steps.length, lastToolCall?.toolName ?? null]);
      if (stepNumber === 1) return { activeTools: ['answer'], toolChoice: 'required' };
      if (stepNumber === 2) return { model: other, system: 'Be brief.' };
      return undefined;
    },
  });
  assert.equal(await result.text, 'from the other model');
  assert.deepEqual(offered(model), [['search', 'answer'], ['answer']]);
  assert.equal(model.calls[1].toolChoice, 'required');
  assert.deepEqual(offered(other), [['search', 'answer']], 'prepareStep changed step 1 only');
  assert.equal(other.calls[0].messages[0].content, 'Be brief.');
  assert.deepEqual(inputs, [[0, 0, null], [1, 1, 'search'], [2, 2, 'answer']]);

  // A misspelled tool name, a bad model from prepareStep, a wrong type: clear errors before or at the step.
  await assert.rejects(runPrompt(define, { model: mockModel([]), activeTools: ['serch'] }).text, (e) => e instanceof ConfigError && /activeTools: unknown tool "serch" \(did you mean "search"\? defined tools: search, answer, delete\)/.test(e.message));
  await assert.rejects(runPrompt(define, { model: mockModel([]), activeTools: 'search' }).text, (e) => e instanceof ConfigError && /'activeTools' must be an array of tool names/.test(e.message));
  await assert.rejects(runPrompt(define, { model: mockModel([]), prepareStep: () => ({ model: 42 }) }).text, (e) => e instanceof ConfigError && /prepareStep returned a bad 'model'/.test(e.message));
  await assert.rejects(runPrompt(define, { model: mockModel([]), prepareStep: () => ({ activeTools: ['answr'] }) }).text, { message: /^prepareStep: "activeTools" names unknown tool "answr" \(did you mean "answer"\?/ });
  await assert.rejects(runPrompt(define, { model: mockModel([]), prepareStep: () => Promise.reject(new Error('no plan')) }).text, { message: /^prepareStep failed: no plan/ });
  // A defHook runs before prepareStep, so prepareStep's changes win.
  const order = [];
  const both = mockModel([{ type: 'text', text: 'ok' }]);
  await runPrompt((ctx) => {
    define(ctx);
    ctx.defHook(() => (order.push('defHook'), { activeTools: ['delete'], system: 'from the hook' }));
  }, { model: both, prepareStep: () => (order.push('prepareStep'), { activeTools: ['search'] }) }).text;
  assert.deepEqual(order, ['defHook', 'prepareStep']);
  assert.deepEqual(offered(both), [['search']]);
  // A name listed twice is offered once.
  const twice = mockModel([{ type: 'text', text: 'ok' }]);
  await runPrompt(define, { model: twice, activeTools: ['search', 'answer', 'search'] }).text;
  assert.deepEqual(offered(twice), [['search', 'answer']]);
  assert.equal(both.calls[0].messages[0].content, 'from the hook');
});

test('tools in the config, as the AI SDK takes them: inputSchema (or parameters), execute, options; tool() returns the definition', async () => {
  const { z } = await import('zod');
  const { tool } = await import('../../dist/node.js');
  const model = mockModel([
    { type: 'tool-call', toolName: 'weather', args: { city: 'Lisbon' } },
    { type: 'tool-call', toolName: 'add', args: { a: 2, b: 3 } },
    { type: 'text', text: 'done' },
  ]);
  const weather = tool({ description: 'The weather in a city', inputSchema: z.object({ city: z.string() }), execute: ({ city }) => ({ city, tempC: 21 }) });
  const { result } = await runPrompt({
    model,
    prompt: 'Weather, then 2 + 3',
    tools: {
      weather,
      add: { parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] }, execute: ({ a, b }) => a + b, options: { idempotent: true } },
    },
  });
  assert.equal(await result.text, 'done');
  assert.deepEqual((await result.steps).flatMap((s) => s.toolResults.map((r) => r.result)), [{ city: 'Lisbon', tempC: 21 }, 5]);
  assert.deepEqual(model.calls[0].tools.map((t) => [t.name, t.description]), [['weather', 'The weather in a city'], ['add', '']]);
  assert.deepEqual(model.calls[0].tools[0].parameters.required, ['city']);

  // With a prompt function too: the config's tools come first; a name used twice is refused.
  const both = mockModel([{ type: 'text', text: 'ok' }]);
  await runPrompt((ctx) => ctx.defTool('search', 'Searches', {}, () => 'found'), { model: both, tools: { weather } }).text;
  assert.deepEqual(both.calls[0].tools.map((t) => t.name), ['weather', 'search']);
  await assert.rejects(runPrompt((ctx) => ctx.defTool('weather', 'again', {}, () => 1), { model: mockModel([]), tools: { weather } }).text, /weather/);

  const bad = (tools) => runPrompt({ model: mockModel([]), prompt: 'x', tools }).text;
  await assert.rejects(bad([weather]), (e) => e instanceof ConfigError && /'tools' must be a record of tools/.test(e.message));
  await assert.rejects(bad({ w: { execute: () => 1 } }), (e) => e instanceof ConfigError && /tools\.w: give the arguments' schema once, as 'inputSchema' \(or 'parameters'\)/.test(e.message));
  await assert.rejects(bad({ w: { inputSchema: {}, parameters: {}, execute: () => 1 } }), (e) => e instanceof ConfigError && /tools\.w: give the arguments' schema once/.test(e.message));
  await assert.rejects(bad({ w: { inputSchema: {}, exec: () => 1 } }), (e) => e instanceof ConfigError && /tools\.w: unknown field 'exec' \(did you mean 'execute'\?/.test(e.message));
  // Without execute the caller executes it (caller-tools.test.mjs); a misspelled execute is no such tool (above).
  await assert.rejects(bad({ w: { inputSchema: {}, execute: 5 } }), (e) => e instanceof ConfigError && /tools\.w: 'execute' must be a function, got the number 5/.test(e.message));
  await assert.rejects(bad({ 'my tool': { inputSchema: {}, execute: () => 1 } }), (e) => e instanceof ConfigError && /^runPrompt config: tools\.my tool: defTool: invalid name "my tool"/.test(e.message));
  await assert.rejects(bad({ t: { inputSchema: 42, execute: () => 1 } }), (e) => e instanceof ConfigError && /^runPrompt config: tools\.t: tool "t" parameters: expected a zod schema or a JSON Schema object, got number 42/.test(e.message));
});

test('reasoningText: each step that had reasoning carries it, and the result gives the last step\'s, as the AI SDK does', async () => {
  const answers = [
    [{ type: 'reasoning', text: 'I should look it up.' }, { type: 'tool-call', toolCallId: 'c1', toolName: 'look', args: {}, argsText: '{}' }],
    [{ type: 'reasoning', text: 'Found ' }, { type: 'reasoning', text: 'it.', signature: 'sig' }, { type: 'text', text: 'Here.' }],
  ];
  const model = {
    provider: 'custom', modelId: 'thinker',
    async generate(request) {
      const content = answers[request.messages.filter((m) => m.role === 'assistant').length];
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
  const events = [];
  const run = runPrompt((ctx) => {
    ctx.defTool('look', 'Looks', {}, () => 'seen');
    ctx.$`go`;
  }, { model, onEvent: (e) => events.push(e) });
  assert.equal(await run.reasoningText, 'Found it.');
  const steps = await run.steps;
  assert.deepEqual(steps.map((s) => s.reasoningText), ['I should look it up.', 'Found it.']);
  assert.deepEqual(events.filter((e) => e.type === 'step-finish').map((e) => e.reasoningText), ['I should look it up.', 'Found it.']);
  // A step without reasoning has none (not an empty string).
  const plain = await runPrompt({ model: mockModel([{ type: 'text', text: 'hi' }]), prompt: 'x' });
  assert.equal(await plain.result.reasoningText, undefined);
  assert.equal('reasoningText' in (await plain.result.steps)[0], false);
});

test('onAbort: a run cancelled through its abortSignal calls onAbort with the steps before and the reason, not onError; without onAbort, onError gets the AbortError', async () => {
  const cancelled = (callbacks) => {
    const controller = new AbortController();
    let calls = 0;
    const model = {
      provider: 'custom', modelId: 'm',
      generate: (_request, { signal }) => {
        calls += 1;
        if (calls === 1) return Promise.resolve({ content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'look', args: {}, argsText: '{}' }], finishReason: 'tool-calls', usage: { inputTokens: 1, outputTokens: 1 } });
        setTimeout(() => controller.abort(new Error('the user closed the tab')), 5);
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    };
    return runPrompt((ctx) => {
      ctx.defTool('look', 'Looks', {}, () => 'seen');
      ctx.$`go`;
    }, { model, abortSignal: controller.signal, ...callbacks }).text.then(() => 'finished', (e) => e.name);
  };
  const seen = [];
  assert.equal(await cancelled({ onAbort: ({ steps, reason }) => seen.push(['abort', steps.map((s) => s.toolCalls[0]?.toolName), reason?.message]), onError: () => seen.push(['error']) }), 'AbortError');
  assert.deepEqual(seen, [['abort', ['look'], 'the user closed the tab']], "the signal's reason, as the AI SDK 7's onAbort gets it");
  const errors = [];
  assert.equal(await cancelled({ onError: ({ error }) => errors.push(error.name) }), 'AbortError');
  assert.deepEqual(errors, ['AbortError']);
});

test('prepareStep\'s instructions and messages carry forward to the later steps (the AI SDK 7\'s rule), its other changes do not', async () => {
  const script = () => [
    { type: 'tool-call', toolCallId: 'c1', toolName: 'note', args: { n: 1 } },
    { type: 'tool-call', toolCallId: 'c2', toolName: 'note', args: { n: 2 } },
    { type: 'text', text: 'done' },
  ];
  const seen = [];
  const config = (model) => ({
    model,
    prompt: 'A long first question that the first step trims away',
    tools: { note: { description: 'Notes', inputSchema: { type: 'object', properties: { n: { type: 'number' } } }, execute: ({ n }) => `noted ${n}` } },
    prepareStep: ({ stepNumber, messages }) => {
      seen.push(messages.map((m) => m.role).join(','));
      if (stepNumber === 0) return { instructions: 'Be brief.', messages: [{ role: 'user', content: 'Short question' }], toolChoice: 'required' };
      return undefined;
    },
  });
  const model = mockModel(script());
  const run = runPrompt(config(model));
  assert.equal(await run.text, 'done');
  const systems = model.calls.map((c) => c.messages.find((m) => m.role === 'system')?.content);
  assert.deepEqual(systems, ['Be brief.', 'Be brief.', 'Be brief.']);
  const firstUser = model.calls.map((c) => c.messages.find((m) => m.role === 'user')?.content);
  assert.deepEqual(firstUser, ['Short question', 'Short question', 'Short question'], 'the trimmed conversation goes on');
  assert.deepEqual(model.calls.map((c) => c.messages.length), [2, 4, 6]);
  assert.deepEqual(model.calls.map((c) => c.toolChoice), ['required', undefined, undefined], 'toolChoice was step 0\'s only');
  assert.deepEqual(seen, ['user', 'user,assistant,tool', 'user,assistant,tool,assistant,tool'], 'prepareStep sees the messages as they are sent');
  // The run's own conversation keeps every message (the override is what the model is sent).
  assert.equal((await run.response).messages[0].content, 'A long first question that the first step trims away');
});

test('allowSystemInMessages: false refuses a system message in messages; include accepts only what lmthing does (no bodies kept)', async () => {
  const messages = [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }];
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  assert.equal(await runPrompt({ model, messages }).text, 'ok', 'taken by default');
  assert.equal(model.calls[0].messages[0].content, 'Be terse.');
  assert.equal(await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), messages, allowSystemInMessages: true }).text, 'ok');
  await assert.rejects(runPrompt({ model, messages, allowSystemInMessages: false }), (e) =>
    e instanceof ConfigError && /messages\[0\] is a system message, and allowSystemInMessages is false: give it as 'instructions'/.test(e.message));
  assert.equal(await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), messages: messages.slice(1), allowSystemInMessages: false, instructions: 'Be terse.' }).text, 'ok');
  assert.equal(await runPrompt({ model: mockModel([{ type: 'text', text: 'ok' }]), prompt: 'x', include: { requestBody: false, responseBody: false } }).text, 'ok');
  await assert.rejects(runPrompt({ model, prompt: 'x', include: { requestMessages: true } }), /include: 'requestMessages: true' is not supported: lmthing's steps keep no request or response bodies/);
  await assert.rejects(runPrompt({ model, prompt: 'x', include: { requestBodies: false } }), /unknown option 'requestBodies' \(did you mean 'requestBody'\?/);
  await assert.rejects(runPrompt({ model, prompt: 'x', allowSystemInMessages: 'no' }), /'allowSystemInMessages' must be true or false/);
});
