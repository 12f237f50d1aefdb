/**
 * The tool names each provider's API takes. lmthing's own names (`[A-Za-z_][A-Za-z0-9_.-]*`, any
 * length) are wider: a name such as `files.delete` works with a mock or a compatible server but
 * OpenAI and Anthropic answer it with a 400. Checked before the request, the error names the tool
 * and a name that would do, and nothing is sent.
 */
import { ValidationError } from '../errors.js';
import type { ToolSpec } from './types.js';

/** What one API accepts as a tool name, and how to say it. */
export interface ToolNameRule {
  readonly pattern: RegExp;
  readonly allowed: RegExp;
  readonly maxLength: number;
  readonly says: string;
}

/** OpenAI's Chat Completions and Responses APIs (`^[a-zA-Z0-9_-]{1,64}$`). */
export const OPENAI_TOOL_NAMES: ToolNameRule = {
  pattern: /^[a-zA-Z0-9_-]{1,64}$/,
  allowed: /[a-zA-Z0-9_-]/,
  maxLength: 64,
  says: 'letters, digits, _ and -, at most 64 characters',
};

/** Anthropic's Messages API (`^[a-zA-Z0-9_-]{1,128}$`). */
export const ANTHROPIC_TOOL_NAMES: ToolNameRule = {
  pattern: /^[a-zA-Z0-9_-]{1,128}$/,
  allowed: /[a-zA-Z0-9_-]/,
  maxLength: 128,
  says: 'letters, digits, _ and -, at most 128 characters',
};

/** Gemini's function declarations: a letter or _ first, then letters, digits, _ . : -, at most 64. */
export const GEMINI_TOOL_NAMES: ToolNameRule = {
  pattern: /^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/,
  allowed: /[a-zA-Z0-9_.:-]/,
  maxLength: 64,
  says: 'a letter or _ first, then letters, digits, _ . : and -, at most 64 characters',
};

/** Throws a ValidationError naming the first tool whose name `rule` refuses, with a name it takes. */
export function checkToolNames(provider: string, tools: readonly ToolSpec[] | undefined, rule: ToolNameRule): void {
  const bad = tools?.find((tool) => !rule.pattern.test(tool.name));
  if (!bad) return;
  const suggestion = [...bad.name].map((ch) => (rule.allowed.test(ch) ? ch : '_')).join('').slice(0, rule.maxLength);
  throw new ValidationError(
    `${provider}: the API does not take the tool name ${JSON.stringify(bad.name)} (tool names there are ${rule.says}); rename the tool, e.g. ${JSON.stringify(suggestion)}`,
  );
}
