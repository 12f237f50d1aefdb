/**
 * What a step hook (`defHook`, `prepareStep`) returned, checked and put in the engine's terms. Next
 * to the step's own changes (model, system, tools ...) a hook may set the step's call settings, as
 * the AI SDK's `prepareStep` does: generation settings (`temperature`, `maxOutputTokens` ...),
 * which travel as the step's `params` and are laid over the run's one by one, and `providerOptions`,
 * merged over the run's (deeply) when the call is made.
 *
 * @module
 */
import * as c from '../config/check.js';
import type { GenerationParams, ProviderOptions } from '../providers/types.js';
import { STEP_RENAMES, underOlderNames } from './renamed-options.js';
import { checkMessages, fromAiSdkMessages, toolChoice } from './message-checks.js';
import { generationShape, providerOptionsCheck } from './run-config.js';

/** The call settings a step hook may change for its step (the AI SDK's `prepareStep` has them too). */
export interface StepCallSettings extends GenerationParams {
  /**
   * Provider options of this step's call, merged over the run's `providerOptions` (an object member
   * by member, anything else replaced), as the AI SDK merges a step's.
   */
  providerOptions?: ProviderOptions;
}

// The step's own changes are checked by the engine, which knows the tools and models; here their
// names and what can be checked without them (the messages, the tool choice), in the user's terms.
const stepShape: c.Shape = {
  system: c.anything,
  messages: (v) => (Array.isArray(v) ? undefined : 'an array of messages'),
  activeTools: c.anything,
  toolOrder: c.anything,
  activeSystems: c.anything,
  activeVariables: c.anything,
  toolChoice,
  model: c.anything,
  ...generationShape,
  providerOptions: providerOptionsCheck,
};

/**
 * A hook's result as the engine takes it: checked (a `ConfigError` naming `label` and the field),
 * null and undefined fields left out, generation settings moved into `params`.
 */
export function stepChangesWire(changes: unknown, label: string): Record<string, unknown> | null {
  if (changes === undefined || changes === null) return null;
  if (!c.isPlainObject(changes)) c.fail(label, `must return an object of changes for the step or nothing, got ${c.describe(changes)}`);
  const present = underOlderNames(`${label} returned`, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined && v !== null)), STEP_RENAMES);
  c.checkOptions(`${label} returned`, present, stepShape, 'field');
  checkMessages(`${label} returned`, present.messages);
  if (Array.isArray(present.messages)) present.messages = fromAiSdkMessages(present.messages);
  const wire: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(present)) (key in generationShape ? params : wire)[key] = value;
  if (Object.keys(params).length > 0) wire.params = params;
  return wire;
}
