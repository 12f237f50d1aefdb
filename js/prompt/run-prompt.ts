/**
 * `runPrompt(fn, config)`: collects the prompt in JS, then hands the step loop to the engine
 * (docs/prompt-runs.md). This module is the host half of a prompt run: it marshals the definitions
 * into the run spec, registers the user's tools, agents and hooks as engine callbacks, and turns the
 * run's events into the streaming `result`. Sub-agents are child runs of the same tree.
 */
import * as c from '../config/check.js';
import { definitionsOf, bindConfiguring, bindRun, bindPreRun, stateView, takePendingEmits } from '../definitions/context.js';
import type { MemoryMarshal } from '../definitions/memory.js';
import { EventDispatch, observeSpec, settleObservers } from '../observe/lifecycle.js';
import { lifecycleLogs } from '../observe/logger.js';
import { otelMetrics } from '../observe/otel-metrics.js';
import { trackProgress } from '../observe/progress.js';
import { inToolSpan, openTracing, spanEventMasker, tracingKind, untracedToolTrace, type SpanBuilder } from '../observe/tracing.js';
import { metricsFromEngine, type MetricsSnapshot } from '../observe/metrics.js';
import { circuitBreakerKind, fallbackKind, retryKind } from '../definitions/resilience.js';
import type { DefinitionSet } from '../definitions/set.js';
import { approvalKind, guardKind, validatorKind } from '../definitions/human.js';
import { cacheKind } from '../definitions/cache.js';
import { stateKind } from '../definitions/state.js';
import { RunStates, TreeStates } from '../state/run-states.js';
import { checkStorageName, useRunStorage } from '../storage/host.js';
import { checkReferences, toolPolicyWire, type ReferenceKinds } from '../definitions/tool-options.js';
import { defaultEngine } from '../default-engine.js';
import type { CallbackContext, CallbackTraits, Engine } from '../engine.js';
import { AbortError, ConfigError, ValidationError } from '../errors.js';
import { isLanguageModel } from '../mock-model.js';
import { resolveModel } from '../providers/registry.js';
import type { FinishReason, GenerationParams, LanguageModel, Message, ToolSpec, Usage } from '../providers/types.js';
import { toJsonSchema } from '../schema.js';
import { answerCheck, parsedByZod, parsedOrThrow } from '../zod-parse.js';
import type { DeepPartial, Infer, InferInput, InputArgsOf, JsonObject } from '../schema-types.js';
import { isOutputSpec, type OutputPlan, type OutputSpec } from './output.js';
import { RunEvents, type RunEvent } from '../run/events.js';
import { EngineHost, addModel, applySync, type RunModels } from '../run/host.js';
import { useApprovalResponses, verifyApprovalResponses } from './approval-signature.js';
import { checkMessages, fromAiSdkMessages, toolChoice } from '../run/message-checks.js';
import { streamPartHooks } from '../run/stream-hooks.js';
import type { ApprovalDesk, HumanHandlers, InteractionDesk } from '../run/human-host.js';
import { abortSignal, callSettings, generationShape, runPolicyShape, runPolicySpec, type RunPolicyConfig } from '../run/run-config.js';
import { stepChangesWire } from '../run/step-changes.js';
import { PROMPT_RENAMES, underOlderNames } from '../run/renamed-options.js';
import { repairCallback, type RepairToolCall } from '../run/repair-tool-call.js';
import { observedExecution } from '../run/call-watchers.js';
import { SetupDeadline } from './setup-deadline.js';
import { ownTimeouts, timeoutCheck, type RunTimeouts, type TimeoutConfiguration } from '../run/timeouts.js';
import { resourcesFor } from '../definitions/resource.js';
import { PromptContext, bindEngine, collectedOf, type AgentOptions, type Hook, type HookInput, type HookResult, type PromptTool, type PromptPluginObject, type SubAgent, type ToolContext, type ToolDefinition, type ToolOptions } from './context.js';
import { interceptedModel, interceptToolCall, toolArgsCheck, type PluginApi } from './plugins.js';
import { durableInfo, openDurable, resumedRunError, type DurableOptions, type DurableRun, type DurableStart } from '../durable/durable.js';
import { checkStorage, type Journal } from '../durable/journal.js';
import type { StorageAdapter } from '../storage/types.js';
import { liveEventsOnly } from '../durable/replayed.js';
import { stepStartHandlers } from '../run/step-callbacks.js';
import { chunkReporter, type ChunkCallback } from './on-chunk.js';
import type { StreamTransform, StreamTransformConfig } from './stream-transforms.js';
import { attachSteering, type Steering, type SteeringRun } from './steering.js';
import { refineCallback, type RefineToolInput } from '../run/refine-tool-input.js';
import { newCallId } from '../run/call-id.js';
import { defineTelemetry, telemetryCheck, type TelemetryOption } from '../observe/telemetry-option.js';
import type { ToolApprovalConfiguration } from './tool-approval.js';
import { RunContexts, runContextShape, type PrepareStep, type RunContextOptions } from './run-contexts.js';
import { callFinishCallback, stepFinishCallback, type PromptCallbacks, type PromptFinish } from './finish-callbacks.js';
import { RunResult, type ResponseInfo, type StepResponse, type StepResult, type ToolCall, type TypedToolCall } from './result.js';
import { anyConditionMet, type StopCondition } from './stop-conditions.js';
import { defineConfigTools } from './config-tools.js';
import { asPromptRun } from './prompt-run.js';

/** Generation settings and loop limits of a prompt run. */
export interface PromptOptions extends GenerationParams {
  toolChoice?: 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string };
  /** Steps at most (default 20). */
  maxSteps?: number;
  /** How many of a step's tool calls run at once, started in the model's order (the AI SDK's; default: all). `1` runs them one by one. */
  toolCallConcurrency?: number;
  /** Retries of a model call on rate limits and retryable provider errors (default 2). */
  maxRetries?: number;
  /** Retries of a model call that failed after it had streamed text ({@link RunPolicyConfig.streamRetries}). */
  streamRetries?: number;
  /** Cancels the run: in-flight model calls and tools are aborted. */
  abortSignal?: AbortSignal;
  /**
   * Called after every step that made tool calls, with the step and every step so far (`steps`);
   * true ends the run. A list ends it when any of its conditions is met. `isStepCount(n)` and
   * `hasToolCall(name)` are the AI SDK's conditions.
   */
  stopWhen?: StopCondition | StopCondition[];
  /**
   * Time limit of the whole run, ms: it then fails with `TimeoutError`. Or the AI SDK 7's object,
   * `{totalMs, stepMs, toolMs, firstChunkMs, chunkMs, tools: {weatherMs}}` (docs/resilience.md, "Timeouts").
   */
  timeout?: number | TimeoutConfiguration;
  /** Time limit of each model call attempt, ms (a timed-out attempt is retried like a failed one). */
  modelTimeout?: number;
  /** Time limit of each tool call attempt without its own `timeout`, ms. */
  toolTimeout?: number;
}

/** A plugin: its install, called with `(ctx, api)` before the prompt function, or a plugin object (`defPlugin`). */
export type PromptPlugin = ((ctx: PromptContext, api: PluginApi) => void | Promise<void>) | PromptPluginObject;

/** Checks the run's final answer with a validator defined by `ctx.defValidator`. */
export interface ResponseValidation {
  validator: string;
  retryOnFailure?: boolean;
  maxRetries?: number;
}

/**
 * Configuration of {@link runPrompt}. The options of {@link PromptOptions} (temperature, maxSteps ...)
 * may also be given at the top level, as in the AI SDK.
 */
