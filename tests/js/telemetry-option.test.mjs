// runPrompt's experimental_telemetry (js/observe/telemetry-option.ts): the AI SDK 5/6's telemetry
// settings read as the run's defTracing, checked with the OpenTelemetry SDK's in-memory exporter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, mockModel, runPrompt } from '../../dist/node.js';

const inMemory = () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer('app') };
};

const toolRun = (telemetry) =>
  runPrompt({
    model: mockModel([{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: { q: 'oslo' } }, { type: 'text', text: 'It is cold.' }]),
    prompt: 'Weather in Oslo?',
    tools: { lookup: { description: 'Looks up', inputSchema: { type: 'object', properties: { q: { type: 'string' } } }, execute: ({ q }) => `${q}: -3 C` } },
    experimental_telemetry: telemetry,
  });

test('isEnabled with a tracer: the run\'s spans go to it, each with functionId and metadata, inputs and outputs recorded by default', async () => {
  const { exporter, tracer } = inMemory();
  assert.equal(await toolRun({ isEnabled: true, functionId: 'weather-chat', metadata: { userId: 'u1', tier: 2 }, tracer }).text, 'It is cold.');
  const spans = exporter.getFinishedSpans();
  const names = spans.map((s) => s.name);
  assert.ok(names.includes('invoke_agent root') && names.includes('execute_tool lookup') && names.filter((n) => n === 'chat mock').length === 2, names.join(', '));
  for (const span of spans) {
    assert.equal(span.attributes['ai.telemetry.functionId'], 'weather-chat', span.name);
    assert.equal(span.attributes['ai.telemetry.metadata.userId'], 'u1');
    assert.equal(span.attributes['ai.telemetry.metadata.tier'], 2);
  }
  const chats = spans.filter((s) => s.name === 'chat mock');
  assert.match(chats[0].attributes['gen_ai.input.messages'], /Weather in Oslo\?/);
  assert.match(chats[1].attributes['gen_ai.output.messages'], /It is cold\./);
  const tool = spans.find((s) => s.name === 'execute_tool lookup');
  assert.match(tool.attributes['gen_ai.tool.call.arguments'], /oslo/);
  assert.match(tool.attributes['gen_ai.tool.call.result'], /-3 C/);
});

test('recordInputs and recordOutputs false leave the contents out; without isEnabled nothing is traced', async () => {
  const { exporter, tracer } = inMemory();
  await toolRun({ isEnabled: true, recordInputs: false, recordOutputs: false, tracer }).text;
  const spans = exporter.getFinishedSpans();
  assert.ok(spans.length > 0);
  const contents = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result'];
  assert.ok(spans.every((s) => contents.every((key) => !(key in s.attributes))), 'no contents on any span');
  exporter.reset();
  await toolRun({ functionId: 'off', tracer }).text;
  await toolRun({ isEnabled: false, tracer }).text;
  assert.equal(exporter.getFinishedSpans().length, 0);
});

test('the AI SDK 7\'s name, telemetry, is the same option', async () => {
  const { exporter, tracer } = inMemory();
  const result = runPrompt({ model: mockModel([{ type: 'text', text: 'hi' }]), prompt: 'x', telemetry: { isEnabled: true, functionId: 'seven', tracer } });
  await result.text;
  const spans = exporter.getFinishedSpans();
  assert.ok(spans.length > 0 && spans.every((s) => s.attributes['ai.telemetry.functionId'] === 'seven'));
});

test('without a tracer the registered global provider is used', async () => {
  const { exporter, provider } = inMemory();
  assert.ok(trace.setGlobalTracerProvider(provider));
  try {
    await toolRun({ isEnabled: true, functionId: 'global' }).text;
    const spans = exporter.getFinishedSpans();
    assert.ok(spans.some((s) => s.name === 'invoke_agent root' && s.attributes['ai.telemetry.functionId'] === 'global'));
  } finally {
    trace.disable();
  }
});

test('a run with its own defTracing, and wrong settings, are refused with what was expected', async () => {
  const { tracer } = inMemory();
  await assert.rejects(
    runPrompt((ctx) => {
      ctx.defTracing('mine', { tracerProvider: { getTracer: () => tracer } });
      ctx.$`hi`;
    }, { model: mockModel([{ type: 'text', text: 'x' }]), experimental_telemetry: { isEnabled: true, tracer } }),
    (e) => e instanceof ConfigError && /config\.telemetry: the run already has defTracing\("mine"\)/.test(e.message),
  );
  await assert.rejects(toolRun({ isEnabled: true, functionID: 'x' }), /unknown option 'functionID' \(did you mean 'functionId'\?/);
  await assert.rejects(toolRun({ isEnabled: true, tracer: {} }), /'tracer' must be an OpenTelemetry Tracer/);
  await assert.rejects(toolRun({ isEnabled: true, metadata: { nested: { a: 1 } } }), /'metadata' must be an object of strings, numbers, booleans/);
  await assert.rejects(toolRun(true), /'experimental_telemetry' must be an object/);
  await assert.rejects(toolRun({ isEnabled: true, integrations: [{}] }), /telemetry 'integrations' are not supported: lmthing's spans go to an OpenTelemetry tracer/);
  const { model } = { model: mockModel([{ type: 'text', text: 'x' }]) };
  await assert.rejects(runPrompt({ model, prompt: 'x', telemetry: { isEnabled: true, tracer }, experimental_telemetry: { isEnabled: true, tracer } }), /give 'telemetry' or 'experimental_telemetry' \(two names of one option\), not both/);
});
