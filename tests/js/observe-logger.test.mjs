// defLogger and ctx.logger (docs/observability.md): levels, JSON lines, redaction of nested keys and
// API keys, file output that appends, the engine's lifecycle logs at debug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { runPrompt, mockModel, ConfigError, Redactor, REDACTED } from '../../dist/node.js';
import { withStderr } from './helpers/stderr.mjs';
import { tempDir } from './helpers/temp-dir.mjs';

const KEY = 'sk-test-logger-0123456789abcdef';

/** Runs a prompt whose function is `define(ctx, lines)`; `lines` collects the JSON lines written. */
async function withLogger(define, model = mockModel([{ type: 'text', text: 'ok' }])) {
  const lines = [];
  const { result } = await runPrompt((ctx) => {
    define(ctx, (record, line) => lines.push({ record, line }));
    ctx.$`go`;
  }, { model });
  await result.text;
  return lines;
}

test('records below the level are dropped; each record is one JSON line with the fields', async () => {
  const lines = await withLogger((ctx, out) => {
    ctx.defLogger('app', { level: 'warn', outputs: [out], fields: { service: 'my-agent', version: '1.0.0' } });
    ctx.logger.debug('not written');
    ctx.logger.info('not written either');
    ctx.logger.warn('disk almost full', { percent: 91 });
    ctx.logger.error('disk full', { percent: 100 });
  });
  assert.equal(lines.length, 2);
  for (const { line } of lines) assert.ok(!line.includes('\n'), 'one line per record');
  const parsed = lines.map(({ line }) => JSON.parse(line));
  assert.deepEqual(parsed.map((r) => [r.level, r.msg, r.percent, r.service, r.version, r.logger]), [
    ['warn', 'disk almost full', 91, 'my-agent', '1.0.0', 'app'],
    ['error', 'disk full', 100, 'my-agent', '1.0.0', 'app'],
  ]);
  assert.ok(!Number.isNaN(Date.parse(parsed[0].time)));
});

