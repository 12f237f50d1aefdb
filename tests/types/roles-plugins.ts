// defRole's config, assumeRole, L.role and the plugin API are typed: wrong field types and plugin
// objects that miss their parts do not compile.
import { L, PromptContext, type PluginApi, type PromptPluginObject } from 'lmthing';

const ctx = new PromptContext();

const senior = ctx.defRole('seniorDeveloper', {
  capabilities: ['code-review', 'architecture-design', 'mentoring'],
  constraints: { maxTokens: 100000, allowedTools: ['readFile', 'analyzeCode'], requiresApproval: ['deployCode'] },
  personality: { tone: 'professional', verbosity: 'detailed', teachingStyle: 'socratic' },
  systemPrompt: 'You are a senior software engineer...',
});
export const assumed: Promise<void> = ctx.assumeRole(senior);
void ctx.assumeRole('seniorDeveloper');
// @ts-expect-error maxTokens is a number
ctx.defRole('x', { constraints: { maxTokens: '100' } });
// @ts-expect-error capabilities is a list of strings
ctx.defRole('y', { capabilities: 'all' });

export function* agent() {
  yield* L.role('seniorDeveloper');
}

const logging: PromptPluginObject = {
  name: 'logging',
  version: '1.0.0',
  install: (c: PromptContext, api: PluginApi) => {
    c.defHook(({ stepNumber }) => {
      void stepNumber;
      return {};
    });
    api.method('count', () => 1);
    api.interceptTool(async (call, next) => next(call.args));
    api.interceptModel(async ({ request }, next) => next(request));
  },
};
void ctx.defPlugin('logging', logging);
void ctx.defPlugin('fn', (c) => {
  c.def('x', 'y');
});
export const methods = ctx.plugins.logging?.count;
// @ts-expect-error a plugin object needs install
const broken: PromptPluginObject = { name: 'b', version: '1.0.0' };
void broken;
