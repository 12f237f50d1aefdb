// A worker of the lease test: `node durable-child-lease.mjs <redisUrl> <logPath>` runs the
// durability scenario as run "leased" under a 1 s lease owned by "first"; the test kills it.
import { redisStorage, runPrompt } from '../../../dist/node.js';
import { durableScenario } from './durable-scenario.mjs';

const [url, logPath] = process.argv.slice(2);
const storage = redisStorage({ url, keyPrefix: 'durable-lease:' });
const { fn, config } = durableScenario({ logPath, toolDelayMs: 20 });
const base = config(storage, 'leased');
const { result } = await runPrompt(fn, { ...base, durable: { ...base.durable, lease: { ttlMs: 1_000, owner: 'first' } } });
await result.text;
await storage.close();
