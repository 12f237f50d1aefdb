// zod's own parse after the engine's JSON Schema check (js/zod-parse.ts): refinements refuse like
// the schema does, transforms, defaults and coercion give user code zod's output, as in the AI SDK.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, L, memoryStorage, mockModel, replay, run, runPrompt, validate, ValidationError } from '../../dist/node.js';

const even = z.number().refine((n) => n % 2 === 0, 'must be even');
const Answer = z.object({
  count: even,
  name: z.string().transform((s) => s.toUpperCase()),
  at: z.coerce.date(),
  unit: z.string().default('kg'),
});

/** The text of the last user message the model got (the engine's feedback after a refused answer). */
const lastUser = (request) => {
  const { content } = request.messages.filter((m) => m.role === 'user').at(-1);
  return typeof content === 'string' ? content : content.map((p) => p.text ?? '').join('');
};

test('a structured answer: zod refinements refuse it and the model answers again; result.object is zod\'s output', async () => {
  const model = mockModel([
    { type: 'text', text: '{"count": 3, "name": "box", "at": "2026-12-05T10:00:00Z"}' }, { type: 'end-step' },
    { type: 'text', text: '{"count": 4, "name": "box", "at": "2026-12-05T10:00:00Z"}' },
  ]);
  let finished;
  const result = runPrompt({ model, prompt: 'How many?', responseSchema: Answer, onFinish: ({ object }) => { finished = object; } });
  const object = await result.object;
  assert.deepEqual({ ...object, at: object.at.toISOString() }, { count: 4, name: 'BOX', at: '2026-12-05T10:00:00.000Z', unit: 'kg' });
  assert.ok(object.at instanceof Date, 'z.coerce.date() gives a Date');
  assert.equal(finished, object, 'onFinish gets the same parsed object');
  assert.equal(model.calls.length, 2);
  assert.match(lastUser(model.calls[1]), /Your reply was refused: the reply does not match the schema; \/count: must be even\./);
  // The JSON Schema the model got describes what zod accepts: the transform's input, the default optional.
  const schema = model.calls[0].responseFormat.schema;
  assert.deepEqual(schema.properties.name, { type: 'string' });
  assert.deepEqual(schema.properties.at, { type: 'string', format: 'date-time' });
  assert.deepEqual(schema.required, ['count', 'name', 'at']);
  assert.equal(schema.additionalProperties, false);
});

test('a structured answer zod keeps refusing fails with a ValidationError carrying zod\'s issues', async () => {
  const model = mockModel([{ type: 'text', text: '{"count": 3, "name": "a", "at": "2026-12-05T10:00:00Z"}' }]);
  const error = await runPrompt({ model, prompt: 'x', responseSchema: Answer, responseSchemaRetries: 0 }).object.then(() => null, (e) => e);
  assert.ok(error instanceof ValidationError, String(error));
  assert.match(error.message, /\/count: must be even \(after 1 attempt\)/);
  assert.deepEqual(error.errors.map((e) => e.instancePath), ['/count']);
});

test('tool arguments: execute gets zod\'s output; refused arguments are the tool\'s error, read by the model', async () => {
  const calls = [];
  const model = mockModel([
    { type: 'tool-call', toolName: 'weigh', args: { count: 3, name: 'box', at: '2026-12-05T10:00:00Z' } },
    { type: 'tool-call', toolName: 'weigh', args: { count: 2, name: 'box', at: '2026-12-05T10:00:00Z' } },
    { type: 'text', text: 'done' },
  ]);
  const { result } = await runPrompt((ctx) => {
    ctx.defTool('weigh', 'Weighs', Answer, (args) => {
      calls.push(args);
      return `${args.count} ${args.unit}`;
    });
    ctx.$`Weigh it.`;
  }, { model });
  assert.equal(await result.text, 'done');
  assert.equal(calls.length, 1, 'refused arguments never reach execute');
  assert.deepEqual({ ...calls[0], at: calls[0].at.getTime() }, { count: 2, name: 'BOX', at: Date.UTC(2026, 11, 5, 10), unit: 'kg' });
  const [first, second] = (await result.steps).map((s) => s.toolResults[0]);
  assert.match(JSON.stringify(first), /tool \\"weigh\\": the arguments do not match the schema: \/count: must be even/);
  assert.equal(second.result, '2 kg');
});

test('config tools (the AI SDK shape) and sub-agents parse their arguments too', async () => {
  const seen = [];
  const model = mockModel([
    { type: 'tool-call', toolName: 'shout', args: { text: 'hi' } },
    { type: 'tool-call', toolName: 'helper', args: { topic: 'x' } },
    { type: 'text', text: 'helped' }, { type: 'end-step' },
    { type: 'text', text: 'ok' },
  ]);
  const text = await runPrompt((ctx) => {
    ctx.defAgent('helper', 'Helps', z.object({ topic: z.string().transform((t) => `about ${t}`), depth: z.number().default(2) }), (args, child) => {
      seen.push(args);
      child.$`Help ${args.topic}`;
    });
    ctx.$`Go.`;
  }, { model, tools: { shout: { inputSchema: z.object({ text: z.string().transform((t) => t.toUpperCase()) }), execute: ({ text }) => { seen.push(text); return text; } } } }).text;
  assert.equal(text, 'ok');
  assert.deepEqual(seen, ['HI', { topic: 'about x', depth: 2 }]);
});

