// The offline scripted model of the demo. It implements lmthing's LanguageModel interface and picks
// its next move from the conversation, so every human decision leads somewhere sensible: list the
// files, read the file to change, write the change (approval), delete the stale file (approval),
// then summarize what was and was not done. It streams its text word by word, like a real model,
// and reports token usage estimated from the characters (about 4 per token). Its answer, tool call
// ids included, depends on the conversation alone: a run resumed after a reload (a fresh model
// object) asks exactly what the first page would have asked.
import { AbortError } from 'lmthing';

const TARGET = 'src/greet.js';
const STALE = 'notes/old-todo.md';
const FAREWELL = '\nexport function farewell(name) {\n  return `Goodbye, ${name}!`;\n}\n';
const WORD_MS = 12;

/** Every tool call the model made so far with its result (in conversation order). */
function history(messages) {
  const calls = [];
  for (const m of messages) {
    if (!Array.isArray(m.content)) continue;
    for (const part of m.content) {
      if (part.type === 'tool-call') calls.push({ id: part.toolCallId, name: part.toolName, args: part.args });
      if (part.type === 'tool-result') {
        const call = calls.find((c) => c.id === part.toolCallId);
        if (call) Object.assign(call, { result: part.result, isError: Boolean(part.isError) });
      }
    }
  }
  return calls;
}

function outcome(call) {
  if (!call) return 'not attempted';
  if (!call.isError) return 'done';
  const error = String(call.result?.error ?? '');
  return error.includes('denied') ? 'denied by you' : `failed (${error})`;
}

/** The next answer: narration and at most one tool call. */
function nextMove(messages) {
  const calls = history(messages);
  const last = (name) => calls.filter((c) => c.name === name).at(-1);
  // The nth call of the conversation is demo_n, whichever page (or model object) makes it.
  const call = (toolName, args, text) => ({ text, toolCall: { toolCallId: `demo_${calls.length + 1}`, toolName, args } });
  if (!last('listFiles')) return call('listFiles', {}, 'Let me look at the project first.');
  if (!last('readFile')) return call('readFile', { path: TARGET }, `The greeting lives in ${TARGET}; I will read it.`);
  if (!last('writeFile')) {
    const current = String(last('readFile').result ?? '');
    return call('writeFile', { path: TARGET, content: current.replace(/\n*$/, '\n') + FAREWELL }, `I will add a farewell() next to greet() in ${TARGET}.`);
  }
  if (!last('deleteFile')) return call('deleteFile', { path: STALE }, `${STALE} lists work that is done; I will remove it.`);
  return { text: `Summary: listed the files and read ${TARGET}. Write to ${TARGET}: ${outcome(last('writeFile'))}. Delete of ${STALE}: ${outcome(last('deleteFile'))}.` };
}

const tokens = (value) => Math.ceil((typeof value === 'string' ? value : JSON.stringify(value)).length / 4);

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const onAbort = () => (clearTimeout(timer), reject(new AbortError()));
    const timer = setTimeout(() => (signal?.removeEventListener('abort', onAbort), resolve()), ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Creates the scripted model (a LanguageModel: provider, modelId, generate). */
export function demoModel() {
  return {
    provider: 'demo',
    modelId: 'scripted',
    async generate(request, options = {}) {
      const move = nextMove(request.messages);
      await pause(80, options.signal); // "thinking"
      const words = move.text.split(/(?<= )/);
      for (const word of words) {
        options.onDelta?.({ type: 'text-delta', text: word });
        await pause(WORD_MS, options.signal);
      }
      const content = [{ type: 'text', text: move.text }];
      if (move.toolCall) content.push({ type: 'tool-call', ...move.toolCall, argsText: JSON.stringify(move.toolCall.args) });
      const inputTokens = tokens(request.messages);
      const outputTokens = tokens(move.text) + (move.toolCall ? tokens(move.toolCall.args) : 0);
      return { content, finishReason: move.toolCall ? 'tool-calls' : 'stop', usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens } };
    },
  };
}
