/**
 * Human-in-the-loop definitions (docs/human-in-the-loop.md): `defApproval`, `defGuard`,
 * `defValidator`, `defInteraction`. The engine applies them (timeouts, default actions, re-asking,
 * retries); these check configs and marshal their functions as callbacks.
 */
import * as c from '../config/check.js';
import { toJsonSchema } from '../schema.js';
import { answerCheck, describeIssues, parsedByZod, parseValue } from '../zod-parse.js';
import type { Bivariant, JsonObject, JsonValue } from '../schema-types.js';
import type { DefinitionKind } from './kind.js';
import { ConfigError } from '../errors.js';

/** What a human can decide about an approval request. */
export type ApprovalAction = 'approve' | 'deny' | 'modify';

/** Configuration of `defApproval`. */
export interface ApprovalConfig<Context = JsonObject> {
  /**
   * What the human is asked; a function gets the request's context (for a tool: `{toolName, args,
   * toolCallId}`; for `requestApproval(name, context)`: that context). Type it with
   * `defApproval<Context>(…)`.
   */
  message?: string | Bivariant<[context: Context], string | Promise<string>>;
  /** The actions offered (default `['approve', 'deny']`). */
  options?: ApprovalAction[];
  /** Milliseconds to wait for a decision; then the default action applies (default: no limit). */
  timeout?: number;
  /** What happens on timeout, handler failure, invalid decision or no handler (default `'deny'`). */
  defaultAction?: 'approve' | 'deny';
  /** Whether the request shows the tool and its arguments (default true). */
  showPreview?: boolean;
}

/** What a guard's condition returns: pass or not, optionally with the message. */
export type GuardVerdict = boolean | { pass: boolean; message?: string };

/**
 * What a guard's condition gets: the call's arguments (so `({path}) => ...` works), plus `args`,
 * `toolName`, `toolCallId`, `stepNumber` and `state` (the proposal's `ctx.state`). An argument named
 * like one of these is still at `ctx.args.<name>`.
 */
export type GuardContext<Args = JsonObject> = Args & {
  args: Args;
  toolName: string;
  toolCallId: string;
  stepNumber: number;
  state: Record<string, unknown>;
};

/** A guard's condition: called before the tools it guards run. */
export type GuardCondition<Args = JsonObject> = Bivariant<
  [context: GuardContext<Args>, call: { toolName: string; toolCallId: string; stepNumber: number }],
  GuardVerdict | Promise<GuardVerdict>
>;

/** Configuration of `defGuard`. */
export interface GuardConfig {
  /** `throw` fails the run (GuardError), `skip` answers the model without running the tool, `redirect` runs `redirectTo` instead, `prompt-user` asks for approval. */
  onFail?: 'throw' | 'skip' | 'redirect' | 'prompt-user';
  message?: string;
  /** Tools checked on every call, besides those that name this guard in their `guards`. */
  tools?: string[];
  /** For `redirect`: the tool that runs instead, with the same arguments. */
  redirectTo?: string;
  /** For `prompt-user`: an approval by name (default: approve/deny, deny by default, with `message`). */
  approval?: string;
}

/** What a validator function returns (or just a boolean). */
export interface ValidatorResult {
  valid: boolean;
  errors?: Array<string | { message: string }>;
  /** A hint shown to the model with the errors. */
  fix?: unknown;
  /** `warning` is reported but does not fail (default `error`); `critical` fails like `error`. */
  severity?: 'error' | 'warning' | 'critical';
}

/** A validator function: gets the value (a tool's output or the final answer) and its context. */
export type ValidatorFn<Value = JsonValue> = Bivariant<[value: Value, context: JsonObject], ValidatorResult | boolean | Promise<ValidatorResult | boolean>>;

/** Configuration of `defInteraction`. */
export interface InteractionConfig<Context = JsonObject> {
  /** What the user is asked; a function gets the context given to `interact(name, context)`. */
  message?: string | Bivariant<[context: Context], string | Promise<string>>;
  /** The proposal's spelling of `message`. */
  prompt?: string | Bivariant<[context: Context], string | Promise<string>>;
  /** For `choice`: the values to choose from, or a function of the request's context that returns them. */
  choices?: unknown[] | Bivariant<[context: Context], unknown[] | Promise<unknown[]>>;
  /** The proposal's spelling of `choices`. */
  options?: unknown[] | Bivariant<[context: Context], unknown[] | Promise<unknown[]>>;
  /** For `choice`: the answer is a list of distinct choices. */
  multiple?: boolean;
  /** zod or JSON Schema the answer must match; an invalid answer is asked again. */
  validation?: unknown;
  /** Milliseconds to wait; then `default` (or a skip when allowed). */
  timeout?: number;
  allowSkip?: boolean;
  /** The answer used on timeout or handler failure (for a choice, a choice value or its index). */
  default?: unknown;
  /** How many times to ask before failing with a ValidationError (default 3). */
  maxAttempts?: number;
}

