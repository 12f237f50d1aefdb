// Run under a pseudo-terminal by human.test.mjs: a prompt run with an approval and no onApproval
// handler, so the approval is asked on the terminal.
import { mockModel, runPrompt } from '../../../dist/node.js';

const model = mockModel([{ type: 'tool-call', toolName: 'deleteFile', args: { path: 'notes.txt' } }, { type: 'text', text: 'ok' }]);
let decisionReason = '';
const { result } = await runPrompt((ctx) => {
  ctx.defApproval('destructive', { message: (c) => `Delete ${c.args.path}?`, timeout: 20_000 });
  ctx.defTool('deleteFile', 'Deletes a file', { type: 'object', properties: { path: { type: 'string' } } }, ({ path }) => `deleted ${path}`, { approval: 'destructive' });
  ctx.$`delete notes.txt`;
}, { model });
for await (const part of result.fullStream) if (part.type === 'approval-decision') decisionReason = part.reason;
const steps = await result.steps;
console.log(`RESULT ${steps[0].toolResults[0].result}; ${decisionReason}`);
process.exit(0);