export interface PromptConfig<SCHEMA = unknown, TOOLS = Record<string, unknown>, OUTPUT extends OutputSpec | undefined = OutputSpec | undefined> extends RunPolicyConfig, PromptOptions, PromptCallbacks<ObjectOf<SCHEMA, OUTPUT>>, RunContextOptions, ChunkCallback, StreamTransformConfig, TelemetryOption {
  /** `'provider:model'`, a model object (e.g. `createOpenAI()('gpt-4o')`) or `mockModel([...])`. */
  model: string | LanguageModel;
  /**
   * Tools as the AI SDK takes them, by name: `{ weather: { description, inputSchema, execute } }`,
   * each `execute` typed by its schema. They are the run's `defTool`s, defined before the prompt
   * function's.
   */
  tools?: { [K in keyof TOOLS]: PromptTool<TOOLS[K]> };
  /**
   * The AI SDK 7's `toolApproval`, for the calls of `tools`: a function of any call
   * (`({toolCall}) => status`) or `{toolName: status | (input, {toolCallId}) => status}`, where a
   * status is `'approved'` (runs), `'denied'` (does not run; the model reads the `reason`),
   * `'user-approval'` (waits for `onApproval`, or a deferral to the chat client) or
   * `'not-applicable'` / nothing (the tool's own `needsApproval` decides). It takes precedence over
   * `needsApproval`.
   */
  toolApproval?: ToolApprovalConfiguration<TOOLS>;
  /**
   * Structured output (zod or JSON Schema): the model is asked for JSON of this schema
   * (`responseFormat`), and its final answer is parsed and validated into `result.object`, typed by
   * the schema. A refused answer goes back to the model with the validator's message, twice at most
   * (`responseSchemaRetries`).
   */
  responseSchema?: SCHEMA;
  /** How many times a refused answer goes back to the model before the run fails (default 2); needs `responseSchema` or `output`. */
  responseSchemaRetries?: number;
  /**
   * What the answer is, as the AI SDK's `output` takes it: `Output.object({ schema })`,
   * `Output.array({ element })`, `Output.choice({ options })`, `Output.json()` or `Output.text()`.
   * `result.output` (and `result.object`) is the validated answer, `result.partialOutputStream`
   * shows it while it streams. Instead of `responseSchema`, not with it.
   */
  output?: OUTPUT;
  /** @deprecated The AI SDK 5's name of {@link PromptConfig.output} (give one of the two). */
  experimental_output?: OUTPUT;
  /**
   * The AI SDK 7's: `false` refuses system messages in `messages` (give them as `instructions`);
   * lmthing takes them unless told not to (the AI SDK 7 refuses them by default).
   */
  allowSystemInMessages?: boolean;
  /**
   * The AI SDK 7's choice of the request and response bodies step results retain. lmthing's retain
   * none, so only `false` is accepted (the model call callbacks see each request and answer).
   */
  include?: { requestBody?: false; requestMessages?: false; responseBody?: false };
  /**
   * The AI SDK 7's: user messages sent to the run while it works, from a `createSteering()` object
   * (`steering.steer(text)`, `steering.queue(text)`); one object per run, not for a durable run.
   */
  experimental_steering?: Steering;
  /**
   * The AI SDK 7's: by tool name, a function given a valid call's arguments (as JSON) that returns
   * the arguments to run it with. The engine checks them against the tool's schema again (invalid
   * ones are the call's error, which the model reads); the conversation, the `tool-call` part and
   * the tool get the refined ones. Any of the run's tools (`tools` or `defTool`).
   */
  experimental_refineToolInput?: NoInfer<{ [K in keyof TOOLS]?: (input: InputArgsOf<TOOLS[K]>) => InputArgsOf<TOOLS[K]> | PromiseLike<InputArgsOf<TOOLS[K]>> }>;
  /**
   * The tools (and agents) the model is offered, by name, at every step of the run; the others stay
   * defined but are not offered. A `defHook` or `prepareStep` may change the list for one step.
   */
  activeTools?: string[];
  /**
   * The AI SDK 7's `toolOrder`: the order the offered tools are sent in at every step of the run
   * (not its sub-agents'). The listed ones go first, in this order; the others after them, sorted
   * by name. A stable order keeps a provider's prompt cache warm. Default: as defined.
   */
  toolOrder?: string[];
  /**
   * The AI SDK's `prepareStep`: called before every step of the run (not its sub-agents'), after
   * the prompt's `defHook`s, with `{stepNumber, messages, steps, lastToolCall}`; what it returns
   * (`model`, `system`, `messages`, `activeTools`, `toolChoice` …) applies to that step only. It
   * also gets the run's contexts (`experimental_context`, `toolsContext`, `runtimeContext`, those
   * set) and may return new ones, which hold for the steps after it.
   */
  prepareStep?: PrepareStep;
  /**
   * The AI SDK's `repairToolCall`, for the run's own steps (not its sub-agents'): called with a tool
   * call the model got wrong (a tool it was not offered, arguments that do not parse or fit the
   * schema); what it returns (`{toolName, input}`) replaces the call, which is checked again, and
   * null leaves it (the model gets the error). docs/prompt-runs.md.
   */
  repairToolCall?: RepairToolCall;
  /** @deprecated The AI SDK 5/6's name of {@link PromptConfig.repairToolCall} (give one of the two). */
  experimental_repairToolCall?: RepairToolCall;
  /**
   * Signs approvals across requests (docs/human-in-the-loop.md): a call whose approval is
   * deferred gets a signature of the call (on the `approval-decision` event and the UI stream's
   * `tool-approval-request`), and a `tool-approval-response` in `messages` must carry the signature
   * of the call it decides, or the run does not start (`ConfigError`). At least 32 characters; keep
   * it on the server (an environment variable), never in code sent to browsers.
   */
  approvalSecret?: string;
  /** The AI SDK 7's name of {@link PromptConfig.approvalSecret} (a string here; give one of the two). */
  experimental_toolApprovalSecret?: string;
  /**
   * How long a deferred call's signature stays valid, in ms (needs `approvalSecret`): a
   * `tool-approval-response` sent back later is refused (`ConfigError`: ask the user again), and so
   * is one signed without an expiry. Without it, signatures do not expire.
   */
  approvalTtlMs?: number;
  /**
   * Makes signed decisions single-use (needs `approvalSecret`): each `tool-approval-response` of
   * `messages` is recorded in this storage when the run starts, and a response recorded before is
   * refused (`ConfigError`), so a client cannot send an approved call again to run it again. Use
   * storage every server process shares (`redisStorage`, `fileStorage`). A record is kept until a
   * few minutes after its decision expires (`approvalTtlMs`), or for good when it does not.
   */
  approvalStore?: StorageAdapter;
  options?: PromptOptions;
  /** A system prompt, rendered as the system definition `system` before all others. */
  system?: string;
  /** The AI SDK 7 name of {@link system} (give one of the two). */
  instructions?: string;
  /** The AI SDK 7 name of `onStepFinish` (give one of the two). */
  onStepEnd?: PromptCallbacks['onStepFinish'];
  /** The AI SDK 7 name of `onFinish` (give one of the two). */
  onEnd?: PromptCallbacks<ObjectOf<SCHEMA, OUTPUT>>['onFinish'];
  plugins?: PromptPlugin[];
  /** Checks the final answer with a validator defined by `ctx.defValidator`. */
  validateResponse?: string | ResponseValidation;
  /**
   * The conversation to continue, before anything the prompt function adds: e.g. the previous
   * run's `(await result.response).messages` followed by the next user message.
   */
  messages?: Message[];
  /** A user message appended after `messages` (the AI SDK's `prompt` shortcut). */
  prompt?: string;
  /**
   * Makes the run durable (docs/durable-runs.md): every effect is journaled to `storage` under
   * `id`, so `resume(id, fn, config)` continues it after a crash or a page reload.
   */
  durable?: DurableOptions;
}

/**
 * What {@link runPrompt} returns: a promise of `{result, prompt}` that can also be read at once,
 * like the AI SDK's `streamText` result (`runPrompt(...).text`, `.textStream`, `.response` ...).
 * Reading a part before the run started simply waits for it.
 */
export type PromptRun<OBJECT = never, PARTIAL = DeepPartial<OBJECT>, CALL extends ToolCall = ToolCall> = Promise<{ result: RunResult<OBJECT, PARTIAL, CALL>; prompt: PromptRunInfo }> &
  Pick<RunResult<OBJECT, PARTIAL, CALL>, 'text' | 'reasoningText' | 'object' | 'steps' | 'usage' | 'totalUsage' | 'warnings' | 'consumeStream' | 'finishReason' | 'toolCalls' | 'toolResults' | 'response' | 'textStream' | 'fullStream' | 'partialObjectStream' | 'output' | 'partialOutputStream' | 'elementStream' | 'toTextStreamResponse' | 'pipeTextStreamToResponse' | 'toUIMessageStreamResponse' | 'pipeUIMessageStreamToResponse' | 'toUIMessageStream'>;

/** The type of `result.object` for a `responseSchema` of type `SCHEMA` (never without one). */
export type ObjectOf<SCHEMA, OUTPUT extends OutputSpec | undefined = undefined> = [OUTPUT] extends [OutputSpec<infer O, unknown>] ? O : [SCHEMA] extends [undefined] ? never : Infer<SCHEMA>;

