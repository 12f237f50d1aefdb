// A sub-agent: the parent delegates research to a "researcher" agent (its own run with its own system
// prompt) and summarizes the findings it gets back.
//   npx lmthing run examples/research.lmt.mjs

export const config = { model: 'openai:gpt-4o-mini', options: { maxSteps: 4 } };

export default async function research(ctx) {
  ctx.defSystem('role', 'You are an editor. Delegate research to the researcher agent, then summarize its findings in two sentences.');
  const topic = ctx.def('topic', 'WebAssembly outside the browser');
  ctx.defAgent(
    'researcher',
    'Researches a topic and returns three short findings',
    { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
    async ({ topic }, child) => {
      child.defSystem('method', 'List exactly three findings, one per line, each under 20 words.');
      child.$`Research this topic: ${topic}`;
    },
    // The child uses the parent's model unless `model` is given here (e.g. model: 'openai:gpt-4o').
    { system: 'You are a meticulous researcher.' },
  );
  ctx.$`Research ${topic} and summarize what you learn.`;
}

/**
 * Offline script, in the order the calls happen: the parent calls the agent; the child run (same
 * mock model) answers; the parent summarizes. `end-step` ends the child's answer, which would
 * otherwise run into the parent's text.
 */
export const mock = [
  { type: 'tool-call', toolName: 'researcher', args: { topic: 'WebAssembly outside the browser' } },
  {
    type: 'text',
    text:
      '1. WASI gives WebAssembly modules portable access to files and clocks.\n' +
      '2. Edge platforms run Wasm for fast cold starts.\n' +
      '3. Plugin systems embed Wasm as a sandbox.',
  },
  { type: 'end-step' },
  {
    type: 'text',
    text: 'WebAssembly now runs well beyond the browser, with WASI providing portable system access. Edge platforms and plugin hosts adopt it for fast, sandboxed execution.',
  },
];
