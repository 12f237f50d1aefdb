/**
 * The directives of Liminal-style agents (`yield* L.user\`…\``, `yield* L.reply`, …). A directive
 * is an iterable that yields one {@link DirectiveRequest} to the driver and returns what the driver
 * sends back, so `const answer = yield* L.reply` reads like a function call. Nothing here talks to
 * the engine: the driver (driver.ts) performs the requests.
 */
import type { SchemaLike } from '../schema.js';
import type {
  GraphExtractInput,
  GraphNeighborhood,
  GraphSearchOptions,
  GraphStoreInput,
  GraphStoreResult,
  GraphWalkOptions,
  MemoryInput,
  MemorySearchOptions,
  MemorySearchResult,
  StoreResult,
} from '../definitions/memory.js';
import type { Judge } from '../definitions/parallel.js';
import type { Resources } from '../definitions/resource.js';
import type { IdempotenceOption, ToolPolicyOptions } from '../definitions/tool-options.js';
import type { ArgsOf, Bivariant, Infer, JsonObject } from '../schema-types.js';
import { ConfigError } from '../errors.js';
import { checkCustomEventName } from '../observe/lifecycle.js';
import { interpolated } from '../prompt/interpolate.js';
import type { ToolTrace } from '../observe/tracing.js';
import type { AssistantMessage, ConversationMessage, Mark, MarkRange, Tag } from './messages.js';
import { Tag as TagClass } from './messages.js';

/** Marks everything that is a directive, so the driver can tell `yield L.x` (a mistake) from `yield* L.x`. */
export const DIRECTIVE_SOURCE: unique symbol = Symbol('lmthing.directive');

/** What a directive asks the driver to do (the value it yields). */
export class DirectiveRequest {
  constructor(
    /** Which directive. */
    readonly kind: DirectiveKind,
    /** Its arguments. */
    readonly args: Readonly<Record<string, unknown>> = {},
  ) {}
}

/** The kinds of {@link DirectiveRequest}. */
export type DirectiveKind =
  | 'append'
  | 'reply'
  | 'infer'
  | 'call'
  | 'stream'
  | 'model.push'
  | 'model.pop'
  | 'tool.enable'
  | 'tool.disable'
  | 'branch'
  | 'catch'
  | 'event'
  | 'messages'
  | 'snapshot'
  | 'mark'
  | 'role'
  | 'memory';

/**
 * A directive: use it with `yield*` inside an agent. Its result type `R` is what `yield*` returns.
 */
export class Directive<R> implements Iterable<DirectiveRequest, R, unknown> {
  readonly [DIRECTIVE_SOURCE] = true;
  constructor(readonly request: DirectiveRequest) {}

  *[Symbol.iterator](): Generator<DirectiveRequest, R, unknown> {
    return (yield this.request) as R;
  }
}

/** A message-appending directive; `.tag(...tags)` labels the message it appends. */
export class AppendDirective extends Directive<ConversationMessage> {
  /** The same append, with `tags` applied to the message. */
  tag(...tags: Tag[]): AppendDirective {
    for (const t of tags) if (!(t instanceof TagClass)) throw new ConfigError('.tag(): expected tags created with L.tag(description)');
    const previous = (this.request.args.tags as Tag[] | undefined) ?? [];
    return new AppendDirective(new DirectiveRequest('append', { ...this.request.args, tags: [...previous, ...tags] }));
  }
}

/** An async iterable of the text deltas of a streamed reply; the full message is appended when it ends. */
export interface ReplyStream<T = string> extends AsyncIterable<string> {
  /** The appended assistant message, once the stream has ended (`.value` as for `L.reply`). */
  readonly message: Promise<AssistantMessage<T>>;
}

/** A model pushed onto the stack by `L.model(key)`: `yield* handle` pops it. */
export class ModelHandle extends Directive<void> {
  constructor(
    /** The model key that was pushed. */
    readonly key: string,
    handle: number,
    /** @internal The run that pushed it (a handle pops only there). */
    run?: number,
  ) {
    super(new DirectiveRequest('model.pop', { handle, key, run }));
  }
}

