/**
 * `defTracing` (docs/observability.md): OpenTelemetry spans for a run tree. The engine decides what
 * is a span and when it starts and ends (`span-start` / `span-end` run events from its interceptors
 * and step seam); this module checks the definition, finds or builds the tracer provider, and turns
 * those events into OTel spans with the parent links, the user's attributes and redaction applied.
 * `@opentelemetry/api` and the SDK packages are loaded only when a run defines tracing.
 */
import type * as OtelApiModule from '@opentelemetry/api';
import type { Attributes, AttributeValue, Context, HrTime, Span, SpanOptions, Tracer, TracerProvider } from '@opentelemetry/api';
import * as c from '../config/check.js';
import type { DefinitionKind } from '../definitions/kind.js';
import { TracingError } from '../errors.js';
import type { RunEvent, SpanEndEvent, SpanStartEvent } from '../run/events.js';
import { reportingFailures } from './export-failures.js';
import { environmentSecrets, Redactor } from './redact.js';

/**
 * A span exporter of the OpenTelemetry SDK (`InMemorySpanExporter`, an `OTLPTraceExporter` you
 * configured ...): anything with the SDK's `export` and `shutdown`.
 */
export interface SpanExporterLike {
  export(spans: never[], resultCallback: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/**
 * Exporters by name: `console` prints spans; `otlp` and `jaeger` send OTLP/HTTP JSON (Jaeger ingests
 * OTLP); `events` only: no OpenTelemetry at all, the spans are the `span-start` / `span-end` run
 * events (for UIs that draw them, e.g. in a browser without the OTel packages).
 */
export type TracingExporterName = 'console' | 'otlp' | 'jaeger' | 'events';

/** `defTracing` config. */
export interface TracingConfig {
  /** `service.name` of the provider lmthing builds for `exporters` (default `lmthing`). */
  serviceName?: string;
  /**
   * Where spans go: named exporters or SDK exporter objects. With exporters, lmthing builds its own
   * tracer provider (needs `@opentelemetry/sdk-trace-base`, and `@opentelemetry/exporter-trace-otlp-http`
   * for `otlp`/`jaeger`). Without them, the globally registered provider (e.g. the NodeSDK's) is used.
   */
  exporters?: Array<TracingExporterName | SpanExporterLike>;
  /** The OTLP endpoint for `otlp`/`jaeger` (default: the exporter's, `OTEL_EXPORTER_OTLP_*` or `http://localhost:4318/v1/traces`). */
  otlp?: { url?: string; headers?: Record<string, string> };
  /** Use this provider (instead of exporters or the global one). */
  tracerProvider?: TracerProvider;
  /** The share of run trees traced, 0..1 (default 1): decided once per tree, 0 exports nothing. */
  sampling?: number;
  /** Attributes put on every span (and on the resource of a provider lmthing builds). */
  attributes?: Attributes;
  /** Record prompts and tool arguments on spans (`gen_ai.input.messages`, `gen_ai.tool.call.arguments`); default false. */
  recordInputs?: boolean;
  /** Record responses and tool results on spans (`gen_ai.output.messages`, `gen_ai.tool.call.result`); default false. */
  recordOutputs?: boolean;
  /** Keys masked at any depth in recorded contents (secret headers and API keys always are). */
  redact?: string[];
}

/** What a tool's `context.trace` offers: spans of your own under the tool call's span. */
export interface ToolTrace {
  /** Starts a span whose parent is the tool call's `execute_tool` span; a non-recording span when the run is not traced. */
  startSpan(name: string, options?: SpanOptions): Span;
}

/** What a `tracing` definition keeps. */
export interface StoredTracing {
  name: string;
  config: TracingConfig;
}

/** Whether `text` is an http(s) URL (an OTLP endpoint). */
function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const EXPORTER_NAMES: readonly TracingExporterName[] = ['console', 'otlp', 'jaeger', 'events'];

function isExporter(v: unknown): v is SpanExporterLike {
  return typeof v === 'object' && v !== null && typeof (v as SpanExporterLike).export === 'function' && typeof (v as SpanExporterLike).shutdown === 'function';
}

const exporter = c.withChoices((v) => (EXPORTER_NAMES.includes(v as TracingExporterName) || isExporter(v) ? undefined : "'console', 'otlp', 'jaeger', 'events' or a SpanExporter"), EXPORTER_NAMES);

/** Span attributes as OpenTelemetry takes them: strings, numbers, booleans or arrays of them. */
export const attributesCheck: c.Check = (v) =>
  c.isPlainObject(v) && Object.values(v).every(attributeValue) ? undefined : 'an object of strings, numbers, booleans or arrays of them';

function attributeValue(v: unknown): boolean {
  return ['string', 'number', 'boolean'].includes(typeof v) || (Array.isArray(v) && v.every((x) => ['string', 'number', 'boolean'].includes(typeof x)));
}

export const tracingKind: DefinitionKind<TracingConfig | undefined, StoredTracing> = {
  kind: 'tracing',
  noun: 'tracing definition',
  method: 'defTracing',
  readsEvents: true,
  check(where, config) {
    const checked = c.checkOptions(where, config ?? {}, {
      serviceName: c.nonEmpty,
      exporters: c.arrayOf(exporter, "an array of 'console', 'otlp', 'jaeger', 'events' or SpanExporter objects"),
      otlp: (v) => (c.isPlainObject(v) && c.checkOptions(where + '.otlp', v, { url: c.nonEmpty, headers: c.httpHeaders }) ? undefined : 'an object {url?, headers?}'),
      tracerProvider: (v) => (typeof v === 'object' && v !== null && typeof (v as TracerProvider).getTracer === 'function' ? undefined : 'a TracerProvider'),
      sampling: c.number(0, 1),
      attributes: attributesCheck,
      recordInputs: c.boolean,
      recordOutputs: c.boolean,
      redact: c.stringList,
    });
    if (checked.tracerProvider && checked.exporters) c.fail(where, "give 'exporters' or 'tracerProvider', not both");
    // Never quoted: a collector's key may be in its query string (the exporter's own error would show it whole).
    if (checked.otlp?.url !== undefined && !isHttpUrl(checked.otlp.url))
      c.fail(`${where}.otlp`, "'url' must be an http(s) URL (e.g. https://collector.example.com/v1/traces; the value given is not shown)");
    if (checked.otlp && !checked.exporters?.some((e) => e === 'otlp' || e === 'jaeger'))
      c.fail(where, "'otlp' sets up the 'otlp' and 'jaeger' exporters, and 'exporters' has neither (add 'otlp' to it, or leave 'otlp' out)");
    return { name: where.slice('defTracing("'.length, -2), config: { ...checked } };
  },
  wire: ({ config }) => ({
    ...(config.sampling !== undefined ? { sampling: config.sampling } : {}),
    ...(config.recordInputs !== undefined ? { recordInputs: config.recordInputs } : {}),
    ...(config.recordOutputs !== undefined ? { recordOutputs: config.recordOutputs } : {}),
  }),
};

type OtelApi = typeof OtelApiModule;

/** The name of the tracing definition the run config's `telemetry` makes (js/observe/telemetry-option.ts). */
export const TELEMETRY_TRACING = 'experimental_telemetry';

/** Loads an optional package, or throws TracingError naming it. */
async function load<T>(specifier: string, why: string): Promise<T> {
  try {
    // A variable and the ignore comments: bundlers must neither include the optional package nor
    // warn about an expression they cannot follow.
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as T;
  } catch (err) {
    throw new TracingError('TRACING_DEPENDENCY_MISSING', `defTracing: ${why} needs the "${specifier}" package: npm install ${specifier}`, { cause: err });
  }
}

interface SdkTrace {
  BasicTracerProvider: new (config: { resource?: unknown; spanProcessors?: unknown[] }) => TracerProvider & { shutdown(): Promise<void>; forceFlush(): Promise<void> };
  SimpleSpanProcessor: new (exporter: unknown) => unknown;
  BatchSpanProcessor: new (exporter: unknown) => unknown;
  ConsoleSpanExporter: new () => SpanExporterLike;
}

/** Builds the provider for `exporters`: simple processors for in-process exporters, batching for OTLP. */
async function buildProvider(config: TracingConfig, exporters: Array<Exclude<TracingExporterName, 'events'> | SpanExporterLike>, where: string) {
  const sdk = await load<SdkTrace>('@opentelemetry/sdk-trace-base', 'exporters');
  const { resourceFromAttributes } = await load<{ resourceFromAttributes: (a: Attributes) => unknown }>('@opentelemetry/resources', 'exporters');
  const processors: unknown[] = [];
  // Failure messages are masked like span contents, and the OTLP headers (keys) too.
  const redactor = new Redactor(config.redact ?? [], [...environmentSecrets(), ...Object.values(config.otlp?.headers ?? {})]);
  for (const e of exporters) {
    if (e === 'console') processors.push(new sdk.SimpleSpanProcessor(new sdk.ConsoleSpanExporter()));
    else if (e === 'otlp' || e === 'jaeger') {
      const otlp = await load<{ OTLPTraceExporter: new (c: Record<string, unknown>) => SpanExporterLike }>('@opentelemetry/exporter-trace-otlp-http', `the '${e}' exporter`);
      const built = new otlp.OTLPTraceExporter({ ...(config.otlp?.url ? { url: config.otlp.url } : {}), ...(config.otlp?.headers ? { headers: config.otlp.headers } : {}) });
      processors.push(new sdk.BatchSpanProcessor(reportingFailures(built, `${where}: the ${e} exporter`, redactor)));
    } else processors.push(new sdk.SimpleSpanProcessor(reportingFailures(e, `${where}: a span exporter`, redactor)));
  }
  const resource = resourceFromAttributes({ ...(config.attributes ?? {}), 'service.name': config.serviceName ?? 'lmthing' });
  return new sdk.BasicTracerProvider({ resource, spanProcessors: processors });
}

/**
 * Whether a tracer provider was registered globally: until one is, the API's global provider is a
 * proxy whose delegate is the API's no-op provider (the same one a fresh proxy has).
 */
function isRegistered(api: OtelApi, provider: TracerProvider): boolean {
  const delegate = (provider as { getDelegate?: () => TracerProvider }).getDelegate?.() ?? provider;
  return delegate !== new api.ProxyTracerProvider().getDelegate();
}

/**
 * Opens tracing for a root run whose definitions hold `stored` (or returns undefined): the provider
 * is `tracerProvider`, else one built for `exporters`, else the registered global one. The root span
 * hangs under the context active when the run starts.
 */
export async function openTracing(stored: StoredTracing | undefined): Promise<SpanBuilder | undefined> {
  if (!stored) return undefined;
  const { config } = stored;
  const exporters = config.exporters?.filter((e) => e !== 'events');
  if (config.exporters?.includes('events') && exporters?.length === 0) return undefined; // span events only
  const api = await load<OtelApi>('@opentelemetry/api', 'tracing');
  let provider = config.tracerProvider;
  let owned: { provider: { shutdown(): Promise<void>; forceFlush(): Promise<void> }; onlyNamedExporters: boolean } | undefined;
  if (!provider && exporters && exporters.length > 0) {
    const built = await buildProvider(config, exporters, `defTracing("${stored.name}")`);
    provider = built;
    owned = { provider: built, onlyNamedExporters: exporters.every((e) => typeof e === 'string') };
  }
  if (!provider) {
    provider = api.trace.getTracerProvider();
    // The AI SDK's telemetry with no tracer and none registered traces nothing, as it does there.
    if (stored.name === TELEMETRY_TRACING && !isRegistered(api, provider)) return undefined;
    if (!isRegistered(api, provider))
      throw new TracingError(
        'TRACING_NO_PROVIDER',
        `defTracing("${stored.name}"): no exporters and no registered tracer provider; give exporters: ['console' | 'otlp' | 'jaeger' | a SpanExporter], a tracerProvider, or register one (e.g. the NodeSDK's) before the run`,
      );
  }
  const tracer = provider.getTracer('lmthing');
  return new SpanBuilder(api, tracer, api.context.active(), new Redactor(config.redact ?? []), config.attributes ?? {}, owned);
}

/**
 * Masks span events before anyone sees them (`onEvent`, `.events`, the 'events' exporter) as the
 * spans an exporter writes are masked: the `redact` keys at any depth, known secrets, key-shaped strings.
 */
export function spanEventMasker(stored: StoredTracing | undefined): ((event: RunEvent) => void) | undefined {
  if (!stored) return undefined;
  const redactor = new Redactor(stored.config.redact ?? []);
  return (event) => {
    if (event.type !== 'span-start' && event.type !== 'span-end') return;
    event.attributes = redactor.redact(event.attributes);
    if (event.type === 'span-end' && event.error !== undefined) event.error = redactor.redactText(event.error);
  };
}

/** The engine's span attributes whose values are contents (JSON), recorded only when asked and redacted. */
const CONTENT_ATTRIBUTES = new Set(['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result']);

/**
 * Turns a run tree's `span-start` / `span-end` events into OpenTelemetry spans (one builder per
 * root run; engine span ids are unique in the tree).
 */
export class SpanBuilder {
  private readonly spans = new Map<number, Span>();

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
    private readonly root: Context,
    private readonly redactor: Redactor,
    private readonly attributes: Attributes,
    private readonly owned?: { provider: { shutdown(): Promise<void>; forceFlush(): Promise<void> }; onlyNamedExporters: boolean },
  ) {}

  /** The run event listener. */
  readonly listener = (event: RunEvent): void => {
    if (event.type === 'span-start') this.start(event);
    else if (event.type === 'span-end') this.end(event);
  };

  /** `context.trace` of a tool call whose engine span is `span`. */
  toolTrace(span: number | undefined): ToolTrace {
    const context = this.contextOf(span);
    return { startSpan: (name, options) => this.tracer.startSpan(name, options, context) };
  }

  /**
   * Runs a tool's code with its call's span as the active OpenTelemetry context, so spans the code
   * starts through the API (`startActiveSpan`, instrumented libraries) hang under the tool call too.
   */
  inToolSpan<T>(span: number | undefined, fn: () => T): T {
    return this.api.context.with(this.contextOf(span), fn);
  }

  /** The context whose active span is the engine span `span` (the run's starting context without it). */
  private contextOf(span: number | undefined): Context {
    const parent = span === undefined ? undefined : this.spans.get(span);
    return parent ? this.api.trace.setSpan(this.root, parent) : this.root;
  }

  /**
   * Exports what a provider lmthing built still holds, and shuts it down when every exporter in it
   * is lmthing's own (shutting down clears an exporter object the user passed, such as the SDK's
   * in-memory one, so those are only flushed). The user's own provider is left alone.
   */
  async close(): Promise<void> {
    for (const span of this.spans.values()) span.end();
    this.spans.clear();
    if (!this.owned) return;
    if (this.owned.onlyNamedExporters) await this.owned.provider.shutdown();
    else await this.owned.provider.forceFlush();
  }

  private start(event: SpanStartEvent): void {
    const context = this.contextOf(event.parent ?? undefined);
    const kind = event.kind === 'model' ? this.api.SpanKind.CLIENT : this.api.SpanKind.INTERNAL;
    const attributes: Attributes = { ...this.attributes, ...this.convert(event.attributes), 'lmthing.span.kind': event.kind };
    if (Array.isArray(event.path)) attributes['lmthing.path'] = event.path.join('/');
    this.spans.set(event.span, this.tracer.startSpan(event.name, { kind, startTime: hrTime(event.startMs), attributes }, context));
  }

  private end(event: SpanEndEvent): void {
    const span = this.spans.get(event.span);
    if (!span) return;
    this.spans.delete(event.span);
    span.setAttributes(this.convert(event.attributes));
    if (event.status === 'error') span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: this.redactor.redactText(event.error ?? 'error') });
    span.end(hrTime(event.endMs));
  }

  /** Engine attributes → OTel attribute values: JSON contents as (redacted) JSON text, strings redacted. */
  private convert(values: Record<string, unknown>): Attributes {
    const out: Attributes = {};
    for (const [key, value] of Object.entries(values)) {
      const converted = this.value(key, value);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  }

  private value(key: string, value: unknown): AttributeValue | undefined {
    if (value === null || value === undefined) return undefined;
    if (CONTENT_ATTRIBUTES.has(key)) return typeof value === 'string' ? this.redactor.redactText(value) : JSON.stringify(this.redactor.redact(value));
    if (typeof value === 'string') return this.redactor.redactText(value);
    if (typeof value === 'number' || typeof value === 'boolean') return value;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v) => this.redactor.redactText(v));
    if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return value;
    return JSON.stringify(this.redactor.redact(value));
  }
}

