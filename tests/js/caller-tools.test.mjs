// Tools the run's caller executes (docs/prompt-runs.md, "Tools the caller executes"): a config tool
// without `execute`, as the AI SDK's client-side tools. Its call ends the run pending; the next run
// gets its result in the messages. Checked with model messages, and with the AI SDK's own chat
// client (`AbstractChat`, what `useChat` is built on) over real HTTP, whose `onToolCall` and
// `addToolOutput` answer the call in the browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { AbstractChat, DefaultChatTransport, lastAssistantMessageIsCompleteWithToolCalls } from 'ai';
import { ConfigError, L, fromUIMessages, run, runPrompt, tool } from '../../dist/node.js';
import { call, recordingModel } from './helpers/scripted-model.mjs';
import { MemoryState } from './helpers/approval-chat.mjs';
import { startChatRoute } from './helpers/chat-route.mjs';

/** `locate` runs in the caller (no execute); `weather` runs on the server. `ran` records what ran. */
function tools(ran) {
  return {
    locate: tool({ description: "The user's city, from the browser", inputSchema: z.object({ precise: z.boolean() }) }),
    weather: tool({ description: 'Weather for a city', inputSchema: z.object({ city: z.string() }), execute: ({ city }) => (ran.push(city), `sunny in ${city}`) }),
  };
}

test("a call of a tool without execute ends the run pending; the step's other calls run; the next run gets its result from the messages", async () => {
  const ran = [];
  const model = recordingModel([[{ type: 'text', text: 'Looking.' }, call('locate', 'c1', { precise: true }), call('weather', 'c2', { city: 'Oslo' })]]);
  const events = [];
  const { result } = await runPrompt({ model, prompt: 'Weather here?', tools: tools(ran), onEvent: (e) => events.push(e.type) });
  assert.equal(await result.finishReason, 'tool-calls');
  assert.deepEqual(ran, ['Oslo']);
  assert.equal(model.calls.length, 1, 'the model is not asked again');
  assert.deepEqual(model.calls[0].tools.map((t) => t.name).sort(), ['locate', 'weather'], 'the model is offered the tool');
  const [step] = await result.steps;
  assert.deepEqual(step.toolCalls.map((c) => [c.toolCallId, c.toolName, c.args]), [['c1', 'locate', { precise: true }], ['c2', 'weather', { city: 'Oslo' }]]);
  assert.deepEqual(step.toolResults.map((r) => r.toolCallId), ['c2']);
  assert.ok(!events.includes('tool-error'), 'the pending call is not an error');
  const { messages } = await result.response;
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(messages[2].content.map((p) => p.toolCallId), ['c2']);

  // The caller ran `locate` and sends its result with the conversation.
  const answer = { type: 'tool-result', toolCallId: 'c1', toolName: 'locate', result: { city: 'Bergen' } };
  const next = recordingModel([[{ type: 'text', text: 'Rain in Bergen.' }]]);
  const second = await runPrompt({ model: next, messages: [messages[0], messages[1], { role: 'tool', content: [answer, ...messages[2].content] }], tools: tools(ran) });
  assert.equal(await second.result.text, 'Rain in Bergen.');
  const seen = next.calls[0].messages.at(-1);
  assert.equal(seen.role, 'tool');
  assert.deepEqual(seen.content.map((p) => [p.toolCallId, p.result]), [['c1', { city: 'Bergen' }], ['c2', 'sunny in Oslo']]);
  assert.deepEqual(ran, ['Oslo'], 'nothing runs again');
});

