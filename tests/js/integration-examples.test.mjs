// The proposal's two integration examples (examples/code-agent.lmt.mjs, examples/research-team.lmt.mjs)
// run as the files are written, on a scripted model that answers by who is asking (the root run or a
// sub-agent, told apart by their role's system prompt): the tool calls and their order, the approval
// asked and answered, the file written, the session state and metric kept, the memory stored and
// searched, the final text; and both files through `lmthing run` offline.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

import { memoryStorage, runPrompt } from '../../dist/node.js';

const root = resolve(import.meta.dirname, '../..');
// Offline whatever the environment: the examples pick real models when these are set.
delete process.env.OPENAI_API_KEY;
delete process.env.ANTHROPIC_API_KEY;

const codeAgent = await import('../../examples/code-agent.lmt.mjs');
const researchTeam = await import('../../examples/research-team.lmt.mjs');

/** The run's system prompt and whether it has had a tool result yet. */
function seen(req) {
  const text = (m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
  return {
    system: req.messages.filter((m) => m.role === 'system').map(text).join('\n'),
    user: req.messages.filter((m) => m.role === 'user').map(text).join('\n'),
    // Each tool result, as the model reads it.
    toolResults: req.messages.filter((m) => m.role === 'tool').flatMap((m) => m.content.map((part) => part.result)),
  };
}

/** A model that answers each request with `answer(seen(req))`: a text or a tool call. */
function scripted(answer) {
  const requests = [];
  let ids = 0;
  return {
    requests,
    model: {
      provider: 'test',
      modelId: 'scripted',
      async generate(req) {
        const view = seen(req);
        requests.push({ ...view, tools: (req.tools ?? []).map((t) => t.name) });
        const reply = answer(view);
        const content = typeof reply === 'string'
          ? [{ type: 'text', text: reply }]
          : [{ type: 'tool-call', toolCallId: `call-${++ids}`, toolName: reply.tool, args: reply.args, argsText: JSON.stringify(reply.args) }];
        return { content, finishReason: typeof reply === 'string' ? 'stop' : 'tool-calls', usage: { inputTokens: 10, outputTokens: 20, totalTokens: 30 } };
      },
    },
  };
}

/** Runs `fn` with stderr captured (the examples' defLogger writes JSON lines there). */
async function capturingStderr(fn) {
  const lines = [];
  const write = process.stderr.write;
  process.stderr.write = (chunk, ...rest) => {
    lines.push(String(chunk));
    return typeof rest.at(-1) === 'function' ? (rest.at(-1)(), true) : true;
  };
  try {
    return { value: await fn(), stderr: lines.join('') };
  } finally {
    process.stderr.write = write;
  }
}

const toolCalls = (events) => events.filter((e) => e.type === 'tool-call').map((e) => e.toolName);

test('Example 1 (code agent): review → analyzer sub-agent → approval → writeFile through its guard; state, metric, logs, text', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-ex1-'));
  const cwd = process.cwd();
  process.chdir(dir); // the example's file system resource is rooted at the working directory
  t.after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  const analysis = {
    changesNeeded: true,
    files: ['src/app.js'],
    summary: 'parse() swallows errors',
    changes: { path: 'src/app.js', content: 'export const parse = (s) => JSON.parse(s);\n' },
  };
  const { model, requests } = scripted((req) => {
    if (req.system.includes('senior software engineer')) return JSON.stringify(analysis);
    if (req.toolResults.length === 0) return { tool: 'reviewCode', args: { files: ['src/app.js'] } };
    return 'Reviewed src/app.js: parse() now reports errors.';
  });
  const approvals = [];
  const events = [];
  const storage = memoryStorage();
  const { value: { text, prompt }, stderr } = await capturingStderr(async () => {
    const { result, prompt } = await runPrompt(codeAgent.default, {
      ...codeAgent.config,
      model,
      storage,
      onEvent: (e) => events.push(e),
      onApproval: (request) => {
        approvals.push(request);
        return { action: 'approve' };
      },
    });
    const text = await result.text;
    await prompt.finished;
    return { text, prompt };
  });

  assert.equal(text, 'Reviewed src/app.js: parse() now reports errors.');
  // The model called reviewCode; the workflow ran the analyzer (a sub-run under its role), asked, then
  // wrote through writeFile's guard, cache and validator; then the model answered.
  const trace = events
    .filter((e) => ['tool-call', 'tool-result', 'workflow-step-start', 'run-start', 'role-assumed', 'approval-request', 'approval-decision', 'guard', 'cache-miss', 'validation'].includes(e.type))
    .map((e) => [e.type, e.toolName ?? e.step ?? e.role ?? e.name ?? e.path.at(-1)].join(' '));
  assert.deepEqual(trace, [
    'run-start root',
    'tool-call reviewCode',
    'workflow-step-start analyze',
    'tool-call codeAnalyzer',
    'run-start codeAnalyzer',
    'role-assumed seniorDeveloper',
    'tool-result codeAnalyzer',
    'workflow-step-start requestApproval',
    'approval-request destructiveOp',
    'approval-decision destructiveOp',
    'workflow-step-start applyChanges',
    'tool-call writeFile',
    'guard writeFile',
    'cache-miss writeFile',
    'validation writeFile',
    'tool-result writeFile',
    'tool-result reviewCode',
  ]);
  // The analyzer ran under its role, and told what to analyze.
  const analyzer = requests.find((r) => r.system.includes('senior software engineer'));
  assert.match(analyzer.user, /Analyze code quality for: src\/app\.js/);
  assert.deepEqual(requests[0].tools.sort(), ['codeAnalyzer', 'reviewCode', 'writeFile']);
  // The approval gate: the proposal's message, from the analyzer's parsed answer.
  assert.deepEqual(approvals.map((a) => [a.name, a.message]), [['destructiveOp', 'About to modify 1 files. Continue?']]);
  // writeFile went through the resource (no await on resources.get, as written), the guard and the validator.
  assert.equal(readFileSync(join(dir, 'src/app.js'), 'utf8'), analysis.changes.content);
  assert.ok(events.some((e) => e.type === 'guard' && e.guard === 'safeMode' && e.passed !== false), 'the safeMode guard checked the write');
  // Session state persisted under the config's session, and the metric.
  const state = (await storage.get('state:session:code-agent-example:sessionState'))?.value;
  assert.deepEqual(state, { filesModified: ['src/app.js'], tasksCompleted: ['review: src/app.js'], userPreferences: {} });
  const metrics = await prompt.metrics();
  const processed = metrics.metrics?.find?.((m) => m.name === 'filesProcessed') ?? metrics.filesProcessed;
  assert.ok(processed, `filesProcessed is recorded: ${JSON.stringify(metrics).slice(0, 300)}`);
  // The onToolStart handler logged each tool through the JSON logger.
  const logged = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  // The workflow's runAgent / runTool calls are tool calls too (stepNumber null: no model step made them).
  assert.deepEqual(logged.filter((l) => /^Tool started/.test(l.message ?? l.msg)).map((l) => l.message ?? l.msg),
    ['Tool started: reviewCode', 'Tool started: codeAnalyzer', 'Tool started: writeFile']);
  assert.deepEqual(events.filter((e) => e.type === 'tool-call').map((e) => e.stepNumber), [0, null, null]);
});