/**
 * Engine-clock ms as OTel's [seconds, nanoseconds]: exact, and never mistaken for a
 * `performance.now()` reading (the SDK takes small numbers as those; a virtual clock starts small).
 */
function hrTime(ms: number): HrTime {
  const whole = Math.floor(Math.max(ms, 0));
  const nanos = Math.round((Math.max(ms, 0) - whole) * 1e6);
  return [Math.floor(whole / 1000), (whole % 1000) * 1e6 + Math.min(nanos, 999_999)];
}

/** Runs a tool call's code under its span when the tree is traced (see {@link SpanBuilder.inToolSpan}). */
export function inToolSpan<T>(tracing: SpanBuilder | undefined, span: number | undefined, fn: () => T): T {
  return tracing ? tracing.inToolSpan(span, fn) : fn();
}

/** The span `context.trace.startSpan` returns when the run is not traced: records nothing. */
export const untracedToolTrace: ToolTrace = {
  startSpan: () => nonRecordingSpan,
};

const nonRecordingSpan: Span = {
  spanContext: () => ({ traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 }),
  setAttribute: () => nonRecordingSpan,
  setAttributes: () => nonRecordingSpan,
  addEvent: () => nonRecordingSpan,
  addLink: () => nonRecordingSpan,
  addLinks: () => nonRecordingSpan,
  setStatus: () => nonRecordingSpan,
  updateName: () => nonRecordingSpan,
  end: () => {},
  isRecording: () => false,
  recordException: () => {},
};
