// The demo's project: a few files the agent can list, read, write and delete, what changed since
// the start, and a line diff for the approval preview and the changed files. The files are the
// "outside world" the agent's tools change, so they are kept in localStorage on every change: a
// reload must not lose a write that happened. So is a log of the operations that ran (the
// durable-run test counts them: nothing that ran before a reload runs again after it).

const SAVED = 'lmthing-demo:project';

/** The files the demo starts with (every run starts from these). */
export function initialFiles() {
  return new Map([
    ['README.md', '# greeter\n\nA tiny library that greets people.\n'],
    ['src/greet.js', "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n"],
    ['src/index.js', "export { greet } from './greet.js';\n"],
    ['notes/old-todo.md', '- [x] write greet()\n- [ ] decide on a license\n'],
  ]);
}

/**
 * The project the agent works on; `onChange` is called after every write or delete. With
 * `storage` (the page's localStorage) it starts from the saved files and saves every change.
 */
export class Project {
  constructor(onChange = () => {}, storage = undefined) {
    this.onChange = onChange;
    this.storage = storage;
    this.initial = initialFiles();
    const saved = this.load();
    this.files = saved ? new Map(saved.files) : initialFiles();
    /** The operations that ran since the last reset, e.g. `{op: 'write', path}`. */
    this.log = saved?.log ?? [];
  }

  /** Back to the initial files (and an empty log). */
  reset() {
    this.files = initialFiles();
    this.log = [];
    this.save();
    this.onChange();
  }

  list() {
    this.logged('list');
    return this.paths();
  }

  read(path) {
    if (!this.files.has(path)) throw new Error(`no such file: ${path} (files: ${this.paths().join(', ')})`);
    this.logged('read', path);
    return this.files.get(path);
  }

  write(path, content) {
    this.files.set(path, content);
    this.logged('write', path); // saved before the tool returns: a reload right after keeps it
    this.onChange();
    return `wrote ${path} (${content.replace(/\n$/, '').split('\n').length} lines)`;
  }

  remove(path) {
    if (!this.files.has(path)) throw new Error(`no such file: ${path} (files: ${this.paths().join(', ')})`);
    this.files.delete(path);
    this.logged('delete', path);
    this.onChange();
    return `deleted ${path}`;
  }

  /**
   * A write or delete that a reload cut off (it started, its end is not in the run's journal):
   * `{result}` when the change is in the files (it happened), else undefined (it did not: the
   * run gives the model an interrupted-call error, and the model decides what to do).
   */
  landed({ toolName, args }) {
    if (toolName === 'writeFile' && this.files.get(args?.path) === args?.content) return { result: `wrote ${args.path}` };
    if (toolName === 'deleteFile' && this.log.some((e) => e.op === 'delete' && e.path === args?.path)) return { result: `deleted ${args.path}` };
    return undefined;
  }

  paths() {
    return [...this.files.keys()].sort();
  }

  /** Every path that exists now or at the start, with its state: same, modified, added or deleted. */
  entries() {
    const paths = [...new Set([...this.initial.keys(), ...this.files.keys()])].sort();
    return paths.map((path) => {
      const before = this.initial.get(path);
      const now = this.files.get(path);
      const state = now === undefined ? 'deleted' : before === undefined ? 'added' : before === now ? 'same' : 'modified';
      return { path, state, before: before ?? '', now: now ?? '' };
    });
  }

  logged(op, path) {
    this.log.push(path === undefined ? { op } : { op, path });
    this.save();
  }

  save() {
    this.storage?.setItem(SAVED, JSON.stringify({ files: [...this.files], log: this.log }));
  }

  /** The saved files and log, or undefined (none saved, or unreadable: start afresh). */
  load() {
    try {
      const saved = JSON.parse(this.storage?.getItem(SAVED) ?? 'null');
      return Array.isArray(saved?.files) && Array.isArray(saved?.log) ? saved : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Lines of `before` and `after` marked same / del / add (longest common subsequence of lines). */
export function lineDiff(before, after) {
  const a = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const b = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i], oldLine: i + 1, newLine: j + 1 });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push({ kind: 'add', text: b[j], newLine: j + 1 });
      j++;
    } else {
      out.push({ kind: 'del', text: a[i], oldLine: i + 1 });
      i++;
    }
  }
  return out;
}
