/**
 * `run(agent, config)`: the host half of a directive run (docs/directive-agents.md). The driver
 * pulls directives from the user's generators and performs each as a `conversation.*` command; the
 * engine owns the messages, model stacks, tools, branch tree and events. Errors of a directive
 * (a failed model call, a reply that fails its schema, bad input) are thrown into the generator
 * that yielded it, so `try/catch` inside an agent works.
 */
import * as c from '../config/check.js';
import { resourcesFor } from '../definitions/resource.js';
import { bindRun, definitionsOf, DefinitionContext, stateView, takePendingEmits } from '../definitions/context.js';
import { EventDispatch, hasHandlers, observeSpec, settleObservers } from '../observe/lifecycle.js';
import { lifecycleLogs, loggerKind } from '../observe/logger.js';
import { otelMetrics } from '../observe/otel-metrics.js';
import { trackProgress } from '../observe/progress.js';
import { inToolSpan, openTracing, spanEventMasker, tracingKind, untracedToolTrace, type SpanBuilder } from '../observe/tracing.js';
import { approvalKind, guardKind, validatorKind } from '../definitions/human.js';
import { cacheKind } from '../definitions/cache.js';
import { memoryKind } from '../definitions/memory.js';
import { checkJudge, wireJudging } from '../definitions/parallel.js';
import { stateKind } from '../definitions/state.js';
import { RunStates, TreeStates } from '../state/run-states.js';
import { checkStorageName, useRunStorage, type RunStorage } from '../storage/host.js';
import { circuitBreakerKind, fallbackKind, retryKind } from '../definitions/resilience.js';
import { checkReferences, toolPolicyShape, toolPolicyWire, type IdempotenceOption, type ReferenceKinds, type ToolPolicyOptions } from '../definitions/tool-options.js';
import { defaultEngine } from '../default-engine.js';
import { durableInfo, openDurable, resumedRunError, type DurableOptions, type DurableRun, type DurableStart } from '../durable/durable.js';
import type { Journal } from '../durable/journal.js';
import { liveEventsOnly } from '../durable/replayed.js';
import type { CallbackContext, CallbackTraits, Engine } from '../engine.js';
import { AbortError, ConfigError, errorToWire, ProtocolError, TimeoutError, ValidationError } from '../errors.js';
import { jsonProblem, unserializable } from '../storage/checks.js';
import { toModel } from '../prompt/run-prompt.js';
import type { ServerResponseLike, TextStreamResponseInit } from '../prompt/text-response.js';
import type { UIMessageChunkStream, UIMessageLike, UIMessageStreamOptions, UIMessageStreamResponseInit } from '../prompt/ui-messages.js';
import type { HookInput, HookResult, SchemaOnce } from '../prompt/context.js';
import { approvalOptions, schemaOnce } from '../prompt/config-tools.js';
import type { CallWarning, EmbeddingModel, GenerationParams, LanguageModel, Message, Part } from '../providers/types.js';
import { RunEvents, type RunEvent } from '../run/events.js';
import { addModel, EngineHost, type RunModels } from '../run/host.js';
import { abortSignal, callSettings, generationShape, runPolicyShape, runPolicySpec, type RunPolicyConfig } from '../run/run-config.js';
import { stepChangesWire, type StepCallSettings } from '../run/step-changes.js';
import { CallWarnings } from '../run/warnings.js';
import { RUN_RENAMES, underOlderNames } from '../run/renamed-options.js';
import { repairCallback, type RepairToolCall } from '../run/repair-tool-call.js';
import { observedExecution } from '../run/call-watchers.js';
import { stepStartHandlers } from '../run/step-callbacks.js';
import { ownTimeouts, type RunTimeouts } from '../run/timeouts.js';
import { SetupDeadline } from '../prompt/setup-deadline.js';
import { toJsonSchema } from '../schema.js';
import { answerCheck, parsedByZod, parsedOrThrow } from '../zod-parse.js';
import type { StepResult } from '../prompt/result.js';
import { anyConditionMet, type StopCondition } from '../prompt/stop-conditions.js';
import type { NeedsApproval } from '../prompt/context.js';
import type { ArgsOf, JsonObject } from '../schema-types.js';
import { isAgentLike, isRecord, toAgentIterator, type AgentIterator } from './agent-like.js';
import {
  describe,
  DirectiveRequest,
  isDirectiveSource,
  ModelHandle,
  ToolHandle,
  type AgentLike,
  type BranchOptions,
  type MemoryOperation,
  type ReplyStream,
  type ToolImpl,
} from './directives.js';
import { DeltaQueue, EventQueue } from './events.js';
import { RunStream } from './run-stream.js';
import { streamPartHooks } from '../run/stream-hooks.js';
import { refineCallback } from '../run/refine-tool-input.js';
import { newCallId } from '../run/call-id.js';
import { AssistantMessage, ConversationMessage, deepFreeze, Mark, MarkRange, Tag, textOf, type Role } from './messages.js';

interface RunToolBase<S> {
  description?: string;
  /**
   * Gets the validated arguments (typed by the schema); returns the result, or an agent that
   * computes it (run isolated). Required: a directive run executes every tool it enables (optional
   * in the type only so that one `tool({...})` serves `runPrompt` and `run`; left out, it is a
   * `ConfigError`).
   */
  execute?: ToolImpl<ArgsOf<S>>;
  /** The tool's call options, as for `defTool` (approval, guards, validator, retry, fallback, circuitBreaker, timeout ...). */
  options?: ToolPolicyOptions & IdempotenceOption;
  /** The AI SDK's approval switch, as on `runPrompt`'s tools ({@link NeedsApproval}). */
  needsApproval?: NeedsApproval<ArgsOf<S>>;
}

/**
 * A tool available to the root conversation from the start (as if enabled with `L.tool`): the
 * arguments' schema (zod or JSON Schema) as `parameters`, or as `inputSchema` like `runPrompt`'s
 * config tools and the AI SDK.
 */
export type RunTool<S = unknown> = RunToolBase<S> & SchemaOnce<S>;

