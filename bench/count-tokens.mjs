// countTokens through the package (docs/memory.md, "countTokens") vs js-tiktoken on the same input:
// a ≈ 1 MiB text (the token corpus repeated) and a 40-message chat, o200k_base. The engine's cost
// includes the `memory` run and the text crossing into the wasm as JSON; js-tiktoken runs in
// process. Also the first count of a fresh engine (the rank file read, base64'd, parsed: the
// tokenizer.load op). Counts are checked equal before anything is reported.
//   node bench/count-tokens.mjs [repeats=5]
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tiktoken } from 'js-tiktoken/lite';
import { countTokens, createEngine } from '../dist/node.js';
import { check, median, round } from './lib.mjs';

const repeats = Number(process.argv[2] ?? 5);
const require = createRequire(import.meta.url);
const { texts } = JSON.parse(readFileSync(new URL('../tests/fixtures/tokens/corpus.json', import.meta.url), 'utf8'));
// js-tiktoken's merge is quadratic in a piece's length: leave out the long runs (as bench/memory.mjs does).
const short = texts.filter((t) => !/(.)\1{100}/u.test(t));
let big = '';
while (big.length < 1 << 20) big += short.join('\n');
const chat = Array.from({ length: 40 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: short[i % short.length] }));

let t = performance.now();
const ranks = require('js-tiktoken/ranks/o200k_base');
const encoder = new Tiktoken(ranks);
const jsLoad = performance.now() - t;
t = performance.now();
const engine = await createEngine();
const engineStart = performance.now() - t;
t = performance.now();
await countTokens('openai:gpt-4o', 'warm up', { engine });
const engineFirst = performance.now() - t;

const time = async (fn) => {
  await fn();
  const xs = [];
  for (let i = 0; i < repeats; i++) {
    const s = performance.now();
    await fn();
    xs.push(performance.now() - s);
  }
  return median(xs);
};
const jsChat = (messages) => messages.reduce((n, m) => n + 3 + encoder.encode(m.role, [], []).length + encoder.encode(m.content, [], []).length, 3);

check((await countTokens('openai:gpt-4o', big, { engine })).tokens === encoder.encode(big, [], []).length, 'text counts equal');
check((await countTokens('openai:gpt-4o', chat, { engine })).tokens === jsChat(chat), 'chat counts equal');
const bytes = Buffer.byteLength(big);
const engineText = await time(() => countTokens('openai:gpt-4o', big, { engine }));
const jsText = await time(async () => encoder.encode(big, [], []));
const engineChat = await time(() => countTokens('openai:gpt-4o', chat, { engine }));
const jsChatMs = await time(async () => jsChat(chat));
const result = {
  date: new Date().toISOString(),
  node: process.version,
  text: { bytes, engineMBs: round(bytes / 1e6 / (engineText / 1e3), 2), jsTiktokenMBs: round(bytes / 1e6 / (jsText / 1e3), 2), engineMs: round(engineText, 1), jsTiktokenMs: round(jsText, 1) },
  chat40: { engineMs: round(engineChat, 3), jsTiktokenMs: round(jsChatMs, 3) },
  firstCountMs: round(engineFirst, 1),
  engineCreateMs: round(engineStart, 1),
  jsTiktokenLoadMs: round(jsLoad, 1),
};
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/count-tokens.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
