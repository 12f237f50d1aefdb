/**
 * The id the call watchers and step callbacks name one run's calls by (`callId` of
 * `onLanguageModelCallStart`, `onToolExecutionStart`, `onStart` …): as the AI SDK's generated id,
 * unique beyond the engine that runs it, so events of runs of several engines or processes sent to
 * one place do not mix. (A run id is unique only within its engine.)
 */
export function newCallId(): string {
  let id = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(8))) id += byte.toString(16).padStart(2, '0');
  return id;
}
