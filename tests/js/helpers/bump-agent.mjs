// A durable agent whose idempotent tool `bump` writes a persisted state (saveState or updateState),
// and a model that calls it once, then says what it returned (it answers from the conversation).
const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };

export const bumpModel = {
  provider: 'test',
  modelId: 'bump',
  async generate(request) {
    const step = request.messages.filter((m) => m.role === 'assistant').length;
    if (step === 0) return { content: [{ type: 'tool-call', toolCallId: 'b1', toolName: 'bump', args: {}, argsText: '{}' }], finishReason: 'tool-calls', usage };
    const results = request.messages.filter((m) => m.role === 'tool').flatMap((m) => m.content).map((p) => JSON.stringify(p.result));
    return { content: [{ type: 'text', text: `bump returned ${results.join(',')}` }], finishReason: 'stop', usage };
  },
};

/** `how`: 'save' (set n = 1, saveState) or 'update' (updateState n + 1); `dieInUpdate`: kill -9 inside the update's function. */
export const bumpAgent = (how, dieInUpdate = false) => (ctx) => {
  ctx.defState('counter', { n: 0 }, { persist: true, scope: 'global' });
  ctx.defTool('bump', 'Bumps the counter', { type: 'object', properties: {} }, async () => {
    if (how === 'save') {
      ctx.getState('counter').n = 1;
      await ctx.saveState('counter');
      return ctx.getState('counter').n;
    }
    return (await ctx.updateState('counter', (value) => {
      if (dieInUpdate) process.kill(process.pid, 'SIGKILL');
      return { n: value.n + 1 };
    })).n;
  }, { idempotent: true });
  ctx.$`Bump it.`;
};

/**
 * File storage for the state, named 'state' (as a resume must name it again); with `dieWhen`,
 * the process kills itself (kill -9) inside the state's write: 'before' it reaches the files, or
 * 'after' it landed.
 */
export function stateStorage(files, dieWhen) {
  return {
    name: 'state',
    get: (k) => files.get(k),
    set: (...a) => files.set(...a),
    list: (p) => files.list(p),
    delete: (k) => files.delete(k),
    async compareAndSet(...a) {
      if (dieWhen && String(a[0]).startsWith('state:')) {
        if (dieWhen === 'after') await files.compareAndSet(...a);
        process.kill(process.pid, 'SIGKILL');
      }
      return files.compareAndSet(...a);
    },
  };
}
