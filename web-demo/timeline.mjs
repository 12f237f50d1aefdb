// The agent's timeline, built from runPrompt's `result.fullStream`: one card per step with the
// model's text (streamed, as it arrives, before the tools it calls) and each tool call once, its
// row updated in place as it is asked, decided, run and answered.

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const STATUS_LABEL = { running: 'running', awaiting: 'waiting for you', done: 'done', failed: 'failed', denied: 'denied', stopped: 'stopped' };
const DECISION_LABEL = { approve: 'approved', modify: 'modified', deny: 'denied' };

/** About 4 characters per token: what a result adds to the model's next request. */
const approxTokens = (value) => Math.ceil((typeof value === 'string' ? value : JSON.stringify(value) ?? '').length / 4);
const ms = (value) => (value < 1000 ? `${Math.max(0, Math.round(value))} ms` : `${(value / 1000).toFixed(1)} s`);

/** A one-line summary of a tool's arguments (a write's content is summarized, not shown). */
function argsSummary(toolName, args) {
  if (args && typeof args === 'object' && 'path' in args) {
    const extra = typeof args.content === 'string' ? ` (${args.content.replace(/\n$/, '').split('\n').length} lines)` : '';
    return `${args.path}${extra}`;
  }
  const text = JSON.stringify(args ?? {});
  return text === '{}' ? '' : text.length > 80 ? text.slice(0, 77) + '…' : text;
}

function resultSummary(result) {
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  return text.length > 140 ? text.slice(0, 137) + '…' : text;
}

export class Timeline {
  /** `list` is the <ol> to fill; `now` the clock (ms). */
  constructor(list, now = () => performance.now()) {
    this.list = list;
    this.now = now;
    this.clear();
  }

  clear() {
    this.list.replaceChildren();
    this.steps = new Map();
    this.tools = new Map();
    this.startedAt = this.now();
  }

  /** The card of step `n`, created on its first part. */
  step(n) {
    let step = this.steps.get(n);
    if (step) return step;
    const item = el('li', 'step');
    item.dataset.step = String(n);
    const header = el('header', 'step-header');
    header.append(el('span', 'step-title', `Step ${n + 1}`), el('span', 'step-usage'));
    const narration = el('p', 'narration');
    narration.dataset.kind = 'text';
    narration.hidden = true;
    const tools = el('ul', 'tools');
    item.append(header, narration, tools);
    this.list.append(item);
    step = { item, header, narration, tools };
    this.steps.set(n, step);
    return step;
  }

  /** Applies one part of `result.fullStream`. */
  apply(part) {
    switch (part.type) {
      case 'text-delta': {
        const { narration } = this.step(part.stepNumber);
        narration.hidden = false;
        narration.textContent += part.text;
        break;
      }
      case 'tool-call':
        this.addTool(part);
        break;
      case 'approval-request':
        if (part.toolCallId) this.updateTool(part.toolCallId, { status: 'awaiting', waitingSince: this.now() });
        break;
      case 'approval-decision':
        if (part.toolCallId) this.decide(part);
        break;
      case 'tool-result':
        this.finishTool(part.toolCallId, 'done', part.result);
        break;
      case 'tool-error':
        this.finishTool(part.toolCallId, this.tools.get(part.toolCallId)?.decision === 'deny' ? 'denied' : 'failed', part.error);
        break;
      case 'step-finish': {
        const { header, item } = this.step(part.stepNumber);
        const usage = part.usage ?? {};
        header.querySelector('.step-usage').textContent = `${usage.inputTokens ?? 0} in · ${usage.outputTokens ?? 0} out tokens`;
        item.classList.add('finished');
        break;
      }
    }
  }

  addTool(part) {
    const { tools } = this.step(part.stepNumber);
    const row = el('li', 'tool');
    row.dataset.kind = 'tool';
    row.dataset.tool = part.toolName;
    row.dataset.callId = part.toolCallId;
    const line = el('div', 'tool-line');
    line.append(el('span', 'tool-icon'), el('code', 'tool-name', part.toolName), el('span', 'tool-args', argsSummary(part.toolName, part.args)), el('span', 'badges'), el('span', 'tool-meta'));
    row.append(line, el('div', 'tool-detail'));
    tools.append(row);
    this.tools.set(part.toolCallId, { row, startedAt: this.now(), status: 'running' });
    this.render(part.toolCallId);
  }

  updateTool(id, changes) {
    const tool = this.tools.get(id);
    if (!tool) return;
    Object.assign(tool, changes);
    this.render(id);
  }

  decide(part) {
    const tool = this.tools.get(part.toolCallId);
    if (!tool) return;
    const waited = tool.waitingSince === undefined ? undefined : this.now() - tool.waitingSince;
    // The tool's own run time starts once it is allowed to run.
    this.updateTool(part.toolCallId, { decision: part.action, reason: part.reason, waited, startedAt: this.now(), status: part.action === 'deny' ? 'denied' : 'running' });
  }

  finishTool(id, status, outcome) {
    const tool = this.tools.get(id);
    if (!tool) return;
    const ran = status === 'denied' ? undefined : this.now() - tool.startedAt;
    this.updateTool(id, { status, outcome, ran, resultTokens: approxTokens(outcome) });
  }

  render(id) {
    const tool = this.tools.get(id);
    const { row } = tool;
    row.dataset.status = tool.status;
    if (tool.decision) row.dataset.decision = tool.decision;
    const badges = row.querySelector('.badges');
    badges.replaceChildren();
    if (tool.decision) {
      const chip = el('span', `chip decision-${tool.decision}`, DECISION_LABEL[tool.decision] ?? tool.decision);
      if (tool.reason) chip.title = tool.reason;
      badges.append(chip);
    }
    if (!(tool.status === 'denied' && tool.decision === 'deny')) badges.append(el('span', `chip status-${tool.status}`, STATUS_LABEL[tool.status] ?? tool.status));
    const meta = [];
    if (tool.waited !== undefined) meta.push(`waited ${ms(tool.waited)}`);
    if (tool.ran !== undefined) meta.push(ms(tool.ran));
    if (tool.resultTokens !== undefined && tool.status !== 'stopped') meta.push(`≈${tool.resultTokens} tok`);
    row.querySelector('.tool-meta').textContent = meta.join(' · ');
    row.querySelector('.tool-detail').textContent = tool.outcome === undefined ? '' : resultSummary(tool.outcome);
  }

  /** The run ended: a footer with the totals (the answer is already the last step's text). */
  finish(part, steps) {
    for (const step of this.steps.values()) if (step.tools.children.length === 0 && !step.narration.hidden) step.item.classList.add('answer');
    const usage = part.usage ?? {};
    const footer = el('li', 'outcome done', `Finished in ${steps} step${steps === 1 ? '' : 's'} · ${usage.inputTokens ?? 0} in · ${usage.outputTokens ?? 0} out tokens · ${ms(this.now() - this.startedAt)}`);
    footer.dataset.kind = 'finish';
    this.list.append(footer);
  }

  /** The run stopped or failed: open tool rows are marked stopped, and a footer says why. */
  end(kind, message) {
    for (const [id, tool] of this.tools) if (tool.status === 'running' || tool.status === 'awaiting') this.updateTool(id, { status: 'stopped' });
    const footer = el('li', `outcome ${kind}`, message);
    footer.dataset.kind = kind;
    this.list.append(footer);
  }
}