/** A tool enabled by `L.tool(...)`: `yield* handle` disables it. */
export class ToolHandle extends Directive<void> {
  constructor(
    /** The tool's name. */
    readonly name: string,
  ) {
    super(new DirectiveRequest('tool.disable', { name }));
  }
}

/** The operations of {@link MemoryDirectives} and {@link GraphMemoryDirectives}: their handles' methods of the same names. */
export type MemoryOperation = 'store' | 'search' | 'delete' | 'clear' | 'addRelation' | 'neighbors';

function memoryRequest<R>(name: string, graph: boolean, op: MemoryOperation, args: unknown[]): Directive<R> {
  return new Directive<R>(new DirectiveRequest('memory', { name, graph, op, args }));
}

/**
 * The directives of one memory, from `L.memory(name)`: each is the `ctx.memory(name)` call of the
 * same name, performed by the driver as one engine `memory` run in the directive run's tree (so the
 * run's budgets and memory events apply). Its failures (`MemoryError`, `ConfigError` for bad input,
 * the embedder's error) are thrown into the agent at the `yield*`.
 */
export class MemoryDirectives {
  /** @internal Use `L.memory(name)`. */
  constructor(
    /** The memory's name (defined with `ctx.defMemory` in `run(agent, {define})`). */
    readonly name: string,
  ) {}

  /** Stores one memory or a batch (embedded in one request, stored whole or not at all); returns `{ids, evicted, size}`. */
  store(input: string | MemoryInput | Array<string | MemoryInput>): Directive<StoreResult> {
    return memoryRequest<StoreResult>(this.name, false, 'store', [input]);
  }

  /** The memories most similar to `query` (a text or a vector), best first. */
  search(query: string | number[], options?: MemorySearchOptions): Directive<MemorySearchResult[]> {
    return memoryRequest<MemorySearchResult[]>(this.name, false, 'search', options === undefined ? [query] : [query, options]);
  }

  /** Deletes memories by id (all must exist, else `MemoryError` `UNKNOWN_ID` and none is deleted); returns how many. */
  delete(ids: string | string[]): Directive<number> {
    return memoryRequest<number>(this.name, false, 'delete', [ids]);
  }

  /** Removes every memory; returns how many there were. */
  clear(): Directive<number> {
    return memoryRequest<number>(this.name, false, 'clear', []);
  }
}

/**
 * The directives of one `graph` memory, from `L.graphMemory(name)`: each is the
 * `ctx.graphMemory(name)` call of the same name (docs/memory.md, "Graph memories"), performed and
 * failing like {@link MemoryDirectives}.
 */
export class GraphMemoryDirectives {
  /** @internal Use `L.graphMemory(name)`. */
  constructor(
    /** The memory's name (defined with `ctx.defMemory(name, 'graph', …)` in `run(agent, {define})`). */
    readonly name: string,
  ) {}

  /** Stores entities and relations, checked whole and stored whole or not at all; given a text, the memory's model extracts them first. */
  store(input: GraphStoreInput | GraphExtractInput | string): Directive<GraphStoreResult> {
    return memoryRequest<GraphStoreResult>(this.name, true, 'store', [input]);
  }

  /** Stores one relation between entities the memory holds. */
  addRelation(from: string, relation: string, to: string, metadata?: Record<string, unknown>): Directive<GraphStoreResult> {
    return memoryRequest<GraphStoreResult>(this.name, true, 'addRelation', metadata === undefined ? [from, relation, to] : [from, relation, to, metadata]);
  }

  /** The entities most similar to `query`, with the entities and relations within `depth` hops. */
  search(query: string | number[], options?: GraphSearchOptions): Directive<GraphNeighborhood> {
    return memoryRequest<GraphNeighborhood>(this.name, true, 'search', options === undefined ? [query] : [query, options]);
  }

