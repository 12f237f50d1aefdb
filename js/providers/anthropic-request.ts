/**
 * Mapping of provider-neutral requests to the Anthropic Messages request body (`POST {baseURL}/messages`).
 */
import { ValidationError } from '../errors.js';
import { checkSomethingToAnswer } from './empty-request.js';
import { ANTHROPIC_TOOL_NAMES, checkToolNames } from './tool-names.js';
import { isObject, parseToolArgs, stringifyResult } from './http.js';
import { checkFileType, FILE_TYPES, imageOfFile, resolveFile } from './files.js';
import { base64ToBytes, checkImageType, IMAGE_TYPES, resolveImage } from './images.js';
import type { FilePart, ImagePart, Message, ModelRequest, Part, ReasoningOptions, ToolChoice, ToolSpec } from './types.js';

/** `max_tokens` is required by the Messages API; this is used when `params.maxOutputTokens` is unset. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** Thinking budgets used for `reasoning.effort` when no `budgetTokens` is given (1024 is the API's minimum). */
export const ANTHROPIC_EFFORT_BUDGETS = { minimal: 1024, low: 2048, medium: 8192, high: 24576 } as const;

/**
 * Prompt caching (`cache_control` breakpoints). Anthropic caches the prompt prefix up to each
 * breakpoint: `tools` marks the last tool, `system` the system prompt, `messages` the last block of
 * the conversation (so the next turn reads it from the cache).
 */
export interface AnthropicCacheOptions {
  system?: boolean;
  tools?: boolean;
  messages?: boolean;
  /** Cache lifetime: `5m` (the API's default) or `1h`. */
  ttl?: '5m' | '1h';
}

/** Per-model settings that shape the body. */
export interface AnthropicBodyOptions {
  provider: string;
  reasoning?: ReasoningOptions;
  cache?: AnthropicCacheOptions;
}

/** A content block as sent on the wire. */
export type AnthropicBlock = Record<string, unknown> & { type: string };

/** A Messages API message as sent on the wire. */
export interface AnthropicWireMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

/** Builds the Messages request body for `modelId`. */
export function buildAnthropicBody(
  modelId: string,
  req: Omit<ModelRequest, 'model'>,
  stream: boolean,
  options: AnthropicBodyOptions = { provider: 'anthropic' },
): Record<string, unknown> {
  const { provider, cache } = options;
  const marker = cache ? cacheControl(cache) : undefined;
  const messages = toAnthropicMessages(req.messages, provider);
  checkSomethingToAnswer(provider, messages.length, true);
  if (cache?.messages && marker) markLastBlock(messages, marker);
  const body: Record<string, unknown> = { model: modelId, messages };
  const system = systemText(req.messages);
  if (system !== undefined) body.system = cache?.system && marker ? [{ type: 'text', text: system, cache_control: marker }] : system;
  const p = req.params ?? {};
  const budget = thinkingBudget(options.reasoning);
  body.max_tokens = p.maxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS + (budget ?? 0);
  if (budget !== undefined) {
    checkThinkingParams(provider, budget, p);
    body.thinking = { type: 'enabled', budget_tokens: budget };
  }
  if (stream) body.stream = true;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.topP !== undefined) body.top_p = p.topP;
  if (p.topK !== undefined) body.top_k = p.topK;
  if (p.stopSequences !== undefined && p.stopSequences.length > 0) body.stop_sequences = p.stopSequences;
  checkToolNames(provider, req.tools, ANTHROPIC_TOOL_NAMES);
  if (req.tools && req.tools.length > 0) {
    const tools = req.tools.map(toAnthropicTool);
    if (cache?.tools && marker) tools[tools.length - 1].cache_control = marker;
    body.tools = tools;
  }
  if (req.toolChoice !== undefined) body.tool_choice = toAnthropicToolChoice(req.toolChoice);
  const rf = req.responseFormat;
  if (rf?.type === 'json' && rf.schema) body.output_config = { format: { type: 'json_schema', schema: rf.schema } };
  return body;
}

