/**
 * `defMemory(name, 'vector', config)` as a definition kind, and the handle `ctx.memory(name)`
 * returns (docs/memory.md). The engine keeps the HNSW index; every handle call is one run of kind
 * `memory` on the engine: inside a live run it joins that run's tree (its definitions and budgets
 * apply), before the run (in the prompt function) it carries the memory's definition itself.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import { jsonObject } from '../storage/checks.js';
import { resolveEmbeddingModel } from '../providers/registry.js';
import type { EmbeddingModel, LanguageModel } from '../providers/types.js';
import type { DefinitionKind, Marshal } from './kind.js';

/**
 * The memory types `defMemory` accepts: `vector` (similarity search), `temporal` (the same index,
 * results ranked by similarity × recency), `graph` (entities found by similarity, with their
 * relations: `ctx.graphMemory(name)`) and `hierarchical` (texts summarized by the model at levels,
 * searched top-down from the summaries).
 */
export type MemoryType = 'vector' | 'temporal' | 'graph' | 'hierarchical';

/** Config of `defMemory(name, 'vector', config)`. */
export interface MemoryConfig {
  /**
   * Vector length; every stored vector and query must have it (the embedding model's output size).
   * Optional when the embedding model's length is known (its `dimensions`, or a known OpenAI/Google id).
   */
  dimensions?: number;
  /**
   * Embeds stored texts and text queries: an {@link EmbeddingModel} (`openai.embedding(id)`,
   * `offlineEmbedding()`) or a spec string (`openai:text-embedding-3-small`, `ollama:nomic-embed-text`).
   * Without one, `store` and `search` take vectors.
   */
  embeddingModel?: string | EmbeddingModel;
  /** `cosine` (default), `dot` or `l2`. Scores are larger for more similar memories in every metric. */
  metric?: 'cosine' | 'dot' | 'l2';
  /** Most memories kept; beyond it the lowest `metadata.importance` goes, then the oldest (0 = unbounded). Not for `graph` memories. */
  maxSize?: number;
  /** Results scoring below it are left out (a `search` threshold overrides it). */
  similarityThreshold?: number;
  /** HNSW links per node (default 16). */
  m?: number;
  /** HNSW build breadth (default 200). */
  efConstruction?: number;
  /** HNSW search breadth (default 100). */
  efSearch?: number;
  /** Seed of the index's level choice (deterministic graphs). */
  seed?: number;
  /** Save the index through the run's storage after every change and load it (not rebuild it) on first use. */
  persist?: boolean;
  /** Who shares it (default `'global'`: every run of the engine, or of the storage when persisted); `'session'` per sessionId; `'agent'` per agent. */
  scope?: 'global' | 'session' | 'agent';
  /** A storage registered on the engine instead of the run's. Persisted memory only. */
  storage?: string;
  /** `temporal` only: how recency falls with age — `exponential` (default, by `halfLifeMs`), `linear` (to 0 over `windowMs`) or `none`. */
  decay?: 'exponential' | 'linear' | 'none';
  /** `temporal`, exponential decay: the age at which recency is one half (default one day). */
  halfLifeMs?: number;
  /** `temporal`, linear decay: the age at which recency reaches 0 (default seven days). */
  windowMs?: number;
  /** `temporal`: how much recency weighs, 0 (similarity only) to 1 (similarity × recency, default). */
  recencyWeight?: number;
  /** `hierarchical`: how many parentless nodes of a level one summary of the next level folds (default 8; 2–1000). */
  chunkSize?: number;
  /** `hierarchical`: levels including the stored items' (default 3: items, chunk summaries, session summaries; 2–10). */
  levels?: number;
  /**
   * `hierarchical`: the model that writes the summaries; `graph`: the model that extracts entities
   * and relations from `store(text)`. A model object or a spec string; default: the model of the
   * run the call is made in.
   */
  model?: string | LanguageModel;
}

/** What `defMemory` keeps. */
export interface StoredMemory {
  type: MemoryType;
  config: Omit<MemoryConfig, 'embeddingModel' | 'model'>;
  embeddingModel?: EmbeddingModel;
  model?: string | LanguageModel;
}

