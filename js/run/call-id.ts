/**
 * The id the call watchers and step callbacks name one run's calls by (`callId` of
 * `onLanguageModelCallStart`, `onToolExecutionStart`, `onStart` …): as the AI SDK's generated id,
 * unique beyond the engine that runs it, so events of runs of several engines or processes sent to
 * one place do not mix. (A run id is unique only within its engine.) Not a secret, so
 * `Math.random` (seeded per process by V8): in Node, the first use of `crypto` costs ≈ 2 ms of a
 * cold start.
 */
export function newCallId(): string {
  const part = () => Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
  return part() + part();
}
