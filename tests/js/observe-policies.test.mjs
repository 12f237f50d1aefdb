// The call policies through the observability paths (docs/observability.md): onApproval and
// onStateChange handlers, the approval / retry / fallback spans on OpenTelemetry (the SDK's in-memory
// exporter) and the built-in metrics for retries, fallbacks, cache hits and approval waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';

import { createEngine, runPrompt, VirtualClock } from '../../dist/node.js';
import { call, scriptedModel } from './helpers/scripted-model.mjs';

const text = (t) => ({ type: 'text', text: t });
const query = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };

test('an approval, a retry, a cache hit, a fallback and a breaker opening: handlers, spans and built-in metrics', async () => {
  const engine = await createEngine({ clock: new VirtualClock(Date.parse('2026-12-01T00:00:00Z')) });
  const exporter = new InMemorySpanExporter();
  const script = [
    [call('write', 'c1', { q: 'a.txt' })],
    [call('search', 'c2', { q: 'wasm' })], // fails once, retried
    [call('search', 'c3', { q: 'wasm' })], // the same call: answered from the cache
    [call('flaky', 'c4')], // fails; the default fallback answers
    [call('api', 'c5')], // fails; the breaker opens
    [text('done')],
  ];
  const model = scriptedModel((n) => script[n]);
  let searches = 0;
  const handled = [];
  const { result, prompt } = await runPrompt((ctx) => {
    ctx.defTracing('main', { exporters: [exporter] });
    ctx.defApproval('confirm', { timeout: 60_000 });
    ctx.defRetry('twice', { maxAttempts: 2, backoff: 'constant', baseDelay: 1000 });
    ctx.defCache('lookups', 'lru', { maxSize: 10 });
    ctx.defFallback('empty', 'default', { value: { results: [] } });
    ctx.defCircuitBreaker('api-breaker', { failureThreshold: 1, resetTimeout: 30_000 });
    ctx.defEvent('onApproval', (e) => handled.push(`onApproval ${e.type} ${e.name}${e.type === 'approval-decision' ? ` ${e.action}` : ''}`));
    ctx.defEvent('onStateChange', (e) => handled.push(`onStateChange ${e.name} ${e.from} -> ${e.to}`));
    ctx.defTool('write', 'writes', query, () => 'written', { approval: 'confirm' });
    ctx.defTool('search', 'searches', query, () => {
      if (searches++ === 0) throw new Error('ECONNRESET');
      return 'hits';
    }, { retry: 'twice', cache: 'lookups' });
    ctx.defTool('flaky', 'fails', {}, () => {
      throw new Error('down');
    }, { fallback: 'empty' });
    ctx.defTool('api', 'fails', {}, () => {
      throw new Error('503 unavailable');
    }, { circuitBreaker: 'api-breaker' });
    ctx.$`go`;
  }, { model, engine, onApproval: () => 'approve' });
  assert.equal(await result.text, 'done');
  await prompt.finished;
  assert.equal(searches, 2, 'one failure, one retry, then the cache answered');

  // The lifecycle handlers for approvals and state changes.
  assert.deepEqual(handled, [
    'onApproval approval-request confirm',
    'onApproval approval-decision confirm approve',
    'onStateChange api-breaker closed -> open',
  ]);

  // Spans: the approval wait and the retry inside their tool call; the fallback in the run.
  const spans = exporter.getFinishedSpans();
  const idOf = (span) => span.spanContext().spanId;
  const parentOf = (span) => span.parentSpanContext?.spanId;
  const named = (name) => spans.filter((s) => s.name === name);
  const [write] = named('execute_tool write');
  const [approval] = named('approval confirm');
  assert.equal(parentOf(approval), idOf(write));
  assert.equal(approval.attributes['lmthing.approval.action'], 'approve');
  assert.equal(approval.attributes['lmthing.approval.source'], 'handler');
  const [retry] = named('retry search');
  const searchCalls = named('execute_tool search');
  assert.equal(searchCalls.length, 2);
  assert.equal(parentOf(retry), idOf(searchCalls.find((s) => s.attributes['gen_ai.tool.call.id'] === 'c2')));
  assert.equal(retry.attributes['lmthing.retry.delay_ms'], 1000);
  const [fallback] = named('fallback empty');
  assert.equal(fallback.attributes['lmthing.fallback.strategy'], 'default');
  assert.equal(fallback.attributes['lmthing.fallback.from'], 'flaky');
  assert.equal(parentOf(fallback), idOf(named('execute_tool flaky')[0]), 'a tool fallback is part of its tool call');
  const [api] = named('execute_tool api');
  assert.equal(api.status.code, 2);
  assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1);

  // The built-in metrics of this run tree.
  const { metrics } = await prompt.metrics();
  const series = (name, labels) => metrics.find((m) => m.name === name)?.series.find((s) => isDeepStrictEqual(s.labels, labels));
  assert.equal(series('lmthing_retries_total', { target: 'tool', name: 'search' })?.value, 1);
  assert.equal(series('lmthing_cache_hits_total', { cache: 'lookups' })?.value, 1);
  assert.equal(series('lmthing_fallbacks_total', { fallback: 'empty', strategy: 'default' })?.value, 1);
  assert.equal(series('lmthing_approval_wait_seconds', { approval: 'confirm', action: 'approve' })?.count, 1);
  assert.equal(series('lmthing_tool_errors_total', { tool: 'api' })?.value, 1);
  assert.equal(series('lmthing_runs_total', { kind: 'prompt', outcome: 'ok' })?.value, 1);
});
