/**
 * `defRole` as a definition kind (docs/templates-roles-plugins.md): a role's config is checked at
 * the call; the engine renders its section of the system prompt and applies its constraints to
 * the run that assumes it (`ctx.assumeRole`, `run(agent, {role})`, `L.role`).
 */
import * as c from '../config/check.js';
import type { JsonValue } from '../schema-types.js';
import { findTag } from '../prompt/names.js';
import { jsonObject } from '../storage/checks.js';
import type { DefinitionKind } from './kind.js';

/** What a role may do and needs (all optional). */
export interface RoleConstraints {
  /** Tokens (input + output) the run's model calls may use from when it assumes the role; then calls stop with a `BudgetExceededError`. */
  readonly maxTokens?: number;
  /** The only tools offered to the model and run while the role is assumed (a call of another is an error the model reads). */
  readonly allowedTools?: readonly string[];
  /** Tools whose calls ask for approval (approve or deny) while the role is assumed. */
  readonly requiresApproval?: readonly string[];
}

/** A role (`defRole`): text for the system prompt and constraints for the run that assumes it. */
export interface RoleConfig {
  /** Listed in the role's section of the system prompt. */
  readonly capabilities?: readonly string[];
  readonly constraints?: RoleConstraints;
  /** Traits rendered as YAML in the role's section (keys in the order written). */
  readonly personality?: Readonly<Record<string, JsonValue>>;
  /** The first text of the role's section of the system prompt. */
  readonly systemPrompt?: string;
}

const nonNegative = c.number(0, Infinity, { positive: true });

const roleShape: c.Shape = {
  capabilities: c.stringList,
  constraints: c.object,
  personality: jsonObject('personality'),
  systemPrompt: c.string,
};

const constraintsShape: c.Shape = {
  maxTokens: nonNegative,
  allowedTools: c.stringList,
  requiresApproval: c.stringList,
};

export const roleKind: DefinitionKind<RoleConfig | undefined, RoleConfig> = {
  kind: 'role',
  noun: 'role',
  method: 'defRole',
  check(where, config) {
    if (config !== undefined && !c.isPlainObject(config))
      c.fail(where, `expected a role config ({capabilities, constraints, personality, systemPrompt}), got ${c.describe(config)}`);
    const role: RoleConfig = c.checkOptions(where, config ?? {}, roleShape, 'field');
    c.checkOptions(`${where} constraints`, role.constraints, constraintsShape, 'constraint');
    // The role's text goes into the system prompt: it may not end its section or fake another.
    // (The engine also checks it against the definitions' tags when the run renders the prompt.)
    const text = [role.systemPrompt ?? '', ...(role.capabilities ?? []), JSON.stringify(role.personality ?? {})].join('\n');
    const mention = findTag(text, new Set(['role', 'variables']));
    if (mention) c.fail(where, `the role's text contains "${mention.written}", a tag of the system prompt (a role's text cannot open or close the prompt's sections)`);
    return role;
  },
  wire(role) {
    return { ...role };
  },
};
