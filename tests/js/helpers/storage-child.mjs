// A separate Node process working on a shared storage, for the cross-process tests:
//   node storage-child.mjs '<adapter json>' write <key> <json value>
//   node storage-child.mjs '<adapter json>' increment <key> <times>   -> prints {"conflicts": n}
//   node storage-child.mjs '<adapter json>' hammer <key> <seed>       -> saves forever (until killed)
// <adapter json> is {"kind": "file", "dir": ...} or {"kind": "redis", "url": ..., "keyPrefix": ...}.
import { fileStorage, redisStorage } from '../../../dist/node.js';
import { hammerValue } from './storage-values.mjs';

const [spec, command, key, arg] = process.argv.slice(2);
const options = JSON.parse(spec);
const storage = options.kind === 'file' ? fileStorage(options.dir) : redisStorage({ url: options.url, keyPrefix: options.keyPrefix });

if (command === 'write') {
  await storage.set(key, JSON.parse(arg));
} else if (command === 'increment') {
  let conflicts = 0;
  for (let i = 0; i < Number(arg); i++) {
    for (;;) {
      const current = await storage.get(key);
      if (await storage.compareAndSet(key, current?.version, (current?.value ?? 0) + 1)) break;
      conflicts++;
    }
  }
  process.stdout.write(JSON.stringify({ conflicts }));
} else if (command === 'hammer') {
  process.stdout.write('ready\n');
  for (let seq = 0; ; seq++) await storage.set(key, hammerValue(Number(arg), seq));
} else {
  throw new Error(`unknown command ${command}`);
}
await storage.close?.();