/** Configuration of {@link run}: the run's models and tools, and the same policies as `runPrompt`'s. */
export interface RunConfig<Tools = Record<string, unknown>> extends RunPolicyConfig {
  /**
   * Model keys for `L.model(key)` / `L.focus(key)`; `default` is required and used when nothing
   * was pushed. Each is a `'provider:model'` string, a model object or a `mockModel(...)`.
   */
  models: Record<string, string | LanguageModel>;
  /** Tools enabled on the root conversation before the agent starts, by name. */
  tools?: { [K in keyof Tools]: RunTool<Tools[K]> };
  /** Cancels the run: in-flight model calls and tools are aborted and the run rejects with AbortError. */
  signal?: AbortSignal;
  /** Generation settings for every reply. */
  params?: GenerationParams;
  /** Model calls per reply at most, tool rounds included (default 20). */
  maxSteps?: number;
  /** How many of a step's tool calls run at once, started in the model's order (the AI SDK's; default: all). `1` runs them one by one. */
  toolCallConcurrency?: number;
  /**
   * How many times a `L.reply(schema)`, `L.infer(schema)` or `L.stream(schema)` answer that its
   * schema refuses goes back to the model (with the validator's message) before the directive
   * throws `ValidationError`; 0–100, default 2. Replies without a schema ignore it.
   */
  responseSchemaRetries?: number;
  /**
   * Called after every step of every reply (`L.reply`, `L.infer`, `L.stream`, in any conversation,
   * branches included) with the step and its conversation's `path`; the next step of that reply
   * waits for it, as with `runPrompt`'s. A callback that throws or rejects is an `error` event
   * (source `handler`), not the run's failure. A resumed durable run does not call it again for
   * the steps its journal replays.
   */
  onStepFinish?: (step: DirectiveStep) => void | PromiseLike<void>;
  /**
   * The AI SDK's `repairToolCall`, for every reply's steps: called with a tool call the model got
   * wrong (a tool it was not offered, arguments that do not parse or fit the schema); what it
   * returns (`{toolName, input}`) replaces the call, which is checked again, and null leaves it.
   */
  repairToolCall?: RepairToolCall;
  /** @deprecated The AI SDK 5/6's name of {@link RunConfig.repairToolCall} (give one of the two). */
  experimental_repairToolCall?: RepairToolCall;
  /**
   * The AI SDK 7's, for every reply's steps: by tool name, a function given a valid call's
   * arguments that returns the arguments to run it with; the engine checks them against the tool's
   * schema again, and the conversation and the tool get them. A name no enabled tool has fails
   * the reply (did-you-mean).
   */
  experimental_refineToolInput?: Record<string, (input: JsonObject) => JsonObject | PromiseLike<JsonObject>>;
  /** The AI SDK 7 name of {@link onStepFinish} (give one of the two). */
  onStepEnd?: (step: DirectiveStep) => void | PromiseLike<void>;
  /**
   * Ends a reply's tool loop early, as `runPrompt`'s `stopWhen` ends a run: asked after each step of
   * a reply that made tool calls (`isStepCount(n)`, `hasToolCall(name)`, `({ steps }) => …` over
   * that reply's steps, or a list: any met stops). The reply is then the last step's message.
   * Without it, a reply goes on until the model stops calling tools (or `maxSteps`).
   */
  stopWhen?: StopCondition | StopCondition[];
  /**
   * The AI SDK's `prepareStep`, for every step of every reply: called with the step's
   * `{stepNumber, messages, steps, lastToolCall, path}` (`steps`: that reply's earlier ones), it may
   * return that step's `model` (a key of `models`, a `'provider:model'` string or a model),
   * `toolChoice`, `activeTools`, `messages` (what the model is sent, the conversation unchanged) or
   * `system` (in place of the role's section; the conversation's `L.system` messages stay).
   */
  prepareStep?: (input: HookInput & { path: string[] }) => DirectiveStepChanges | void | undefined | Promise<DirectiveStepChanges | void | undefined>;
  /** The tools every reply offers, of those its conversation has enabled (default all); `prepareStep` may change them per step. */
  activeTools?: string[];
  /**
   * The AI SDK 7's `toolOrder` for every reply: the listed tools are sent first, in this order, the
   * others after them by name (each must be enabled in the replying conversation, as with `activeTools`).
   */
  toolOrder?: string[];
  /**
   * Defines the run's named policies with the same `def*` calls as a prompt function
   * (`ctx.defRetry`, `ctx.defApproval`, `ctx.defConstraint` ...); a budget spans every branch.
   */
  define?: (ctx: DefinitionContext) => void | Promise<void>;
  /**
   * The role (`ctx.defRole` in `define`) the run starts with: its section is the system prompt of
   * every reply, before the agent's `L.system` messages, and its constraints apply to every
   * conversation and branch of the run. `L.role(name)` switches it.
   */
  role?: string;
  /**
   * Makes the run durable (docs/durable-runs.md): every effect is journaled to `storage` under
   * `id`, so `resume(id, agent, config)` continues it after a crash or a page reload.
   */
  durable?: DurableOptions;
  /**
   * `false`: the run keeps none of its events, and the engine does not send them — for large
   * fan-outs whose events nobody reads (≈ 10 % less time for 1,000 branches × 3 replies,
   * bench/README.md, "Parallel fan-out"). `.events` and `for await` over the run then throw a
   * `ConfigError`, and so does anything that would read them: `onEvent`, `onProgress`,
   * `meterProvider`, `defEvent` handlers, `defLogger` and `defTracing`, in `define` or while the
   * run is live. Metrics, budgets and limits work as usual. Default `true`.
   */
  events?: boolean;
}

/**
 * What a directive run's `prepareStep` may change for one step, call settings included
 * (`temperature` ... over the reply's `params`; `providerOptions` merged over the run's).
 */
export interface DirectiveStepChanges extends StepCallSettings {
  model?: string | LanguageModel;
  toolChoice?: HookResult['toolChoice'];
  activeTools?: string[];
  /** The order this step's tools are sent in, in place of the run's `toolOrder`. */
  toolOrder?: string[];
  messages?: Message[];
  system?: string;
  /** The AI SDK 7's name of `system` (give one of the two). */
  instructions?: string;
}

/** A step of a directive run's reply, as `onStepFinish` gets it: the step, and where it was taken. */
export type DirectiveStep = StepResult & {
  /** The conversation's path: `['root']`, or a branch's (`['root', 'researcher']`). */
  path: string[];
};

/** The engine's id of a run's root conversation. */
const ROOT_CONVERSATION = 0;

/** The config's own readers of the run's events. */
const CONFIG_EVENT_READERS = ['onEvent', 'onProgress', 'meterProvider'] as const;

/** Why a run started with `events: false` refuses whatever would read its events. */
const EVENTS_OFF = 'the run was started with events: false, so it keeps no events (leave `events` out to observe it)';

const runConfigShape: c.Shape = {
  ...runPolicyShape,
  models: c.object,
  tools: c.object,
  signal: abortSignal,
  params: c.object,
  maxSteps: c.integer(1, 1000),
  toolCallConcurrency: c.integer(1, 1_000_000),
  responseSchemaRetries: c.integer(0, 100),
  onStepFinish: c.func,
  onStepEnd: c.func,
  repairToolCall: c.func,
  experimental_repairToolCall: c.func, // moved to repairToolCall (renamed-options.ts)
  experimental_refineToolInput: c.recordOf(c.func, 'an object of tool names to functions (input) => input'),
  stopWhen: c.either(c.func, c.arrayOf(c.func, 'an array of conditions (functions)')),
  prepareStep: c.func,
  activeTools: c.arrayOf(c.nonEmpty, 'an array of tool names'),
  toolOrder: c.arrayOf(c.nonEmpty, 'an array of tool names'),
  define: c.func,
  role: c.nonEmpty,
  durable: c.object,
  events: c.boolean,
};

const runToolShape: c.Shape = {
  description: c.string,
  parameters: c.anything,
  inputSchema: c.anything,
  execute: c.func,
  options: c.object,
  needsApproval: c.either(c.boolean, c.func),
};

/** What {@link run} returns: the promise of the agent's return value, plus its events. */
export type DirectiveRunPromise<T> = Promise<T> &
  AsyncIterable<RunEvent> & {
    /**
     * Every runtime event of the run, buffered from the start; ends when the run ends. Iterating it
     * (or the run itself) throws a `ConfigError` for a run started with `events: false`.
     */
    readonly events: AsyncIterable<RunEvent>;
    /**
     * The text deltas of the root conversation's streamed replies (`L.stream`), in order, kept from
     * the start; ends when the run ends (a failure is the run's rejection). Replies of branches are
     * left out.
     */
    readonly textStream: AsyncIterable<string>;
    /**
     * {@link textStream} as a streaming HTTP response (`text/plain; charset=utf-8`) for a route
     * handler. If the run fails after the body started, the body ends with the error, so the
     * client's reader throws instead of taking a cut answer for a complete one.
     */
    toTextStreamResponse(init?: TextStreamResponseInit): Response;
    /**
     * Writes {@link textStream} to a Node `http.ServerResponse` as it streams (with backpressure); a
     * run that fails after the head was sent destroys the response with its error. A wrong argument
     * throws at the call; the promise resolves when the response ended and never rejects.
     */
    pipeTextStreamToResponse(response: ServerResponseLike, init?: TextStreamResponseInit): Promise<void>;
    /**
     * The AI SDK's UI message stream of the run, for a chat front end on `useChat`: one assistant
     * message made of the root conversation's streamed replies (`L.stream`) — their reasoning and
     * text, and their steps, tool calls and results (these come from the run's events, so a run
     * with `events: false` sends no steps or tool parts). Options as `runPrompt`'s (docs/prompt-runs.md, "Chat
     * front ends"); an unknown one is a `ConfigError`. One reader: a loop that stops early cancels it.
     */
    toUIMessageStream<M extends UIMessageLike = UIMessageLike>(options?: UIMessageStreamOptions<M>): UIMessageChunkStream;
    /**
     * {@link toUIMessageStream} as a web `Response` of server-sent events with the headers `useChat`
     * expects. A run that fails ends the stream with an `error` chunk (its text from `onError`), one
     * that is aborted with `abort`.
     */
    toUIMessageStreamResponse<M extends UIMessageLike = UIMessageLike>(init?: UIMessageStreamResponseInit<M>): Response;
    /** Writes {@link toUIMessageStreamResponse}'s body to a Node `http.ServerResponse` as it streams; never rejects. */
    pipeUIMessageStreamToResponse<M extends UIMessageLike = UIMessageLike>(response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>): Promise<void>;
    /**
     * What the run's model calls (sub-agents' included) could not honour, each once — a generation
     * setting a provider's API does not have, left out of its request — when the run has ended.
     * Empty when none; rejects as the run does.
     */
    readonly warnings: Promise<CallWarning[]>;
    /** A durable run's journal so far (undefined before it started, or when the run is not durable). */
    journal(): Journal | undefined;
    /**
     * Ends a durable run now, its journal saved (the promise rejects with `RunSuspendedError`);
     * `resume(id, agent, config)` continues it (docs/durable-runs.md).
     */
    suspend(): Promise<void>;
  };