/**
 * What `partialObjectStream` gives for a `responseSchema` of type `SCHEMA` (the JSON zod parses,
 * every member optional) or an `output`.
 */
export type PartialOf<SCHEMA, OUTPUT extends OutputSpec | undefined = undefined> = [OUTPUT] extends [OutputSpec<unknown, infer P>] ? P : [SCHEMA] extends [undefined] ? never : DeepPartial<InferInput<SCHEMA>>;

/** One step as the prompt saw it: the rendered system prompt and, once finished, its outcome. */
export interface PromptStep extends Partial<StepResult> {
  stepNumber: number;
  system: string | null;
  activeTools: string[];
}

/** The run behind a result: its steps (live) and the tools it offers. */
export interface PromptRunInfo {
  /** Steps in order; each gains its outcome when it finishes. */
  readonly steps: PromptStep[];
  /** The tools (and agents) offered to the model, as sent. */
  getTools(): ToolSpec[];
  /** Resolves when the run ended (either way); never rejects. */
  readonly finished: Promise<void>;
  /** Every event of the run and its sub-agents so far, in order. */
  readonly events: RunEvent[];
  /** Pending approval requests, and answering them by id (for UIs that answer later). */
  readonly approvals: ApprovalDesk;
  /** Pending interaction requests, and answering them by id. */
  readonly interactions: InteractionDesk;
  /**
   * The metrics this run tree recorded (its `defMetric`s and the built-in `lmthing_*` ones): live
   * while it runs, final once it ended (docs/observability.md).
   */
  metrics(): Promise<MetricsSnapshot>;
  /** A durable run's journal so far (undefined when the run is not durable). */
  readonly journal: Journal | undefined;
  /**
   * Ends a durable run now, its journal saved (the result rejects with `RunSuspendedError`);
   * `resume` continues it, in this process or another. Ops in flight are abandoned: on resume they
   * count as interrupted.
   */
  suspend(): Promise<void>;
}

/** @deprecated Events are {@link RunEvent}s now. */
export type PolicyEvent = RunEvent;

const optionsShape: c.Shape = {
  ...generationShape,
  toolChoice,
  maxSteps: c.integer(1, 10_000),
  toolCallConcurrency: c.integer(1, 1_000_000),
  maxRetries: c.integer(0, 100),
  streamRetries: c.integer(0, 100),
  abortSignal,
  stopWhen: c.either(c.func, c.arrayOf(c.func, 'an array of conditions (functions)')),
  timeout: timeoutCheck,
  modelTimeout: c.ms(),
  toolTimeout: c.ms(),
};

const modelShape: c.Check = (v) => (typeof v === 'string' || isLanguageModel(v) ? undefined : 'a model ("provider:model", a model object or mockModel(...))');

const configShape: c.Shape = {
  ...runPolicyShape,
  ...optionsShape,
  model: modelShape,
  options: c.object,
  system: c.string,
  instructions: c.string,
  onStepEnd: c.func,
  onEnd: c.func,
  plugins: c.arrayOf((v) => (typeof v === 'function' || (typeof v === 'object' && v !== null) ? undefined : 'x'), 'an array of plugin functions or plugin objects'),
  validateResponse: c.either(c.nonEmpty, c.object),
  responseSchema: c.anything,
  responseSchemaRetries: c.integer(0, 100),
  output: c.anything,
  experimental_output: c.anything, // moved to the names above (renamed-options.ts)
  messages: c.arrayOf(
    (v) => (c.isPlainObject(v) && ['system', 'user', 'assistant', 'tool'].includes(v.role as string) && (typeof v.content === 'string' || Array.isArray(v.content)) ? undefined : 'x'),
    'an array of messages ({role: system|user|assistant|tool, content: string or parts})',
  ),
  prompt: c.string,
  durable: c.object,
  onStepFinish: c.func,
  onFinish: c.func,
  onError: c.func,
  onAbort: c.func,
  activeTools: c.arrayOf(c.nonEmpty, 'an array of tool names'),
  toolOrder: c.arrayOf(c.nonEmpty, 'an array of tool names'),
  tools: c.anything,
  prepareStep: c.func,
  onChunk: c.func,
  includeRawChunks: c.boolean,
  allowSystemInMessages: c.boolean,
  experimental_steering: c.anything, // checked by attachSteering
  experimental_refineToolInput: c.recordOf(c.func, 'an object of tool names to functions (input) => input'),
  include: (v) => (c.isPlainObject(v) ? undefined : 'an object {requestBody, requestMessages, responseBody}'),
  experimental_telemetry: telemetryCheck,
  telemetry: telemetryCheck, // the AI SDK 7's name of the above (renamed-options.ts)
  experimental_transform: c.either(c.func, c.arrayOf(c.func, 'an array of transforms (functions)')),
  toolApproval: c.either(c.func, c.object),
  ...runContextShape,
  repairToolCall: c.func,
  experimental_repairToolCall: c.func,
  approvalSecret: c.anything, // checked by checkSecret: a message must not show it
  experimental_toolApprovalSecret: c.anything, // the AI SDK 7's name of approvalSecret (renamed-options.ts)
  approvalStore: c.anything, // checked by checkStorage, with approvalSecret
  approvalTtlMs: c.ms(),
};

/** `config.approvalSecret`: long enough to resist guessing; the message says what is wrong without showing it. */
function checkSecret(secret: unknown, name: string): void {
  if (secret === undefined || (typeof secret === 'string' && secret.length >= 32)) return;
  const got = typeof secret === 'string' ? `${secret.length} characters` : secret === null ? 'null' : `a ${typeof secret}`;
  throw new ConfigError(`runPrompt config: '${name}' must be a string of at least 32 characters, got ${got} (not shown)`);
}

/** Checks a runPrompt config at the call; returns the effective options (top level and `options` merged). */
function checkConfig(config: PromptConfig): PromptOptions {
  if (!c.isPlainObject(config)) throw new ConfigError(`runPrompt: expected a config object with a "model", got ${c.describe(config)}`);
  checkMessages('runPrompt config', config.messages);
  checkSecret(config.approvalSecret, 'approvalSecret');
  checkSecret(config.experimental_toolApprovalSecret, 'experimental_toolApprovalSecret');
  c.checkOptions('runPrompt config', config, configShape);
  const signed = config.approvalSecret !== undefined || config.experimental_toolApprovalSecret !== undefined;
  if (config.approvalStore !== undefined) {
    checkStorage(config.approvalStore, 'runPrompt config: approvalStore');
    // Unsigned, a response's approvalId is the client's to choose: nothing could be used up.
    if (!signed) throw new ConfigError("runPrompt config: 'approvalStore' needs 'approvalSecret' (it records the signatures of used decisions)");
  }
  if (config.approvalTtlMs !== undefined && !signed)
    throw new ConfigError("runPrompt config: 'approvalTtlMs' needs 'approvalSecret' (the expiry is part of a deferred call's signature)");
  if (config.model === undefined) throw new ConfigError('runPrompt config: "model" is required ("provider:model", a model object or mockModel(...))');
  const nested = c.checkOptions('runPrompt config.options', config.options ?? {}, optionsShape);
  const options: PromptOptions = { ...nested };
  for (const key of Object.keys(optionsShape) as Array<keyof PromptOptions>) {
    if (config[key] === undefined) continue;
    if (nested[key] !== undefined && nested[key] !== config[key])
      throw new ConfigError(`runPrompt config: '${key}' is given both at the top level and in 'options' with different values`);
    (options as Record<string, unknown>)[key] = config[key];
  }
  if (config.output !== undefined && !isOutputSpec(config.output))
    throw new ConfigError(`runPrompt config: 'output' must be made by Output.object(), Output.array(), Output.choice(), Output.json() or Output.text(), got ${c.describe(config.output)}`);
  if (config.output !== undefined && config.responseSchema !== undefined)
    throw new ConfigError('runPrompt config: give "responseSchema" or "output", not both (Output.object({ schema }) is the responseSchema)');
  const structured = config.responseSchema !== undefined || (config.output !== undefined && config.output.plan.schema !== undefined);
  if (config.responseSchemaRetries !== undefined && !structured)
    throw new ConfigError('runPrompt config: "responseSchemaRetries" needs "responseSchema" or a structured "output" (it counts the answers a response schema refuses)');
  if (typeof config.validateResponse === 'object')
    c.checkOptions('runPrompt config.validateResponse', config.validateResponse, { validator: c.nonEmpty, retryOnFailure: c.boolean, maxRetries: c.integer(0, 100) });
  return options;
}

