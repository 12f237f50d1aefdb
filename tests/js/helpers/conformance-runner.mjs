// Registers the storage conformance cases (../storage-conformance.mjs) as node:test tests.
import { test } from 'node:test';

import { cases } from '../storage-conformance.mjs';

/** One test per case, named `<adapter>: <case>`; `setup` is what the cases get (see the suite). */
export function runConformance(adapter, setup) {
  for (const { name, run } of cases) {
    test(`${adapter}: ${name}`, async (t) => {
      const outcome = await run(setup);
      if (typeof outcome === 'string' && outcome.startsWith('skip')) t.skip(outcome.slice(6));
    });
  }
}
