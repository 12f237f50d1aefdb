/**
 * Exporting the engine's metrics through an OpenTelemetry `MeterProvider` (the run config's
 * `meterProvider`): the engine then announces every recording of the run tree as a `metric` event,
 * and each becomes a recording on the OTel instrument of the same name, type, unit and buckets.
 */
import type { Attributes, Counter, Gauge, Histogram, Meter, MeterProvider } from '@opentelemetry/api';
import type { MetricEvent, RunEvent } from '../run/events.js';

type Instrument = { kind: 'counter'; counter: Counter } | { kind: 'histogram'; histogram: Histogram } | { kind: 'gauge'; gauge: Gauge };

/** The instruments of one meter, made on first use from the metric's definition. */
const instrumentsByMeter = new WeakMap<Meter, Map<string, Instrument>>();

function instrument(meter: Meter, event: MetricEvent): Instrument {
  let instruments = instrumentsByMeter.get(meter);
  if (!instruments) instrumentsByMeter.set(meter, (instruments = new Map<string, Instrument>()));
  const known = instruments.get(event.name);
  if (known) return known;
  const { type, description, unit, buckets } = event.definition;
  const options = { ...(description ? { description } : {}), ...(unit ? { unit } : {}) };
  const made: Instrument =
    type === 'counter'
      ? { kind: 'counter', counter: meter.createCounter(event.name, options) }
      : type === 'histogram'
        ? { kind: 'histogram', histogram: meter.createHistogram(event.name, { ...options, ...(buckets ? { advice: { explicitBucketBoundaries: buckets } } : {}) }) }
        : { kind: 'gauge', gauge: meter.createGauge(event.name, options) };
  instruments.set(event.name, made);
  return made;
}

/** The run event listener that records `metric` events on `provider`'s `lmthing` meter. */
export function otelMetrics(provider: MeterProvider): (event: RunEvent) => void {
  const meter = provider.getMeter('lmthing');
  return (event) => {
    if (event.type !== 'metric') return;
    const labels: Attributes = { ...event.labels };
    const target = instrument(meter, event);
    if (target.kind === 'counter') target.counter.add(event.value, labels);
    else if (target.kind === 'histogram') target.histogram.record(event.value, labels);
    else target.gauge.record(event.current, labels); // a gauge's value after its aggregation (last, sum, max, min)
  };
}

/** Whether `v` looks like a MeterProvider. */
export function isMeterProvider(v: unknown): v is MeterProvider {
  return typeof v === 'object' && v !== null && typeof (v as MeterProvider).getMeter === 'function';
}
