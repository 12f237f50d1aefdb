/**
 * The values directive agents get back: conversation messages (a reply's message carries its
 * `.value`), tags that label appended messages, and marks that delimit ranges of a conversation.
 */
import { ConfigError } from '../errors.js';
import type { Part } from '../providers/types.js';

/** The role of a conversation message. */
export type Role = 'system' | 'user' | 'assistant' | 'tool';

/** The text parts of a content, joined (a string content is its own text). */
export function textOf(content: string | Part[]): string {
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/**
 * A label for messages, created outside agents with `L.tag(description)` and applied when
 * appending: `yield* L.user\`…\`.tag(t)`. `yield* L.messages(t)` then reads the tagged messages.
 */
export class Tag {
  private static next = 1;
  /** The tags alive, by id: held weakly, so a tag made per request goes when its run's objects do. */
  private static readonly known = new Map<string, WeakRef<Tag>>();
  private static readonly forget = new FinalizationRegistry<string>((id) => {
    if (Tag.known.get(id)?.deref() === undefined) Tag.known.delete(id);
  });
  /** Unique id sent to the engine. */
  readonly id: string;

  /** @param description What the tag marks (shown in events). */
  constructor(readonly description: string) {
    if (typeof description !== 'string') throw new ConfigError(`L.tag: expected a description string, got ${typeof description}`);
    this.id = `tag${Tag.next++}`;
    Tag.known.set(this.id, new WeakRef(this));
    Tag.forget.register(this, this.id);
  }

  /** The tag created with `id`, or a stand-in carrying the engine's description. */
  static of(id: string, description: string): Tag {
    const tag = Tag.known.get(id)?.deref();
    if (tag) return tag;
    const standIn = Object.create(Tag.prototype) as { id: string; description: string };
    standIn.id = id;
    standIn.description = description;
    return standIn;
  }

  toString(): string {
    return this.description;
  }
}

/** A range of message positions `[from, to)`, usable as a filter of `L.messages`. */
export class MarkRange {
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}
}

/** A position in a conversation (the number of messages when it was taken), from `yield* L.mark`. */
export class Mark {
  constructor(readonly position: number) {}

  /** The messages appended after this mark and before `end`. */
  to(end: Mark): MarkRange {
    if (!(end instanceof Mark)) throw new ConfigError('mark.to: expected another mark (from yield* L.mark)');
    // A range that ends before it starts would hold nothing whatever the conversation holds.
    if (end.position < this.position)
      throw new ConfigError(`mark.to: the end mark (at ${end.position} messages) comes before this one (at ${this.position}); write start.to(end)`);
    return new MarkRange(this.position, end.position);
  }
}

/** One message of a conversation, as the engine holds it. Stringifies to its text. */
export class ConversationMessage {
  /** Position in its conversation. */
  readonly index: number;
  readonly role: Role;
  readonly content: string | Part[];
  /** Tags applied when it was appended. */
  readonly tags: readonly Tag[];

  constructor(wire: { role: Role; content: string | Part[]; index?: number; tags?: Array<{ id: string; description: string }> }) {
    this.role = wire.role;
    this.content = wire.content;
    this.index = wire.index ?? -1;
    this.tags = Object.freeze((wire.tags ?? []).map((t) => Tag.of(t.id, t.description)));
  }

  /** The message's text (its text parts joined). */
  get text(): string {
    return textOf(this.content);
  }

  toString(): string {
    return this.text;
  }

  /** The plain `{role, content}` shape (used when a message is serialized). */
  toJSON(): { role: Role; content: string | Part[] } {
    return { role: this.role, content: this.content };
  }
}

/**
 * The message `yield* L.reply` returns. `.value` is the text, or, for `L.reply(schema)`, the
 * validated object; the message stringifies to its text, so `${reply}` works in templates.
 */
export class AssistantMessage<T = string> extends ConversationMessage {
  /** The reply's text, or the object that matched the schema. */
  readonly value: T;

  constructor(wire: { role: Role; content: string | Part[]; index?: number }, value: T) {
    super(wire);
    this.value = value;
  }
}

/** Deep-freezes a JSON-like value (for snapshots). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