test('redact masks keys at any depth, and secret headers and API keys always', async () => {
  const lines = await withLogger((ctx, out) => {
    ctx.defLogger('app', { outputs: [out], redact: ['password', 'apiKey'] });
    ctx.logger.info(`calling with ${KEY}`, {
      user: { name: 'ada', password: 'hunter2', profile: { api_key: 'k-123', settings: [{ apiKey: 'k-456' }] } },
      headers: { Authorization: `Bearer ${KEY}`, 'x-api-key': 'anything' },
      note: `key was ${KEY}`,
    });
  });
  const text = lines[0].line;
  for (const secret of [KEY, 'hunter2', 'k-123', 'k-456', 'anything']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  const r = JSON.parse(text);
  assert.equal(r.user.name, 'ada');
  assert.equal(r.user.password, REDACTED);
  assert.equal(r.user.profile.api_key, REDACTED); // apiKey matches api_key
  assert.equal(r.user.profile.settings[0].apiKey, REDACTED);
  assert.equal(r.headers.Authorization, REDACTED);
  assert.equal(r.headers['x-api-key'], REDACTED);
  assert.equal(r.msg, `calling with ${REDACTED}`);
});

test('the Redactor masks cycles and errors without throwing', () => {
  const r = new Redactor(['token'], []);
  const a = { token: 't', child: {} };
  a.child.parent = a;
  assert.deepEqual(r.redact(a), { token: REDACTED, child: { parent: '[Circular]' } });
  assert.deepEqual(r.redact({ err: new Error(`bad ${KEY}`) }), { err: { name: 'Error', message: `bad ${REDACTED}` } });
  // A key is masked when it is the key of an object (usage per API key), and "__proto__" stays a key.
  assert.deepEqual(r.redact({ usage: { [KEY]: 12 } }), { usage: { [REDACTED]: 12 } });
  assert.deepEqual(Object.keys(r.redact(JSON.parse('{"__proto__": {"x": 1}}'))), ['__proto__']);
});

test('file output appends whole lines, also from two loggers sharing the file', async () => {
  const dir = tempDir('lmthing-log-');
  const file = join(dir, 'agent.log');
  writeFileSync(file, '{"earlier":true}\n');
  await withLogger((ctx) => {
    ctx.defLogger('a', { outputs: [{ file }] });
    ctx.defLogger('b', { outputs: ['file'], file, format: 'pretty', level: 'error' });
    for (let i = 0; i < 50; i++) ctx.logger.info('tick', { i });
    ctx.logger.error('boom', { apiKey: 'x' });
  });
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.equal(lines[0], '{"earlier":true}');
  const json = lines.slice(1).filter((l) => l.startsWith('{'));
  assert.equal(json.length, 51);
  assert.deepEqual(json.slice(0, 50).map((l) => JSON.parse(l).i), [...Array(50).keys()]);
  const pretty = lines.filter((l) => !l.startsWith('{'));
  assert.equal(pretty.length, 1);
  assert.match(pretty[0], /ERROR \[b\] boom/);
});

test('ctx.logger works in tools, hooks and sub-agents; lifecycle logs go out at debug only', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'work', args: {} }, { type: 'tool-call', toolName: 'helper', args: {} }, { type: 'text', text: 'done' }]);
  const debug = [];
  const info = [];
  const { result } = await runPrompt((ctx) => {
    ctx.defLogger('all', { level: 'debug', outputs: [(r) => debug.push(r)] });
    ctx.defLogger('quiet', { level: 'info', outputs: [(r) => info.push(r)] });
    ctx.defHook(({ stepNumber }) => {
      ctx.logger.info('hook', { stepNumber });
      return {};
    });
    ctx.defTool('work', 'works', {}, () => {
      ctx.logger.info('tool ran');
      return 'ok';
    });
    ctx.defAgent('helper', 'helps', {}, (_args, sub) => {
      sub.defTool('noop', 'n', {}, () => 'x');
      sub.logger.child({ agent: 'helper' }).warn('from the sub-agent');
      sub.$`help`;
    }, { model: mockModel([{ type: 'text', text: 'helped' }]) });
    ctx.$`go`;
  }, { model });
  await result.text;
  assert.deepEqual(info.map((r) => r.msg), ['hook', 'tool ran', 'hook', 'from the sub-agent', 'hook']);
  assert.equal(info.find((r) => r.msg === 'from the sub-agent').agent, 'helper');
  const lifecycle = debug.filter((r) => r.msg.startsWith('run event '));
  assert.ok(lifecycle.some((r) => r.msg === 'run event run-start'));
  assert.ok(lifecycle.some((r) => r.msg === 'run event tool-call' && r.event.toolName === 'work'));
  assert.ok(lifecycle.some((r) => r.msg === 'run event run-start' && r.event.path.join('/') === 'root/helper'));
  assert.equal(lifecycle.at(-1).msg, 'run event run-finish');
  assert.ok(!info.some((r) => r.msg.startsWith('run event ')));
});

