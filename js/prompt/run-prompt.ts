/**
 * `runPrompt(fn, config)`: collects the prompt in JS, then hands the step loop to the engine
 * (docs/prompt-runs.md). This module is the host half of a prompt run: it registers the user's
 * tools, agents and hooks as engine callbacks, performs `model.generate` ops with the run's model,
 * and turns engine events into the streaming `result`.
 */
import { defaultEngine } from '../default-engine.js';
import type { CallbackContext, Engine, EngineEvent, OpRequest } from '../engine.js';
import { ValidationError } from '../errors.js';
import { isLanguageModel } from '../mock-model.js';
import { resolveModel } from '../providers/registry.js';
import type { FinishReason, GenerationParams, LanguageModel, Message, ModelRequest, ToolSpec, Usage } from '../providers/types.js';
import { toJsonSchema } from '../schema.js';
import { attachHuman, toolSpecFields, type HumanDefinitions, type ApprovalDesk, type ApprovalHandler, type InteractionHandler, type ResponseValidation } from './human.js';
import { PromptContext, type AgentOptions, type CallPolicyOptions, type CollectedPrompt, type HookInput, type SubAgent, type ToolContext, type ToolDefinition } from './context.js';
import type { PolicyDefinitions } from './resilience.js';
import { RunResult, type StepResult, type ToolCall } from './result.js';

/** Generation settings and loop limits of a prompt run. */
export interface PromptOptions extends GenerationParams {
  toolChoice?: 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string };
  /** Steps at most (default 20). */
  maxSteps?: number;
  /** Retries of a model call on rate limits and retryable provider errors (default 2). */
  maxRetries?: number;
  /** Cancels the run: in-flight model calls and tools are aborted. */
  abortSignal?: AbortSignal;
  /** Called after every step; returning true ends the run. */
  stopWhen?: (step: StepResult) => boolean | Promise<boolean>;
  /** Time limit of the whole run, ms: it then fails with `TimeoutError`. */
  timeout?: number;
  /** Time limit of each model call, ms (a timed-out call is retried like a failed one). */
  modelTimeout?: number;
  /** Time limit of each tool call without its own `timeout`, ms. */
  toolTimeout?: number;
}

/**
 * What the engine's policies report while a run goes (docs/resilience.md): `retry`, `fallback`,
 * `circuit-state`, `rate-limited`, `constraint-warning`, `constraint-exceeded`, `budget-stop`.
 */
export interface PolicyEvent {
  type: string;
  [field: string]: unknown;
}

/** A plugin: a function called with `ctx` before the prompt function, to add definitions. */
export type PromptPlugin = (ctx: PromptContext) => void | Promise<void>;

/** Configuration of {@link runPrompt}. */
export interface PromptConfig {
  /** `'provider:model'`, a model object (e.g. `createOpenAI()('gpt-4o')`) or `mockModel([...])`. */
  model: string | LanguageModel;
  options?: PromptOptions;
  /** A system prompt, rendered as the system definition `system` before any other. */
  system?: string;
  plugins?: PromptPlugin[];
  /** The engine to run on (the shared one by default). */
  engine?: Engine;
  /** A `defRetry` policy for the run's model calls (instead of `options.maxRetries`). */
  retry?: string;
  /** A `defFallback` cascade: when the model fails for good, the next one replaces it. */
  fallback?: string;
  /** A `defCircuitBreaker` guarding the run's own model. */
  circuitBreaker?: string;
  /** Receives policy events as they happen (also collected in `prompt.events`). */
  onEvent?: (event: PolicyEvent) => void;
  /** Decides approval requests (default: a terminal prompt in Node with a TTY, else the default action). */
  onApproval?: ApprovalHandler;
  /** Answers `ctx.interact` requests. */
  onInteraction?: InteractionHandler;
  /** Checks the final answer with a validator defined by `ctx.defValidator`. */
  validateResponse?: string | ResponseValidation;
}

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
  /** Policy events of the run and its sub-agents so far (see {@link PolicyEvent}). */
  readonly events: PolicyEvent[];
  /** Pending approval requests, and answering them by id (for UIs that answer later). */
  readonly approvals: ApprovalDesk;
}

