// The durability scenario (issue 20): a 20-step prompt run with tools, parallel tool calls, a
// sub-agent and two approvals, whose model answers by the conversation alone (so a resumed run asks
// the same questions) and whose tools log every start and end to a file (so a test can tell whether
// a completed tool ran again). Used by tests/js/durable.test.mjs and bench/durable-kill.mjs.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

const call = (toolName, toolCallId, args) => ({ type: 'tool-call', toolCallId, toolName, args, argsText: JSON.stringify(args) });

/** The root's plan: the tool calls of steps 0..18 (step 19 answers). */
function rootStep(step) {
  const id = (i) => `c${step}_${i}`;
  if (step === 2 || step === 12) return [call('lookup', id(0), { q: `p${step}` }), call('note', id(1), { text: `n${step}` }), call('lookup', id(2), { q: `r${step}` })];
  if (step === 3) return [call('deleteFile', id(0), { path: 'x.txt' })];
  if (step === 10) return [call('deleteFile', id(0), { path: 'y.txt' })];
  if (step === 4) return [call('researcher', id(0), { topic: 'durability' })];
  if (step < 19) return [step % 2 === 0 ? call('lookup', id(0), { q: `s${step}` }) : call('note', id(0), { text: `n${step}` })];
  return [{ type: 'text', text: 'Done after 19 tool steps.' }];
}

/** A model whose answer depends only on the request: the step is the number of assistant turns so far. */
export function conversationModel({ delayMs = 0 } = {}) {
  return {
    provider: 'test',
    modelId: 'durable',
    async generate(request, { signal } = {}) {
      if (delayMs > 0) await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, delayMs);
        signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
      });
      const system = request.messages.find((m) => m.role === 'system');
      const step = request.messages.filter((m) => m.role === 'assistant').length;
      const content = String(system?.content ?? '').includes('You research')
        ? (step === 0 ? [call('lookup', 'a0', { q: 'agent' })] : [{ type: 'text', text: 'Research says: journal everything.' }])
        : rootStep(step);
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 } };
    },
  };
}

/** The tool log: one JSON line per start and end of a tool call. */
export function readToolLog(logPath) {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

/** Tool calls that started again after they had completed (must be none). */
export function repeatedCompletedCalls(entries) {
  const ended = new Set();
  const repeated = [];
  for (const entry of entries) {
    const key = `${entry.path}/${entry.id}`;
    if (entry.phase === 'end') ended.add(key);
    else if (ended.has(key)) repeated.push(key);
  }
  return repeated;
}

/** The prompt function and the config of the scenario; tools log to `logPath`. */
export function durableScenario({ logPath, toolDelayMs = 1, approvalDelayMs = 1 }) {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const logged = (tool, path, execute) => async (args, context) => {
    appendFileSync(logPath, JSON.stringify({ id: context.toolCallId, path, tool, phase: 'start', args }) + '\n');
    await sleep(toolDelayMs);
    const result = await execute(args);
    appendFileSync(logPath, JSON.stringify({ id: context.toolCallId, path, tool, phase: 'end', result }) + '\n');
    return result;
  };
  const lookupSchema = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };
  const fn = (ctx) => {
    ctx.defTool('lookup', 'Looks a word up', lookupSchema, logged('lookup', 'root', ({ q }) => `${q}!`), { idempotent: true });
    ctx.defTool('note', 'Writes a note (not idempotent)', { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, logged('note', 'root', ({ text }) => `noted ${text}`));
    ctx.defApproval('destructive', { message: (c) => `Delete ${c.args.path}?` });
    ctx.defTool('deleteFile', 'Deletes a file', { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }, logged('deleteFile', 'root', ({ path }) => `deleted ${path}`), { approval: 'destructive' });
    ctx.defAgent('researcher', 'Researches a topic', { type: 'object', properties: { topic: { type: 'string' } } }, (args, child) => {
      child.defTool('lookup', 'Looks a word up', lookupSchema, logged('lookup', 'researcher', ({ q }) => `${q}?`), { idempotent: true });
      child.$`Research ${args.topic}`;
    }, { system: 'You research.' });
    ctx.$`Do the twenty steps.`;
  };
  /** Interrupted notes are looked up in the log: a note that ended is answered with its result, one that did not is written again. */
  const onInterrupted = ({ toolCallId }) => {
    const end = readToolLog(logPath).find((e) => e.id === toolCallId && e.phase === 'end' && e.path === 'root');
    return end ? { result: end.result } : 'rerun';
  };
  const config = (storage, id) => ({
    model: conversationModel(),
    maxSteps: 40,
    onApproval: async () => {
      await sleep(approvalDelayMs);
      return 'approve';
    },
    durable: { id, storage, onInterrupted },
  });
  return { fn, config };
}

/** What must be the same after any interruption: the final text and the whole conversation. */
export async function transcriptOf(result) {
  return JSON.stringify({ text: await result.text, messages: (await result.response).messages, steps: (await result.steps).length });
}