/**
 * Runs `fn(ctx)` to collect the prompt, starts the run, and returns its streaming result.
 * `runPrompt({model, prompt})` (or `{model, messages}`) runs a prompt without a function, as the AI
 * SDK's `generateText`/`streamText` do. The returned {@link PromptRun} is awaited for
 * `{result, prompt}`, or read directly: `await runPrompt({model, prompt: 'Hi'}).text`.
 */
export function runPrompt<SCHEMA = undefined, TOOLS = Record<string, unknown>, OUTPUT extends OutputSpec | undefined = undefined>(config: PromptConfig<SCHEMA, TOOLS, OUTPUT> & ({ prompt: string } | { messages: Message[] })): PromptRun<ObjectOf<SCHEMA, OUTPUT>, PartialOf<SCHEMA, OUTPUT>, TypedToolCall<TOOLS>>;
export function runPrompt<SCHEMA = undefined, TOOLS = Record<string, unknown>, OUTPUT extends OutputSpec | undefined = undefined>(fn: (ctx: PromptContext) => unknown, config: PromptConfig<SCHEMA, TOOLS, OUTPUT>): PromptRun<ObjectOf<SCHEMA, OUTPUT>, PartialOf<SCHEMA, OUTPUT>>;
export function runPrompt(fn: ((ctx: PromptContext) => unknown) | PromptConfig, config?: PromptConfig): PromptRun<unknown> {
  if (typeof fn !== 'function' && config === undefined && c.isPlainObject(fn) && fn.durable !== undefined) return promptRun(startRunPrompt(() => {}, fn, true, { kind: 'new' }));
  const started = typeof fn === 'function' || config !== undefined || !c.isPlainObject(fn)
    ? startRunPrompt(fn as (ctx: PromptContext) => unknown, config as PromptConfig, false, c.isPlainObject(config) && config.durable !== undefined ? { kind: 'new' } : undefined)
    : startRunPrompt(() => {}, fn, true);
  return promptRun(started);
}

/** @internal The {@link PromptRun} of a run being started: the promise, with the result's parts on it (js/prompt/prompt-run.ts). */
export function promptRun(started: Promise<{ result: RunResult<unknown>; prompt: PromptRunInfo }>): PromptRun<unknown> {
  return asPromptRun<PromptRun<unknown>>(started);
}

/** @internal Starts a prompt run; `durable` says how a durable one starts (new, resumed, replayed). */
export async function startRunPrompt(
  fn: (ctx: PromptContext) => unknown,
  config: PromptConfig,
  shortcut = false,
  durableStart?: DurableStart,
  where = 'runPrompt',
): Promise<{ result: RunResult<unknown>; prompt: PromptRunInfo }> {
  if (typeof fn !== 'function') throw new ConfigError(`${where}: expected a prompt function, or a config with a "prompt" or "messages", got ${c.describe(fn)}`);
  const options = checkConfig(config);
  const timeouts = ownTimeouts(`${where} config`, options);
  config = underOlderNames(`${where} config`, config, PROMPT_RENAMES);
  const durable = durableStart ? await openDurable(where, config, durableStart) : undefined;
  if (shortcut && config.prompt === undefined && config.messages === undefined)
    throw new ConfigError('runPrompt(config): without a prompt function the config needs "prompt" (a string) or "messages" (an array of messages)');
  const model = toModel(config.model);
  const ctx = new PromptContext();
  // Known before the prompt function runs: useTemplate renders in it.
  const engine = durable?.engine ?? config.engine ?? (await defaultEngine());
  bindEngine(ctx, engine);
  if (config.system !== undefined) ctx.defSystem('system', config.system);
  checkIncluded(`${where} config`, config.include);
  if (config.messages !== undefined) collectedOf(ctx).messages.push(...messagesAllowed(`${where} config`, config.messages, config.allowSystemInMessages).map((m) => ({ ...m })));
  if (config.prompt !== undefined) ctx.defMessage('user', config.prompt);
  // Until the engine has the run, its abortSignal and timeout bound the user's setup code.
  const setup = new SetupDeadline(where, "the prompt function and the plugins' installs", config.abortSignal, timeouts.timeout);
  try {
    for (const [i, plugin] of (config.plugins ?? []).entries()) {
      // A function is the plugin's install, with (ctx, api) like any other.
      const name = typeof plugin.name === 'string' && plugin.name !== '' ? plugin.name : `plugin${i}`;
      await setup.bound(ctx.defPlugin(name, plugin));
    }
  } catch (err) {
    setup.end();
    await collectedOf(ctx).plugins.uninstallAll(ctx);
    throw err;
  }
  // ctx.memory(...) in the prompt function reaches the run's engine before the run starts.
  bindPreRun(ctx, { engine: () => Promise.resolve(engine), storage: (e) => useRunStorage(e, config.storage), sessionId: config.sessionId, model });
  let contexts: RunContexts;
  let steering: SteeringRun | undefined;
  try {
    defineConfigTools(ctx, config.tools, `${where} config`, config.toolApproval);
    await setup.bound(fn(ctx));
    await setup.bound(Promise.all(collectedOf(ctx).installs));
    defineTelemetry(ctx, config.experimental_telemetry, `${where} config`);
    for (const name of Object.keys(config.experimental_refineToolInput ?? {}))
      if (!collectedOf(ctx).tools.has(name)) throw new ConfigError(`${where} config.experimental_refineToolInput: ${c.unknownName('tool', name, [...collectedOf(ctx).tools.keys()])}`);
    if (config.experimental_steering !== undefined) {
      if (durable) throw new ConfigError(`${where} config: a durable run cannot take experimental_steering (its replay could not be sent the same messages at the same steps)`);
      steering = attachSteering(config.experimental_steering);
      // What was sent before the run started joins its first step.
      collectedOf(ctx).messages.push(...steering.initial());
    }
    contexts = new RunContexts(config, [...collectedOf(ctx).tools.keys()], durable !== undefined);
  } catch (err) {
    // The run never starts: what the plugins installed is released now.
    await collectedOf(ctx).plugins.uninstallAll(ctx);
    throw err;
  } finally {
    setup.end();
    bindPreRun(ctx, undefined);
  }
  timeouts.setupMs = setup.spentMs;
  const validateResponse = typeof config.validateResponse === 'string' ? { validator: config.validateResponse } : config.validateResponse;
  // A resumed or replayed durable run goes on with decisions its first start checked and used up.
  const firstStart = durableStart === undefined || durableStart.kind === 'new';
  if (config.approvalSecret !== undefined)
    await verifyApprovalResponses(collectedOf(ctx).messages, { secret: config.approvalSecret, ttlMs: config.approvalTtlMs, checkExpiry: firstStart });
  if (config.approvalStore !== undefined && firstStart) await useApprovalResponses(collectedOf(ctx).messages, config.approvalStore);
  const handlers: HumanHandlers = { onApproval: config.onApproval, onInteraction: config.onInteraction, approvalSecret: config.approvalSecret, approvalTtlMs: config.approvalTtlMs, answersById: true };
  // A durable run whose approval nobody can answer here is saved, to be answered and resumed later.
  if (durable) handlers.suspend = () => void durableInfo(durable).suspend();
  const tracingDefinition = definitionsOf(ctx).values(tracingKind)[0];
  // Span events are masked before any listener sees them.
  const events = new RunEvents().listen(spanEventMasker(tracingDefinition));
  // defEvent handlers of the whole tree, fed from its one event path; a handler's failure goes back on it.
  const dispatch = new EventDispatch((event) => events.push(event));
  // defTracing: the engine's span events become OTel spans, before anyone else sees them.
  const tracing = await openTracing(tracingDefinition);
  // Exporters, defEvent handlers and loggers saw a durable run's replayed events the first time.
  events.listen(liveEventsOnly(tracing?.listener)).listen(liveEventsOnly(config.meterProvider ? otelMetrics(config.meterProvider) : undefined));
  events.listen(config.onProgress ? trackProgress(() => engine.now(), config.onProgress) : undefined, 'onProgress');
  events.listen(liveEventsOnly((event: RunEvent) => dispatch.dispatch(event))).listen(liveEventsOnly(lifecycleLogs(definitionsOf(ctx))));
  const run = startPromptRun(engine, ctx, model, options, {
    policies: config, handlers, events, dispatch, tracing, validateResponse, onEvent: config.onEvent, onStepFinish: config.onStepFinish, activeTools: config.activeTools, toolOrder: config.toolOrder, onChunk: config.onChunk, transforms: transformList(config.experimental_transform), steering, refineToolInput: config.experimental_refineToolInput as RefineToolInput | undefined, includeRawChunks: config.includeRawChunks, prepareStep: config.prepareStep, contexts, repairToolCall: config.repairToolCall, timeouts, onFinish: config.onFinish, onError: config.onError, onAbort: config.onAbort, durable,
    responseSchema: config.responseSchema, responseSchemaRetries: config.responseSchemaRetries, output: config.output?.plan,
  });
  if (!durable) return { result: run.result, prompt: run.prompt };
  const info = durableInfo(durable);
  const prompt = Object.defineProperties(run.prompt, { journal: { get: info.journal, enumerable: true }, suspend: { value: info.suspend } });
  return { result: run.result, prompt };
}

