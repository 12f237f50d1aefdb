// The demo's in-memory project: a few files, and a line diff for approval previews.

/** The files the demo starts with. */
export function initialFiles() {
  return new Map([
    ['README.md', '# greeter\n\nA tiny library that greets people.\n'],
    ['src/greet.js', "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n"],
    ['src/index.js', "export { greet } from './greet.js';\n"],
    ['notes/old-todo.md', '- [x] write greet()\n- [ ] decide on a license\n'],
  ]);
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
      out.push({ kind: 'same', text: a[i] });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out.push({ kind: 'add', text: b[j++] });
    } else {
      out.push({ kind: 'del', text: a[i++] });
    }
  }
  return out;
}
