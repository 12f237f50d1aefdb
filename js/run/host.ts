/**
 * What the host keeps per engine (no module-global run state: two engines in one process share
 * nothing): the models each live run may call, the run's copy of its conversation, where its text
 * deltas go, and the human-in-the-loop routes. Installs the engine's `model.generate` handler once.
 */
import type { Engine, OpRequest } from '../engine.js';
import type { CallWarning, EmbeddingModel, LanguageModel, Message, ModelRequest, Part, ProviderOptions, ReasoningBlockEnd, TextBlockEnd, ToolSpec } from '../providers/types.js';
import { LmthingError, ProviderError } from '../errors.js';
import { HumanHost } from './human-host.js';
import { ChunkLengthRecorder, decodeChunkLengths } from './chunk-lengths.js';
import { RawChunkRecorder, RawChunkReplay } from './raw-chunks.js';
import { TextAccumulator } from '../providers/text-accumulator.js';
import { checkDeltaText, checkEmbedResult, checkModelResponse } from './model-response.js';
import type { CallSettings } from './run-config.js';
import { observedModelCall, OutputTimes, watchesModelCalls, type ModelCallCallbacks } from './call-watchers.js';
import { ChunkWatch, type ChunkTimeouts } from './timeouts.js';
import { mergedObjects } from '../config/merge.js';

/** What the host keeps for one run (prompt run, sub-agent or directive run). */
export interface RunModels {
  /** Model references the run's ops may name, each the user-facing name of its model. */
  readonly models: Map<string, LanguageModel>;
  /** Where the text of a model call goes while it streams; `step` is the op's `step`. */
  onText(text: string, step: unknown): void;
  /** Where the reasoning (thinking) of a model call goes while it streams, if anywhere. */
  onReasoning?(text: string, step: unknown): void;
  /**
   * A reasoning block of a model call begins: the `onReasoning` texts after it belong to it. Called
   * before each block's first text, so blocks that stream back to back stay apart.
   */
  onReasoningStart?(step: unknown): void;
  /**
   * A model call's reasoning block ended (once the call has ended, one per block in the answer's
   * order): its length and what the provider needs to verify it when it is sent back.
   */
  onReasoningEnd?(block: ReasoningBlockEnd, step: unknown): void;
  /** A model call whose answer has signed text ended: each of its text blocks, in order (see `onReasoningEnd`). */
  onTextEnd?(block: TextBlockEnd, step: unknown): void;
  /**
   * A model call that streamed ended with `whole` as its text (or reasoning): what keeps the
   * deltas may keep views of it instead of a copy.
   */
  onStreamed?(type: 'text-delta' | 'reasoning-delta', whole: string, step: unknown): void;
  /**
   * The conversation as the engine synced it: a prompt run's model.generate sends only the messages
   * the host does not have (`conversation: {base, append}`), and the host adds the assistant turn itself.
   */
  conversation: Message[];
  /** A directive run's conversations as the engine synced them, by conversation id (`conversation: {id, base, append}`). */
  conversations?: Map<number, Message[]>;
  /** The id the run's call watchers and step callbacks name its calls by (call-id.ts). */
  readonly callId: string;
  /** The run that started this one (a sub-agent's parent): its models are reachable too (cascades). */
  readonly parent?: RunModels;
  /** Provider options and headers of the run's model calls (a sub-agent takes its parent's). */
  callSettings?: CallSettings;
  /** What a model call of the run could not honour (a setting its API does not have). */
  onWarnings?: (warnings: CallWarning[]) => void;
  /** The run's onLanguageModelCallStart/End (a sub-agent's calls are not reported to its parent's). */
  modelCallWatchers?: ModelCallCallbacks;
  /** The run's `timeout.firstChunkMs` / `chunkMs` (a sub-agent's calls have none, as with `modelTimeout`). */
  chunkTimeouts?: ChunkTimeouts;
  /** A raw chunk of a model call's stream, for a run with `includeRawChunks` (its own calls, not a sub-agent's). */
  onRaw?(rawValue: unknown, step: unknown): void;
}

const hosts = new WeakMap<Engine, EngineHost>();

/** How many embedding models an engine keeps registered (the least recently registered go first). */
const MAX_EMBEDDING_MODELS = 256;