export function toModel(spec: unknown): LanguageModel {
  if (isLanguageModel(spec)) return spec;
  if (typeof spec === 'string' && spec.length > 0) return resolveModel(spec);
  throw new ConfigError(`expected a model ("provider:model", a model object or mockModel(...)), got ${c.describe(spec)}`);
}

/** Where a run sits: a root run (with the tree's policies and handlers) or a sub-agent of one. */
interface RunPlace {
  policies: RunPolicyConfig;
  handlers: HumanHandlers;
  /** The tree's one event path (a sub-agent's events reach its root's observers, with their path). */
  events: RunEvents;
  /** The tree's defEvent handlers. */
  dispatch: EventDispatch;
  /** The tree's OTel spans, when it is traced. */
  tracing?: SpanBuilder;
  /** A sub-agent: the engine span of the tool call that started it (its run span's parent). */
  parentSpan?: number;
  validateResponse?: ResponseValidation;
  /** A durable root: its journal is stored (and its lease released) before its result settles. */
  durable?: DurableRun;
  onEvent?: RunPolicyConfig['onEvent'];
  onStepFinish?: PromptCallbacks['onStepFinish'];
  activeTools?: string[];
  toolOrder?: string[];
  prepareStep?: PrepareStep;
  onChunk?: ChunkCallback['onChunk'];
  /** The root's `experimental_refineToolInput`. */
  refineToolInput?: RefineToolInput;
  /** The root's `experimental_steering`, attached. */
  steering?: SteeringRun;
  /** The root's `includeRawChunks`: its own model calls' raw stream chunks go to its stream. */
  includeRawChunks?: boolean;
  /** The root's `experimental_transform`s. */
  transforms?: readonly StreamTransform[];
  repairToolCall?: RepairToolCall;
  /** The root's contexts (AI SDK), shared with its sub-agents' tools. */
  contexts?: RunContexts;
  /** The root run's time limits (a sub-agent has none of its own). */
  timeouts?: RunTimeouts;
  onFinish?: PromptCallbacks<unknown>['onFinish'];
  onError?: PromptCallbacks['onError'];
  onAbort?: PromptCallbacks['onAbort'];
  parent?: { runId: number; models: RunModels; path: string[]; ctx: PromptContext; human: { host: string }; states: TreeStates };
  /** A sub-agent's name in its parent's path. */
  name?: string;
  /** A sub-agent: the op of the tool call that started it (cancelling that op cancels the run). */
  parentOp?: number;
  responseSchema?: unknown;
  responseSchemaRetries?: number;
  /** The root run's `output` (Output.*), instead of `responseSchema`. */
  output?: OutputPlan;
}

