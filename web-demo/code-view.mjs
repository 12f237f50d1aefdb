// A small JavaScript highlighter for the code panel: comments, strings, keywords and the lmthing
// calls (ctx.def…, runPrompt) get their own colour. Text is only ever set as textContent.

const TOKEN = /(\/\/[^\n]*|\/\*\*?[\s\S]*?\*\/)|('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`)|\b(export|function|return|const|let|async|await|new)\b|\b(runPrompt|def\w+|\$)(?=\s*[(`])/g;
const CLASSES = ['comment', 'string', 'keyword', 'api'];

/** Fills `pre` with highlighted `source` (one <span> per token kind). */
export function highlight(pre, source) {
  pre.replaceChildren();
  let last = 0;
  for (const match of source.matchAll(TOKEN)) {
    if (match.index > last) pre.append(source.slice(last, match.index));
    const kind = match.slice(1).findIndex((group) => group !== undefined);
    const span = document.createElement('span');
    span.className = `tok-${CLASSES[kind]}`;
    span.textContent = match[0];
    pre.append(span);
    last = match.index + match[0].length;
  }
  pre.append(source.slice(last));
}
