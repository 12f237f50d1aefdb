// defTemplate / useTemplate through the package (docs/templates-roles-plugins.md): the seed's
// example as written, every variable type, includes, def references, rendering from a tool while the
// run is live, and each bad input as a TemplateError naming the template and the variable.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfigError, L, LmthingError, mockModel, PromptContext, run, runPrompt, TemplateError } from '../../dist/node.js';

const object = { type: 'object', properties: {} };

/** The user messages the model saw in its first request. */
function userMessages(model) {
  return model.calls[0].messages.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('')));
}

test("the seed's codeReviewTemplate renders with defaults and the given values, as a user message in order", async () => {
  const model = mockModel([{ type: 'text', text: 'reviewed' }]);
  const sourceCode = 'const x = eval(input);';
  let rendered;
  const { result } = await runPrompt(
    async (ctx) => {
      ctx.$`Before the template`;
      ctx.defTemplate('codeReviewTemplate', `
Analyze the following {{language}} code for:
- Code quality (1-10): {{qualityFocus}}
- Security issues: {{securityLevel}}
- Performance: {{performanceCheck}}

Code:
{{code}}

Provide detailed feedback.
`, {
        language: { type: 'string', default: 'typescript' },
        qualityFocus: { type: 'number', default: 7 },
        securityLevel: { type: 'enum', values: ['basic', 'strict'], default: 'basic' },
        performanceCheck: { type: 'boolean', default: true },
      });

      // Use template (not awaited, as in the proposal)
      rendered = ctx.useTemplate('codeReviewTemplate', {
        code: sourceCode,
        securityLevel: 'strict',
      });
      ctx.$`After the template`;
    },
    { model },
  );
  assert.equal(await result.text, 'reviewed');
  const expected = '\nAnalyze the following typescript code for:\n- Code quality (1-10): 7\n- Security issues: strict\n- Performance: true\n\nCode:\nconst x = eval(input);\n\nProvide detailed feedback.\n';
  assert.equal(await rendered, expected);
  assert.deepEqual(userMessages(model), ['Before the template', expected, 'After the template']);
});

test('includes, number / boolean / enum values and def references render; the typed reference works as a name', async () => {
  const model = mockModel([{ type: 'text', text: 'ok' }]);
  await runPrompt(
    async (ctx) => {
      ctx.def('city', 'Paris');
      ctx.defData('prefs', { units: 'metric', days: 3 });
      ctx.defTemplate('footer', '-- {{signature}}', { signature: { type: 'string', default: 'bot' } });
      const ask = ctx.defTemplate('ask', 'Weather in {{city}} for {{days}} days, detail {{detail}}, alerts {{alerts}}\n{{prefs}}\n{{> footer}}', {
        days: { type: 'number' },
        detail: { type: 'enum', values: ['low', 'high'] },
        alerts: { type: 'boolean', default: false },
      });
      assert.equal(String(ask), '<ask>');
      const text = await ctx.useTemplate(ask, { days: 2, detail: 'high', signature: 'Ada' });
      assert.equal(text, 'Weather in Paris for 2 days, detail high, alerts false\nunits: metric\ndays: 3\n-- Ada');
    },
    { model },
  ).text;
  assert.equal(userMessages(model).length, 1);
});