/** Starts a prompt run on `engine`; used by runPrompt and by sub-agents. */
function startPromptRun(engine: Engine, ctx: PromptContext, model: LanguageModel, options: PromptOptions, place: RunPlace) {
  const collected = collectedOf(ctx);
  const host = EngineHost.of(engine);
  const result = new RunResult<unknown>();
  const chunks = place.onChunk && !place.parent ? chunkReporter(place.onChunk, place.events) : undefined;
  if (chunks) result.watchParts(chunks);
  // A transform's stopStream cancels the run besides the caller's abortSignal.
  const stop = place.transforms && !place.parent ? new AbortController() : undefined;
  if (place.transforms && stop) {
    const tools = Object.fromEntries([...collected.tools.values()].map((tool) => [tool.name, { description: tool.description }]));
    result.transformWith(place.transforms, { tools, stopStream: () => stop.abort(new AbortError('the run was stopped by a stream transform (stopStream)')) });
  }
  if (place.responseSchema !== undefined) result.expectObject();
  if (place.output?.schema) result.expectObject(place.output);
  const steps: PromptStep[] = [];
  // The finished steps as result.steps will hold them, for stopWhen's `steps` and onAbort.
  const finishedSteps: StepResult[] = [];
  const finishedBefore = (stepNumber: number) => {
    const end = finishedSteps.findIndex((s) => s.stepNumber >= stepNumber);
    return end === -1 ? finishedSteps : finishedSteps.slice(0, end);
  };
  const seen: RunEvent[] = [];
  const path = place.parent ? [...place.parent.path, place.name ?? 'agent'] : ['root'];
  const callbacks: string[] = [];
  let runId = -1;
  const models: RunModels = {
    models: new Map(),
    callId: newCallId(),
    ...streamPartHooks({ push: (part) => result.push(part), share: (type, stepNumber, whole) => result.shareStreamed(type, stepNumber, whole) }),
    ...(place.includeRawChunks && !place.parent && { onRaw: (rawValue: unknown, step: unknown) => result.push({ type: 'raw', rawValue, stepNumber: Number(step) }) }),
    conversation: [],
    ...(place.parent ? { parent: place.parent.models } : { callSettings: callSettings(place.policies), modelCallWatchers: place.policies, chunkTimeouts: place.timeouts?.chunks }),
    // A sub-agent's calls count as the root run's (one result).
    onWarnings: place.parent ? place.parent.models.onWarnings : (warnings) => result.addWarnings(warnings),
  };
  let nextCallback = 1;
  // Numbered per engine: a durable run's engine names its callbacks the same way on every replay.
  const prefix = `r${nextRunNumber(engine)}:`;
  // The run's states, mirrored in JS (docs/state-and-caches.md): loaded before user code is called
  // back, and its changes sent before the callback's answer.
  const definitions = definitionsOf(ctx);
  const treeStates = place.parent?.states ?? new TreeStates();
  let runStates: RunStates | undefined;
  const hasStates = definitions.names(stateKind).length > 0;
  const register = (label: string, fn: (...args: never[]) => unknown, options?: { plain?: boolean; traits?: CallbackTraits }): string => {
    const name = `${prefix}${nextCallback++}:${label}`;
    const withStates = async (...args: unknown[]) => {
      await runStates?.ensure();
      try {
        return await (fn as (...a: unknown[]) => unknown)(...args);
      } finally {
        runStates?.flush();
      }
    };
    engine.registerCallback(name, hasStates && !options?.plain ? withStates : fn, options?.traits);
    callbacks.push(name);
    return name;
  };
  // Plugins' model interceptors wrap every model the run registers (one wrapper per model, so its ref stays one).
  const wrappers = new Map<LanguageModel, LanguageModel>();
  const intercepted = (m: LanguageModel): LanguageModel => {
    let wrapped = wrappers.get(m);
    if (!wrapped) wrappers.set(m, (wrapped = interceptedModel(m, collected.plugins.modelInterceptors)));
    return wrapped;
  };
  const marshal: MemoryMarshal = {
    callback: register,
    model: (m) => addModel(models, intercepted(toModel(m))),
    state: () => stateView(ctx),
    engine,
    embeddingModel: (m) => host.addEmbeddingModel(m),
    storage: (name, where) => checkStorageName(engine, name, where),
  };

  // Names that refer to definitions are checked now, so a typo rejects the call that made it.
  for (const def of collected.tools.values()) checkReferences(`tool "${def.name}"`, def.options, definitions, referenceKinds);
  if (!place.parent)
    for (const field of ['activeTools', 'toolOrder'] as const)
      for (const name of place[field] ?? [])
        if (!collected.tools.has(name)) throw new ConfigError(`runPrompt config: ${field}: ${c.unknownName('tool', name, [...collected.tools.keys()], 'defined tools')}`);
  checkReferences(place.parent ? `agent "${place.name}"` : 'runPrompt config', place.policies, definitions, { retry: retryKind, fallback: fallbackKind, circuitBreaker: circuitBreakerKind, cache: cacheKind });
  if (place.validateResponse) checkReferences('runPrompt config.validateResponse', { validator: place.validateResponse.validator }, definitions, { validator: validatorKind });
  const storage = place.parent ? undefined : useRunStorage(engine, place.policies.storage);
  const human = place.parent ? null : host.human.open(place.handlers);
  const removeHandlers = place.dispatch.add(definitions, path);
  // Returns when the plugins are uninstalled: the run's result settles after them (docs/templates-roles-plugins.md).
  const cleanup = (): Promise<void> => {
    if (place.parent) removeHandlers(); // a root's stay until the tree is gone (a late handler failure still reaches onError)
    for (const name of callbacks) engine.unregisterCallback(name);
    detachModels();
    human?.close();
    storage?.release();
    bindRun(ctx, undefined);
    return collected.plugins.uninstallAll(ctx);
  };
  let detachModels = () => {};
  try {
    if (place.timeouts?.tools) applyToolTimeouts(place.timeouts.tools, collected.tools);
    const tools = [...collected.tools.values()].map((def) => {
      // No callback: the engine hands the tool's calls to the run's caller.
      if (def.kind === 'caller') return { name: def.name, description: def.description, parameters: def.parameters };
      // Made once per tool; used only when an interceptor changes a call's arguments.
      const checkArgs = toolArgsCheck(engine, def);
      return {
        name: def.name,
        description: def.description,
        parameters: def.parameters,
        callback: register(def.name, (args: JsonObject, info: { toolCallId: string; span?: number }, call: CallbackContext) =>
          inToolSpan(place.tracing, info.span, () => interceptToolCall(collected.plugins.toolInterceptors, { toolName: def.name, toolCallId: info.toolCallId, args }, (input) => {
            const messages = models.conversation.slice();
            const toolCall = { type: 'tool-call' as const, toolCallId: info.toolCallId, toolName: def.name, input };
            return observedExecution(place.parent ? {} : place.policies, { callId: models.callId, toolCall, messages }, () => executeTool(
              engine,
              def,
              input,
              {
                toolCallId: info.toolCallId,
                // Read from the op only if the tool reads it: the op's AbortController is made on first use.
                get abortSignal() {
                  return call.signal;
                },
                messages,
                ...(place.contexts?.forTool(def.name, !place.parent) ?? { context: undefined, experimental_context: undefined }),
                trace: place.tracing?.toolTrace(info.span) ?? untracedToolTrace,
                resources: resourcesFor(engine, call),
              },
              {
                parentModel: model,
                call,
                span: info.span,
                place: { ...place, parent: { runId, models, path, ctx, human: { host: human?.host ?? place.parent!.human.host }, states: treeStates } },
              },
            ));
          }, checkArgs)),
          { traits: toolTraits(def) },
        ),
        options: toolWire(def, definitionsOf(ctx)),
      };
    });
    // A hook's changes to one step; a model it names is registered like the run's own.
    const hookCallback = (hook: Hook, label: string) => async (input: HookInput) => {
      const changes = stepChangesWire(await hook(input), label);
      if (changes?.model === undefined) return changes;
      let model: LanguageModel;
      try {
        model = toModel(changes.model);
      } catch (err) {
        throw new ConfigError(`${label} returned a bad 'model': ${(err as Error).message}`);
      }
      return { ...changes, model: marshal.model(model) };
    };
    const { fields, options: limits } = runPolicySpec({ ...place.policies, maxRetries: options.maxRetries, streamRetries: options.streamRetries }, place.timeouts ?? {});
    const spec: Record<string, unknown> = {
      kind: 'prompt',
      model: marshal.model(model),
      systems: [...collected.systems].map(([name, value]) => ({ name, value })),
      variables: [...collected.variables].map(([name, value]) => ({ name, ...value })),
      messages: collected.messages,
      tools,
      hooks: collected.hooks.map((hook, i) => register(`hook${i + 1}`, hookCallback(hook, `hook #${i + 1}`))),
      options: { ...engineOptions(options), ...limits, ...(place.activeTools && !place.parent ? { activeTools: place.activeTools } : {}), ...(place.toolOrder && !place.parent ? { toolOrder: place.toolOrder } : {}) },
      host: human?.host ?? place.parent!.human.host,
      path,
      ...fields,
    };
    if (collected.role !== undefined) spec.role = collected.role;
    if (place.parent) spec.parentRun = place.parent.runId;
    if (place.parentOp !== undefined) spec.parentOp = place.parentOp;
    if (place.parent) spec.agent = place.name ?? 'agent';
    if (storage) spec.storage = storage.name;
    if (definitions.size > 0) spec.definitions = definitions.toWire(marshal);
    const observe = { ...observeSpec(definitions, takePendingEmits(ctx)), ...(place.parentSpan !== undefined ? { parentSpan: place.parentSpan } : {}), ...(!place.parent && place.policies.meterProvider ? { metricEvents: true } : {}) };
    if (Object.keys(observe).length > 0) spec.observe = observe;
    // The root run's own (its steps only, as the AI SDK has them); sub-agents inherit `place`.
    if (place.onStepFinish && !place.parent) spec.onStepFinish = register('onStepFinish', stepFinishCallback(place.events, place.onStepFinish, chunks?.reported), { plain: true });
    if (place.prepareStep && !place.parent) {
      const { prepareStep, contexts } = place;
      const hook: Hook = contexts ? async (input) => contexts.take(await prepareStep({ ...input, ...contexts.view() }), 'prepareStep') as HookResult | undefined : prepareStep;
      spec.prepareStep = register('prepareStep', hookCallback(hook, 'prepareStep'));
    }
    if (place.repairToolCall && !place.parent) spec.repairToolCall = register('repairToolCall', repairCallback(place.repairToolCall));
    if (!place.parent) {
      const starts = stepStartHandlers(place.policies, {
        models,
        callId: () => models.callId,
        operationId: 'lmthing.runPrompt',
        contexts: place.contexts && (() => place.contexts!.view()),
        stepsBefore: (stepNumber) => finishedBefore(stepNumber).slice(),
        call: (name, callback) => place.events.call(name, { type: name === 'onStart' ? 'run-start' : 'step-start', path } as Partial<RunEvent> as RunEvent, callback),
      });
      for (const [field, handler] of Object.entries(starts)) spec[field] = register(field, handler, { plain: true });
    }
    if (options.stopWhen) {
      const conditions = [options.stopWhen].flat();
      spec.stopWhen = register('stopWhen', (step: StepResult) => anyConditionMet(conditions, step, finishedBefore(step.stepNumber)));
    }
    const responseSchema = place.output?.schema
      ? place.output.schema
      : place.responseSchema === undefined
        ? undefined
        : toJsonSchema(place.responseSchema, place.parent ? `agent "${place.name}" responseSchema` : 'runPrompt config.responseSchema');
    if (responseSchema !== undefined) spec.responseSchema = responseSchema;
    if (place.output?.name !== undefined) spec.responseSchemaName = place.output.name;
    if (place.output?.description !== undefined) spec.responseSchemaDescription = place.output.description;
    if (parsedByZod(responseSchema)) spec.responseCheck = register('responseCheck', answerCheck(responseSchema!), { plain: true });
    if (place.responseSchemaRetries !== undefined) spec.responseSchemaRetries = place.responseSchemaRetries;
    if (place.validateResponse) spec.responseValidator = place.validateResponse;

    place.events
      .listen((event) => {
        if (!samePath(event.path, path)) return;
        if (event.type === 'step-start') steps.push({ stepNumber: event.stepNumber, system: event.system, activeTools: event.activeTools });
        if (event.type === 'step-finish') {
          const { type: _type, path: _path, ...record } = event;
          const { model: _model, ...step } = record;
          Object.assign(steps[steps.length - 1] ?? {}, step);
          finishedSteps.push(record);
        }
      })
      .listen(place.parent ? undefined : (event) => {
        if (!OBSERVABILITY_ONLY.has(event.type)) result.push(event);
      })
      .listen(place.parent ? undefined : (event) => seen.push(event))
      .listen(place.parent ? undefined : warnOnLoggedFallback)
      .listen(place.parent ? undefined : place.onEvent, 'onEvent');
    if (place.refineToolInput && !place.parent) {
      const refiners = place.refineToolInput;
      spec.refineToolInput = register('refineToolInput', refineCallback(refiners), { plain: true });
      spec.refineTools = Object.keys(refiners);
    }
    if (place.steering && !place.parent) {
      const steering = place.steering;
      spec.steering = register('steering', (step: { stepNumber: number; final: boolean }) => steering.after(step), { plain: true });
      // Delivered once the step that carries them starts; the stream shows them after its step-start, before its output.
      place.events.listen((event) => {
        if (event.type !== 'step-start' || !samePath(event.path, path)) return;
        for (const { id, message } of steering.started(event.stepNumber)) result.push({ type: 'steering-message', id, message, stepNumber: event.stepNumber });
      });
    }

    const reply = engine.startRun(spec, {
      // A root run's and a sub-agent's host code runs again on a durable run's replay.
      replayed: true,
      signal: runSignal(options.abortSignal, stop?.signal),
      onEvent: (event) => place.events.push(event as unknown as RunEvent),
      onStarted: (id) => {
        runId = id;
        detachModels = host.attach(id, models);
        if (hasStates) runStates = new RunStates(engine, id, treeStates);
        bindRun(ctx, { engine, runId: id, states: runStates, model: spec.model as string });
      },
    });
    // A root's result settles once its tree's event handlers and the user's callbacks are done.
    const handled = async (outcome: { ok: true; finish: PromptFinish<unknown> } | { ok: false; error: unknown }) => {
      if (place.parent) return;
      // What the caller sees is in the journal: a process that exits on the result loses nothing.
      await place.durable?.close(outcome.ok ? 'finished' : 'failed', outcome.ok ? undefined : outcome.error);
      if (outcome.ok) callFinishCallback(place.events, 'onFinish', place.onFinish, outcome.finish);
      else if (outcome.error instanceof AbortError && place.onAbort) {
        const aborted = [options.abortSignal, stop?.signal].find((signal) => signal?.aborted);
        callFinishCallback(place.events, 'onAbort', place.onAbort, { steps: finishedSteps.slice(), ...(aborted ? { reason: aborted.reason as unknown } : {}) });
      }
      else callFinishCallback(place.events, 'onError', place.onError, { error: outcome.error });
      await settleObservers(place.dispatch, place.events);
      // Spans of a provider lmthing built are exported in the background (a slow collector must not hold the result).
      place.tracing?.close().catch(() => {});
    };
    // The run's final metrics come as JSON text, parsed only if someone asks (`prompt.metrics()`).
    let finalMetricsJson: string | undefined;
    let over = false;
    const failed = async (failure: unknown): Promise<never> => {
      const err = place.parent ? failure : resumedRunError(place.durable, failure);
      over = true;
      await cleanup();
      place.steering?.end(err instanceof AbortError ? 'aborted' : 'error');
      await handled({ ok: false, error: err });
      result.fail(err);
      throw err;
    };
    const finished = reply.then(
      async (value) => {
        const v = value as PromptReply;
        finalMetricsJson = v.metricsJson;
        // The root's answer as zod's output (a sub-agent's stays the JSON its parent's model reads).
        let object: { value: unknown } | undefined;
        try {
          if ('object' in v && place.parent) object = { value: v.object };
          else if ('object' in v) {
            const parsed = await parsedOrThrow(responseSchema, v.object, 'runPrompt: the answer does not match responseSchema');
            object = { value: place.output ? place.output.extract(parsed) : parsed };
          }
        } catch (err) {
          return failed(err);
        }
        // A durable run whose last record was not stored has not finished for good: a resume would redo that turn.
        const lost = await place.durable?.session.writeFailure();
        if (lost) return failed(lost);
        if (v.conversation) applySync(models.conversation, v.conversation, 'run.start reply');
        over = true;
        await cleanup();
        const last = v.steps[v.steps.length - 1];
        place.steering?.end(last && last.toolResults.length < last.toolCalls.length ? 'waiting-for-tool-results' : 'finished');
        const finish: PromptFinish<unknown> = {
          text: runText(v),
          steps: v.steps,
          usage: v.usage,
          totalUsage: v.usage,
          toolCalls: last?.toolCalls ?? [],
          toolResults: last?.toolResults ?? [],
          finishReason: v.finishReason,
          response: { messages: models.conversation.slice(), ...(last ? { modelId: last.model, ...responseMetadata(last.response) } : {}) },
        };
        if (object) finish.object = object.value;
        await handled({ ok: true, finish });
        result.succeed(finish.steps, finish.usage, finish.finishReason, finish.text, finish.response, object);
        return v;
      },
      (err: unknown) => failed(err),
    );
    finished.catch(() => {});
    const prompt: PromptRunInfo = {
      steps,
      getTools: () => tools.map(({ name, description, parameters }) => ({ name, description, parameters })),
      events: seen,
      finished: finished.then(
        () => undefined,
        () => undefined,
      ),
      approvals: human?.approvals ?? noDesk,
      interactions: human?.interactions ?? noDesk,
      journal: undefined,
      suspend: () => durableInfo(undefined).suspend(),
      metrics: async () => {
        if (!over && runId >= 0) {
          try {
            return metricsFromEngine(await engine.request('metrics.read', { run: runId }));
          } catch {
            // the run ended meanwhile: its final values come with its result
          }
        }
        await finished.catch(() => {});
        return finalMetricsJson === undefined ? { metrics: [] } : metricsFromEngine(JSON.parse(finalMetricsJson));
      },
    };
    return { result, prompt, finished };
  } catch (err) {
    void cleanup(); // a run that failed to start leaves nothing registered (its plugins' uninstalls run on)
    throw err;
  }
}

