/**
 * Mapping of provider-neutral requests to the OpenAI Chat Completions request body
 * (`POST {baseURL}/chat/completions`), also used for OpenAI-compatible servers.
 */
import { ValidationError } from '../errors.js';
import { checkSomethingToAnswer } from './empty-request.js';
import { checkToolNames, OPENAI_TOOL_NAMES } from './tool-names.js';
import { stringifyResult } from './http.js';
import { checkFileType, FILE_TYPES, imageOfFile, resolveFile } from './files.js';
import { checkImageType, dataUrlOf, IMAGE_TYPES, resolveImage } from './images.js';
import type { FilePart, ImagePart, Message, ModelRequest, Part, ReasoningOptions, ToolChoice, ToolSpec } from './types.js';

/** Dialect switches between the official API and compatible servers. */
export interface OpenAIDialect {
  /** `max_completion_tokens` (official API) or `max_tokens` (most compatible servers). */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** Send `top_k` (supported by vLLM, llama.cpp, LM Studio; not by OpenAI). */
  sendTopK: boolean;
  /** The official API: check what it refuses (image media types, tool names); compatible servers decide for themselves. */
  officialApi: boolean;
}

/** Per-model settings that shape the body. */
export interface OpenAIBodyOptions {
  /** Provider name for error messages. */
  provider: string;
  /** `effort` becomes `reasoning_effort` (OpenAI reasoning models, vLLM, Ollama, OpenRouter). */
  reasoning?: ReasoningOptions;
}

/** A Chat Completions message as sent on the wire. */
export type OpenAIWireMessage = Record<string, unknown> & { role: string };

/** Builds the Chat Completions request body for `modelId`. */
export function buildOpenAIBody(
  modelId: string,
  req: Omit<ModelRequest, 'model'>,
  stream: boolean,
  dialect: OpenAIDialect,
  options: OpenAIBodyOptions = { provider: 'openai' },
): Record<string, unknown> {
  const imageTypes = dialect.officialApi ? IMAGE_TYPES.openai : undefined;
  const messages = toOpenAIMessages(req.messages, options.provider, imageTypes);
  checkSomethingToAnswer(options.provider, messages.length, false);
  const body: Record<string, unknown> = { model: modelId, messages };
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (dialect.officialApi) checkToolNames(options.provider, req.tools, OPENAI_TOOL_NAMES);
  if (req.tools && req.tools.length > 0) body.tools = req.tools.map(toOpenAITool);
  if (req.toolChoice !== undefined) body.tool_choice = toOpenAIToolChoice(req.toolChoice);
  const rf = req.responseFormat;
  if (rf?.type === 'json') {
    body.response_format = rf.schema
      ? { type: 'json_schema', json_schema: { name: rf.name ?? 'response', ...(rf.description === undefined ? {} : { description: rf.description }), strict: true, schema: rf.schema } }
      : { type: 'json_object' };
  } else if (rf?.type === 'text') {
    body.response_format = { type: 'text' };
  }
  const p = req.params ?? {};
  if (p.maxOutputTokens !== undefined) body[dialect.maxTokensField] = p.maxOutputTokens;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.topP !== undefined) body.top_p = p.topP;
  if (p.topK !== undefined && dialect.sendTopK) body.top_k = p.topK;
  if (p.stopSequences !== undefined && p.stopSequences.length > 0) body.stop = p.stopSequences;
  if (p.seed !== undefined) body.seed = p.seed;
  if (p.presencePenalty !== undefined) body.presence_penalty = p.presencePenalty;
  if (p.frequencyPenalty !== undefined) body.frequency_penalty = p.frequencyPenalty;
  if (options.reasoning?.effort !== undefined) body.reasoning_effort = options.reasoning.effort;
  return body;
}

/** Converts a tool spec to an OpenAI function tool. */
export function toOpenAITool(t: ToolSpec): Record<string, unknown> {
  const fn: Record<string, unknown> = { name: t.name };
  if (t.description !== undefined) fn.description = t.description;
  fn.parameters = t.parameters;
  return { type: 'function', function: fn };
}

/** Converts a tool choice to OpenAI's `tool_choice`. */
export function toOpenAIToolChoice(c: ToolChoice): unknown {
  if (typeof c === 'string') return c;
  return { type: 'function', function: { name: c.toolName } };
}

