/**
 * The AI SDK's `telemetry` (5/6: `experimental_telemetry`) on `runPrompt`, read as a `defTracing`
 * of the run: an app that traces its AI SDK calls with `{isEnabled: true, functionId, metadata}`
 * and a registered OpenTelemetry provider (or its own `tracer`) gets lmthing's spans (GenAI
 * conventions, docs/observability.md) in the same place. As in the AI SDK, inputs and outputs are recorded
 * unless `recordInputs` / `recordOutputs` say no, and nothing is traced unless `isEnabled`.
 *
 * @module
 */
import type { AttributeValue, Tracer } from '@opentelemetry/api';
import * as c from '../config/check.js';
import type { PromptContext } from '../prompt/context.js';
import { definitionsOf } from '../definitions/context.js';
import { attributesCheck, TELEMETRY_TRACING, tracingKind, type TracingConfig } from './tracing.js';

/** The AI SDK 5/6's telemetry settings. */
export interface TelemetrySettings {
  /** Traces the run (default false). */
  isEnabled?: boolean;
  /** Records prompts and tool arguments on the spans (default true). */
  recordInputs?: boolean;
  /** Records answers and tool results on the spans (default true). */
  recordOutputs?: boolean;
  /** Names the function the run serves: `ai.telemetry.functionId` on every span. */
  functionId?: string;
  /** More attributes, each `ai.telemetry.metadata.KEY` on every span. */
  metadata?: Record<string, AttributeValue>;
  /** The tracer to use, instead of the registered provider's. */
  tracer?: Tracer;
}

/** The run config's `telemetry` (the AI SDK 7's name) or `experimental_telemetry` (the AI SDK 5/6's). */
export interface TelemetryOption {
  /**
   * Telemetry settings, read as a `defTracing` of the run (see {@link TelemetrySettings}); a run
   * that has its own `defTracing` may not give them too. The AI SDK 7's `integrations` are not
   * supported: the spans go to an OpenTelemetry tracer.
   */
  telemetry?: TelemetrySettings;
  /** The AI SDK 5/6's name of {@link telemetry}. */
  experimental_telemetry?: TelemetrySettings;
}

/** The option's check for the config's shape. */
export const telemetryCheck: c.Check = (v) => (c.isPlainObject(v) ? undefined : 'an object {isEnabled, recordInputs, recordOutputs, functionId, metadata, tracer}');


/** Defines the run's tracing from `settings` when they enable it (after the prompt function ran). */
export function defineTelemetry(ctx: PromptContext, settings: TelemetrySettings | undefined, where: string): void {
  if (settings === undefined) return;
  const at = `${where}.telemetry`;
  if ((settings as { integrations?: unknown } | null)?.integrations !== undefined)
    c.fail(at, "the AI SDK 7's telemetry 'integrations' are not supported: lmthing's spans go to an OpenTelemetry tracer (give 'tracer', or register a tracer provider)");
  c.checkOptions(at, settings, {
    isEnabled: c.boolean,
    recordInputs: c.boolean,
    recordOutputs: c.boolean,
    functionId: c.nonEmpty,
    metadata: attributesCheck,
    tracer: (v) => (typeof v === 'object' && v !== null && typeof (v as Tracer).startSpan === 'function' ? undefined : 'an OpenTelemetry Tracer'),
  });
  if (!settings.isEnabled) return;
  const defined = definitionsOf(ctx).values(tracingKind);
  if (defined.length > 0) c.fail(at, `the run already has defTracing("${defined[0].name}"); trace it with one or the other`);
  const attributes: Record<string, AttributeValue> = {};
  if (settings.functionId !== undefined) attributes['ai.telemetry.functionId'] = settings.functionId;
  for (const [key, value] of Object.entries(settings.metadata ?? {})) attributes[`ai.telemetry.metadata.${key}`] = value;
  const config: TracingConfig = { recordInputs: settings.recordInputs ?? true, recordOutputs: settings.recordOutputs ?? true };
  if (Object.keys(attributes).length > 0) config.attributes = attributes;
  const tracer = settings.tracer;
  if (tracer) config.tracerProvider = { getTracer: () => tracer };
  ctx.defTracing(TELEMETRY_TRACING, config);
}