export class EngineHost {
  readonly human: HumanHost;
  private readonly runs = new Map<number, RunModels>();
  /**
   * Embedding models the engine's `model.embed` ops may name (memories outlive runs, so per
   * engine), the most recently registered last, at most {@link MAX_EMBEDDING_MODELS}: a server whose
   * runs each make a model object (`offlineEmbedding()` in the prompt function) would keep them all.
   */
  private readonly embeddingModels = new Map<string, EmbeddingModel>();
  private readonly embeddingRefs = new WeakMap<EmbeddingModel, string>();
  private nextEmbeddingRef = 2;
  /** The `provider:modelId` names given out (as few as the kinds of models used). */
  private readonly embeddingBases = new Set<string>();

  /** The host of `engine`, created (with its op handlers) on first use. */
  static of(engine: Engine): EngineHost {
    let host = hosts.get(engine);
    if (!host) {
      host = new EngineHost(engine);
      hosts.set(engine, host);
    }
    return host;
  }

  private constructor(private readonly engine: Engine) {
    this.human = new HumanHost(engine);
    engine.registerOpHandler('model.generate', (op, signal) => this.generate(op, signal));
    engine.registerOpHandler('model.replay', (op) => this.replay(op));
    engine.registerOpHandler('model.embed', (op, signal) => this.embed(op, signal));
    // A durable run's replay answers model calls from its journal; the run's text stream and its
    // copy of the conversation are rebuilt as if the model had answered (js/durable/session.ts).
    engine.registerReplayHook('model.generate', (op, done) => this.replayGenerate(op, done));
    engine.registerReplayHook('model.replay', (op) => void this.replay(op).catch(() => {}));
  }

  /** A model call answered by a journal: what `generate` does around the model, with the recorded response. */
  private replayGenerate(op: OpRequest, done: { ok: boolean; value?: unknown }): void {
    const run = this.runs.get(op.run);
    if (!run) return;
    if (op.conversation) requestMessages(op, run);
    const quiet = op.purpose === 'summary' || op.purpose === 'judge';
    // The call's raw chunks (includeRawChunks), put back between the deltas they came between.
    const rawChunks = (recorded: unknown) => new RawChunkReplay(recorded, run.onRaw && !quiet ? (raw) => run.onRaw!(raw, op.step) : undefined);
    if (!done.ok) {
      // A call that failed mid-stream had streamed this much before it failed.
      const error = (done as { error?: { partialText?: unknown; partialChunks?: unknown; partialRawChunks?: unknown } }).error;
      const raws = rawChunks(error?.partialRawChunks);
      let n = 0;
      if (!quiet && typeof error?.partialText === 'string') {
        for (const piece of inChunks(error.partialText, error.partialChunks)) {
          raws.before(n++);
          run.onText(piece, op.step);
        }
      }
      raws.rest();
      return;
    }
    const value = done.value as { content?: Part[]; chunks?: { text?: unknown; reasoning?: unknown }; warnings?: CallWarning[]; rawChunks?: unknown } | null;
    const content = value?.content ?? [];
    if (Array.isArray(value?.warnings)) run.onWarnings?.(value.warnings);
    if (!quiet) {
      const text = content.flatMap((p) => (p.type === 'text' && p.text ? [p.text] : [])).join('');
      const reasoning = content.flatMap((p) => (p.type === 'reasoning' && p.text ? [p.text] : []));
      const raws = rawChunks(value?.rawChunks);
      let n = 0;
      for (const block of inBlocks(reasoning, value?.chunks?.reasoning)) {
        raws.before(n);
        run.onReasoningStart?.(op.step);
        for (const piece of block) {
          raws.before(n++);
          run.onReasoning?.(piece, op.step);
        }
      }
      for (const piece of inChunks(text, value?.chunks?.text)) {
        raws.before(n++);
        run.onText(piece, op.step);
      }
      raws.rest();
      endBlocks(run, content, op.step);
    }
    if (op.conversation) syncedConversation(op, run).push({ role: 'assistant', content });
  }

  /**
   * Registers an embedding model under `provider:modelId` (`#2`, `#3` ... for another object with
   * that name) and returns the reference `model.embed` ops use.
   */
  addEmbeddingModel(model: EmbeddingModel): string {
    const table = this.embeddingModels;
    const known = this.embeddingRefs.get(model);
    let ref = known !== undefined && table.get(known) === model ? known : undefined;
    if (ref !== undefined) {
      table.delete(ref); // registered again: now the newest
    } else {
      // A reference is never given to another model (a memory may still name an evicted one).
      const base = `${model.provider}:${model.modelId}`;
      ref = this.embeddingBases.has(base) ? `${base}#${this.nextEmbeddingRef++}` : base;
      this.embeddingBases.add(base);
      this.embeddingRefs.set(model, ref);
    }
    table.set(ref, model);
    for (const oldest of table.keys()) {
      if (table.size <= MAX_EMBEDDING_MODELS) break;
      table.delete(oldest);
    }
    return ref;
  }

