// L.branch: one agent → its result, an array → a tuple, a record → a record.
import { L, mockModel, run, type BranchWinner } from 'lmthing';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok?: T): void {}

function* a(): Generator<never, number, unknown> {
  return 1;
}
async function* b(): AsyncGenerator<never, string, unknown> {
  return 'b';
}

function* parent() {
  const one = yield* L.branch(a);
  expectType<Equal<typeof one, number>>();
  const tuple = yield* L.branch([a, b]);
  expectType<Equal<typeof tuple, [number, string]>>();
  const record = yield* L.branch({ x: a, y: b });
  expectType<Equal<typeof record, { x: number; y: string }>>();
  const caught = yield* L.catch(a);
  expectType<Equal<typeof caught.value, number | undefined>>();
  // @ts-expect-error -- a tuple has no third element
  tuple[2].toFixed();

  // With options the engine aggregates: `first` gives {key, value}, `majority` the value, `all` maybe-missing entries.
  const first = yield* L.branch([a, b], { aggregation: 'first' });
  expectType<Equal<typeof first, BranchWinner<number, number | string>>>();
  const firstOfRecord = yield* L.branch({ x: a, y: b }, { aggregation: 'first', timeout: 1000 });
  expectType<Equal<typeof firstOfRecord, BranchWinner<'x', number> | BranchWinner<'y', string>>>();
  const agreed = yield* L.branch([a, a, a], { aggregation: 'majority', compare: (p, q) => p === q, judge: { model: 'openai:gpt-4o-mini' } });
  expectType<Equal<typeof agreed, number>>();
  const some = yield* L.branch([a, b], { minSuccess: 1 });
  expectType<Equal<typeof some, [number | undefined, string | undefined]>>();
  const someOfRecord = yield* L.branch({ x: a, y: b }, { aggregation: 'all', minSuccess: 1 });
  expectType<Equal<typeof someOfRecord, { x?: number; y?: string }>>();
  // @ts-expect-error -- not an aggregation
  yield* L.branch([a, b], { aggregation: 'fastest' });
}
void parent;

// run(agent, {onStepFinish}): the step as runPrompt's callback gets it, with its conversation's path.
export async function stepsOfADirectiveRun(): Promise<void> {
  const { run, mockModel, tool } = await import('lmthing');
  const { z } = await import('zod');
  // One tool({...}) with needsApproval serves run() as it serves runPrompt().
  const remove = tool({ inputSchema: z.object({ path: z.string() }), execute: ({ path }) => path, needsApproval: ({ path }) => path.startsWith('/etc') });
  await run(parent, { models: { default: mockModel([]) }, tools: { remove } });
  await run(parent, {
    models: { default: mockModel([]) },
    onStepFinish: (step) => {
      expectType<Equal<typeof step.path, string[]>>();
      expectType<Equal<typeof step.stepNumber, number>>();
    },
  });
  await run(parent, { models: { default: mockModel([]) }, stopWhen: [({ steps }) => steps.length > 3, (step) => step.toolCalls.length === 0] });
  // @ts-expect-error -- onStepFinish gets the step, not a string
  await run(parent, { models: { default: mockModel([]) }, onStepFinish: (step: string) => step.length });
}

// prepareStep and activeTools on a directive run, typed as the AI SDK's.
export async function directivePrepareStep(): Promise<void> {
  const model = mockModel([]);
  await run(function* () {
    return (yield* L.reply).value;
  }, {
    models: { default: model },
    activeTools: ['look'],
    prepareStep: ({ stepNumber, path }) => (stepNumber > 0 && path.length === 1 ? { model: 'default', system: 'Be brief.' } : { topP: 0.5, providerOptions: { openai: { user: 'u' } } }),
  });
  const warned = run(function* () {
    return (yield* L.reply).value;
  }, { models: { default: model } });
  for (const warning of await warned.warnings) expectType<Equal<typeof warning.setting, string>>();
  await run(function* () {
    return (yield* L.reply).value;
  }, {
    models: { default: model },
    // @ts-expect-error -- activeSystems choose a prompt run's sections; a directive reply has none
    prepareStep: () => ({ activeSystems: ['x'] }),
  });
}

// A directive run's UI message stream: the AI SDK's chunks, options checked as runPrompt's are.
async function uiStream(): Promise<void> {
  const result = run(function* () {
    yield* L.stream;
  }, { models: { default: mockModel([{ type: 'text', text: 'hi' }]) } });
  for await (const chunk of result.toUIMessageStream({ sendReasoning: false })) {
    if (chunk.type === 'text-delta') expectType<Equal<typeof chunk.delta, string>>();
  }
  const response = result.toUIMessageStreamResponse({ messageId: 'm1', onFinish: ({ responseMessage }) => void responseMessage.parts });
  expectType<Equal<typeof response, Response>>();
  // @ts-expect-error -- not an option of the UI message stream
  result.toUIMessageStream({ sendReasonning: false });
}
void uiStream;
