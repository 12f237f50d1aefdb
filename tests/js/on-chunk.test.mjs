// runPrompt's onChunk (js/prompt/on-chunk.ts): each text, reasoning and tool part of fullStream, in
// the stream's order (a recorded OpenAI stream over loopback HTTP, then a tool loop); each call waits
// for the previous one, the result settles after the last; a throwing callback is an error event.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAI, mockModel, runPrompt } from '../../dist/node.js';
import { loadFixture, startFixtureServer } from './helpers/fixture-server.mjs';

let srv;
before(async () => {
  srv = await startFixtureServer();
});
after(async () => {
  await srv.close();
});

const CHUNK_TYPES = ['text-delta', 'reasoning-delta', 'tool-call', 'tool-result', 'tool-error'];

test('a streamed answer: onChunk gets every text delta of fullStream, in order, before the result settles', async () => {
  srv.enqueue(loadFixture('openai-chat', 'text-stream-include-usage', 1));
  const openai = createOpenAI({ baseURL: `${srv.url}/v1`, apiKey: 'sk-test-not-a-real-key' });
  const reported = [];
  let calls = 0;
  const result = runPrompt({
    model: openai('gpt-3.5-turbo'),
    prompt: 'Hello',
    onChunk: async ({ chunk }) => {
      const n = calls++;
      await new Promise((resolve) => setTimeout(resolve, n % 2 === 0 ? 4 : 0)); // unequal delays: only waiting for the previous call keeps the order
      reported.push(chunk);
    },
  });
  const text = await result.text;
  const streamed = [];
  for await (const part of result.fullStream) if (CHUNK_TYPES.includes(part.type)) streamed.push(part);
  assert.ok(reported.length > 1, 'the recorded answer streams in several deltas');
  assert.deepEqual(reported, streamed);
  assert.equal(reported.map((c) => c.text).join(''), text);
});

test('a tool loop: tool-call, tool-result and tool-error chunks between the text; a throwing callback is an error event and the next chunk still comes', async () => {
  const types = [];
  const { result, prompt } = await runPrompt({
    model: mockModel([
      { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', args: { city: 'Oslo' } },
      { type: 'tool-call', toolCallId: 'c2', toolName: 'weather', args: { city: 'Atlantis' } },
      { type: 'text', text: 'Cold in Oslo.' },
    ]),
    prompt: 'Weather?',
    tools: {
      weather: {
        description: 'Weather',
        inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        execute: ({ city }) => {
          if (city === 'Atlantis') throw new Error('no such city');
          return 'cold';
        },
      },
    },
    onChunk: ({ chunk }) => {
      types.push(chunk.type === 'tool-call' ? `${chunk.type} ${chunk.toolCallId}` : chunk.type);
      if (chunk.type === 'tool-result') throw new Error('chunk watcher bug');
    },
  });
  assert.equal(await result.text, 'Cold in Oslo.');
  const runs = types.filter((t, i) => t !== types[i - 1]); // mockModel streams its text in several deltas
  assert.deepEqual(runs, ['tool-call c1', 'tool-result', 'tool-call c2', 'tool-error', 'text-delta']);
  const failure = prompt.events.find((e) => e.type === 'error' && e.source === 'handler');
  assert.equal(failure.error.message, 'event handler onChunk failed on tool-result: chunk watcher bug');
});
