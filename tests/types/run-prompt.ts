// runPrompt as an AI SDK user writes it: the prompt shortcut, parts read without awaiting the call,
// response.messages fed back as messages.
import type { UIMessage } from 'ai';
import { MetricError, ParallelError, TimeoutError, WorkflowError, type MetricErrorCode, type ParallelErrorCode, createSteering, durableApprovals, fromUIMessages, hasToolCall, isStepCount, mockModel, Output, runPrompt, smoothStream, stepCountIs, tool, type IdentifiedUIMessage, type StreamPart, type StreamTransform, type JsonValue, type StorageAdapter, type Message, type PromptRun, type UIMessageChunk } from 'lmthing';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok?: T): void {}

export async function chat(): Promise<string> {
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  const run: PromptRun = runPrompt({ model, system: 'Be terse.', prompt: 'Hello' });
  const text = await run.text;
  expectType<Equal<typeof text, string>>();
  for await (const delta of run.textStream) expectType<Equal<typeof delta, string>>();
  const { messages, id, timestamp, headers } = await run.response;
  expectType<Equal<typeof messages, Message[]>>();
  // The AI SDK's response metadata (absent for a model that gives none).
  expectType<Equal<typeof id, string | undefined>>();
  expectType<Equal<typeof timestamp, Date | undefined>>();
  expectType<Equal<typeof headers, Record<string, string> | undefined>>();
  for (const step of await run.steps) expectType<Equal<typeof step.response, { id?: string; timestamp?: number; headers?: Record<string, string> } | undefined>>();
  const next = runPrompt({ model, messages: [...messages, { role: 'user', content: 'More?' }] });
  const { result } = await next;
  // The function form keeps working.
  await runPrompt((ctx) => ctx.$`Hi`, { model }).text;
  // @ts-expect-error -- without a prompt function the config needs prompt or messages
  runPrompt({ model });
  // @ts-expect-error -- prompt is a string
  runPrompt({ model, prompt: 42 });
  // fullStream parts and run events are discriminated by `type`.
  for await (const part of run.fullStream) {
    if (part.type === 'tool-call') expectType<Equal<typeof part.toolName, string>>();
    if (part.type === 'tool-call') expectType<Equal<typeof part.signedBy, 'anthropic' | 'google' | 'openai-responses' | undefined>>();
    if (part.type === 'reasoning-end') expectType<Equal<typeof part.length, number>>();
    if (part.type === 'text-end') expectType<Equal<typeof part.signature, string | undefined>>();
    // @ts-expect-error -- a reasoning block's end carries no text
    if (part.type === 'reasoning-end') void part.text;
    if (part.type === 'text-delta') expectType<Equal<typeof part.text, string>>();
    // @ts-expect-error -- a finish part has no toolName
    if (part.type === 'finish') void part.toolName;
  }
  return result.text;
}

// Streaming to an HTTP client: a route handler returns the Response; a Node server pipes into its response.
export function routeHandler(request: Request): Response {
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  return runPrompt({ model, prompt: 'Hello', abortSignal: request.signal }).toTextStreamResponse({ headers: { 'cache-control': 'no-store' } });
}
export function nodeHandler(res: import('node:http').ServerResponse): Promise<void> {
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  // @ts-expect-error -- status is a number
  void runPrompt({ model, prompt: 'Hello' }).toTextStreamResponse({ status: '200' });
  return runPrompt({ model, prompt: 'Hello' }).pipeTextStreamToResponse(res, { status: 200 });
}

// Structured output: result.object is typed by responseSchema (zod or JSON Schema `as const`).
export async function structured(): Promise<number> {
  const { z } = await import('zod');
  const model = mockModel([{ type: 'text', text: '{"city": "Lisbon", "tempC": 21}' }]);
  const run = runPrompt({ model, prompt: 'Weather?', responseSchema: z.object({ city: z.string(), tempC: z.number() }) });
  const weather = await run.object;
  expectType<Equal<typeof weather, { city: string; tempC: number }>>();
  const { result } = await run;
  expectType<Equal<Awaited<typeof result.object>, { city: string; tempC: number }>>();
  const counted = await runPrompt((ctx) => ctx.$`Count`, { model, responseSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } as const }).object;
  expectType<Equal<typeof counted, { n: number }>>();
  // Without a schema there is no object to read.
  const none = await runPrompt({ model, prompt: 'Hi' }).object;
  expectType<Equal<typeof none, never>>();
  // @ts-expect-error -- not in the schema
  void weather.humidity;
  // The answer while it streams: every member optional, at any depth.
  const listed = runPrompt({ model, prompt: 'List', responseSchema: z.object({ city: z.string(), days: z.array(z.object({ tempC: z.number() })) }) });
  for await (const partial of listed.partialObjectStream) expectType<Equal<typeof partial, { city?: string; days?: Array<{ tempC?: number }> }>>();
  for await (const partial of result.partialObjectStream) expectType<Equal<typeof partial, { city?: string; tempC?: number }>>();
  return weather.tempC + counted.n;
}

