/**
 * A model's answer checked where it enters the run. The providers lmthing ships build their answers
 * themselves; a `LanguageModel` written by the user can return anything, and what the engine cannot
 * read must fail the call with a message naming the model, the field and what is expected — not a
 * TypeError inside the host or an engine error about JSON types.
 *
 * Absent fields stay allowed, as before (no `finishReason` reads as `other`, no `usage` as zero, no
 * `toolCallId` as empty); a field of the wrong type is refused.
 */
import { describe, nearest } from '../config/check.js';
import { ProviderError } from '../errors.js';
import { isObject } from '../providers/http.js';
import type { EmbedResult, FinishReason, ModelResponse } from '../providers/types.js';

const FINISH_REASONS: readonly string[] = ['stop', 'tool-calls', 'length', 'content-filter', 'error', 'other'] satisfies readonly FinishReason[];

const USAGE_FIELDS = ['inputTokens', 'outputTokens', 'totalTokens', 'cachedInputTokens', 'cacheWriteInputTokens', 'reasoningTokens'] as const;

/**
 * `response` as a {@link ModelResponse}, or a `ProviderError` (not retryable) saying what is wrong
 * with it. A usage without `totalTokens` gets the sum of its input and output tokens.
 */
export function checkModelResponse(response: unknown, model: string): ModelResponse {
  const problem = responseProblem(response);
  if (problem !== undefined) throw new ProviderError(`model "${model}" returned an invalid response: ${problem}`);
  let checked = response as ModelResponse;
  // The AI SDK's models give the time as a Date; steps keep ms.
  if (checked.timestamp instanceof Date) checked = { ...checked, timestamp: checked.timestamp.getTime() };
  const usage = checked.usage as Partial<ModelResponse['usage']> | undefined | null;
  if (!usage || usage.totalTokens !== undefined) return checked;
  return { ...checked, usage: { ...usage, inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0, totalTokens: (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0) } };
}

/**
 * An embedding model's result with its usage read (absent: 0 tokens). The vectors themselves are
 * the engine's to check: it names the memory and the item (count, length, non-numbers).
 */
export function checkEmbedResult(result: unknown, model: string): EmbedResult {
  const fail = (problem: string) => new ProviderError(`embedding model "${model}" returned an invalid result: ${problem}`);
  if (!isObject(result)) throw fail(`expected an object {embeddings, usage}, got ${describe(result)}`);
  const { embeddings, usage } = result;
  if (usage === undefined || usage === null) return { embeddings: embeddings as number[][], usage: { tokens: 0 } };
  if (!isObject(usage) || !(typeof usage.tokens === 'number' && Number.isFinite(usage.tokens) && usage.tokens >= 0))
    throw fail(`usage must be {tokens: a number >= 0}, got ${isObject(usage) ? `tokens ${describe(usage.tokens)}` : describe(usage)}`);
  return { embeddings: embeddings as number[][], usage: { tokens: usage.tokens } };
}

/** A streamed delta's text: a string, or a `ProviderError` thrown back into the model that sent it. */
export function checkDeltaText(text: unknown, type: string, model: string): string {
  if (typeof text === 'string') return text;
  throw new ProviderError(`model "${model}" streamed an invalid ${type}: text must be a string, got ${describe(text)}`);
}

/** What is wrong with a model's response (as the rest of "returned an invalid response: …"), if anything. */
export function responseProblem(response: unknown): string | undefined {
  if (!isObject(response)) return `expected an object {content, finishReason, usage}, got ${describe(response)}`;
  const { content, finishReason, usage, warnings, responseId, timestamp, headers } = response;
  if (!Array.isArray(content)) return `content must be an array of parts, got ${describe(content)}`;
  // The answer's metadata goes to the step's `response` as it is: it must be what the types say.
  if (responseId !== undefined && typeof responseId !== 'string') return `responseId must be a string, got ${describe(responseId)}`;
  if (timestamp !== undefined && !Number.isFinite(timestamp instanceof Date ? timestamp.getTime() : timestamp))
    return `timestamp must be a time in ms since the epoch (a finite number) or a valid Date, got ${describe(timestamp)}`;
  if (headers !== undefined && !(isObject(headers) && Object.values(headers).every((value) => typeof value === 'string')))
    return `headers must be an object of strings, got ${isObject(headers) ? 'an object with a value that is not a string' : describe(headers)}`;
  if (warnings !== undefined && !(Array.isArray(warnings) && warnings.every((w) => isObject(w) && typeof w.type === 'string')))
    return `warnings must be an array of {type, setting?, details?}, got ${describe(warnings)}`;
  for (let i = 0; i < content.length; i++) {
    const problem = partProblem(content[i]);
    if (problem !== undefined) return `content[${i}]${problem}`;
  }
  if (finishReason !== undefined && !FINISH_REASONS.includes(finishReason as string)) {
    // A provider's own reason (OpenAI's 'tool_calls', Anthropic's 'end_turn') belongs in rawFinishReason.
    const guess = typeof finishReason === 'string' ? nearest(finishReason, FINISH_REASONS) : undefined;
    return `finishReason must be one of ${FINISH_REASONS.map((r) => `'${r}'`).join(', ')}, got ${describe(finishReason)}${guess ? ` (did you mean '${guess}'?)` : ''}; a provider's own reason goes in rawFinishReason`;
  }
  if (usage === undefined || usage === null) return undefined;
  if (!isObject(usage)) return `usage must be an object {inputTokens, outputTokens, totalTokens}, got ${describe(usage)}`;
  for (const field of USAGE_FIELDS) {
    const value = usage[field];
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) return `usage.${field} must be a number of tokens >= 0, got ${describe(value)}`;
  }
  return undefined;
}

/**
 * What is wrong with one content part (as the rest of a message after `content[i]`), if anything.
 * Also checks the parts of a conversation given to `runPrompt` (js/prompt/run-prompt.ts).
 */
export function partProblem(part: unknown): string | undefined {
  if (!isObject(part) || typeof part.type !== 'string') {
    return ` must be a part {type: 'text', text} or {type: 'tool-call', toolCallId, toolName, args}, got ${describe(part)}`;
  }
  switch (part.type) {
    case 'text':
    case 'reasoning':
      return typeof part.text === 'string' ? undefined : `.text must be a string, got ${describe(part.text)}`;
    case 'tool-call':
      if (typeof part.toolName !== 'string' || part.toolName === '') return `.toolName must be a non-empty string, got ${describe(part.toolName)}`;
      if (part.toolCallId !== undefined && typeof part.toolCallId !== 'string') return `.toolCallId must be a string, got ${describe(part.toolCallId)}`;
      if (part.argsText !== undefined && typeof part.argsText !== 'string') return `.argsText must be the arguments' JSON text, got ${describe(part.argsText)}`;
      return undefined;
    case 'image':
    case 'file':
      return undefined; // kept and not read (a model's generated image, a file it returns)
    default: {
      // A misspelt kind would be kept as nothing: a tool call lost, a text not shown, and the
      // conversation refused when it is sent back.
      const guess = nearest(part.type, ANSWER_PART_TYPES);
      return `.type must be one of ${ANSWER_PART_TYPES.map((t) => `'${t}'`).join(', ')}, got ${describe(part.type)}${guess ? ` (did you mean '${guess}'?)` : ''}`;
    }
  }
}

/** The parts a model's answer may hold (what a conversation takes back from it). */
const ANSWER_PART_TYPES: readonly string[] = ['text', 'reasoning', 'tool-call', 'image', 'file'];