  /** The entities and relations within `depth` hops of entity `entity`. */
  neighbors(entity: string, options?: GraphWalkOptions): Directive<GraphNeighborhood> {
    return memoryRequest<GraphNeighborhood>(this.name, true, 'neighbors', options === undefined ? [entity] : [entity, options]);
  }

  /** Deletes entities and every relation touching them; returns how many. */
  delete(names: string | string[]): Directive<number> {
    return memoryRequest<number>(this.name, true, 'delete', [names]);
  }

  /** Removes every entity and relation; returns how many entities there were. */
  clear(): Directive<number> {
    return memoryRequest<number>(this.name, true, 'clear', []);
  }
}

/** `{value}` when the agent returned, `{error}` when it threw. */
export type CatchResult<T> = { value: T; error?: undefined } | { value?: undefined; error: unknown };

/** A filter of `L.messages`: a tag, a range between two marks, or both. */
export type MessageFilter = Tag | MarkRange | { tag?: Tag; range?: MarkRange };

/** A directive that can also be called with arguments, e.g. `L.reply` and `L.reply(schema)`. */
export type CallableDirective<R, F extends (...args: never[]) => unknown> = F & Iterable<DirectiveRequest, R, unknown> & { readonly [DIRECTIVE_SOURCE]: true };

/** Refuses arguments past those a directive takes (they would be dropped: `L.reply(schema, {maxSteps})`). */
function noMoreArguments(signature: string, rest: readonly unknown[]): void {
  if (rest.length > 0) throw new ConfigError(`${signature} takes no more arguments, got ${rest.length} more (${rest.map((v) => describe(v)).join(', ')}); run options go in run(agent, config)`);
}

function callable<R, F extends (...args: never[]) => unknown>(bare: DirectiveRequest, call: F): CallableDirective<R, F> {
  const fn = call as unknown as Record<PropertyKey, unknown>;
  fn[Symbol.iterator] = function* (): Generator<DirectiveRequest, unknown, unknown> {
    return yield bare;
  };
  fn[DIRECTIVE_SOURCE] = true;
  return call as CallableDirective<R, F>;
}

/** True for directives and callable directives (used to catch `yield L.x` written without `*`). */
export function isDirectiveSource(value: unknown): boolean {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && (value as Record<PropertyKey, unknown>)[DIRECTIVE_SOURCE] === true;
}

// ---------------------------------------------------------------------------------------------- text

/**
 * Builds the text of a template, dedented: the common indentation of the template's lines is
 * removed, as are a first line and a last line that hold only whitespace. Interpolated values are
 * inserted as JS writes them (a message interpolates as its text; see `interpolated`).
 */
export function dedent(strings: readonly string[], values: readonly unknown[], where: string): string {
  // Dedent the template with placeholders, so interpolated (multi-line) values are left as they are.
  const slot = (i: number) => `\u0000${i}\u0000`;
  let text = strings.map((s, i) => (i < values.length ? s + slot(i) : s)).join('');
  text = text.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n[ \t]*$/, '');
  const lines = text.split('\n');
  const indentOf = (line: string) => line.match(/^[ \t]*/)![0].length;
  const indent = lines.filter((l) => l.trim() !== '').reduce((min, l) => Math.min(min, indentOf(l)), Infinity);
  if (Number.isFinite(indent) && indent > 0) text = lines.map((l) => l.slice(Math.min(indent, indentOf(l)))).join('\n');
  return text.replace(/\0(\d+)\0/g, (_, i: string) => interpolated(values[Number(i)], where, Number(i)));
}

/** The text of a message directive's arguments: a tagged template, or one string. */
function textArgument(role: string, args: unknown[]): string {
  const [first, ...rest] = args;
  if (Array.isArray(first) && Array.isArray((first as unknown as { raw?: unknown }).raw)) return dedent(first as string[], rest, `L.${role}`);
  if (typeof first === 'string' && rest.length === 0) return first;
  throw new ConfigError(`L.${role}: expected a tagged template (L.${role}\`…\`) or one string, got ${describe(first)}`);
}