const message = c.either(c.string, c.func);

export const approvalKind: DefinitionKind<ApprovalConfig> = {
  kind: 'approval',
  noun: 'approval',
  method: 'defApproval',
  check: (where, config = {}) => {
    c.checkOptions(where, config, {
      message,
      options: (v) => (Array.isArray(v) && v.length > 0 && v.every((o) => o === 'approve' || o === 'deny' || o === 'modify') ? undefined : "a non-empty array of 'approve', 'deny', 'modify'"),
      timeout: c.ms({ zero: true }),
      defaultAction: c.oneOf('approve', 'deny'),
      showPreview: c.boolean,
    });
    return { ...config };
  },
  wire(config, marshal) {
    const out: Record<string, unknown> = {};
    if (typeof config.message === 'string') out.message = config.message;
    const fn = config.message;
    if (typeof fn === 'function') out.messageFn = marshal.callback('the message of an approval', async (context: JsonObject) => String(await fn(context)));
    if (config.options) out.options = config.options;
    if (config.timeout !== undefined) out.timeoutMs = config.timeout;
    if (config.defaultAction) out.defaultAction = config.defaultAction;
    if (config.showPreview !== undefined) out.showPreview = config.showPreview;
    return out;
  },
};

type StoredGuard = { condition: GuardCondition; config: GuardConfig };

export const guardKind: DefinitionKind<unknown, StoredGuard> = {
  kind: 'guard',
  noun: 'guard',
  method: 'defGuard',
  check(where, condition, config = {}) {
    if (typeof condition !== 'function') c.fail(where, `the condition must be a function, got ${c.describe(condition)}`);
    c.checkOptions(where, config as GuardConfig, {
      onFail: c.oneOf('throw', 'skip', 'redirect', 'prompt-user'),
      message: c.string,
      tools: c.stringList,
      redirectTo: c.nonEmpty,
      approval: c.nonEmpty,
    });
    const cfg = config as GuardConfig;
    if (cfg.onFail === 'redirect' && cfg.redirectTo === undefined) c.fail(where, "onFail 'redirect' needs redirectTo (the tool that runs instead)");
    return { condition: condition as GuardCondition, config: { ...cfg } };
  },
  wire({ condition, config }, marshal) {
    const fn = async (args: unknown, call: { toolName: string; toolCallId: string; stepNumber: number }) => {
      const verdict = await condition(guardContext(args, call, marshal.state?.() ?? {}), call);
      if (typeof verdict === 'boolean') return verdict;
      if (verdict && typeof verdict === 'object' && typeof verdict.pass === 'boolean') return verdict;
      // Not read as truthy or falsy: a condition that forgot its `return` would refuse every call
      // silently, one that returns a string would let every call through. Like a throw, a failure.
      throw new ConfigError(`a guard condition must return a boolean or {pass: boolean, message?}, got ${c.describe(verdict)}`);
    };
    return { ...config, condition: marshal.callback('a guard condition', fn) };
  },
};

/** The guard's first argument: the arguments' own fields, then the call's (which win on a clash). */
function guardContext(args: unknown, call: { toolName: string; toolCallId: string; stepNumber: number }, state: Record<string, unknown>): GuardContext {
  const own = c.isPlainObject(args) ? args : {};
  const context = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(own)) Object.defineProperty(context, key, { value, enumerable: true, writable: true, configurable: true });
  return Object.assign(context, { args, toolName: call.toolName, toolCallId: call.toolCallId, stepNumber: call.stepNumber, state }) as GuardContext;
}

type StoredValidator = { schema: Record<string, unknown> | null; fn: ValidatorFn | undefined };

export const validatorKind: DefinitionKind<unknown, StoredValidator> = {
  kind: 'validator',
  noun: 'validator',
  method: 'defValidator',
  check(where, schema, fn) {
    if (fn !== undefined && typeof fn !== 'function') c.fail(where, `the validator function must be a function, got ${c.describe(fn)}`);
    if ((schema === undefined || schema === null) && !fn) c.fail(where, 'give a schema, a function, or both');
    return { schema: schema === undefined || schema === null ? null : toJsonSchema(schema, `${where} schema`), fn: fn as ValidatorFn | undefined };
  },
  wire({ schema, fn }, marshal) {
    const out: Record<string, unknown> = {};
    if (schema) out.schema = schema;
    // A zod schema's parse runs as part of the check (refinements, transforms): fn gets zod's output.
    if (fn || parsedByZod(schema))
      out.fn = marshal.callback('a validator', async (value: JsonValue, context: JsonObject) => {
        const parsed = await parseValue(schema, value);
        if (!parsed.ok) return { valid: false, errors: parsed.issues.map((issue) => describeIssues([issue])) };
        if (!fn) return true;
        const result = await fn(parsed.value as JsonValue, context);
        if (typeof result === 'boolean') return result;
        if (!result || typeof result !== 'object') throw new ConfigError(`a validator must return {valid, errors?, fix?, severity?} or a boolean, got ${c.describe(result)}`);
        return result.severity === 'critical' ? { ...result, severity: 'error' } : result;
      });
    return out;
  },
};

