/**
 * Mapping of provider-neutral requests to the Gemini `generateContent` request body: `contents`
 * (roles `user` / `model`), `systemInstruction`, `tools[].functionDeclarations` (schemas converted
 * to Gemini's subset), `toolConfig`, and `generationConfig` (sampling, `responseSchema`,
 * `thinkingConfig`). Thought signatures Gemini attached to earlier parts are sent back on the same
 * parts.
 */
import { ValidationError } from '../errors.js';
import { checkSomethingToAnswer } from './empty-request.js';
import { checkToolNames, GEMINI_TOOL_NAMES } from './tool-names.js';
import { isObject, parseToolArgs } from './http.js';
import { imageOfFile, resolveFile } from './files.js';
import { checkImageType, IMAGE_TYPES, resolveImage } from './images.js';
import { toGeminiSchema } from './google-schema.js';
import type { ImagePart, Message, ModelRequest, Part, ReasoningOptions, ToolChoice, ToolSpec } from './types.js';

/** Prefix of the tool call ids lmthing makes up when Gemini sends none; they are never sent to Gemini. */
export const SYNTHETIC_CALL_ID_PREFIX = 'gemini-call-';

/** One `Content` as sent on the wire. */
export interface GeminiContent {
  role: 'user' | 'model';
  parts: Record<string, unknown>[];
}

/** Per-model settings that shape the body. */
export interface GeminiBodyOptions {
  provider: string;
  reasoning?: ReasoningOptions;
}

/** Builds the `generateContent` / `streamGenerateContent` body. */
export function buildGeminiBody(req: Omit<ModelRequest, 'model'>, options: GeminiBodyOptions): Record<string, unknown> {
  const { provider } = options;
  const contents = toGeminiContents(req.messages, provider);
  checkSomethingToAnswer(provider, contents.length, true);
  const body: Record<string, unknown> = { contents };
  const system = systemText(req.messages);
  if (system !== undefined) body.systemInstruction = { parts: [{ text: system }] };
  checkToolNames(provider, req.tools, GEMINI_TOOL_NAMES);
  if (req.tools && req.tools.length > 0) body.tools = [{ functionDeclarations: req.tools.map((t) => toFunctionDeclaration(t, provider)) }];
  if (req.toolChoice !== undefined) body.toolConfig = { functionCallingConfig: toFunctionCallingConfig(req.toolChoice) };
  body.generationConfig = generationConfig(req, options);
  return body;
}

function generationConfig(req: Omit<ModelRequest, 'model'>, options: GeminiBodyOptions): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const p = req.params ?? {};
  if (p.temperature !== undefined) config.temperature = p.temperature;
  if (p.topP !== undefined) config.topP = p.topP;
  if (p.topK !== undefined) config.topK = p.topK;
  if (p.maxOutputTokens !== undefined) config.maxOutputTokens = p.maxOutputTokens;
  if (p.stopSequences !== undefined && p.stopSequences.length > 0) config.stopSequences = p.stopSequences;
  if (p.seed !== undefined) config.seed = p.seed;
  if (p.presencePenalty !== undefined) config.presencePenalty = p.presencePenalty;
  if (p.frequencyPenalty !== undefined) config.frequencyPenalty = p.frequencyPenalty;
  const rf = req.responseFormat;
  if (rf?.type === 'json') {
    config.responseMimeType = 'application/json';
    if (rf.schema) config.responseSchema = toGeminiSchema(rf.schema, 'responseSchema', options.provider);
  } else if (rf?.type === 'text') {
    config.responseMimeType = 'text/plain';
  }
  const r = options.reasoning;
  if (r) {
    const thinking: Record<string, unknown> = { includeThoughts: r.includeThoughts !== false };
    if (r.budgetTokens !== undefined) thinking.thinkingBudget = r.budgetTokens;
    if (r.effort !== undefined) thinking.thinkingLevel = r.effort;
    config.thinkingConfig = thinking;
  }
  return config;
}

/** A function declaration; the parameters go through {@link toGeminiSchema}. */
export function toFunctionDeclaration(t: ToolSpec, provider = 'google'): Record<string, unknown> {
  const decl: Record<string, unknown> = { name: t.name };
  if (t.description !== undefined) decl.description = t.description;
  decl.parameters = toGeminiSchema(t.parameters, `tool '${t.name}' parameters`, provider);
  return decl;
}