test('L.reply(schema) and L.tool: zod refuses, transforms and fills defaults in directive runs', async () => {
  const model = mockModel([
    { type: 'text', text: '{"count": 5, "name": "crate", "at": "2026-01-02T03:04:05Z"}' }, { type: 'end-step' },
    { type: 'text', text: '{"count": 6, "name": "crate", "at": "2026-01-02T03:04:05Z"}' }, { type: 'end-step' },
    { type: 'tool-call', toolName: 'tag', args: { label: 'a' } },
    { type: 'tool-call', toolName: 'tag', args: { label: 'long' } },
    { type: 'text', text: 'tagged' },
  ]);
  const tagged = [];
  const value = await run(function* () {
    yield* L.user`Count them.`;
    const answer = (yield* L.reply(Answer)).value;
    yield* L.tool('tag', 'Tags', z.object({ label: z.string().refine((s) => s.length > 1, 'too short').transform((s) => `#${s}`) }), ({ label }) => {
      tagged.push(label);
      return label;
    });
    yield* L.user`Tag it.`;
    yield* L.reply;
    return answer;
  }, { models: { default: model } });
  assert.deepEqual({ ...value, at: value.at.toISOString() }, { count: 6, name: 'CRATE', at: '2026-01-02T03:04:05.000Z', unit: 'kg' });
  assert.match(lastUser(model.calls[1]), /\/count: must be even/);
  assert.deepEqual(tagged, ['#long']);
});

test('a zod validator (defValidator) refuses by its refinements even without a function; validate() runs them too', async () => {
  const model = mockModel([{ type: 'text', text: '7' }, { type: 'end-step' }, { type: 'text', text: '8' }]);
  const checked = [];
  const text = await runPrompt((ctx) => {
    ctx.defValidator('even', even.transform((n) => n / 2), (half) => {
      checked.push(half);
      return true;
    });
    ctx.$`Pick a number.`;
  }, { model, validateResponse: { validator: 'even', retryOnFailure: true } }).text;
  assert.equal(text, '8');
  assert.deepEqual(checked, [4], 'the function gets zod\'s output, and only for values zod accepts');
  assert.match(lastUser(model.calls[1]), /must be even/);
  assert.deepEqual(await validate(even, 3), { valid: false, errors: [{ instancePath: '', message: 'must be even', schemaPath: '' }] });
  assert.deepEqual(await validate(even, 4), { valid: true, errors: [] });
});

test('an interaction with a zod validation: refused answers are asked again with zod\'s message; interact() gives zod\'s output', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'ask', args: {} }, { type: 'text', text: 'ok' }]);
  const answers = ['3', '4'];
  const asked = [];
  let got;
  const { result } = await runPrompt((ctx) => {
    ctx.defInteraction('count', 'question', { validation: z.string().transform(Number).pipe(even) });
    ctx.defTool('ask', 'Asks', z.object({}), async () => {
      got = await ctx.interact('count');
      return 'asked';
    });
    ctx.$`go`;
  }, { model, onInteraction: (request) => (asked.push(request.error), answers.shift()) });
  assert.equal(await result.text, 'ok');
  assert.deepEqual(got, { value: 4, skipped: false, attempts: 2 });
  assert.deepEqual(asked, [null, 'the answer is invalid; (root): must be even']);
});

test('z.date() is refused with the way out', async () => {
  const model = mockModel([{ type: 'text', text: '{}' }]);
  await assert.rejects(runPrompt({ model, prompt: 'x', responseSchema: z.object({ at: z.date() }) }).text, (e) =>
    e instanceof ConfigError && /runPrompt config\.responseSchema: z\.date\(\) cannot be answered in JSON.*use z\.coerce\.date\(\).* at #\/properties\/at$/.test(e.message));
});

test('durable: a replay gives the same parsed object, with no model and no check called again', async () => {
  const storage = memoryStorage();
  const model = mockModel([
    { type: 'text', text: '{"count": 1, "name": "a", "at": "2026-12-05T10:00:00Z"}' }, { type: 'end-step' },
    { type: 'text', text: '{"count": 2, "name": "a", "at": "2026-12-05T10:00:00Z"}' },
  ]);
  let refinements = 0;
  const counted = Answer.extend({ count: z.number().refine((n) => (refinements++, n % 2 === 0), 'must be even') });
  const fn = (ctx) => ctx.$`Count.`;
  const { result, prompt } = await runPrompt(fn, { model, responseSchema: counted, durable: { id: 'zod', storage } });
  const object = await result.object;
  assert.equal(refinements, 3, 'two checks and the final parse');
  const noModel = { provider: model.provider, modelId: model.modelId, generate: () => Promise.reject(new Error('the model was called during a replay')) };
  const again = await replay(prompt.journal, fn, { model: noModel, responseSchema: counted }).object;
  assert.deepEqual(again, object);
  assert.equal(refinements, 4, 'only the final parse ran again');
});
