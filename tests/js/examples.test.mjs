// `npm start` runs examples/engine-demo.mjs; it must keep working and say what it did.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');

test('the npm start example runs its fan-out, timeout and cancellation', () => {
  const out = execFileSync(process.execPath, ['examples/engine-demo.mjs'], { cwd: root, encoding: 'utf8' });
  assert.match(out, /engine \d+\.\d+\.\d+ ready \(protocol 1\)/);
  for (const city of ['Lisbon', 'Oslo', 'Nairobi', 'Lima', 'Osaka', 'Perth']) assert.match(out, new RegExp(`${city}\\s+\\d+ °C`));
  assert.match(out, /TimeoutError \(TIMEOUT\): callback.invoke "hangs" timed out after 100 ms/);
  assert.match(out, /run cancelled mid-way: stopped by the user/);
  assert.match(out, /runs still active: 0/);
});