/** Runs `fn(ctx)` to collect the prompt, starts the run, and returns its streaming result. */
export async function runPrompt(
  fn: (ctx: PromptContext) => unknown,
  config: PromptConfig,
): Promise<{ result: RunResult; prompt: PromptRunInfo }> {
  if (typeof fn !== 'function') throw new TypeError(`runPrompt: expected a prompt function, got ${typeof fn}`);
  if (!config || typeof config !== 'object') throw new TypeError('runPrompt: expected a config object with a "model"');
  const model = toModel(config.model);
  const ctx = new PromptContext();
  if (config.system !== undefined) ctx.defSystem('system', config.system);
  for (const plugin of config.plugins ?? []) {
    if (typeof plugin !== 'function') throw new TypeError(`runPrompt: a plugin must be a function of ctx, got ${typeof plugin}`);
    await plugin(ctx);
  }
  await fn(ctx);
  ctx.collected.human.handlers = { onApproval: config.onApproval, onInteraction: config.onInteraction };
  if (config.validateResponse !== undefined)
    ctx.collected.human.responseValidation = typeof config.validateResponse === 'string' ? { validator: config.validateResponse } : config.validateResponse;
  const engine = config.engine ?? (await defaultEngine());
  const { result, prompt } = startPromptRun(engine, ctx, model, config.options ?? {}, {
    retry: config.retry,
    fallback: config.fallback,
    circuitBreaker: config.circuitBreaker,
    onEvent: config.onEvent,
  });
  return { result, prompt };
}

/** How a run uses the tree's policies; a sub-agent names its parent run instead of defining them. */
interface RunPolicyOptions {
  retry?: string;
  fallback?: string;
  circuitBreaker?: string;
  parentRun?: number;
  /** A sub-agent's view of the tree's definitions (its parent's). */
  treePolicies?: PolicyDefinitions;
  onEvent?: (event: PolicyEvent) => void;
}

const POLICY_EVENTS = new Set(['retry', 'fallback', 'circuit-state', 'rate-limited', 'constraint-warning', 'constraint-exceeded', 'budget-stop']);

// ------------------------------------------------------------------ the host half of a run

let nextPrefix = 1;

/** What the host keeps for one prompt run: where its text goes and its copy of the conversation. */
export interface RunHostState {
  onText: (text: string, step: number) => void;
  /**
   * The conversation as the engine synced it: each model.generate sends only the messages the host
   * does not have (`conversation: {base, append}`), and the host adds the assistant turn itself.
   */
  conversation: Message[];
}

/** Model references the engine's `model.generate` ops name (shared with directive runs). */
export const modelRefs = new Map<string, { model: LanguageModel; run: RunHostState }>();
const enginesWithModelHost = new WeakSet<Engine>();

export function toModel(spec: unknown): LanguageModel {
  if (isLanguageModel(spec)) return spec;
  if (typeof spec === 'string' && spec.length > 0) return resolveModel(spec);
  throw new TypeError(`expected a model ("provider:model", a model object or mockModel(...)), got ${spec === null ? 'null' : typeof spec}`);
}

/** Installs, once per engine, the handler that performs `model.generate` ops. */
export function installModelHost(engine: Engine): void {
  if (enginesWithModelHost.has(engine)) return;
  enginesWithModelHost.add(engine);
  engine.registerOpHandler('model.generate', async (op: OpRequest, signal: AbortSignal) => {
    const entry = modelRefs.get(String(op.model));
    if (!entry) throw new Error(`model.generate: unknown model reference ${JSON.stringify(op.model)}`);
    const { run } = entry;
    const request: Omit<ModelRequest, 'model'> = {
      messages: requestMessages(op, run),
      tools: (op.tools as ToolSpec[] | undefined)?.length ? (op.tools as ToolSpec[]) : undefined,
      toolChoice: op.toolChoice as ModelRequest['toolChoice'],
      responseFormat: op.responseFormat as ModelRequest['responseFormat'],
      params: op.params as ModelRequest['params'],
      stream: true,
    };
    const step = Number(op.step);
    let streamed = false;
    const response = await entry.model.generate(request, {
      signal,
      onDelta: (delta) => {
        if (delta.type !== 'text-delta' || !delta.text) return;
        streamed = true;
        run.onText(delta.text, step);
      },
    });
    // A model that does not stream still feeds the text stream, as one delta.
    if (!streamed) for (const part of response.content) if (part.type === 'text' && part.text) run.onText(part.text, step);
    if (op.conversation) run.conversation.push({ role: 'assistant', content: response.content });
    // The configured model id prices the call for cost constraints.
    return { ...response, modelId: entry.model.modelId };
  });
}

