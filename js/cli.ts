#!/usr/bin/env node
/**
 * The `lmthing` command line. `lmthing run <file.lmt.mjs> [--model <spec>]` imports a prompt file
 * (default export: the prompt function; optional `config`: the runPrompt config; optional `mock`: the
 * items of an offline {@link mockModel}), runs it and streams the text to stdout.
 *
 * Exit codes: 0 success, 1 the run failed, 2 bad usage (unknown command or option, missing file,
 * a file without a default-exported function), 130 interrupted with Ctrl-C.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

// node.js (not common.js): it installs the Node engine loader that runPrompt needs.
import {
  AbortError,
  AuthenticationError,
  isLanguageModel,
  mockModel,
  resolveModel,
  runPrompt,
  type LanguageModel,
  type MockItem,
  type Progress,
} from './node.js';
import { editDistance, nearest, unknownKey } from './config/check.js';
import { progressLine } from './observe/progress.js';

const DEFAULT_MODEL = 'openai:gpt-4o-mini';

const USAGE = `Usage: lmthing run <file.lmt.mjs> [--model <spec>] [--progress]

Runs a prompt file and streams the model's text to stdout.

A prompt file exports:
  default   async (ctx) => { ctx.defSystem(...); ctx.$\`...\`; }   the prompt function (required)
  config    { model, options }                                   the runPrompt config (optional)
  mock      [{ type: 'text', text }, { type: 'tool-call', toolName, args }]
            scripted answers used offline (optional)

Options:
  --model <spec>   model to use, e.g. openai:gpt-4o-mini, anthropic:claude-sonnet-4-5, or mock
                   (default: the file's config.model, else ${DEFAULT_MODEL})
  --progress       print progress lines (step, tools running, tokens, elapsed, cost) to stderr;
                   on a terminal a live status line is shown without it
  -h, --help       show this help

Without an API key for the chosen provider (OPENAI_API_KEY / ANTHROPIC_API_KEY) a file with a
\`mock\` export runs on the offline mock model.

Exit codes: 0 success, 1 the run failed, 2 bad usage, 130 interrupted (Ctrl-C).`;

const OFFLINE_NOTICE = 'lmthing: no API key found (OPENAI_API_KEY / ANTHROPIC_API_KEY); using the offline mock model';

/** Whether streamed text left stdout in the middle of a line. */
let openLine = false;
/** Whether Ctrl-C aborted the run. */
let interrupted = false;

/** A mistake in how the command was called (exit code 2). */
class UsageError extends Error {}

/** What a prompt file exports. */
interface PromptModule {
  prompt: Parameters<typeof runPrompt>[0];
  config: Record<string, unknown>;
  mock: MockItem[] | undefined;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (command !== 'run') {
    const guess = command.startsWith('-') ? nearest(command.replace(/^-+/, ''), Object.keys(RUN_OPTIONS)) : nearest(command, ['run']);
    const hint = guess ? (command.startsWith('-') ? `did you mean 'lmthing run <file> --${guess}'? ` : `did you mean '${guess}'? `) : '';
    throw new UsageError(`unknown command '${command}' (${hint}try 'lmthing --help')`);
  }

  const { file, model: modelFlag, help, progress: progressFlag } = parseRunArgs(rest);
  if (help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const mod = await loadPromptFile(file);
  const model = chooseModel(modelFlag ?? mod.config.model ?? DEFAULT_MODEL, mod.mock);

  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupted = true;
    interrupt.abort(new AbortError('interrupted (Ctrl-C)'));
  });
  // A reader that stops reading (`| head`) ends the run: nobody would see the rest.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    interrupt.abort(new AbortError('the output was closed'));
    process.exit(0);
  });

  const onProgress = progressReporter(Boolean(process.stderr.isTTY), progressFlag);
  const { result } = await runPrompt(mod.prompt, { ...withInterrupt(mod.config, interrupt.signal), model, ...(onProgress ? { onProgress } : {}) });
  for await (const delta of result.textStream) write(delta);
  await result.text; // surfaces a failure the stream may have ended on
  process.stdout.write('\n');
  return 0;
}

