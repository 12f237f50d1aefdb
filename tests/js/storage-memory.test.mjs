// memoryStorage against the storage conformance suite, plus what only it can show: TTLs on an
// injected clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { memoryStorage, StorageError, VirtualClock } from '../../dist/node.js';
import { runConformance } from './helpers/conformance-runner.mjs';

runConformance('memory', { fresh: () => memoryStorage() });

test('memory: TTLs follow the clock the adapter is given', async () => {
  const clock = new VirtualClock(1000);
  const s = memoryStorage({ clock });
  await s.set('k', 'v', { ttl: 50 });
  clock.setTimer(49, () => undefined);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal((await s.get('k'))?.value, 'v');
  clock.setTimer(1, () => undefined);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(clock.now(), 1050);
  assert.equal(await s.get('k'), undefined);
});

test('memory: errors are StorageErrors with a stable code', async () => {
  const error = await memoryStorage().set('k', () => 1).catch((e) => e);
  assert.ok(error instanceof StorageError);
  assert.equal(error.code, 'STORAGE_UNSERIALIZABLE');
  assert.equal(error.message, 'memory storage: cannot store key "k": $ is a function (a value must be JSON: null, booleans, finite numbers, strings, arrays and plain objects)');
});