/** The messages of one model call: the system prompt, then the synced conversation (or a hook's list). */
function requestMessages(op: OpRequest, run: RunHostState): Message[] {
  const system: Message[] = typeof op.system === 'string' ? [{ role: 'system', content: op.system }] : [];
  const sync = op.conversation as { base: number; append: Message[] } | undefined;
  if (!sync) return [...system, ...((op.messages as Message[]) ?? [])];
  if (run.conversation.length < sync.base)
    throw new Error(`model.generate: conversation out of sync (the host has ${run.conversation.length} messages, the engine assumed ${sync.base})`);
  run.conversation.length = sync.base; // a retried call re-sends the same tail
  run.conversation.push(...sync.append);
  return [...system, ...run.conversation];
}

/** Starts a prompt run on `engine`; used by runPrompt and by sub-agents. */
function startPromptRun(engine: Engine, ctx: PromptContext, model: LanguageModel, options: PromptOptions, policy: RunPolicyOptions, responseSchema?: unknown) {
  const collected = ctx.collected;
  installModelHost(engine);
  const prefix = `p${nextPrefix++}:`;
  const result = new RunResult();
  const steps: PromptStep[] = [];
  const events: PolicyEvent[] = [];
  const ownNames: string[] = [];
  const ownRefs: string[] = [];
  const run: RunHostState = {
    onText: (text, stepNumber) => result.push({ type: 'text-delta', text, stepNumber }),
    conversation: [],
  };

  const registerModel = (m: LanguageModel | string): string => {
    if (typeof m === 'string') m = toModel(m);
    const ref = `${prefix}model:${ownRefs.length}`;
    modelRefs.set(ref, { model: m, run });
    ownRefs.push(ref);
    return ref;
  };
  const register = (name: string, fn: (...args: any[]) => unknown): string => {
    engine.registerCallback(prefix + name, fn);
    ownNames.push(prefix + name);
    return prefix + name;
  };

  // Sub-agents share this tree's policies; an agent's cascade fallback becomes its own run's.
  const treePolicies = policy.treePolicies ?? collected.policies;
  const tools = [...collected.tools.values()].map((def) => ({
    name: def.name,
    description: def.description,
    parameters: def.parameters,
    callback: register(`tool:${def.name}`, (args: unknown, info: { toolCallId: string }, call: CallbackContext) =>
      executeTool(engine, def, args, { toolCallId: info.toolCallId, abortSignal: call.signal, messages: run.conversation.slice() }, { parentModel: model, call, treePolicies, humanHandlers: collected.human.handlers }),
    ),
    ...callPolicies(def, treePolicies),
  }));
  const hooks = collected.hooks.map((hook, i) =>
    register(`hook:${i}`, async (input: HookInput) => {
      const changes = await hook(input);
      if (!changes) return null;
      return changes.model === undefined ? changes : { ...changes, model: registerModel(toModel(changes.model)) };
    }),
  );
  const spec: Record<string, unknown> = {
    kind: 'prompt',
    model: registerModel(model),
    systems: [...collected.systems].map(([name, value]) => ({ name, value })),
    variables: [...collected.variables].map(([name, value]) => ({ name, ...value })),
    messages: collected.messages,
    tools: tools,
    hooks,
    options: engineOptions(options),
  };
  if (policy.parentRun !== undefined) {
    if (!collected.policies.empty) throw new TypeError('a sub-agent shares its parent run\'s policies; define retries, fallbacks, breakers and constraints on the parent');
    spec.parentRun = policy.parentRun;
  } else if (!collected.policies.empty) {
    spec.policies = collected.policies.toSpec(registerModel);
  }
  for (const key of ['retry', 'fallback', 'circuitBreaker'] as const) if (policy[key] !== undefined) spec[key] = policy[key];
  if (options.stopWhen) {
    const stopWhen = options.stopWhen;
    spec.stopWhen = register('stopWhen', async (step: StepResult) => Boolean(await stopWhen(step)));
  }
  if (responseSchema !== undefined) spec.responseSchema = toJsonSchema(responseSchema, 'responseSchema');

  // Human in the loop (js/prompt/human.ts): the tools' approval/guards/validator fields, the
  // definitions, and the routing of the run's approval.ask / interaction.ask ops.
  collected.human.checkTools([...collected.tools.values()].map((def) => ({ name: def.name, options: def.kind === 'agent' ? {} : def.options })));
  for (const t of tools) Object.assign(t, toolSpecFields((collected.tools.get(t.name) as { options?: object } | undefined)?.options));
  const human = attachHuman(engine, collected.human, prefix, register, spec);

  const onEvent = (event: EngineEvent) => {
    const e = event as Record<string, any>;
    switch (e.type) {
      case 'step-start':
        steps.push({ stepNumber: e.stepNumber, system: e.system ?? null, activeTools: e.activeTools ?? [] });
        break;
      case 'tool-call':
      case 'tool-result':
      case 'tool-error':
      case 'guard':
      case 'approval-request':
      case 'approval-decision':
      case 'validation':
      case 'interaction-request':
      case 'interaction-answer':
      case 'interaction-invalid':
        result.push(e as any);
        break;
      default:
        if (POLICY_EVENTS.has(e.type)) {
          events.push(e as PolicyEvent);
          if (e.type === 'fallback' && e.log) console.warn(`lmthing: fallback "${e.name}" used a default value for ${e.from}: ${e.error}`);
          try {
            policy.onEvent?.(e as PolicyEvent);
          } catch {
            // An observer's failure must not break the run.
          }
        }
        break;
      case 'step-finish': {
        const { type: _type, ...step } = e;
        Object.assign(steps[steps.length - 1] ?? {}, step);
        result.push({ type: 'step-finish', ...(step as StepResult) });
        break;
      }
    }
  };

  const cleanup = () => {
    for (const name of ownNames) engine.unregisterCallback(name);
    for (const ref of ownRefs) modelRefs.delete(ref);
    human.detach();
  };
  const onStarted = (runId: number) => {
    ctx.bindRun(engine, runId);
    human.started(runId);
  };
  const reply = engine.startRun(spec, { signal: options.abortSignal, onEvent, onStarted });
  const finished = reply.then(
    (value) => {
      const v = value as { text: string; finishReason: FinishReason; usage: Usage; steps: StepResult[]; object?: unknown };
      cleanup();
      result.succeed(v.steps, v.usage, v.finishReason, v.text);
      return v;
    },
    (err) => {
      cleanup();
      result.fail(err);
      throw err;
    },
  );
  finished.catch(() => {});
  const prompt: PromptRunInfo = {
    steps,
    getTools: () => tools.map(({ name, description, parameters }) => ({ name, description, parameters })),
    events,
    finished: finished.then(
      () => undefined,
      () => undefined,
    ),
    approvals: human.approvals,
  };
  return { result, prompt, finished };
}

