// defTracing (docs/observability.md): the engine's span events become OpenTelemetry spans, checked
// with the OTel SDK's own in-memory exporter and over OTLP/HTTP JSON to a loopback receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { createEngine, runPrompt, run, L, mockModel, VirtualClock, ProviderError, ConfigError, TracingError } from '../../dist/node.js';
import { call, scriptedModel } from './helpers/scripted-model.mjs';
import { withStderr } from './helpers/stderr.mjs';

const text = (t) => ({ type: 'text', text: t });

const virtualEngine = () => createEngine({ clock: new VirtualClock(Date.parse('2026-12-01T00:00:00Z')) });
const idOf = (span) => span.spanContext().spanId;
const parentOf = (span) => span.parentSpanContext?.spanId;

/** The spans by name (a name used twice is a test error unless `many`). */
function byName(spans) {
  const map = new Map();
  for (const s of spans) map.set(s.name, [...(map.get(s.name) ?? []), s]);
  return (name) => {
    const found = map.get(name) ?? [];
    assert.equal(found.length, 1, `one span named ${name}, found ${found.length} among ${[...map.keys()].join(', ')}`);
    return found[0];
  };
}

test('a chat span carries the generation settings by their GenAI names', async () => {
  const exporter = new InMemorySpanExporter();
  const model = mockModel([text('ok')]);
  const { result } = await runPrompt((ctx) => {
    ctx.defTracing('main', { exporters: [exporter] });
    ctx.$`go`;
  }, { model, temperature: 0.5, maxOutputTokens: 99, topP: 0.9, topK: 7, stopSequences: ['END'], seed: 3, presencePenalty: 0.25, frequencyPenalty: -0.5 });
  await result.text;
  const chat = exporter.getFinishedSpans().find((s) => s.name === 'chat mock');
  const requested = Object.fromEntries(Object.entries(chat.attributes).filter(([key]) => key.startsWith('gen_ai.request.') && key !== 'gen_ai.request.model'));
  assert.deepEqual(requested, {
    'gen_ai.request.temperature': 0.5, 'gen_ai.request.max_tokens': 99, 'gen_ai.request.top_p': 0.9, 'gen_ai.request.top_k': 7,
    'gen_ai.request.stop_sequences': ['END'], 'gen_ai.request.seed': 3, 'gen_ai.request.presence_penalty': 0.25, 'gen_ai.request.frequency_penalty': -0.5,
  });
  assert.deepEqual(model.calls[0].params, { temperature: 0.5, maxOutputTokens: 99, topP: 0.9, topK: 7, stopSequences: ['END'], seed: 3, presencePenalty: 0.25, frequencyPenalty: -0.5 });
  await assert.rejects(runPrompt({ model, prompt: 'x', presencePenalty: 3 }).text, { name: 'ConfigError', message: /'presencePenalty' must be a number from -2 to 2, got the number 3/ });
  await assert.rejects(runPrompt({ model, prompt: 'x', presencePenalti: 1 }).text, { message: /did you mean 'presencePenalty'/ });
});

