// A durable run interrupted while an idempotent tool writes a persisted state (saveState,
// updateState): the resume runs the tool again and the state ends as if it ran once.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { fileStorage, memoryStorage, resume, runPrompt } from '../../dist/node.js';
import { bumpAgent as agent, bumpModel as model, stateStorage } from './helpers/bump-agent.mjs';
import { tempDir } from './helpers/temp-dir.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** State storage whose writes of the state hang (`hang`) until released. */
function stalling(storage) {
  const gate = { hang: true, entered: false };
  const wrapped = {
    name: 'stalling',
    get: (k) => storage.get(k),
    set: (...a) => storage.set(...a),
    list: (p) => storage.list(p),
    delete: (k) => storage.delete(k),
    compareAndSet: (...a) => {
      if (gate.hang && String(a[0]).startsWith('state:')) {
        gate.entered = true;
        return new Promise(() => {});
      }
      return storage.compareAndSet(...a);
    },
  };
  return { storage: wrapped, gate };
}

for (const how of ['save', 'update']) {
  test(`suspended while an idempotent tool's ${how === 'save' ? 'saveState' : 'updateState'} is being written: the resume runs the tool again and the state is written once`, async () => {
    const journal = memoryStorage();
    const state = memoryStorage();
    const { storage, gate } = stalling(state);
    const first = await runPrompt(agent(how), { model, storage, durable: { id: `state-${how}`, storage: journal } });
    first.result.text.catch(() => {});
    while (!gate.entered) await sleep(2);
    await first.prompt.suspend();
    gate.hang = false;
    const resumed = await resume(`state-${how}`, agent(how), { model, storage, durable: { storage: journal } });
    assert.equal(await resumed.result.text, 'bump returned 1');
    assert.deepEqual((await state.get('state:global:counter')).value, { n: 1 });
  });
}

test('killed (kill -9) while the state write was in flight (before or after it landed) or inside an update\'s function: the resume ends as if the tool ran once', async () => {
  const child = fileURLToPath(new URL('./helpers/durable-state-child.mjs', import.meta.url));
  for (const when of ['before', 'after', 'in-update']) {
    const dir = tempDir('lmthing-state-kill-');
    const killed = spawnSync(process.execPath, [child, dir, when], { encoding: 'utf8' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const { result } = await resume('r1', agent(when === 'in-update' ? 'update' : 'save'), { model, storage: stateStorage(fileStorage(join(dir, 'state'))), durable: { storage: fileStorage(join(dir, 'journal')) } });
    assert.equal(await result.text, 'bump returned 1', when);
    assert.deepEqual((await fileStorage(join(dir, 'state')).get('state:global:counter')).value, { n: 1 }, when);
  }
});