// The AI SDK's callbacks: onFinish's object is typed by the schema, onStepFinish gets a StepResult.
export async function callbacks(): Promise<void> {
  const { z } = await import('zod');
  const model = mockModel([{ type: 'text', text: '{"city": "Lisbon"}' }]);
  await runPrompt({
    model,
    prompt: 'Where?',
    responseSchema: z.object({ city: z.string() }),
    onStepFinish: (step) => {
      expectType<Equal<typeof step.toolResults[number]['args'], unknown>>();
      void step.model.toUpperCase();
    },
    onFinish: (finish) => {
      expectType<Equal<typeof finish.object, { city: string } | undefined>>();
      void finish.text.length;
    },
    onError: async ({ error }) => {
      expectType<Equal<typeof error, unknown>>();
      await Promise.resolve();
    },
    onAbort: ({ steps }) => {
      void steps.map((step) => step.stepNumber);
    },
  }).text;
}

// stopWhen: the AI SDK's conditions, a list of them, or a function of the step (with every step so far).
export async function stopConditions(): Promise<void> {
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  await runPrompt({ model, prompt: 'x', stopWhen: stepCountIs(3) }).text;
  await runPrompt({ model, prompt: 'x', stopWhen: [hasToolCall('answer', 'done'), isStepCount(9), ({ steps }) => steps.length > 4] }).text;
  await runPrompt({ model, prompt: 'x', stopWhen: (step) => step.stepNumber > 1 && step.steps[0].toolCalls.length > 0 }).text;
  await runPrompt({
    model,
    prompt: 'x',
    activeTools: ['search'],
    prepareStep: ({ stepNumber, lastToolCall }) => (stepNumber > 0 && lastToolCall?.toolName === 'search' ? { activeTools: [], toolChoice: 'none' } : undefined),
  }).text;
  await runPrompt({ model, instructions: 'Be brief.', prompt: 'x', onStepEnd: (step) => void step.stepNumber, onEnd: ({ text }) => void text.length }).text;
  await runPrompt({
    model,
    prompt: 'x',
    repairToolCall: async ({ toolCall, error, inputSchema }) => {
      expectType<Equal<typeof error.type, 'no-such-tool' | 'invalid-input'>>();
      return inputSchema({ toolName: toolCall.toolName }) ? { toolName: toolCall.toolName, input: toolCall.input } : null;
    },
  }).text;
  // @ts-expect-error -- a repair returns {toolName, input} or null
  await runPrompt({ model, prompt: 'x', repairToolCall: () => ({ name: 'x' }) }).text;
  // The repair's error narrows by type to the AI SDK's error classes.
  await runPrompt({
    model,
    prompt: 'x',
    repairToolCall: ({ error }) => (error.type === 'no-such-tool' ? (expectType<Equal<typeof error.availableTools, string[]>>(), null) : (expectType<Equal<typeof error.toolInput, string>>(), null)),
  }).text;
  // The AI SDK 7's tool execution callbacks: the output narrows by its type.
  await runPrompt({
    model,
    prompt: 'x',
    onToolExecutionStart: ({ toolCall }) => void toolCall.input,
    onToolExecutionEnd: async ({ toolOutput, toolExecutionMs }) => {
      expectType<Equal<typeof toolExecutionMs, number>>();
      if (toolOutput.type === 'tool-error') expectType<Equal<typeof toolOutput.error, unknown>>();
      else expectType<Equal<typeof toolOutput.output, unknown>>();
    },
  }).text;
  // @ts-expect-error -- a callback, not a flag
  await runPrompt({ model, prompt: 'x', onToolExecutionEnd: true }).text;
  await runPrompt({ model, prompt: 'x', timeout: { totalMs: 60_000, chunkMs: 5_000, tools: { searchMs: 1_000 } } }).text;
  await runPrompt({ model, prompt: 'x', toolCallConcurrency: 1 }).text;
  // @ts-expect-error -- a count
  await runPrompt({ model, prompt: 'x', toolCallConcurrency: 'one' }).text;
  // @ts-expect-error -- the object's fields are milliseconds
  await runPrompt({ model, prompt: 'x', timeout: { chunkMs: '5s' } }).text;
  await runPrompt({
    model,
    prompt: 'x',
    onLanguageModelCallStart: ({ provider, system, messages, temperature }) => void [provider.length, system?.length, messages.length, temperature?.toFixed()],
    onLanguageModelCallEnd: ({ finishReason, usage, performance }) => {
      expectType<Equal<typeof performance.responseTimeMs, number>>();
      void [finishReason === 'tool-calls', usage.outputTokens];
    },
  }).text;
  // The AI SDK 7's start callbacks: a step's number, earlier steps and the error are typed.
  await runPrompt({
    model,
    prompt: 'x',
    onStart: ({ operationId, system, activeTools }) => void [operationId === 'lmthing.runPrompt', system?.length, activeTools.length],
    onStepStart: ({ stepNumber, steps, messages }) => void [stepNumber.toFixed(), steps[0]?.text.length, messages.length],
    onStepError: ({ error, stepNumber }) => {
      expectType<Equal<typeof error, Error>>();
      void stepNumber;
    },
  }).text;
  // @ts-expect-error -- a callback, not a flag
  await runPrompt({ model, prompt: 'x', onStepStart: true }).text;
  // toolApproval: a function of any call, or a status per tool.
  await runPrompt({ model, prompt: 'x', tools: { search: { inputSchema: { type: 'object' }, execute: () => 'x' } }, toolApproval: { search: 'approved' } }).text;
  await runPrompt({ model, prompt: 'x', toolApproval: ({ toolCall }) => (toolCall.toolName === 'rm' ? { type: 'denied', reason: 'no' } : 'not-applicable') }).text;
  // @ts-expect-error -- not a status
  await runPrompt({ model, prompt: 'x', toolApproval: () => 'maybe' }).text;
  // A tool's entry gets the arguments as its execute does.
  await runPrompt({
    model,
    prompt: 'x',
    tools: { wipe: tool({ inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } as const, execute: ({ path }) => path }) },
    toolApproval: {
      wipe: (input) => {
        expectType<Equal<typeof input, { path: string }>>();
        // @ts-expect-error -- not in the schema
        void input.nope;
        return input.path.startsWith('/tmp') ? 'approved' : 'user-approval';
      },
    },
  }).text;
  // Tool calls and results are typed by the tools' schemas: narrow on `invalid`, then on the name.
  const typed = runPrompt({
    model,
    prompt: 'x',
    tools: {
      wipe: tool({ inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } as const, execute: ({ path }) => path }),
      count: tool({ inputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } as const, execute: ({ n }) => n }),
    },
  });
  for (const call of await typed.toolCalls) {
    expectType<Equal<typeof call.toolName, string>>();
    // @ts-expect-error -- an invalid call's args are what the model wrote: unknown until narrowed
    void call.args.path;
    if (call.invalid) continue;
    if (call.toolName === 'wipe') expectType<Equal<typeof call.args, { path: string }>>();
    // @ts-expect-error -- count's args have no path
    if (call.toolName === 'count') void call.args.path;
  }
  for (const step of await typed.steps)
    for (const outcome of step.toolResults) if (!outcome.invalid && outcome.toolName === 'count') expectType<Equal<typeof outcome.args, { n: number }>>();
  const { result: typedResult } = await typed;
  for (const call of await typedResult.toolCalls) if (call.invalid === false && call.toolName === 'wipe') expectType<Equal<typeof call.args, { path: string }>>();
  // Without typed tools, calls are the plain ToolCall.
  for (const call of await runPrompt({ model, prompt: 'x' }).toolCalls) expectType<Equal<typeof call.args, unknown>>();
  // onChunk's chunk narrows by its type.
  await runPrompt({ model, prompt: 'x', onChunk: ({ chunk }) => void (chunk.type === 'text-delta' ? chunk.text.length : chunk.type) }).text;
  // The AI SDK's contexts: prepareStep gets and may replace them.
  await runPrompt({
    model,
    prompt: 'x',
    experimental_context: { userId: 'u1' },
    toolsContext: { search: { index: 'docs' } },
    runtimeContext: { tenant: 't1' },
    prepareStep: ({ runtimeContext, stepNumber }) => (stepNumber > 0 ? { runtimeContext: { previous: runtimeContext } } : undefined),
  }).text;
  // A step's call settings, as the AI SDK's prepareStep returns them.
  await runPrompt({ model, prompt: 'x', prepareStep: () => ({ temperature: 0, maxOutputTokens: 64, providerOptions: { openai: { reasoningEffort: 'high' } } }) }).text;
  // @ts-expect-error -- temperature is a number
  await runPrompt({ model, prompt: 'x', prepareStep: () => ({ temperature: 'hot' }) }).text;
  // @ts-expect-error -- a condition answers with a boolean
  await runPrompt({ model, prompt: 'x', stopWhen: () => 'yes' }).text;
}