function messageDirective(role: 'system' | 'user' | 'assistant') {
  return (...args: [TemplateStringsArray | string, ...unknown[]]): AppendDirective =>
    new AppendDirective(new DirectiveRequest('append', { role, content: textArgument(role, args) }));
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || typeof v === 'symbol') return `${typeof v} ${String(v)}`;
  return `an object (${Object.prototype.toString.call(v)})`;
}

// -------------------------------------------------------------------------------------------- the L

/** Something `L.branch`, `L.catch` and `run` accept as an agent. See {@link isAgentLike}. */
export type AgentLike<T = unknown> =
  | Iterator<unknown, T, unknown>
  | Iterable<unknown, T, unknown>
  | AsyncIterator<unknown, T, unknown>
  | AsyncIterable<unknown, T, unknown>
  | (() => Iterator<unknown, T, unknown> | Iterable<unknown, T, unknown> | AsyncIterator<unknown, T, unknown> | AsyncIterable<unknown, T, unknown>);

// Awaited: an async agent's `return` type also admits `PromiseLike<T>` through `AsyncIterator.return`.
type Result<A> = A extends AgentLike<infer T> ? Awaited<T> : never;

/** What a tool implementation gets besides its arguments. */
export interface ToolCallContext {
  toolCallId: string;
  /** Aborted when the run is cancelled. */
  abortSignal: AbortSignal;
  /** Spans of your own under this call's span (`trace.startSpan(name)`); non-recording when the run has no `defTracing` in `define`. */
  trace: ToolTrace;
  /** The `defResource` values and `defResourcePool`s defined in `run(agent, {define})`. */
  resources: Resources;
}

/** A tool implementation: returns the result (JSON), or an agent whose return value is the result. */
export type ToolImpl<Args = JsonObject> = Bivariant<[args: Args, context: ToolCallContext], unknown>;

const replyBare = new DirectiveRequest('reply', {});
const streamBare = new DirectiveRequest('stream', {});
const inferBare = new DirectiveRequest('infer', {});

/**
 * The directives. Use each with `yield*` inside a generator agent, e.g.
 *
 * ```ts
 * function* agent() {
 *   yield* L.system`You are terse.`;
 *   yield* L.user`Name a color.`;
 *   const color = yield* L.reply;
 *   return color.value;
 * }
 * ```
 */