/**
 * The file's config with Ctrl-C added to its abort signal: given once (at the top level or in
 * `options`), both abort the run; given twice, runPrompt says what is wrong.
 */
function withInterrupt(config: Record<string, unknown>, interrupt: AbortSignal): Record<string, unknown> {
  const options = { ...(config.options as Record<string, unknown> | undefined) };
  const top = config.abortSignal;
  const nested = options.abortSignal;
  if (top !== undefined && nested !== undefined) return config;
  const given = top ?? nested;
  delete options.abortSignal;
  const abortSignal = given === undefined ? interrupt : given instanceof AbortSignal ? AbortSignal.any([given, interrupt]) : given;
  return { ...config, options, abortSignal };
}

/** Whether the live status line is on the terminal (it is cleared before text is written). */
let statusShown = false;

function clearStatus(): void {
  if (statusShown) process.stderr.write('\r\x1b[2K');
  statusShown = false;
}

/**
 * The run's progress on stderr: on a terminal, a status line redrawn in place (while no streamed
 * text line is open); otherwise, with --progress, a plain line when a step starts, a tool starts and
 * the run ends.
 */
function progressReporter(tty: boolean, lines: boolean): ((p: Progress) => void) | undefined {
  if (tty)
    return (p) => {
      if (openLine) return;
      process.stderr.write(`\r\x1b[2K${progressLine(p)}`);
      statusShown = !p.done;
      if (p.done) process.stderr.write('\r\x1b[2K');
    };
  if (!lines) return undefined;
  return (p) => {
    if (p.event === 'step-start' || p.event === 'tool-call' || p.done) process.stderr.write(`lmthing: ${progressLine(p)}\n`);
  };
}

/** Writes streamed text, remembering whether the last line is unfinished. */
function write(text: string): void {
  if (text === '') return;
  clearStatus();
  process.stdout.write(text);
  openLine = !text.endsWith('\n');
}

/** The options of `lmthing run`. */
const RUN_OPTIONS = { model: { type: 'string', short: 'm' }, help: { type: 'boolean', short: 'h' }, progress: { type: 'boolean' } } as const;

function parseRunArgs(args: string[]): { file: string; model?: string; help: boolean; progress: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: RUN_OPTIONS });
  } catch (err) {
    const unknown = (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? args.find(isUnknownOption)?.split('=')[0] : undefined;
    if (unknown) throw new UsageError(`${unknownKey('option', unknown, Object.keys(RUN_OPTIONS).map((name) => `--${name}`))} (try 'lmthing --help')`);
    throw new UsageError(`${(err as Error).message} (try 'lmthing --help')`);
  }
  const { positionals, values } = parsed;
  if (values.help) return { file: '', help: true, progress: false };
  if (positionals.length === 0) throw new UsageError(`'run' needs a prompt file: lmthing run <file.lmt.mjs> [--model <spec>]`);
  if (positionals.length > 1) throw new UsageError(`'run' takes one prompt file, got: ${positionals.join(' ')}`);
  if (values.model !== undefined && values.model.trim() === '') throw new UsageError('--model needs a model spec');
  return { file: positionals[0], model: values.model, help: false, progress: values.progress ?? false };
}

/** An argument that looks like an option `lmthing run` does not have (`--modle`, `--modle=x`, `-x`). */
function isUnknownOption(arg: string): boolean {
  if (!arg.startsWith('-') || arg === '-' || arg === '--') return false;
  const name = arg.replace(/^-+/, '').split('=')[0];
  return !Object.entries(RUN_OPTIONS).some(([long, option]) => name === long || ('short' in option && name === option.short));
}

/**
 * The prompt file's path: relative to the working directory, or, for `examples/...` not found
 * there, the examples shipped in the package (so `npx lmthing run examples/weather.lmt.mjs` works
 * in any project where lmthing is installed).
 */
function locatePromptFile(file: string): string {
  const path = resolve(process.cwd(), file);
  if (existsSync(path)) return path;
  const shipped = resolve(fileURLToPath(new URL('..', import.meta.url)), file);
  if (!isAbsolute(file) && normalize(file).split(/[\\/]/)[0] === 'examples' && existsSync(shipped)) return shipped;
  throw new UsageError(`file not found: ${file} (${path})`);
}

