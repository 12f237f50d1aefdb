/**
 * Metrics (docs/observability.md): `defMetric` definitions, `ctx.recordMetric` checks, and reading
 * the values the engine keeps (`prompt.metrics()`, `readMetrics`, `metricsText`). The engine owns the
 * values and records the built-in `lmthing_*` metrics itself; this module checks and marshals.
 */
import * as c from '../config/check.js';
import type { DefinitionKind } from '../definitions/kind.js';
import { defaultEngine } from '../default-engine.js';
import { checkEngine } from '../engine-options.js';
import type { Engine } from '../engine.js';
import { MetricError } from '../errors.js';

/** A metric's kind. */
export type MetricType = 'counter' | 'histogram' | 'gauge';

/** `defMetric` config. */
export interface MetricConfig {
  /** Label names every recording must give (values are strings, numbers or booleans). */
  labels?: string[];
  /** Histograms: bucket upper bounds, strictly increasing (default: the Prometheus client's, in seconds). */
  buckets?: number[];
  /** How recordings combine: counter `sum`; histogram `histogram`; gauge `last` (default), `sum`, `max`, `min`. */
  aggregation?: 'sum' | 'last' | 'max' | 'min' | 'histogram';
  /** The `# HELP` text. */
  description?: string;
  /** The unit, added to the help text (`ms`, `tokens` ...). */
  unit?: string;
}

/** A metric's definition and its values, one series per combination of label values. */
export interface MetricSnapshot {
  name: string;
  type: MetricType;
  labels: string[];
  aggregation: string;
  description: string;
  unit: string;
  buckets?: number[];
  series: Array<{
    labels: Record<string, string>;
    /** Counters and gauges. */
    value?: number;
    /** Histograms: cumulative counts per upper bound (`+Inf` is `count`). */
    buckets?: Array<{ le: number; count: number }>;
    count?: number;
    sum?: number;
  }>;
}

/** What `prompt.metrics()` and {@link readMetrics} return. */
export interface MetricsSnapshot {
  metrics: MetricSnapshot[];
}

/** The content type of {@link metricsText} (Prometheus text exposition format 0.0.4). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** The prefix of the built-in metrics (recorded by the engine; user metrics may not use it). */
const BUILTIN_PREFIX = 'lmthing_';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** What a `metric` definition keeps. */
export interface StoredMetric {
  type: MetricType;
  config: MetricConfig;
}

export const metricKind: DefinitionKind<unknown, StoredMetric> = {
  kind: 'metric',
  noun: 'metric',
  method: 'defMetric',
  check(where, type, config) {
    c.checkChoice(where, 'type', type, 'counter', 'histogram', 'gauge');
    const checked = c.checkOptions(where, config ?? {}, {
      labels: c.arrayOf((v) => (typeof v === 'string' && LABEL.test(v) && !v.startsWith('__') ? undefined : 'x'), 'an array of label names matching [a-zA-Z_][a-zA-Z0-9_]* and not starting with __ (reserved for Prometheus\' own labels)'),
      buckets: c.arrayOf((v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'x'), 'an array of finite numbers'),
      aggregation: c.oneOf('sum', 'last', 'max', 'min', 'histogram'),
      description: c.string,
      unit: c.string,
    }) as MetricConfig;
    const name = where.slice('defMetric("'.length, -2);
    if (!NAME.test(name)) c.fail(where, 'the name must match [a-zA-Z_:][a-zA-Z0-9_:]* (a Prometheus metric name)');
    if (name.startsWith(BUILTIN_PREFIX)) c.fail(where, `names starting with "${BUILTIN_PREFIX}" belong to the built-in metrics`);
    if (checked.buckets && type !== 'histogram') c.fail(where, "'buckets' applies to histograms only");
    if (checked.buckets?.length === 0) c.fail(where, "'buckets' must be a non-empty array of increasing numbers");
    if (checked.buckets?.some((b, i) => i > 0 && !(b > checked.buckets![i - 1]))) c.fail(where, "'buckets' must be strictly increasing");
    const labels = checked.labels ?? [];
    if (new Set(labels).size !== labels.length) c.fail(where, 'a label is listed twice');
    if (type === 'histogram' && labels.includes('le')) c.fail(where, "the label 'le' is reserved for histogram buckets");
    const fits = { counter: ['sum'], histogram: ['histogram'], gauge: ['last', 'sum', 'max', 'min'] }[type];
    if (checked.aggregation !== undefined && !fits.includes(checked.aggregation))
      c.fail(where, `aggregation '${checked.aggregation}' does not fit a ${type} (a ${type} takes ${fits.map((a) => `'${a}'`).join(', ')})`);
    return { type, config: checked };
  },
  wire: (stored) => ({ type: stored.type, ...stored.config }),
};

