/**
 * Structured logging (`defLogger`, `ctx.logger`): records with a level, a message, the logger's
 * `fields` and the call's fields, redacted (the `redact` keys at any depth, secret headers and API
 * keys always), written as JSON lines or pretty text to the console, a file (Node; appended with
 * one `write` per record, so processes sharing the file never interleave a line) or a function.
 */
import * as c from '../config/check.js';
import { ConfigError } from '../errors.js';
import type { DefinitionKind } from '../definitions/kind.js';
import type { DefinitionSet } from '../definitions/set.js';
import type { RunEvent } from '../run/events.js';
import { Redactor } from './redact.js';

/** Severity of a record, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A record as outputs receive it (already redacted). */
export interface LogRecord {
  /** ISO 8601 time. */
  time: string;
  level: LogLevel;
  /** The logger's name (`defLogger(name)`). */
  logger: string;
  msg: string;
  [field: string]: unknown;
}

/** A function output: receives each record and its formatted line. */
export type LogOutputFunction = (record: LogRecord, line: string) => void;

/** Where records go: the console (stderr under Node), a file, or your function. */
export type LogOutput = 'console' | 'file' | { file: string } | LogOutputFunction;

/** `defLogger` config. */
export interface LoggerConfig {
  /** The lowest level written (default `info`); `silent` writes nothing. */
  level?: LogLevel | 'silent';
  /** `json` (one JSON object per line, the default) or `pretty` (`time LEVEL [logger] msg key=value`). */
  format?: 'json' | 'pretty';
  /** Default `['console']`. */
  outputs?: LogOutput[];
  /** The file for the `'file'` output (default `./<name>.log`). */
  file?: string;
  /** Fields added to every record. */
  fields?: Record<string, unknown>;
  /** Keys masked at any depth (secret headers and API keys are always masked). */
  redact?: string[];
}

/** What `ctx.logger` (and a tool's `logger`) offers. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every record. */
  child(fields: Record<string, unknown>): Logger;
}

const LEVELS: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Appends lines to a file; installed by the Node entry point. */
export interface LogFileSink {
  write(line: string): void;
}

let openLogFile: ((path: string) => LogFileSink) | undefined;

/** @internal Installs how files are opened for appending (Node only). */
export function setLogFileOpener(open: (path: string) => LogFileSink): void {
  openLogFile = open;
}

/** The level methods of a logger, written once over its `log`. */
abstract class LevelLogger implements Logger {
  abstract log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.log('error', msg, fields);
  }
  child(fields: Record<string, unknown>): Logger {
    return childLogger(this, fields);
  }
}

/** One defined logger: its level, format, outputs, fields and redaction. */
export class DefinedLogger extends LevelLogger {
  private readonly threshold: number;
  private readonly redactor: Redactor;
  private readonly writers: Array<(record: LogRecord, line: string) => void>;

  constructor(
    readonly name: string,
    readonly config: LoggerConfig,
  ) {
    super();
    this.threshold = LEVELS[config.level ?? 'info'];
    this.redactor = new Redactor(config.redact ?? []);
    this.writers = (config.outputs ?? ['console']).map((output) => this.writer(output));
  }

  /** Whether records of `level` are written. */
  enabled(level: LogLevel): boolean {
    return LEVELS[level] >= this.threshold;
  }

  /** The keys this logger masks (tracing redacts the same). */
  get redactKeys(): string[] {
    return this.config.redact ?? [];
  }

  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const record = this.redactor.redact({
      time: new Date().toISOString(),
      level,
      logger: this.name,
      msg: String(msg),
      ...this.config.fields,
      ...fields,
    }) as LogRecord;
    const line = this.config.format === 'pretty' ? pretty(record) : jsonLine(record);
    for (const write of this.writers) write(record, line);
  }

  private writer(output: LogOutput): (record: LogRecord, line: string) => void {
    if (typeof output === 'function') {
      // A failing output (thrown, or an async one's rejection, which would be unhandled) must not
      // break what logged: it is written where the console output goes.
      const failed = (err: unknown): void => writeToConsole('error', `lmthing: an output of logger "${this.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
      return (record, line) => {
        try {
          const returned: unknown = output(record, line);
          if (c.isThenable(returned)) returned.then(undefined, failed);
        } catch (err) {
          failed(err);
        }
      };
    }
    if (output === 'console') return consoleWrite;
    const path = output === 'file' ? (this.config.file ?? `${this.name}.log`) : output.file;
    let sink: LogFileSink | undefined;
    // As a function output's, a failed write (a directory, a missing folder, a full disk) breaks
    // neither what logged nor the other outputs; it is reported once until a write succeeds again.
    let failing = false;
    return (_record, line) => {
      if (!openLogFile) throw new ConfigError(`defLogger("${this.name}"): file output needs Node (the browser build has no file system)`);
      try {
        sink ??= openLogFile(path);
        sink.write(line + '\n');
        failing = false;
      } catch (err) {
        if (!failing) writeToConsole('error', `lmthing: the file output of logger "${this.name}" cannot write to ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
        failing = true;
      }
    };
  }
}