test('a run with a model retry, a tool error, a sub-agent and a tool span of its own', async () => {
  const engine = await virtualEngine();
  const exporter = new InMemorySpanExporter();
  const model = scriptedModel((n) => {
    if (n === 0) throw new ProviderError('429 slow down', { status: 429, retryable: true });
    if (n === 1) return [call('broken', 'c1')];
    if (n === 2) return [call('helper', 'c2')];
    if (n === 3) return [call('query', 'c3', { sql: 'select 1' })];
    return [text('done')];
  });
  const { result } = await runPrompt((ctx) => {
    ctx.defTracing('main', { exporters: [exporter], attributes: { environment: 'test' } });
    ctx.defTool('broken', 'always fails', {}, () => {
      throw new Error('disk full');
    });
    ctx.defTool('query', 'runs a query', { type: 'object', properties: { sql: { type: 'string' } } }, async (args, { trace: t }) => {
      const span = t.startSpan('database-query');
      try {
        return [1, 2];
      } finally {
        span.setAttribute('rows', 2);
        span.end();
      }
    });
    ctx.defAgent('helper', 'helps', {}, (_args, sub) => sub.$`help`, { model: mockModel([text('helped')]) });
    ctx.$`go`;
  }, { model, engine, maxRetries: 2 });
  assert.equal(await result.text, 'done');
  const spans = exporter.getFinishedSpans();
  const one = byName(spans);
  const root = one('invoke_agent root');
  assert.equal(parentOf(root), undefined);
  assert.equal(root.attributes['gen_ai.operation.name'], 'invoke_agent');
  assert.equal(root.attributes.environment, 'test');
  // Every span is in one trace.
  assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);

  // Steps hang under the run; model calls and tools under their step.
  const steps = spans.filter((s) => s.attributes['lmthing.span.kind'] === 'step' && parentOf(s) === idOf(root));
  assert.equal(steps.length, 4);
  // The run's tokens are its steps' (four answered calls of 10 input tokens).
  assert.equal(steps.reduce((n, s) => n + s.attributes['gen_ai.usage.input_tokens'], 0), 40);
  assert.equal(root.attributes['gen_ai.usage.input_tokens'], 40);
  const chats = spans.filter((s) => s.name === 'chat scripted');
  assert.equal(chats.length, 5, 'a failed attempt and four answered ones');
  const failed = chats.find((s) => s.attributes['lmthing.attempt'] === 1 && s.status.code === 2);
  assert.ok(failed, 'the 429 attempt is an error span');
  assert.match(failed.status.message, /429/);
  for (const chat of chats) {
    assert.equal(chat.kind, 2 /* CLIENT */);
    assert.equal(chat.attributes['gen_ai.operation.name'], 'chat');
    assert.equal(chat.attributes['gen_ai.request.model'], 'scripted');
    assert.equal(chat.attributes['gen_ai.provider.name'], 'test');
    assert.ok(steps.some((s) => idOf(s) === parentOf(chat)), 'a chat span is a child of a step');
  }
  const answered = chats.filter((s) => s.status.code !== 2);
  assert.ok(answered.every((s) => s.attributes['gen_ai.response.model'] === 'scripted' && s.attributes['gen_ai.usage.input_tokens'] === 10 && s.attributes['gen_ai.usage.output_tokens'] === 20));
  const retry = one('retry test:scripted');
  assert.equal(parentOf(retry), parentOf(failed), 'the retry wait is beside the failed attempt, in its step');
  assert.equal(retry.attributes['lmthing.retry.attempt'], 1);
  // error.type is the error's kind (few values, as OTel wants), the message is an attribute of its own.
  assert.equal(retry.attributes['error.type'], 'provider');
  assert.match(retry.attributes['lmthing.retry.error'], /429 slow down/);

  const broken = one('execute_tool broken');
  assert.equal(broken.attributes['gen_ai.tool.name'], 'broken');
  assert.equal(broken.attributes['gen_ai.tool.call.id'], 'c1');
  assert.equal(broken.status.code, 2);
  assert.match(broken.status.message, /disk full/);

  // The sub-agent's run span is a child of the tool call that started it; its chat is inside it.
  const helperTool = one('execute_tool helper');
  const helperRun = one('invoke_agent helper');
  assert.equal(parentOf(helperRun), idOf(helperTool));
  const helperChat = one('chat mock');
  const helperStep = spans.find((s) => idOf(s) === parentOf(helperChat));
  assert.equal(parentOf(helperStep), idOf(helperRun));

  // trace.startSpan in a tool: a child of the tool's span.
  const dbQuery = one('database-query');
  assert.equal(parentOf(dbQuery), idOf(one('execute_tool query')));
  assert.equal(dbQuery.attributes.rows, 2);

  // Contents are not recorded unless asked.
  assert.ok(spans.every((s) => !('gen_ai.input.messages' in s.attributes) && !('gen_ai.tool.call.arguments' in s.attributes) && !('gen_ai.output.messages' in s.attributes)));
  // Times are the engine clock's (virtual here): a span ends no earlier than it starts.
  for (const s of spans) assert.ok(s.endTime[0] * 1e9 + s.endTime[1] >= s.startTime[0] * 1e9 + s.startTime[1], s.name);
});