test('each bad input rejects with a TemplateError naming the template and the variable', async () => {
  const ctx = new PromptContext();
  ctx.defTemplate('review', '{{language}} {{level}} {{code}}', {
    language: { type: 'string', default: 'ts' },
    level: { type: 'enum', values: ['basic', 'strict'], default: 'basic' },
    score: { type: 'number', default: 1 },
  });
  ctx.defTemplate('needsCode', 'x {{code}}', { code: { type: 'string' } });
  ctx.defTemplate('a', 'A {{> b}}');
  ctx.defTemplate('b', 'B {{> a}}');
  ctx.defTemplate('broken', 'x {{> nowhere}}');
  const other = new PromptContext();
  other.defTemplate('syntax', 'x {{ oops');

  const cases = [
    [() => ctx.useTemplate('review', { code: 'x', levl: 'strict' }), 'TEMPLATE_UNKNOWN_VARIABLE', 'review', 'levl', /did you mean "level"/],
    [() => ctx.useTemplate('needsCode', {}), 'TEMPLATE_MISSING_VARIABLE', 'needsCode', 'code', /"code" \(string\) is required/],
    [() => ctx.useTemplate('review', {}), 'TEMPLATE_MISSING_VARIABLE', 'review', 'code', /is required/],
    [() => ctx.useTemplate('review', { code: 'x', score: 'high' }), 'TEMPLATE_WRONG_TYPE', 'review', 'score', /must be a number, got "high"/],
    // NaN and Infinity would cross as null, a missing value: named as what they are.
    [() => ctx.useTemplate('review', { code: 'x', score: Number.NaN }), 'TEMPLATE_WRONG_TYPE', 'review', 'score', /"score" must be a finite number, got NaN$/],
    [() => ctx.useTemplate('review', { code: 'x', score: -Infinity }), 'TEMPLATE_WRONG_TYPE', 'review', 'score', /must be a finite number, got -Infinity$/],
    [() => ctx.useTemplate('review', { code: 'x', level: 'paranoid' }), 'TEMPLATE_BAD_ENUM_VALUE', 'review', 'level', /one of "basic", "strict"/],
    [() => ctx.useTemplate('reveiw', {}), 'TEMPLATE_UNKNOWN', 'reveiw', undefined, /did you mean "review"/],
    [() => ctx.useTemplate('broken', {}), 'TEMPLATE_UNKNOWN', 'broken', undefined, /includes "nowhere"/],
    [() => ctx.useTemplate('a', {}), 'TEMPLATE_INCLUDE_CYCLE', 'a', undefined, /a > b > a/],
    [() => other.useTemplate('syntax', {}), 'TEMPLATE_SYNTAX', 'syntax', undefined, /never closed/],
  ];
  for (const [call, code, template, variable, message] of cases) {
    await assert.rejects(call(), (err) => {
      assert.ok(err instanceof TemplateError && err instanceof LmthingError, `${code}: ${err}`);
      assert.equal(err.code, code);
      assert.equal(err.template, template);
      assert.equal(err.variable, variable);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('a template error fails the run before any model call, even when useTemplate is not awaited', async () => {
  const model = mockModel([{ type: 'text', text: 'never' }]);
  await assert.rejects(
    runPrompt(
      (ctx) => {
        ctx.defTemplate('t', 'n = {{n}}', { n: { type: 'number' } });
        ctx.useTemplate('t', { n: 'seven' });
      },
      { model },
    ),
    (err) => err instanceof TemplateError && err.code === 'TEMPLATE_WRONG_TYPE' && err.variable === 'n',
  );
  assert.equal(model.calls.length, 0);
});

test('bad declarations are ConfigErrors at the defTemplate call', () => {
  const ctx = new PromptContext();
  assert.throws(() => ctx.defTemplate('t', 'x', { n: { type: 'integer' } }), (e) => e instanceof ConfigError && /variable "n"/.test(e.message) && /'string', 'number', 'boolean' or 'enum'|string.*number.*boolean.*enum/.test(e.message));
  assert.throws(() => ctx.defTemplate('t', 'x', { n: { type: 'enum' } }), /an enum needs "values"/);
  assert.throws(() => ctx.defTemplate('t', 'x', { n: { type: 'number', default: '7' } }), /the default must be a number/);
  assert.throws(() => ctx.defTemplate('t', 'x', { n: { type: 'enum', values: ['a'], default: 'b' } }), /the default must be one of "a"/);
  assert.throws(() => ctx.defTemplate('t', 'x', { n: { type: 'string', deflt: 'x' } }), /did you mean 'default'|did you mean "default"/);
  assert.throws(() => ctx.defTemplate('t', 42), /the template must be a string/);
  assert.throws(() => ctx.defTemplate('t', 'x', { n: { type: 'enum', values: ['a', 'b', 'a'] } }), /values\[2\] \("a"\) is listed twice/);
  assert.throws(() => ctx.defTemplate('t', 'x', { 'bad name': { type: 'string' } }), /variable "bad name": a placeholder name must match/);
  assert.throws(() => ctx.useTemplate('t', 'values'), ConfigError);
});

test('a tool renders a template while the run is live (sub-agents see their parent\'s templates)', async () => {
  const model = mockModel([
    { type: 'tool-call', toolName: 'render', args: {} },
    { type: 'tool-call', toolName: 'helper', args: {} },
    { type: 'text', text: 'child done' },
    { type: 'text', text: 'done' },
  ]);
  const seen = [];
  await runPrompt(
    (ctx) => {
      ctx.defTemplate('hello', 'Hello {{who}}', { who: { type: 'string', default: 'world' } });
      ctx.defTool('render', 'renders', object, async () => {
        seen.push(await ctx.useTemplate('hello', { who: 'tool' }));
        return 'ok';
      });
      ctx.defAgent('helper', 'a helper', object, async (_args, child) => {
        seen.push(await child.useTemplate('hello', {}));
        child.$`go`;
      });
      ctx.$`start`;
    },
    { model },
  ).text;
  assert.deepEqual(seen, ['Hello tool', 'Hello world']);
});

test('directive agents define templates in `define` and render them from a tool while the run is live', async () => {
  const model = mockModel([{ type: 'tool-call', toolName: 'greet', args: { who: 'Ada' } }, { type: 'text', text: 'sent' }]);
  let defined;
  const rendered = [];
  const result = await run(
    function* () {
      yield* L.tool('greet', 'Greets someone', { type: 'object', properties: { who: { type: 'string' } } }, async ({ who }) => {
        const text = await defined.renderTemplate('greeting', { who });
        rendered.push(text);
        return text;
      });
      yield* L.user`Greet Ada`;
      return `${yield* L.reply}`;
    },
    {
      models: { default: model },
      define: (ctx) => {
        defined = ctx;
        ctx.defTemplate('greeting', 'Dear {{who}}, {{> closing}}', { who: { type: 'string' } });
        ctx.defTemplate('closing', 'kind regards');
      },
    },
  );
  assert.equal(result, 'sent');
  assert.deepEqual(rendered, ['Dear Ada, kind regards']);
  // The model saw the rendered text as the tool's result.
  const toolMessage = model.calls[1].messages.find((m) => m.role === 'tool');
  assert.match(JSON.stringify(toolMessage), /Dear Ada, kind regards/);
});
