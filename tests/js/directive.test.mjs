// Liminal-style directive agents end to end through the wasm engine, with the scripted mockModel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';

import { AbortError, AssistantMessage, ConfigError, L, mockModel, RateLimitError, run, TimeoutError, ValidationError } from '../../dist/node.js';

const text = (t) => ({ type: 'text', text: t });
const end = { type: 'end-step' };
/** A mockModel answering each call with the next string. */
const says = (...answers) => mockModel(answers.flatMap((a) => [text(a), end]));
/** The user/assistant texts of one recorded model call. */
const contentText = (content) => (typeof content === 'string' ? content : content.map((p) => p.text ?? `[${p.type}]`).join(''));
const transcript = (call) => call.messages.map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : m.content.map((p) => p.text ?? `[${p.type}]`).join('')}`);

test('prompt chaining: subtopic, then its impacts, each reply feeding the next prompt', async () => {
  const model = says('Quantum error correction', '1. Stable qubits\n2. Longer computations');
  const result = await run(function* () {
    yield* L.system`You are a research assistant.`;
    yield* L.user`Pick one subtopic of quantum computing.`;
    const subtopic = yield* L.reply;
    yield* L.user`
      List the impacts of:
        ${subtopic}
    `;
    const impacts = yield* L.reply;
    return { subtopic: subtopic.value, impacts: `${impacts}` };
  }, { models: { default: model } });

  assert.deepEqual(result, { subtopic: 'Quantum error correction', impacts: '1. Stable qubits\n2. Longer computations' });
  assert.equal(model.calls.length, 2);
  assert.deepEqual(transcript(model.calls[1]), [
    'system: You are a research assistant.',
    'user: Pick one subtopic of quantum computing.',
    'assistant: Quantum error correction',
    // dedented: the common indentation goes, the relative one stays
    'user: List the impacts of:\n  Quantum error correction',
  ]);
});

/** The seed's refine, with its loop written correctly: improve until the model says GOOD, at most 4 rounds. */
function* refine(draft) {
  yield* L.system`You improve drafts. Answer GOOD when a draft needs no change, else the improved draft.`;
  let current = draft;
  for (let round = 0; round < 4; round++) {
    yield* L.user`Draft:\n${current}`;
    const answer = yield* L.reply;
    if (answer.value.trim() === 'GOOD') break;
    current = answer.value;
  }
  return current;
}

test('refine in isolation: loops until the model is satisfied and returns the last draft', async () => {
  const model = says('better draft', 'best draft', 'GOOD');
  const result = await run(refine('rough draft'), { models: { default: model } });
  assert.equal(result, 'best draft');
  assert.equal(model.calls.length, 3);
  assert.equal(model.calls[2].messages.at(-1).content, 'Draft:\nbest draft');

  const capped = says('v1', 'v2', 'v3', 'v4', 'v5');
  assert.equal(await run(refine('v0'), { models: { default: capped } }), 'v4');
  assert.equal(capped.remaining, 2, 'stops after 4 rounds');
});

test('refine in parallel: each branch on its own model, results as a tuple, the parent untouched', async () => {
  const models = { default: says('unused'), a: says('a1', 'GOOD'), b: says('b1', 'b2', 'GOOD') };
  const on = (key, draft) => function* () {
    yield* L.model(key);
    return yield* refine(draft);
  };
  const result = await run(function* () {
    yield* L.user`parent`;
    const drafts = yield* L.branch([on('a', 'a0'), on('b', 'b0')]);
    const after = yield* L.messages;
    return { drafts, after: after.map(String) };
  }, { models });
  assert.deepEqual(result, { drafts: ['a1', 'b2'], after: ['parent'] });
  assert.equal(models.default.calls.length, 0);
  // Each branch started from the parent's messages.
  assert.equal(models.a.calls[0].messages[0].content, 'parent');
});

test('a record branch compares three models, then a judge picks one', async () => {
  const models = {
    default: says('unused'),
    fast: says('Paris'),
    smart: says('Paris, France'),
    cheap: says('paris?'),
    judge: mockModel([text('{"best": "smart", "reason": "most precise"}')]),
  };
  const ask = (key) => function* () {
    yield* L.model(key);
    return (yield* L.reply).value;
  };
  const verdict = await run(function* () {
    yield* L.user`What is the capital of France?`;
    const answers = yield* L.branch({ fast: ask('fast'), smart: ask('smart'), cheap: ask('cheap') });
    yield* L.model('judge');
    yield* L.user`Which answer is best? ${JSON.stringify(answers)}`;
    const judged = yield* L.reply(z.object({ best: z.enum(['fast', 'smart', 'cheap']), reason: z.string() }));
    return { answers, best: judged.value.best };
  }, { models });
  assert.deepEqual(verdict, { answers: { fast: 'Paris', smart: 'Paris, France', cheap: 'paris?' }, best: 'smart' });
  // The judge saw only the parent's conversation: the question and its own prompt, no branch turns.
  assert.deepEqual(transcript(models.judge.calls[0]), [
    'user: What is the capital of France?',
    'user: Which answer is best? {"fast":"Paris","smart":"Paris, France","cheap":"paris?"}',
  ]);
  assert.deepEqual(models.judge.calls[0].responseFormat?.type, 'json');
});

test('an array branch of generator objects (workers) runs them in parallel and returns a tuple in order', async () => {
  const model = mockModel([text('done-1'), end, text('done-2'), end, text('done-3'), end], { delayMs: 30 });
  // Concurrency is counted (calls in flight at once), not timed: the machine may be loaded.
  let inFlight = 0;
  let maxInFlight = 0;
  const generate = model.generate.bind(model);
  model.generate = async (...args) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      return await generate(...args);
    } finally {
      inFlight--;
    }
  };
  function* worker(task) {
    yield* L.user`Do ${task}`;
    const reply = yield* L.reply;
    return `${task}:${reply}`;
  }
  const results = await run(function* () {
    return yield* L.branch([worker('t1'), worker('t2'), worker('t3')]);
  }, { models: { default: model } });
  assert.deepEqual(results.map((r) => r.split(':')[0]), ['t1', 't2', 't3']);
  assert.deepEqual(results.map((r) => r.split(':')[1]).sort(), ['done-1', 'done-2', 'done-3']);
  assert.equal(maxInFlight, 3, 'the three calls ran concurrently');
  // Each worker's call held only its own task.
  assert.deepEqual(model.calls.map((c) => c.messages.map((m) => m.content).join('|')).sort(), ['Do t1', 'Do t2', 'Do t3']);
});

test('routing by a structured classification', async () => {
  const Classification = z.object({ category: z.enum(['billing', 'technical']) });
  const handlers = {
    *billing() {
      yield* L.system`You handle billing.`;
      return `billing: ${yield* L.reply}`;
    },
    *technical() {
      yield* L.system`You handle technical issues.`;
      return `technical: ${yield* L.reply}`;
    },
  };
  const route = (message) => function* () {
    yield* L.user`${message}`;
    const { value } = yield* L.reply(Classification);
    return yield* L.branch(handlers[value.category]);
  };
  const model = mockModel([text('{"category": "technical"}'), end, text('Restart the router.'), end]);
  assert.equal(await run(route('My wifi is down'), { models: { default: model } }), 'technical: Restart the router.');
  assert.equal(model.calls[1].messages.at(-1).content, 'You handle technical issues.');
});

test('evaluate and improve: a judge scores drafts until one is good enough', async () => {
  const models = {
    default: says('draft 1', 'draft 2'),
    judge: mockModel([text('{"score": 4, "feedback": "too vague"}'), end, text('{"score": 9, "feedback": "fine"}'), end]),
  };
  const Evaluation = z.object({ score: z.number(), feedback: z.string() });
  const result = await run(function* () {
    yield* L.user`Write a tagline for a bakery.`;
    let draft = yield* L.reply;
    for (let round = 0; round < 3; round++) {
      const evaluation = yield* L.branch(function* () {
        yield* L.model('judge');
        yield* L.user`Score this from 1 to 10: ${draft}`;
        return (yield* L.reply(Evaluation)).value;
      });
      if (evaluation.score >= 8) return { draft: draft.value, rounds: round + 1 };
      yield* L.user`Improve it: ${evaluation.feedback}`;
      draft = yield* L.reply;
    }
    return { draft: draft.value, rounds: 3 };
  }, { models });
  assert.deepEqual(result, { draft: 'draft 2', rounds: 2 });
  assert.equal(models.default.calls[1].messages.at(-1).content, 'Improve it: too vague');
});

test('a structured reply that fails its schema is retried with the message, then throws ValidationError', async () => {
  const Answer = z.object({ n: z.number() });
  const good = mockModel([text('{"n": "x"}'), end, text('{"n": 2}'), end]);
  const value = await run(function* () {
    yield* L.user`n?`;
    return (yield* L.reply(Answer)).value;
  }, { models: { default: good } });
  assert.deepEqual(value, { n: 2 });
  assert.match(good.calls[1].messages.at(-1).content, /\/n: must be number/);

  const bad = says('no', 'still no', 'never');
  const caught = await run(function* () {
    try {
      yield* L.reply(Answer);
    } catch (err) {
      return err;
    }
  }, { models: { default: bad } });
  assert.ok(caught instanceof ValidationError, String(caught));
  assert.match(caught.message, /the reply is not JSON: "never" \(after 3 attempts\)/);
  assert.equal(bad.calls.length, 3, 'one answer and two retries');
});

test('responseSchemaRetries sets how many times L.reply(schema), L.infer and L.stream send a refused answer back', async () => {
  const Answer = z.object({ n: z.number() });
  const failsWith = async (retries, directive) => {
    const model = says('a', 'b', 'c', 'd', 'e', 'f');
    // A stream's failure that nobody read rejects the run; the others throw into the agent.
    const caught = await run(function* () {
      try {
        return yield* directive(Answer);
      } catch (err) {
        return err;
      }
    }, { models: { default: model }, responseSchemaRetries: retries }).catch((err) => err);
    assert.ok(caught instanceof ValidationError, String(caught));
    return { calls: model.calls.length, message: caught.message };
  };
  assert.deepEqual(await failsWith(0, L.reply), { calls: 1, message: 'the reply is not JSON: "a" (after 1 attempt)' });
  assert.equal((await failsWith(4, L.reply)).calls, 5);
  assert.equal((await failsWith(1, L.infer)).calls, 2);
  assert.equal((await failsWith(3, L.stream)).calls, 4);

  // A text reply is not affected, and the option is checked like every other.
  const text = await run(function* () {
    return (yield* L.reply).value;
  }, { models: { default: says('plain') }, responseSchemaRetries: 0 });
  assert.equal(text, 'plain');
  await assert.rejects(run(function* () {}, { models: { default: says('x') }, responseSchemaRetries: 101 }), { name: 'ConfigError', message: /^run config: 'responseSchemaRetries' must be an integer from 0 to 100, got the number 101/ });
});

test('an answer that does not parse is refused with what the model sent: empty, or its start quoted', async () => {
  const Answer = z.object({ n: z.number() });
  const rambling = `Sure! Here it is: "n" is ${'very '.repeat(60)}big`;
  const model = mockModel([end, text(rambling), end, text('{"n": 3}'), end]);
  const value = await run(function* () {
    yield* L.user`n?`;
    return (yield* L.reply(Answer)).value;
  }, { models: { default: model } });
  assert.deepEqual(value, { n: 3 });
  assert.match(model.calls[1].messages.at(-1).content, /^Your reply was refused: the reply is empty; expected a JSON value\. Reply again/);
  const quoted = JSON.stringify(rambling.slice(0, 200));
  assert.ok(model.calls[2].messages.at(-1).content.includes(`the reply is not JSON: ${quoted} (the first 200 of ${rambling.length} bytes).`), model.calls[2].messages.at(-1).content);
});

test('a tool is called by the model inside reply; an agent tool runs isolated', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'weather', args: { city: 'Paris' } },
    text('It is 21 °C in Paris.'),
    end,
    { type: 'tool-call', toolName: 'summarize', args: { topic: 'rain' } },
    text('rain summary'), // the tool agent's own reply
    end,
    text('Summarized.'),
  ]);
  const seen = [];
  const events = [];
  const result = await run(function* () {
    const weather = yield* L.tool('weather', 'Weather for a city', z.object({ city: z.string() }), ({ city }, { toolCallId, abortSignal }) => {
      seen.push(city, toolCallId, abortSignal.aborted);
      return { celsius: 21 };
    });
    yield* L.tool('summarize', 'Summarizes a topic', { type: 'object', properties: { topic: { type: 'string' } } }, function* ({ topic }) {
      yield* L.user`Summarize ${topic}`;
      return yield* L.reply;
    });
    yield* L.user`Weather in Paris?`;
    const first = yield* L.reply;
    yield* weather; // disable
    yield* L.user`Summarize the rain.`;
    const second = yield* L.reply;
    const messages = yield* L.messages;
    return { first: first.value, second: second.value, roles: messages.map((m) => m.role) };
  }, { models: { default: model }, onEvent: (e) => events.push(e) });

  assert.deepEqual(seen, ['Paris', 'call_1', false]);
  assert.equal(result.first, 'It is 21 °C in Paris.');
  assert.equal(result.second, 'Summarized.');
  assert.deepEqual(result.roles, ['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
  // The tool result reached the model.
  assert.deepEqual(model.calls[1].messages[2].content[0].result, { celsius: 21 });
  // The second reply offered only the tool still enabled.
  assert.deepEqual(model.calls[2].tools.map((t) => t.name), ['summarize']);
  // The agent tool ran on a branch named after the tool and its reply came back as the result.
  assert.ok(events.some((e) => e.type === 'branch-started' && e.path.join('/') === 'root/summarize'));
  assert.equal(model.calls[4].messages.at(-1).content[0].result, 'rain summary');
  assert.deepEqual(transcript(model.calls[3]), ['user: Summarize rain'], 'the tool agent started with no messages');
  assert.deepEqual(events.filter((e) => e.type === 'tool-call').map((e) => [e.toolName, e.args]), [['weather', { city: 'Paris' }], ['summarize', { topic: 'rain' }]]);
});

test("a reply's text is its last assistant message's text parts joined, other parts left out", async () => {
  const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
  const answers = [
    [{ type: 'reasoning', text: 'pondering' }, text('Hello, '), text('world.')],
    [text('Checking the weather.'), { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } }],
  ];
  const model = { provider: 'test', modelId: 'parts', async generate() { return { content: answers.shift(), finishReason: 'stop', usage }; } };
  const result = await run(function* () {
    yield* L.tool('weather', 'Weather for a city', z.object({ city: z.string() }), () => ({ celsius: 3 }));
    yield* L.user`Hi`;
    const parts = yield* L.reply;
    yield* L.user`Weather in Oslo?`;
    const cutShort = yield* L.reply; // maxSteps 1: the reply ends on the tool call
    return { parts, cutShort };
  }, { models: { default: model }, maxSteps: 1 });
  assert.equal(result.parts.value, 'Hello, world.');
  assert.equal(result.parts.text, 'Hello, world.');
  assert.equal(`${result.parts}`, 'Hello, world.');
  assert.deepEqual(result.parts.content.map((p) => p.type), ['reasoning', 'text', 'text']);
  assert.equal(result.cutShort.value, 'Checking the weather.');
  assert.deepEqual(result.cutShort.content.map((p) => p.type), ['text', 'tool-call']);
});

test('long answers (blobs): replies, events, later model calls and branches all get the whole text', async () => {
  const long = (tag, n) => `${tag} ` + 'é lorem ipsum dolor sit amet '.repeat(n);
  const first = long('first', 3000); // ≈ 90 KB: past the 16 KiB at which strings cross as blobs
  const essay = long('essay', 2000);
  const model = says(first, JSON.stringify({ essay }));
  const events = [];
  const result = await run(function* () {
    yield* L.user`${long('question', 1000)}`;
    const a = yield* L.reply;
    yield* L.user`Now as JSON.`;
    const b = yield* L.reply(z.object({ essay: z.string() }));
    const branched = yield* L.branch(function* () {
      return (yield* L.messages).map((m) => m.text.length);
    });
    return { a, b, branched, texts: (yield* L.messages).map(String) };
  }, { models: { default: model }, onEvent: (e) => events.push(e) });

  assert.equal(result.a.value, first);
  assert.equal(result.a.text, first);
  assert.equal(result.a.index, 1);
  assert.equal(result.b.value.essay, essay);
  assert.equal(result.b.text, JSON.stringify({ essay }));
  assert.equal(result.b.index, 3);
  const expected = [long('question', 1000), first, 'Now as JSON.', JSON.stringify({ essay })];
  assert.deepEqual(result.texts, expected);
  assert.deepEqual(result.branched, expected.map((t) => t.length));
  // The second model call got the first answer whole.
  assert.equal(contentText(model.calls[1].messages[1].content), first);
  const appended = events.filter((e) => e.type === 'message-appended' && e.path.length === 1);
  assert.deepEqual(appended.map((e) => [e.index, contentText(e.message.content)]), expected.map((t, i) => [i, t]));
});

test('a long conversation with branches: every model call gets exactly its conversation (synced, not resent)', async () => {
  const requests = [];
  const model = {
    provider: 'test',
    modelId: 'echo',
    async generate(req) {
      requests.push(req.messages.map((m) => `${m.role}:${contentText(m.content)}`));
      return { content: [{ type: 'text', text: `a${requests.length}` }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  const expected = [];
  await run(function* () {
    const mine = [];
    for (let turn = 1; turn <= 12; turn++) {
      yield* L.user`q${turn}`;
      mine.push(`user:q${turn}`);
      expected.push([...mine]);
      const reply = yield* L.reply;
      mine.push(`assistant:${reply.text}`);
      if (turn % 4 === 0) {
        const at = [...mine];
        // Two branches at once, their calls interleaved: each has its own host copy.
        const branch = (name) =>
          function* () {
            const theirs = [...at];
            for (const k of [1, 2]) {
              yield* L.user`${name}${turn}.${k}`;
              theirs.push(`user:${name}${turn}.${k}`);
              expected.push([...theirs]);
              theirs.push(`assistant:${(yield* L.reply).text}`);
            }
          };
        yield* L.branch([branch('x'), branch('y')]);
      }
    }
  }, { models: { default: model } });
  assert.equal(requests.length, 12 + 3 * 2 * 2);
  // In call order for the root; the branches' calls interleave, so compare as sets of lists.
  const sorted = (lists) => lists.map((l) => l.join('|')).sort();
  assert.deepEqual(sorted(requests), sorted(expected));
  assert.ok(requests.some((r, i) => i > 0 && r.at(-1).startsWith('user:y') && requests[i - 1].at(-1).startsWith('user:x')), 'the branches ran interleaved');
});

test('catch returns {value} or {error}; model errors are thrown into the generator', async () => {
  const failing = { provider: 'test', modelId: 'failing', generate: async () => { throw new RateLimitError('slow down', 5); } };
  const result = await run(function* () {
    const ok = yield* L.catch(function* () {
      return 42;
    });
    const thrown = yield* L.catch(function* () {
      yield* L.user`x`;
      throw new Error('boom');
    });
    let modelError;
    try {
      yield* L.reply;
    } catch (err) {
      modelError = err;
    }
    return { ok, thrown, modelError };
  }, { models: { default: failing } });
  assert.deepEqual(result.ok, { value: 42 });
  assert.equal(result.thrown.error.message, 'boom');
  assert.ok(result.modelError instanceof RateLimitError);
});

test('streaming: deltas as they come, the aggregate appended when the stream ends', async () => {
  const model = mockModel([text('Once upon a time there was a parser.')]);
  const result = await run(async function* () {
    yield* L.user`Tell a story.`;
    const stream = yield* L.stream;
    const deltas = [];
    for await (const delta of stream) deltas.push(delta);
    const message = await stream.message;
    const messages = yield* L.messages;
    return { deltas, message, last: messages.at(-1) };
  }, { models: { default: model } });
  assert.ok(result.deltas.length > 1, 'more than one delta');
  assert.equal(result.deltas.join(''), 'Once upon a time there was a parser.');
  assert.ok(result.message instanceof AssistantMessage);
  assert.equal(result.last.role, 'assistant');
  assert.equal(result.last.text, 'Once upon a time there was a parser.');

  // An unread stream is still appended before the next directive.
  const unread = await run(function* () {
    yield* L.stream;
    return (yield* L.messages).map(String);
  }, { models: { default: says('appended') } });
  assert.deepEqual(unread, ['appended']);
});

test('a branch leaves the parent unchanged, and a model pushed in a child does not leak', async () => {
  const models = { default: says('parent reply'), other: says('child reply') };
  const result = await run(function* () {
    yield* L.user`hello`;
    const before = yield* L.snapshot;
    yield* L.branch(function* () {
      yield* L.model('other');
      yield* L.user`child turn`;
      yield* L.reply;
      yield* L.tool('extra', 'x', {}, () => 1);
    });
    const after = yield* L.snapshot;
    const reply = yield* L.reply;
    return { before, after, reply: reply.value };
  }, { models });
  assert.deepEqual(result.after.map(String), ['hello']);
  assert.deepEqual(result.after.map(String), result.before.map(String));
  assert.ok(Object.isFrozen(result.after) && Object.isFrozen(result.after[0]));
  assert.equal(result.reply, 'parent reply', 'the parent replied with its own (default) model');
  assert.deepEqual(models.default.calls[0].tools ?? [], [], 'the child tool did not leak either');
});

test('event order and paths of a nested branch scenario', async () => {
  const model = mockModel([text('inner'), end, text('outer')]);
  const collected = [];
  const runPromise = run(function* () {
    yield* L.user`start`;
    yield* L.branch([
      function* () {
        const m = yield* L.model('default');
        yield* L.branch({
          judge: function* () {
            yield* L.event({ step: 'judging' });
            return (yield* L.reply).value;
          },
        });
        yield* m;
        throw new Error('worker failed');
      },
    ]);
    return 'never';
  }, { models: { default: model } });
  // The events are also an async iterable (buffered from the start).
  const iterate = (async () => {
    for await (const e of runPromise.events) collected.push(e);
  })();
  await assert.rejects(runPromise, /worker failed/);
  await iterate;
  // The observability events (run-start, model-call, error, run-finish) are checked in observe-events.test.mjs.
  const observability = new Set(['run-start', 'run-finish', 'model-call', 'error', 'token-threshold']);
  assert.equal(collected[0].type, 'run-start');
  assert.equal(collected.at(-1).type, 'run-finish');
  const summary = collected.filter((e) => !observability.has(e.type)).map((e) => {
    const { type, path } = e;
    const detail = e.message ? contentText(e.message.content) : e.key ?? e.value ?? e.error?.message ?? e.text ?? e.model;
    return [type, path.join('/'), detail === undefined ? '' : typeof detail === 'string' ? detail : JSON.stringify(detail)];
  });
  assert.deepEqual(summary, [
    ['message-appended', 'root', 'start'],
    ['branch-started', 'root/0', ''],
    ['model-pushed', 'root/0', 'default'],
    ['branch-started', 'root/0/judge', ''],
    ['emitted', 'root/0/judge', '{"step":"judging"}'],
    ['step-start', 'root/0/judge', 'mock:mock'],
    ['message-appended', 'root/0/judge', 'inner'],
    ['step-finish', 'root/0/judge', 'inner'],
    ['branch-returned', 'root/0/judge', 'inner'],
    ['model-popped', 'root/0', 'default'],
    ['branch-threw', 'root/0', 'worker failed'],
  ]);
});

test('tags and marks slice the conversation', async () => {
  const draft = L.tag('draft');
  const result = await run(function* () {
    yield* L.user`one`;
    const a = yield* L.mark;
    yield* L.user`two`.tag(draft);
    yield* L.assistant('three');
    const b = yield* L.mark;
    yield* L.user`four`.tag(draft);
    const tagged = yield* L.messages(draft);
    const between = yield* L.messages(a.to(b));
    const both = yield* L.messages({ tag: draft, range: a.to(b) });
    return { tagged: tagged.map(String), between: between.map(String), both: both.map(String), tagOf: tagged[0].tags[0] };
  }, { models: { default: says() } });
  assert.deepEqual(result.tagged, ['two', 'four']);
  assert.deepEqual(result.between, ['two', 'three']);
  assert.deepEqual(result.both, ['two']);
  assert.equal(result.tagOf, draft);
});

test('agent-like values: iterables, async iterables, functions; L.run is run', async () => {
  const model = says('a', 'b');
  const iterable = L.user`x`; // a directive is itself an iterable agent
  assert.equal(await L.run(function* () {
    yield* L.user`hi`;
    return (yield* L.branch(L.reply)).value;
  }, { models: { default: model } }), 'a');
  assert.equal(String(await run(iterable, { models: { default: model } })), 'x');
  const asyncAgent = { async *[Symbol.asyncIterator]() { yield* L.user`q`; return 'async'; } };
  assert.equal(await run(asyncAgent, { models: { default: model } }), 'async');
  assert.equal(await run(() => (function* () { return 'from function'; })(), { models: { default: model } }), 'from function');
});

test('abort: the run rejects with AbortError and the model call is cancelled', async () => {
  const controller = new AbortController();
  const model = mockModel([text('slow')], { delayMs: 5_000 });
  const pending = run(function* () {
    yield* L.reply;
  }, { models: { default: model }, signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(pending, AbortError); // the model would have answered "slow" after 5 s
});

test('bad input: yield without *, non-agents, unbound model keys, schemas that are not schemas', async () => {
  const models = { default: says('x'), fast: says('y') };
  const attempt = (agent) => run(agent, { models });

  await assert.rejects(attempt(function* () { yield L.reply; }), (err) => err instanceof TypeError && /with `yield\*`/.test(err.message));
  await assert.rejects(attempt(function* () { yield 42; }), /yielded number 42; agents yield only directives/);
  await assert.rejects(attempt(function* () { yield* L.branch(42); }), /L\.branch: expected an agent, an array of agents or a record of agents, got number 42/);
  await assert.rejects(attempt(function* () { yield* L.branch({ a: 'text' }); }), /L\.branch: "a" is not an agent/);
  await assert.rejects(attempt(function* () { yield* L.branch([function* () {}, null]); }), /element 1 is not an agent/);
  await assert.rejects(attempt(function* () { yield* L.model('smart'); }), /model key "smart" is not bound \(bound keys: default, fast\)/);
  await assert.rejects(attempt(function* () { yield* L.reply(42); }), (err) => err instanceof TypeError && /L\.reply\(schema\): expected a zod schema or a JSON Schema object, got number 42/.test(err.message));
  await assert.rejects(attempt(function* () { yield* L.reply({ type: 'nonsense' }); }), /nonsense/);
  await assert.rejects(run(function* () {}, { models: { fast: 'mock' } }), /must bind the key "default" \(bound keys: fast\)/);
  await assert.rejects(run(42, { models }), /run\(agent\): expected an agent/);
  await assert.rejects(attempt(function* () { yield* L.tool('', 'x', {}, () => 1); }), /L\.tool: the name must match/);
  assert.throws(() => L.user(5), /L\.user: expected a tagged template/);
  // A bad directive is thrown into the agent, which may recover.
  assert.equal(await attempt(function* () {
    try { yield* L.model('nope'); } catch { return 'recovered'; }
  }), 'recovered');
});

test('a tool that throws: the model gets the error as the tool result and goes on', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'lookup', args: { q: 'x' } }, text('recovered')]);
  const answer = await run(function* () {
    yield* L.tool('lookup', 'Looks up', { type: 'object', properties: { q: { type: 'string' } } }, () => {
      throw new Error('index offline');
    });
    return (yield* L.reply).value;
  }, { models: { default: model } });
  assert.equal(answer, 'recovered');
  const result = model.calls[1].messages.at(-1).content[0];
  assert.equal(result.isError, true);
  assert.deepEqual(result.result, { error: 'index offline' });
});

// The same agent, observed through onEvent (events parsed as they come) and through `.events` alone
// (kept as JSON text until read): the reader sees the same events either way, a message long enough
// to cross as a blob included, also when it starts reading after the run ended.
test('run events read from .events alone are the same as onEvent sees, long messages included', async () => {
  const long = 'x'.repeat(40_000);
  const agent = function* () {
    yield* L.user`${long}`;
    const first = yield* L.reply;
    yield* L.event('checkpoint', { seen: first.value.length });
    yield* L.user`And now?`;
    return (yield* L.reply).value;
  };
  const stable = (events) => JSON.parse(JSON.stringify(events).replace(/"durationMs":[0-9.e+-]+/g, '"durationMs":0'));

  const seen = [];
  const observed = run(agent, { models: { default: says('short answer', 'done') }, onEvent: (e) => seen.push(e) });
  assert.equal(await observed, 'done');

  const buffered = run(agent, { models: { default: says('short answer', 'done') } });
  assert.equal(await buffered, 'done');
  const read = [];
  for await (const e of buffered.events) read.push(e);

  assert.ok(read.some((e) => e.type === 'message-appended' && e.message.content === long), 'the long message arrives whole');
  assert.ok(read.some((e) => e.type === 'emitted' && e.name === 'checkpoint' && e.value.seen === 'short answer'.length));
  assert.deepEqual(stable(read), stable(seen));
});

// Whether only `.events` sees a directive run's events is decided per event: a defEvent handler that
// a tool defines while the run is live gets the events from then on.
test('a defEvent handler defined while the run is live (by a tool) receives the later events', async () => {
  let ctx;
  const seen = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'watch', args: {} }, text('done')]);
  const value = await run(function* () {
    yield* L.user`go`;
    return (yield* L.reply).value;
  }, {
    models: { default: model },
    define: (c) => { ctx = c; },
    tools: {
      watch: {
        parameters: { type: 'object' },
        execute: () => {
          ctx.defEvent('onRunFinish', (e) => { seen.push(e.type); });
          return 'watching';
        },
      },
    },
  });
  assert.equal(value, 'done');
  assert.deepEqual(seen, ['run-finish']);
});

test('events: false keeps no events: the run works, and whatever would read its events is refused with a ConfigError', async () => {
  const agent = function* () {
    yield* L.user`Split it`;
    const first = (yield* L.reply).value;
    const [branch] = yield* L.branch([function* () {
      yield* L.user`And the branch?`;
      return (yield* L.reply).value;
    }]);
    return [first, branch];
  };
  const quiet = run(agent, { models: { default: says('root answer', 'branch answer') }, events: false });
  assert.deepEqual(await quiet, ['root answer', 'branch answer']);
  const off = /the run was started with events: false, so it keeps no events/;
  assert.throws(() => quiet.events[Symbol.asyncIterator](), (e) => e instanceof ConfigError && off.test(e.message));
  await assert.rejects(async () => {
    for await (const e of run(agent, { models: { default: says('a', 'b') }, events: false })) assert.fail(`no event expected, got ${e.type}`);
  }, off);

  const refused = async (extra) => {
    const r = run(agent, { models: { default: says('a', 'b') }, events: false, ...extra });
    await assert.rejects(r, (e) => e instanceof ConfigError && off.test(e.message), JSON.stringify(Object.keys(extra)));
  };
  await refused({ onEvent: () => {} });
  await refused({ onProgress: () => {} });
  await refused({ define: (ctx) => ctx.defEvent('onRunFinish', () => {}) });
  await refused({ define: (ctx) => ctx.defLogger('log', { level: 'info', outputs: [() => {}] }) });
  await refused({ define: (ctx) => ctx.defTracing('trace', { exporters: ['events'] }) });
  await assert.rejects(run(agent, { models: { default: says('a', 'b') }, events: 'no' }), /'events' must be true or false, got the string "no"/);

  // A handler defined while the run is live fails where it is defined: here, the tool that defines it.
  let ctx;
  const model = mockModel([{ type: 'tool-call', toolName: 'watch', args: {} }, text('done')]);
  const value = await run(function* () {
    yield* L.user`go`;
    return (yield* L.reply).value;
  }, {
    models: { default: model },
    events: false,
    define: (c) => { ctx = c; },
    tools: { watch: { parameters: { type: 'object' }, execute: () => { ctx.defEvent('onRunFinish', () => {}); return 'watching'; } } },
  });
  assert.equal(value, 'done');
  const toolResult = model.calls[1].messages.at(-1).content[0];
  assert.equal(toolResult.isError, true);
  assert.match(toolResult.result.error, off);
});

test('a model or tool handle given back twice is the agent\'s mistake: a ConfigError it can catch, and the run goes on', async () => {
  const model = () => mockModel([{ type: 'text', text: 'x' }]);
  const out = await run(function* () {
    const fast = yield* L.model('fast');
    yield* fast;
    const model = yield* L.catch(fast);
    const tool = yield* L.tool('t', 'd', { type: 'object' }, () => 1);
    yield* tool;
    const disabled = yield* L.catch(tool);
    return { model: model.error, tool: disabled.error };
  }, { models: { default: model(), fast: model() } });
  assert.ok(out.model instanceof ConfigError && /model handle \d+ is not on this conversation's stack \(already popped\?\)/.test(out.model.message), String(out.model));
  assert.ok(out.tool instanceof ConfigError && /tool "t" is not enabled in this conversation \(already disabled\?\)/.test(out.tool.message), String(out.tool));
});

test('L.reply(schema) that ends on a tool step (maxSteps) is a ValidationError saying there was no final answer', async () => {
  const call = { type: 'tool-call', toolName: 'look', args: {} };
  for (const schema of [z.object({ city: z.string() }), { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }]) {
    const agent = function* () {
      yield* L.tool('look', 'Looks', { type: 'object', properties: {} }, () => 'Paris');
      yield* L.user`Where?`;
      return (yield* L.reply(schema)).value;
    };
    await assert.rejects(run(agent, { models: { default: mockModel([call, call]) }, maxSteps: 1 }), (e) => e instanceof ValidationError && /the reply ended before the model gave a final answer/.test(e.message));
  }
});

test("L.catch catches the failure of a stream nobody read, as try/catch does", async () => {
  const failing = { provider: 'test', modelId: 'fail', async generate() { throw new Error('connection reset'); } };
  const caught = await run(
    function* () {
      yield* L.user`go`;
      yield* L.stream;
      const { error } = yield* L.catch(L.user`next`);
      return error?.message;
    },
    { models: { default: failing }, maxRetries: 0 },
  );
  assert.match(caught, /connection reset/);
});

test("the run's timeout reaches an agent that makes no model call: its next directive throws TimeoutError, and the run rejects with it", { timeout: 15_000 }, async () => {
  const started = performance.now();
  let appended = 0;
  const looping = run(async function* () {
    for (;;) {
      yield* L.user`more`;
      appended++;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }, { models: { default: mockModel([]) }, timeout: 200 });
  await assert.rejects(looping, (e) => e instanceof TimeoutError && /timed out after 200 ms/.test(e.message));
  assert.ok(performance.now() - started < 3_000, `${performance.now() - started} ms`);
  assert.ok(appended > 0);
  // An agent that catches the timeout and returns still ran out of time.
  const swallowing = run(async function* () {
    await new Promise((resolve) => setTimeout(resolve, 300));
    try {
      yield* L.user`late`;
    } catch {
      return 'fine';
    }
    return 'not reached';
  }, { models: { default: mockModel([]) }, timeout: 100 });
  await assert.rejects(swallowing, TimeoutError);
  // A define function that never settles is bounded the same way, as runPrompt's prompt function is.
  const stuck = run(function* () {
    return 'never';
  }, { models: { default: mockModel([]) }, timeout: 100, define: () => new Promise(() => {}) });
  await assert.rejects(stuck, { message: "run(agent): the define function had not finished when the run's timeout of 100 ms passed" });
  // A define function that settles in time used part of the run's time: the engine's timer has the rest.
  const slowModel = { provider: 'test', modelId: 'slow', generate: (_request, { signal }) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ content: [{ type: 'text', text: 'late' }], finishReason: 'stop' }), 400);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  }) };
  const setupFirst = performance.now();
  const slowDefine = run(function* () {
    yield* L.user`hi`;
    return (yield* L.reply).value;
  }, { models: { default: slowModel }, timeout: 500, define: () => new Promise((resolve) => setTimeout(resolve, 300)) });
  await assert.rejects(slowDefine, { name: 'TimeoutError', message: 'the run timed out after 500 ms' });
  assert.ok(performance.now() - setupFirst < 650, `ended ${performance.now() - setupFirst} ms after the start`);
});

test('a generator object runs once: a second run of it, or the same object twice in L.branch, is a ConfigError', async () => {
  const agent = (function* () {
    yield* L.user`What is 2+2?`;
    return (yield* L.reply).value;
  })();
  const first = run(agent, { models: { default: mockModel([text('4')]) } });
  await assert.rejects(run(agent, { models: { default: mockModel([text('5')]) } }), (e) => e instanceof ConfigError && /this generator object was already run/.test(e.message));
  assert.equal(await first, '4');
  const shared = (function* () {
    return 1;
  })();
  await assert.rejects(run(function* () {
    return yield* L.branch([shared, shared]);
  }, { models: { default: mockModel([]) } }), (e) => e instanceof ConfigError && /already run/.test(e.message));
});

test("a model handle from another run is refused; a stream's readers each get the whole text; a tool's bytes are data", async () => {
  let kept;
  await run(function* () {
    kept = yield* L.model('fast');
  }, { models: { default: mockModel([]), fast: mockModel([]) } });
  const popped = await run(function* () {
    yield* L.model('fast');
    return yield* L.catch(kept);
  }, { models: { default: mockModel([]), fast: mockModel([]) } });
  assert.ok(popped.error instanceof ConfigError && /was pushed in another run/.test(popped.error.message), String(popped.error));

  const texts = await run(async function* () {
    yield* L.user`Tell.`;
    const stream = yield* L.stream;
    const read = async () => {
      let all = '';
      for await (const delta of stream) all += delta;
      return all;
    };
    const both = await Promise.all([read(), read()]);
    return [...both, await read()];
  }, { models: { default: mockModel([text('The quick brown fox')]) } });
  assert.deepEqual(texts, ['The quick brown fox', 'The quick brown fox', 'The quick brown fox']);

  const model = mockModel([{ type: 'tool-call', toolName: 'bytes', args: {} }, text('ok')]);
  await run(function* () {
    yield* L.tool('bytes', 'raw bytes', { type: 'object' }, () => Buffer.from('hi'));
    yield* L.user`go`;
    return (yield* L.reply).value;
  }, { models: { default: model } });
  assert.deepEqual(model.calls[1].messages.at(-1).content[0].result, { type: 'Buffer', data: [104, 105] });
});