// zod parses the answer: the object is zod's output (a coerced date, a transform, a default), and
// the partial values are the JSON before the parse (zod's input type).
export async function parsedByZod(): Promise<string> {
  const { z } = await import('zod');
  const model = mockModel([{ type: 'text', text: '{"at": "2026-12-05T10:00:00Z", "n": "4", "tags": [{"seen": "2026-12-01T00:00:00Z"}]}' }]);
  const schema = z.object({ at: z.coerce.date(), n: z.string().transform(Number), unit: z.string().default('kg'), tags: z.array(z.object({ seen: z.coerce.date() })) });
  const run = runPrompt({ model, prompt: 'When?', responseSchema: schema });
  const when = await run.object;
  expectType<Equal<typeof when.at, Date>>();
  expectType<Equal<typeof when.n, number>>();
  expectType<Equal<typeof when.unit, string>>();
  expectType<Equal<typeof when.tags[number]['seen'], Date>>();
  for await (const partial of run.partialObjectStream) {
    expectType<Equal<typeof partial.n, string | undefined>>();
    expectType<Equal<typeof partial.unit, string | undefined>>();
  }
  await runPrompt((ctx) => {
    ctx.defTool('weigh', 'Weighs', z.object({ grams: z.string().transform(Number) }), ({ grams }) => {
      expectType<Equal<typeof grams, number>>();
      return grams * 2;
    });
  }, { model }).text;
  return when.at.toISOString();
}