/** Marshal with the embedding-model registration memories need. */
export interface MemoryMarshal extends Marshal {
  /** Registers an embedding model with the engine's host and returns its reference. */
  embeddingModel?(model: EmbeddingModel): string;
}

function isEmbeddingModel(v: unknown): v is EmbeddingModel {
  return typeof v === 'object' && v !== null && typeof (v as EmbeddingModel).embed === 'function' && typeof (v as EmbeddingModel).modelId === 'string';
}

/** Vector lengths of embedding models by id, for a `defMemory` that does not give `dimensions`. */
const DIMENSIONS: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
  'text-embedding-004': 768,
};

/** Why no score of `metric` can reach `threshold` (cosine and l2 scores are at most 1: every search would come back empty), or undefined. */
function unreachableThreshold(metric: string | undefined, threshold: number | undefined): string | undefined {
  if (threshold === undefined || metric === 'dot' || threshold <= 1) return undefined;
  return `no score can reach it: ${metric ?? 'cosine'} scores are at most 1`;
}

/** The length of `model`'s vectors when it says so (`dimensions`) or its id is a known one. */
function knownDimensions(model: EmbeddingModel): number | undefined {
  return model.dimensions ?? DIMENSIONS[model.modelId];
}

export const memoryKind: DefinitionKind<unknown, StoredMemory> = {
  kind: 'memory',
  noun: 'memory',
  method: 'defMemory',
  check(where, type, config) {
    c.checkChoice(where, 'type', type, 'vector', 'temporal', 'graph', 'hierarchical');
    if (!c.isPlainObject(config)) throw new ConfigError(`${where}: expected a config object with at least {dimensions}, got ${c.describe(config)}`);
    const o = c.checkOptions<MemoryConfig>(where, config, {
      dimensions: c.integer(1, 65536),
      embeddingModel: (v) => (typeof v === 'string' && v.length > 0) || isEmbeddingModel(v) ? undefined : "a model spec ('openai:text-embedding-3-small') or an embedding model",
      metric: c.oneOf('cosine', 'dot', 'l2'),
      maxSize: c.integer(0, 1e9),
      similarityThreshold: c.number(-1e300, 1e300),
      m: c.integer(2, 256),
      efConstruction: c.integer(1, 100000),
      efSearch: c.integer(1, 100000),
      seed: c.integer(0, Number.MAX_SAFE_INTEGER),
      persist: c.boolean,
      scope: c.oneOf('global', 'session', 'agent'),
      storage: c.nonEmpty,
      decay: c.oneOf('exponential', 'linear', 'none'),
      halfLifeMs: c.number(0, 1e15, { positive: true }),
      windowMs: c.number(0, 1e15, { positive: true }),
      recencyWeight: c.number(0, 1),
      chunkSize: c.integer(2, 1000),
      levels: c.integer(2, 10),
      model: (v) => (typeof v === 'string' && v.length > 0) || (typeof v === 'object' && v !== null && typeof (v as LanguageModel).generate === 'function') ? undefined : "a model spec ('openai:gpt-4o-mini') or a model object",
    });
    if (type !== 'temporal')
      for (const key of ['decay', 'halfLifeMs', 'windowMs', 'recencyWeight'] as const)
        if (o[key] !== undefined) c.fail(where, `'${key}' applies to temporal memories only (defMemory(name, 'temporal', …))`);
    if (type === 'graph' && o.maxSize !== undefined) c.fail(where, "'maxSize' does not apply to graph memories (evicting an entity would cut its relations); delete entities instead");
    if (type !== 'hierarchical')
      for (const key of ['chunkSize', 'levels'] as const)
        if (o[key] !== undefined) c.fail(where, `'${key}' applies to hierarchical memories only (defMemory(name, 'hierarchical', …))`);
    if (type !== 'hierarchical' && type !== 'graph' && o.model !== undefined)
      c.fail(where, "'model' applies to hierarchical memories (their summarizer) and graph memories (their extractor) only");
    if (type === 'hierarchical') {
      if (o.maxSize !== undefined) c.fail(where, "'maxSize' does not apply to hierarchical memories (evicting an item would leave its summaries behind); delete items instead");
      if (o.embeddingModel === undefined) c.fail(where, "a hierarchical memory needs an 'embeddingModel' (its summaries are embedded by it)");
    }
    if (!o.persist && o.storage !== undefined) c.fail(where, "'storage' applies to persisted memory only (add persist: true)");
    const unreachable = unreachableThreshold(o.metric, o.similarityThreshold);
    if (unreachable) c.fail(where, `'similarityThreshold' ${o.similarityThreshold}: ${unreachable}`);
    const { embeddingModel, model: summarizer, ...rest } = o;
    const model = embeddingModel === undefined ? undefined : resolveEmbeddingModel(embeddingModel);
    const dimensions = rest.dimensions ?? (model && knownDimensions(model));
    if (dimensions === undefined)
      c.fail(where, "'dimensions' is required (the length of the embedding model's vectors, e.g. 1536 for text-embedding-3-small) unless the embedding model is one whose length is known");
    return { type, config: { ...rest, dimensions }, embeddingModel: model, ...(summarizer === undefined ? {} : { model: summarizer }) };
  },
  wire(stored, marshal: MemoryMarshal, where) {
    if (typeof stored.config.storage === 'string') marshal.storage?.(stored.config.storage, where);
    const out: Record<string, unknown> = { type: stored.type, ...stored.config };
    if (stored.embeddingModel) {
      if (!marshal.embeddingModel) throw new ConfigError('defMemory: this kind of run cannot call embedding models');
      out.embeddingModel = marshal.embeddingModel(stored.embeddingModel);
    }
    if (stored.model !== undefined) out.model = marshal.model(stored.model);
    return out;
  },
};