test('a tool retry is a child of the tool call; contents are recorded when asked, API keys never', async () => {
  const engine = await virtualEngine();
  const exporter = new InMemorySpanExporter();
  const secret = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';
  process.env.LMTHING_TEST_SERVICE_TOKEN = 'tok-0123456789-secret-value';
  let attempts = 0;
  const model = scriptedModel((n) => (n === 0 ? [call('flaky', 'c1', { q: 'x', apiKey: secret, password: 'hunter22' })] : [text(`done with ${secret}`)]));
  const { result } = await runPrompt((ctx) => {
    ctx.defTracing('main', { exporters: [exporter], recordInputs: true, recordOutputs: true, redact: ['password'] });
    ctx.defRetry('twice', { maxAttempts: 2, backoff: 'constant', baseDelay: 1000 });
    ctx.defTool('flaky', 'fails once', { type: 'object', properties: { q: { type: 'string' } } }, () => {
      if (attempts++ === 0) throw new Error('ECONNRESET');
      return { ok: true, token: process.env.LMTHING_TEST_SERVICE_TOKEN };
    }, { retry: 'twice' });
    ctx.$`use key ${secret}`;
  }, { model, engine });
  assert.equal(await result.text, `done with ${secret}`);
  delete process.env.LMTHING_TEST_SERVICE_TOKEN;
  const spans = exporter.getFinishedSpans();
  const one = byName(spans);
  const tool = one('execute_tool flaky');
  const retry = one('retry flaky');
  assert.equal(parentOf(retry), idOf(tool));
  assert.equal(retry.attributes['lmthing.retry.delay_ms'], 1000);
  const retryDuration = (retry.endTime[0] - retry.startTime[0]) * 1000 + (retry.endTime[1] - retry.startTime[1]) / 1e6;
  assert.equal(retryDuration, 1000, 'the wait, on the virtual clock');
  // Inputs and outputs are there, JSON, redacted.
  const args = JSON.parse(tool.attributes['gen_ai.tool.call.arguments']);
  assert.equal(args.q, 'x');
  assert.equal(args.password, '[REDACTED]');
  assert.equal(args.apiKey, '[REDACTED]');
  assert.equal(JSON.parse(tool.attributes['gen_ai.tool.call.result']).token, '[REDACTED]');
  const chats = spans.filter((s) => s.name === 'chat scripted');
  assert.ok(chats.every((s) => typeof s.attributes['gen_ai.input.messages'] === 'string'));
  assert.match(chats[1].attributes['gen_ai.output.messages'], /done with \[REDACTED\]/);
  const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
  assert.ok(!everything.includes(secret), 'no API key in any span');
  assert.ok(!everything.includes('hunter22') && !everything.includes('tok-0123456789'), 'no redacted value in any span');
});

test('sampling 0 exports nothing and the engine emits no span events', async () => {
  const engine = await virtualEngine();
  const exporter = new InMemorySpanExporter();
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defTracing('off', { exporters: [exporter], sampling: 0 });
    ctx.defTool('t', 't', {}, (_a, { trace: t }) => {
      const span = t.startSpan('inner');
      assert.equal(span.isRecording(), false);
      span.end();
      return 'ok';
    });
    ctx.$`go`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 't', args: {} }, text('ok')]), engine });
  await result.text;
  await prompt.finished;
  assert.equal(exporter.getFinishedSpans().length, 0);
  assert.ok(!prompt.events.some((e) => e.type === 'span-start'));
});