function cacheControl(cache: AnthropicCacheOptions): Record<string, unknown> | undefined {
  if (!cache.system && !cache.tools && !cache.messages) return undefined;
  return cache.ttl === '1h' ? { type: 'ephemeral', ttl: '1h' } : { type: 'ephemeral' };
}

/** Puts the cache breakpoint on the last block of the conversation. */
function markLastBlock(messages: AnthropicWireMessage[], marker: Record<string, unknown>): void {
  const last = messages[messages.length - 1];
  if (!last) return;
  if (typeof last.content === 'string') last.content = [{ type: 'text', text: last.content }];
  const block = last.content[last.content.length - 1];
  if (block && block.type !== 'thinking' && block.type !== 'redacted_thinking') block.cache_control = marker;
}

/** The thinking budget asked for, or undefined when thinking is off. */
export function thinkingBudget(r: ReasoningOptions | undefined): number | undefined {
  if (!r) return undefined;
  if (r.budgetTokens !== undefined) return r.budgetTokens;
  return ANTHROPIC_EFFORT_BUDGETS[r.effort ?? 'medium'];
}

/** Extended thinking constrains the other settings; say which one to change before the API refuses. */
function checkThinkingParams(provider: string, budget: number, p: NonNullable<ModelRequest['params']>): void {
  if (!Number.isInteger(budget) || budget < 1024) {
    throw new ValidationError(`${provider}: reasoning.budgetTokens must be a whole number >= 1024 for extended thinking, got ${budget}`);
  }
  if (p.maxOutputTokens !== undefined && p.maxOutputTokens <= budget) {
    throw new ValidationError(
      `${provider}: maxOutputTokens (${p.maxOutputTokens}) must be larger than the thinking budget (${budget}); raise maxOutputTokens or lower reasoning.budgetTokens`,
    );
  }
  if (p.temperature !== undefined && p.temperature !== 1) {
    throw new ValidationError(`${provider}: extended thinking only works with temperature 1 (or unset), got ${p.temperature}; remove temperature or turn reasoning off`);
  }
  if (p.topK !== undefined) throw new ValidationError(`${provider}: extended thinking does not allow topK; remove it or turn reasoning off`);
}

/** Converts a tool spec to an Anthropic tool (`input_schema`). */
export function toAnthropicTool(t: ToolSpec): Record<string, unknown> {
  const tool: Record<string, unknown> = { name: t.name };
  if (t.description !== undefined) tool.description = t.description;
  tool.input_schema = t.parameters;
  return tool;
}

/** Converts a tool choice (`required` becomes Anthropic's choice that forces some tool call). */
export function toAnthropicToolChoice(c: ToolChoice): Record<string, unknown> {
  if (c === 'auto') return { type: 'auto' };
  if (c === 'none') return { type: 'none' };
  if (c === 'required') return { type: 'any' };
  return { type: 'tool', name: c.toolName };
}

function systemText(messages: Message[]): string | undefined {
  const texts = messages
    .filter((m) => m.role === 'system')
    .map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p.text : '')).join('')));
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}

/**
 * Converts the non-system messages. `tool` messages become user messages of `tool_result` blocks;
 * consecutive messages of the same role are merged (tool results first), as the API expects.
 */