/** `auto` → AUTO, `none` → NONE, `required` → ANY, a named tool → ANY limited to it. */
export function toFunctionCallingConfig(c: ToolChoice): Record<string, unknown> {
  if (c === 'auto') return { mode: 'AUTO' };
  if (c === 'none') return { mode: 'NONE' };
  if (c === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [c.toolName] };
}

function systemText(messages: Message[]): string | undefined {
  const texts = messages
    .filter((m) => m.role === 'system')
    .map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p.text : '')).join('')));
  return texts.length > 0 ? texts.join('\n\n') : undefined;
}

/**
 * Converts the non-system messages: assistant turns become `model` contents, everything else
 * (user text, images, tool results as `functionResponse`) `user` contents; consecutive contents of
 * one role are merged, and contents without parts are left out.
 */
export function toGeminiContents(messages: Message[], provider = 'google'): GeminiContent[] {
  const out: GeminiContent[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'tool' && typeof m.content === 'string') throw new ValidationError('a tool message needs tool-result parts, not a string');
    const role = m.role === 'assistant' ? 'model' : 'user';
    const parts = typeof m.content === 'string' ? (m.content === '' ? [] : [{ text: m.content }]) : toParts(m.content, role, provider);
    if (parts.length === 0) continue;
    const prev = out[out.length - 1];
    if (prev && prev.role === role) prev.parts.push(...parts);
    else out.push({ role, parts });
  }
  return out;
}

function toParts(parts: Part[], role: 'user' | 'model', provider: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of parts) {
    const wire = toPart(p, role, provider);
    if (wire) out.push(wire);
  }
  // Function responses answer the calls of the previous model turn; keep them first.
  return [...out.filter((w) => w.functionResponse), ...out.filter((w) => !w.functionResponse)];
}

function signed(wire: Record<string, unknown>, p: { signature?: string; signedBy?: string }): Record<string, unknown> {
  if (p.signedBy === 'google' && p.signature !== undefined) wire.thoughtSignature = p.signature;
  return wire;
}

function toPart(p: Part, role: 'user' | 'model', provider: string): Record<string, unknown> | undefined {
  switch (p.type) {
    case 'text':
      if (p.text === '' && p.signedBy !== 'google') return undefined;
      return signed({ text: p.text }, p);
    case 'reasoning':
      // Thoughts only go back to Gemini when Gemini signed them; other reasoning is dropped.
      if (role !== 'model' || p.signedBy !== 'google') return undefined;
      return signed({ text: p.text, thought: true }, p);
    case 'image':
      return imagePart(p, provider);
    case 'file': {
      // Gemini takes documents of any type as it takes images.
      const image = imageOfFile(p);
      if (image) return imagePart(image, provider);
      const file = resolveFile(p, provider);
      return file.kind === 'url' ? { fileData: { mimeType: file.mediaType, fileUri: file.url } } : { inlineData: { mimeType: file.mediaType, data: file.data } };
    }
    case 'tool-call': {
      const args = isObject(p.args) ? p.args : parseToolArgs(p.argsText);
      const call: Record<string, unknown> = { name: p.toolName, args: isObject(args) ? args : {} };
      if (!p.toolCallId.startsWith(SYNTHETIC_CALL_ID_PREFIX)) call.id = p.toolCallId;
      return signed({ functionCall: call }, p);
    }
    case 'tool-result': {
      const response: Record<string, unknown> = {};
      response[p.isError ? 'error' : 'output'] = p.result === undefined ? '' : p.result;
      const fr: Record<string, unknown> = { name: p.toolName, response };
      if (!p.toolCallId.startsWith(SYNTHETIC_CALL_ID_PREFIX)) fr.id = p.toolCallId;
      return { functionResponse: fr };
    }
  }
}

/** Bytes become `inlineData`; an `http(s)` URL becomes `fileData`, which needs a MIME type. */
function imagePart(p: ImagePart, provider: string): Record<string, unknown> {
  const img = resolveImage(p, provider);
  if (img.kind === 'url') {
    if (img.mediaType === undefined) {
      throw new ValidationError(`${provider}: an image URL needs a mediaType (Gemini's fileData requires a MIME type); set mediaType or pass the bytes`);
    }
    checkImageType(provider, img.mediaType, IMAGE_TYPES.google);
    return { fileData: { mimeType: img.mediaType, fileUri: img.url } };
  }
  checkImageType(provider, img.mediaType, IMAGE_TYPES.google);
  return { inlineData: { mimeType: img.mediaType, data: img.data } };
}
