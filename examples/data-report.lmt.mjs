// Structured data, a hook and a composite tool: the model reads nested sales data (defData), a hook
// keeps a planning instruction in the system prompt for the first step only, and one "stats" tool
// bundles sub-tools (the model calls it with {calls: [{name, args}, ...]}).
//   npx lmthing run examples/data-report.lmt.mjs
import { tool } from 'lmthing';

export const config = { model: 'openai:gpt-4o-mini', options: { maxSteps: 4 } };

const sales = {
  quarter: 'Q3',
  currency: 'EUR',
  regions: [
    { name: 'North', months: [{ month: 'Jul', revenue: 120 }, { month: 'Aug', revenue: 135 }, { month: 'Sep', revenue: 150 }] },
    { name: 'South', months: [{ month: 'Jul', revenue: 90 }, { month: 'Aug', revenue: 80 }, { month: 'Sep', revenue: 110 }] },
  ],
};

const regionSchema = { type: 'object', properties: { region: { type: 'string' } }, required: ['region'] };
const revenuesOf = (region) => sales.regions.find((r) => r.name === region)?.months.map((m) => m.revenue) ?? [];

export default async function dataReport(ctx) {
  ctx.defSystem('role', 'You write short sales reports.');
  ctx.defSystem('plan', 'First compute the figures with the stats tool; do not do arithmetic yourself.');
  const data = ctx.defData('sales', sales);
  // The planning instruction is only for the first step: afterwards the system prompt keeps just the
  // role (and the data, which is a variable, not a system part).
  ctx.defHook(({ stepNumber }) => (stepNumber === 0 ? undefined : { activeSystems: ['role'] }));
  ctx.defTool('stats', 'Statistics over the sales data', [
    tool('total', 'Total revenue of a region', regionSchema, async ({ region }) => revenuesOf(region).reduce((a, b) => a + b, 0)),
    tool('growth', 'Percent change from the first to the last month of a region', regionSchema, async ({ region }) => {
      const r = revenuesOf(region);
      return r.length < 2 ? null : Math.round(((r.at(-1) - r[0]) / r[0]) * 100);
    }),
  ]);
  ctx.$`Write a two-sentence report on the ${data} data: total revenue and growth per region.`;
}

/** Offline script: step 1 calls the composite tool with four sub-calls, step 2 reports. */
export const mock = [
  {
    type: 'tool-call',
    toolName: 'stats',
    args: {
      calls: [
        { name: 'total', args: { region: 'North' } },
        { name: 'growth', args: { region: 'North' } },
        { name: 'total', args: { region: 'South' } },
        { name: 'growth', args: { region: 'South' } },
      ],
    },
  },
  { type: 'text', text: 'In Q3 North earned 405 EUR (+25% from July to September) and South 280 EUR (+22%). North leads on both revenue and growth.' },
];