export const L = {
  /** Appends a system message (tagged template, dedented, or a string). */
  system: messageDirective('system'),
  /** Appends a user message (tagged template, dedented, or a string). */
  user: messageDirective('user'),
  /** Appends an assistant message (tagged template, dedented, or a string). */
  assistant: messageDirective('assistant'),

  /**
   * Completes with the current model, appends the answer and returns it as an
   * {@link AssistantMessage}. The model's tool calls (tools enabled with `L.tool`) run inside the
   * reply. `L.reply(schema)` (zod or JSON Schema) parses and validates the answer into `.value`;
   * a failing answer is sent back to the model with the validator's message (twice at most, or
   * `run(agent, {responseSchemaRetries})` times), then the directive throws `ValidationError`.
   */
  reply: callable<AssistantMessage<string>, <S extends SchemaLike>(schema: S, ...rest: never[]) => Directive<AssistantMessage<Infer<S>>>>(replyBare, <S extends SchemaLike>(schema: S, ...rest: never[]) => {
    noMoreArguments('L.reply(schema)', rest);
    if (schema === undefined) throw new ConfigError('L.reply(schema): expected a zod schema or a JSON Schema object, got undefined (use L.reply without parentheses for text)');
    return new Directive<AssistantMessage<Infer<S>>>(new DirectiveRequest('reply', { schema }));
  }),

  /**
   * Completes with the current model like `reply` but appends nothing: the completion runs on an
   * isolated branch (path segment `infer.N`) holding a copy of this conversation, its model stack
   * and its tools (tool calls happen there), and its answer comes back as an
   * {@link AssistantMessage} (`index`: where it sits in that branch). `L.infer(schema)` validates
   * as `L.reply(schema)` does. Use it to draft, judge or fork without changing the conversation.
   */
  infer: callable<AssistantMessage<string>, <S extends SchemaLike>(schema: S, ...rest: never[]) => Directive<AssistantMessage<Infer<S>>>>(inferBare, <S extends SchemaLike>(schema: S, ...rest: never[]) => {
    noMoreArguments('L.infer(schema)', rest);
    if (schema === undefined) throw new ConfigError('L.infer(schema): expected a zod schema or a JSON Schema object, got undefined (use L.infer without parentheses for text)');
    return new Directive<AssistantMessage<Infer<S>>>(new DirectiveRequest('infer', { schema }));
  }),

  /**
   * Calls a tool enabled in this conversation (by name, or the handle `L.tool` returned) with
   * `args`, as the agent's own step rather than the model's: the arguments are checked against
   * the tool's schema (`ValidationError`), the call goes through the tool's options (approval,
   * guards, retry, cache ...), and its result is returned — the tool's return value as JSON; for
   * a tool whose implementation returns an agent (a sub-agent), that agent's result. Nothing is
   * appended to the conversation. A tool that throws makes `yield* L.call` throw.
   */
  call<R = unknown>(tool: string | ToolHandle, args?: unknown): Directive<R> {
    const name = tool instanceof ToolHandle ? tool.name : tool;
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`L.call: expected a tool name or the handle L.tool returned, got ${describe(tool)}`);
    return new Directive<R>(new DirectiveRequest('call', { name, args }));
  },

  /**
   * Like `reply`, but returns at once a {@link ReplyStream}: an async iterable of text deltas. The
   * message is appended when the stream ends; the agent's next directive waits for that.
   */
  stream: callable<ReplyStream<string>, <S extends SchemaLike>(schema: S, ...rest: never[]) => Directive<ReplyStream<Infer<S>>>>(streamBare, <S extends SchemaLike>(schema: S, ...rest: never[]) => {
    noMoreArguments('L.stream(schema)', rest);
    if (schema === undefined) throw new ConfigError('L.stream(schema): expected a zod schema or a JSON Schema object, got undefined');
    return new Directive<ReplyStream<Infer<S>>>(new DirectiveRequest('stream', { schema }));
  }),

  /** Pushes a model key (bound in `run(agent, {models})`) onto the model stack; `yield*` the handle to pop it. */
  model(key: string): Directive<ModelHandle> {
    return new Directive(new DirectiveRequest('model.push', { key, via: 'model' }));
  },
  /** Same as {@link L.model}: focuses the following replies on the model bound to `key`. */
  focus(key: string): Directive<ModelHandle> {
    return new Directive(new DirectiveRequest('model.push', { key, via: 'focus' }));
  },

  /**
   * Enables a tool for the model in this conversation (and in branches started after). `impl`
   * gets the validated arguments; it may return an agent, which then runs isolated (as a branch).
   * `yield*` the returned handle to disable the tool. `options` are the same call options as
   * `defTool`'s (approval, guards, validator, retryOnFailure, maxRetries, retry, fallback,
   * circuitBreaker, timeout), naming definitions made in `run(agent, {define})`.
   */
  tool<S extends SchemaLike>(name: string, description: string, schema: S, impl: ToolImpl<ArgsOf<S>>, options?: ToolPolicyOptions & IdempotenceOption): Directive<ToolHandle> {
    return new Directive(new DirectiveRequest('tool.enable', { name, description, schema, impl, options }));
  },

  /**
   * Runs agents isolated: each starts from a copy of this conversation's messages, model stack and
   * tools, and nothing merges back. One agent → its result; an array → a tuple of results (in
   * parallel); a record → a record of results (in parallel).
   *
   * With {@link BranchOptions} (an array or a record) the engine aggregates the branches' return
   * values as `defParallel` does: `first` → `{key, value}` of the first branch to return (the others
   * are cancelled); `majority` / `consensus` → the agreed value; `all` → the values of the branches
   * that succeeded (at least `minSuccess`). `timeout` cancels the branches still running. A failed
   * aggregation throws `ParallelError`.
   */
  branch: branchDirective,

  /** Runs an agent (in this conversation) and returns `{value}` or `{error}` instead of throwing. */
  catch<A extends AgentLike>(agent: A): Directive<CatchResult<Result<A>>> {
    return new Directive(new DirectiveRequest('catch', { agent }));
  },

  /**
   * Emits an `emitted` event (`value` as JSON) to `onEvent` and the run's event stream;
   * `L.event(name, data)` emits custom event `name`, which `defEvent(name, handler)` handlers receive.
   */
  event(...args: [value: unknown] | [name: string, data: unknown]): Directive<void> {
    noMoreArguments('L.event(name, data)', args.slice(2));
    if (args.length < 2) return new Directive(new DirectiveRequest('event', { value: args[0] }));
    return new Directive(new DirectiveRequest('event', { name: checkCustomEventName(args[0], 'L.event'), value: args[1] }));
  },

  /** The current messages; `L.messages(filter)` keeps those with a tag and/or in a mark range. */
  messages: callable<ConversationMessage[], (filter: MessageFilter) => Directive<ConversationMessage[]>>(
    new DirectiveRequest('messages', {}),
    (filter: MessageFilter) => new Directive(new DirectiveRequest('messages', { filter })),
  ),

  /** An immutable (deeply frozen) copy of the current messages. */
  snapshot: new Directive<readonly ConversationMessage[]>(new DirectiveRequest('snapshot', {})),

  /** The current position (number of messages); `a.to(b)` makes a range for `L.messages`. */
  mark: new Directive<Mark>(new DirectiveRequest('mark', {})),

  /**
   * Makes the run assume role `name` (defined with `ctx.defRole` in `run(agent, {define})`) from the
   * next reply on: its section becomes the system prompt before the agent's `L.system` messages, and
   * its constraints (allowedTools, requiresApproval, maxTokens) apply to the whole run, every
   * conversation and branch. An unknown role throws a `RoleError` into the agent.
   */
  role(name: string): Directive<void> {
    return new Directive(new DirectiveRequest('role', { name }));
  },

  /**
   * The directives of memory `name`, defined with `ctx.defMemory` in `run(agent, {define})`:
   * `yield* L.memory(name).store(...)`, `.search(query, options)`, `.delete(ids)`, `.clear()` return
   * what the `ctx.memory(name)` methods resolve with (docs/memory.md). An undefined memory throws a
   * `ConfigError` into the agent at the `yield*`.
   */
  memory(name: string): MemoryDirectives {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`L.memory: expected a memory name (a non-empty string), got ${describe(name)}`);
    return new MemoryDirectives(name);
  },

  /**
   * The directives of `graph` memory `name` (defined with `ctx.defMemory(name, 'graph', …)` in
   * `run(agent, {define})`): `store({entities, relations})`, `addRelation`, `search(query, {depth})`,
   * `neighbors(entity, {depth, relation})`, `delete`, `clear`, returning what the
   * `ctx.graphMemory(name)` methods resolve with.
   */
  graphMemory(name: string): GraphMemoryDirectives {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`L.graphMemory: expected a memory name (a non-empty string), got ${describe(name)}`);
    return new GraphMemoryDirectives(name);
  },

  /** Creates a tag (outside agents) to apply with `yield* L.user\`…\`.tag(t)`. */
  tag(description: string): Tag {
    return new TagClass(description);
  },
};