/** Fans records out to several loggers (every logger defined on a ctx and its parents). */
export class LoggerGroup extends LevelLogger {
  constructor(private readonly loggers: () => readonly DefinedLogger[]) {
    super();
  }
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    const loggers = this.loggers();
    if (loggers.length === 0) return fallback.log(level, msg, fields);
    for (const logger of loggers) logger.log(level, msg, fields);
  }
}

/** Without a defLogger, warnings and errors still reach the console. */
const fallback = new DefinedLogger('lmthing', { level: 'warn', format: 'pretty' });

function childLogger(parent: { log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void }, bound: Record<string, unknown>): Logger {
  const log = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => parent.log(level, msg, { ...bound, ...fields });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (more) => childLogger(parent, { ...bound, ...more }) };
}

/** A BigInt field is written as its digits (JSON has no BigInt; the record would be lost). */
const bigIntAsText = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

function jsonLine(record: LogRecord): string {
  try {
    return JSON.stringify(record, bigIntAsText);
  } catch {
    return JSON.stringify({ time: record.time, level: record.level, logger: record.logger, msg: record.msg, note: 'fields were not serializable' });
  }
}

function pretty(record: LogRecord): string {
  const { time, level, logger, msg, ...fields } = record;
  const rest = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? (/\s/.test(value) ? JSON.stringify(value) : value) : safeJson(value)}`)
    .join(' ');
  return `${time} ${level.toUpperCase().padEnd(5)} [${logger}] ${msg}${rest ? ' ' + rest : ''}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, bigIntAsText) ?? String(value);
  } catch {
    return String(value);
  }
}

function consoleWrite(record: LogRecord, line: string): void {
  writeToConsole(record.level, line);
}

/** One line to stderr in Node, to the console method of `level` elsewhere. */
export function writeToConsole(level: LogLevel, line: string): void {
  const stderr = (globalThis as { process?: { stderr?: { write(text: string): unknown } } }).process?.stderr;
  if (stderr) stderr.write(line + '\n');
  else console[level](line);
}

const output = c.withChoices(
  (v) =>
    v === 'console' || v === 'file' || typeof v === 'function' || (c.isPlainObject(v) && typeof v.file === 'string' && v.file.length > 0 && Object.keys(v).length === 1)
      ? undefined
      : "'console', 'file', {file: path} or a function",
  ['console', 'file'],
);

/** `defLogger`: checked at the call, kept in the host (the engine's lifecycle logs reach it as events). */
export const loggerKind: DefinitionKind<LoggerConfig | undefined, DefinedLogger> = {
  kind: 'logger',
  noun: 'logger',
  method: 'defLogger',
  hostOnly: true,
  readsEvents: true,
  check(where, config) {
    // A misspelt key of a {file} output gets its did-you-mean (the outputs' check names only the item).
    const outputs: unknown = c.isPlainObject(config) ? config.outputs : undefined;
    if (Array.isArray(outputs)) for (const [i, item] of outputs.entries()) if (c.isPlainObject(item)) c.checkOptions(`${where}: outputs[${i}]`, item, { file: c.nonEmpty }, 'key');
    c.checkOptions(where, config, {
      level: c.oneOf('debug', 'info', 'warn', 'error', 'silent'),
      format: c.oneOf('json', 'pretty'),
      outputs: c.arrayOf(output, "an array of 'console', 'file', {file: path} or functions"),
      file: c.nonEmpty,
      fields: c.object,
      redact: c.stringList,
    });
    if (config?.file !== undefined && !(config.outputs ?? ['console']).includes('file'))
      c.fail(where, "'file' is the path of the 'file' output, and 'outputs' does not have it (add 'file' to outputs, or give {file: path} there)");
    // `where` is `defLogger("name")`.
    return new DefinedLogger(where.slice('defLogger("'.length, -2), { ...config });
  },
  wire: () => ({}),
};

/**
 * The engine's lifecycle logs: every run event of the tree, at `debug`, to the loggers of `set` that
 * write debug records (`run event step-start` with the event as `event`).
 */
export function lifecycleLogs(set: DefinitionSet): (event: RunEvent) => void {
  return (event) => {
    for (const logger of set.values(loggerKind)) if (logger.enabled('debug')) logger.debug(`run event ${event.type}`, { event });
  };
}