/**
 * Runs a directive agent and resolves with its return value. `agent` is a generator (object or
 * function), an iterable or async iterable of directives, or a nullary function returning one.
 *
 * @example
 * ```ts
 * const answer = await run(function* () {
 *   yield* L.user`What is 2 + 2?`;
 *   return (yield* L.reply).value;
 * }, { models: { default: 'openai:gpt-4o-mini' } });
 * ```
 * @throws TypeError (as a rejection) for a config without `models.default`, a model that is not one,
 *   or an agent that is not one.
 */
export function run<T, Tools = Record<string, unknown>>(agent: AgentLike<T>, config: RunConfig<Tools>): DirectiveRunPromise<T> {
  return startDirective(agent, config as RunConfig, c.isPlainObject(config) && config.durable !== undefined ? { kind: 'new' } : undefined, 'run') as DirectiveRunPromise<T>;
}

/** @internal Starts a directive run; `durableStart` says how a durable one starts (new, resumed, replayed). */
export function startDirective(agent: unknown, config: RunConfig, durableStart: DurableStart | undefined, where: string): DirectiveRunPromise<unknown> {
  const events = new EventQueue(c.isPlainObject(config) && config.events === false ? `${where}: ${EVENTS_OFF}` : undefined);
  const durable: { run?: DurableRun; opened?: Promise<DurableRun | undefined> } = {};
  const stream = new RunStream();
  const warnings = new CallWarnings();
  const promise = start(agent, config, events, stream, warnings, durableStart, where, durable);
  const warningList = promise.then(() => warnings.list());
  warningList.catch(() => {}); // read or not: the run's own promise carries its failure
  return Object.assign(promise, {
    events,
    warnings: warningList,
    [Symbol.asyncIterator]: () => events[Symbol.asyncIterator](),
    textStream: stream.textStream,
    toTextStreamResponse: (init?: TextStreamResponseInit) => stream.toResponse(init),
    pipeTextStreamToResponse: (response: ServerResponseLike, init?: TextStreamResponseInit) => stream.pipe(response, init),
    toUIMessageStream: <M extends UIMessageLike>(options?: UIMessageStreamOptions<M>) => stream.uiMessages(options),
    toUIMessageStreamResponse: <M extends UIMessageLike>(init?: UIMessageStreamResponseInit<M>) => stream.uiMessageResponse(init),
    pipeUIMessageStreamToResponse: <M extends UIMessageLike>(response: ServerResponseLike, init?: UIMessageStreamResponseInit<M>) => stream.pipeUIMessages(response, init),
    journal: () => durableInfo(durable.run).journal(),
    suspend: async () => durableInfo(await durable.opened).suspend(),
  });
}

async function start(
  agent: unknown,
  config: RunConfig,
  events: EventQueue,
  stream: RunStream,
  warnings: CallWarnings,
  durableStart: DurableStart | undefined,
  where: string,
  opened: { run?: DurableRun; opened?: Promise<DurableRun | undefined> },
): Promise<unknown> {
  try {
    if (!c.isPlainObject(config)) throw new ConfigError('run(agent, config): expected a config object with "models" ({default: model, ...})');
    c.checkOptions('run config', config, runConfigShape);
    config = underOlderNames('run config', config, RUN_RENAMES);
    const { timeout, tools: toolTimeouts } = ownTimeouts('run config', config);
    if (toolTimeouts)
      throw new ConfigError("run config: timeout.tools: a run's tools come as its agent enables them; give a tool its own limit (L.tool(..., {timeout}) or config.tools.x.options.timeout)");
    if (config.params) c.checkOptions('run config.params', config.params, generationShape);
    for (const [name, tool] of Object.entries(config.tools ?? {})) {
      if (!c.isPlainObject(tool)) throw new ConfigError(`run: config.tools.${name} must be {description?, parameters, execute, options?}, got ${describe(tool)}`);
      c.checkOptions(`run: config.tools.${name}`, tool, runToolShape, 'field');
      schemaOnce(`run: config.tools.${name}`, tool, 'parameters');
      if (tool.execute === undefined)
        throw new ConfigError(`run: config.tools.${name}: 'execute' is required: a directive run executes every tool it enables (only runPrompt's tools can leave their calls to the caller)`);
      c.checkOptions(`run: config.tools.${name}.options`, tool.options, { ...toolPolicyShape, idempotent: c.boolean });
    }
    const models = checkModels(config.models);
    const iterator = toAgentIterator(agent, 'run(agent)');
    const definitions = new DefinitionContext();
    if (config.events === false) {
      const reader = CONFIG_EVENT_READERS.find((key) => config[key] !== undefined);
      if (reader) throw new ConfigError(`run config: '${reader}' reads the run's events, and ${EVENTS_OFF}`);
      definitionsOf(definitions).eventsOff = EVENTS_OFF;
    }
    let setupMs = 0;
    if (config.define) {
      // As runPrompt's prompt function: the run's signal and timeout bound it, and its time counts.
      const setup = new SetupDeadline('run(agent)', 'the define function', config.signal, timeout);
      try {
        await setup.bound(config.define(definitions));
      } finally {
        setup.end();
        setupMs = setup.spentMs;
      }
    }
    // needsApproval: an approval (and a guard for a function) defined with the run's own definitions.
    const tools: Record<string, RunTool> = {};
    for (const [name, tool] of Object.entries(config.tools ?? {})) {
      const { needsApproval, ...rest } = tool;
      const at = `run: config.tools.${name}`;
      // defineProperty: a tool named `__proto__` is a tool like any other (assignment would set the prototype).
      const value = needsApproval ? { ...rest, options: { ...rest.options, ...approvalOptions(definitions, name, schemaOnce(at, rest, 'parameters'), needsApproval, rest.options, at) } } : rest;
      Object.defineProperty(tools, name, { value, enumerable: true, writable: true, configurable: true });
    }
    config = { ...config, tools };
    checkReferences('run config', config, definitionsOf(definitions), { retry: retryKind, fallback: fallbackKind, circuitBreaker: circuitBreakerKind });
    if (config.signal?.aborted) throw new AbortError('the run was aborted before it started');
    opened.opened = durableStart ? openDurable(where, config, durableStart) : Promise.resolve(undefined);
    const durable = (opened.run = await opened.opened);
    const engine = durable?.engine ?? config.engine ?? (await defaultEngine());
    // An approval nobody can answer here suspends a durable run (saved, to be resumed later).
    const suspend = durable ? () => void durableInfo(durable).suspend() : undefined;
    let value: unknown;
    try {
      value = await new DirectiveRun(engine, config, models, definitions, events, stream, warnings, suspend, setupMs).execute(iterator);
    } catch (err) {
      await durable?.close('failed', err);
      throw resumedRunError(durable, err);
    }
    // A durable run whose last record was not stored has not finished for good: a resume would redo that turn.
    const lost = await durable?.session.writeFailure();
    if (lost) {
      await durable!.close('failed');
      throw lost;
    }
    // What the caller sees is in the journal: a process that exits on the result loses nothing.
    await durable?.close('finished');
    stream.finish();
    return value;
  } catch (err) {
    stream.fail(err);
    throw err;
  } finally {
    events.close();
    stream.close();
  }
}

