// Integration Example 2 of the def* proposal (lmthing-next-features.md, "Example 2: Multi-Agent
// Research System"): three researcher sub-agents in parallel, a pipeline that deduplicates their
// findings, a synthesizer sub-agent, and a vector memory that keeps the synthesis.
//   npx lmthing run examples/research-team.lmt.mjs                (real models with OPENAI_API_KEY, else the mock)
//   npx lmthing run examples/research-team.lmt.mjs --model mock   (always offline)
//
// The prompt function below is the proposal's text, unchanged except where a comment says
// "changed:" (the model lines). The proposal calls `runPrompt(fn, config)`; a prompt file exports the
// same `fn` and `config` and `lmthing run` makes that call. What the proposal uses but never defines
// (the two roles, `deduplicateFindings`) is at the end under "Not in the proposal", as is a tool that
// lets the model start the pipeline (the proposal defines `researchPipeline` but never runs it).
// Needs zod (`npm i zod`), as the proposal's schemas do.
import { offlineEmbedding } from 'lmthing';
import { z } from 'zod';

export const config = { model: 'openai:gpt-4o' };

export default async function researchTeam(ctx) {
  notInTheProposal(ctx);

  // Memory for cross-agent knowledge sharing
  ctx.defMemory('sharedKnowledge', 'vector', {
    maxSize: 10000,
    // changed: the model line (the proposal's 'text-embedding-3-small'; offline, a local embedder of the same length)
    embeddingModel: process.env.OPENAI_API_KEY ? 'openai:text-embedding-3-small' : offlineEmbedding({ dimensions: 1536 })
  });

  // Define specialist agents
  ctx.defAgent('researcher', 'Research specialist',
    z.object({ topic: z.string() }),
    async (args, agentCtx) => {
      agentCtx.assumeRole('researcher');
      agentCtx.defCache('searchCache', 'lru', { maxSize: 100 });
      return agentCtx.$`Research: ${args.topic}`;
    }
  );

  ctx.defAgent('synthesizer', 'Synthesis specialist',
    z.object({ findings: z.array(z.string()) }),
    async (args, agentCtx) => {
      agentCtx.assumeRole('synthesizer');
      return agentCtx.$`Synthesize findings: ${args.findings.join('\n')}`;
    }
  );

  // Parallel execution with consensus
  ctx.defParallel('multiResearch', {
    web: () => ctx.runAgent('researcher', { topic: 'web sources' }),
    academic: () => ctx.runAgent('researcher', { topic: 'academic papers' }),
    patents: () => ctx.runAgent('researcher', { topic: 'patents' })
  }, {
    aggregation: 'all',
    timeout: 120000
  });

  // Pipeline for processing
  ctx.defPipeline('researchPipeline', [
    { stage: 'gather', fn: (input) => ctx.executeParallel('multiResearch', input) },
    { stage: 'deduplicate', fn: deduplicateFindings },
    { stage: 'synthesize', fn: (findings) => ctx.runAgent('synthesizer', { findings }) },
    { stage: 'store', fn: (synthesis) => ctx.memory('sharedKnowledge').store(synthesis) }
  ]);

  ctx.$`Research the topic: "Future of AI Agents"`;
}

// ---------------------------------------------------------------------------------------------------
// Not in the proposal: what its text names but never defines.

/** The roles Example 2 assumes, and a tool that runs its pipeline and reads back what it stored. */
function notInTheProposal(ctx) {
  ctx.defRole('researcher', {
    capabilities: ['research'],
    personality: { tone: 'factual', verbosity: 'terse' },
    systemPrompt: 'You are a research specialist. Answer with your findings only, one per line, each under 20 words.',
  });
  ctx.defRole('synthesizer', {
    capabilities: ['synthesis'],
    personality: { tone: 'clear' },
    systemPrompt: 'You turn research findings into one short paragraph that keeps every distinct point.',
  });
  ctx.defTool('researchTopic', 'Research a topic with three researchers in parallel; returns their synthesis (also kept in memory)',
    z.object({ topic: z.string() }),
    async ({ topic }) => {
      const stored = await ctx.executePipeline('researchPipeline', topic);
      const [synthesis] = await ctx.memory('sharedKnowledge').search(topic, { limit: 1 });
      return { synthesis: synthesis?.content ?? null, memoriesHeld: stored.size };
    });
}

/**
 * The findings of every researcher (`{web, academic, patents}`: each an answer of lines), as one
 * list without repeats: lines are compared without case, numbering, bullets or a final full stop.
 */
function deduplicateFindings(byResearcher) {
  const seen = new Map();
  for (const answer of Object.values(byResearcher)) {
    for (const line of String(answer).split('\n')) {
      const finding = line.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '').trim();
      const key = finding.toLowerCase().replace(/[.!]+$/, '');
      if (key !== '' && !seen.has(key)) seen.set(key, finding);
    }
  }
  return [...seen.values()];
}

/**
 * Offline script, in the order the calls happen: the model starts the research; the three
 * researchers (sub-agents on the same mock, in parallel) answer; the synthesizer answers; the model
 * sums up.
 */
export const mock = [
  { type: 'tool-call', toolName: 'researchTopic', args: { topic: 'Future of AI Agents' } },
  { type: 'text', text: '- Agents plan multi-step work.\n- Agents call tools and APIs.' },
  { type: 'end-step' },
  { type: 'text', text: '- Agents call tools and APIs.\n- Evaluation of agents is an open problem.' },
  { type: 'end-step' },
  { type: 'text', text: '- Patents cover tool-using agents.\n- Agents plan multi-step work' },
  { type: 'end-step' },
  { type: 'text', text: 'AI agents will plan multi-step work and call tools; patents already cover tool use, and evaluating agents remains open.' },
  { type: 'end-step' },
  { type: 'text', text: 'The future of AI agents: planning, tool use, early patents, and open questions about evaluation.' },
];
