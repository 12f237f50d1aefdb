// countTokens(model, messages) and exact counts inside runs (docs/memory.md, "Token counting"): the
// engine's o200k_base / cl100k_base counts equal js-tiktoken's, the rank file is loaded lazily through
// the tokenizer.load op, other providers get the estimate, and defContext budgets with the same count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import { ConfigError, ContextLengthError, countTokens, createEngine, EngineLoadError, runPrompt } from '../../dist/node.js';
import { tempDir } from './helpers/temp-dir.mjs';

const require = createRequire(import.meta.url);
const reference = {
  o200k_base: new Tiktoken(require('js-tiktoken/ranks/o200k_base')),
  cl100k_base: new Tiktoken(require('js-tiktoken/ranks/cl100k_base')),
};
const { texts } = JSON.parse(readFileSync(new URL('../fixtures/tokens/corpus.json', import.meta.url), 'utf8'));
const engine = await createEngine();

/** OpenAI's rule for a chat request, counted with js-tiktoken. */
function referenceMessages(encoder, messages) {
  let n = 3;
  for (const m of messages) n += 3 + encoder.encode(m.role, [], []).length + encoder.encode(m.content, [], []).length;
  return n;
}

test('countTokens of a text equals js-tiktoken on the fixed corpus (o200k for gpt-4o, cl100k for gpt-4)', async () => {
  for (const [model, name] of [['openai:gpt-4o', 'o200k_base'], [{ provider: 'openai', modelId: 'gpt-4-turbo' }, 'cl100k_base']]) {
    for (const text of texts) {
      const count = await countTokens(model, text, { engine });
      assert.deepEqual(count, { tokens: reference[name].encode(text, [], []).length, exact: true, encoding: name }, JSON.stringify(text).slice(0, 60));
    }
  }
});

test('countTokens of messages follows OpenAI’s per-message rule with exact content counts', async () => {
  const messages = texts.slice(0, 8).map((content, i) => ({ role: i % 2 ? 'assistant' : 'user', content }));
  const count = await countTokens('gpt-4o', messages, { engine });
  assert.equal(count.tokens, referenceMessages(reference.o200k_base, messages));
  assert.equal(count.exact, true);
});

test('models without a public tokenizer get the documented estimate, marked as not exact', async () => {
  const text = texts.join('\n');
  const count = await countTokens({ provider: 'anthropic', modelId: 'claude-sonnet-4-5' }, text, { engine });
  assert.equal(count.exact, false);
  assert.equal(count.encoding, null);
  const exact = reference.o200k_base.encode(text, [], []).length;
  assert.ok(count.tokens > exact * 0.8 && count.tokens < exact * 1.25, `estimate ${count.tokens} vs o200k ${exact}`);
});

test('bad input to countTokens is a ConfigError naming what was wrong', async () => {
  await assert.rejects(countTokens(null, 'x', { engine }), (e) => e instanceof ConfigError && /expected a model/.test(e.message));
  // An object that is not a model is described, not printed: it may hold a key.
  await assert.rejects(countTokens({ provider: 5, apiKey: 'sk-secret-1' }, 'x', { engine }), (e) => e instanceof ConfigError && /got an object$/.test(e.message) && !e.message.includes('sk-secret'));
  await assert.rejects(countTokens('openai:gpt-4o', 42, { engine }), (e) => e instanceof ConfigError && /expected messages/.test(e.message));
  await assert.rejects(countTokens('openai:gpt-4o', [{ content: 'no role' }], { engine }), (e) => e instanceof ConfigError && /messages\[0\]/.test(e.message));
});