test('tools of a directive run have trace too: their spans hang under the tool call, parallel branches under the run', async () => {
  const engine = await virtualEngine();
  const exporter = new InMemorySpanExporter();
  const schema = { type: 'object', properties: { sql: { type: 'string' } }, required: ['sql'] };
  const model = scriptedModel((n) => (n === 0 ? [call('query', 'c1', { sql: 'select id from users' })] : [text(n === 1 ? '2 users' : 'checked')]));
  const answer = await run(function* () {
    yield* L.user`count the users`;
    const counted = yield* L.reply;
    const check = (what) =>
      function* () {
        yield* L.user`check ${what}`;
        return (yield* L.reply).value;
      };
    const checked = yield* L.branch([check('the count'), check('the query')]);
    return `${counted.value}, ${checked.join(' and ')}`;
  }, {
    engine,
    models: { default: model },
    tools: {
      query: {
        description: 'runs a query',
        parameters: schema,
        execute: async (args, { trace: t }) => {
          const span = t.startSpan('database-query');
          span.setAttribute('db.query.text', args.sql);
          span.end();
          return [{ id: 1 }, { id: 2 }];
        },
      },
    },
    define: (ctx) => ctx.defTracing('main', { exporters: [exporter] }),
  });
  assert.equal(answer, '2 users, checked and checked');
  const spans = exporter.getFinishedSpans();
  const one = byName(spans);
  const root = one('invoke_agent root');
  assert.equal(root.attributes['lmthing.run.kind'], 'conversation');
  const tool = one('execute_tool query');
  const dbQuery = one('database-query');
  assert.equal(parentOf(dbQuery), idOf(tool), 'the tool\'s own span is a child of its execute_tool span');
  assert.equal(dbQuery.attributes['db.query.text'], 'select id from users');
  assert.equal(dbQuery.spanContext().traceId, root.spanContext().traceId);
  const ancestors = (span) => {
    const chain = [];
    for (let s = span; s; s = spans.find((p) => idOf(p) === parentOf(s))) chain.push(s.name);
    return chain;
  };
  assert.equal(ancestors(tool).at(-1), 'invoke_agent root', `the tool call is in the run: ${ancestors(tool).join(' < ')}`);
  // Each parallel branch is a span of the run; its model call is inside it.
  for (const name of ['branch 0', 'branch 1']) {
    assert.equal(ancestors(one(name)).at(-1), 'invoke_agent root');
    const branchChats = spans.filter((s) => s.name === 'chat scripted' && ancestors(s).includes(name));
    assert.equal(branchChats.length, 1, `the reply of ${name} is a chat span under it`);
  }

  // In an untraced run, a tool's trace makes non-recording spans.
  let recording;
  await run(function* () {
    yield* L.user`again`;
    return (yield* L.reply).value;
  }, {
    engine,
    models: { default: mockModel([{ type: 'tool-call', toolName: 'probe', args: {} }, text('ok')]) },
    tools: {
      probe: {
        parameters: {},
        execute: (_args, { trace: t }) => {
          const span = t.startSpan('inner');
          recording = span.isRecording();
          span.end();
          return 'ok';
        },
      },
    },
  });
  assert.equal(recording, false);
});

test('a registered global tracer provider is used; without a context manager the run starts its own trace', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  assert.ok(trace.setGlobalTracerProvider(provider));
  try {
    const engine = await virtualEngine();
    const outer = provider.getTracer('app').startSpan('request');
    const { result } = await context.with(trace.setSpan(context.active(), outer), () =>
      runPrompt((ctx) => {
        ctx.defTracing('global');
        ctx.$`hi`;
      }, { model: mockModel([text('hello')]), engine }),
    );
    await result.text;
    outer.end();
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'invoke_agent root');
    assert.ok(root);
    // Without a context manager the active context is the root one, so the run starts its own trace
    // (with one, the run hangs under the active span: the AsyncLocalStorage test below).
    assert.ok(spans.filter((s) => s.name !== 'request').every((s) => s.spanContext().traceId === root.spanContext().traceId));
    assert.ok(spans.some((s) => s.name === 'chat mock'));
  } finally {
    trace.disable();
  }
});