  /** `model.embed` (PROTOCOL.md §3): one batch of texts; the model splits it into provider requests. */
  private async embed(op: OpRequest, signal: AbortSignal): Promise<unknown> {
    const ref = String(op.model);
    const model = this.embeddingModels.get(ref);
    if (!model) throw new Error(`model.embed: no embedding model "${ref}" is registered on this engine`);
    const values = op.values as string[];
    const result = checkEmbedResult(await model.embed(op.dimensions === undefined ? { values } : { values, dimensions: op.dimensions as number }, { signal }), `${model.provider}:${model.modelId}`);
    return { embeddings: result.embeddings, usage: result.usage, modelId: model.modelId };
  }

  /** Registers `run`'s models; returns the function that forgets them. */
  attach(runId: number, run: RunModels): () => void {
    this.runs.set(runId, run);
    return () => this.runs.delete(runId);
  }

  /** The models of live run `runId`. */
  run(runId: number): RunModels | undefined {
    return this.runs.get(runId);
  }

  /**
   * A model call answered from a cache (docs/state-and-caches.md): the recorded text streams as if
   * the model had sent it, and the run's copy of the conversation gains the recorded turn.
   */
  private replay(op: OpRequest): Promise<null> {
    const run = this.runs.get(op.run);
    if (!run) throw new Error(`model.replay: run ${op.run} is not live`);
    const content = (op.content as Part[] | undefined) ?? [];
    if (op.conversation) requestMessages(op, run);
    for (const part of content) if (part.type === 'text' && part.text) run.onText(part.text, op.step);
    if (op.conversation) syncedConversation(op, run).push({ role: 'assistant', content });
    return Promise.resolve(null);
  }

