// useTemplate's values are checked against the variables given to defTemplate (a `const` type
// parameter keeps their literal types without writing `as const`).
import { PromptContext } from 'lmthing';

const ctx = new PromptContext();

const review = ctx.defTemplate('codeReviewTemplate', 'Analyze {{language}} ({{securityLevel}}):\n{{code}}', {
  language: { type: 'string', default: 'typescript' },
  qualityFocus: { type: 'number', default: 7 },
  securityLevel: { type: 'enum', values: ['basic', 'strict'], default: 'basic' },
  performanceCheck: { type: 'boolean', default: true },
  audience: { type: 'enum', values: ['junior', 'senior'] },
});

export const ok: Promise<string> = ctx.useTemplate(review, { code: 'x', securityLevel: 'strict', audience: 'senior', qualityFocus: 9 });
// Declared `as const` elsewhere and passed in: the same checks.
const variables = { n: { type: 'number' } } as const;
const counted = ctx.defTemplate('counted', 'n = {{n}}', variables);
void ctx.useTemplate(counted, { n: 3 });
// By name: values are any text, number or boolean.
void ctx.useTemplate('codeReviewTemplate', { code: 'x', securityLevel: 'anything' });

// @ts-expect-error -- an enum value outside its values
void ctx.useTemplate(review, { code: 'x', audience: 'senior', securityLevel: 'paranoid' });
// @ts-expect-error -- a number variable given a string
void ctx.useTemplate(review, { code: 'x', audience: 'senior', qualityFocus: 'high' });
// @ts-expect-error -- audience has no default: it is required
void ctx.useTemplate(review, { code: 'x' });
// @ts-expect-error -- n is required
void ctx.useTemplate(counted, {});
// @ts-expect-error -- a boolean variable given a string
void ctx.useTemplate(review, { code: 'x', audience: 'junior', performanceCheck: 'yes' });
