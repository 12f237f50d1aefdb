/**
 * Checks of messages and tool choices a user hands a run, wherever they come from: the `runPrompt`
 * config and what a step hook (`defHook`, `prepareStep`) returns. The error names the message and
 * part that is wrong, in the user's terms.
 *
 * @module
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import { partProblem } from './model-response.js';

const ROLES = ['system', 'user', 'assistant', 'tool'];
/** The kinds of the AI SDK's tool-result `output`. */
const OUTPUT_TYPES = ['text', 'json', 'error-text', 'error-json', 'content', 'execution-denied'];
const PART_TYPES = ['text', 'reasoning', 'tool-call', 'tool-result', 'image', 'file', 'tool-approval-response'];

/** `toolChoice`: 'auto', 'none', 'required' or `{type: 'tool', toolName}` (a near miss gets a did-you-mean). */
export const toolChoice = c.withChoices(
  (v) =>
    v === 'auto' || v === 'none' || v === 'required' || (c.isPlainObject(v) && v.type === 'tool' && typeof v.toolName === 'string')
      ? undefined
      : "'auto', 'none', 'required' or {type: 'tool', toolName}",
  ['auto', 'none', 'required'],
);

/** What is wrong with one part of a message (as the rest of a message after its path), if anything. */
function messagePartProblem(part: unknown): string | undefined {
  if (!c.isPlainObject(part) || !PART_TYPES.includes(part.type as string)) {
    const type = c.isPlainObject(part) ? part.type : undefined;
    const near = typeof type === 'string' ? c.nearest(type, PART_TYPES) : undefined;
    const hint = near !== undefined && c.editDistance(type as string, near) <= 2 ? ` (did you mean '${near}'?)` : '';
    return ` must be a part {type: ${PART_TYPES.map((t) => `'${t}'`).join(' | ')}, ...}, got ${c.isPlainObject(part) ? `type ${c.describe(part.type)}${hint}` : c.describe(part)}`;
  }
  if (part.type === 'tool-result') {
    for (const key of ['toolCallId', 'toolName']) if (typeof part[key] !== 'string') return `.${key} must be a string, got ${c.describe(part[key])}`;
    if (!('result' in part) && !('output' in part)) return " needs the tool's 'result' (or the AI SDK's 'output': {type, value})";
    if (!('result' in part) && !(c.isPlainObject(part.output) && OUTPUT_TYPES.includes(part.output.type as string)))
      return `.output must be the AI SDK's {type: ${OUTPUT_TYPES.map((t) => `'${t}'`).join(' | ')}, value}, got ${c.describe(part.output)}`;
    return undefined;
  }
  // A call with none of its arguments would be sent with none: the model reads a call it did not make.
  if (part.type === 'tool-call' && !('args' in part) && typeof part.argsText !== 'string' && !('input' in part))
    return " needs its arguments: 'args' (an object), 'argsText' (their JSON text) or the AI SDK's 'input'";
  if (part.type === 'tool-approval-response') return undefined; // the engine checks it with the call it decides
  if (part.type === 'file') {
    if (typeof part.mediaType !== 'string' || part.mediaType === '') return `.mediaType must be the file's media type (e.g. 'application/pdf'), got ${c.describe(part.mediaType)}`;
    return typeof part.data === 'string' || part.data instanceof Uint8Array ? undefined : `.data must be a string (base64, a data: or http(s) URL) or a Uint8Array, got ${c.describe(part.data)}`;
  }
  if (part.type === 'image')
    return typeof part.data === 'string' || part.data instanceof Uint8Array ? undefined : `.data must be a string (base64, a data: or http(s) URL) or a Uint8Array, got ${c.describe(part.data)}`;
  return partProblem(part); // text, reasoning and tool calls as a model's answer has them
}

/**
 * Messages checked one by one, so the error (`${where}: messages[2].role ...`) names the one that is
 * wrong. The parts a run's own transcript holds (what a hook or an interceptor may hand back) are
 * all of the kinds accepted here.
 */
export function checkMessages(where: string, messages: unknown): void {
  if (!Array.isArray(messages)) return; // the caller's shape says what it must be
  messages.forEach((message: unknown, i) => {
    const at = `${where}: messages[${i}]`;
    if (!c.isPlainObject(message)) throw new ConfigError(`${at} must be a message {role, content}, got ${c.describe(message)}`);
    if (!ROLES.includes(message.role as string)) {
      // A hint for a slip ("usr"), not for any word ("robot").
      const near = typeof message.role === 'string' ? c.nearest(message.role, ROLES) : undefined;
      const role = near !== undefined && c.editDistance(message.role as string, near) <= 2 ? near : undefined;
      throw new ConfigError(`${at}.role must be one of ${ROLES.map((r) => `"${r}"`).join(', ')}, got ${c.describe(message.role)}${role ? ` (did you mean "${role}"?)` : ''}`);
    }
    const content = message.content;
    if (typeof content === 'string') return;
    if (!Array.isArray(content)) throw new ConfigError(`${at}.content must be a string or an array of parts, got ${c.describe(content)}`);
    content.forEach((part: unknown, j) => {
      const problem = messagePartProblem(part);
      if (problem) throw new ConfigError(`${at}.content[${j}]${problem}`);
    });
  });
}

/**
 * Messages as the engine takes them, from lmthing's parts or the AI SDK's: a tool call's `input`
 * becomes `args` (and `argsText`), a tool result's `output` its `result` (an error kind with
 * `isError`), so a conversation stored by an AI SDK app goes on as it was. Checked first
 * ({@link checkMessages}); other messages and parts are kept as they are.
 */
export function fromAiSdkMessages<M>(messages: readonly M[]): M[] {
  return messages.map((message) => {
    const content = (message as { content?: unknown }).content;
    if (!Array.isArray(content) || !content.some((part) => c.isPlainObject(part) && (('input' in part && !('args' in part)) || ('output' in part && !('result' in part)))))
      return message;
    return { ...message, content: content.map(fromAiSdkPart) };
  });
}

function fromAiSdkPart(part: unknown): unknown {
  if (!c.isPlainObject(part)) return part;
  if (part.type === 'tool-call' && 'input' in part && !('args' in part)) {
    const { input, ...rest } = part;
    return { ...rest, args: input, ...(typeof rest.argsText === 'string' ? {} : { argsText: JSON.stringify(input ?? {}) }) };
  }
  if (part.type === 'tool-result' && 'output' in part && !('result' in part)) {
    const { output, ...rest } = part;
    const { type, value, reason } = output as { type: string; value?: unknown; reason?: unknown };
    if (type === 'execution-denied') return { ...rest, result: { error: typeof reason === 'string' ? reason : 'the call was denied' }, isError: true };
    if (type === 'error-text') return { ...rest, result: { error: value }, isError: true };
    if (type === 'error-json') return { ...rest, result: value, isError: true };
    return { ...rest, result: value };
  }
  return part;
}
