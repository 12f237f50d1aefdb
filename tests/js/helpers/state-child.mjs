// A separate Node process running prompt runs over a shared storage, for the state tests:
//   node state-child.mjs '<adapter json>' count <sessionId>     -> one run whose tool bumps a persisted counter; prints it
//   node state-child.mjs '<adapter json>' update <runs>         -> `runs` runs, each incrementing a global counter with updateState
// <adapter json> is {"kind": "file", "dir": ...} or {"kind": "redis", "url": ..., "keyPrefix": ...}.
import { createEngine, fileStorage, mockModel, redisStorage, runPrompt } from '../../../dist/node.js';

const [spec, command, arg] = process.argv.slice(2);
const options = JSON.parse(spec);
const storage = options.kind === 'file' ? fileStorage(options.dir) : redisStorage({ url: options.url, keyPrefix: options.keyPrefix });
const engine = await createEngine();

if (command === 'count') {
  const { result } = await runPrompt(
    (ctx) => {
      ctx.defState('visits', { count: 0, seenBy: [] }, { persist: true, scope: 'session' });
      ctx.defTool('visit', 'Records a visit', { type: 'object', properties: {} }, async () => {
        const visits = ctx.getState('visits');
        visits.count += 1;
        visits.seenBy.push(process.pid);
        return visits.count;
      });
      ctx.$`Visit.`;
    },
    { model: mockModel([{ type: 'tool-call', toolName: 'visit' }, { type: 'text', text: 'ok' }]), engine, storage, sessionId: arg },
  );
  await result.text;
  const stored = await storage.get(`state:session:${arg}:visits`);
  process.stdout.write(JSON.stringify(stored.value));
} else if (command === 'update') {
  for (let i = 0; i < Number(arg); i++) {
    const { result } = await runPrompt(
      (ctx) => {
        ctx.defState('total', 0, { persist: true, scope: 'global' });
        ctx.defTool('add', 'Adds one', { type: 'object', properties: {} }, () => ctx.updateState('total', (n) => n + 1));
        ctx.$`Add.`;
      },
      { model: mockModel([{ type: 'tool-call', toolName: 'add' }, { type: 'text', text: 'ok' }]), engine, storage },
    );
    await result.text;
  }
} else {
  throw new Error(`unknown command ${command}`);
}
await storage.close?.();
process.exit(0);
