// The `lmthing` command line: runs the examples offline on their mocks, help, usage errors, failures.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { mockModel, runPrompt } from '../../dist/node.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/cli.js');
const OFFLINE = 'lmthing: no API key found (OPENAI_API_KEY / ANTHROPIC_API_KEY); using the offline mock model';

/** Runs the CLI with a clean environment (no API keys). */
function lmthing(args, { cwd = root, env = {} } = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes a prompt file into a fresh temp directory and returns its path. */
function tempPromptFile(source) {
  const dir = mkdtempSync(join(tmpdir(), 'lmthing-cli-'));
  const file = join(dir, 'prompt.lmt.mjs');
  writeFileSync(file, source);
  return { dir, file };
}

const examples = [
  { file: 'examples/weather.lmt.mjs', text: 'It is 21 °C and sunny in Paris.' },
  {
    file: 'examples/research.lmt.mjs',
    text: 'WebAssembly now runs well beyond the browser, with WASI providing portable system access. Edge platforms and plugin hosts adopt it for fast, sandboxed execution.',
  },
  {
    file: 'examples/data-report.lmt.mjs',
    text: 'In Q3 North earned 405 EUR (+25% from July to September) and South 280 EUR (+22%). North leads on both revenue and growth.',
  },
];

test('dist/cli.js starts with a node shebang', () => {
  assert.match(readFileSync(cli, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

for (const { file, text } of examples) {
  test(`lmthing run ${file} without API keys streams the mock's answer`, () => {
    const r = lmthing(['run', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), OFFLINE);
    assert.equal(r.stdout, `${text}\n`);
  });
}

test('--model mock uses the mock silently', () => {
  const r = lmthing(['run', 'examples/weather.lmt.mjs', '--model', 'mock']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, 'It is 21 °C and sunny in Paris.\n');
  const eq = lmthing(['run', '--model=mock', 'examples/weather.lmt.mjs']);
  assert.equal(eq.code, 0, eq.stderr);
  assert.equal(eq.stdout, r.stdout);
});

test('--model overrides the config: a provider without a key falls back to the mock', () => {
  const r = lmthing(['run', 'examples/weather.lmt.mjs', '--model', 'anthropic:claude-sonnet-4-5']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim(), OFFLINE);
});

test('the file path is resolved against the working directory', () => {
  const r = lmthing(['run', 'weather.lmt.mjs'], { cwd: join(root, 'examples') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'It is 21 °C and sunny in Paris.\n');
});

test('--help and no arguments print the usage', () => {
  for (const args of [['--help'], ['-h'], [], ['run', '--help']]) {
    const r = lmthing(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: lmthing run <file\.lmt\.mjs> \[--model <spec>\]/);
    assert.match(r.stdout, /--model <spec>/);
  }
});

test('an unknown command exits 2', () => {
  const r = lmthing(['walk', 'x.lmt.mjs']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^lmthing: unknown command 'walk'/);
  assert.equal(r.stdout, '');
  // A near miss is named, and so is an option given without the command.
  assert.match(lmthing(['rnu', 'x.lmt.mjs']).stderr, /^lmthing: unknown command 'rnu' \(did you mean 'run'\?/);
  const optionFirst = lmthing(['--model', 'mock']);
  assert.equal(optionFirst.code, 2);
  assert.match(optionFirst.stderr, /^lmthing: unknown command '--model' \(did you mean 'lmthing run <file> --model'\?/);
});

test('an unknown option or a missing file argument exits 2', () => {
  const opt = lmthing(['run', 'examples/weather.lmt.mjs', '--modle', 'mock']);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /^lmthing: unknown option '--modle' \(did you mean '--model'\? known: --model, --help, --progress\)/);
  assert.match(lmthing(['run', 'examples/weather.lmt.mjs', '--progres=1']).stderr, /^lmthing: unknown option '--progres' \(did you mean '--progress'\?/);
  const none = lmthing(['run']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^lmthing: 'run' needs a prompt file/);
});

test('a missing file exits 2 naming the path', () => {
  const r = lmthing(['run', 'examples/nope.lmt.mjs']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^lmthing: file not found: examples\/nope\.lmt\.mjs/);
  assert.equal(r.stdout, '');
});

test('a file that is not a JavaScript module exits 2 saying what a prompt file is', () => {
  const r = lmthing(['run', 'README.md']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^lmthing: README\.md is not a prompt file: it must be a JavaScript module \(\.mjs or \.js\)/);
});

test('a file without a default-exported function exits 2', (t) => {
  const { dir, file } = tempPromptFile('export const config = {};\n');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthing(['run', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /must export a prompt function as its default export/);
});

test('--model mock without a mock export exits 2', (t) => {
  const { dir, file } = tempPromptFile("export default (ctx) => { ctx.$`hi`; };\n");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthing(['run', file, '--model', 'mock']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs the prompt file to export 'mock'/);
});

test('a prompt file that cannot be loaded exits 1 naming the file (and, for a syntax error, how to see where)', (t) => {
  for (const [source, pattern] of [
    ['export default (ctx) => { ctx.$`hi`\n', /^lmthing: Error: prompt\.lmt\.mjs failed to load: SyntaxError: .* \(node --check prompt\.lmt\.mjs shows where\)$/m],
    ["throw new Error('top-level boom');\n", /^lmthing: Error: prompt\.lmt\.mjs failed to load: Error: top-level boom$/m],
  ]) {
    const { dir } = tempPromptFile(source);
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = lmthing(['run', 'prompt.lmt.mjs'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

test('a prompt function that throws exits 1 with the error line', (t) => {
  const { dir, file } = tempPromptFile(
    "export default () => { throw new Error('boom in the prompt'); };\nexport const mock = [{ type: 'text', text: 'unused' }];\n",
  );
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthing(['run', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^lmthing: \w+( \([A-Z_]+\))?: .*boom in the prompt$/m);
});

test('no API key and no mock exits 1 with the AuthenticationError line', (t) => {
  const { dir, file } = tempPromptFile("export default (ctx) => { ctx.$`hi`; };\nexport const config = { model: 'openai:gpt-4o-mini' };\n");
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthing(['run', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^lmthing: AuthenticationError \(AUTHENTICATION\): .*OPENAI_API_KEY/m);
});

test('a run failing mid-stream ends the streamed line, then prints the error line', (t) => {
  const dist = pathToFileURL(join(root, 'dist/node.js')).href;
  const { dir, file } = tempPromptFile(`import { ProviderError } from '${dist}';
export const config = {
  model: { provider: 'x', modelId: 'y', generate: async (req, { onDelta }) => {
    onDelta({ type: 'text-delta', text: 'partial' });
    throw new ProviderError('upstream 500', { status: 500 });
  } },
  options: { maxRetries: 0 },
};
export default (ctx) => { ctx.$\`hi\`; };
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthing(['run', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'partial\n');
  assert.equal(r.stderr, 'lmthing: ProviderError (PROVIDER_ERROR): upstream 500\n');
});

test('a run whose model never answers exits 1 instead of hanging or exiting 0', (t) => {
  const { dir, file } = tempPromptFile(`export const config = { model: { provider: 'x', modelId: 'y', generate: () => new Promise(() => {}) } };
export default (ctx) => { ctx.$\`hi\`; };
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthing(['run', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^lmthing: the run stopped making progress/);
});

/** Runs a file whose model streams "thinking" and then waits; sends Ctrl-C once that shows. `config` is more of the file's config. */
async function interruptWhileThinking(t, config = '') {
  const { dir, file } = tempPromptFile(`export const config = { ${config}model: { provider: 'x', modelId: 'y', generate: (req, { signal, onDelta }) =>
  new Promise((resolve, reject) => {
    onDelta({ type: 'text-delta', text: 'thinking' });
    const timer = setTimeout(resolve, 30_000);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); });
  }) } };
export default (ctx) => { ctx.$\`hi\`; };
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [cli, 'run', file], { cwd: root, env: { PATH: process.env.PATH } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((done) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('thinking') && !child.killed) child.kill('SIGINT'); // once: a second Ctrl-C kills
    });
    child.on('exit', (c) => done(c));
  });
  return { code, stdout, stderr };
}

test('Ctrl-C aborts the run and exits 130', async (t) => {
  const { code, stdout, stderr } = await interruptWhileThinking(t);
  assert.equal(code, 130);
  assert.equal(stdout, 'thinking\n');
  assert.match(stderr, /^lmthing: AbortError \(ABORTED\): interrupted \(Ctrl-C\)$/m);
});

test("Ctrl-C still exits 130 when the file's config has an abort signal of its own (top level or in options)", async (t) => {
  for (const config of ['abortSignal: new AbortController().signal, ', 'options: { abortSignal: new AbortController().signal }, ']) {
    const { code, stderr } = await interruptWhileThinking(t, config);
    assert.equal(code, 130, `${config}: ${stderr}`);
    assert.match(stderr, /^lmthing: AbortError \(ABORTED\): interrupted \(Ctrl-C\)$/m);
  }
});

test('a reader that closes the pipe early (| head) ends the run quietly', async (t) => {
  const { dir, file } = tempPromptFile(`export const mock = [{ type: 'text', text: ${JSON.stringify('x'.repeat(2_000_000))} }];
export default (ctx) => { ctx.$\`hi\`; };
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${cli}" run "${file}" --model mock | head -c 5`], { cwd: root, encoding: 'utf8' });
  assert.equal(r.stdout, 'xxxxx');
  assert.doesNotMatch(r.stderr, /EPIPE|Unhandled|at /, r.stderr);
});

test('with an API key the configured real model is used (no mock, no notice)', async (t) => {
  const requests = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ url: req.url, auth: req.headers.authorization, body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta, finish = null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.end(chunk({ role: 'assistant', content: 'From the ' }) + chunk({ content: 'server.' }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  t.after(() => server.close());
  const env = { PATH: process.env.PATH, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `http://127.0.0.1:${server.address().port}/v1` };
  const child = spawn(process.execPath, [cli, 'run', 'examples/weather.lmt.mjs'], { cwd: root, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((done) => child.on('exit', done));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '');
  assert.equal(stdout, 'From the server.\n');
  assert.equal(requests.length, 1);
  assert.equal(requests[0].auth, 'Bearer sk-test');
  assert.equal(requests[0].body.model, 'gpt-4o-mini');
  assert.deepEqual(requests[0].body.tools.map((x) => x.function.name), ['getWeather']);
});

// The examples do what their comments say (run in-process on their mocks, inspecting the requests).

async function runExample(name) {
  const mod = await import(join(root, 'examples', name));
  const model = mockModel(mod.mock);
  const { result } = await runPrompt(mod.default, { ...mod.config, model });
  return { text: await result.text, steps: await result.steps, calls: model.calls, remaining: model.remaining };
}

test('weather example: the getWeather tool runs with a deterministic result', async () => {
  const { text, steps, calls, remaining } = await runExample('weather.lmt.mjs');
  assert.equal(text, 'It is 21 °C and sunny in Paris.');
  assert.deepEqual(steps[0].toolResults.map((r) => r.result), [{ city: 'Paris', tempC: 21, sky: 'sunny' }]);
  assert.deepEqual(calls[0].tools.map((t) => t.name), ['getWeather']);
  assert.match(calls[0].system, /<city>\s*Paris\s*<\/city>/);
  assert.equal(calls[0].messages.at(-1).content, 'What is the weather in <city>? Answer in one sentence.');
  assert.equal(remaining, 0);
});

test('research example: the child agent gets its own system prompt and its answer goes back to the parent', async () => {
  const { text, steps, calls, remaining } = await runExample('research.lmt.mjs');
  assert.match(text, /^WebAssembly now runs well beyond the browser/);
  assert.equal(calls.length, 3, 'parent, child, parent');
  assert.match(calls[1].system, /meticulous researcher/);
  assert.match(calls[1].system, /three findings/);
  assert.doesNotMatch(calls[1].system, /editor/);
  assert.match(calls[1].messages.at(-1).content, /Research this topic: WebAssembly outside the browser/);
  assert.match(steps[0].toolResults[0].result, /^1\. WASI gives/);
  assert.equal(remaining, 0);
});

test('data-report example: nested data, a step-0-only system part and the composite tool', async () => {
  const { text, steps, calls, remaining } = await runExample('data-report.lmt.mjs');
  assert.match(text, /North earned 405 EUR/);
  assert.deepEqual(steps[0].toolResults[0].result, {
    results: [
      { name: 'total', result: 405 },
      { name: 'growth', result: 25 },
      { name: 'total', result: 280 },
      { name: 'growth', result: 22 },
    ],
  });
  assert.match(calls[0].system, /First compute the figures with the stats tool/);
  assert.doesNotMatch(calls[1].system, /First compute the figures/);
  for (const call of calls) assert.match(call.system, /revenue: 150/, 'the data is in every step');
  assert.equal(remaining, 0);
});

test('--progress prints plain progress lines to stderr when it is not a terminal', () => {
  const r = lmthing(['run', 'examples/weather.lmt.mjs', '--model', 'mock', '--progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'It is 21 °C and sunny in Paris.\n');
  const lines = r.stderr.trimEnd().split('\n');
  const seconds = String.raw`\d+\.\ds`;
  const expected = [
    new RegExp(`^lmthing: step 0 · 0 tokens · ${seconds}$`),
    new RegExp(`^lmthing: step 0 · running getWeather · \\d+ tokens · ${seconds}$`),
    new RegExp(`^lmthing: step 1 · \\d+ tokens · ${seconds}$`),
    new RegExp(`^lmthing: step 2 · \\d+ tokens · ${seconds} · done$`),
  ];
  assert.equal(lines.length, expected.length, r.stderr);
  lines.forEach((line, i) => assert.match(line, expected[i]));
});

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`, in Debian's essential bsdutils), so stdout
 * and stderr are a TTY as in an interactive shell; returns what the terminal received, both streams
 * in the order they were written.
 */
function lmthingOnTerminal(args) {
  const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, cli, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: root, env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.error, undefined, `util-linux script(1) runs the CLI on a pseudo-terminal: ${r.error?.message}`);
  return { code: r.status, output: r.stdout };
}

/**
 * What a terminal shows after `raw`: `\r` returns to the line's start, `ESC[2K` clears the line,
 * `\n` starts a new one. Also every status line drawn (`step ...` written after a clear-and-return).
 */
function terminalScreen(raw) {
  const lines = [''];
  let column = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw.startsWith('\x1b[2K', i)) {
      lines[lines.length - 1] = '';
      i += 3;
    } else if (raw[i] === '\r') column = 0;
    else if (raw[i] === '\n') {
      lines.push('');
      column = 0;
    } else {
      const line = lines.at(-1);
      lines[lines.length - 1] = line.slice(0, column) + raw[i] + line.slice(column + 1);
      column++;
    }
  }
  const drawn = raw.split('\r\x1b[2K').slice(1).map((segment) => segment.split(/[\r\n]/)[0]).filter((s) => s.startsWith('step '));
  return { lines, drawn };
}

test('on a terminal, a live status line (step, tool running, tokens, elapsed, cost) is redrawn in place and cleared for the text', (t) => {
  const { dir, file } = tempPromptFile(`export const config = { model: 'mock', options: { maxSteps: 5 } };
export default (ctx) => {
  ctx.defConstraint('spend', 'cost', { max: 1, prices: { mock: { input: 1000, output: 2000 } } });
  ctx.defTool('getWeather', 'weather', {}, async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { tempC: 21 };
  });
  ctx.$\`weather?\`;
};
export const mock = [
  { type: 'text', text: 'Checking the weather.\\n' },
  { type: 'tool-call', toolName: 'getWeather', args: {} },
  { type: 'text', text: 'It is 21 °C in Paris.' },
];
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthingOnTerminal(['run', file]);
  assert.equal(r.code, 0, JSON.stringify(r.output));
  assert.doesNotMatch(r.output.replaceAll('\x1b[2K', ''), /\x1b/, 'no escape sequence but the line clear');
  const { lines, drawn } = terminalScreen(r.output);
  // What stays on the screen is the model's text only: every status line was cleared.
  assert.deepEqual(lines, ['Checking the weather.', 'It is 21 °C in Paris.', '']);
  // Each status line drawn has the step, the tools running, the tokens, the elapsed time and the cost.
  const seconds = String.raw`\d+\.\ds`;
  const status = new RegExp(String.raw`^step [01]( · running getWeather)? · \d+ tokens · ${seconds}( · \$\d+\.\d{4})?$`);
  assert.match(drawn[0], new RegExp(String.raw`^step 0 · 0 tokens · ${seconds}$`), 'shown from the start of the run');
  // The final line (`... · done`, cleared at once) is drawn only when the run's end is reported
  // before its last text is written: the text stream and the events are not ordered.
  const finished = new RegExp(String.raw`^step 2 · 60 tokens · ${seconds} · \$0\.1000 · done$`);
  for (const line of drawn) assert.ok(status.test(line) || finished.test(line), `a status line: ${line}`);
  // 1 model call: 10 input + 20 output tokens, at $1000 / $2000 per 1M = $0.0500, while the tool runs.
  assert.ok(drawn.some((line) => new RegExp(String.raw`^step 0 · running getWeather · 30 tokens · ${seconds} · \$0\.0500$`).test(line)), drawn.join('\n'));
  assert.ok(drawn.some((line) => line.startsWith('step 1 · 30 tokens')), 'the second step is shown before its text streams');
  // The status line is cleared before the text starts and not drawn again while its line is open.
  const textLine = r.output.split('\r\n').find((l) => l.includes('It is 21'));
  assert.ok(textLine.endsWith('\r\x1b[2KIt is 21 °C in Paris.'), JSON.stringify(textLine));
});

test('on a terminal a failing run clears its status line before the error line', (t) => {
  const { dir, file } = tempPromptFile(`export const config = {
  model: { provider: 'x', modelId: 'y', generate: async () => { throw new Error('upstream down'); } },
  options: { maxRetries: 0 },
};
export default (ctx) => { ctx.$\`hi\`; };
`);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = lmthingOnTerminal(['run', file]);
  assert.equal(r.code, 1);
  const { lines, drawn } = terminalScreen(r.output);
  assert.ok(drawn.length > 0 && drawn.every((l) => l.startsWith('step 0 · 0 tokens')), drawn.join('\n'));
  assert.match(drawn.at(-1), / · done$/);
  assert.equal(lines.filter((l) => l !== '').length, 1, JSON.stringify(lines));
  assert.match(lines[0], /^lmthing: \w+( \([A-Z_]+\))?: .*upstream down$/);
});
