// The offline scripted model of the demo. It implements lmthing's LanguageModel interface and picks
// its next move from the conversation, so every human decision leads somewhere sensible: list the
// files, read the file to change, write the change (approval), delete the stale file (approval),
// then summarize what was and was not done.

const TARGET = 'src/greet.js';
const STALE = 'notes/old-todo.md';
const FAREWELL = '\nexport function farewell(name) {\n  return `Goodbye, ${name}!`;\n}\n';

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

let callCounter = 0;

/** Creates the scripted model (a LanguageModel: provider, modelId, generate). */
export function demoModel() {
  const toolCall = (toolName, args, text) => {
    const content = [];
    if (text) content.push({ type: 'text', text });
    content.push({ type: 'tool-call', toolCallId: `demo_${++callCounter}`, toolName, args, argsText: JSON.stringify(args) });
    return { content, finishReason: 'tool-calls', usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } };
  };
  return {
    provider: 'demo',
    modelId: 'scripted',
    async generate(request, options = {}) {
      // A little latency so the timeline reads like a real run.
      await new Promise((resolve) => setTimeout(resolve, 60));
      const calls = history(request.messages);
      const last = (name) => calls.filter((c) => c.name === name).at(-1);
      let response;
      if (!last('listFiles')) response = toolCall('listFiles', {}, 'Let me look at the project.');
      else if (!last('readFile')) response = toolCall('readFile', { path: TARGET }, `I will read ${TARGET}.`);
      else if (!last('writeFile')) {
        const current = String(last('readFile').result ?? '');
        response = toolCall('writeFile', { path: TARGET, content: current.replace(/\n*$/, '\n') + FAREWELL }, 'Adding farewell().');
      } else if (!last('deleteFile')) response = toolCall('deleteFile', { path: STALE }, `Removing the stale ${STALE}.`);
      else {
        const text = `Summary: listed the files and read ${TARGET}. Write to ${TARGET}: ${outcome(last('writeFile'))}. Delete of ${STALE}: ${outcome(last('deleteFile'))}.`;
        response = { content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 } };
      }
      for (const part of response.content) if (part.type === 'text') options.onDelta?.({ type: 'text-delta', text: part.text });
      return response;
    },
  };
}