test('a tool without execute is refused where the run would have to run it, naming the tool and the fix', async () => {
  const model = recordingModel([]);
  const start = (config) => runPrompt({ model, prompt: 'x', ...config });
  const locate = { inputSchema: z.object({}) };
  await assert.rejects(start({ tools: { locate: { ...locate, options: { timeout: 5 } } } }), (err) => err instanceof ConfigError && /tools\.locate: has no 'execute', so the run's caller executes it and the run applies no call options; remove 'options' or give 'execute'/.test(err.message));
  await assert.rejects(start({ tools: { locate: { ...locate, needsApproval: true } } }), /tools\.locate: has no 'execute', .* no approval; remove 'needsApproval' or give 'execute'/);
  await assert.rejects(start({ tools: { locate }, toolApproval: { locate: 'approved' } }), /tools\.locate: has no 'execute', .* remove its 'toolApproval' entry or give 'execute'/);
  await assert.rejects(start({ tools: { locate }, timeout: { tools: { locateMs: 100 } } }), /timeout\.tools\.locateMs: the tool "locate" has no 'execute' \(the run's caller executes it\), so the run cannot time it/);
  await assert.rejects(start({ tools: { locate: { ...locate, execute: 'run it' } } }), /tools\.locate: 'execute' must be a function, got the string "run it"/);
  // A directive run has no caller to leave a call to.
  await assert.rejects(
    run(function* () {
      yield* L.user`x`;
    }, { models: { default: model }, tools: { locate: { parameters: { type: 'object' } } } }),
    (err) => err instanceof ConfigError && /run: config\.tools\.locate: 'execute' is required: a directive run executes every tool it enables/.test(err.message),
  );
  assert.equal(model.calls.length, 0);
});

test('a guard that redirects a call to a tool without execute gives the model an error naming the tool', async () => {
  const model = recordingModel([[call('weather', 'c1', { city: 'Oslo' })], [{ type: 'text', text: 'ok' }]]);
  const ran = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defGuard('toBrowser', () => false, { onFail: 'redirect', redirectTo: 'browserWeather' });
      ctx.$`Weather?`;
    },
    {
      model,
      tools: {
        weather: { ...tools(ran).weather, options: { guards: ['toBrowser'] } },
        browserWeather: { description: "Weather from the browser's widget", inputSchema: z.object({ city: z.string() }) },
      },
    },
  );
  assert.equal(await result.text, 'ok');
  assert.deepEqual(ran, []);
  const [output] = model.calls[1].messages.at(-1).content;
  assert.match(JSON.stringify(output.result), /tool \\"browserWeather\\" has no execute function: its calls go to the run's caller/);
});

// ------------------------------------------------------------------ useChat over real HTTP

const server = { responses: [], model: undefined, ran: [] };
let route;
before(async () => {
  route = await startChatRoute(async (messages, res) => {
    server.model = recordingModel(server.responses.shift() ?? []);
    try {
      const { result } = await runPrompt({ model: server.model, messages: fromUIMessages(messages), tools: tools(server.ran) });
      await result.pipeUIMessageStreamToResponse(res, { originalMessages: messages });
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
});
after(() => route.close());

test('useChat: onToolCall answers the call in the client with addToolOutput, and the chat goes on by itself', async () => {
  server.responses = [[[{ type: 'text', text: 'Let me see.' }, call('locate', 'c1', { precise: false })]], [[{ type: 'text', text: 'Sunny in Bergen.' }]]];
  const asked = [];
  const chat = new (class extends AbstractChat {})({
    transport: new DefaultChatTransport({ api: route.api }),
    state: new MemoryState(),
    sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
    onToolCall: ({ toolCall }) => {
      asked.push([toolCall.toolName, toolCall.input]);
      void chat.addToolOutput({ tool: 'locate', toolCallId: toolCall.toolCallId, output: { city: 'Bergen' } });
    },
  });
  await chat.sendMessage({ text: 'Weather here?' });
  for (let i = 0; i < 400 && (chat.state.status !== 'ready' || chat.state.messages.at(-1)?.parts.at(-1)?.type !== 'text' || server.responses.length > 0); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(chat.state.status, 'ready', String(chat.state.error));
  assert.deepEqual(asked, [['locate', { precise: false }]]);
  const reply = chat.state.messages.at(-1);
  const shape = reply.parts.map((p) => (p.type === 'text' ? `text:${p.text}` : p.type.startsWith('tool-') ? `${p.type}:${p.state}` : p.type));
  assert.deepEqual(shape, ['step-start', 'text:Let me see.', 'tool-locate:output-available', 'step-start', 'text:Sunny in Bergen.']);
  const seen = server.model.calls[0].messages.at(-1);
  assert.equal(seen.role, 'tool');
  assert.deepEqual(seen.content.map((p) => [p.toolCallId, p.result]), [['c1', { city: 'Bergen' }]]);
  assert.deepEqual(server.ran, []);
});
