// A scripted in-process model for the observability tests: no I/O, fixed usage per call.

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