  private async generate(op: OpRequest, signal: AbortSignal): Promise<unknown> {
    const run = this.runs.get(op.run);
    if (!run) throw new Error(`model.generate: run ${op.run} is not live`);
    const ref = String(op.model);
    const model = findModel(run, ref);
    if (!model) throw new Error(`model.generate: the run has no model "${ref}"`);
    const request: Omit<ModelRequest, 'model'> = {
      messages: requestMessages(op, run),
      tools: (op.tools as ToolSpec[] | undefined)?.length ? (op.tools as ToolSpec[]) : undefined,
      toolChoice: op.toolChoice as ModelRequest['toolChoice'],
      responseFormat: op.responseFormat as ModelRequest['responseFormat'],
      params: op.params as ModelRequest['params'],
      stream: true,
      ...callSettingsOf(run, op.providerOptions as ProviderOptions | undefined),
    };
    // A context's summary and a parallel group's judge are the engine's own calls: their text is not part of the run's answer.
    const quiet = op.purpose === 'summary' || op.purpose === 'judge';
    let streamed = quiet;
    let reasoningStreamed = false;
    // Whether the next reasoning delta begins a block: the call's first, one the provider starts
    // (`reasoning-start`), or one after text or a tool call (an interleaved thinking block).
    let reasoningBlockStarts = true;
    // The deltas' lengths, for a durable run's journal only: a replay streams the same chunks.
    const textChunks = this.engine.journaled ? new ChunkLengthRecorder() : undefined;
    const reasoningChunks = textChunks && new ChunkLengthRecorder();
    // The text shown so far, for a durable run's journal only: a call that fails after it keeps it
    // with its error, so that a replay shows it again (see replayGenerate).
    const shownText = textChunks && new TextAccumulator();
    // The raw chunks shown (includeRawChunks), for a durable run's journal only, as JSON text (the
    // engine keeps one string, not a tree of every chunk).
    const rawChunks = textChunks && run.onRaw && !quiet ? new RawChunkRecorder() : undefined;
    // The engine gave up on the call (its timeout, the run cancelled) after some text was shown: no
    // error of it will reach the journal, so the text goes there as a note on the op (PROTOCOL.md §3).
    if (shownText && !quiet) {
      signal.addEventListener('abort', () => {
        const raws = rawChunks?.encoded();
        if (!shownText.empty || raws !== undefined) this.engine.noteShownText(op.id, shownText.text, splitChunks(textChunks), raws);
      }, { once: true });
    }
    // timeout.firstChunkMs / chunkMs: the call is aborted when the stream stalls (timed from the
    // request, after an onLanguageModelCallStart callback).
    let watch: ChunkWatch | undefined;
    // When each output delta came, for onLanguageModelCallEnd's performance figures.
    const outputTimes = run.modelCallWatchers?.onLanguageModelCallEnd ? new OutputTimes() : undefined;
    // A delta the model sends after its answer settled belongs to no step: it is dropped.
    let settled = false;
    const send = () => {
      watch = run.chunkTimeouts && new ChunkWatch(ref, run.chunkTimeouts, signal);
      // Promise.resolve: a model that answers with a plain object (or a thenable) is read the same way.
      const generated = Promise.resolve(model.generate(request, {
        signal: watch?.signal ?? signal,
        ...(run.onRaw && !quiet && { includeRawChunks: true }),
        onDelta: (delta) => {
          if (settled) return;
          // A raw chunk is not output (and comes only when asked for: it must not change the timings).
          if (delta.type === 'raw') {
            if (quiet) return;
            rawChunks?.raw(delta.rawValue);
            run.onRaw?.(delta.rawValue, op.step);
            return;
          }
          watch?.chunk();
          if (outputTimes && delta.type !== 'reasoning-start') outputTimes.note();
          if (quiet) return;
          if (delta.type === 'reasoning-start' || delta.type === 'tool-call-delta') reasoningBlockStarts = true;
          if (delta.type === 'reasoning-delta' && delta.text) {
            const text = checkDeltaText(delta.text, delta.type, ref);
            reasoningChunks?.add(text.length);
            rawChunks?.delta();
            reasoningStreamed = true;
            if (reasoningBlockStarts) run.onReasoningStart?.(op.step);
            reasoningBlockStarts = false;
            run.onReasoning?.(text, op.step);
          }
          if (delta.type !== 'text-delta' || !delta.text) return;
          reasoningBlockStarts = true;
          const text = checkDeltaText(delta.text, delta.type, ref);
          // Only the engine's own timeout of the op can fail it without the host knowing about the text.
          if (!streamed && op.timeoutMs !== undefined) this.engine.noteTextShown(op.id);
          streamed = true;
          textChunks?.add(text.length);
          rawChunks?.delta();
          shownText?.append(text);
          run.onText(text, op.step);
        },
      }));
      // A stalled stream ends at its chunk timeout even if the model does not stop when aborted.
      // One `then` for both outcomes (not catch + finally): a promise and a closure less per call.
      return (watch ? Promise.race([generated, watch.expired]) : generated).then((response) => {
        settled = true;
        watch?.stop();
        return checkModelResponse(response, ref);
      }, (failure: unknown) => {
        settled = true;
        const err = watch?.error() ?? failure;
        watch?.stop();
        if (streamed && !quiet && err instanceof LmthingError) {
          // Its text reached the run's stream: the engine does not try the call again by default (the
          // new attempt's text would follow it), whatever the failure (src/policy/retry.cpp).
          Object.defineProperty(err, 'textShown', { value: true, configurable: true });
          // In a durable run its partial text and how it was chunked go with the error (see
          // replayGenerate). A provider's ProviderError keeps the text itself; any other failure (a
          // custom model's error, a rate limit or timeout inside the stream) gets what was shown.
          if (shownText && !shownText.empty) {
            if (!(err instanceof ProviderError && err.partialText !== undefined))
              Object.defineProperty(err, 'shownText', { value: shownText.text, configurable: true });
            const chunks = splitChunks(textChunks);
            if (chunks !== undefined) Object.defineProperty(err, 'partialChunks', { value: chunks, configurable: true });
          }
        }
        const raws = rawChunks?.encoded();
        if (raws !== undefined && err instanceof LmthingError) Object.defineProperty(err, 'partialRawChunks', { value: raws, configurable: true });
        throw err;
      });
    };
    const watchers = run.modelCallWatchers;
    const { warnings, ...response } = await (watchesModelCalls(watchers) ? observedModelCall(watchers, { model, request, callId: run.callId, output: outputTimes }, send) : send());
    if (warnings?.length) run.onWarnings?.(warnings);
    if (!quiet) {
      // A model that does not stream still feeds the stream: each reasoning part, then each text
      // part, as one delta (the order a durable replay gives them in).
      if (!reasoningStreamed) {
        for (const part of response.content) {
          if (part.type !== 'reasoning' || !part.text) continue;
          run.onReasoningStart?.(op.step);
          run.onReasoning?.(part.text, op.step);
        }
      }
      if (!streamed) for (const part of response.content) if (part.type === 'text' && part.text) run.onText(part.text, op.step);
      endBlocks(run, response.content, op.step);
      if (streamed) shareStreamed(run, response.content, op.step);
    }
    if (op.conversation) syncedConversation(op, run).push({ role: 'assistant', content: response.content });
    // The configured model id prices the call for cost constraints.
    const chunks =
      textChunks && reasoningChunks && (textChunks.size > 1 || reasoningChunks.size > 1)
        ? { chunks: { text: textChunks.encoded(), reasoning: reasoningChunks.encoded() } }
        : {};
    // A durable run's journal keeps the warnings, for a replay to report them again (replayGenerate).
    const journaledWarnings = this.engine.journaled && warnings?.length ? { warnings } : {};
    const raws = rawChunks?.encoded();
    const journaledRaws = raws === undefined ? {} : { rawChunks: raws };
    return { ...response, content: deepArgumentsAsText(response.content, this.engine.jsonDepth), modelId: model.modelId, ...chunks, ...journaledWarnings, ...journaledRaws };
  }
}

