/**
 * The assistant message a UI message stream builds on the client, built on the server from the same
 * chunks, so a chat route can save the chat as its user sees it (`onFinish`'s `messages`, as the
 * AI SDK's `toUIMessageStreamResponse({originalMessages, onFinish})` gives them). A response that
 * continues the last original message (an approval answered, docs/human-in-the-loop.md) updates
 * that message's parts, as the client does.
 *
 * @module
 */
import { mergedObjects } from '../config/merge.js';
import type { UIMessageChunk, UIMessageLike } from './ui-messages.js';

/** A UI message part as this builder writes it (the AI SDK's shapes: text, reasoning, step-start, tool-NAME, dynamic-tool). */
type BuiltPart = { type: string } & Record<string, unknown>;

/** A UI message with its id, as the stream's `start` chunk names it. */
export type IdentifiedUIMessage = UIMessageLike & { id: string };

export class UIMessageBuilder {
  readonly message: { id: string; role: 'assistant'; parts: BuiltPart[]; metadata?: unknown };
  /** Open text and reasoning parts by their chunk id. */
  private readonly open = new Map<string, BuiltPart>();
  aborted = false;

  /** `continued`: the last original message when it is the assistant's (its parts are copied, then updated). */
  constructor(id: string, continued: UIMessageLike | undefined) {
    const parts = continued ? (structuredClone(continued.parts) as BuiltPart[]) : [];
    this.message = { ...(continued ? structuredClone(continued) : {}), id, role: 'assistant', parts };
  }

  add(chunk: UIMessageChunk): void {
    switch (chunk.type) {
      case 'start':
      case 'finish':
      case 'message-metadata':
        if (chunk.messageMetadata != null) this.message.metadata = mergedObjects(this.message.metadata, chunk.messageMetadata);
        return;
      case 'start-step':
        this.message.parts.push({ type: 'step-start' });
        return;
      case 'text-start':
      case 'reasoning-start': {
        const part: BuiltPart = { type: chunk.type === 'text-start' ? 'text' : 'reasoning', text: '', state: 'streaming' };
        this.open.set(chunk.id, part);
        this.message.parts.push(part);
        return;
      }
      case 'text-delta':
      case 'reasoning-delta': {
        const part = this.open.get(chunk.id);
        if (part) part.text = `${part.text as string}${chunk.delta}`;
        return;
      }
      case 'text-end':
      case 'reasoning-end': {
        const part = this.open.get(chunk.id);
        if (part) part.state = 'done';
        if (part && chunk.providerMetadata) part.providerMetadata = chunk.providerMetadata;
        this.open.delete(chunk.id);
        return;
      }
      case 'tool-input-available':
        this.message.parts.push({
          type: `tool-${chunk.toolName}`,
          toolCallId: chunk.toolCallId,
          state: 'input-available',
          input: chunk.input,
          ...(chunk.providerMetadata ? { callProviderMetadata: chunk.providerMetadata } : {}),
        });
        return;
      case 'tool-input-error':
        this.message.parts.push({
          ...(chunk.dynamic ? { type: 'dynamic-tool', toolName: chunk.toolName } : { type: `tool-${chunk.toolName}` }),
          toolCallId: chunk.toolCallId,
          state: 'output-error',
          input: chunk.input,
          errorText: chunk.errorText,
          ...(chunk.providerMetadata ? { callProviderMetadata: chunk.providerMetadata } : {}),
        });
        return;
      case 'tool-approval-request':
        this.update(chunk.toolCallId, { state: 'approval-requested', approval: { id: chunk.approvalId, ...(chunk.signature === undefined ? {} : { signature: chunk.signature }) } });
        return;
      case 'tool-output-available':
        this.update(chunk.toolCallId, { state: 'output-available', output: chunk.output });
        return;
      case 'tool-output-error':
        this.update(chunk.toolCallId, { state: 'output-error', errorText: chunk.errorText });
        return;
      case 'tool-output-denied':
        this.update(chunk.toolCallId, { state: 'output-denied' });
        return;
      case 'steering-message':
        this.message.parts.push({ type: 'steering-message', id: chunk.id, parts: chunk.parts });
        return;
      case 'abort':
        this.aborted = true;
        return;
    }
  }

  /** The tool part of `toolCallId` (in this response or the message it continues) gets `fields`. */
  private update(toolCallId: string, fields: Record<string, unknown>): void {
    let part: BuiltPart | undefined;
    for (const candidate of this.message.parts) if (candidate.toolCallId === toolCallId) part = candidate;
    // A decided call keeps its approval (with the client's decision, from the original message).
    if (part) Object.assign(part, fields);
  }
}