const runNumbers = new WeakMap<Engine, number>();

function nextRunNumber(engine: Engine): number {
  const n = runNumbers.get(engine) ?? 1;
  runNumbers.set(engine, n + 1);
  return n;
}

/** A prompt run's reply (docs/prompt-runs.md, "Result"). */
interface PromptReply {
  finishReason: FinishReason;
  usage: Usage;
  steps: StepResult[];
  object?: unknown;
  metricsJson?: string;
  /** The messages the host's copy of the conversation lacks at the end (the last step's tool results). */
  conversation?: { base: number; append: Message[] };
}

/** The run's text: its last step's (the reply does not repeat it). */
function runText(reply: PromptReply): string {
  return reply.steps[reply.steps.length - 1]?.text ?? '';
}

/**
 * Events for observers only (docs/observability.md): on `onEvent`, `prompt.events` and defEvent
 * handlers, not in the AI-SDK-shaped `fullStream` (whose `error` part means the run failed).
 */
const OBSERVABILITY_ONLY = new Set<string>(['run-start', 'run-finish', 'model-call', 'error', 'token-threshold', 'span-start', 'span-end', 'metric']);

const referenceKinds: ReferenceKinds = {
  retry: retryKind, fallback: fallbackKind, circuitBreaker: circuitBreakerKind, approval: approvalKind, guards: guardKind, validator: validatorKind, cache: cacheKind,
};

const noDesk = { pending: () => [], respond: () => Promise.reject(new ConfigError('answer requests on the root run')) };

function samePath(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i]);
}

function warnOnLoggedFallback(event: RunEvent): void {
  if (event.type === 'fallback' && event.log) console.warn(`lmthing: fallback "${event.name}" used a default value for ${event.from}: ${event.error}`);
}

function engineOptions(options: PromptOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const key of Object.keys(generationShape) as Array<keyof GenerationParams>) if (options[key] !== undefined) params[key] = options[key];
  const out: Record<string, unknown> = { params };
  if (options.maxSteps !== undefined) out.maxSteps = options.maxSteps;
  if (options.toolChoice !== undefined) out.toolChoice = options.toolChoice;
  if (options.toolCallConcurrency !== undefined) out.toolCallConcurrency = options.toolCallConcurrency;
  return out;
}

/** `timeout.tools` ({weatherMs}): each named tool's own limit; a tool that has one already, or an unknown name, is a `ConfigError`. */
function applyToolTimeouts(limits: Record<string, number>, tools: Map<string, ToolDefinition>): void {
  for (const [name, ms] of Object.entries(limits)) {
    const def = tools.get(name);
    if (!def) throw new ConfigError(`runPrompt config: timeout.tools: ${c.unknownName('tool', name, [...tools.keys()], 'defined tools')}`);
    if (def.kind === 'caller') throw new ConfigError(`runPrompt config: timeout.tools.${name}Ms: the tool "${name}" has no 'execute' (the run's caller executes it), so the run cannot time it`);
    if (def.options.timeout !== undefined && def.options.timeout !== ms)
      throw new ConfigError(`runPrompt config: timeout.tools.${name}Ms: the tool "${name}" has its own timeout (${def.options.timeout} ms); give one of the two`);
    def.options = { ...def.options, timeout: ms };
  }
}