// A chat route handler for useChat: the AI SDK's UI messages in, its UI message stream out.
export async function chatRoute(request: Request): Promise<Response> {
  const { messages } = (await request.json()) as { messages: UIMessage[] };
  const result = runPrompt({ model: mockModel([{ type: 'text', text: 'hi' }]), messages: fromUIMessages(messages) });
  // A web stream too, as the AI SDK's createUIMessageStream's writer.merge takes it.
  const web: ReadableStream<UIMessageChunk> = result.toUIMessageStream({ sendStart: false });
  void web;
  for await (const chunk of result.toUIMessageStream()) {
    if (chunk.type === 'text-delta') expectType<Equal<typeof chunk.delta, string>>();
    if (chunk.type === 'reasoning-end') expectType<Equal<typeof chunk.providerMetadata, Record<string, Record<string, string | null>> | undefined>>();
  }
  const first: UIMessageChunk = { type: 'start', messageId: 'm1' };
  void first;
  return result.toUIMessageStreamResponse({ messageId: 'm1', onError: (error) => String(error), headers: { 'x-chat': '1' } });
}

// Tools in the config, as the AI SDK takes them: each execute is typed by its own schema.
export async function configTools(): Promise<void> {
  const { z } = await import('zod');
  const model = mockModel([{ type: 'text', text: 'hi' }]);
  const weather = tool({ description: 'Weather', inputSchema: z.object({ city: z.string() }), execute: ({ city }) => city.toUpperCase() });
  await runPrompt({
    model,
    prompt: 'x',
    tools: {
      weather,
      add: { inputSchema: z.object({ a: z.number(), b: z.number() }), execute: ({ a, b }) => a + b },
      // A JSON Schema written `as const` in the record types execute through tool() (TypeScript does not infer it in place).
      echo: tool({
        parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } as const,
        execute: (args) => {
          expectType<Equal<typeof args, { text: string }>>();
          return args.text;
        },
      }),
      add2: {
        inputSchema: z.object({ a: z.number() }),
        execute: (args) => {
          expectType<Equal<typeof args, { a: number }>>();
          return args.a;
        },
      },
      // @ts-expect-error -- `c` is not in the schema
      wrong: { inputSchema: z.object({ a: z.number() }), execute: ({ c }: { c: number }) => c },
    },
  }).text;
  // A tool without execute: the caller runs it; its calls are typed by its schema all the same.
  const pending = runPrompt({ model, prompt: 'x', tools: { locate: tool({ description: "The user's city", inputSchema: z.object({ precise: z.boolean() }) }) } });
  for (const call of await pending.toolCalls) if (!call.invalid) expectType<Equal<typeof call.args, { precise: boolean }>>();
  // @ts-expect-error -- a schema is given once, as inputSchema or parameters
  tool({ inputSchema: z.object({}), parameters: z.object({}), execute: () => 1 });
  // needsApproval: a boolean, or a function of the arguments typed by the schema.
  tool({ inputSchema: z.object({ path: z.string() }), execute: () => 1, needsApproval: ({ path }, { toolCallId }) => path.length > toolCallId.length });
  // @ts-expect-error -- needsApproval answers with a boolean
  tool({ inputSchema: z.object({ path: z.string() }), execute: () => 1, needsApproval: ({ path }) => path });
}

