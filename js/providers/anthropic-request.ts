/**
 * Mapping of provider-neutral requests to the Anthropic Messages request body (`POST {baseURL}/messages`).
 */
import { ValidationError } from '../errors.js';
import { isObject, parseToolArgs, stringifyResult } from './http.js';
import type { ImagePart, Message, ModelRequest, Part, ToolChoice, ToolSpec } from './types.js';

/** `max_tokens` is required by the Messages API; this is used when `params.maxOutputTokens` is unset. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** A content block as sent on the wire. */
export type AnthropicBlock = Record<string, unknown> & { type: string };

/** A Messages API message as sent on the wire. */
export interface AnthropicWireMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

/** Builds the Messages request body for `modelId`. */
export function buildAnthropicBody(modelId: string, req: Omit<ModelRequest, 'model'>, stream: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = { model: modelId, messages: toAnthropicMessages(req.messages) };
  const system = systemText(req.messages);
  if (system !== undefined) body.system = system;
  const p = req.params ?? {};
  body.max_tokens = p.maxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  if (stream) body.stream = true;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.topP !== undefined) body.top_p = p.topP;
  if (p.topK !== undefined) body.top_k = p.topK;
  if (p.stopSequences !== undefined && p.stopSequences.length > 0) body.stop_sequences = p.stopSequences;
  if (req.tools && req.tools.length > 0) body.tools = req.tools.map(toAnthropicTool);
  if (req.toolChoice !== undefined) body.tool_choice = toAnthropicToolChoice(req.toolChoice);
  const rf = req.responseFormat;
  if (rf?.type === 'json' && rf.schema) body.output_config = { format: { type: 'json_schema', schema: rf.schema } };
  return body;
}

/** Converts a tool spec to an Anthropic tool (`input_schema`). */
export function toAnthropicTool(t: ToolSpec): Record<string, unknown> {
  const tool: Record<string, unknown> = { name: t.name };
  if (t.description !== undefined) tool.description = t.description;
  tool.input_schema = t.parameters;
  return tool;
}

/** Converts a tool choice (`required` becomes `any`). */
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
export function toAnthropicMessages(messages: Message[]): AnthropicWireMessage[] {
  const out: AnthropicWireMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    if (m.role === 'tool' && typeof m.content === 'string') {
      throw new ValidationError('a tool message needs tool-result parts, not a string');
    }
    const content: string | AnthropicBlock[] =
      typeof m.content === 'string' ? m.content : m.content.map(toBlock).filter((b): b is AnthropicBlock => b !== undefined);
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

/** Tool results must open a user turn. */
function orderBlocks(blocks: AnthropicBlock[]): AnthropicBlock[] {
  const results = blocks.filter((b) => b.type === 'tool_result');
  return results.length === 0 ? blocks : [...results, ...blocks.filter((b) => b.type !== 'tool_result')];
}

function toBlock(p: Part): AnthropicBlock | undefined {
  switch (p.type) {
    case 'text':
      return p.text === '' ? undefined : { type: 'text', text: p.text };
    case 'image':
      return { type: 'image', source: imageSource(p) };
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
      return undefined; // thinking blocks need Anthropic's signature to be sent back
  }
}

/** The `source` of an image block: a URL, or base64 data (from a data URL or raw). */
export function imageSource(p: ImagePart): Record<string, unknown> {
  if (/^https?:/i.test(p.data)) return { type: 'url', url: p.data };
  const dataUrl = /^data:([^;,]+)?(;base64)?,(.*)$/is.exec(p.data);
  if (dataUrl) return { type: 'base64', media_type: dataUrl[1] ?? p.mediaType ?? 'image/png', data: dataUrl[3] };
  return { type: 'base64', media_type: p.mediaType ?? 'image/png', data: p.data };
}