/** One memory to store: a text (embedded with the memory's model) or a vector, with metadata. */
export interface MemoryInput {
  /** The text; embedded unless `vector` is given, and returned by `search`. */
  content?: string;
  /** The vector itself (memories without an embedding model). */
  vector?: number[];
  /** An id (default: generated `mem-<n>`); storing an existing id replaces that memory. */
  id?: string;
  /** JSON metadata, filterable in `search`; `importance` (number) orders eviction, `timestamp` (ms) is the creation time. */
  metadata?: Record<string, unknown>;
}

/** What `store` did. */
export interface StoreResult {
  /** The ids of the stored memories, in input order. */
  ids: string[];
  /** Memories evicted to respect `maxSize` (possibly ones just stored, when they rank lowest). */
  evicted: string[];
  /** Memories held now (`hierarchical`: items and summaries). */
  size: number;
  /** `hierarchical`: the ids of the summaries this store wrote (one model call each), lower levels first. */
  summaries?: string[];
}

/** Options of `search`. */
export interface MemorySearchOptions {
  /** Most results (default 10). */
  limit?: number;
  /** Metadata filter: `{topic: 'x'}`, `{importance: {$gte: 0.5}}`, `$in`, `$ne`, `$exists`, `$and`, `$or` (docs/memory.md). */
  filter?: Record<string, unknown>;
  /** Leaves out results scoring below it (overrides `similarityThreshold`). */
  threshold?: number;
  /** Only memories created at or after this time (ms since the epoch). */
  from?: number;
  /** Only memories created at or before this time. */
  to?: number;
  /** Compare with every memory instead of walking the graph (exact, slower). Not for `hierarchical` memories. */
  exact?: boolean;
  /** `hierarchical`: how many summaries are opened at each step of the top-down search (default 3). */
  beam?: number;
  /** `hierarchical`: the level whose nodes are returned (default 0: the stored items; 1: chunk summaries …). */
  level?: number;
}

/** A summary a `hierarchical` search opened on its way down to a result. */
export interface MemorySummaryStep {
  id: string;
  /** 1 for a chunk summary, 2 for a summary of those … */
  level: number;
  /** The summary's similarity to the query. */
  score: number;
  /** The summary's text. */
  content: string | null;
}