// run(agent, {tools}) takes the config tools' shape too: inputSchema, or a tool({...}).
export async function runTools(): Promise<void> {
  const { z } = await import('zod');
  const { L, run } = await import('lmthing');
  const shout = tool({ inputSchema: z.object({ text: z.string() }), execute: ({ text }) => text.toUpperCase() });
  await run(function* () {
    yield* L.reply;
  }, {
    models: { default: mockModel([]) },
    tools: {
      shout,
      add: {
        inputSchema: z.object({ a: z.number() }),
        execute: (args) => {
          expectType<Equal<typeof args, { a: number }>>();
          return args.a + 1;
        },
      },
    },
  });
}

// output: Output.* types result.output, result.object and partialOutputStream as the AI SDK's do.
export async function outputs(): Promise<void> {
  const { z } = await import('zod');
  const model = mockModel([]);
  const trip = runPrompt({ model, prompt: 'x', output: Output.object({ schema: z.object({ city: z.string(), days: z.number().transform(String) }) }) });
  const plan = await trip.output;
  expectType<Equal<typeof plan, { city: string; days: string }>>();
  expectType<Equal<Awaited<typeof trip.object>, { city: string; days: string }>>();
  for await (const partial of trip.partialOutputStream) expectType<Equal<typeof partial.days, number | undefined>>();
  const list = await runPrompt({ model, prompt: 'x', output: Output.array({ element: z.object({ n: z.number() }) }) }).output;
  expectType<Equal<typeof list, Array<{ n: number }>>>();
  for await (const element of runPrompt({ model, prompt: 'x', output: Output.array({ element: z.object({ n: z.number() }) }) }).elementStream) expectType<Equal<typeof element, { n: number }>>();
  const pick = await runPrompt({ model, prompt: 'x', output: Output.choice({ options: ['yes', 'no'] }) }).output;
  expectType<Equal<typeof pick, 'yes' | 'no'>>();
  const text = await runPrompt({ model, prompt: 'x', output: Output.text() }).output;
  expectType<Equal<typeof text, string>>();
  const plain = await runPrompt({ model, prompt: 'x' }).output;
  expectType<Equal<typeof plain, string>>();
  const json = await runPrompt((ctx) => ctx.$`x`, { model, output: Output.json() }).output;
  expectType<Equal<typeof json, JsonValue>>();
  // @ts-expect-error -- output takes what Output's helpers make
  await runPrompt({ model, prompt: 'x', output: { schema: {} } }).output;
}

