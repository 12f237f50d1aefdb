// One process of the kill -9 test: `node durable-child.mjs <storageDir> <logPath> <outPath>` starts
// the durability scenario as run "kill", or resumes it when the journal exists, and writes the
// final transcript to <outPath>. The parent kills it at random points.
import { renameSync, writeFileSync } from 'node:fs';
import { fileStorage, resume, runPrompt, JournalError } from '../../../dist/node.js';
import { durableScenario, transcriptOf } from './durable-scenario.mjs';

const [dir, logPath, outPath] = process.argv.slice(2);
const storage = fileStorage(dir, { durable: false });
const { fn, config } = durableScenario({ logPath });
let run;
try {
  run = await resume('kill', fn, config(storage, 'kill'));
} catch (err) {
  if (!(err instanceof JournalError && err.code === 'JOURNAL_MISSING')) throw err;
  run = await runPrompt(fn, config(storage, 'kill'));
}
// Written whole or not at all: a kill during the write must not leave a partial transcript that
// the parent would read as the run's result.
const transcript = await transcriptOf(run.result);
writeFileSync(`${outPath}.partial`, transcript);
renameSync(`${outPath}.partial`, outPath);
