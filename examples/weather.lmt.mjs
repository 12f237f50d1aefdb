// A tool-using agent: the model calls getWeather, then answers in one sentence.
//   npx lmthing run examples/weather.lmt.mjs                 (real model with OPENAI_API_KEY, else the mock)
//   npx lmthing run examples/weather.lmt.mjs --model mock    (always offline)

/** Fake, deterministic weather: the same city always gets the same reading. */
function fakeWeather(city) {
  const known = { paris: 21, oslo: 4, lisbon: 24, nairobi: 26, lima: 19 };
  const key = city.trim().toLowerCase();
  const tempC = known[key] ?? [...key].reduce((sum, ch) => sum + ch.charCodeAt(0), 0) % 35;
  const sky = tempC >= 20 ? 'sunny' : tempC >= 10 ? 'cloudy' : 'cold and grey';
  return { city, tempC, sky };
}

export const config = { model: 'openai:gpt-4o-mini', options: { maxSteps: 5 } };

export default async function weather(ctx) {
  ctx.defSystem('role', 'You are a concise weather assistant. Always use the getWeather tool; never guess.');
  const city = ctx.def('city', 'Paris');
  ctx.defTool(
    'getWeather',
    'Get the current weather of a city',
    { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
    async ({ city }) => fakeWeather(city),
  );
  ctx.$`What is the weather in ${city}? Answer in one sentence.`;
}

/** Offline script: step 1 calls the tool, step 2 answers. */
export const mock = [
  { type: 'tool-call', toolName: 'getWeather', args: { city: 'Paris' } },
  { type: 'text', text: 'It is 21 °C and sunny in Paris.' },
];