/** One search result, best first. */
export interface MemorySearchResult {
  id: string;
  /** The stored text (null for memories stored as vectors). */
  content: string | null;
  metadata: Record<string, unknown>;
  /** Similarity: cosine similarity, dot product, or 1 / (1 + distance) for `l2`; for `temporal` memories similarity × recency. */
  score: number;
  /** `temporal` memories: the similarity alone. */
  similarity?: number;
  /** `temporal` memories: the creation time (ms) the recency was computed from. */
  createdAt?: number;
  /** `hierarchical` memories: the result's level (0: a stored item). */
  level?: number;
  /** `hierarchical` memories: the summaries opened to reach it, top level first (empty for a node no summary covers yet). */
  path?: MemorySummaryStep[];
}

/** Starts a `memory` run with these spec fields and resolves with its result. */
export type MemoryRunner = (fields: Record<string, unknown>) => Promise<unknown>;

const searchShape: c.Shape = {
  limit: c.integer(1, 10000),
  filter: c.object,
  threshold: c.number(-1e300, 1e300),
  from: c.number(-1e300, 1e300),
  to: c.number(-1e300, 1e300),
  exact: c.boolean,
};

/** A `hierarchical` memory's search: no time range or exact scan (it walks its own tree), a beam and a level. */
const hierarchicalSearchShape: c.Shape = {
  limit: c.integer(1, 10000),
  filter: c.object,
  threshold: c.number(-1e300, 1e300),
  beam: c.integer(1, 1000),
  level: c.integer(0, 9),
};

/** A vector (the engine refuses one that holds NaN or Infinity, naming the memory and the item). */
const isNumbers: c.Check = (v) => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? undefined : 'an array of numbers');

const jsonMetadata = jsonObject('metadata');

function toItem(where: string, input: unknown, i: number): Record<string, unknown> {
  const o = typeof input === 'string' ? { content: input } : c.checkOptions<MemoryInput>(`${where}[${i}]`, input as MemoryInput, {
    content: c.string,
    vector: isNumbers,
    id: c.nonEmpty,
    metadata: jsonMetadata,
  }, 'field');
  if (o.content === undefined && o.vector === undefined) c.fail(`${where}[${i}]`, 'needs content (a text to embed) or vector');
  if (o.content === '' && o.vector === undefined) c.fail(`${where}[${i}]`, 'the content is empty: give a text to embed, or a vector');
  // The fields the memory reads itself: anything else there would be ignored (an ISO date would become the time of storing).
  const { importance, timestamp } = o.metadata ?? {};
  if (importance != null && typeof importance !== 'number') c.fail(`${where}[${i}]`, `metadata.importance must be a number (higher is kept longer when the memory is full), got ${c.describe(importance)}`);
  if (timestamp != null && typeof timestamp !== 'number') c.fail(`${where}[${i}]`, `metadata.timestamp must be a time in ms (a number, such as Date.now()), got ${c.describe(timestamp)}`);
  return { ...o };
}

/** A search's query (a text or a vector) and checked options, as the engine's `search` action takes them. */
function searchFields(where: string, query: unknown, o: { threshold?: number; from?: number; to?: number }, metric: string | undefined): Record<string, unknown> {
  let q: Record<string, unknown>;
  if (typeof query === 'string' && query !== '') q = { query };
  else if (query === '') throw new ConfigError(`${where}: the query is empty: give a text to search for, or a vector`);
  else if (isNumbers(query) === undefined) q = { vector: query };
  else throw new ConfigError(`${where}: the query must be a text or an array of numbers, got ${c.describe(query)}`);
  const unreachable = unreachableThreshold(metric, o.threshold);
  if (unreachable) c.fail(where, `'threshold' ${o.threshold}: ${unreachable}`);
  if (o.from !== undefined && o.to !== undefined && o.from > o.to) c.fail(where, `'from' (${o.from}) is after 'to' (${o.to}): no time is in that range`);
  return { ...q, ...o };
}

