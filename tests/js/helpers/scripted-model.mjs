// Scripted in-process models for tests: no I/O, fixed usage per call.

/** A model that answers call `n` with `respond(n)` (content parts, or a thrown error). */
export function scriptedModel(respond, modelId = 'scripted') {
  let n = 0;
  return {
    provider: 'test',
    modelId,
    async generate() {
      const content = await respond(n++);
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 10, outputTokens: 20, totalTokens: 30 } };
    },
  };
}

/** A tool-call content part. */
export const call = (toolName, id, args = {}) => ({ type: 'tool-call', toolCallId: id, toolName, args, argsText: JSON.stringify(args) });

/**
 * A model answering `responses` in order (each a whole response: several calls in one step, then
 * a default text), recording a copy of each request in `calls`.
 */
export function recordingModel(responses) {
  const calls = [];
  return {
    provider: 'scripted',
    modelId: 'scripted',
    calls,
    generate: async (request) => {
      calls.push(structuredClone(request));
      const content = responses[calls.length - 1] ?? [{ type: 'text', text: 'nothing more' }];
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
}