/** A tool entry's options; an agent's cascade goes to its own run instead (see runAgent). */
function toolWire(def: ToolDefinition, definitions: DefinitionSet): Record<string, unknown> {
  return toolPolicyWire(def.options, def.kind === 'agent' && isCascade(def.options.fallback, definitions) ? ['fallback'] : []);
}

/** How a durable run treats the tool's calls on replay and resume (js/durable/session.ts). */
function toolTraits(def: ToolDefinition): CallbackTraits {
  if (def.kind === 'agent') return { tool: def.name, liveOnReplay: true };
  return { tool: def.name, idempotent: def.options.idempotent === true };
}

function isCascade(name: string | undefined, definitions: DefinitionSet): boolean {
  return name !== undefined && definitions.get(fallbackKind, name)?.strategy === 'cascade';
}

/** A step's response metadata as the AI SDK's `result.response` has it (the time as a `Date`). */
function responseMetadata(response: StepResponse | undefined): Pick<ResponseInfo, 'id' | 'timestamp' | 'headers'> {
  if (!response) return {};
  const { id, timestamp, headers } = response;
  return { ...(id === undefined ? {} : { id }), ...(timestamp === undefined ? {} : { timestamp: new Date(timestamp) }), ...(headers === undefined ? {} : { headers }) };
}

// ------------------------------------------------------------------ tools and agents

/** What a tool call needs from its run: the model sub-agents inherit, the op, where the run sits. */
interface CallEnvironment {
  parentModel: LanguageModel;
  call: CallbackContext;
  place: RunPlace;
  /** The engine span of the tool call, when traced. */
  span?: number;
}

async function executeTool(engine: Engine, def: ToolDefinition, args: JsonObject, context: ToolContext, env: CallEnvironment): Promise<unknown> {
  switch (def.kind) {
    case 'tool':
      return withToolOptions(def.options, parsedByZod(def.parameters) ? await parsedArgs(def, args) : args, context, (input) => def.execute(input, context));
    case 'agent':
      return engine.waitOnEngine(env.call.opId, runAgent(engine, def, parsedByZod(def.parameters) ? await parsedArgs(def, args) : args, context.abortSignal, env));
    case 'composite':
      return withToolOptions(def.options, args, context, async (input) => {
        const results = [];
        for (const call of (input as { calls: Array<{ name: string; args: JsonObject }> }).calls) {
          const member = def.members.find((m) => m.name === call.name)!;
          try {
            const memberArgs = parsedByZod(member.parameters) ? await parsedArgs(member, call.args) : call.args;
            const result =
              member.kind === 'tool'
                ? await member.execute(memberArgs, context)
                : await engine.waitOnEngine(env.call.opId, runAgent(engine, member, memberArgs, context.abortSignal, env));
            results.push({ name: call.name, result: result ?? null });
          } catch (err) {
            results.push({ name: call.name, error: err instanceof Error ? err.message : String(err) });
          }
        }
        return { results };
      });
  }
}

/**
 * A tool's arguments as zod's output (for a zod schema: callers check `parsedByZod` first, so other
 * tools' calls take no extra await); a refusal is the tool's error, which the model reads.
 */
function parsedArgs(def: { name: string; parameters: Record<string, unknown> }, args: JsonObject): Promise<JsonObject> {
  return parsedOrThrow(def.parameters, args, `tool "${def.name}": the arguments do not match the schema`) as Promise<JsonObject>;
}

/** lmthing's beforeCall / onSuccess / onError around an execute function. */
async function withToolOptions(
  options: Pick<ToolOptions, 'beforeCall' | 'onSuccess' | 'onError'>,
  args: JsonObject,
  context: ToolContext,
  run: (input: JsonObject) => unknown,
): Promise<unknown> {
  let input = args;
  if (options.beforeCall) {
    // A replacement is used as the arguments as it is (the docs say it must be the same shape).
    const replaced = await options.beforeCall(input, context);
    if (replaced !== undefined) input = replaced as JsonObject;
  }
  try {
    let output = await run(input);
    if (options.onSuccess) {
      const replaced = await options.onSuccess(input, output);
      if (replaced !== undefined) output = replaced;
    }
    return output ?? null;
  } catch (err) {
    if (options.onError) {
      const replaced = await options.onError(input, err);
      if (replaced !== undefined) return replaced;
    }
    throw err;
  }
}

/** Runs a sub-agent as a child prompt run of the same tree; resolves with its object (responseSchema) or its text. */
async function runAgent(
  engine: Engine,
  def: { name: string; configure: SubAgent['configure']; options: AgentOptions },
  args: JsonObject,
  signal: AbortSignal,
  env: CallEnvironment,
): Promise<unknown> {
  const parent = env.place.parent!;
  const child = new PromptContext();
  definitionsOf(child).parent = definitionsOf(parent.ctx);
  collectedOf(child).plugins.inheritFrom(collectedOf(parent.ctx).plugins);
  bindEngine(child, engine);
  if (def.options.system !== undefined) child.defSystem('system', def.options.system);
  bindConfiguring(child, parent.ctx);
  // The call's abort (its run's, or a tool timeout) bounds the agent's configure function too.
  const setup = new SetupDeadline(`agent "${def.name}"`, 'its configure function', signal, undefined);
  try {
    await setup.bound(def.configure(args, child));
    await setup.bound(Promise.all(collectedOf(child).installs));
  } finally {
    setup.end();
    bindConfiguring(child, undefined);
  }
  const model = def.options.model === undefined ? env.parentModel : toModel(def.options.model);
  // An agent's cascade fallback is its own run's model fallback.
  const policies: RunPolicyConfig = isCascade(def.options.fallback, definitionsOf(parent.ctx)) ? { fallback: def.options.fallback } : {};
  const { finished } = startPromptRun(engine, child, model, { abortSignal: signal }, {
    policies,
    handlers: env.place.handlers,
    events: env.place.events,
    dispatch: env.place.dispatch,
    tracing: env.place.tracing,
    contexts: env.place.contexts,
    parentSpan: env.span,
    parent,
    name: def.name,
    parentOp: env.call.opId,
    responseSchema: def.options.responseSchema,
    responseSchemaRetries: def.options.responseSchemaRetries,
  });
  try {
    const value = await finished;
    return def.options.responseSchema === undefined ? runText(value) : value.object;
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(`agent "${def.name}": ${err.message}`, err.errors);
    throw err;
  }
}

export type { ToolCall };

/** `experimental_transform` as a list (none when absent or empty). */
function transformList(transform: StreamTransformConfig['experimental_transform']): readonly StreamTransform[] | undefined {
  const list = transform === undefined ? [] : typeof transform === 'function' ? [transform] : transform;
  return list.length ? list : undefined;
}

/** The caller's signal, and the run's own stop when it has one. */
function runSignal(caller: AbortSignal | undefined, own: AbortSignal | undefined): AbortSignal | undefined {
  if (!own) return caller;
  return caller ? AbortSignal.any([caller, own]) : own;
}

/** The config's `messages`, refusing a system message when `allowSystemInMessages` is false. */
function messagesAllowed(where: string, messages: Message[], allowSystem: boolean | undefined): Message[] {
  const at = allowSystem === false ? messages.findIndex((m) => m.role === 'system') : -1;
  if (at !== -1) c.fail(where, `messages[${at}] is a system message, and allowSystemInMessages is false: give it as 'instructions' (or 'system'), or drop allowSystemInMessages`);
  return fromAiSdkMessages(messages);
}

/**
 * The AI SDK 7's `include`: which request and response bodies step results retain. lmthing's
 * retain none, so `false` is what it does anyway and `true` is refused.
 */
function checkIncluded(where: string, include: PromptConfig['include']): void {
  c.checkOptions(`${where}.include`, include, {
    requestBody: c.boolean,
    requestMessages: c.boolean,
    responseBody: c.boolean,
  });
  for (const [key, value] of Object.entries((include ?? {}) as Record<string, unknown>))
    if (value === true) c.fail(`${where}.include`, `'${key}: true' is not supported: lmthing's steps keep no request or response bodies (onLanguageModelCallStart / onLanguageModelCallEnd see each request and answer)`);
}