/** `ctx.memory(name)`: store, search, delete and clear one memory. */
export class MemoryHandle {
  /** @internal */
  constructor(
    /** The memory's name. */
    readonly name: string,
    private readonly runner: MemoryRunner,
    private readonly type: MemoryType = 'vector',
    /** The memory's metric (`cosine` when not given), for the threshold check. */
    private readonly metric?: string,
  ) {}

  /**
   * Stores one memory or a batch: embedded in one request, stored whole or not at all. In a
   * `hierarchical` memory every chunk the batch completes is summarized by one model call first; a
   * failed call stores nothing.
   */
  async store(input: string | MemoryInput | Array<string | MemoryInput>): Promise<StoreResult> {
    const where = `memory("${this.name}").store`;
    const list = Array.isArray(input) ? input : [input];
    const items = list.map((item, i) => toItem(where, item, i));
    const { ids, evicted, size, summaries } = (await this.runner({ action: 'store', name: this.name, items })) as StoreResult;
    return summaries === undefined ? { ids, evicted, size } : { ids, evicted, size, summaries };
  }

  /**
   * The memories most similar to `query` (a text, embedded with the memory's model, or a vector),
   * best first. A `hierarchical` memory is searched top-down: its `beam` best summaries are opened
   * level by level, and each result carries its `level` and `path`.
   */
  async search(query: string | number[], options: MemorySearchOptions = {}): Promise<MemorySearchResult[]> {
    const where = `memory("${this.name}").search`;
    const o = c.checkOptions<MemorySearchOptions>(where, options, this.type === 'hierarchical' ? hierarchicalSearchShape : searchShape);
    const { results } = (await this.runner({ action: 'search', name: this.name, ...searchFields(where, query, o, this.metric) })) as { results: MemorySearchResult[] };
    return results;
  }

  /** Deletes memories by id; an unknown id rejects with `MemoryError` `UNKNOWN_ID` and deletes none. */
  async delete(ids: string | string[]): Promise<number> {
    const list = Array.isArray(ids) ? ids : [ids];
    if (!list.every((id) => typeof id === 'string' && id.length > 0)) throw new ConfigError(`memory("${this.name}").delete: expected ids (non-empty strings), got ${c.describe(ids)}`);
    const { deleted } = (await this.runner({ action: 'delete', name: this.name, ids: list })) as { deleted: number };
    return deleted;
  }

  /** Removes every memory; resolves with how many there were. */
  async clear(): Promise<number> {
    const { cleared } = (await this.runner({ action: 'clear', name: this.name })) as { cleared: number };
    return cleared;
  }
}

// ---------------------------------------------------------------------------------- graph memories

/** An entity to store in a `graph` memory. */
export interface GraphEntityInput {
  /** The entity's id (non-empty); storing a name that exists replaces that entity and keeps its relations. */
  name: string;
  /** A kind such as `person` (filterable as `type`). */
  type?: string;
  /** Embedded with the name as `"name: description"`. */
  description?: string;
  /** JSON metadata (filterable as `metadata.<key>`). */
  metadata?: Record<string, unknown>;
  /** The vector itself instead of an embedding of the name and description. */
  vector?: number[];
}

/** A directed relation between two entities: `from` —`relation`→ `to`. */
export interface GraphRelation {
  from: string;
  relation: string;
  to: string;
  /** JSON metadata; storing the same (from, relation, to) again replaces it. */
  metadata?: Record<string, unknown>;
}

/** What a graph memory's `store` takes: entities, relations, or both (checked whole before anything is stored). */
export interface GraphStoreInput {
  entities?: GraphEntityInput[];
  /** Each end must be an entity of the memory or of this batch, else `MemoryError` `UNKNOWN_ENTITY`. */
  relations?: GraphRelation[];
}

/**
 * Text a graph memory's `store` hands to its model, which extracts the entities and relations
 * (one call; the answer is checked, then stored as if given explicitly).
 */
export interface GraphExtractInput {
  /** The text to read. */
  text: string;
  /** Put before the text in the request (e.g. which kinds of entities matter). */
  instructions?: string;
}

/** What the model extracted from a `store(text)`: exactly what was stored. */
export interface GraphExtraction {
  entities: Array<{ name: string; type?: string; description?: string; properties?: Record<string, unknown> }>;
  relations: Array<{ from: string; relation: string; to: string }>;
}