function engineOptions(options: PromptOptions): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const key of ['temperature', 'maxOutputTokens', 'topP', 'topK', 'stopSequences', 'seed'] as const)
    if (options[key] !== undefined) params[key] = options[key];
  const out: Record<string, unknown> = { params };
  if (options.maxSteps !== undefined) out.maxSteps = options.maxSteps;
  if (options.maxRetries !== undefined) out.maxRetries = options.maxRetries;
  if (options.toolChoice !== undefined) out.toolChoice = options.toolChoice;
  if (options.timeout !== undefined) out.timeoutMs = options.timeout;
  if (options.modelTimeout !== undefined) out.modelTimeoutMs = options.modelTimeout;
  if (options.toolTimeout !== undefined) out.toolTimeoutMs = options.toolTimeout;
  return out;
}

/** A tool entry's policy names; an agent's cascade goes to its own run instead (see runAgent). */
function callPolicies(def: ToolDefinition, treePolicies: PolicyDefinitions): Record<string, unknown> {
  const o = def.options as CallPolicyOptions;
  const out: Record<string, unknown> = {};
  if (o.retry !== undefined) out.retry = o.retry;
  if (o.circuitBreaker !== undefined) out.circuitBreaker = o.circuitBreaker;
  if (o.timeout !== undefined) out.timeoutMs = o.timeout;
  const agentCascade = def.kind === 'agent' && treePolicies.cascade(o.fallback) !== undefined;
  if (o.fallback !== undefined && !agentCascade) out.fallback = o.fallback;
  return out;
}

