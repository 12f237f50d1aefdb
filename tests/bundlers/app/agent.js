// The code every bundled app runs: a runPrompt with the offline mock model and one tool call.
// It is written as an application would write it: it imports only the package name.
import { mockModel, preload, runPrompt } from 'lmthing';

/** Runs the agent and returns what the page reports. */
export async function runAgent(where) {
  const model = mockModel([
    { type: 'text', text: 'Checking. ' },
    { type: 'tool-call', toolName: 'getWeather', args: { city: 'Lima' } },
    { type: 'text', text: 'It is 19 C in Lima.' },
  ]);
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defTool('getWeather', 'Current weather', { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, ({ city }) => ({ city, tempC: 19, where }));
      ctx.$`Weather in Lima?`;
    },
    { model },
  );
  const steps = await result.steps;
  // The engine's second file, which the first request did not need, must have come along too:
  // preload() loads it and rejects with ENGINE_LOAD when it is missing (docs/bundlers.md).
  await preload({ warmUp: false });
  return { text: await result.text, toolResult: steps[0].toolResults[0].result };
}

/** Shows the outcome (or the error, with its code) in #result for the test to read. */
export function report(promise) {
  const box = document.getElementById('result');
  promise.then(
    (value) => {
      box.textContent = JSON.stringify({ ok: true, ...value });
      box.dataset.state = 'done';
    },
    (err) => {
      box.textContent = JSON.stringify({ ok: false, name: err?.name, code: err?.code, message: err?.message, file: err?.file, urls: err?.urls });
      box.dataset.state = 'failed';
    },
  );
}