/** What a graph memory's `store` did. */
export interface GraphStoreResult {
  /** The names of the entities stored, in input order. */
  ids: string[];
  /** How many relations this call stored (new or replaced). */
  relations: number;
  /** Entities held now. */
  size: number;
  /** Relations held now. */
  relationCount: number;
  /** `store(text)`: what the model extracted. */
  extracted?: GraphExtraction;
}

/** How far a neighbourhood reaches from its start entities. */
export interface GraphWalkOptions {
  /** Hops from the start entities (default 1; 0–10). */
  depth?: number;
  /** Follow only these relation names. */
  relation?: string | string[];
  /** `out` (from → to), `in`, or `both` (default). */
  direction?: 'out' | 'in' | 'both';
}

/** Options of a graph memory's `search`: which entities match, then the walk from them. */
export interface GraphSearchOptions extends GraphWalkOptions {
  /** Most entities matched (default 10); the ones reached from them come on top. */
  limit?: number;
  /** Leaves out matches scoring below it (overrides `similarityThreshold`). */
  threshold?: number;
  /** Metadata filter on the matched entities, on the paths `type` and `metadata.<key>`. */
  filter?: Record<string, unknown>;
  /** Compare with every entity instead of walking the index. */
  exact?: boolean;
}

/** An entity of a {@link GraphNeighborhood}. */
export interface GraphEntity {
  name: string;
  type: string | null;
  description: string | null;
  metadata: Record<string, unknown>;
  /** Hops from the nearest start entity (0: a start). */
  depth: number;
  /** The similarity of an entity the search matched (absent for entities reached by relations). */
  score?: number;
}

/** Entities (the starts first, best first, then breadth-first) and every relation walked, each once. */
export interface GraphNeighborhood {
  entities: GraphEntity[];
  relations: Array<Required<GraphRelation>>;
}

const walkShape: c.Shape = {
  depth: c.integer(0, 10),
  relation: (v) => (typeof v === 'string' && v.length > 0) || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.length > 0)) ? undefined : 'a relation name or a non-empty array of them',
  direction: c.oneOf('out', 'in', 'both'),
};

const graphSearchShape: c.Shape = { ...walkShape, limit: c.integer(1, 10000), threshold: c.number(-1e300, 1e300), filter: c.object, exact: c.boolean };

/** `ctx.graphMemory(name)`: entities and relations of one `graph` memory. */
export class GraphMemoryHandle {
  /** @internal */
  constructor(
    /** The memory's name. */
    readonly name: string,
    private readonly runner: MemoryRunner,
    /** The memory's metric (`cosine` when not given), for the threshold check. */
    private readonly metric?: string,
  ) {}