test("the root span's parent is the caller's active span (startActiveSpan, AsyncLocalStorage context manager); tool code runs under its tool span", async () => {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  assert.ok(context.setGlobalContextManager(contextManager));
  try {
    const engine = await virtualEngine();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const app = provider.getTracer('app');
    // Two requests at once, each its own active span: each run must hang under its own request.
    const handle = (request) =>
      app.startActiveSpan(`request ${request}`, async (span) => {
        try {
          const { result } = await runPrompt((ctx) => {
            ctx.defTracing('traced', { tracerProvider: provider });
            ctx.defTool('lookup', 'looks up', {}, async () => {
              await new Promise((resolve) => setTimeout(resolve, 5)); // the other request runs meanwhile
              // Code in the tool that starts spans through the API (as instrumented libraries do).
              return app.startActiveSpan(`lookup-db ${request}`, (db) => {
                db.end();
                return 'found';
              });
            });
            ctx.$`look up ${request}`;
          }, { model: mockModel([{ type: 'tool-call', toolName: 'lookup', args: {} }, text(`answer ${request}`)]), engine });
          return await result.text;
        } finally {
          span.end();
        }
      });
    const directive = () =>
      app.startActiveSpan('request C', async (span) => {
        try {
          return await run(function* () {
            yield* L.user`hi`;
            return (yield* L.reply).value;
          }, { engine, models: { default: mockModel([text('answer C')]) }, define: (ctx) => ctx.defTracing('traced', { tracerProvider: provider }) });
        } finally {
          span.end();
        }
      });
    assert.deepEqual(await Promise.all([handle('A'), handle('B'), directive()]), ['answer A', 'answer B', 'answer C']);
    const spans = exporter.getFinishedSpans();
    const named = (name) => spans.filter((s) => s.name === name);
    const roots = named('invoke_agent root');
    assert.equal(roots.length, 3);
    for (const request of ['A', 'B', 'C']) {
      const [outer] = named(`request ${request}`);
      const root = roots.find((s) => parentOf(s) === idOf(outer));
      assert.ok(root, `a run span is a child of request ${request}`);
      assert.equal(root.spanContext().traceId, outer.spanContext().traceId);
      const tree = spans.filter((s) => s.spanContext().traceId === outer.spanContext().traceId);
      assert.ok(tree.every((s) => s === outer || parentOf(s) !== undefined), 'the whole run tree is in the request\'s trace');
      if (request === 'C') continue;
      const [db] = named(`lookup-db ${request}`);
      const tool = tree.find((s) => s.name === 'execute_tool lookup');
      assert.equal(parentOf(db), idOf(tool), `lookup-db ${request} hangs under its own execute_tool span`);
    }
    assert.equal(roots.filter((s) => s.attributes['lmthing.run.kind'] === 'conversation').length, 1);
  } finally {
    context.disable();
  }
});

test('bad configs are typed errors; no provider anywhere is TRACING_NO_PROVIDER', async () => {
  const engine = await virtualEngine();
  const model = mockModel([text('x')]);
  await assert.rejects(runPrompt((ctx) => ctx.defTracing('t', { exporter: ['console'] }), { model, engine }), (e) => e instanceof ConfigError && /did you mean 'exporters'/.test(e.message));
  await assert.rejects(runPrompt((ctx) => ctx.defTracing('t', { exporters: ['zipkin'] }), { model, engine }), (e) => e instanceof ConfigError && /'console', 'otlp', 'jaeger', 'events' or SpanExporter/.test(e.message));
  await assert.rejects(runPrompt((ctx) => ctx.defTracing('t', { sampling: 2 }), { model, engine }), (e) => e instanceof ConfigError && /sampling/.test(e.message));
  await assert.rejects(
    runPrompt((ctx) => {
      ctx.defTracing('t');
      ctx.$`x`;
    }, { model, engine }),
    (e) => e instanceof TracingError && e.code === 'TRACING_NO_PROVIDER' && /register/.test(e.message),
  );
});

