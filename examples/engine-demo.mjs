// `npm start`: a small program that drives the engine the way agents will. It fans out "tool
// calls" to JS callbacks with random latencies, bounds a hung one with a timeout, and cancels a
// run mid-way, printing what happened. (The agent examples arrive with runPrompt.)
import { createEngine, TimeoutError, AbortError } from '../dist/node.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const started = performance.now();
const elapsed = () => `${(performance.now() - started).toFixed(0).padStart(5)} ms`;

const engine = await createEngine();
const info = await engine.request('engine.info');
console.log(`${elapsed()}  engine ${info.version} ready (protocol ${info.protocol})`);

engine.registerCallback('fetchWeather', async (city) => {
  await sleep(20 + Math.random() * 80);
  return { city, tempC: Math.round(10 + Math.random() * 20) };
});
const cities = ['Lisbon', 'Oslo', 'Nairobi', 'Lima', 'Osaka', 'Perth'];
const weather = await engine.startRun({ kind: 'map', fn: 'fetchWeather', items: cities, concurrency: 3 });
console.log(`${elapsed()}  6 tool calls, 3 at a time:`);
for (const w of weather) console.log(`           ${w.city.padEnd(8)} ${w.tempC} °C`);

engine.registerCallback('hangs', () => new Promise(() => {}));
try {
  await engine.startRun({ kind: 'call', fn: 'hangs', timeoutMs: 100 });
} catch (err) {
  if (!(err instanceof TimeoutError)) throw err;
  console.log(`${elapsed()}  a hung callback was bounded: ${err.name} (${err.code}): ${err.message}`);
}

const controller = new AbortController();
engine.registerCallback('slowStep', async (step, index, { signal }) => {
  await sleep(50);
  return signal.aborted ? 'aborted' : `step ${step} done`;
});
const cancelled = engine.startRun({ kind: 'map', fn: 'slowStep', items: [1, 2, 3, 4], concurrency: 1 }, { signal: controller.signal });
setTimeout(() => controller.abort(new Error('stopped by the user')), 120);
try {
  await cancelled;
} catch (err) {
  if (!(err instanceof AbortError)) throw err;
  console.log(`${elapsed()}  run cancelled mid-way: ${err.message}`);
}
console.log(`${elapsed()}  done; runs still active: ${(await engine.request('engine.info')).activeRuns}`);