/** How the shown text was chunked (for a durable run's journal), when it came in more than one delta. */
function splitChunks(textChunks: ChunkLengthRecorder | undefined): string | undefined {
  return textChunks && textChunks.size > 1 ? textChunks.encoded() : undefined;
}

/**
 * Ends the reasoning blocks of an answer in the run's stream, in order, after all its deltas (so a
 * durable replay, which has the answer and not the stream, gives the same parts); and its text
 * blocks when the provider signed any of them.
 */
function endBlocks(run: RunModels, content: readonly Part[], step: unknown): void {
  // The fields the part has: `redacted: false` and absent ones are left out of the stream part.
  const present = <T extends object>(fields: T) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== false)) as Partial<T>;
  for (const part of content) {
    if (part.type !== 'reasoning') continue;
    const { signature, signedBy, redacted, itemId } = part;
    run.onReasoningEnd?.({ length: part.text.length, ...present({ signature, signedBy, redacted, itemId }) }, step);
  }
  if (!content.some((part) => part.type === 'text' && part.signature !== undefined)) return;
  for (const part of content) {
    if (part.type !== 'text') continue;
    const { signature, signedBy } = part;
    run.onTextEnd?.({ length: part.text.length, ...present({ signature, signedBy }) }, step);
  }
}

/** Offers each kind of streamed text of `content` when the answer has one part of that kind. */
function shareStreamed(run: RunModels, content: readonly Part[], step: unknown): void {
  if (!run.onStreamed) return;
  for (const [kind, type] of [['text', 'text-delta'], ['reasoning', 'reasoning-delta']] as const) {
    const parts = content.filter((p) => p.type === kind);
    if (parts.length === 1 && 'text' in parts[0] && typeof parts[0].text === 'string') run.onStreamed(type, parts[0].text, step);
  }
}

/**
 * The texts of an answer's reasoning blocks, each cut as it was streamed: the `recorded` lengths of
 * the deltas cover the blocks one after the other (a delta belongs to one block), or each block is
 * whole when they do not add up to the blocks' texts.
 */
function inBlocks(texts: readonly string[], recorded: unknown): string[][] {
  const pieces = inChunks(texts.join(''), recorded);
  const blocks: string[][] = [];
  let piece = 0;
  let within = 0;
  for (const text of texts) {
    const block: string[] = [];
    for (let left = text.length; left > 0; ) {
      const current = pieces[piece];
      const take = Math.min(current.length - within, left);
      block.push(take === current.length ? current : current.slice(within, within + take));
      left -= take;
      within += take;
      if (within === current.length) {
        piece++;
        within = 0;
      }
    }
    blocks.push(block);
  }
  return blocks;
}

/** `text` cut as it was streamed (the `recorded` lengths of its deltas), or whole when they do not add up to it. */
function inChunks(text: string, recorded: unknown): string[] {
  if (!text) return [];
  const lengths = decodeChunkLengths(recorded, text.length);
  if (!lengths) return [text];
  const pieces: string[] = [];
  let at = 0;
  for (const length of lengths) {
    pieces.push(text.slice(at, at + length));
    at += length;
  }
  return pieces;
}