/**
 * A fixed list of choices: each once (an answer names a choice by its value), and a `default` that
 * is one of them (a list of them with `multiple`), as a timeout would answer with it.
 */
export function checkChoiceList(where: string, list: readonly unknown[], cfg: Pick<InteractionConfig, 'default' | 'multiple'>): void {
  const keys = list.map((choice) => JSON.stringify(choice));
  const twice = keys.findIndex((key, i) => keys.indexOf(key) !== i);
  if (twice >= 0) c.fail(where, `choices[${twice}] (${c.describe(list[twice])}) is listed twice; each choice must be distinct`);
  if (cfg.default === undefined) return;
  const defaults: unknown[] = cfg.multiple && Array.isArray(cfg.default) ? cfg.default : [cfg.default];
  const stray = defaults.find((value) => !keys.includes(JSON.stringify(value)));
  if (stray !== undefined || (cfg.multiple && !Array.isArray(cfg.default)))
    c.fail(where, `the default must be ${cfg.multiple ? 'a list of the choices' : 'one of the choices'} (${keys.join(', ')}), got ${c.describe(cfg.default)}`);
}

/** `validation` is the config's schema as JSON Schema (a zod one's answers are parsed by zod too). */
type StoredInteraction = { kind: 'question' | 'choice'; config: InteractionConfig; validation?: Record<string, unknown> };

export const interactionKind: DefinitionKind<unknown, StoredInteraction> = {
  kind: 'interaction',
  noun: 'interaction',
  method: 'defInteraction',
  check(where, kind, config = {}) {
    c.checkChoice(where, 'kind', kind, 'question', 'choice');
    const choices = c.either(c.arrayOf(c.anything, 'an array'), c.func);
    c.checkOptions(where, config as InteractionConfig, {
      message, prompt: message, choices, options: choices, multiple: c.boolean, validation: c.anything,
      timeout: c.ms({ zero: true }), allowSkip: c.boolean, default: c.anything, maxAttempts: c.integer(1, 100),
    });
    const cfg = config as InteractionConfig;
    const list = cfg.choices ?? cfg.options;
    if (kind === 'choice' && (list === undefined || (Array.isArray(list) && list.length === 0)))
      c.fail(where, 'a choice needs a non-empty choices array (or a function that returns one)');
    // A question's answer is free: choices it would not enforce are refused, not ignored.
    const choiceOnly = (['choices', 'options', 'multiple'] as const).find((key) => kind === 'question' && cfg[key] !== undefined);
    if (choiceOnly) c.fail(where, `'${choiceOnly}' is for kind 'choice'; a question's answer is free text (restrict it with a validation schema, or make it a 'choice')`);
    if (Array.isArray(list)) checkChoiceList(where, list, cfg);
    const validation = cfg.validation === undefined ? undefined : toJsonSchema(cfg.validation, `${where} validation`);
    return { kind, config: { ...cfg }, validation };
  },
  wire({ kind, config, validation }, marshal) {
    const out: Record<string, unknown> = { kind };
    const text = config.message ?? config.prompt;
    if (typeof text === 'string') out.message = text;
    if (typeof text === 'function') out.messageFn = marshal.callback('the message of an interaction', async (context: JsonObject) => String(await text(context)));
    const list = config.choices ?? config.options;
    if (Array.isArray(list)) out.choices = list;
    if (typeof list === 'function') out.choicesFn = marshal.callback('the choices of an interaction', async (context: JsonObject) => await list(context));
    if (config.multiple !== undefined) out.multiple = config.multiple;
    if (validation !== undefined) out.validation = validation;
    if (parsedByZod(validation)) out.validationCheck = marshal.callback('the validation of an interaction', answerCheck(validation!));
    if (config.timeout !== undefined) out.timeoutMs = config.timeout;
    if (config.allowSkip !== undefined) out.allowSkip = config.allowSkip;
    if ('default' in config) out.default = config.default ?? null;
    if (config.maxAttempts !== undefined) out.maxAttempts = config.maxAttempts;
    return out;
  },
};
