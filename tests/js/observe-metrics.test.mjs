// defMetric, ctx.recordMetric, the built-in metrics, prompt.metrics() and metricsText()
// (docs/observability.md): the seed's three definitions, histogram buckets, Prometheus text parsed
// back by a strict parser and scraped over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { isDeepStrictEqual } from 'node:util';

import { createEngine, runPrompt, mockModel, metricsText, readMetrics, METRICS_CONTENT_TYPE, ConfigError, MetricError, VirtualClock, NotRunningError } from '../../dist/node.js';

/**
 * A strict parser of the Prometheus text format 0.0.4: every line is a HELP, a TYPE or a sample of
 * a metric whose TYPE came first; label values are unescaped; histogram buckets are cumulative and
 * end with +Inf equal to _count. Throws on anything else.
 */
function parsePrometheus(text) {
  assert.ok(text.endsWith('\n'), 'the text ends with a newline');
  const families = new Map();
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      families.set(m[1], { ...(families.get(m[1]) ?? { samples: [] }), help: m[2] });
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      const family = families.get(m[1]) ?? { samples: [] };
      assert.equal(family.type, undefined, `TYPE of ${m[1]} given twice`);
      families.set(m[1], { ...family, type: m[2] });
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line))) {
      const [, sampleName, , labelText, valueText] = m;
      const family = [...families.entries()].find(([name, f]) => f.type && (sampleName === name || (f.type === 'histogram' && ['_bucket', '_sum', '_count'].some((s) => sampleName === name + s))));
      assert.ok(family, `sample ${sampleName} before its TYPE`);
      const labels = {};
      if (labelText !== undefined && labelText !== '') {
        const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
        let lm;
        let consumed = 0;
        while ((lm = re.exec(labelText))) {
          labels[lm[1]] = lm[2].replace(/\\(.)/g, (_s, ch) => (ch === 'n' ? '\n' : ch));
          consumed = re.lastIndex;
        }
        assert.equal(consumed, labelText.length, `bad label set: {${labelText}}`);
      }
      const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
      assert.ok(!Number.isNaN(value) || valueText === 'NaN', `bad value ${valueText}`);
      family[1].samples.push({ name: sampleName, labels, value });
    } else {
      assert.fail(`not a Prometheus 0.0.4 line: ${JSON.stringify(line)}`);
    }
  }
  for (const [name, family] of families) {
    if (family.type !== 'histogram') continue;
    const bySeries = new Map();
    for (const s of family.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      const entry = bySeries.get(key) ?? { buckets: [], count: undefined };
      if (s.name === `${name}_bucket`) entry.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
      if (s.name === `${name}_count`) entry.count = s.value;
      bySeries.set(key, entry);
    }
    for (const { buckets, count } of bySeries.values()) {
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][0] > buckets[i - 1][0] && buckets[i][1] >= buckets[i - 1][1], `${name}: buckets not cumulative`);
      assert.equal(buckets.at(-1)[0], Infinity);
      assert.equal(buckets.at(-1)[1], count);
    }
  }
  return families;
}

