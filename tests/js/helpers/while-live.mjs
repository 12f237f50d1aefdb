// Running test code inside a live prompt run (where executePipeline, runWorkflow, resources ... work).
import assert from 'node:assert/strict';

import { mockModel, runPrompt } from '../../../dist/node.js';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };

/**
 * Runs a prompt whose model calls tool `go` once, then says done; `define(ctx)` adds the run's
 * definitions and `go` runs `body(ctx, toolContext)` while the run is live. Resolves with body's
 * value or error, and the run's events.
 */
export async function whileLive(define, body, config = {}) {
  let outcome;
  const events = [];
  const model = mockModel([{ type: 'tool-call', toolName: 'go', args: {} }, { type: 'text', text: 'done' }]);
  const { result } = await runPrompt(async (ctx) => {
    await define(ctx);
    ctx.defTool('go', 'runs the test body', objectSchema, async (_args, toolContext) => {
      try {
        outcome = { value: await body(ctx, toolContext) };
      } catch (error) {
        outcome = { error };
      }
      return 'ok';
    });
    ctx.$`go`;
  }, { model, onEvent: (e) => events.push(e), ...config });
  assert.equal(await result.text, 'done');
  return { ...outcome, events };
}