test("ctx.logger in a workflow step and in a plugin (the seed's logging plugin)", async () => {
  const records = [];
  const loggingPlugin = {
    name: 'logging',
    version: '1.0.0',
    install: async (ctx) => {
      ctx.defLogger('plugin-logger', { level: 'debug', outputs: [(record) => records.push(record)] });
      ctx.defHook(({ messages, stepNumber }) => {
        ctx.logger.debug('Step executed', { stepNumber, messageCount: messages.length });
        return {};
      });
    },
  };
  const model = mockModel([{ type: 'tool-call', toolName: 'review', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt((ctx) => {
    ctx.defPlugin('logging', loggingPlugin);
    ctx.defWorkflow('review', [
      {
        id: 'check',
        action: (wctx) => {
          ctx.logger.info('workflow step ran', { step: 'check', attempt: wctx.attempt, apiKey: KEY });
          return 'checked';
        },
      },
    ]);
    ctx.defTool('review', 'reviews', {}, async () => (await ctx.runWorkflow('review', {})).output);
    ctx.$`go`;
  }, { model });
  assert.equal(await result.text, 'done');
  const own = records.filter((r) => !r.msg.startsWith('run event '));
  assert.deepEqual(own.map((r) => [r.logger, r.level, r.msg, r.stepNumber ?? r.step]), [
    ['plugin-logger', 'debug', 'Step executed', 0],
    ['plugin-logger', 'info', 'workflow step ran', 'check'],
    ['plugin-logger', 'debug', 'Step executed', 1],
  ]);
  assert.equal(own[1].attempt, 1);
  assert.equal(own[1].apiKey, REDACTED);
  // The engine's lifecycle logs reach the plugin's debug logger too.
  assert.ok(records.some((r) => r.msg === 'run event tool-call' && r.event.toolName === 'review'));
});

test('bad logger configs are ConfigErrors naming the option', async () => {
  const define = (config) => runPrompt((ctx) => {
    ctx.defLogger('app', config);
    ctx.$`go`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  await assert.rejects(define({ levle: 'info' }), (e) => e instanceof ConfigError && /level/.test(e.message));
  await assert.rejects(define({ level: 'verbose' }), (e) => e instanceof ConfigError && /debug/.test(e.message));
  await assert.rejects(define({ outputs: ['syslog'] }), (e) => e instanceof ConfigError && /'console', 'file'/.test(e.message));
  await assert.rejects(define({ redact: 'password' }), (e) => e instanceof ConfigError && /redact/.test(e.message));
});


test('a failing output (thrown or async) neither breaks what logged nor goes unhandled; it is written to stderr', async () => {
  const unhandled = [];
  const onUnhandled = (err) => unhandled.push(err);
  process.on('unhandledRejection', onUnhandled);
  try {
    await withStderr(async (written) => {
      const kept = [];
      const { result } = await runPrompt((ctx) => {
        ctx.defLogger('app', { level: 'debug', outputs: [() => { throw new Error('disk full'); }, async () => Promise.reject(new Error('network down')), (record) => kept.push(record.msg)] });
        ctx.logger.info('before the run');
        ctx.$`go`;
      }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
      assert.equal(await result.text, 'ok');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(kept.includes('before the run'), 'the other outputs still get every record');
      assert.ok(kept.length > 1, 'lifecycle logs at debug went out too');
      assert.ok(written.some((line) => line.includes('lmthing: an output of logger "app" failed: disk full')));
      assert.ok(written.some((line) => line.includes('lmthing: an output of logger "app" failed: network down')));
      assert.deepEqual(unhandled, []);
    });
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a file output that cannot be written (a directory, a missing folder) breaks neither what logged nor the other outputs; stderr says so once', async () => {
  const dir = tempDir('lmthing-log-');
  await withStderr(async (written) => {
    const kept = [];
    const { result } = await runPrompt((ctx) => {
      ctx.defLogger('app', { outputs: [{ file: dir }, { file: join(dir, 'missing', 'a.log') }, (record) => kept.push(record.msg)] });
      // Each used to throw fs's EISDIR / ENOENT out of ctx.logger.info into the prompt function.
      ctx.logger.info('first');
      ctx.logger.info('second');
      ctx.$`go`;
    }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
    assert.equal(await result.text, 'ok');
    assert.deepEqual(kept.slice(0, 2), ['first', 'second']);
    const reports = (needle) => written.filter((line) => line.includes(`lmthing: the file output of logger "app" cannot write to ${JSON.stringify(needle)}`));
    assert.equal(reports(dir).length, 1, written.join(''));
    assert.match(reports(dir)[0], /EISDIR/);
    assert.equal(reports(join(dir, 'missing', 'a.log')).length, 1);
    assert.match(reports(join(dir, 'missing', 'a.log'))[0], /ENOENT/);
  });
});

test('a misspelled exporter or output is named with its index and the nearest choice', async () => {
  const define = (def) => runPrompt((ctx) => {
    def(ctx);
    ctx.$`x`;
  }, { model: mockModel([{ type: 'text', text: 'x' }]) });
  await assert.rejects(define((ctx) => ctx.defLogger('l', { outputs: ['console', 'fiel'] })), (e) => e instanceof ConfigError && /'outputs' must be an array of .* \(item 1 is the string "fiel" \(did you mean 'file'\?\)\), got an array/.test(e.message));
  await assert.rejects(define((ctx) => ctx.defTracing('t', { exporters: ['consol'] })), (e) => e instanceof ConfigError && /'exporters' must be an array of .* \(item 0 is the string "consol" \(did you mean 'console'\?\)\)/.test(e.message));
});
