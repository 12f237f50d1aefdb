/**
 * A span exporter that says when it fails. The OpenTelemetry SDK's span processors drop a failed
 * export in silence (its diagnostics logger is off by default), so a collector that is down or
 * refuses the key would lose every span without a word. The first failure goes to stderr (the
 * console elsewhere), then nothing until an export succeeds again; the spans are not retried.
 */
import { writeToConsole } from './logger.js';
import type { Redactor } from './redact.js';
import type { SpanExporterLike } from './tracing.js';

/** The SDK's `ExportResultCode.SUCCESS`. */
const SUCCESS = 0;

/** `exporter`, reporting its failed exports as `label` (e.g. `defTracing("t"): the otlp exporter`). */
export function reportingFailures(exporter: SpanExporterLike, label: string, redactor: Redactor): SpanExporterLike {
  let failing = false;
  return {
    export(spans, resultCallback) {
      exporter.export(spans, (result) => {
        if (result.code === SUCCESS) failing = false;
        else if (!failing) {
          failing = true;
          const why = result.error ? `: ${withoutCredentials(redactor.redactText(result.error.message))}` : '';
          writeToConsole('error', `lmthing: ${label} failed to export ${spans.length} span${spans.length === 1 ? '' : 's'}${why} (later failures are not shown until an export succeeds)`);
        }
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush!() } : {}),
  };
}

/** A URL's `user:password@` in an error message, masked. */
function withoutCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1[REDACTED]@');
}