const sample = (families, name, sampleName, labels) => families.get(name)?.samples.find((s) => s.name === sampleName && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

test("the seed's three metrics, recorded in a hook and a tool, read back as JSON and as Prometheus text", async () => {
  const engine = await createEngine();
  const model = mockModel([
    { type: 'tool-call', toolName: 'search', args: {} },
    { type: 'tool-call', toolName: 'broken', args: {} },
    { type: 'text', text: 'done' },
  ]);
  let live;
  const started = runPrompt((ctx) => {
    ctx.defMetric('tokenUsage', 'counter', { labels: ['model', 'operation'], aggregation: 'sum' });
    ctx.defMetric('latency', 'histogram', { labels: ['tool', 'status'], buckets: [10, 50, 100, 500, 1000, 5000] });
    ctx.defMetric('successRate', 'gauge', { labels: ['agent'] });
    ctx.defHook(({ messages }) => {
      ctx.recordMetric('tokenUsage', messages.length, { model: 'gpt-4', operation: 'step' });
      return {};
    });
    ctx.defTool('search', 'search', {}, async () => {
      for (const ms of [5, 40, 40, 700, 9000]) await ctx.recordMetric('latency', ms, { tool: 'search', status: 'ok' });
      await ctx.recordMetric('successRate', 0.5, { agent: 'main' });
      await ctx.recordMetric('successRate', 0.9, { agent: 'main' });
      live = await (await started).prompt.metrics();
      return 'ok';
    });
    ctx.defTool('broken', 'fails', {}, () => {
      throw new Error('disk full');
    });
    ctx.$`go`;
  }, { model, engine });
  const { result, prompt } = await started;
  assert.equal(await result.text, 'done');
  assert.ok(live.metrics.some((m) => m.name === 'latency'), 'prompt.metrics() works while the run is live');

  const { metrics } = await prompt.metrics();
  const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
  const latency = byName.latency.series[0];
  assert.deepEqual(latency.labels, { tool: 'search', status: 'ok' });
  assert.deepEqual(latency.buckets.map((b) => [b.le, b.count]), [[10, 1], [50, 3], [100, 3], [500, 3], [1000, 4], [5000, 4]]);
  assert.equal(latency.count, 5);
  assert.equal(latency.sum, 9785);
  assert.equal(byName.successRate.series[0].value, 0.9);
  assert.equal(byName.tokenUsage.series[0].labels.model, 'gpt-4');
  assert.ok(byName.tokenUsage.series[0].value >= 3, 'three steps each counted their messages');
  // Built-in metrics the engine recorded.
  const series = (name, labels) => byName[name]?.series.find((s) => isDeepStrictEqual(s.labels, labels));
  assert.equal(series('lmthing_steps_total', { model: 'mock' })?.value, 3); // the model id the provider answered with
  assert.equal(series('lmthing_tool_errors_total', { tool: 'broken' })?.value, 1);
  assert.equal(series('lmthing_tool_call_duration_seconds', { tool: 'search', outcome: 'ok' })?.count, 1);
  assert.equal(series('lmthing_model_call_duration_seconds', { model: 'mock:mock', outcome: 'ok' })?.count, 3);
  assert.ok(series('lmthing_tokens_total', { model: 'mock:mock', direction: 'input' }));

  const families = parsePrometheus(await metricsText(engine));
  assert.equal(families.get('latency').type, 'histogram');
  assert.equal(sample(families, 'latency', 'latency_bucket', { tool: 'search', le: '50' }), 3);
  assert.equal(sample(families, 'latency', 'latency_bucket', { tool: 'search', le: '+Inf' }), 5);
  assert.equal(sample(families, 'successRate', 'successRate', { agent: 'main' }), 0.9);
  assert.equal(sample(families, 'lmthing_tool_errors_total', 'lmthing_tool_errors_total', { tool: 'broken' }), 1);
  assert.equal((await readMetrics(engine)).metrics.find((m) => m.name === 'latency').series[0].count, 5);
});

test('metricsText scraped over HTTP by a test server', async () => {
  const engine = await createEngine();
  const { result } = await runPrompt((ctx) => {
    ctx.defMetric('requests', 'counter', { labels: ['route'], description: 'Requests "served"\nper route' });
    ctx.defTool('hit', 'hit', {}, async () => {
      await ctx.recordMetric('requests', 2, { route: '/a"b' });
      return 'ok';
    });
    ctx.$`go`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'hit', args: {} }, { type: 'text', text: 'ok' }]), engine });
  await result.text;
  const server = createServer(async (req, res) => {
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE });
    res.end(await metricsText(engine));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/metrics`);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheus(await res.text());
    assert.equal(families.get('requests').help, 'Requests "served"\\nper route');
    assert.equal(sample(families, 'requests', 'requests', { route: '/a"b' }), 2);
    assert.equal(sample(families, 'lmthing_runs_total', 'lmthing_runs_total', { kind: 'prompt', outcome: 'ok' }), 1);
  } finally {
    server.close();
  }
});

test('bad definitions are ConfigErrors; bad recordings are MetricErrors with a stable code', async () => {
  const model = () => mockModel([{ type: 'text', text: 'x' }]);
  const define = (fn) => runPrompt((ctx) => {
    fn(ctx);
    ctx.$`go`;
  }, { model: model() });
  await assert.rejects(define((ctx) => ctx.defMetric('m', 'summary')), (e) => e instanceof ConfigError && /counter/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defMetric('m', 'counter', { bukets: [1] })), (e) => e instanceof ConfigError && /buckets/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defMetric('m', 'counter', { buckets: [1] })), (e) => e instanceof ConfigError && /histograms only/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defMetric('m', 'histogram', { buckets: [5, 1] })), (e) => e instanceof ConfigError && /increasing/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defMetric('lmthing_x', 'counter')), (e) => e instanceof ConfigError && /built-in/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defMetric('bad-name', 'counter')), (e) => e instanceof ConfigError && /Prometheus metric name/.test(e.message));
  // Refused at the defMetric call itself, not when the run starts (where they were MetricErrors).
  const atCall = (fn) => runPrompt((ctx) => {
    try {
      fn(ctx);
    } catch (e) {
      return Promise.reject(Object.assign(e, { atCall: true }));
    }
    ctx.$`go`;
  }, { model: model() });
  await assert.rejects(atCall((ctx) => ctx.defMetric('h', 'histogram', { buckets: [] })), (e) => e.atCall && e instanceof ConfigError && /'buckets' must be a non-empty array/.test(e.message));
  await assert.rejects(atCall((ctx) => ctx.defMetric('h', 'histogram', { labels: ['le'] })), (e) => e.atCall && e instanceof ConfigError && /'le' is reserved/.test(e.message));
  await assert.rejects(atCall((ctx) => ctx.defMetric('c', 'counter', { aggregation: 'max' })), {
    message: `defMetric("c"): aggregation 'max' does not fit a counter (a counter takes 'sum')`,
  });
  await assert.rejects(atCall((ctx) => ctx.defMetric('g', 'gauge', { aggregation: 'histogram' })), /does not fit a gauge \(a gauge takes 'last', 'sum', 'max', 'min'\)/);

  const codes = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defMetric('toolRuns', 'counter', { labels: ['tool'] });
    ctx.defTool('t', 't', {}, () => {
      for (const [name, value, labels] of [['toolRun', 1, { tool: 't' }], ['toolRuns', 1, { tol: 't' }], ['toolRuns', 1, {}], ['toolRuns', -1, { tool: 't' }], ['toolRuns', NaN, { tool: 't' }], ['toolRuns', 1, { tool: {} }]]) {
        try {
          ctx.recordMetric(name, value, labels);
          codes.push('none');
        } catch (e) {
          assert.ok(e instanceof MetricError);
          codes.push(e.code);
        }
      }
      return 'ok';
    });
    ctx.$`go`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'x' }]) });
  await result.text;
  assert.deepEqual(codes, ['METRIC_UNKNOWN', 'METRIC_LABELS', 'METRIC_LABELS', 'METRIC_VALUE', 'METRIC_VALUE', 'METRIC_LABELS']);

  // Outside the run there is no run to record into.
  let kept;
  const r = await runPrompt((ctx) => {
    kept = ctx;
    ctx.defMetric('late', 'counter');
    ctx.$`go`;
  }, { model: model() });
  await r.result.text;
  assert.throws(() => kept.recordMetric('late', 1), NotRunningError);

  // One engine keeps one definition per name.
  const engine = await createEngine();
  const first = await runPrompt((ctx) => {
    ctx.defMetric('shape', 'counter');
    ctx.$`go`;
  }, { model: model(), engine });
  await first.result.text;
  await assert.rejects(
    runPrompt((ctx) => {
      ctx.defMetric('shape', 'gauge');
      ctx.$`go`;
    }, { model: model(), engine }).text,
    (e) => e instanceof MetricError && e.code === 'METRIC_CONFLICT',
  );
});

test("an OpenTelemetry MeterProvider receives the run tree's metrics (the SDK's in-memory exporter)", async () => {
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const engine = await createEngine({ clock: new VirtualClock(Date.parse('2026-12-01T00:00:00Z')) });
  const { result } = await runPrompt((ctx) => {
    ctx.defMetric('lookups', 'counter', { labels: ['source'], description: 'Lookups done', unit: '1' });
    ctx.defMetric('latency', 'histogram', { labels: ['tool'], buckets: [10, 50, 100] });
    ctx.defMetric('queue', 'gauge', { labels: ['agent'], aggregation: 'max' });
    ctx.defTool('lookup', 'looks up', {}, async () => {
      await ctx.recordMetric('lookups', 2, { source: 'cache' });
      await ctx.recordMetric('lookups', 3, { source: 'cache' });
      await ctx.recordMetric('latency', 42, { tool: 'lookup' });
      await ctx.recordMetric('latency', 420, { tool: 'lookup' });
      await ctx.recordMetric('queue', 7, { agent: 'a' });
      await ctx.recordMetric('queue', 4, { agent: 'a' });
      return 'found';
    });
    ctx.$`look`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 'lookup', args: {} }, { type: 'text', text: 'ok' }]), engine, meterProvider });
  assert.equal(await result.text, 'ok');
  await reader.forceFlush();
  const metrics = new Map(exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics)).map((m) => [m.descriptor.name, m]));
  const lookups = metrics.get('lookups');
  assert.equal(lookups.descriptor.description, 'Lookups done');
  assert.equal(lookups.descriptor.unit, '1');
  assert.deepEqual(lookups.dataPoints.map((p) => [p.attributes, p.value]), [[{ source: 'cache' }, 5]]);
  const latency = metrics.get('latency').dataPoints[0];
  assert.deepEqual(latency.value.buckets.boundaries, [10, 50, 100]);
  assert.deepEqual(latency.value.buckets.counts, [0, 1, 0, 1]);
  assert.equal(latency.value.sum, 462);
  assert.deepEqual(metrics.get('queue').dataPoints.map((p) => p.value), [7], 'the gauge keeps its max');
  // The built-in metrics come through too: tokens by model and direction, tool latency.
  const tokens = metrics.get('lmthing_tokens_total').dataPoints;
  assert.ok(tokens.some((p) => p.attributes.direction === 'input' && p.value > 0));
  assert.equal(metrics.get('lmthing_tool_call_duration_seconds').dataPoints[0].attributes.tool, 'lookup');
  assert.equal(metrics.get('lmthing_steps_total').dataPoints.reduce((n, p) => n + p.value, 0), 2);
  await meterProvider.shutdown();
  await assert.rejects(runPrompt(() => {}, { model: mockModel([]), meterProvider: {} }), (e) => e instanceof ConfigError && /meterProvider' must be an OpenTelemetry MeterProvider/.test(e.message));
});

test('a sum that overflows reads back as Infinity with its sign in JSON, as +Inf/-Inf in Prometheus text', async () => {
  const engine = await createEngine();
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defMetric('big', 'counter', { labels: ['a'] });
    ctx.defMetric('low', 'gauge', { aggregation: 'sum' });
    ctx.defMetric('wide', 'histogram', { buckets: [1] });
    ctx.defTool('t', 't', {}, () => {
      for (let i = 0; i < 2; i++) {
        ctx.recordMetric('big', 1e308, { a: 'x' });
        ctx.recordMetric('low', -1e308);
        ctx.recordMetric('wide', 1e308);
      }
      return 'ok';
    });
    ctx.$`go`;
  }, { model: mockModel([{ type: 'tool-call', toolName: 't', args: {} }, { type: 'text', text: 'done' }]), engine });
  assert.equal(await result.text, 'done');
  const pick = (snapshot) => Object.fromEntries(snapshot.metrics.filter((m) => ['big', 'low', 'wide'].includes(m.name)).map((m) => [m.name, m.series[0].value ?? m.series[0].sum]));
  const expected = { big: Infinity, low: -Infinity, wide: Infinity };
  assert.deepEqual(pick(await prompt.metrics()), expected);
  assert.deepEqual(pick(await readMetrics(engine)), expected);
  const text = await metricsText(engine);
  assert.match(text, /^big\{a="x"\} \+Inf$/m);
  assert.match(text, /^low -Inf$/m);
});
