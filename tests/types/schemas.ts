// Types inferred from schemas: these lines must compile, and each `@ts-expect-error` line must fail
// (tsc reports an unused @ts-expect-error). Checked against the built d.ts by tests/js/types.test.mjs.
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { L, PromptContext, mockModel, run, tool, agent, type Infer, type FromJsonSchema, type JsonObject, type JsonValue } from 'lmthing';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(_ok?: T): void {}

const ctx = new PromptContext();

// ---- defTool with zod v4
ctx.defTool('add', 'Adds', z.object({ a: z.number(), b: z.number().optional() }), async (args) => {
  expectType<Equal<typeof args, { a: number; b?: number | undefined }>>();
  return args.a + (args.b ?? 0);
});
// @ts-expect-error -- the issue's example: a field the schema does not have
ctx.defTool('add2', 'Adds', z.object({ a: z.number() }), async (args) => args.nonexistent.field);
// @ts-expect-error -- an annotation that cannot match the schema
ctx.defTool('add3', 'Adds', z.object({ a: z.number() }), (args: { a: string }) => args.a);

// ---- defTool with zod v3
ctx.defTool('v3', 'v3', z3.object({ path: z3.string(), lines: z3.array(z3.number()) }), (args) => {
  expectType<Equal<typeof args, { path: string; lines: number[] }>>();
  return args.path.startsWith('.env') ? args.lines.length : 0;
});
// @ts-expect-error -- zod v3 too
ctx.defTool('v3b', 'v3', z3.object({ path: z3.string() }), (args) => args.missing);

// ---- JSON Schema written as const
const readSchema = {
  type: 'object',
  properties: {
    path: { type: 'string' },
    mode: { enum: ['text', 'binary'] },
    limit: { type: 'integer' },
    tags: { type: 'array', items: { type: 'string' } },
    owner: { anyOf: [{ type: 'string' }, { type: 'null' }] },
  },
  required: ['path', 'mode'],
} as const;
ctx.defTool('read', 'Reads', readSchema, (args) => {
  expectType<Equal<typeof args, { path: string; mode: 'text' | 'binary'; limit?: number; tags?: string[]; owner?: string | null }>>();
  return args.path.toUpperCase();
});
// @ts-expect-error -- not in the JSON Schema
ctx.defTool('read2', 'Reads', readSchema, (args) => args.size);
expectType<Equal<FromJsonSchema<{ type: ['string', 'null'] }>, string | null>>();
expectType<Equal<FromJsonSchema<{ const: 42 }>, 42>>();
expectType<Equal<FromJsonSchema<{ type: 'boolean' }>, boolean>>();
expectType<Equal<FromJsonSchema<{ not: object }>, unknown>>();

// ---- JSON Schema not written as const: JSON types; property access works, unchecked calls do not
const loose = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
ctx.defTool('loose', 'Loose', loose, (args) => {
  expectType<Equal<typeof args, JsonObject>>();
  const path = args.path;
  // @ts-expect-error -- a JsonValue must be narrowed before calling string methods
  path.startsWith('.env');
  return typeof path === 'string' && path.startsWith('.env');
});
// An annotation narrower than the untyped schema is accepted.
ctx.defTool('loose2', 'Loose', loose, (args: { path: string }) => args.path.length);

// ---- tool(), agent(), defAgent
const member = tool('sum', 'Sums', z.object({ xs: z.array(z.number()) }), (args) => args.xs.reduce((a, b) => a + b, 0));
// @ts-expect-error -- tool() infers too
tool('sum2', 'Sums', z.object({ xs: z.array(z.number()) }), (args) => args.ys);
ctx.defTool('math', 'Math tools', [member]);
ctx.defAgent('researcher', 'Researches', z.object({ topic: z.string() }), (args, child) => {
  expectType<Equal<typeof args.topic, string>>();
  child.$`Research ${args.topic}`;
}, { responseSchema: z.object({ summary: z.string() }) });
// @ts-expect-error -- defAgent infers too
ctx.defAgent('researcher2', 'Researches', z.object({ topic: z.string() }), (args) => args.subject);
agent('helper', 'Helps', z.object({ q: z.string() }), (args, child) => child.$(args.q));

// ---- validators, guards, approvals
ctx.defValidator('code', z.object({ code: z.string(), language: z.string() }), (output) => output.code.length > 0 && output.language !== '');
// @ts-expect-error -- the validator's value is typed by its schema
ctx.defValidator('code2', z.object({ code: z.string() }), (output) => output.lang);
ctx.defValidator('any', null, (value) => {
  expectType<Equal<typeof value, JsonValue>>();
  return value !== null;
});
ctx.defGuard<{ path: string }>('no-env', ({ path }) => !path.startsWith('.env'));
ctx.defGuard('auth', (g) => g.state.authenticated === true && g.toolName !== '');
ctx.defApproval<{ files: string[] }>('bulk', { message: (c) => `Delete ${c.files.length} files?` });
ctx.defApproval('plain', { message: (c) => `Run ${String(c.toolName)}?` });

// ---- directives
function* agentFn() {
  const answer = yield* L.reply(z.object({ city: z.string(), population: z.number() }));
  expectType<Equal<typeof answer.value, { city: string; population: number }>>();
  const text = yield* L.reply;
  expectType<Equal<typeof text.value, string>>();
  const json = yield* L.reply({ type: 'array', items: { type: 'number' } } as const);
  expectType<Equal<typeof json.value, number[]>>();
  const stream = yield* L.stream(z.object({ ok: z.boolean() }));
  expectType<Equal<Awaited<typeof stream.message>['value'], { ok: boolean }>>();
  yield* L.tool('lookup', 'Looks up', z.object({ id: z.number() }), (args) => args.id * 2);
  // @ts-expect-error -- L.tool infers too
  yield* L.tool('lookup2', 'Looks up', z.object({ id: z.number() }), (args) => args.key);
  return answer.value.city;
}
void agentFn;

expectType<Equal<Infer<z.ZodString>, string>>();
expectType<Equal<Infer<z3.ZodNumber>, number>>();

// ---- run(agent, {tools}): each tool's execute is typed by its parameters
function* root() {
  yield* L.user`Add 1`;
  return 1;
}
void run(root, {
  models: { default: mockModel([]) },
  tools: {
    add: { parameters: z.object({ a: z.number() }), execute: (args) => args.a + 1 },
    read: { parameters: readSchema, execute: (args) => args.path.length },
    // @ts-expect-error -- not in the tool's schema
    bad: { parameters: z.object({ a: z.number() }), execute: (args) => args.nope },
  },
});

// ---- run(...): the agent's value, its text stream and its HTTP helpers
const streamed = run(root, { models: { default: mockModel([]) } });
expectType<Equal<Awaited<typeof streamed>, number>>();
expectType<Equal<typeof streamed.textStream, AsyncIterable<string>>>();
expectType<Equal<ReturnType<typeof streamed.toTextStreamResponse>, Response>>();
// @ts-expect-error -- the helpers take an options object
streamed.toTextStreamResponse(201);
void streamed;

// ---- a schema parameter takes a schema (an object), not any value
export function schemaParameters(): void {
  // @ts-expect-error -- a string is not a schema
  ctx.defTool('t', 'd', 'city', () => 'x');
  // @ts-expect-error -- nor is a number
  tool('t', 'd', 5, () => 'x');
  // @ts-expect-error -- nor is null
  L.reply(null);
  // @ts-expect-error -- and L.reply takes one argument
  L.reply(z.object({ n: z.number() }), { maxSteps: 1 });
}