test('a missing SDK package is a TracingError that names it', () => {
  // A child process whose module resolution cannot find @opentelemetry/sdk-trace-base.
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier === '@opentelemetry/sdk-trace-base') { const e = new Error('Cannot find package ' + specifier); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
    return next(specifier, context);
  }`;
  const dist = new URL('../../dist/node.js', import.meta.url).href;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
    const { runPrompt, mockModel } = await import(${JSON.stringify(dist)});
    try {
      const { result } = await runPrompt((ctx) => { ctx.defTracing('t', { exporters: ['console'] }); ctx.$\`x\`; }, { model: mockModel([{ type: 'text', text: 'x' }]) });
      await result.text;
      console.log('no error');
    } catch (e) { console.log(e.name, e.code, e.message); }
    process.exit(0);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: fileURLToPath(new URL('.', import.meta.url)), encoding: 'utf8' });
  assert.match(out, /^TracingError TRACING_DEPENDENCY_MISSING defTracing: exporters needs the "@opentelemetry\/sdk-trace-base" package: npm install @opentelemetry\/sdk-trace-base/);
});

/** A loopback OTLP/HTTP receiver: collects the JSON bodies posted to /v1/traces. */
async function otlpReceiver() {
  const bodies = [];
  const headers = [];
  let notify = () => {};
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        headers.push(req.headers);
        bodies.push(JSON.parse(body));
        notify();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/v1/traces`;
  const spans = () => bodies.flatMap((b) => b.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, resource: rs.resource })))));
  /** Resolves once spans named `name` arrived (bounded: fails after 20 s). */
  const waitFor = (name) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no span ${name} within 20 s; got ${spans().map((s) => s.name).join(', ')}`)), 20_000);
      const check = () => {
        if (spans().some((s) => s.name === name)) {
          clearTimeout(timer);
          resolve();
        } else notify = check;
      };
      check();
    });
  return { url, spans, headers, waitFor, close: () => new Promise((resolve) => server.close(resolve)) };
}

const attr = (span, key) => {
  const kv = (span.attributes ?? []).find((a) => a.key === key);
  return kv && (kv.value.stringValue ?? kv.value.intValue ?? kv.value.doubleValue ?? kv.value.boolValue);
};

test('OTLP/HTTP JSON to a loopback receiver: service name, attributes, parent links', async () => {
  const receiver = await otlpReceiver();
  try {
    const { result } = await runPrompt((ctx) => {
      ctx.defTracing('otlp', { serviceName: 'checkout-agent', exporters: ['otlp'], otlp: { url: receiver.url, headers: { 'x-team': 'obs' } }, attributes: { version: '1.0.0' } });
      ctx.defTool('lookup', 'looks up', {}, () => 'found');
      ctx.$`look`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'lookup', args: {} }, text('ok')]) });
    assert.equal(await result.text, 'ok');
    await receiver.waitFor('invoke_agent root');
    const spans = receiver.spans();
    const root = spans.find((s) => s.name === 'invoke_agent root');
    const service = root.resource.attributes.find((a) => a.key === 'service.name');
    assert.equal(service.value.stringValue, 'checkout-agent');
    assert.equal(attr(root, 'version'), '1.0.0');
    assert.equal(receiver.headers[0]['x-team'], 'obs');
    assert.match(receiver.headers[0]['content-type'], /application\/json/);
    const tool = spans.find((s) => s.name === 'execute_tool lookup');
    const step = spans.find((s) => s.spanId === tool.parentSpanId);
    assert.equal(step.parentSpanId, root.spanId);
    assert.equal(attr(tool, 'gen_ai.tool.name'), 'lookup');
    assert.ok(spans.every((s) => s.traceId === root.traceId));
  } finally {
    await receiver.close();
  }
});

test("the seed's example runs as written: console + jaeger exporters, trace.startSpan in a tool", async () => {
  const receiver = await otlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.url; // where 'jaeger' (OTLP) sends
  const db = { query: async (sql) => (sql ? [{ id: 1 }, { id: 2 }, { id: 3 }] : []) };
  const schema = { type: 'object', properties: { sql: { type: 'string' } }, required: ['sql'] };
  const lines = [];
  const dir = console.dir;
  console.dir = (value) => lines.push(value); // the console exporter's output, kept out of the test report
  try {
    const { result } = await runPrompt((ctx) => {
      ctx.defTracing('mainTrace', {
        serviceName: 'my-agent',
        exporters: ['console', 'jaeger'],
        sampling: 1.0, // 100% sampling
        attributes: {
          environment: 'production',
          version: '1.0.0'
        }
      });

      // Automatic span creation
      ctx.defTool('complexOperation', 'Complex operation', schema,
        async (args, { trace }) => {
          const span = trace.startSpan('database-query');
          try {
            const result = await db.query(args.sql);
            span.setAttribute('rows', result.length);
            return result;
          } finally {
            span.end();
          }
        }
      );
      ctx.$`Count the users`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'complexOperation', args: { sql: 'select * from users' } }, text('3 users')]) });
    assert.equal(await result.text, '3 users');
    await receiver.waitFor('invoke_agent root');
    const spans = receiver.spans();
    const query = spans.find((s) => s.name === 'database-query');
    assert.equal(Number(attr(query, 'rows')), 3);
    assert.equal(query.parentSpanId, spans.find((s) => s.name === 'execute_tool complexOperation').spanId);
    assert.ok(lines.some((l) => l.name === 'database-query'), 'the console exporter printed the span');
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    console.dir = dir;
    await receiver.close();
  }
});

/** Waits (at most 20 s) until `written` holds a line matching `pattern`. */
async function lineIn(written, pattern) {
  for (let waited = 0; waited < 20_000; waited += 50) {
    const line = written.join('').split('\n').find((l) => pattern.test(l));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`no line matching ${pattern} on stderr; got: ${written.join('')}`);
}

test('an exporter that fails is reported on stderr, once until an export succeeds again, with no secret in the line', async () => {
  // Export results in turn: two failures (one line), a success, a failure (a line again), then successes.
  const key = 'sk-test-FAKEKEY-0123456789abcdef';
  const results = [
    { code: 1, error: new Error(`collector https://ops:hunter2@otel.example refused ${key}`) },
    { code: 1, error: new Error('still down') },
    { code: 0 },
    { code: 1, error: new Error('down again') },
  ];
  const exporter = { export: (spans, done) => done(results.shift() ?? { code: 0 }), shutdown: async () => {} };
  await withStderr(async (written) => {
    const { result } = await runPrompt((ctx) => {
      ctx.defTracing('t', { exporters: [exporter] });
      ctx.defTool('lookup', 'looks up', {}, () => 'found');
      ctx.$`look`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'lookup', args: {} }, text('ok')]) });
    assert.equal(await result.text, 'ok');
    const lines = written.join('').split('\n').filter((l) => l.includes('failed to export'));
    assert.equal(lines.length, 2, written.join(''));
    assert.equal(lines[0], 'lmthing: defTracing("t"): a span exporter failed to export 1 span: collector https://[REDACTED]@otel.example refused [REDACTED] (later failures are not shown until an export succeeds)');
    assert.match(lines[1], /failed to export 1 span: down again/);
  });
  // The OTLP exporter lmthing builds, against a collector that refuses the key.
  const server = createServer((req, res) => req.resume().on('end', () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}')));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await withStderr(async (written) => {
      const { result } = await runPrompt((ctx) => {
        ctx.defTracing('otlp', { exporters: ['otlp'], otlp: { url: `http://127.0.0.1:${server.address().port}/v1/traces`, headers: { authorization: 'Bearer sekret-token-123456' } } });
        ctx.$`hi`;
      }, { model: mockModel([text('ok')]) });
      assert.equal(await result.text, 'ok');
      const line = await lineIn(written, /defTracing\("otlp"\): the otlp exporter failed to export \d+ spans?/);
      assert.ok(!written.join('').includes('sekret'), line);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test("a directive branch that fails ends the spans it had open with the branch's error, when it ends", async () => {
  const exporter = new InMemorySpanExporter();
  const failing = { provider: 'test', modelId: 'bad', generate: async () => { throw new ProviderError('bad: exploded', { retryable: false }); } };
  const ask = (key) => function* () {
    yield* L.model(key);
    return (yield* L.reply).value;
  };
  await run(
    function* () {
      yield* L.user`q`;
      try {
        yield* L.branch([ask('bad')]);
      } catch {
        // the parent goes on
      }
      yield* L.model('slow');
      return (yield* L.reply).value;
    },
    {
      models: { default: mockModel([text('d')]), bad: failing, slow: mockModel([text('s')], { delayMs: 300 }) },
      define: (ctx) => ctx.defTracing('t', { exporters: [exporter] }),
    },
  );
  const spans = exporter.getFinishedSpans();
  const branch = spans.find((s) => s.name === 'branch 0');
  const inside = spans.filter((s) => parentOf(s) === idOf(branch));
  assert.ok(inside.length > 0, 'the branch has its step');
  const ms = ([s, ns]) => s * 1000 + ns / 1e6;
  for (const span of inside) {
    assert.ok(ms(span.endTime) <= ms(branch.endTime) + 1, `${span.name} ends with its branch, not 300 ms later with the run`);
    assert.match(span.status.message ?? '', /exploded/);
  }
});

test("work a tool's code starts (runTool, runAgent, a workflow, a parallel group) hangs under that tool call's span; workflows, their steps and parallel groups have spans", async () => {
  const exporter = new InMemorySpanExporter();
  const model = scriptedModel((n) => (n === 0 ? [call('outer', 'c1')] : [text('done')]));
  const { result } = await runPrompt((ctx) => {
    ctx.defTracing('main', { exporters: [exporter] });
    ctx.defTool('inner', 'leaf work', { type: 'object', properties: { from: { type: 'string' } } }, ({ from }) => `inner from ${from}`);
    ctx.defAgent('helper', 'helps', {}, (_args, sub) => sub.$`help`, { model: mockModel([text('helped')]) });
    ctx.defWorkflow('flow', [{ id: 'leaf', action: (wctx) => wctx.runTool('inner', { from: 'workflow' }) }]);
    ctx.defParallel('fan', { a: () => ctx.runTool('inner', { from: 'parallel' }) });
    ctx.defTool('outer', 'starts work of its own', {}, async () => {
      await ctx.runTool('inner', { from: 'runTool' });
      await ctx.runAgent('helper', {});
      await ctx.runWorkflow('flow', {});
      await ctx.executeParallel('fan');
      return 'outer done';
    });
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  const spans = exporter.getFinishedSpans();
  const outer = spans.find((s) => s.name === 'execute_tool outer');
  const parentName = (span) => spans.find((s) => idOf(s) === parentOf(span))?.name;
  // Each inner call hangs under what made it: runTool's under the outer call, the workflow step's
  // under its step's span, the parallel task's under its task's; workflow and group under the outer call.
  const inner = spans.filter((s) => s.name === 'execute_tool inner');
  assert.deepEqual(inner.map(parentName).sort(), ['execute_tool outer', 'parallel_task a', 'workflow_step leaf']);
  const task = spans.find((s) => s.name === 'parallel_task a');
  assert.equal(parentName(task), 'parallel fan');
  assert.deepEqual([task.attributes['lmthing.parallel.task'], task.attributes['lmthing.parallel.task.status']], ['a', 'success']);
  const step = spans.find((s) => s.name === 'workflow_step leaf');
  assert.equal(parentName(step), 'workflow flow');
  assert.deepEqual([step.attributes['lmthing.workflow.step'], step.attributes['lmthing.workflow.step.status']], ['leaf', 'success']);
  assert.equal(parentName(spans.find((s) => s.name === 'workflow flow')), 'execute_tool outer');
  const fan = spans.find((s) => s.name === 'parallel fan');
  assert.equal(parentOf(fan), idOf(outer));
  assert.deepEqual([fan.attributes['lmthing.parallel.aggregation'], fan.attributes['lmthing.parallel.status']], ['all', 'success']);
  // runAgent: the agent's tool call is under the outer call, and the agent's run under that.
  const helperCall = spans.find((s) => s.name === 'execute_tool helper');
  assert.equal(parentOf(helperCall), idOf(outer));
  assert.equal(parentName(spans.find((s) => s.name === 'invoke_agent helper')), 'execute_tool helper');
  // The model's own calls stay under the run's steps.
  assert.match(parentName(outer), /^step /);
});

test('a workflow that fails: its span and the failed step\'s end with the error; a skipped step says so', async () => {
  const exporter = new InMemorySpanExporter();
  const model = scriptedModel((n) => (n === 0 ? [call('start', 'c1')] : [text('done')]));
  const { result } = await runPrompt((ctx) => {
    ctx.defTracing('main', { exporters: [exporter] });
    ctx.defWorkflow('deploy', [
      { id: 'build', action: () => 'built' },
      { id: 'notify', condition: () => false, action: () => 'sent' },
      { id: 'ship', action: () => { throw new Error('registry down'); } },
    ]);
    ctx.defTool('start', 'starts the deploy', {}, async () => (await ctx.runWorkflow('deploy', {})).output);
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  const spans = exporter.getFinishedSpans();
  const named = byName(spans);
  const workflow = named('workflow deploy');
  assert.equal(workflow.status.code, 2);
  assert.match(workflow.status.message, /registry down/);
  assert.equal(workflow.attributes['lmthing.workflow.name'], 'deploy');
  for (const id of ['build', 'notify', 'ship']) assert.equal(named(`workflow_step ${id}`).parentSpanContext?.spanId, idOf(workflow));
  assert.equal(named('workflow_step build').attributes['lmthing.workflow.step.status'], 'success');
  assert.equal(named('workflow_step notify').attributes['lmthing.workflow.step.status'], 'skipped');
  const ship = named('workflow_step ship');
  assert.equal(ship.attributes['lmthing.workflow.step.status'], 'error');
  assert.equal(ship.status.code, 2);
  assert.match(ship.status.message, /registry down/);
});
