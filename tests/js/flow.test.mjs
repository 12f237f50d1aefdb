// defPipeline, defParallel and defBatcher through the package (docs/orchestration.md): the
// proposal's examples as written (with mockModel and an offline embedder for the models), typed
// errors (PipelineError, ParallelError, BatchError), cancellation of the tasks a group no longer
// needs, 1,000 concurrent ctx.batch calls, and strict config.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BatchError, ConfigError, mockModel, NotRunningError, offlineEmbedding, ParallelError, PipelineError, runPrompt,
} from '../../dist/node.js';
import { whileLive } from './helpers/while-live.mjs';

const objectSchema = { type: 'object', properties: {}, additionalProperties: true };
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => {
    clearTimeout(timer);
    reject(new Error('aborted'));
  });
});


// ------------------------------------------------------------------------------------ pipelines

test("the proposal's documentProcessor pipeline runs as written; each stage gets the previous output", async () => {
  const stored = [];
  const extractText = async (input) => `text of ${input.file}: Hello  World. Second   part.`;
  const cleanText = (text) => text.replace(/\s+/g, ' ');
  const chunkText = (text) => text.split('. ');
  const generateEmbeddings = (chunks) => chunks.map((chunk) => ({ chunk, vector: [chunk.length] }));
  const storeInVectorDB = (embedded) => {
    stored.push(...embedded);
    return { stored: embedded.length };
  };
  const { value, error, events } = await whileLive(
    (ctx) => {
      // --- as in lmthing-next-features.md §2 ---
      ctx.defPipeline('documentProcessor', [
        { stage: 'extract', fn: extractText },
        { stage: 'clean', fn: cleanText },
        { stage: 'chunk', fn: chunkText },
        { stage: 'embed', fn: generateEmbeddings },
        { stage: 'store', fn: storeInVectorDB }
      ]);
    },
    // Execute pipeline
    (ctx) => ctx.executePipeline('documentProcessor', { file: 'doc.pdf' }),
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(value, { stored: 2 });
  assert.deepEqual(stored.map((s) => s.chunk), ['text of doc.pdf: Hello World', 'Second part.']);
  const stages = events.filter((e) => e.type.startsWith('pipeline-stage')).map((e) => `${e.type.slice(15)}:${e.stage}`);
  assert.deepEqual(stages, ['start:extract', 'finish:extract', 'start:clean', 'finish:clean', 'start:chunk', 'finish:chunk', 'start:embed', 'finish:embed', 'start:store', 'finish:store']);
});

test('a failing stage rejects with PipelineError naming the stage, after its retries; its context says the attempt', async () => {
  const attempts = [];
  const { error, events } = await whileLive(
    (ctx) => {
      ctx.defPipeline('p', [
        { stage: 'parse', fn: (input, stage) => ({ parsed: input, index: stage.index }) },
        {
          stage: 'enrich',
          retries: 1,
          fn: (input, stage) => {
            attempts.push(stage.attempt);
            throw new Error('enricher offline');
          },
        },
        { stage: 'never', fn: () => assert.fail('a stage after a failure must not run') },
      ]);
    },
    (ctx) => ctx.executePipeline('p', 'x'),
  );
  assert.ok(error instanceof PipelineError, String(error));
  assert.equal(error.code, 'PIPELINE_STAGE_FAILED');
  assert.equal(error.pipeline, 'p');
  assert.equal(error.stage, 'enrich');
  assert.match(error.message, /pipeline "p": stage "enrich" failed: enricher offline/);
  assert.deepEqual(attempts, [1, 2]);
  assert.equal(events.filter((e) => e.type === 'retry' && e.toolName === 'p.enrich').length, 1);
});

// ------------------------------------------------------------------------------- parallel groups

test("the proposal's multiModelConsensus runs as written: consensus of the two that answered (minSuccess 2)", async () => {
  const prompt = 'What is the capital of France?';
  const seen = [];
  const runWithModel = async (model, question) => {
    seen.push([model, question]);
    if (model.startsWith('gemini')) throw new Error('quota exceeded');
    await sleep(model === 'gpt-4o' ? 5 : 15);
    return { answer: 'Paris' };
  };
  const { value, error, events } = await whileLive(
    (ctx) => {
      // --- as in lmthing-next-features.md §2 ---
      ctx.defParallel('multiModelConsensus', {
        gpt4: async () => runWithModel('gpt-4o', prompt),
        claude: async () => runWithModel('claude-3-5-sonnet', prompt),
        gemini: async () => runWithModel('gemini-1.5-pro', prompt)
      }, {
        aggregation: 'consensus', // or 'all', 'first', 'majority'
        timeout: 60000,
        minSuccess: 2 // At least 2 must succeed
      });
    },
    (ctx) => ctx.executeParallel('multiModelConsensus'),
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(value, { answer: 'Paris' });
  assert.equal(seen.length, 3);
  const finish = events.find((e) => e.type === 'parallel-finish');
  assert.deepEqual(finish.tasks, { gpt4: 'success', claude: 'success', gemini: 'error' });
});

test("'first' resolves with the fastest success and aborts the other tasks", async () => {
  let running = 0;
  let most = 0;
  const aborted = [];
  const task = (name, ms) => async (input, { abortSignal }) => {
    running += 1;
    most = Math.max(most, running);
    abortSignal.addEventListener('abort', () => aborted.push(name));
    try {
      await sleep(ms, abortSignal);
      return `${name}:${input.q}`;
    } finally {
      running -= 1;
    }
  };
  const { value, error, events } = await whileLive(
    (ctx) => ctx.defParallel('race', { slow: task('slow', 5000), fast: task('fast', 10), slower: task('slower', 8000) }, { aggregation: 'first' }),
    (ctx) => ctx.executeParallel('race', { q: 'x' }),
  );
  assert.equal(error, undefined, error?.stack);
  assert.equal(value, 'fast:x');
  assert.equal(most, 3); // all three ran at once
  assert.deepEqual(aborted.sort(), ['slow', 'slower']);
  const finish = events.find((e) => e.type === 'parallel-finish');
  assert.equal(finish.winner, 'fast');
  assert.deepEqual(finish.tasks, { slow: 'cancelled', fast: 'success', slower: 'cancelled' });
});

test('minSuccess unmet is a ParallelError listing each task error; the timeout cancels stragglers', async () => {
  let aborted = false;
  const { error } = await whileLive(
    (ctx) => ctx.defParallel('group', {
      ok: () => 1,
      broken: () => {
        throw new Error('broken task');
      },
      stuck: async (input, { abortSignal }) => {
        abortSignal.addEventListener('abort', () => {
          aborted = true;
        });
        await sleep(60000, abortSignal);
      },
    }, { aggregation: 'all', minSuccess: 2, timeout: 200 }),
    (ctx) => ctx.executeParallel('group'),
  );
  assert.ok(error instanceof ParallelError, String(error));
  assert.equal(error.code, 'PARALLEL_MIN_SUCCESS');
  assert.equal(error.parallel, 'group');
  assert.equal(error.errors.broken.message, 'broken task');
  assert.equal(error.errors.stuck.kind, 'timeout');
  assert.ok(aborted, 'the straggler was aborted');
  assert.match(error.message, /1 of 3 tasks succeeded, minSuccess is 2/);
});

test("majority with a compare function; 'all' gives each result by task", async () => {
  const { value, error } = await whileLive(
    (ctx) => {
      ctx.defParallel('vote', { a: () => 'Yes', b: () => 'yes!', c: () => 'no' }, {
        aggregation: 'majority',
        compare: (x, y) => x.toLowerCase().replace(/\W/g, '') === y.toLowerCase().replace(/\W/g, ''),
      });
      ctx.defParallel('both', { left: (n) => n + 1, right: (n) => n * 2 });
    },
    async (ctx) => [await ctx.executeParallel('vote'), await ctx.executeParallel('both', 5)],
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(value, ['Yes', { left: 6, right: 10 }]);
});

test('a compare function that throws decides the group: PARALLEL_COMPARE_FAILED naming the group, parallel-finish with the error, running tasks cancelled', async () => {
  let late = 'never cancelled';
  const { error, events } = await whileLive(
    (ctx) => {
      ctx.defParallel('vote', {
        a: () => 1,
        b: () => 2,
        c: (_input, task) => new Promise((resolve) => {
          const timer = setTimeout(() => resolve((late = 'ran on')), 2_000);
          task.abortSignal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve((late = 'cancelled'));
          });
        }),
      }, {
        aggregation: 'majority',
        compare: () => {
          throw new Error('cmp boom');
        },
      });
    },
    (ctx) => ctx.executeParallel('vote'),
  );
  assert.ok(error instanceof ParallelError, String(error));
  assert.equal(error.code, 'PARALLEL_COMPARE_FAILED');
  assert.equal(error.parallel, 'vote');
  assert.match(error.message, /parallel "vote".*the compare function failed: .*cmp boom/);
  const finish = events.find((e) => e.type === 'parallel-finish');
  assert.equal(finish?.status, 'error');
  assert.equal(finish.tasks.c, 'cancelled');
  assert.equal(late, 'cancelled');
});

test("Integration Example 2: researchPipeline (parallel researchers, dedupe, synthesizer, memory) as written", async () => {
  const researched = [];
  const deduplicateFindings = (byTask) => [...new Set(Object.values(byTask).flatMap((text) => text.split('; ')))];
  const { value, error } = await whileLive(
    (ctx) => {
      ctx.defMemory('sharedKnowledge', 'vector', {
        maxSize: 10000,
        embeddingModel: offlineEmbedding({ dimensions: 64 }), // the seed's 'text-embedding-3-small', offline
      });
      ctx.defAgent('researcher', 'Research specialist', { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
        async (args, agentCtx) => {
          researched.push(args.topic);
          return agentCtx.$`Research: ${args.topic}`;
        }, { model: mockModel([{ type: 'text', text: 'agents plan; agents use tools' }]) });
      ctx.defAgent('synthesizer', 'Synthesis specialist', { type: 'object', properties: { findings: { type: 'array', items: { type: 'string' } } }, required: ['findings'] },
        async (args, agentCtx) => agentCtx.$`Synthesize findings: ${args.findings.join('\n')}`,
        { model: mockModel([{ type: 'text', text: 'Agents will plan and use tools.' }]) });

      // Parallel execution with consensus
      ctx.defParallel('multiResearch', {
        web: () => ctx.runAgent('researcher', { topic: 'web sources' }),
        academic: () => ctx.runAgent('researcher', { topic: 'academic papers' }),
        patents: () => ctx.runAgent('researcher', { topic: 'patents' })
      }, {
        aggregation: 'all',
        timeout: 120000
      });

      // Pipeline for processing
      ctx.defPipeline('researchPipeline', [
        { stage: 'gather', fn: (input) => ctx.executeParallel('multiResearch', input) },
        { stage: 'deduplicate', fn: deduplicateFindings },
        { stage: 'synthesize', fn: (findings) => ctx.runAgent('synthesizer', { findings }) },
        { stage: 'store', fn: (synthesis) => ctx.memory('sharedKnowledge').store(synthesis) }
      ]);
    },
    async (ctx) => {
      const stored = await ctx.executePipeline('researchPipeline', 'Future of AI Agents');
      return { stored, found: await ctx.memory('sharedKnowledge').search('plan and use tools', { limit: 1 }) };
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(researched.sort(), ['academic papers', 'patents', 'web sources']);
  assert.equal(value.found[0].content, 'Agents will plan and use tools.');
});

// ------------------------------------------------------------------------------------- batchers

test('1,000 concurrent ctx.batch calls make ceil(1000 / maxSize) processor calls; each caller gets its own result', async () => {
  const batches = [];
  const { value, error, events } = await whileLive(
    (ctx) => {
      // --- as in lmthing-next-features.md §8, with a local embedder ---
      const generateEmbeddings = async (texts) => texts.map((text) => [text.length]);
      ctx.defBatcher('embeddingBatcher', {
        maxSize: 100,
        maxWait: 100, // ms
        processor: async (batch) => {
          batches.push(batch.length);
          return await generateEmbeddings(batch.map(b => b.text));
        }
      });
    },
    async (ctx) => {
      const embedding = await ctx.batch('embeddingBatcher', { text: 'hello' });
      const many = await Promise.all(Array.from({ length: 1000 }, (_, i) => ctx.batch('embeddingBatcher', { text: 'x'.repeat(i % 7) })));
      return { embedding, many };
    },
  );
  assert.equal(error, undefined, error?.stack);
  assert.deepEqual(value.embedding, [5]);
  assert.equal(value.many.length, 1000);
  value.many.forEach((v, i) => assert.deepEqual(v, [i % 7]));
  // The lone 'hello' waited maxWait alone; the 1,000 made ten full batches.
  assert.deepEqual(batches, [1, ...Array(10).fill(100)]);
  assert.equal(events.filter((e) => e.type === 'batch-flush').length, 11);
});

test('a processor that throws or returns the wrong number of results fails every caller of the batch with BatchError', async () => {
  const { value, error } = await whileLive(
    (ctx) => {
      ctx.defBatcher('throws', { maxSize: 3, processor: () => {
        throw new Error('service down');
      } });
      ctx.defBatcher('short', { maxSize: 3, processor: (items) => items.slice(1) });
    },
    async (ctx) => {
      const settle = (name) => Promise.allSettled([1, 2, 3].map((i) => ctx.batch(name, i)));
      return { throws: await settle('throws'), short: await settle('short') };
    },
  );
  assert.equal(error, undefined, error?.stack);
  for (const outcome of value.throws) {
    assert.ok(outcome.reason instanceof BatchError, String(outcome.reason));
    assert.equal(outcome.reason.code, 'BATCH_FAILED');
    assert.equal(outcome.reason.batcher, 'throws');
    assert.match(outcome.reason.message, /the processor failed: service down/);
  }
  for (const outcome of value.short) {
    assert.equal(outcome.reason.code, 'BATCH_RESULT_COUNT');
    assert.match(outcome.reason.message, /returned 2 results for a batch of 3 items/);
  }
});

// ------------------------------------------------------------------------------------ bad input

test('bad definitions are ConfigErrors naming the definition and the field; executing before the run is NotRunningError', async () => {
  await runPrompt(async (ctx) => {
    assert.throws(() => ctx.defPipeline('p', []), (e) => e instanceof ConfigError && /defPipeline\("p"\).*non-empty array/.test(e.message));
    // A pipeline has no options: a third argument would be lost.
    assert.throws(() => ctx.defPipeline('p', [{ stage: 's', fn: () => 1 }], { timeout: 10 }), /defPipeline\("p"\): takes \(name, stages\) only, got 3 arguments/);
    assert.throws(() => ctx.defPipeline('p', [{ stage: 'a', fn: () => 1 }, { stage: 'a', fn: () => 2 }]), /stage "a" is already used by stages\[0\]/);
    assert.throws(() => ctx.defPipeline('p', [{ stage: 'a', fn: () => 1, timout: 5 }]), /timout.*did you mean 'timeout'/);
    assert.throws(() => ctx.defPipeline('p', [{ stage: 'a' }]), /'fn' is required/);
    assert.throws(() => ctx.defParallel('g', { a: 'not a function' }), /task "a" must be a function/);
    assert.throws(() => ctx.defParallel('g', { a: () => 1 }, { aggregation: 'majorty' }), /'aggregation' must be one of "all", "first", "majority", "consensus", got the string "majorty" \(did you mean 'majority'\?\)$/);
    assert.throws(() => ctx.defParallel('g', { a: () => 1 }, { minSuccess: 2 }), /'minSuccess' is 2 but there are only 1 tasks/);
    assert.throws(() => ctx.defParallel('g', { a: () => 1 }, { timeot: 5 }), /did you mean 'timeout'/);
    assert.throws(() => ctx.defBatcher('b', { maxSize: 0, processor: () => [] }), /'maxSize' must be an integer from 1/);
    assert.throws(() => ctx.defBatcher('b', { maxSize: 5 }), /'processor' is required/);
    ctx.defPipeline('ok', [{ stage: 'a', fn: () => 1 }]);
    await assert.rejects(ctx.executePipeline('nope'), /unknown pipeline "nope" \(defined: ok\)/);
    await assert.rejects(ctx.executePipeline('ok'), NotRunningError);
    await assert.rejects(ctx.batch('b', 1), /unknown batcher "b" \(defined: none\)/);
  }, { model: mockModel([{ type: 'text', text: 'ok' }]) });
});
