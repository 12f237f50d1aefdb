// runPrompt({ output }) with the AI SDK's Output helpers (js/prompt/output.ts): object, array,
// choice, json, text; result.output, partialOutputStream; the schema's name and description.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, mockModel, Output, runPrompt, ValidationError } from '../../dist/node.js';

/** A model that streams each answer of `answers` in 4-character deltas, one answer per call. */
function streaming(answers) {
  const requests = [];
  return {
    provider: 'custom', modelId: 'stream', requests,
    async generate(request, { onDelta }) {
      requests.push(request);
      const text = answers[requests.length - 1];
      for (let i = 0; i < text.length; i += 4) {
        onDelta?.({ type: 'text-delta', text: text.slice(i, i + 4) });
        await new Promise((r) => setImmediate(r));
      }
      return { content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } };
    },
  };
}

const collect = async (stream) => {
  const values = [];
  for await (const value of stream) values.push(value);
  return values;
};

test('Output.object: result.output and result.object are zod\'s output; the name and description reach the model', async () => {
  const model = mockModel([{ type: 'text', text: '{"city": "paris", "days": 3}' }]);
  const run = runPrompt({
    model, prompt: 'Plan a trip.',
    output: Output.object({ schema: z.object({ city: z.string().transform((s) => s.toUpperCase()), days: z.number().transform((d) => d * 24) }), name: 'trip', description: 'A trip plan' }),
  });
  assert.deepEqual(await run.output, { city: 'PARIS', days: 72 });
  assert.deepEqual(await run.object, { city: 'PARIS', days: 72 });
  const format = model.calls[0].responseFormat;
  assert.equal(format.name, 'trip');
  assert.equal(format.description, 'A trip plan');
  assert.deepEqual(format.schema.required, ['city', 'days']);
});

test('Output.array: elements are checked one by one (zod too), refused ones go back; partialOutputStream gives complete elements', async () => {
  const Item = z.object({ n: z.number().refine((n) => n > 0, 'must be positive'), label: z.string() });
  const model = streaming([
    '{"elements": [{"n": 1, "label": "a"}, {"n": -2, "label": "b"}]}',
    '{"elements": [{"n": 1, "label": "a"}, {"n": 2, "label": "b"}, {"n": 3, "label": "c"}]}',
  ]);
  const run = runPrompt({ model, prompt: 'List.', output: Output.array({ element: Item, minItems: 1 }) });
  const partials = await collect(run.partialOutputStream);
  assert.deepEqual(await run.output, [{ n: 1, label: 'a' }, { n: 2, label: 'b' }, { n: 3, label: 'c' }]);
  assert.equal(model.requests.length, 2);
  assert.match(model.requests[1].messages.at(-1).content.map?.((p) => p.text).join('') ?? model.requests[1].messages.at(-1).content, /\/elements\/1\/n: must be positive/);
  const schema = model.requests[0].responseFormat.schema;
  assert.deepEqual(schema.required, ['elements']);
  assert.equal(schema.properties.elements.minItems, 1);
  // Only complete elements while streaming: never a half element like {"n": 3}.
  for (const partial of partials) for (const item of partial) assert.ok(typeof item.label === 'string', JSON.stringify(partials));
  assert.deepEqual(partials.at(-1), [{ n: 1, label: 'a' }, { n: 2, label: 'b' }, { n: 3, label: 'c' }]);
  assert.ok(partials.some((p) => p.length === 1), 'the first element came before the answer was complete');
});

test('Output.choice: one of the options; a refused choice goes back; partial output once only one option fits', async () => {
  const model = streaming(['{"result": "maybe"}', '{"result": "sunny"}']);
  const run = runPrompt({ model, prompt: 'Weather?', output: Output.choice({ options: ['sunny', 'rainy', 'snowy'] }) });
  const partials = await collect(run.partialOutputStream);
  assert.equal(await run.output, 'sunny');
  assert.deepEqual([...new Set(partials)], ['sunny']);
  assert.deepEqual(model.requests[0].responseFormat.schema.properties.result.enum, ['sunny', 'rainy', 'snowy']);
});

test('Output.json: any JSON, and no schema is sent (the provider\'s JSON mode); Output.text: the text', async () => {
  const model = mockModel([{ type: 'text', text: '```json\n[1, {"a": null}]\n```' }]);
  assert.deepEqual(await runPrompt({ model, prompt: 'x', output: Output.json() }).output, [1, { a: null }]);
  assert.deepEqual(model.calls[0].responseFormat, { type: 'json' });
  const text = runPrompt({ model: mockModel([{ type: 'text', text: 'plain' }]), prompt: 'x', output: Output.text() });
  assert.equal(await text.output, 'plain');
  await assert.rejects(text.object, ConfigError);
  assert.equal(await runPrompt({ model: mockModel([{ type: 'text', text: 'no output' }]), prompt: 'x' }).output, 'no output');
});