  /**
   * Stores entities and relations: embedded in one request, checked whole, stored whole or not at
   * all. Given a text (or `{text, instructions}`), the memory's model (its `model`, else the run's)
   * extracts them first with one call; an answer that is not the expected JSON is `MemoryError`
   * `INVALID_EXTRACTION` and stores nothing.
   */
  async store(input: GraphStoreInput | GraphExtractInput | string): Promise<GraphStoreResult> {
    const where = `graphMemory("${this.name}").store`;
    if (typeof input === 'string' || (c.isPlainObject(input) && 'text' in input)) {
      const o = typeof input === 'string' ? { text: input } : c.checkOptions<GraphExtractInput>(where, input as unknown as GraphExtractInput, { text: c.string, instructions: c.string }, 'field');
      if (typeof o.text !== 'string' || o.text.length === 0) c.fail(where, 'the text to extract from must be a non-empty string');
      const result = (await this.runner({ action: 'store', name: this.name, ...o })) as GraphStoreResult;
      const { ids, relations, size, relationCount, extracted } = result;
      return { ids, relations, size, relationCount, ...(extracted === undefined ? {} : { extracted }) };
    }
    if (!c.isPlainObject(input)) throw new ConfigError(`${where}: expected {entities?, relations?}, {text} or a text, got ${c.describe(input)}`);
    const o = c.checkOptions<GraphStoreInput>(where, input, { entities: c.arrayOf(c.object, 'an array of entities ({name, type?, description?, metadata?, vector?})'), relations: c.arrayOf(c.object, 'an array of relations ({from, relation, to, metadata?})') }, 'field');
    if (o.entities === undefined && o.relations === undefined) c.fail(where, 'needs entities, relations or both ({entities: [{name, …}], relations: [{from, relation, to}]})');
    const entities = (o.entities ?? []).map((e, i) => c.checkOptions<GraphEntityInput>(`${where}: entities[${i}]`, e, { name: c.nonEmpty, type: c.nonEmpty, description: c.string, metadata: jsonMetadata, vector: isNumbers }, 'field'));
    entities.forEach((e, i) => {
      if (e.name === undefined) c.fail(`${where}: entities[${i}]`, "'name' is required (a non-empty string)");
    });
    const relations = (o.relations ?? []).map((r, i) => {
      const checked = c.checkOptions<GraphRelation>(`${where}: relations[${i}]`, r, { from: c.nonEmpty, relation: c.nonEmpty, to: c.nonEmpty, metadata: jsonMetadata }, 'field');
      for (const key of ['from', 'relation', 'to'] as const) if (checked[key] === undefined) c.fail(`${where}: relations[${i}]`, `'${key}' is required (a non-empty string)`);
      return checked;
    });
    const fields: Record<string, unknown> = { action: 'store', name: this.name };
    if (o.entities !== undefined) fields.entities = entities;
    if (o.relations !== undefined) fields.relations = relations;
    const { ids, relations: stored, size, relationCount } = (await this.runner(fields)) as GraphStoreResult;
    return { ids, relations: stored, size, relationCount };
  }

  /** Stores one relation: `store({relations: [{from, relation, to, metadata}]})`. */
  addRelation(from: string, relation: string, to: string, metadata?: Record<string, unknown>): Promise<GraphStoreResult> {
    return this.store({ relations: [{ from, relation, to, ...(metadata === undefined ? {} : { metadata }) }] });
  }

  /** The entities most similar to `query` (a text or a vector), with the entities and relations within `depth` hops. */
  async search(query: string | number[], options: GraphSearchOptions = {}): Promise<GraphNeighborhood> {
    const where = `graphMemory("${this.name}").search`;
    const o = c.checkOptions<GraphSearchOptions>(where, options, graphSearchShape);
    return neighborhood(await this.runner({ action: 'search', name: this.name, ...searchFields(where, query, o, this.metric) }));
  }

  /** The entities and relations within `depth` hops of entity `name`; an unknown name is `MemoryError` `UNKNOWN_ID`. */
  async neighbors(name: string, options: GraphWalkOptions = {}): Promise<GraphNeighborhood> {
    const where = `graphMemory("${this.name}").neighbors`;
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`${where}: expected an entity name (a non-empty string), got ${c.describe(name)}`);
    const o = c.checkOptions<GraphWalkOptions>(where, options, walkShape);
    return neighborhood(await this.runner({ action: 'neighbors', name: this.name, entity: name, ...o }));
  }

  /** Deletes entities and every relation touching them; an unknown name rejects with `UNKNOWN_ID` and deletes none. */
  async delete(names: string | string[]): Promise<number> {
    const list = Array.isArray(names) ? names : [names];
    if (!list.every((n) => typeof n === 'string' && n.length > 0)) throw new ConfigError(`graphMemory("${this.name}").delete: expected entity names (non-empty strings), got ${c.describe(names)}`);
    const { deleted } = (await this.runner({ action: 'delete', name: this.name, ids: list })) as { deleted: number };
    return deleted;
  }

  /** Removes every entity and relation; resolves with how many entities there were. */
  async clear(): Promise<number> {
    const { cleared } = (await this.runner({ action: 'clear', name: this.name })) as { cleared: number };
    return cleared;
  }
}

function neighborhood(wire: unknown): GraphNeighborhood {
  const { entities, relations } = wire as GraphNeighborhood;
  return { entities, relations };
}