/**
 * Checks a recording against its definition (`defined`: the metrics the ctx sees) and returns the
 * labels as the engine takes them. Throws MetricError: METRIC_UNKNOWN, METRIC_LABELS, METRIC_VALUE.
 */
export function checkRecording(name: unknown, value: unknown, labels: unknown, defined: (name: string) => StoredMetric | undefined, known: readonly string[]): Record<string, string | number | boolean> {
  const where = `ctx.recordMetric(${typeof name === 'string' ? JSON.stringify(name) : c.describe(name)})`;
  if (typeof name !== 'string') throw new MetricError('METRIC_UNKNOWN', `${where}: the metric name must be a string`);
  const metric = defined(name);
  if (!metric) {
    const guess = c.nearest(name, known);
    throw new MetricError('METRIC_UNKNOWN', `${where}: unknown metric (${guess ? `did you mean "${guess}"? ` : ''}define it with defMetric; defined: ${known.join(', ') || 'none'})`);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MetricError('METRIC_VALUE', `${where}: the value must be a finite number, got ${c.describe(value)}`);
  if (metric.type === 'counter' && value < 0) throw new MetricError('METRIC_VALUE', `${where}: a counter only goes up; got ${value} (use a gauge)`);
  if (labels !== undefined && !c.isPlainObject(labels)) throw new MetricError('METRIC_LABELS', `${where}: labels must be an object {name: value}, got ${c.describe(labels)}`);
  const given = (labels ?? {});
  const expected = metric.config.labels ?? [];
  for (const [key, v] of Object.entries(given)) {
    if (!expected.includes(key)) {
      const guess = c.nearest(key, expected);
      throw new MetricError('METRIC_LABELS', `${where}: unknown label "${key}" (${guess ? `did you mean "${guess}"? ` : ''}labels: ${expected.join(', ') || 'none'})`);
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new MetricError('METRIC_LABELS', `${where}: label "${key}" must be a string, number or boolean, got ${c.describe(v)}`);
  }
  const missing = expected.find((label) => !(label in given));
  if (missing !== undefined) throw new MetricError('METRIC_LABELS', `${where}: missing label "${missing}" (labels: ${expected.join(', ')})`);
  return given as Record<string, string | number | boolean>;
}

/** Every metric of `engine` (default: the default engine): user metrics and the built-in `lmthing_*` ones, across all its runs. */
export async function readMetrics(engine?: Engine): Promise<MetricsSnapshot> {
  if (engine !== undefined) checkEngine(engine, 'readMetrics');
  return metricsFromEngine(await (engine ?? (await defaultEngine())).request('metrics.read', {}));
}

const NON_FINITE: Record<string, number> = { '+Inf': Infinity, '-Inf': -Infinity, NaN: NaN };

/** @internal The engine's metrics JSON with the sums that overflowed (sent as `"+Inf"`, `"-Inf"`) as numbers again. */
export function metricsFromEngine(snapshot: unknown): MetricsSnapshot {
  const read = snapshot as MetricsSnapshot;
  for (const metric of read.metrics)
    for (const series of metric.series)
      for (const key of ['value', 'sum'] as const) {
        const value = series[key] as unknown;
        if (typeof value === 'string' && value in NON_FINITE) series[key] = NON_FINITE[value];
      }
  return read;
}

/**
 * Every metric of `engine` as Prometheus text (format 0.0.4; serve it with
 * {@link METRICS_CONTENT_TYPE}), e.g. from a `/metrics` endpoint. `engine` defaults to the default engine.
 */
export async function metricsText(engine?: Engine): Promise<string> {
  if (engine !== undefined) checkEngine(engine, 'metricsText');
  const { text } = (await (engine ?? (await defaultEngine())).request('metrics.read', { format: 'prometheus' })) as { text: string };
  return text;
}
