// The run's trace: the engine's spans (`span-start` / `span-end` run events, from
// `defTracing(..., {exporters: ['events']})`) drawn on a time axis, one row per span, indented under
// its parent, with its duration and, for model calls and runs, its token counts.

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

const duration = (ms) => (ms < 1000 ? `${Math.max(0, Math.round(ms))} ms` : `${(ms / 1000).toFixed(2)} s`);

export class TraceView {
  /** `box` is the element to fill; `now` the engine clock (ms), for spans still open. */
  constructor(box, now = () => Date.now()) {
    this.box = box;
    this.now = now;
    this.clear();
  }

  clear() {
    this.box.replaceChildren();
    this.spans = new Map(); // engine span id → {id, parent, name, kind, start, end, attributes, status, depth}
    this.order = [];
    this.pending = false;
  }

  /** Takes every run event; only span events matter. */
  apply(event) {
    if (event.type === 'span-start') {
      const parent = event.parent === null ? undefined : this.spans.get(event.parent);
      const span = { id: event.span, parent: event.parent, name: event.name, kind: event.kind, start: event.startMs, end: undefined, attributes: { ...event.attributes }, status: 'open', depth: parent ? parent.depth + 1 : 0 };
      this.spans.set(event.span, span);
      // Children right after their parent's last descendant, so the rows read as a tree.
      const at = parent ? this.lastDescendantIndex(parent) + 1 : this.order.length;
      this.order.splice(at, 0, span);
    } else if (event.type === 'span-end') {
      const span = this.spans.get(event.span);
      if (!span) return;
      span.end = event.endMs;
      span.status = event.status;
      Object.assign(span.attributes, event.attributes);
    } else return;
    this.schedule();
  }

  lastDescendantIndex(span) {
    let index = this.order.indexOf(span);
    for (let i = index + 1; i < this.order.length; i++) {
      let p = this.order[i];
      let inside = false;
      while (p && p.parent !== null) {
        if (p.parent === span.id) {
          inside = true;
          break;
        }
        p = this.spans.get(p.parent);
      }
      if (!inside) break;
      index = i;
    }
    return index;
  }

  /** Redraws once per frame at most. */
  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    if (this.order.length === 0) return this.box.replaceChildren();
    const t0 = Math.min(...this.order.map((s) => s.start));
    const now = this.now();
    const t1 = Math.max(t0 + 1, ...this.order.map((s) => s.end ?? Math.max(now, s.start)));
    const total = t1 - t0;
    const axis = el('div', 'trace-axis');
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      const tick = el('span', 'trace-tick', duration(total * f));
      tick.style.left = `${f * 100}%`;
      axis.append(tick);
    }
    const rows = this.order.map((span) => {
      const row = el('div', 'trace-row');
      row.dataset.kind = span.kind;
      row.dataset.status = span.status;
      row.dataset.name = span.name;
      const end = span.end ?? Math.max(now, span.start);
      const label = el('div', 'trace-label');
      label.style.paddingLeft = `${span.depth * 0.9}rem`;
      label.append(el('span', 'trace-name', span.name));
      const tokensIn = span.attributes['gen_ai.usage.input_tokens'];
      const tokensOut = span.attributes['gen_ai.usage.output_tokens'];
      const meta = [span.end === undefined ? 'running' : duration(span.end - span.start)];
      if (typeof tokensIn === 'number' && (span.kind === 'model' || span.kind === 'run')) meta.push(`${tokensIn} in · ${tokensOut ?? 0} out`);
      const metaNode = el('span', 'trace-meta', meta.join(' · '));
      label.append(metaNode);
      const lane = el('div', 'trace-lane');
      const bar = el('span', 'trace-bar');
      bar.style.left = `${((span.start - t0) / total) * 100}%`;
      bar.style.width = `max(2px, ${((end - span.start) / total) * 100}%)`;
      bar.title = `${span.name}: ${meta.join(' · ')}`;
      lane.append(bar);
      row.dataset.durationMs = span.end === undefined ? '' : String(span.end - span.start);
      row.append(label, lane);
      return row;
    });
    this.box.replaceChildren(axis, ...rows);
  }
}
