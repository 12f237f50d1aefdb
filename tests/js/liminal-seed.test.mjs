// Every code example of the Liminal directives seed (../shared/seeds/liminal-directives.md) run as
// written, apart from the model (mockModel) and `import { L } from "liminal"` (the package's L);
// then L.call and L.infer, which the seed names without defining (docs/directive-agents.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AssistantMessage, ConfigError, L, mockModel, run, ValidationError } from '../../dist/node.js';

const text = (t) => ({ type: 'text', text: t });
const end = { type: 'end-step' };
const says = (...answers) => mockModel(answers.flatMap((a) => [text(a), end]));
const transcript = (call) => call.messages.map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? `[${p.type}]`).join('')}`);

test('seed: the first agent appends one user message', async () => {
  function* g() {
    yield* L.user`User message here.`
  }
  const events = [];
  await run(g, { models: { default: says() }, onEvent: (e) => events.push(e) });
  const appended = events.filter((e) => e.type === 'message-appended').map((e) => e.message);
  assert.deepEqual(appended, [{ role: 'user', content: 'User message here.' }]);
});

test('seed: directives are values until an agent yields them', () => {
  // For declaring and changing the current model.
  L.model("reasoning")

  // For appending a user-role message to the conversation.
  L.user`User message here.`

  // For retrieving the current list of messages.
  L.messages
  for (const directive of [L.model('reasoning'), L.user`User message here.`, L.messages]) assert.equal(typeof directive[Symbol.iterator], 'function');
});

test('seed: system and user messages are appended as written', async () => {
  const messages = await run(function* () {
    // Append a system message.
    yield* L.system`A`

    // Append a user message.
    yield* L.user`B`
    return (yield* L.messages).map((m) => ({ role: m.role, content: m.content }));
  }, { models: { default: says() } });
  assert.deepEqual(messages, [{ role: 'system', content: 'A' }, { role: 'user', content: 'B' }]);
});

test('seed: prompt chaining returns structured data from the conversation', async () => {
  const chaining = function*() {
    // Append a user message.
    yield* L.user`Suggest a focused subtopic within technological futurism.`

    // Capture the model's response.
    const { value: subtopic } = yield* L.reply

    // Base the next user message on how the model responded.
    yield* L.user`
      Explain three ways ${subtopic} might impact everyday life by 2030.
    `

    // Capture the final response for the return value.
    const { value: impacts } = yield* L.reply

    // Return structured data from the conversation
    return { subtopic, impacts }
  }
  const model = says('Brain-computer interfaces', 'Typing by thought; mood-aware homes; new therapies.');
  assert.deepEqual(await run(chaining, { models: { default: model } }), {
    subtopic: 'Brain-computer interfaces',
    impacts: 'Typing by thought; mood-aware homes; new therapies.',
  });
  assert.equal(model.calls[1].messages.at(-1).content, 'Explain three ways Brain-computer interfaces might impact everyday life by 2030.');
});

// The seed's refine, as written. Its loop condition compares with `iterations.length` (undefined for
// a number), so the loop body never runs and refine returns its input: the examples below run it
// unchanged and check exactly that.
function* refine(content, iterations = 3) {
  for (let i = iterations; i < iterations.length; i++) {
    yield* L.user`Refine the following content: ${content}`
    content = yield* L.reply
  }
  return content
}

test('seed: composition flattens refine into consumer', async () => {
  let refinedSeen;
  function* consumer() {
    yield* L.user`Write an itinerary for a family vacation in Costa Rica!`
    const itinerary = yield* L.reply
    const refined = yield* refine(itinerary)
    refinedSeen = refined;
  }
  const model = says('Day 1: San José');
  await run(consumer, { models: { default: model } });
  assert.ok(refinedSeen instanceof AssistantMessage);
  assert.equal(`${refinedSeen}`, 'Day 1: San José');
  assert.equal(model.calls.length, 1);
});

test('seed: isolation runs refine on a branch', async () => {
  let refinedSeen;
  const events = [];
  function* parent() {
    yield* L.user`Write an itinerary for a family vacation in Costa Rica!`
    const itinerary = yield* L.reply
    const refined = yield* L.branch(refine(itinerary))
    refinedSeen = refined;
  }
  await run(parent, { models: { default: says('Day 1: Arenal') }, onEvent: (e) => events.push(e) });
  assert.equal(`${refinedSeen}`, 'Day 1: Arenal');
  assert.deepEqual(events.filter((e) => e.type === 'branch-started').map((e) => e.path), [['root', '0']]);
});

test('seed: parallelization infers without appending, then branches a and b on their own models', async () => {
  const models = { default: says('Day 1: Tortuguero'), 'model-a': says(), 'model-b': says() };
  const events = [];
  let results;
  function* parent() {
    yield* L.user`Write an itinerary for a family vacation in Costa Rica!`
    const itinerary = yield* L.infer

    const { a, b } = yield* L.branch({
      *a() {
        yield* L.model("model-a")
        return yield* refine(itinerary)
      },
      *b() {
        yield* L.model("model-b")
        return yield* refine(itinerary)
      },
    })
    results = { a, b, messages: (yield* L.messages).map(String) };
  }
  await run(parent, { models, onEvent: (e) => events.push(e) });
  assert.equal(`${results.a}`, 'Day 1: Tortuguero');
  assert.equal(`${results.b}`, 'Day 1: Tortuguero');
  // L.infer appended nothing to the parent: its only message is the user's.
  assert.deepEqual(results.messages, ['Write an itinerary for a family vacation in Costa Rica!']);
  // The completion ran on its own branch, whose messages were the parent's plus the answer.
  const appended = events.filter((e) => e.type === 'message-appended').map((e) => [e.path.join('/'), e.message.role]);
  assert.deepEqual(appended, [['root', 'user'], ['root/infer.0', 'assistant']]);
  assert.equal(models.default.calls.length, 1);
  assert.deepEqual(events.filter((e) => e.type === 'model-pushed').map((e) => [e.path.join('/'), e.key]), [['root/a', 'model-a'], ['root/b', 'model-b']]);
});

test('L.infer(schema) validates like L.reply(schema) and still appends nothing', async () => {
  const model = says('{"city": "Paris"}');
  const out = await run(function* () {
    yield* L.user`Where?`;
    const answer = yield* L.infer({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
    return { value: answer.value, count: (yield* L.messages).length };
  }, { models: { default: model } });
  assert.deepEqual(out, { value: { city: 'Paris' }, count: 1 });
  assert.throws(() => L.infer(undefined), ConfigError);
});

test('L.call calls an enabled tool with arguments and returns its result, through its schema and options', async () => {
  const seen = [];
  const events = [];
  const out = await run(function* () {
    const add = yield* L.tool('add', 'Adds two numbers', { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
      (args) => {
        seen.push(args);
        return { sum: args.a + args.b };
      });
    const byName = yield* L.call('add', { a: 2, b: 3 });
    const byHandle = yield* L.call(add, { a: 10, b: -1 });
    const bad = yield* L.catch(L.call('add', { a: 'two' }));
    const unknown = yield* L.catch(L.call('ad', {}));
    const bigint = yield* L.catch(L.call('add', { a: 1n, b: 2 }));
    const dropped = yield* L.catch(L.call('add', { a: 1, b: 2, then: () => 3 }));
    const nan = yield* L.catch(L.call('add', { a: Number.NaN, b: 2 }));
    const event = yield* L.catch(L.event({ when: 1n }));
    return { byName, byHandle, bad: bad.error, unknown: unknown.error, bigint: bigint.error, dropped: dropped.error, nan: nan.error, event: event.error, messages: (yield* L.messages).length };
  }, { models: { default: says() }, onEvent: (e) => events.push(e) });
  assert.deepEqual(out.byName, { sum: 5 });
  assert.deepEqual(out.byHandle, { sum: 9 });
  assert.deepEqual(seen, [{ a: 2, b: 3 }, { a: 10, b: -1 }]);
  assert.ok(out.bad instanceof ValidationError, String(out.bad));
  assert.match(out.bad.message, /L\.call: invalid arguments for tool "add"/);
  assert.ok(out.unknown instanceof ConfigError, String(out.unknown)); // the agent's naming mistake
  assert.match(out.unknown.message, /tool "ad" is not enabled in this conversation \(did you mean "add"\? enabled: add\)/);
  // Arguments and event values JSON cannot hold are named, not sent as "[object Object]".
  assert.ok(out.bigint instanceof ConfigError && out.bigint.message === 'L.call("add"): the arguments must be JSON: $.a is a BigInt', String(out.bigint));
  // A function was dropped and NaN sent as null (then refused as "must be number"): named as what they are.
  assert.ok(out.dropped instanceof ConfigError && out.dropped.message === 'L.call("add"): the arguments must be JSON: $.then is a function', String(out.dropped));
  assert.ok(out.nan instanceof ConfigError && out.nan.message === 'L.call("add"): the arguments must be JSON: $.a is NaN', String(out.nan));
  assert.ok(out.event instanceof ConfigError && out.event.message === 'L.event: the value must be JSON: $.when is a BigInt', String(out.event));
  assert.equal(out.messages, 0, 'nothing appended');
  assert.throws(() => L.call(42), ConfigError);
});

test('L.call of an agent tool runs the sub-agent isolated and returns its result; a throwing tool throws into the agent', async () => {
  const models = { default: says('a haiku about rain') };
  const out = await run(function* () {
    yield* L.user`parent turn`;
    yield* L.tool('poet', 'Writes a poem', { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] }, function* (args) {
      yield* L.user`Write about ${args.topic}`;
      return (yield* L.reply).value;
    });
    yield* L.tool('fail', 'Always fails', { type: 'object' }, () => {
      throw new Error('disk full');
    });
    const poem = yield* L.call('poet', { topic: 'rain' });
    let failure;
    try {
      yield* L.call('fail', {});
    } catch (error) {
      failure = error.message;
    }
    return { poem, failure, messages: (yield* L.messages).map(String) };
  }, { models });
  assert.equal(out.poem, 'a haiku about rain');
  assert.match(out.failure, /disk full/);
  assert.deepEqual(out.messages, ['parent turn']);
  // The sub-agent started with no messages of its own parent (an isolated tool agent).
  assert.deepEqual(transcript(models.default.calls[0]), ['user: Write about rain']);
});