/**
 * Registers `model` with `run` under its user-facing name (`provider:modelId`, `#2`, `#3` ... when
 * another model of the run already has that name) and returns the reference.
 */
export function addModel(run: RunModels, model: LanguageModel): string {
  return register(run.models, model);
}

/** Puts `model` in `table` under `provider:modelId` (`#2`, `#3` ... for another object of that name). */
function register<M extends { provider: string; modelId: string }>(table: Map<string, M>, model: M): string {
  for (const [ref, known] of table) if (known === model) return ref;
  const base = `${model.provider}:${model.modelId}`;
  let ref = base;
  for (let n = 2; table.has(ref); n++) ref = `${base}#${n}`;
  table.set(ref, model);
  return ref;
}

export function findModel(run: RunModels | undefined, ref: string): LanguageModel | undefined {
  for (let r = run; r; r = r.parent) {
    const model = r.models.get(ref);
    if (model) return model;
  }
  return undefined;
}

/** The messages of one model call: the system prompt, then the synced conversation (or the op's list). */
function requestMessages(op: OpRequest, run: RunModels): Message[] {
  const system: Message[] = typeof op.system === 'string' ? [{ role: 'system', content: op.system }] : [];
  const sync = op.conversation as { base: number; append: Message[] } | undefined;
  if (!sync) return [...system, ...((op.messages as Message[]) ?? [])];
  const conversation = syncedConversation(op, run);
  applySync(conversation, sync, 'model.generate');
  return [...system, ...conversation];
}

/**
 * Brings the host's copy of a conversation up to the engine's: the messages from `base` on are
 * `append` (a model call's, or the end of a prompt run's, whose last tool results no call carried).
 */
export function applySync(conversation: Message[], sync: { base: number; append: Message[] }, where: string): void {
  if (conversation.length < sync.base) throw new Error(`${where}: conversation out of sync (the host has ${conversation.length} messages, the engine assumed ${sync.base})`);
  conversation.length = sync.base; // a retried call re-sends the same tail
  conversation.push(...sync.append);
}

/** The host's copy of the conversation an op syncs: the run's, or, with an `id`, that directive conversation's. */
function syncedConversation(op: OpRequest, run: RunModels): Message[] {
  const id = (op.conversation as { id?: unknown }).id;
  if (typeof id !== 'number') return run.conversation;
  run.conversations ??= new Map();
  let conversation = run.conversations.get(id);
  if (!conversation) run.conversations.set(id, (conversation = []));
  return conversation;
}

/** Levels the op.done message adds around a tool call's `args` (message, value, content, part). */
const ARGS_WRAPPING = 8;

/**
 * Tool calls whose parsed `args` are nested deeper than the engine accepts travel as text only: the
 * engine parses `argsText` with its depth limit and answers the model with an error result, where
 * the parsed value would have failed the whole model call (docs/limits.md).
 */
function deepArgumentsAsText(content: Part[], limit: number): Part[] {
  if (!content.some((p) => p.type === 'tool-call' && nestedDeeperThan(p.args, limit - ARGS_WRAPPING))) return content;
  return content.map((part) => {
    if (part.type !== 'tool-call' || !nestedDeeperThan(part.args, limit - ARGS_WRAPPING)) return part;
    let argsText = part.argsText;
    if (!argsText) {
      try {
        argsText = JSON.stringify(part.args);
      } catch {
        argsText = '['.repeat(limit + 1); // too deep even for JSON.stringify: the engine still reads "too deep"
      }
    }
    return { ...part, args: undefined, argsText };
  });
}

/** Whether `value` nests arrays and objects more than `limit` levels deep (no recursion). */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * The call settings of `run`, or of the nearest run that started it and has some, with a step
 * hook's provider options (`stepOptions`, from the op) merged over theirs.
 */
export function callSettingsOf(run: RunModels, stepOptions: ProviderOptions | undefined): CallSettings | undefined {
  let settings: CallSettings | undefined;
  for (let r: RunModels | undefined = run; r && !settings; r = r.parent) settings = r.callSettings;
  if (stepOptions === undefined) return settings;
  return { ...settings, providerOptions: mergedObjects(settings?.providerOptions, stepOptions) as ProviderOptions };
}