/** The named exports of a prompt file the CLI reads (besides the default export). */
const PROMPT_FILE_EXPORTS = ['config', 'mock'];

async function loadPromptFile(file: string): Promise<PromptModule> {
  const path = locatePromptFile(file);
  if (!/\.(mjs|js|cjs)$/.test(path)) throw new UsageError(`${file} is not a prompt file: it must be a JavaScript module (.mjs or .js) that exports a prompt function`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw loadError(file, path, err);
  }
  if (typeof mod.default !== 'function') {
    throw new UsageError(`${file} must export a prompt function as its default export: export default async (ctx) => { ... }`);
  }
  // Other exports may be the file's own helpers ('model', 'tools'); one a letter or two away from
  // 'config' or 'mock' is a typo that would run the prompt with defaults.
  for (const name of Object.keys(mod)) {
    const meant = PROMPT_FILE_EXPORTS.find((known) => name !== known && editDistance(name, known) <= Math.floor(known.length / 3));
    if (meant) throw new UsageError(`${file}: it exports '${name}'; did you mean '${meant}'? (a prompt file exports a default prompt function, and optionally 'config' and 'mock')`);
  }
  const config = mod.config ?? {};
  if (typeof config !== 'object' || config === null) throw new UsageError(`${file}: the 'config' export must be an object`);
  if (mod.mock !== undefined && !Array.isArray(mod.mock)) throw new UsageError(`${file}: the 'mock' export must be an array of items`);
  return { prompt: mod.default as PromptModule['prompt'], config: config as Record<string, unknown>, mock: mod.mock as MockItem[] | undefined };
}

/**
 * Why the prompt file could not be imported, naming the file: node's error for a syntax error in a
 * module has no location (`node --check` shows it), and a throw at the top level reads as the run's.
 */
function loadError(file: string, path: string, err: unknown): Error {
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const where = err instanceof SyntaxError && !err.stack?.includes(pathToFileURL(path).href) ? ` (node --check ${file} shows where)` : '';
  return new Error(`${file} failed to load: ${what}${where}`, { cause: err });
}

/**
 * Picks the model: `mock` means the file's mock; a model spec whose provider has no API key falls
 * back to the mock (with a notice on stderr) when the file has one.
 */
function chooseModel(spec: unknown, mock: MockItem[] | undefined): LanguageModel | string {
  if (isLanguageModel(spec)) return spec;
  if (typeof spec !== 'string') throw new UsageError(`config.model must be a model spec string or a LanguageModel`);
  if (spec.trim() === 'mock') {
    if (mock === undefined) throw new UsageError(`--model mock needs the prompt file to export 'mock' (an items array)`);
    return mockModel(mock);
  }
  try {
    return resolveModel(spec, process.env);
  } catch (err) {
    if (!(err instanceof AuthenticationError) || mock === undefined) throw err;
    process.stderr.write(OFFLINE_NOTICE + '\n');
    return mockModel(mock);
  }
}

/** `lmthing: <ErrorName> (<code>): <message>` (the code is left out for errors without one). */
function errorLine(err: unknown): string {
  if (!(err instanceof Error)) return `lmthing: ${String(err)}`;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? `lmthing: ${err.name} (${code}): ${err.message}` : `lmthing: ${err.name}: ${err.message}`;
}

/** Exits once stdout and stderr have flushed (piped output must not be cut off). */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// Nothing left to wait for but the run has not settled (e.g. a model or tool promise that never
// settles): say so instead of exiting 0 silently.
process.once('beforeExit', () => {
  if (openLine) process.stdout.write('\n');
  process.stderr.write('lmthing: the run stopped making progress (a model or tool promise never settled)\n');
  exit(1);
});

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  clearStatus();
  if (err instanceof UsageError) {
    process.stderr.write(`lmthing: ${err.message}\n`);
    exit(2);
  } else {
    if (openLine) process.stdout.write('\n'); // keep the error line off the streamed text's line
    process.stderr.write(errorLine(err) + '\n');
    exit(interrupted ? 130 : 1);
  }
});