/**
 * Converts the conversation to Chat Completions messages. Tool results (in `tool` messages or
 * anywhere else) become one `role: "tool"` message each; reasoning parts are not sent back.
 */
export function toOpenAIMessages(messages: Message[], provider = 'openai', imageTypes?: readonly string[]): OpenAIWireMessage[] {
  const out: OpenAIWireMessage[] = [];
  for (const m of messages) {
    if (typeof m.content === 'string') {
      if (m.role === 'tool') throw new ValidationError('a tool message needs tool-result parts, not a string');
      out.push({ role: m.role, content: m.content });
      continue;
    }
    const parts = m.content;
    for (const r of parts) {
      if (r.type === 'tool-result') {
        out.push({ role: 'tool', content: stringifyResult(r.result), tool_call_id: r.toolCallId });
      }
    }
    const rest = parts.filter((p) => p.type !== 'tool-result');
    if (m.role === 'tool') {
      if (rest.length > 0) throw new ValidationError('a tool message may only contain tool-result parts');
      continue;
    }
    if (rest.length === 0 && parts.length > 0) continue;
    if (m.role === 'system') out.push({ role: 'system', content: joinText(rest) });
    else if (m.role === 'assistant') out.push(assistantMessage(rest));
    else out.push({ role: 'user', content: userContent(rest, provider, imageTypes) });
  }
  return out;
}

function joinText(parts: Part[]): string {
  return parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

function assistantMessage(parts: Part[]): OpenAIWireMessage {
  const msg: OpenAIWireMessage = { role: 'assistant', content: joinText(parts) };
  const calls = parts.filter((p) => p.type === 'tool-call');
  if (calls.length > 0) {
    msg.tool_calls = calls.map((c) => ({
      id: c.toolCallId,
      type: 'function',
      function: { name: c.toolName, arguments: c.argsText !== '' ? c.argsText : JSON.stringify(c.args ?? {}) },
    }));
  }
  return msg;
}

function userContent(parts: Part[], provider: string, imageTypes?: readonly string[]): string | Record<string, unknown>[] {
  if (parts.every((p) => p.type === 'text')) return joinText(parts);
  const out: Record<string, unknown>[] = [];
  for (const p of parts) {
    if (p.type === 'text') out.push({ type: 'text', text: p.text });
    else if (p.type === 'image') out.push({ type: 'image_url', image_url: { url: imageUrl(p, provider, imageTypes) } });
    else if (p.type === 'file') out.push(filePart(p, provider, imageTypes));
    // reasoning and tool-call parts have no meaning in a user message and are skipped
  }
  return out;
}

/**
 * A file part: an image file as an image; a document as a `file` part with its data as a `data:`
 * URL (Chat Completions takes no file URLs). `imageTypes` set means OpenAI's own API, whose
 * document types are checked (a compatible server decides for itself).
 */
function filePart(p: FilePart, provider: string, imageTypes?: readonly string[]): Record<string, unknown> {
  const image = imageOfFile(p);
  if (image) return { type: 'image_url', image_url: { url: imageUrl(image, provider, imageTypes) } };
  const file = resolveFile(p, provider);
  if (file.kind === 'url') throw new ValidationError(`${provider}: the Chat Completions API takes a file as data, not a URL (${file.url}); pass its bytes or base64`);
  if (imageTypes) checkFileType(provider, file.mediaType, FILE_TYPES.openai);
  return { type: 'file', file: { filename: p.filename ?? defaultFilename(file.mediaType), file_data: dataUrlOf(file) } };
}

/** A name for a file the caller did not name (OpenAI requires one with `file_data`). */
export function defaultFilename(mediaType: string): string {
  return mediaType.toLowerCase() === 'application/pdf' ? 'document.pdf' : 'document';
}

/**
 * The URL form of an image part: `http(s):` URLs pass through, bytes and base64 become a `data:`
 * URL. With `accepted`, a media type outside the list is a `ValidationError`.
 */
export function imageUrl(p: ImagePart, provider = 'openai', accepted?: readonly string[]): string {
  const img = resolveImage(p, provider);
  if (accepted) checkImageType(provider, img.mediaType, accepted);
  return img.kind === 'url' ? img.url : dataUrlOf(img);
}
