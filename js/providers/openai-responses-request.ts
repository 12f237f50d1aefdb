/**
 * Mapping of provider-neutral requests to the OpenAI Responses API request body
 * (`POST {baseURL}/responses`). Stateless: the whole conversation is sent as input items every time
 * (messages, `function_call`, `function_call_output`, and `reasoning` items that carry their
 * encrypted content), never a `previous_response_id`.
 */
import { ValidationError } from '../errors.js';
import { checkSomethingToAnswer } from './empty-request.js';
import { checkToolNames, OPENAI_TOOL_NAMES } from './tool-names.js';
import { stringifyResult } from './http.js';
import { checkFileType, FILE_TYPES, imageOfFile, resolveFile } from './files.js';
import { checkImageType, dataUrlOf, IMAGE_TYPES, resolveImage } from './images.js';
import { defaultFilename } from './openai-request.js';
import type { FilePart, Message, ModelRequest, Part, ReasoningOptions, ToolChoice, ToolSpec } from './types.js';

/** One input item as sent on the wire. */
export type ResponsesInputItem = Record<string, unknown>;

/** Per-model settings that shape the body. */
export interface ResponsesBodyOptions {
  provider: string;
  reasoning?: ReasoningOptions;
  /** Let the server keep the response (`store: true`); default false. */
  store: boolean;
  /** The official API: check what it refuses (image media types, tool names). */
  officialApi: boolean;
}

/** Builds the Responses API request body for `modelId`. */
export function buildResponsesBody(
  modelId: string,
  req: Omit<ModelRequest, 'model'>,
  stream: boolean,
  options: ResponsesBodyOptions,
): Record<string, unknown> {
  const input = toResponsesInput(req.messages, options);
  checkSomethingToAnswer(options.provider, input.length, false);
  const body: Record<string, unknown> = { model: modelId, input, store: options.store };
  if (stream) body.stream = true;
  if (options.officialApi) checkToolNames(options.provider, req.tools, OPENAI_TOOL_NAMES);
  if (req.tools && req.tools.length > 0) body.tools = req.tools.map(toResponsesTool);
  if (req.toolChoice !== undefined) body.tool_choice = toResponsesToolChoice(req.toolChoice);
  const rf = req.responseFormat;
  if (rf?.type === 'json') {
    body.text = {
      format: rf.schema
        ? { type: 'json_schema', name: rf.name ?? 'response', ...(rf.description === undefined ? {} : { description: rf.description }), schema: rf.schema, strict: true }
        : { type: 'json_object' },
    };
  } else if (rf?.type === 'text') {
    body.text = { format: { type: 'text' } };
  }
  const p = req.params ?? {};
  if (p.maxOutputTokens !== undefined) body.max_output_tokens = p.maxOutputTokens;
  if (p.temperature !== undefined) body.temperature = p.temperature;
  if (p.topP !== undefined) body.top_p = p.topP;
  // stop sequences, top_k, seed and the penalties do not exist in the Responses API and are left out
  const r = options.reasoning;
  if (r) {
    const reasoning: Record<string, unknown> = {};
    if (r.effort !== undefined) reasoning.effort = r.effort;
    if (r.includeThoughts !== false) reasoning.summary = 'auto';
    body.reasoning = reasoning;
    // Without server-side storage, reasoning can only come back as encrypted content.
    if (!options.store) body.include = ['reasoning.encrypted_content'];
  }
  return body;
}

/**
 * Converts a tool spec to a Responses function tool. `strict` is sent as false: the API defaults to
 * strict schemas, which reject ordinary JSON Schemas (optional properties, open objects).
 */
export function toResponsesTool(t: ToolSpec): Record<string, unknown> {
  const tool: Record<string, unknown> = { type: 'function', name: t.name };
  if (t.description !== undefined) tool.description = t.description;
  tool.parameters = t.parameters;
  tool.strict = false;
  return tool;
}

/** Converts a tool choice to the Responses `tool_choice`. */
export function toResponsesToolChoice(c: ToolChoice): unknown {
  if (typeof c === 'string') return c;
  return { type: 'function', name: c.toolName };
}