/** How `L.branch(agents, options)` combines its branches' return values (the aggregations of `defParallel`). */
export type BranchAggregation = 'all' | 'first' | 'majority' | 'consensus';

/**
 * Options of `L.branch(agents, options)` (docs/directive-agents.md). The engine owns the policy: it
 * compares the branches' return values (as JSON, deep equality unless `compare` says otherwise),
 * cancels the branches it no longer needs and enforces `timeout` on the engine clock.
 */
export interface BranchOptions<Value = unknown> {
  /**
   * `all` (default): the values of the branches that succeeded. `first`: `{key, value}` of the
   * first branch to return; the others are cancelled. `majority`: the value more than half of the
   * branches returned (decided as soon as it has them; the rest are cancelled). `consensus`: the
   * value every successful branch returned.
   */
  aggregation?: BranchAggregation;
  /** Branches that must succeed (default: all for `all` and `consensus`, more than half for `majority`); not for `first`. */
  minSuccess?: number;
  /** ms on the engine clock; branches still running then are cancelled and count as failed. */
  timeout?: number;
  /** `majority`/`consensus`: whether two values agree (default: deep equality of their JSON). */
  compare?: (a: Value, b: Value) => unknown;
  /**
   * `majority`/`consensus`: decides when the values do not agree — a function of the values by
   * branch key that returns the answer (throw: no agreement), or `{model?, instructions?}`: a judge
   * model the engine asks once which branch's value the majority/consensus supports.
   */
  judge?: Judge<Value>;
}

