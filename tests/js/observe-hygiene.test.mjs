// Observability without leaks or quiet misconfiguration: span events are masked as exported spans
// are, a key given to a provider factory is masked wherever a Redactor writes, the OTLP endpoint is
// checked without being quoted, metrics cannot write one series twice, options that would do nothing
// are refused, and a log record keeps its fields whatever they hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigError, createEngine, createOpenAI, mockModel, readMetrics, runPrompt } from '../../dist/node.js';

test("span-start and span-end events are masked like the spans an exporter writes (the 'events' exporter, onEvent, prompt.events)", async () => {
  process.env.HYGIENE_TEST_API_KEY = 'envsecret-1234567890';
  try {
    const seen = [];
    const { result, prompt } = await runPrompt((ctx) => {
      ctx.defTracing('t', { exporters: ['events'], recordInputs: true, recordOutputs: true, redact: ['password'] });
      ctx.defTool('login', 'Log in', { type: 'object', properties: { password: { type: 'string' } } }, async (a) => ({ password: a.password, env: 'envsecret-1234567890', shaped: 'sk-proj-abcdefghijklmnopqrstuv' }));
      ctx.$`log in`;
    }, { model: mockModel([{ type: 'tool-call', toolName: 'login', args: { password: 'hunter2-secret' } }, { type: 'text', text: 'done' }]), onEvent: (e) => seen.push(e) });
    await result.text;
    const spans = [...seen, ...prompt.events].filter((e) => e.type === 'span-start' || e.type === 'span-end');
    const tool = spans.find((e) => e.type === 'span-end' && e.attributes['gen_ai.tool.call.result'] !== undefined);
    assert.ok(tool, 'the tool span carries its result');
    assert.deepEqual(tool.attributes['gen_ai.tool.call.result'], { password: '[REDACTED]', env: '[REDACTED]', shaped: '[REDACTED]' });
    assert.doesNotMatch(JSON.stringify(spans), /hunter2|envsecret|sk-proj-abc/);
  } finally {
    delete process.env.HYGIENE_TEST_API_KEY;
  }
});

test('a key given to a provider factory is masked in spans and logs when the model echoes it', async () => {
  const KEY = 'qz9PRIVATEkey7f3a9c21e5d84b06';
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: `the key is ${KEY}` }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const model = createOpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${server.address().port}/v1` })('gpt-4o');
    const exporter = new InMemorySpanExporter();
    const logs = [];
    const { result } = await runPrompt((ctx) => {
      ctx.defTracing('t', { exporters: [exporter], recordOutputs: true });
      ctx.defLogger('lg', { level: 'debug', outputs: [(_record, line) => logs.push(line)] });
      ctx.$`hello`;
    }, { model });
    assert.equal(await result.text, `the key is ${KEY}`); // the answer itself is the caller's
    const chat = exporter.getFinishedSpans().find((s) => s.name.startsWith('chat'));
    assert.match(chat.attributes['gen_ai.output.messages'], /the key is \[REDACTED\]/);
    assert.ok(logs.length > 0);
    assert.ok(!logs.join('\n').includes(KEY), 'the key is in the logs');
  } finally {
    server.close();
  }
});

test("defTracing's OTLP endpoint is checked at the call without showing it, and 'otlp' needs an exporter that uses it", async () => {
  const model = mockModel([{ type: 'text', text: 'x' }]);
  const secretUrl = 'https//otlp.example.com/v1/traces?api_key=qz9PRIVATEotlpkey7f3a9';
  for (const url of [secretUrl, 'ftp://otlp.example.com/v1/traces']) {
    const error = await runPrompt((ctx) => {
      ctx.defTracing('t', { exporters: ['otlp'], otlp: { url } });
      ctx.$`x`;
    }, { model }).then(({ result }) => result.text).catch((e) => e);
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /defTracing\("t"\)\.otlp: 'url' must be an http\(s\) URL/);
    assert.ok(!error.message.includes('qz9PRIVATE') && !error.message.includes('ftp://'), error.message);
  }
  const exporter = new InMemorySpanExporter();
  await assert.rejects(
    runPrompt((ctx) => {
      ctx.defTracing('t', { exporters: [exporter], otlp: { url: 'https://otlp.example.com/v1/traces' } });
      ctx.$`x`;
    }, { model }),
    (e) => e instanceof ConfigError && /'otlp' sets up the 'otlp' and 'jaeger' exporters, and 'exporters' has neither/.test(e.message),
  );
});

test("a histogram and a metric named like one of its series are refused (Prometheus would read duplicate samples)", async () => {
  const engine = await createEngine();
  const define = (fn) => runPrompt((ctx) => {
    fn(ctx);
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]), engine }).then(({ result }) => result.text);
  await define((ctx) => ctx.defMetric('lat', 'histogram'));
  for (const name of ['lat_count', 'lat_sum', 'lat_bucket'])
    await assert.rejects(define((ctx) => ctx.defMetric(name, 'counter')), (e) => e.code === 'METRIC_CONFLICT' && new RegExp(`metric "${name}" and metric "lat" would both write the series "${name}"`).test(e.message));
  await define((ctx) => ctx.defMetric('size_count', 'counter'));
  await assert.rejects(define((ctx) => ctx.defMetric('size', 'histogram')), (e) => e.code === 'METRIC_CONFLICT' && /would both write the series "size_count"/.test(e.message));
  await define((ctx) => ctx.defMetric('latency', 'counter')); // a name that only starts like another is fine
  const names = (await readMetrics(engine)).metrics.map((m) => m.name);
  assert.ok(names.includes('lat') && names.includes('size_count') && !names.includes('lat_count') && !names.includes('size'), names.join());
  await assert.rejects(define((ctx) => ctx.defMetric('m', 'counter', { labels: ['__name__'] })), /reserved for Prometheus' own labels/);
});

test("defLogger refuses a 'file' no output writes and a misspelt output key; a BigInt field is written as its digits", async () => {
  const model = mockModel([{ type: 'text', text: 'x' }]);
  const defined = (config) => runPrompt((ctx) => {
    ctx.defLogger('lg', config);
    ctx.$`x`;
  }, { model });
  await assert.rejects(defined({ outputs: ['console'], file: './x.log' }), (e) => e instanceof ConfigError && /'file' is the path of the 'file' output, and 'outputs' does not have it/.test(e.message));
  await assert.rejects(defined({ outputs: [{ fil: './x.log' }] }), (e) => e instanceof ConfigError && /unknown key 'fil' \(did you mean 'file'\?/.test(e.message));
  const lines = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defLogger('lg', { fields: { service: 'api' }, outputs: [(_record, line) => lines.push(line)] });
    ctx.logger.info('counted', { total: 12345678901234567890n });
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  await result.text;
  const record = JSON.parse(lines.find((l) => l.includes('counted')));
  assert.equal(record.total, '12345678901234567890');
  assert.equal(record.service, 'api');
});

test("telemetry: {isEnabled: true} with no tracer and none registered traces nothing, as the AI SDK's does", async () => {
  const run = runPrompt({ model: mockModel([{ type: 'text', text: 'fine' }]), prompt: 'x', telemetry: { isEnabled: true } });
  assert.equal(await run.text, 'fine');
});
