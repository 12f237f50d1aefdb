// The AI SDK's chat client as `useChat` runs it, without React: `AbstractChat` with its state kept in
// memory, sending the next request by itself once every approval of the last message is answered.
import assert from 'node:assert/strict';
import { AbstractChat, DefaultChatTransport, lastAssistantMessageIsCompleteWithApprovalResponses } from 'ai';

/** `useChat`'s state, kept in memory. */
export class MemoryState {
  status = 'ready';
  error = undefined;
  messages = [];
  pushMessage = (message) => void (this.messages = [...this.messages, message]);
  popMessage = () => void (this.messages = this.messages.slice(0, -1));
  replaceMessage = (index, message) => void (this.messages = this.messages.map((m, i) => (i === index ? message : m)));
  snapshot = (value) => structuredClone(value);
}

/** A chat posting to the route at `api`; `current` is its state (status, messages). */
export class ApprovalChat extends AbstractChat {
  constructor(api) {
    super({ transport: new DefaultChatTransport({ api }), state: new MemoryState(), sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });
  }
  get current() {
    return this.state;
  }
}

/** Waits until the chat is idle again, and checks it did not fail. */
export async function settled(chat) {
  for (let i = 0; i < 400 && chat.current.status !== 'ready' && chat.current.status !== 'error'; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(chat.current.status, 'ready', String(chat.current.error));
}