/** The result of `L.branch(agents, {aggregation: 'first'})`: the branch that returned first and its value. */
export interface BranchWinner<Key, Value> {
  /** The array index or the record key of the winning branch. */
  readonly key: Key;
  readonly value: Value;
}

/** The return values an array or a record of agents can give (the union of their return types). */
export type BranchValues<A> = A extends readonly AgentLike[] ? Result<A[number]> : { [K in keyof A]: Result<A[K]> }[keyof A];
/** The `first` result of a record of agents: a {@link BranchWinner} per key, with that agent's return type. */
export type BranchWinnerOf<R> = { [K in keyof R & string]: BranchWinner<K, Result<R[K]>> }[keyof R & string];

// The array overloads come first: an array is Iterable, so it would also match the single-agent one.
function branchDirective<const A extends readonly AgentLike[]>(agents: A): Directive<{ -readonly [K in keyof A]: Result<A[K]> }>;
function branchDirective<const A extends readonly AgentLike[]>(
  agents: A,
  options: BranchOptions<BranchValues<A>> & { aggregation: 'first' },
): Directive<BranchWinner<number, BranchValues<A>>>;
function branchDirective<const A extends readonly AgentLike[]>(
  agents: A,
  options: BranchOptions<BranchValues<A>> & { aggregation: 'majority' | 'consensus' },
): Directive<BranchValues<A>>;
function branchDirective<const A extends readonly AgentLike[]>(
  agents: A,
  options: BranchOptions<BranchValues<A>> & { aggregation?: 'all' },
): Directive<{ -readonly [K in keyof A]: Result<A[K]> | undefined }>;
function branchDirective<A extends AgentLike>(agent: A): Directive<Result<A>>;
function branchDirective<R extends Record<string, AgentLike>>(agents: R): Directive<{ [K in keyof R]: Result<R[K]> }>;
function branchDirective<R extends Record<string, AgentLike>>(agents: R, options: BranchOptions<BranchValues<R>> & { aggregation: 'first' }): Directive<BranchWinnerOf<R>>;
function branchDirective<R extends Record<string, AgentLike>>(
  agents: R,
  options: BranchOptions<BranchValues<R>> & { aggregation: 'majority' | 'consensus' },
): Directive<BranchValues<R>>;
function branchDirective<R extends Record<string, AgentLike>>(
  agents: R,
  options: BranchOptions<BranchValues<R>> & { aggregation?: 'all' },
): Directive<{ [K in keyof R]?: Result<R[K]> }>;
function branchDirective(x: unknown, options?: unknown): Directive<unknown> {
  return new Directive(new DirectiveRequest('branch', options === undefined ? { target: x } : { target: x, options }));
}