test('Example 1: safeMode skips a write outside the working directory; the model reads why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-ex1-'));
  const cwd = process.cwd();
  process.chdir(dir);
  t.after(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });
  const { model, requests } = scripted((req) =>
    req.toolResults.length === 0 ? { tool: 'writeFile', args: { path: '../escape.txt', content: 'x' } } : 'I could not write there.');
  const { value: text } = await capturingStderr(async () => {
    const { result } = await runPrompt(codeAgent.default, { ...codeAgent.config, model, storage: memoryStorage() });
    return result.text;
  });
  assert.equal(text, 'I could not write there.');
  assert.deepEqual(requests[1].toolResults[0], { skipped: true, guard: 'safeMode', message: 'safe mode: only files inside the working directory, not dot-files or node_modules' });
});

test('Example 2 (research team): three researchers in parallel, deduplicated, synthesized, stored and searched', async () => {
  const findings = {
    'web sources': '- Agents plan multi-step work.\n- Agents call tools and APIs.',
    'academic papers': '1. Agents call tools and APIs\n2. Evaluation of agents is an open problem.',
    patents: '- Patents cover tool-using agents.\n- agents plan multi-step work.',
  };
  const synthesis = 'AI agents will plan multi-step work and call tools; patents cover tool use; evaluation is open.';
  let inFlight = 0;
  let mostInFlight = 0;
  const { model, requests } = scripted((req) => {
    if (req.system.includes('research specialist')) return findings[req.user.replace(/^[\s\S]*Research: /, '').trim()];
    if (req.system.includes('research findings into one short paragraph')) return synthesis;
    if (req.toolResults.length === 0) return { tool: 'researchTopic', args: { topic: 'Future of AI Agents' } };
    return `Summary: ${req.toolResults[0].synthesis}`;
  });
  // Counts the researchers' overlapping model calls.
  const generate = model.generate;
  model.generate = async (req) => {
    mostInFlight = Math.max(mostInFlight, ++inFlight);
    await new Promise((r) => setTimeout(r, 20));
    try {
      return await generate(req);
    } finally {
      inFlight--;
    }
  };
  const events = [];
  const { result } = await runPrompt(researchTeam.default, { ...researchTeam.config, model, onEvent: (e) => events.push(e) });
  const text = await result.text;

  assert.equal(text, `Summary: ${synthesis}`);
  // The model called researchTopic; the pipeline's parallel group ran three researcher sub-runs at
  // once, then its synthesize stage the synthesizer.
  assert.deepEqual(toolCalls(events), ['researchTopic', 'researcher', 'researcher', 'researcher', 'synthesizer']);
  const subRuns = events.filter((e) => e.type === 'run-start' && e.path.length === 2).map((e) => e.path[1]);
  assert.deepEqual(subRuns, ['researcher', 'researcher', 'researcher', 'synthesizer']);
  assert.deepEqual(events.filter((e) => e.type === 'role-assumed').map((e) => e.role).sort(), ['researcher', 'researcher', 'researcher', 'synthesizer']);
  assert.equal(mostInFlight, 3, 'the three researchers ran at once');
  // Every researcher was asked its own topic under its role.
  const asked = requests.filter((r) => r.system.includes('research specialist')).map((r) => r.user.replace(/^[\s\S]*Research: /, '').trim());
  assert.deepEqual(asked.sort(), ['academic papers', 'patents', 'web sources']);
  // The synthesizer got each distinct finding once (the three repeats are gone).
  const synth = requests.find((r) => r.system.includes('research findings into one short paragraph'));
  const given = synth.user.replace(/^[\s\S]*Synthesize findings: /, '').trim().split('\n');
  // (Which spelling of a repeat is kept depends on which researcher finished first.)
  assert.deepEqual(given.map((f) => f.toLowerCase().replace(/\.$/, '')).sort(), [
    'agents call tools and apis',
    'agents plan multi-step work',
    'evaluation of agents is an open problem',
    'patents cover tool-using agents',
  ]);
  // The synthesis went into the vector memory and came back from its search.
  assert.deepEqual(requests.at(-1).toolResults[0], { synthesis, memoriesHeld: 1 });
});

// Example 2 only: Example 1 asks an approval, which `lmthing run` asks on a terminal (none here).
test('lmthing run examples/research-team.lmt.mjs runs offline on its mock', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  delete env.ANTHROPIC_API_KEY;
  const r = spawnSync(process.execPath, [join(root, 'dist/cli.js'), 'run', 'examples/research-team.lmt.mjs'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /using the offline mock model/);
  assert.equal(r.stdout.trim(), researchTeam.mock.at(-1).text);
});