export function toAnthropicMessages(messages: Message[], provider = 'anthropic'): AnthropicWireMessage[] {
  const out: AnthropicWireMessage[] = [];
  const lastIndex = messages.length - 1;
  for (const [index, m] of messages.entries()) {
    if (m.role === 'system') continue;
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    if (m.role === 'tool' && typeof m.content === 'string') {
      throw new ValidationError('a tool message needs tool-result parts, not a string');
    }
    const content: string | AnthropicBlock[] =
      typeof m.content === 'string'
        ? m.content
        : m.content.map((p) => toBlock(p, provider)).filter((b): b is AnthropicBlock => b !== undefined);
    // The API refuses a turn with no content (an empty answer, say, before a schema retry), except
    // a final assistant prefill: it is left out, and the turns around it merge.
    if (content.length === 0 && !(index === lastIndex && role === 'assistant')) continue;
    const prev = out[out.length - 1];
    if (prev && prev.role === role) {
      prev.content = orderBlocks([...asBlocks(prev.content), ...asBlocks(content)]);
    } else {
      out.push({ role, content: typeof content === 'string' ? content : orderBlocks(content) });
    }
  }
  return out;
}

function asBlocks(c: string | AnthropicBlock[]): AnthropicBlock[] {
  return typeof c === 'string' ? (c === '' ? [] : [{ type: 'text', text: c }]) : c;
}

/** Tool results must open a user turn; thinking blocks must open an assistant turn. */
function orderBlocks(blocks: AnthropicBlock[]): AnthropicBlock[] {
  const first = (b: AnthropicBlock): boolean => b.type === 'tool_result' || b.type === 'thinking' || b.type === 'redacted_thinking';
  const leading = blocks.filter(first);
  return leading.length === 0 ? blocks : [...leading, ...blocks.filter((b) => !first(b))];
}

function toBlock(p: Part, provider: string): AnthropicBlock | undefined {
  switch (p.type) {
    case 'text':
      return p.text === '' ? undefined : { type: 'text', text: p.text };
    case 'image':
      return { type: 'image', source: imageSource(p, provider) };
    case 'file':
      return fileBlock(p, provider);
    case 'tool-call': {
      const input = isObject(p.args) ? p.args : parseToolArgs(p.argsText);
      return { type: 'tool_use', id: p.toolCallId, name: p.toolName, input: isObject(input) ? input : {} };
    }
    case 'tool-result': {
      const block: AnthropicBlock = { type: 'tool_result', tool_use_id: p.toolCallId, content: stringifyResult(p.result) };
      if (p.isError) block.is_error = true;
      return block;
    }
    case 'reasoning':
      // Only thinking Anthropic signed can go back; other providers' reasoning is dropped.
      if (p.signedBy !== 'anthropic' || p.signature === undefined) return undefined;
      if (p.redacted) return { type: 'redacted_thinking', data: p.signature };
      return { type: 'thinking', thinking: p.text, signature: p.signature };
  }
}

/**
 * A file as a `document` block (a PDF as base64 or a URL, plain text as text), titled with its
 * filename; an image file as an image block.
 * @throws ValidationError for a type Anthropic does not take as a document.
 */
function fileBlock(p: FilePart, provider: string): AnthropicBlock {
  const image = imageOfFile(p);
  if (image) return { type: 'image', source: imageSource(image, provider) };
  const file = resolveFile(p, provider);
  const mediaType = file.mediaType.toLowerCase();
  checkFileType(provider, mediaType, FILE_TYPES.anthropic);
  let source: Record<string, unknown>;
  if (file.kind === 'url') source = { type: 'url', url: file.url };
  else if (mediaType === 'text/plain') source = { type: 'text', media_type: 'text/plain', data: new TextDecoder().decode(base64ToBytes(file.data)) };
  else source = { type: 'base64', media_type: mediaType, data: file.data };
  return { type: 'document', source, ...(p.filename ? { title: p.filename } : {}) };
}

/**
 * The `source` of an image block: a URL, or base64 data (bytes, a data URL or raw base64).
 * @throws ValidationError for a media type Anthropic does not take.
 */
export function imageSource(p: ImagePart, provider = 'anthropic'): Record<string, unknown> {
  const img = resolveImage(p, provider);
  checkImageType(provider, img.mediaType, IMAGE_TYPES.anthropic);
  if (img.kind === 'url') return { type: 'url', url: img.url };
  return { type: 'base64', media_type: img.mediaType, data: img.data };
}
