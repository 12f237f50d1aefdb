// A long directive conversation: ms per turn (`L.user` + `L.reply`, zero-latency model) by hundreds
// of turns, vs the same chat written with the AI SDK's generateText over a growing message list.
// A turn should cost the same at turn 800 as at turn 100 (the engine syncs the conversation with
// the host instead of resending it; docs/directive-agents.md).
//
//   node bench/directive-turns.mjs [TURNS=800]     (after `bash scripts/build.sh`; needs `ai`)
//
// Prints ms per turn for each block of 100 turns, each contender in its own process. Writes
// bench/results/directive-turns.json. See bench/README.md, "Long directive conversations".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { aiSdkMock, check, printTable, round } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const BLOCK = 100;
const answer = (n) => `answer ${n} `.padEnd(200, 'x');
const question = (n) => `question ${n} `.padEnd(200, 'y');

async function lmthing(turns) {
  const { run, L } = await import('../dist/node.js');
  let calls = 0;
  const model = {
    provider: 'bench',
    modelId: 'turns',
    async generate(req) {
      calls++;
      check(req.messages.length === 2 * calls - 1, `lmthing: call ${calls} got ${req.messages.length} messages`);
      return { content: [{ type: 'text', text: answer(calls) }], finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } };
    },
  };
  const blocks = [];
  await run(function* () {
    let t = performance.now();
    for (let i = 1; i <= turns; i++) {
      yield* L.user`${question(i)}`;
      yield* L.reply;
      if (i % BLOCK === 0) blocks.push((performance.now() - t) / BLOCK), (t = performance.now());
    }
  }, { models: { default: model } });
  return blocks;
}

async function ai(turns) {
  const { generateText, MockLanguageModel, answer: aiAnswer } = await aiSdkMock();
  let calls = 0;
  const model = new MockLanguageModel({
    doGenerate: async (options) => {
      calls++;
      check(options.prompt.length === 2 * calls - 1, `ai: call ${calls} got ${options.prompt.length} messages`);
      return aiAnswer(answer(calls));
    },
  });
  const messages = [];
  const blocks = [];
  let t = performance.now();
  for (let i = 1; i <= turns; i++) {
    messages.push({ role: 'user', content: question(i) });
    const result = await generateText({ model, messages });
    messages.push(...result.response.messages);
    if (i % BLOCK === 0) blocks.push((performance.now() - t) / BLOCK), (t = performance.now());
  }
  return blocks;
}

if (process.argv[2] === '--child') {
  const turns = Number(process.argv[4]);
  const blocks = await (process.argv[3] === 'lmthing' ? lmthing(turns) : ai(turns));
  process.stdout.write(JSON.stringify(blocks));
} else {
  const turns = Number(process.argv[2] ?? 800);
  const load = os.loadavg()[0];
  const measured = {};
  for (const name of ['lmthing', 'ai'])
    measured[name] = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', name, String(turns)], { encoding: 'utf8' })).map((x) => round(x, 3));
  const rows = [['turns', 'lmthing ms/turn', 'ai ms/turn', 'lmthing / ai']];
  measured.lmthing.forEach((ms, i) => rows.push([`${i * BLOCK + 1}–${(i + 1) * BLOCK}`, String(ms), String(measured.ai[i]), String(round(ms / measured.ai[i], 2))]));
  console.log(`a directive conversation of ${turns} turns (L.user + L.reply, zero-latency model) vs generateText over a growing list; one process each`);
  printTable(rows);
  console.log(`load ${load.toFixed(2)} -> ${os.loadavg()[0].toFixed(2)}`);
  const out = { when: new Date().toISOString(), turns, block: BLOCK, msPerTurn: measured, loadBefore: round(load, 2), loadAfter: round(os.loadavg()[0], 2) };
  fs.writeFileSync(path.join(here, 'results', 'directive-turns.json'), JSON.stringify(out, null, 2) + '\n');
  console.log('wrote bench/results/directive-turns.json');
}
