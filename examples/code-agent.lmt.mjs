// Integration Example 1 of the def* proposal (lmthing-next-features.md, "Example 1: Claude Code-like
// Agent"): resources, constraints, a context window, persisted state, an approval gate, a guarded tool,
// a code-analysis sub-agent, a review workflow, a metric, a logger and event handlers.
//   npx lmthing run examples/code-agent.lmt.mjs                (real models with the API keys, else the mock)
//   npx lmthing run examples/code-agent.lmt.mjs --model mock   (always offline)
//
// The prompt function below is the proposal's text, unchanged except where a comment says
// "changed:" (the model line, and what the product cannot do yet). The proposal calls `runPrompt(fn,
// config)`; a prompt file exports the same `fn` and `config` and `lmthing run` makes that call.
// What the proposal uses but never defines (the role, guard, validator, cache, retry and fallback it
// names by string) is in `notInTheProposal` at the end, as is a tool that lets the model start the
// workflow (the proposal defines `codeReviewWorkflow` but never runs it).
// As written, the workflow's applyChanges step runs whatever the approval's answer:
// `wctx.requestApproval` resolves with the decision, a denial included, and no step checks it.
// Needs zod (`npm i zod`), as the proposal's schemas do.
import { writeFile as writeFileOnDisk, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { z } from 'zod';

export const config = {
  // changed: the model line (the proposal's `anthropic:claude-3-5-sonnet` is retired).
  model: 'anthropic:claude-sonnet-4-5',
  temperature: 0.7,
  // not in the proposal: a persisted session state needs a session to belong to.
  sessionId: 'code-agent-example',
};

export default async function codeAgent(ctx) {
  notInTheProposal(ctx);

  // Setup resources
  ctx.defResource('fileSystem', 'fs', {
    // changed: the proposal's value is `{ root: process.cwd() }`, which has no writeFile for the tool
    // below to call; workspace() is that object with a writeFile that stays under root.
    initialize: async () => workspace({ root: process.cwd() })
  });

  // Define constraints
  ctx.defConstraint('tokenBudget', 'tokens', { max: 200000 });
  ctx.defConstraint('timeLimit', 'duration', { max: 600000 });

  // Context management
  ctx.defContext('mainContext', 'sliding-window', {
    maxTokens: 128000,
    prioritize: ['system', 'recent'],
    summarization: { trigger: 0.8, ratio: 0.5 }
  });

  // State persistence
  ctx.defState('sessionState', {
    filesModified: [],
    tasksCompleted: [],
    userPreferences: {}
  }, { persist: true, scope: 'session' });

  // Define approval gate for destructive operations
  ctx.defApproval('destructiveOp', {
    message: (ctx) => `About to modify ${ctx.files.length} files. Continue?`,
    timeout: 30000
  });

  // File operations with validation
  ctx.defTool('writeFile', 'Write to file',
    z.object({ path: z.string(), content: z.string() }),
    async (args, { resources }) => {
      const fs = resources.get('fileSystem');
      await fs.writeFile(args.path, args.content);
      return { success: true };
    },
    {
      guards: ['safeMode'],
      validator: 'fileOutput',
      cache: 'fileCache'
    }
  );

  // Code analysis agent
  ctx.defAgent('codeAnalyzer', 'Analyze code quality',
    z.object({ files: z.array(z.string()) }),
    async (args, agentCtx) => {
      agentCtx.assumeRole('seniorDeveloper');
      return agentCtx.$`Analyze code quality for: ${args.files.join(', ')}`;
    },
    {
      // changed: the model line (without OPENAI_API_KEY the agent uses the run's model).
      model: ifKey('openai:gpt-4o', 'OPENAI_API_KEY'),
      retry: 'networkRetry',
      fallback: 'modelFailure'
    }
  );

  // Multi-step workflow
  ctx.defWorkflow('codeReviewWorkflow', [
    {
      id: 'analyze',
      action: async (wctx) => wctx.runAgent('codeAnalyzer', { files: wctx.state.files })
    },
    {
      id: 'requestApproval',
      condition: (wctx) => wctx.results.analyze.changesNeeded,
      action: async (wctx) => wctx.requestApproval('destructiveOp', wctx.results.analyze)
    },
    {
      id: 'applyChanges',
      action: async (wctx) => wctx.runTool('writeFile', wctx.results.analyze.changes)
    }
  ]);

  // Metrics and observability
  ctx.defMetric('filesProcessed', 'counter');
  ctx.defLogger('agentLogger', { level: 'info', format: 'json' });

  // Event handlers
  ctx.defEvent('onToolStart', async (e) => {
    ctx.logger.info(`Tool started: ${e.toolName}`);
  });

  ctx.defEvent('onError', async (e) => {
    ctx.logger.error('Error', { error: e.error });
  });

  // Main prompt
  ctx.$`Help me review and improve the codebase in the current directory.`;
}

// ---------------------------------------------------------------------------------------------------
// Not in the proposal: what its text names but never defines.

/** The definitions Example 1 refers to by name, and a tool that starts its workflow. */
function notInTheProposal(ctx) {
  ctx.defRole('seniorDeveloper', {
    capabilities: ['code-review', 'refactoring'],
    constraints: { maxTokens: 100000 },
    personality: { tone: 'professional', verbosity: 'concise' },
    systemPrompt:
      'You are a senior software engineer reviewing code. Answer with one JSON object and nothing else: ' +
      '{"changesNeeded": boolean, "files": [the paths you would change], "summary": string, ' +
      '"changes": {"path": string, "content": string}} (the one file to rewrite, with its whole new content).',
  });
  // Writes stay in the working directory, away from dot-files and node_modules.
  ctx.defGuard('safeMode', ({ path }) => {
    const inside = relative('.', resolve(path));
    return !inside.startsWith('..') && !inside.split(/[\\/]/).some((part) => part.startsWith('.') || part === 'node_modules');
  }, { onFail: 'skip', message: 'safe mode: only files inside the working directory, not dot-files or node_modules' });
  ctx.defValidator('fileOutput', z.object({ success: z.boolean() }), (out) => out.success);
  ctx.defCache('fileCache', 'lru', { maxSize: 100 });
  ctx.defRetry('networkRetry', { maxAttempts: 3, backoff: 'exponential', baseDelay: 500 });
  ctx.defFallback('modelFailure', 'default', { value: '{"changesNeeded": false, "files": [], "summary": "analysis unavailable"}' });
  // Starts the workflow, then keeps what it did in the session state and the metric the proposal defines.
  ctx.defTool('reviewCode', 'Review files: analyze them, ask the user before changing anything, then apply the change',
    z.object({ files: z.array(z.string()) }),
    async ({ files }) => {
      const review = await ctx.runWorkflow('codeReviewWorkflow', { files });
      const { analyze, applyChanges } = review.results;
      const session = ctx.getState('sessionState');
      if (applyChanges?.success) session.filesModified.push(analyze.changes.path);
      session.tasksCompleted.push(`review: ${files.join(', ')}`);
      await ctx.recordMetric('filesProcessed', files.length);
      return { summary: analyze.summary, changed: applyChanges?.success ? [analyze.changes.path] : [] };
    });
}

/** The file system resource: the proposal's `{root}`, plus a writeFile that stays under root. */
function workspace({ root }) {
  return {
    root,
    async writeFile(path, content) {
      const target = resolve(root, path);
      if (relative(root, target).startsWith('..')) throw new Error(`${path} is outside ${root}`);
      await mkdir(dirname(target), { recursive: true });
      await writeFileOnDisk(target, content);
    },
  };
}

/** `spec` when the environment has its provider's key; otherwise undefined (the run's own model). */
function ifKey(spec, keyName) {
  return process.env[keyName] ? spec : undefined;
}

/**
 * Offline script, in the order the calls happen: the model starts the review; the analyzer (a
 * sub-agent on the same mock) answers its JSON; the workflow asks for approval (on the terminal;
 * without one the approval is denied, and the workflow as written writes REVIEW.md all the same);
 * the model sums up.
 */
export const mock = [
  { type: 'tool-call', toolName: 'reviewCode', args: { files: ['REVIEW.md'] } },
  {
    type: 'text',
    text: JSON.stringify({
      changesNeeded: true,
      files: ['REVIEW.md'],
      summary: 'No review notes yet.',
      changes: { path: 'REVIEW.md', content: '# Review\n\n- Add tests for the parser.\n' },
    }),
  },
  { type: 'end-step' },
  { type: 'text', text: 'I reviewed the code and wrote the notes to REVIEW.md.' },
];
