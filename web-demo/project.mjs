// The demo's in-memory project: a few files the agent can list, read, write and delete, what
// changed since the start, and a line diff for the approval preview and the changed files.

/** The files the demo starts with (every run starts from these). */
export function initialFiles() {
  return new Map([
    ['README.md', '# greeter\n\nA tiny library that greets people.\n'],
    ['src/greet.js', "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n"],
    ['src/index.js', "export { greet } from './greet.js';\n"],
    ['notes/old-todo.md', '- [x] write greet()\n- [ ] decide on a license\n'],
  ]);
}

/** The project the agent works on; `onChange` is called after every write or delete. */
export class Project {
  constructor(onChange = () => {}) {
    this.onChange = onChange;
    this.initial = initialFiles();
    this.files = initialFiles();
  }

  /** Back to the initial files. */
  reset() {
    this.files = initialFiles();
    this.onChange();
  }

  list() {
    return [...this.files.keys()].sort();
  }

  read(path) {
    if (!this.files.has(path)) throw new Error(`no such file: ${path} (files: ${this.list().join(', ')})`);
    return this.files.get(path);
  }

  write(path, content) {
    this.files.set(path, content);
    this.onChange();
    return `wrote ${path} (${content.replace(/\n$/, '').split('\n').length} lines)`;
  }

  remove(path) {
    this.read(path);
    this.files.delete(path);
    this.onChange();
    return `deleted ${path}`;
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