// Approvals across requests: `defer` is a decision of onApproval, and a tool-approval-response a part of the messages.
export async function deferredApprovals(storage: StorageAdapter): Promise<void> {
  const model = mockModel([]);
  const { result } = await runPrompt({ model, prompt: 'x', onApproval: (request) => (request.toolCallId ? 'defer' : { action: 'approve' }) });
  const { messages } = await result.response;
  await runPrompt({ model, messages: [...messages, { role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c1', approved: false, reason: 'no' }] }] });
  // @ts-expect-error -- approved is a boolean
  await runPrompt({ model, messages: [{ role: 'tool', content: [{ type: 'tool-approval-response', toolCallId: 'c1', approved: 'yes' }] }] });
  // @ts-expect-error -- a durable run's stored decision cannot defer (the run is suspended already)
  await durableApprovals(storage).respond('run', 'approval-1', 'defer');
}

// A chat route that saves the chat: originalMessages typed as the AI SDK's UIMessage flow into onFinish.
export function savedChat(history: UIMessage[], save: (messages: Array<UIMessage | IdentifiedUIMessage>) => Promise<void>): Response {
  return runPrompt({ model: mockModel([]), messages: fromUIMessages(history) }).toUIMessageStreamResponse({
    originalMessages: history,
    onFinish: async ({ messages, responseMessage, isContinuation }) => {
      expectType<Equal<typeof responseMessage.id, string>>();
      expectType<Equal<typeof isContinuation, boolean>>();
      await save(messages);
    },
  });
}

// A chat route whose approvals are signed and single-use.
export function singleUseApprovals(store: StorageAdapter, messages: Message[]): PromptRun {
  const secret = 'a-secret-of-at-least-32-characters!!';
  // @ts-expect-error -- approvalStore is a storage adapter, not its name
  runPrompt({ model: mockModel([]), messages, approvalSecret: secret, approvalStore: 'redis' });
  return runPrompt({ model: mockModel([]), messages, onApproval: () => 'defer', approvalSecret: secret, approvalStore: store });
}

// Per-call provider options and headers, written as for the AI SDK.
export function perCallSettings(): PromptRun {
  // @ts-expect-error -- each provider's options are an object
  runPrompt({ model: mockModel([]), prompt: 'x', providerOptions: { openai: 'low' } });
  // @ts-expect-error -- header values are strings
  runPrompt({ model: mockModel([]), prompt: 'x', headers: { 'x-n': 1 } });
  return runPrompt({ model: mockModel([]), prompt: 'x', providerOptions: { openai: { reasoningEffort: 'low' }, anthropic: { thinking: { type: 'enabled', budgetTokens: 2048 } } }, headers: { 'x-request-id': 'r1' } });
}

export async function warningsAndUsage(): Promise<void> {
  const run = runPrompt({ model: mockModel([]), prompt: 'x', topK: 3 });
  for (const warning of await run.warnings) expectType<Equal<typeof warning.setting, string>>();
  expectType<Equal<Awaited<typeof run.totalUsage>, Awaited<typeof run.usage>>>();
  await run.consumeStream({ onError: (error) => void error });
}

// Stream transforms: smoothStream, and one of the user's own, typed by the stream's parts.
export function streamTransforms(): PromptRun {
  const shout: StreamTransform = ({ tools, stopStream }) => {
    expectType<Equal<typeof stopStream, () => void>>();
    expectType<Equal<(typeof tools)[string]['description'], string | undefined>>();
    return new TransformStream<StreamPart, StreamPart>({ transform: (part, out) => out.enqueue(part.type === 'text-delta' ? { ...part, text: part.text.toUpperCase() } : part) });
  };
  // @ts-expect-error -- chunking is 'word', 'line', a RegExp, a segmenter or a detector
  smoothStream({ chunking: 'sentence' });
  // @ts-expect-error -- a transform is a function that makes a TransformStream
  runPrompt({ model: mockModel([]), prompt: 'x', experimental_transform: new TransformStream() });
  smoothStream({ chunking: new Intl.Segmenter('ja', { granularity: 'word' }), delayInMs: null });
  return runPrompt({ model: mockModel([]), prompt: 'x', experimental_transform: [shout, smoothStream({ chunking: /[.!?]\s+/, delayInMs: 20 })] });
}

// Telemetry as the AI SDK takes it: the 5/6 name with a tracer and metadata, the 7 name.
export function telemetrySettings(tracer: import('@opentelemetry/api').Tracer): PromptRun {
  // @ts-expect-error -- metadata values are attribute values, not objects
  runPrompt({ model: mockModel([]), prompt: 'x', experimental_telemetry: { isEnabled: true, metadata: { user: { id: 1 } } } });
  runPrompt({ model: mockModel([]), prompt: 'x', telemetry: { isEnabled: true, functionId: 'chat', recordInputs: false } });
  return runPrompt({ model: mockModel([]), prompt: 'x', experimental_telemetry: { isEnabled: true, functionId: 'chat', metadata: { userId: 'u1', tier: 2 }, tracer } });
}

// The AI SDK 7's allowSystemInMessages, and include with what lmthing keeps (no bodies).
export function systemAndInclude(messages: Message[]): PromptRun {
  // @ts-expect-error -- lmthing's steps keep no request bodies
  runPrompt({ model: mockModel([]), messages, include: { requestBody: true } });
  return runPrompt({ model: mockModel([]), messages, allowSystemInMessages: false, include: { requestBody: false, responseBody: false } });
}

// Steering, as the AI SDK 7's: outcomes typed, one object per run.
export async function steeringTypes(): Promise<void> {
  const steering = createSteering();
  const run = runPrompt({ model: mockModel([]), prompt: 'x', experimental_steering: steering });
  const outcome = await steering.steer('Use Paris, Texas.', { id: 'a' });
  if (outcome.type === 'delivered') expectType<Equal<typeof outcome.stepNumber, number>>();
  else expectType<Equal<typeof outcome.reason, 'finished' | 'stop-condition' | 'waiting-for-tool-results' | 'aborted' | 'error'>>();
  // @ts-expect-error -- a steering message is the user's
  await steering.queue({ role: 'system', content: 'x' });
  await run.text;
}

// experimental_refineToolInput is typed by each tool's schema.
export function refineTypes(): PromptRun {
  const weather = tool({ inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } as const, execute: ({ city }) => city });
  // @ts-expect-error -- the refined input must keep the tool's input type
  runPrompt({ model: mockModel([]), prompt: 'x', tools: { weather }, experimental_refineToolInput: { weather: () => ({ town: 1 }) } });
  return runPrompt({ model: mockModel([]), prompt: 'x', tools: { weather }, experimental_refineToolInput: { weather: ({ city }) => ({ city: city.trim() }) } });
}

// A zod tool's calls hold the arguments as the model wrote them (zod's input type); its execute gets zod's output.
export async function zodCallTypes(): Promise<void> {
  const { z } = await import('zod');
  const count = tool({ inputSchema: z.object({ n: z.string().transform((s) => s.length), unit: z.string().default('m') }), execute: ({ n, unit }) => `${n.toFixed()} ${unit}` });
  const run = runPrompt({ model: mockModel([]), prompt: 'x', tools: { count }, experimental_refineToolInput: { count: ({ n, unit }) => ({ n: n.trim(), unit }) } });
  for (const call of await run.toolCalls) if (call.invalid !== true) expectType<Equal<typeof call.args, { n: string; unit?: string | undefined }>>();
  // @ts-expect-error -- refine gets the model's text, not the transformed number
  runPrompt({ model: mockModel([]), prompt: 'x', tools: { count }, experimental_refineToolInput: { count: ({ n }) => ({ n: n * 2 }) } });
}

// Error classes narrow their code: a misspelt comparison does not compile.
export function errorCodes(e: unknown): string | undefined {
  if (e instanceof ParallelError) {
    // @ts-expect-error -- not a ParallelError code
    if (e.code === 'PARALLEL_NO_MAJORTY') return 'typo';
    expectType<Equal<typeof e.code, ParallelErrorCode>>();
  }
  if (e instanceof TimeoutError) expectType<Equal<typeof e.code, 'TIMEOUT'>>();
  if (e instanceof WorkflowError) expectType<Equal<typeof e.code, 'WORKFLOW_STEP_FAILED' | 'WORKFLOW_LOOP_LIMIT'>>();
  if (e instanceof MetricError) expectType<Equal<typeof e.code, MetricErrorCode>>();
  return undefined;
}