test('a rank file that cannot be read fails with the file, the path tried and the fix', async () => {
  const broken = await createEngine({ tokenizersUrl: '/nonexistent/tokenizers' });
  await assert.rejects(countTokens('openai:gpt-4o', 'hello', { engine: broken }), (e) =>
    /dist\/tokenizers\/o200k_base\.bpe/.test(e.message) && /\/nonexistent\/tokenizers\/o200k_base\.bpe/.test(e.message) && /tokenizersUrl/.test(e.message) &&
    // The class a failed wasm load has, with the file and where it was looked for (it was an EngineError).
    e instanceof EngineLoadError && e.file === 'dist/tokenizers/o200k_base.bpe' && e.urls.some((url) => url.endsWith('/nonexistent/tokenizers/o200k_base.bpe')));
  // Estimates need no file.
  assert.equal((await countTokens('ollama:llama3', 'hello', { engine: broken })).exact, false);
  // A server's fallback page where the file should be is named as what it is.
  const dir = tempDir('lmthing-ranks-');
  writeFileSync(`${dir}/o200k_base.bpe`, '<!DOCTYPE html>\n<html><body>App</body></html>');
  const fallback = await createEngine({ tokenizersUrl: dir });
  await assert.rejects(countTokens('openai:gpt-4o', 'hello', { engine: fallback }), (e) =>
    /dist\/tokenizers\/o200k_base\.bpe/.test(e.message) && /not a rank file \(an HTML page, such as a server's fallback page: it starts "<!DOCTYPE html> <html>/.test(e.message) && /tokenizersUrl/.test(e.message));
});

/** A model named like OpenAI's that records each request's messages. */
function openaiNamedModel(answers) {
  const requests = [];
  let n = 0;
  return {
    provider: 'openai',
    modelId: 'gpt-4o-mini',
    requests,
    async generate(req) {
      requests.push(req.messages);
      const content = answers[Math.min(n++, answers.length - 1)];
      return { content, finishReason: content.some((p) => p.type === 'tool-call') ? 'tool-calls' : 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
}

test('defContext counts an OpenAI model’s messages exactly: what it keeps is what countTokens counts', async () => {
  const model = openaiNamedModel([[{ type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', args: {} }], [{ type: 'text', text: 'done' }]]);
  const history = [];
  for (let i = 0; i < 30; i++) history.push({ role: i % 2 ? 'assistant' : 'user', content: texts[i % texts.length] });
  const events = [];
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defContext('main', 'sliding-window', { maxTokens: 800, reserveTokens: 200 }); // the history is ~900 tokens
      ctx.defTool('lookup', 'Looks something up', { type: 'object', properties: {} }, () => 'found');
      ctx.$`What now?`;
    },
    { model, messages: history, engine, onEvent: (e) => events.push(e) },
  );
  assert.equal(await result.text, 'done');
  const trimmed = events.filter((e) => e.type === 'context-trimmed');
  assert.equal(trimmed.length, 2);
  for (const [i, e] of trimmed.entries()) {
    assert.equal(e.encoding, 'o200k_base');
    const sent = await countTokens(model, model.requests[i], { engine });
    assert.equal(e.keptTokens, sent.tokens - 3, 'the kept tokens are the exact count of what was sent (without the reply priming)');
    assert.ok(e.fixedTokens > 3, 'the tool definition counts against the budget');
    assert.equal(e.budget, 800 - 200 - e.fixedTokens);
    assert.ok(e.keptTokens <= e.budget);
  }
});

test('a system prompt that does not fit the context is a ContextLengthError naming the context', async () => {
  const model = openaiNamedModel([[{ type: 'text', text: 'never' }]]);
  await assert.rejects(
    runPrompt(
      (ctx) => {
        ctx.defContext('tiny', 'sliding-window', { maxTokens: 100 });
        ctx.defSystem('role', 'You are a careful assistant who double-checks every figure. '.repeat(20));
        ctx.$`Hi`;
      },
      { model, engine },
    ).then(({ result }) => result.text),
    (e) => e instanceof ContextLengthError && /context "tiny"/.test(e.message) && /system prompt/.test(e.message),
  );
  assert.equal(model.requests.length, 0);
});
