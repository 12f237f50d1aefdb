// The proposal's examples (/work/shared/seeds/lmthing-next-features.md), as far as they use methods
// lmthing has, type-check unchanged; where a value's shape is not known (an approval's context) the
// type argument documented in docs/typescript.md makes it typed.
import { z } from 'zod';
import { PromptContext } from 'lmthing';

const ctx = new PromptContext();

ctx.defValidator('codeOutput', z.object({ code: z.string(), language: z.string() }), async (output) => {
  const errors = output.code.includes('eval(') ? [`${output.language}: eval is not allowed`] : [];
  if (errors.length > 0) return { valid: false, errors, fix: 'Check syntax and try again' };
  return { valid: true };
});

ctx.defGuard('requireAuth', (g) => g.state.authenticated === true, { onFail: 'throw', message: 'Authentication required' });
ctx.defGuard('safeMode', (g) => g.state.dangerousOperationsEnabled === false, { onFail: 'prompt-user', tools: ['fileDelete', 'databaseDrop'] });

ctx.defApproval('destructiveOperation', {
  message: (context) => `About to delete ${context.fileCount} files. Proceed?`,
  options: ['approve', 'deny', 'modify'],
  timeout: 30000,
  defaultAction: 'deny',
  showPreview: true,
});
ctx.defApproval<{ files: string[] }>('destructiveOp', { message: (c) => `About to modify ${c.files.length} files. Continue?`, timeout: 30000 });

ctx.defTool('writeFile', 'Write to file', z.object({ path: z.string(), content: z.string() }), async (args) => {
  await Promise.resolve(`${args.path}: ${args.content.length} bytes`);
  return { success: true };
}, { guards: ['safeMode'], validator: 'codeOutput' });

ctx.defAgent('codeAnalyzer', 'Analyze code quality', z.object({ files: z.array(z.string()) }), async (args, agentCtx) => {
  agentCtx.$`Analyze code quality for: ${args.files.join(', ')}`;
  await Promise.resolve();
}, { model: 'openai:gpt-4o', retry: 'networkRetry', fallback: 'modelFailure' });

// §7 defTracing, as written (a `db` stands in for the seed's).
const db = { query: async (sql: string) => [sql] };
const schema = z.object({ sql: z.string() });
ctx.defTracing('mainTrace', {
  serviceName: 'my-agent',
  exporters: ['console', 'jaeger'],
  sampling: 1.0, // 100% sampling
  attributes: {
    environment: 'production',
    version: '1.0.0'
  }
});

// Automatic span creation
ctx.defTool('complexOperation', 'Complex operation', schema,
  async (args, { trace }) => {
    const span = trace.startSpan('database-query');
    try {
      const result = await db.query(args.sql);
      span.setAttribute('rows', result.length);
      return result;
    } finally {
      span.end();
    }
  }
);
// @ts-expect-error an exporter name lmthing does not have
ctx.defTracing('bad', { exporters: ['zipkin'] });