// ------------------------------------------------------------------ tools and agents

/** What a tool call needs from its run: the model sub-agents inherit, the op, the policies. */
interface CallEnvironment {
  parentModel: LanguageModel;
  call: CallbackContext;
  treePolicies: PolicyDefinitions;
  /** The run's onApproval / onInteraction, which its sub-agents' requests also go to. */
  humanHandlers: HumanDefinitions['handlers'];
}

async function executeTool(engine: Engine, def: ToolDefinition, args: unknown, context: ToolContext, env: CallEnvironment): Promise<unknown> {
  switch (def.kind) {
    case 'tool':
      return withToolOptions(def.options, args, context, (input) => def.execute(input, context));
    case 'agent':
      return engine.waitOnEngine(env.call.opId, runAgent(engine, def, args, context.abortSignal, env));
    case 'composite':
      return withToolOptions(def.options, args, context, async (input) => {
        const results = [];
        for (const call of (input as { calls: Array<{ name: string; args: unknown }> }).calls) {
          const member = def.members.find((m) => m.name === call.name)!;
          try {
            const result =
              member.kind === 'tool'
                ? await member.execute(call.args, context)
                : await engine.waitOnEngine(env.call.opId, runAgent(engine, member, call.args, context.abortSignal, env));
            results.push({ name: call.name, result: result ?? null });
          } catch (err) {
            results.push({ name: call.name, error: err instanceof Error ? err.message : String(err) });
          }
        }
        return { results };
      });
  }
}

/** lmthing's beforeCall / onSuccess / onError around an execute function. */
async function withToolOptions(
  options: { beforeCall?: Function; onSuccess?: Function; onError?: Function },
  args: unknown,
  context: ToolContext,
  run: (input: unknown) => unknown,
): Promise<unknown> {
  let input = args;
  if (options.beforeCall) {
    const replaced = await options.beforeCall(input, context);
    if (replaced !== undefined) input = replaced;
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

/** Runs a sub-agent as a child prompt run; resolves with its object (responseSchema) or its text. */
async function runAgent(
  engine: Engine,
  def: { name: string; configure: SubAgent['configure']; options: AgentOptions },
  args: unknown,
  signal: AbortSignal,
  env: CallEnvironment,
): Promise<unknown> {
  const child = new PromptContext();
  child.collected.human.handlers = env.humanHandlers;
  if (def.options.system !== undefined) child.defSystem('system', def.options.system);
  await def.configure(args, child);
  const model = def.options.model === undefined ? env.parentModel : toModel(def.options.model);
  const policy: RunPolicyOptions = { parentRun: env.call.runId, fallback: env.treePolicies.cascade(def.options.fallback), treePolicies: env.treePolicies };
  const { finished } = startPromptRun(engine, child, model, { abortSignal: signal }, policy, def.options.responseSchema);
  try {
    const value = await finished;
    return def.options.responseSchema === undefined ? value.text : value.object;
  } catch (err) {
    if (err instanceof ValidationError) throw new Error(`agent "${def.name}": ${err.message}`);
    throw err;
  }
}

export type { ToolCall };