function checkModels(models: unknown): Map<string, LanguageModel> {
  if (!isRecord(models)) throw new ConfigError(`run: config.models must be an object of model keys ({default: model, ...}), got ${describe(models)}`);
  if (!('default' in models)) {
    const keys = Object.keys(models).join(', ') || 'none';
    throw new ConfigError(`run: config.models must bind the key "default" (bound keys: ${keys})`);
  }
  const out = new Map<string, LanguageModel>();
  for (const [key, spec] of Object.entries(models)) {
    try {
      out.set(key, toModel(spec));
    } catch (err) {
      throw new ConfigError(`run: config.models.${key}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}

/** The driver's view of one engine conversation. */
interface Conv {
  id: number;
  path: string[];
  /** Single-agent branches started so far (their path segment). */
  branches: number;
  /** A branch a tool's implementation started (a tool returning an agent): a replay does not run it again. */
  inTool?: boolean;
  /** `L.infer` branches started so far (path segment `infer.N`). */
  infers?: number;
  /** A streamed reply still running: the next directive waits for it. */
  stream?: { done: Promise<void>; queue: DeltaQueue; error?: unknown };
  /** The registered callback behind `onStepFinish` for this conversation's replies. */
  stepFinish?: string;
  /** The registered callback behind `stopWhen` for this conversation's replies. */
  stopWhen?: string;
  /** The registered callbacks behind `onStart`, `onStepStart` and `onStepError`, by reply field. */
  stepStarts?: Record<string, string>;
  /** The registered callback behind `prepareStep` for this conversation's replies. */
  prepareStep?: string;
}

interface ReplyWire {
  message: { role: Role; content: string | Part[] };
  index: number;
  value?: unknown;
}

const runNumbers = new WeakMap<Engine, number>();

/** Runs are numbered per engine: a durable run's engine names its callbacks the same way on every replay. */
function nextRunNumber(engine: Engine): number {
  const n = runNumbers.get(engine) ?? 1;
  runNumbers.set(engine, n + 1);
  return n;
}

const referenceKinds: ReferenceKinds = {
  retry: retryKind, fallback: fallbackKind, circuitBreaker: circuitBreakerKind, approval: approvalKind, guards: guardKind, validator: validatorKind, cache: cacheKind,
};

class DirectiveRun {
  private readonly prefix: string;
  private runId = -1;
  private readonly conversations = new Map<number, Conv>();
  private readonly streams = new Map<number, DeltaQueue>();
  private nextRequest = 1;
  private nextCallback = 1;
  private readonly callbackNames: string[] = [];
  /** The registered `check` callback of each zod schema replies were asked with (L.reply(schema)). */
  private readonly answerChecks = new WeakMap<object, string>();
  /** The run's one event path (made when the run starts). */
  private runEvents: RunEvents | undefined;
  private storage: RunStorage | undefined;
  private readonly keys: string[];
  private readonly runModels: RunModels;
  /** `timeout`, `modelTimeout` and `toolTimeout` of the config, the AI SDK 7's object laid out. */
  private readonly timeouts: RunTimeouts;
  /** The engine's model references of the `models` keys. */
  private readonly refs: Record<string, string> = {};
  /** The registered callback behind `repairToolCall` (one for all replies). */
  private repair: string | undefined;
  /** The registered callback behind `experimental_refineToolInput` (one for all replies). */
  private refine: string | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly config: RunConfig,
    private readonly models: Map<string, LanguageModel>,
    private readonly definitions: DefinitionContext,
    private readonly events: EventQueue,
    private readonly runStream: RunStream,
    warnings: CallWarnings,
    private readonly suspendDurable?: () => void,
    setupMs = 0,
  ) {
    this.prefix = `d${nextRunNumber(engine)}:`;
    this.keys = [...models.keys()];
    this.timeouts = { ...ownTimeouts('run config', config), setupMs };
    const stream = this.runStream;
    this.runModels = {
      models: new Map(),
      callId: newCallId(),
      // A reply's text also goes to its L.stream reader; the run's stream keeps the root's replies.
      ...streamPartHooks({
        push: (part) => {
          if (part.type === 'text-delta') this.streams.get(part.stepNumber)?.push(part.text);
          stream.push(part);
        },
        share: (type, requestId, whole) => stream.share(type, requestId, whole),
      }),
      conversation: [],
      callSettings: callSettings(config),
      onWarnings: (list) => warnings.add(list),
      modelCallWatchers: config,
      chunkTimeouts: this.timeouts.chunks,
    };
  }

  /** The run's states (docs/state-and-caches.md): loaded before user code is called back, changes sent before its answer. */
  private runStates: RunStates | undefined;
  /** The run tree's spans when it is traced (`defTracing` in `define`): tools' `context.trace` hangs under them. */
  private tracing: SpanBuilder | undefined;
  /** Rejects when the run ends before the agent does (its abort, its timeout): see {@link DirectiveRun.untilRunEnds}. */
  private runEnd: Promise<never> | undefined;
  private runEnded = false;

  private register(label: string, fn: (...args: never[]) => unknown, options?: { plain?: boolean; traits?: CallbackTraits }): string {
    const name = `${this.prefix}${this.nextCallback++}:${label}`;
    const withStates = async (...args: unknown[]) => {
      await this.runStates?.ensure();
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        this.runStates?.flush();
      }
    };
    const hasStates = definitionsOf(this.definitions).names(stateKind).length > 0;
    this.engine.registerCallback(name, hasStates && !options?.plain ? withStates : fn, options?.traits);
    this.callbackNames.push(name);
    return name;
  }

  async execute(iterator: AgentIterator): Promise<unknown> {
    const host = EngineHost.of(this.engine);
    const refs = this.refs;
    for (const [key, model] of this.models) refs[key] = addModel(this.runModels, model);
    const marshal = {
      callback: (label: string, fn: (...args: never[]) => unknown, o?: { plain?: boolean }) => this.register(label, fn, o),
      model: (m: string | LanguageModel) => addModel(this.runModels, toModel(m)),
      state: () => stateView(this.definitions),
      engine: this.engine,
      embeddingModel: (m: EmbeddingModel) => host.addEmbeddingModel(m),
      storage: (name: string, where: string) => checkStorageName(this.engine, name, where),
    };
    const human = host.human.open({ onApproval: this.config.onApproval, onInteraction: this.config.onInteraction, suspend: this.suspendDurable });
    // Span events are masked before any listener sees them.
    const tracingDefinition = definitionsOf(this.definitions).values(tracingKind)[0];
    const maskSpans = spanEventMasker(tracingDefinition);
    const runEvents = (this.runEvents = new RunEvents()
      .listen(maskSpans)
      .listen((event) => this.events.push(event))
      .listen((event) => this.runStream.event(event))
      .listen(this.config.onEvent, 'onEvent'));
    // defEvent handlers (docs/observability.md): fed from the run's one event path, failures go back on it.
    const dispatch = new EventDispatch((event) => runEvents.push(event));
    dispatch.add(definitionsOf(this.definitions), ['root']);
    // Handlers, loggers and exporters saw a durable run's replayed events the first time.
    runEvents.listen(liveEventsOnly((event: RunEvent) => dispatch.dispatch(event))).listen(liveEventsOnly(lifecycleLogs(definitionsOf(this.definitions))));
    // defTracing and the meterProvider (docs/observability.md); the agent's branches are spans of the one tree.
    let tracing: SpanBuilder | undefined;
    try {
      tracing = this.tracing = await openTracing(tracingDefinition);
    } catch (err) {
      human.close();
      throw err;
    }
    runEvents.listen(liveEventsOnly(tracing?.listener)).listen(liveEventsOnly(this.config.meterProvider ? otelMetrics(this.config.meterProvider) : undefined));
    const engine = this.engine;
    runEvents.listen(this.config.onProgress ? trackProgress(() => engine.now(), this.config.onProgress) : undefined, 'onProgress');
    // Who else sees the events: the config's observers, and defEvent handlers and debug loggers,
    // which the define context may also add while the run is live.
    const defined = definitionsOf(this.definitions);
    const configObserved = maskSpans !== undefined || CONFIG_EVENT_READERS.some((key) => this.config[key] !== undefined);
    // A root streamed reply's steps go into the run's UI message stream, so its events are read.
    const observed = () => configObserved || this.runStream.following || hasHandlers(defined) || defined.values(loggerKind).some((logger) => logger.enabled('debug'));
    const { fields, options } = runPolicySpec(this.config, this.timeouts);
    const spec: Record<string, unknown> = { kind: 'conversation', models: refs, host: human.host, options, ...fields };
    if (this.config.role !== undefined) spec.role = this.config.role;
    if (this.config.events === false) spec.events = false;
    let detach = () => {};
    let ended: Promise<unknown>;
    try {
      this.storage = useRunStorage(this.engine, this.config.storage);
      spec.storage = this.storage.name;
      const definitions = definitionsOf(this.definitions);
      if (definitions.size > 0) spec.definitions = definitions.toWire(marshal);
      const observe = { ...observeSpec(definitions, takePendingEmits(this.definitions)), ...(this.config.meterProvider ? { metricEvents: true } : {}) };
      if (Object.keys(observe).length > 0) spec.observe = observe;
      ended = this.engine.startRun(spec, {
        replayed: true,
        signal: this.config.signal,
        onEvent: (event) => runEvents.push(event as unknown as RunEvent),
        // An event only `.events` can see stays JSON bytes until someone reads it.
        eventsAsJson: { wanted: () => !observed(), keep: (json) => this.events.keep(json), push: (kept) => this.events.push(kept) },
        onStarted: (id) => {
          this.runId = id;
          detach = host.attach(id, this.runModels);
          if (definitionsOf(this.definitions).names(stateKind).length > 0) this.runStates = new RunStates(this.engine, id, new TreeStates());
          bindRun(this.definitions, { engine: this.engine, runId: id, states: this.runStates, model: refs.default });
        },
      });
    } catch (err) {
      this.release(human, detach);
      throw err;
    }
    // Awaited below; this keeps an early rejection from being reported as unhandled, and notes it.
    const endedEarly: { failed: boolean; error?: unknown } = { failed: false };
    ended.catch((error: unknown) => Object.assign(endedEarly, { failed: true, error }));
    // Undone when the run ends: a signal shared by many runs must not gather a listener per run.
    let stopWatching = () => {};
    this.runEnd = new Promise<never>((_resolve, reject) => {
      ended.catch(reject);
      const signal = this.config.signal;
      const onAbort = () => reject(this.abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      // The engine's deadline cancels the run's ops, and an agent awaiting its own work has none: the
      // same deadline here ends the wait. (A durable run's deadline is the journal's, not this clock's.)
      const { timeout, setupMs = 0 } = this.timeouts;
      const clearDeadline =
        timeout !== undefined && timeout > 0 && !this.suspendDurable
          ? this.engine.setTimer(Math.max(1, timeout - setupMs), () => reject(new TimeoutError(`the run timed out after ${timeout} ms`)))
          : () => {};
      stopWatching = () => {
        signal?.removeEventListener('abort', onAbort);
        clearDeadline();
      };
    });
    this.runEnd.catch(() => {
      this.runEnded = true; // set before any race on runEnd hears of it (reactions run in order)
    });
    const root: Conv = { id: ROOT_CONVERSATION, path: ['root'], branches: 0 };
    this.conversations.set(ROOT_CONVERSATION, root);

    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      for (const [name, tool] of Object.entries(this.config.tools ?? {}))
        await this.enableTool(root, { name, description: tool.description ?? '', schema: schemaOnce(`run: config.tools.${name}`, tool, 'parameters'), impl: tool.execute, options: tool.options });
      // The agent's own code reads state too (a generator cannot await loadStates()): load before it starts.
      await this.runStates?.ensure();
      outcome = { ok: true, value: await this.drive(iterator, root) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    try {
      await this.command(root, 'end', outcome.ok ? { ok: true } : { ok: false, error: { message: errorToWire(outcome.error).message } });
      await ended;
    } catch (error) {
      // A run whose start was refused (an unknown role …) fails every command as if it did not
      // exist: the refusal says why. Otherwise the run could not end or ended abnormally: that is
      // the more useful error.
      if (endedEarly.failed && (outcome.ok || outcome.error instanceof ProtocolError)) outcome = { ok: false, error: endedEarly.error };
      else if (outcome.ok || !(outcome.error instanceof Error)) outcome = { ok: false, error };
    } finally {
      stopWatching();
      this.release(human, detach);
    }
    await settleObservers(dispatch, runEvents); // the run's result settles once its event handlers and callbacks are done
    tracing?.close().catch(() => {});
    if (this.config.signal?.aborted && outcome.ok) outcome = { ok: false, error: this.abortError() };
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** Forgets everything the run registered with the engine and its host. */
  private release(human: { close(): void }, detach: () => void): void {
    for (const name of this.callbackNames) this.engine.unregisterCallback(name);
    detach();
    human.close();
    bindRun(this.definitions, undefined);
    this.storage?.release();
  }

  // ------------------------------------------------------------------------------ the agent loop

  /** Pulls directives from `iterator` until it returns; each outcome goes back into the generator. */
  private async drive(iterator: AgentIterator, conv: Conv): Promise<unknown> {
    let input: unknown;
    let failure: { error: unknown } | null = null;
    for (;;) {
      let step: IteratorResult<unknown, unknown>;
      if (failure) {
        const { error } = failure;
        failure = null;
        if (typeof iterator.throw !== 'function') {
          await iterator.return?.();
          throw error;
        }
        step = await this.untilRunEnds(iterator, iterator.throw(error));
      } else {
        // A generator's step is no promise: taken as it is, without untilRunEnds' async frame (an
        // async iterator's thenable that is not a Promise is awaited, as it always was).
        const next: unknown = iterator.next(input);
        if (next instanceof Promise) step = await this.untilRunEnds(iterator, next as Promise<IteratorResult<unknown, unknown>>);
        else step = (c.isThenable(next) ? await next : next) as IteratorResult<unknown, unknown>;
      }
      if (typeof step !== 'object' || step === null)
        throw new ConfigError(`an agent's iterator returned ${describe(step)} from next(), not an iterator result {value, done}`);
      if (step.done) {
        await this.settleStream(conv);
        return step.value;
      }
      try {
        input = await this.perform(step.value, conv);
      } catch (error) {
        failure = { error };
        input = undefined;
      }
    }
  }

  /**
   * An agent's step, or the run's end if that comes first: an async agent awaiting its own work
   * (a fetch that never settles) does not hold a run that was aborted or timed out. The agent is
   * told to return once its step settles (its `finally` blocks run), and gets no further directive.
   */
  private async untilRunEnds<T>(iterator: AgentIterator, step: T | Promise<T>): Promise<T> {
    if (!this.runEnd || !(step instanceof Promise)) return step;
    step.catch(() => {});
    try {
      return await Promise.race([step, this.runEnd]);
    } catch (error) {
      if (this.runEnded) void Promise.resolve(iterator.return?.()).catch(() => {});
      throw error;
    }
  }

  private async perform(request: unknown, conv: Conv): Promise<unknown> {
    if (!(request instanceof DirectiveRequest)) {
      if (isDirectiveSource(request))
        throw new ConfigError('an agent yielded a directive with `yield`; delegate to it with `yield*` (e.g. `yield* L.reply`, `yield* L.user`…``)');
      throw new ConfigError(`an agent yielded ${describe(request)}; agents yield only directives, with yield* (e.g. yield* L.reply)`);
    }
    if (this.config.signal?.aborted) throw this.abortError();
    // A stream's failure nobody read is thrown at the next directive: inside an L.catch, so that it catches it.
    if (request.kind !== 'catch' && conv.stream) await this.settleStream(conv);
    // The arguments are what the directive in directives.ts put there for this kind.
    const a = request.args;
    switch (request.kind) {
      case 'append': {
        const tags = (a.tags as Tag[] | undefined)?.map((t) => ({ id: t.id, description: t.description }));
        const message = { role: a.role as Role, content: a.content as string };
        const { index } = (await this.command(conv, 'append', { message, tags })) as { index: number };
        return new ConversationMessage({ ...message, index, tags });
      }
      case 'reply':
        return this.reply(conv, a.schema);
      case 'stream':
        return this.stream(conv, a.schema);
      case 'infer':
        return this.infer(conv, a.schema);
      case 'call': {
        // Tool arguments are JSON, as a model's are: a function would be dropped and NaN sent as null.
        const problem = jsonProblem(a.args ?? {}, '$');
        if (problem) throw new ConfigError(`L.call("${String(a.name)}"): the arguments must be JSON: ${problem}`);
        return this.command(conv, 'call', { name: a.name, args: jsonCopy(a.args ?? {}, `L.call("${String(a.name)}"): the arguments`) });
      }
      case 'model.push': {
        const key = a.key;
        if (typeof key !== 'string' || !this.keys.includes(key))
          throw new ConfigError(`L.${a.via as string}: model key ${typeof key === 'string' ? `"${key}"` : describe(key)} is not bound (bound keys: ${this.keys.join(', ')})`);
        const { handle } = (await this.command(conv, 'model.push', { key })) as { handle: number };
        return new ModelHandle(key, handle, this.runId);
      }
      case 'model.pop':
        // Handles are numbered per run: one kept from another run would pop an unrelated push.
        if (a.run !== this.runId) throw new ConfigError(`L.model: the handle of "${String(a.key)}" was pushed in another run; a handle pops its push in the run that made it`);
        await this.command(conv, 'model.pop', { handle: a.handle });
        return undefined;
      case 'tool.enable':
        return this.enableTool(conv, a as { name: unknown; description: unknown; schema: unknown; impl: unknown; options: unknown });
      case 'tool.disable':
        await this.command(conv, 'tool.disable', { name: a.name });
        return undefined;
      case 'branch':
        return a.options === undefined ? this.branch(conv, a.target) : this.branchGroup(conv, a.target, a.options);
      case 'catch': {
        const iterator = toAgentIterator(a.agent, 'L.catch');
        try {
          return { value: await this.drive(iterator, conv) };
        } catch (error) {
          return { error };
        }
      }
      case 'event':
        await this.command(conv, 'emit', { ...(a.name === undefined ? {} : { name: a.name }), value: jsonCopy(a.value, 'L.event: the value') });
        return undefined;
      case 'messages':
        return this.readMessages(conv, a.filter);
      case 'snapshot':
        return deepFreeze(await this.readMessages(conv, undefined));
      case 'mark': {
        const { position } = (await this.command(conv, 'mark')) as { position: number };
        return new Mark(position);
      }
      case 'role':
        await this.definitions.assumeRole(a.name as string);
        return undefined;
      case 'memory':
        return this.memory(conv, a.name as string, a.graph === true, a.op as MemoryOperation, a.args as unknown[]);
    }
  }

  // ------------------------------------------------------------------------------ directives

  private async reply(conv: Conv, schema: unknown, requestId = 0): Promise<AssistantMessage<unknown>> {
    const jsonSchema = schema === undefined ? undefined : toJsonSchema(schema, 'L.reply(schema)');
    const fields: Record<string, unknown> = { requestId, schema: jsonSchema };
    if (parsedByZod(jsonSchema)) fields.check = this.answerCheck(schema as object, jsonSchema!);
    if (this.config.onStepFinish) fields.onStepFinish = this.stepFinish(conv, this.config.onStepFinish);
    Object.assign(fields, this.stepStarts(conv));
    if (this.config.stopWhen) fields.stopWhen = this.stopWhen(conv, [this.config.stopWhen].flat());
    if (this.config.prepareStep) fields.prepareStep = this.prepareStep(conv, this.config.prepareStep);
    if (this.config.repairToolCall) fields.repairToolCall = (this.repair ??= this.register('repairToolCall', repairCallback(this.config.repairToolCall)));
    const refiners = this.config.experimental_refineToolInput;
    if (refiners) {
      fields.refineToolInput = this.refine ??= this.register('refineToolInput', refineCallback(refiners));
      fields.refineTools = Object.keys(refiners);
    }
    if (this.config.activeTools) fields.activeTools = this.config.activeTools;
    if (this.config.toolOrder) fields.toolOrder = this.config.toolOrder;
    if (this.config.params) fields.params = this.config.params;
    if (this.config.maxSteps !== undefined) fields.maxSteps = this.config.maxSteps;
    if (this.config.toolCallConcurrency !== undefined) fields.toolCallConcurrency = this.config.toolCallConcurrency;
    if (jsonSchema !== undefined && this.config.responseSchemaRetries !== undefined) fields.maxRetries = this.config.responseSchemaRetries;
    const wire = (await this.command(conv, 'reply', fields)) as ReplyWire;
    const message = { ...wire.message, index: wire.index };
    if (jsonSchema === undefined) return new AssistantMessage(message, textOf(message.content));
    if (wire.value === undefined)
      throw new ValidationError(
        'L.reply(schema): the reply ended before the model gave a final answer (maxSteps or a stop condition ended it during tool calls), so there is no value to parse',
      );
    return new AssistantMessage(message, await parsedOrThrow(jsonSchema, wire.value, 'L.reply(schema): the answer does not match the schema'));
  }

  /** The `onStepFinish` callback of `conv`'s replies (the engine's step_finish seam awaits it): registered once per conversation. */
  private stepFinish(conv: Conv, onStepFinish: NonNullable<RunConfig['onStepFinish']>): string {
    conv.stepFinish ??= this.register(
      'onStepFinish',
      (record: StepResult) => {
        const step: DirectiveStep = { ...record, path: conv.path };
        return this.runEvents!.call('onStepFinish', { type: 'step-finish', ...step }, () => onStepFinish(step));
      },
      { plain: true },
    );
    return conv.stepFinish;
  }

  /** The `onStart` / `onStepStart` / `onStepError` callbacks of `conv`'s replies (the engine's step_start seam awaits them): registered once per conversation. */
  private stepStarts(conv: Conv): Record<string, string> {
    if (conv.stepStarts) return conv.stepStarts;
    const handlers = stepStartHandlers(this.config, {
      models: this.runModels,
      callId: () => this.runModels.callId,
      operationId: 'lmthing.reply',
      path: conv.path,
      call: (name, callback) => this.runEvents!.call(name, { type: name === 'onStart' ? 'run-start' : 'step-start', path: conv.path } as Partial<RunEvent> as RunEvent, callback),
    });
    conv.stepStarts = {};
    for (const [field, handler] of Object.entries(handlers)) conv.stepStarts[field] = this.register(field, handler, { plain: true });
    return conv.stepStarts;
  }

  /**
   * The `stopWhen` callback of `conv`'s replies (the engine's stop_when seam asks it after each step
   * with tool calls, with the reply's earlier steps): registered once per conversation.
   */
  private stopWhen(conv: Conv, conditions: StopCondition[]): string {
    conv.stopWhen ??= this.register('stopWhen', ({ steps, ...step }: StepResult & { steps: StepResult[] }) => anyConditionMet(conditions, step, steps));
    return conv.stopWhen;
  }

  /**
   * The `prepareStep` callback of `conv`'s replies (the engine's hooks seam calls it before each
   * step): registered once per conversation; a model it names becomes an engine model reference.
   */
  private prepareStep(conv: Conv, prepareStep: NonNullable<RunConfig['prepareStep']>): string {
    conv.prepareStep ??= this.register('prepareStep', async (input: HookInput) => {
      const changes = stepChangesWire(await prepareStep({ ...input, path: conv.path }), 'prepareStep');
      if (changes?.model === undefined) return changes;
      const { model } = changes;
      if (typeof model === 'string' && this.refs[model] !== undefined) return { ...changes, model: this.refs[model] };
      try {
        return { ...changes, model: addModel(this.runModels, toModel(model)) };
      } catch (err) {
        throw new ConfigError(`prepareStep returned a bad 'model' (a key of models: ${this.keys.join(', ')}; a 'provider:model' string; or a model): ${(err as Error).message}`);
      }
    });
    return conv.prepareStep;
  }

  /** The `check` callback of replies with the zod schema `schema`: registered once per schema and run. */
  private answerCheck(schema: object, jsonSchema: object): string {
    let name = this.answerChecks.get(schema);
    if (name === undefined) {
      name = this.register('check', answerCheck(jsonSchema), { plain: true });
      this.answerChecks.set(schema, name);
    }
    return name;
  }

  /** L.infer: a reply on an isolated branch of `conv`, so nothing is appended here. */
  private infer(conv: Conv, schema: unknown): Promise<unknown> {
    if (schema !== undefined) toJsonSchema(schema, 'L.infer(schema)'); // bad input fails now, in the agent
    const n = conv.infers ?? 0;
    conv.infers = n + 1;
    return this.inBranch(conv, `infer.${n}`, false, (child) => this.reply(child, schema));
  }

  private stream(conv: Conv, schema: unknown): ReplyStream<unknown> {
    if (schema !== undefined) toJsonSchema(schema, 'L.stream(schema)'); // bad input fails now, in the agent
    const requestId = this.nextRequest++;
    if (conv.id === ROOT_CONVERSATION) this.runStream.follow(requestId);
    const queue = new DeltaQueue();
    this.streams.set(requestId, queue);
    const message = this.reply(conv, schema, requestId);
    const state: NonNullable<Conv['stream']> = { queue, done: Promise.resolve() };
    state.done = message.then(
      () => queue.finish(),
      (error) => {
        state.error = error;
        queue.finish(error);
      },
    ).finally(() => {
      this.streams.delete(requestId);
      this.runStream.unfollow(requestId);
    });
    conv.stream = state;
    message.catch(() => {}); // reported through the stream, `.message`, or the next directive
    return Object.assign(queue, { message });
  }

  /** Waits for a streamed reply of `conv` to end; rethrows its failure if no reader saw it. */
  private async settleStream(conv: Conv): Promise<void> {
    const pending = conv.stream;
    if (!pending) return;
    await pending.done;
    conv.stream = undefined;
    // The reply's rejection reason, rethrown as it is (`!== undefined` narrowed it to `{} | null`).
    if (pending.error !== undefined && !pending.queue.observed) throw pending.error as unknown;
  }

  private async enableTool(conv: Conv, a: { name: unknown; description: unknown; schema: unknown; impl: unknown; options: unknown }): Promise<ToolHandle> {
    const { name, description, impl } = a;
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name))
      throw new ConfigError(`L.tool: the name must match [A-Za-z_][A-Za-z0-9_.-]*, got ${describe(name)}`);
    if (typeof description !== 'string') throw new ConfigError(`L.tool("${name}"): the description must be a string, got ${describe(description)}`);
    if (typeof impl !== 'function') throw new ConfigError(`L.tool("${name}"): the implementation must be a function of the arguments, got ${describe(impl)}`);
    const { idempotent, ...options } = c.checkOptions<ToolPolicyOptions & IdempotenceOption>(`L.tool("${name}")`, a.options ?? {}, { ...toolPolicyShape, idempotent: c.boolean });
    checkReferences(`L.tool("${name}")`, options, definitionsOf(this.definitions), referenceKinds);
    const parameters = toJsonSchema(a.schema, `L.tool("${name}") schema`);
    const callback = this.register(name, async (args: JsonObject, info: { conversation: number; toolCallId: string; span?: number }, call: CallbackContext) => {
      const input = parsedByZod(parameters) ? ((await parsedOrThrow(parameters, args, `tool "${name}": the arguments do not match the schema`)) as JsonObject) : args;
      const messages = this.runModels.conversations?.get(info.conversation)?.slice() ?? [];
      const toolCall = { type: 'tool-call' as const, toolCallId: info.toolCallId, toolName: name, input };
      let result = await inToolSpan(this.tracing, info.span, () =>
        observedExecution(this.config, { callId: this.runModels.callId, toolCall, messages }, () =>
          Promise.resolve(
            (impl as ToolImpl)(input, {
              toolCallId: info.toolCallId,
              abortSignal: call.signal,
              trace: this.tracing?.toolTrace(info.span) ?? untracedToolTrace,
              resources: resourcesFor(this.engine, call),
            }),
          ),
        ),
      );
      if (isAgentLike(result)) {
        const parent = this.conversations.get(info.conversation);
        if (!parent) throw new Error(`tool "${name}": its conversation has ended`);
        // Isolated: the tool agent starts with no messages (the parent's last turn is an unanswered tool call).
        result = await this.runBranch(parent, name, result, true, true);
      }
      if (result instanceof AssistantMessage) return toJson(result.value);
      if (result instanceof ConversationMessage) return result.text;
      return result ?? null;
    }, { traits: { tool: name, idempotent: idempotent === true } });
    await this.command(conv, 'tool.enable', { name, description, parameters, callback, options: toolPolicyWire(options) });
    return new ToolHandle(name);
  }

  private async branch(conv: Conv, target: unknown): Promise<unknown> {
    if (Array.isArray(target)) {
      target.forEach((agent, i) => {
        if (!isAgentLike(agent)) throw new ConfigError(`L.branch: element ${i} is not an agent (a generator, an iterable of directives, or a function returning one), got ${describe(agent)}`);
      });
      return settleAll(target.map((agent, i) => this.runBranch(conv, String(i), agent)));
    }
    if (isAgentLike(target)) return this.runBranch(conv, String(conv.branches++), target);
    if (isRecord(target)) {
      const entries = Object.entries(target);
      for (const [key, agent] of entries)
        if (!isAgentLike(agent)) throw new ConfigError(`L.branch: "${key}" is not an agent (a generator, an iterable of directives, or a function returning one), got ${describe(agent)}`);
      const values = await settleAll(entries.map(([key, agent]) => this.runBranch(conv, key, agent)));
      return Object.fromEntries(entries.map(([key], i) => [key, values[i]]));
    }
    throw new ConfigError(`L.branch: expected an agent, an array of agents or a record of agents, got ${describe(target)}`);
  }

  /**
   * L.branch(agents, options): the engine aggregates (conversation.group): each branch is a member of
   * the group, its end is its outcome, and the group's answer says which branch won. Branches the
   * engine cancels fail at their next directive; this returns once every branch has stopped.
   */
  private async branchGroup(conv: Conv, target: unknown, options: unknown): Promise<unknown> {
    const where = 'L.branch(agents, options)';
    const isArray = Array.isArray(target);
    if (!isArray && (isAgentLike(target) || !isRecord(target)))
      throw new ConfigError(`${where}: options apply to an array or a record of agents, got ${describe(target)}`);
    const entries: Array<[string, unknown]> = isArray ? (target as unknown[]).map((agent, i) => [String(i), agent]) : Object.entries(target);
    if (entries.length === 0) throw new ConfigError(`${where}: there are no agents to run`);
    for (const [key, agent] of entries)
      if (!isAgentLike(agent)) throw new ConfigError(`${where}: ${isArray ? `element ${key}` : `"${key}"`} is not an agent (a generator, an iterable of directives, or a function returning one), got ${describe(agent)}`);
    const o = c.checkOptions<BranchOptions>(where, options as BranchOptions, branchOptionShape);
    checkJudge(where, o.judge);
    const aggregation = o.aggregation ?? 'all';
    if (o.minSuccess !== undefined && aggregation === 'first') throw new ConfigError(`${where}: 'minSuccess' does not apply to aggregation 'first' (it takes the first success)`);
    if (o.minSuccess !== undefined && o.minSuccess > entries.length) throw new ConfigError(`${where}: 'minSuccess' is ${o.minSuccess} but there are only ${entries.length} branches`);
    if ((o.compare ?? o.judge) && aggregation !== 'majority' && aggregation !== 'consensus')
      throw new ConfigError(`${where}: 'compare' and 'judge' apply to aggregation 'majority' and 'consensus', not to '${aggregation}'`);
    const keys = entries.map(([key]) => key);
    const wire: Record<string, unknown> = { branches: keys, aggregation };
    if (o.minSuccess !== undefined) wire.minSuccess = o.minSuccess;
    if (o.timeout !== undefined) wire.timeout = o.timeout;
    Object.assign(wire, wireJudging(o, { callback: (label, fn) => this.register(label, fn), model: (m) => addModel(this.runModels, toModel(m)) }, 'L.branch'));
    const { group } = (await this.command(conv, 'group', wire)) as { group: number };
    const decided = this.command(conv, 'group.wait', { group }) as Promise<{ value: unknown; winner?: string }>;
    decided.catch(() => {}); // awaited below, once every branch has stopped
    const values = new Map<string, unknown>();
    // A member whose agent function fails (or returns no agent) is that member's failure: the group
    // still hears from every member, and no branch is left running when this returns.
    const runs = entries.map(([key, agent], member) =>
      this.inBranch(conv, key, false, (child) => this.drive(toAgentIterator(agent, 'L.branch'), child), { group, member }).then((value) => void values.set(key, value)),
    );
    await Promise.allSettled(runs);
    const { value, winner } = await decided;
    // The branches' own values (the engine compared their JSON copies).
    if (aggregation === 'first') return { key: isArray ? Number(winner) : winner, value: values.get(winner!) };
    if (aggregation !== 'all') return winner !== undefined && values.has(winner) ? values.get(winner) : value;
    const succeeded = value as Record<string, unknown>;
    if (isArray) return keys.map((key) => (key in succeeded ? values.get(key) : undefined));
    return Object.fromEntries(keys.filter((key) => key in succeeded).map((key) => [key, values.get(key)]));
  }

  /** Runs one agent on a new branch of `parent` (with no messages when `fresh`) and ends the branch with its outcome. */
  private async runBranch(parent: Conv, name: string, agent: unknown, fresh = false, inTool = false): Promise<unknown> {
    const iterator = toAgentIterator(agent, 'L.branch');
    return this.inBranch(parent, name, fresh, (child) => this.drive(iterator, child), undefined, inTool);
  }

  /** Opens a branch of `parent` (as member `member` of a branch group), runs `body` on it and ends the branch with its outcome. */
  private async inBranch(
    parent: Conv,
    name: string,
    fresh: boolean,
    body: (child: Conv) => Promise<unknown>,
    member?: { group: number; member: number },
    inTool = false,
  ): Promise<unknown> {
    const { conversation, path } = (await this.command(parent, 'branch', { name, fresh, ...member }, inTool || parent.inTool)) as { conversation: number; path: string[] };
    const child: Conv = { id: conversation, path, branches: 0, ...(inTool || parent.inTool ? { inTool: true } : {}) };
    this.conversations.set(conversation, child);
    try {
      const value = await body(child);
      await this.command(child, 'end', { ok: true, value: toJson(value) });
      return value;
    } catch (error) {
      await this.command(child, 'end', { ok: false, error: { message: errorToWire(error).message } }).catch(() => {});
      throw error;
    } finally {
      this.conversations.delete(conversation);
      this.runModels.conversations?.delete(conversation); // the host's copy of its messages (run/host.ts)
    }
  }

  /**
   * L.memory(name).op(...args) and L.graphMemory(name).op(...args): the run's own `ctx.memory(name)`
   * / `ctx.graphMemory(name)` handle does the work (its checks, the engine `memory` run in this
   * run's tree), so a directive and a tool calling the handle behave the same.
   */
  private memory(conv: Conv, name: string, graph: boolean, op: MemoryOperation, args: unknown[]): Promise<unknown> {
    const where = graph ? 'L.graphMemory' : 'L.memory';
    const stored = definitionsOf(this.definitions).get(memoryKind, name);
    if (!stored) {
      throw new ConfigError(`${where}: ${c.unknownName('memory', name, definitionsOf(this.definitions).names(memoryKind), 'memories defined with ctx.defMemory in run(agent, {define})')}`);
    }
    if ((stored.type === 'graph') !== graph)
      throw new ConfigError(`${where}: memory ${JSON.stringify(name)} is a ${stored.type} memory; use ${graph ? 'L.memory' : 'L.graphMemory'}(${JSON.stringify(name)})`);
    const handle = this.definitions.memoryAt(name, graph, conv.path);
    // `op` is one of the handle's methods: the directive classes put only those there.
    return (handle as unknown as Record<MemoryOperation, (...a: unknown[]) => Promise<unknown>>)[op](...args);
  }

  private async readMessages(conv: Conv, filter: unknown): Promise<ConversationMessage[]> {
    const fields: Record<string, unknown> = {};
    const range = filter instanceof MarkRange ? filter : isRecord(filter) ? filter.range : undefined;
    const tag = filter instanceof Tag ? filter : isRecord(filter) ? filter.tag : undefined;
    if (filter !== undefined && !(filter instanceof Tag) && !(filter instanceof MarkRange) && !isRecord(filter))
      throw new ConfigError(`L.messages(filter): expected a tag, a mark range (a.to(b)) or {tag?, range?}, got ${describe(filter)}`);
    // A misspelt {tagg} would return every message.
    if (isRecord(filter)) c.checkOptions('L.messages(filter)', filter, { tag: c.anything, range: c.anything }, 'filter field');
    if (tag !== undefined) {
      if (!(tag instanceof Tag)) throw new ConfigError(`L.messages: filter.tag must be a tag from L.tag(...), got ${describe(tag)}`);
      fields.tag = tag.id;
    }
    if (range !== undefined) {
      if (!(range instanceof MarkRange)) throw new ConfigError(`L.messages: filter.range must be a range from mark.to(other), got ${describe(range)}`);
      fields.from = range.from;
      fields.to = range.to;
    }
    const { messages } = (await this.command(conv, 'messages', fields)) as { messages: Array<ConstructorParameters<typeof ConversationMessage>[0]> };
    return messages.map((m) => new ConversationMessage(m));
  }

  // ------------------------------------------------------------------------------ plumbing

  /** Sends `conversation.<verb>`; what the agent's own code sends (not a tool's) a durable run's replay sends again. */
  private command(conv: Conv, verb: string, fields: Record<string, unknown> = {}, inTool = conv.inTool === true): Promise<unknown> {
    return this.engine.request(`conversation.${verb}`, { ...fields, run: this.runId, conversation: conv.id }, { replayed: !inTool });
  }

  private abortError(): AbortError {
    const reason: unknown = this.config.signal?.reason;
    if (reason instanceof AbortError) return reason;
    return new AbortError(reason instanceof Error ? reason.message : 'the run was aborted', { cause: reason });
  }
}

const branchOptionShape: c.Shape = {
  aggregation: c.oneOf('all', 'first', 'majority', 'consensus'),
  minSuccess: c.integer(1, 1000000),
  timeout: c.ms(),
  compare: c.func,
  judge: c.either(c.func, c.object),
};

/** Like Promise.all, but waits for every promise and then throws the first failure by index. */
async function settleAll(promises: Promise<unknown>[]): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(promises);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value);
}

/**
 * A JSON copy of what the agent sends (messages become their JSON shape). A value JSON cannot hold
 * (a BigInt, a cycle) is a ConfigError naming where, as for `ctx.emit`: sent as its String() form it
 * would reach the model or the events as "[object Object]".
 */
function jsonCopy(value: unknown, what: string): unknown {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${what} must be JSON: ${unserializable(value) || (err instanceof Error ? err.message : String(err))}`);
  }
}

/** A JSON copy of a branch's or tool's value for the engine's record (non-JSON becomes a string; the agent keeps the value). */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : JSON.parse(text);
  } catch {
    // A value JSON rejects (a BigInt, a cycle): its String() form, even when that is `[object Object]`.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- any value may reach here; String() is the documented fallback
    return String(value);
  }
}