test('Output: bad input is refused with what is expected', async () => {
  const model = mockModel([]);
  assert.throws(() => Output.array({}), /Output\.array\(\): 'element' is required/);
  assert.throws(() => Output.array({ element: {}, minItems: 3, maxItems: 2 }), /minItems \(3\) is above maxItems \(2\)/);
  assert.throws(() => Output.choice({ options: [] }), /at least one choice/);
  assert.throws(() => Output.array({ element: 'a string' }), /Output\.array\(\): element: expected a zod schema or a JSON Schema object, got/);
  assert.throws(() => Output.object({ schema: z.object({ at: z.date() }) }), /Output\.object\(\): schema: z\.date\(\) cannot be answered in JSON/);
  assert.throws(() => Output.object({ schema: {}, name: 'has space' }), /'name' must be a name of 1 to 64 letters/);
  assert.throws(() => Output.object({ schema: {}, nmae: 'x' }), /unknown option 'nmae' \(did you mean 'name'/);
  await assert.rejects(runPrompt({ model, prompt: 'x', output: { type: 'object' } }).text, /'output' must be made by Output\.object\(\)/);
  await assert.rejects(runPrompt({ model, prompt: 'x', output: Output.json(), responseSchema: {} }).text, /give "responseSchema" or "output", not both/);
  await assert.rejects(runPrompt({ model, prompt: 'x', output: Output.text(), responseSchemaRetries: 1 }).text, /"responseSchemaRetries" needs "responseSchema" or a structured "output"/);
  const refused = runPrompt({ model: mockModel([{ type: 'text', text: '{"result": "no"}' }]), prompt: 'x', output: Output.choice({ options: ['yes'] }), responseSchemaRetries: 0 });
  await assert.rejects(refused.output, (e) => e instanceof ValidationError && /\/result: must be equal to one of the allowed values/.test(e.message));
});

test('Output on a durable run: the replay, with no model, gives the same output and partial outputs', async () => {
  const { memoryStorage, replay } = await import('../../dist/node.js');
  const output = Output.array({ element: z.object({ n: z.number() }) });
  const run = runPrompt({ model: streaming(['{"elements": [{"n": 1}, {"n": 2}]}']), prompt: 'x', output, durable: { id: 'output-1', storage: memoryStorage() } });
  const partials = await collect(run.partialOutputStream);
  const { prompt } = await run;
  const noModel = { provider: 'custom', modelId: 'stream', generate: () => Promise.reject(new Error('the model was called during a replay')) };
  const again = replay(prompt.journal, () => {}, { model: noModel, prompt: 'x', output });
  assert.deepEqual(await collect(again.partialOutputStream), partials);
  assert.deepEqual(await again.output, [{ n: 1 }, { n: 2 }]);
});

test('elementStream: each element of an Output.array once, as soon as it is complete; a refused answer continues from where it stopped', async () => {
  const Item = z.object({ n: z.number().refine((n) => n > 0, 'must be positive') });
  const model = streaming([
    '{"elements": [{"n": 1}, {"n": -2}, {"n": 3}]}',
    '{"elements": [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]}',
  ]);
  const run = runPrompt({ model, prompt: 'List.', output: Output.array({ element: Item.transform(({ n }) => n * 10) }) });
  const seen = [];
  for await (const element of run.elementStream) seen.push(element);
  assert.deepEqual(seen, [10, 20, 30, 40], 'zod\'s output, each once: the refused -2 held the stream until the next answer');
  assert.deepEqual(await run.output, [10, 20, 30, 40]);
  const plain = runPrompt({ model: mockModel([{ type: 'text', text: '{"a": 1}' }]), prompt: 'x', output: Output.json() });
  await assert.rejects(async () => {
    for await (const _ of plain.elementStream);
  }, (e) => e instanceof ConfigError && /the run's output is not an array/.test(e.message));
});

test('a schema that accepts any JSON sends none, in a directive reply as in Output.json (one responseFormat builder)', async () => {
  const { L, run } = await import('../../dist/node.js');
  const model = mockModel([{ type: 'text', text: '{"any": [1]}' }]);
  const value = await run(function* () {
    yield* L.user`Anything.`;
    return (yield* L.reply({})).value;
  }, { models: { default: model } });
  assert.deepEqual(value, { any: [1] });
  assert.deepEqual(model.calls[0].responseFormat, { type: 'json' });
});

test('experimental_output, the AI SDK 5\'s name of output, works the same; both names are a ConfigError', async () => {
  const run = runPrompt({ model: mockModel([{ type: 'text', text: '{"city": "oslo"}' }]), prompt: 'Where?', experimental_output: Output.object({ schema: z.object({ city: z.string() }) }) });
  assert.deepEqual(await run.output, { city: 'oslo' });
  const output = Output.object({ schema: z.object({ city: z.string() }) });
  await assert.rejects(runPrompt({ model: mockModel([]), prompt: 'x', output, experimental_output: output }), (e) => e instanceof ConfigError && /give 'experimental_output' or 'output'/.test(e.message));
});

test('result.output of a run that ended on a tool step (stopWhen) is a ValidationError saying no output was generated', async () => {
  const { isStepCount } = await import('../../dist/node.js');
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defTool('look', 'Looks', { type: 'object', properties: {} }, () => 'Paris');
      ctx.$`Where?`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'look', args: {} }, { type: 'text', text: '{"city":"Paris"}' }]), output: Output.object({ schema: z.object({ city: z.string() }) }), stopWhen: isStepCount(1) },
  );
  await assert.rejects(result.output, (e) => e instanceof ValidationError && /the run ended without a final answer to parse \(its last step finished with "tool-calls", calling tools\)/.test(e.message));
});
