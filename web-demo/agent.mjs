// The agent of the demo. The region between the markers is what the page's "The code" panel shows
// (fetched from this very file), so the panel is always the code that runs.
import { runPrompt } from 'lmthing';

const ROLE = "You are a careful coding agent working on a small project. Inspect files before changing them. Writes and deletes need the user's approval; if one is denied, do not retry it. Finish with a one-paragraph summary.";
const noArgs = { type: 'object', properties: {} };
const pathArg = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
const writeArgs = { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] };

// #region shown
/** Starts the agent on `project`; every write and delete waits for `onApproval`. */
export function startAgent(project, task, { model, signal, onApproval, onEvent }) {
  return runPrompt((ctx) => {
    ctx.defSystem('role', ROLE);
    ctx.defTracing('trace', { exporters: ['events'] }); // spans as run events: the trace view
    ctx.defApproval('write', { message: (c) => `Write ${c.args.path}?`,
      options: ['approve', 'deny', 'modify'] });
    ctx.defApproval('delete', { message: (c) => `Delete ${c.args.path}?` }); // approve or deny
    ctx.defTool('listFiles', 'Lists the project files', noArgs, () => project.list());
    ctx.defTool('readFile', 'Reads a file', pathArg, ({ path }) => project.read(path));
    ctx.defTool('writeFile', 'Writes a whole file', writeArgs,
      ({ path, content }) => project.write(path, content), { approval: 'write' });
    ctx.defTool('deleteFile', 'Deletes a file', pathArg,
      ({ path }) => project.remove(path), { approval: 'delete' });
    ctx.$`${task}`;
  }, { model, onApproval, onEvent, options: { maxSteps: 12, abortSignal: signal } });
}
// #endregion

/** The source lines between the markers above, for the code panel. */
export function shownRegion(source) {
  const lines = source.split('\n');
  return lines.slice(lines.findIndex((l) => l.includes('#region shown')) + 1, lines.findIndex((l) => l.includes('#endregion'))).join('\n');
}