/** Converts the conversation to input items, in order. */
export function toResponsesInput(messages: Message[], options: ResponsesBodyOptions): ResponsesInputItem[] {
  const out: ResponsesInputItem[] = [];
  for (const m of messages) {
    if (typeof m.content === 'string') {
      if (m.role === 'tool') throw new ValidationError('a tool message needs tool-result parts, not a string');
      out.push({ role: m.role, content: m.content });
      continue;
    }
    if (m.role === 'tool' && m.content.some((p) => p.type !== 'tool-result')) {
      throw new ValidationError('a tool message may only contain tool-result parts');
    }
    if (m.role === 'assistant') out.push(...assistantItems(m.content, options));
    else out.push(...userItems(m.role, m.content, options));
  }
  return out;
}

/** Tool results become `function_call_output` items; the other parts one message item. */
function userItems(role: 'system' | 'user' | 'tool', parts: Part[], options: ResponsesBodyOptions): ResponsesInputItem[] {
  const out: ResponsesInputItem[] = [];
  for (const p of parts) {
    if (p.type === 'tool-result') out.push({ type: 'function_call_output', call_id: p.toolCallId, output: stringifyResult(p.result) });
  }
  const content: Record<string, unknown>[] = [];
  for (const p of parts) {
    if (p.type === 'text') content.push({ type: 'input_text', text: p.text });
    else if (p.type === 'image') content.push(inputImage(p, options));
    else if (p.type === 'file') content.push(inputFile(p, options));
  }
  if (content.length === 0) return out;
  if (role === 'system') {
    out.push({ role: 'system', content: content.map((c) => (c.type === 'input_text' ? (c.text as string) : '')).join('') });
  } else {
    out.push({ role: 'user', content });
  }
  return out;
}

/** A document as an `input_file` (data as a `data:` URL, or its URL); an image file as an image. */
function inputFile(p: FilePart, options: ResponsesBodyOptions): Record<string, unknown> {
  const image = imageOfFile(p);
  if (image) return inputImage(image, options);
  const file = resolveFile(p, options.provider);
  if (options.officialApi) checkFileType(options.provider, file.mediaType, FILE_TYPES.openai);
  if (file.kind === 'url') return { type: 'input_file', file_url: file.url };
  return { type: 'input_file', filename: p.filename ?? defaultFilename(file.mediaType), file_data: dataUrlOf(file) };
}

function inputImage(p: Part & { type: 'image' }, options: ResponsesBodyOptions): Record<string, unknown> {
  const img = resolveImage(p, options.provider);
  if (options.officialApi) checkImageType(options.provider, img.mediaType, IMAGE_TYPES.openai);
  return { type: 'input_image', image_url: img.kind === 'url' ? img.url : dataUrlOf(img), detail: 'auto' };
}

/**
 * An assistant turn as items, in order: reasoning items (only those this API signed, with their
 * encrypted content; with `store` their id alone suffices), text as assistant messages, tool calls
 * as `function_call` items.
 */
function assistantItems(parts: Part[], options: ResponsesBodyOptions): ResponsesInputItem[] {
  const out: ResponsesInputItem[] = [];
  let text = '';
  const flushText = (): void => {
    if (text !== '') out.push({ role: 'assistant', content: text });
    text = '';
  };
  for (const p of parts) {
    if (p.type === 'text') {
      text += p.text;
      continue;
    }
    if (p.type === 'reasoning') {
      const item = reasoningItem(p, options.store);
      if (item) {
        flushText();
        out.push(item);
      }
      continue;
    }
    if (p.type === 'tool-call') {
      flushText();
      const args = p.argsText !== '' ? p.argsText : JSON.stringify(p.args ?? {});
      out.push({ type: 'function_call', call_id: p.toolCallId, name: p.toolName, arguments: args });
      continue;
    }
    if (p.type === 'tool-result') {
      flushText();
      out.push({ type: 'function_call_output', call_id: p.toolCallId, output: stringifyResult(p.result) });
    }
  }
  flushText();
  return out;
}

function reasoningItem(p: Part & { type: 'reasoning' }, store: boolean): ResponsesInputItem | undefined {
  if (p.signedBy !== 'openai-responses' || p.itemId === undefined) return undefined;
  if (p.signature === undefined && !store) return undefined; // the server kept nothing to refer to
  const item: ResponsesInputItem = {
    type: 'reasoning',
    id: p.itemId,
    summary: p.text ? [{ type: 'summary_text', text: p.text }] : [],
  };
  if (p.signature !== undefined) item.encrypted_content = p.signature;
  return item;
}
