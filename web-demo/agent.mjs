// The agent of the demo. The region between the markers is what the page's "The code" panel shows
// (fetched from this very file), so the panel is always the code that runs.
import { indexedDBStorage, resume, runPrompt } from 'lmthing';

const ROLE = "You are a careful coding agent working on a small project. Inspect files before changing them. Writes and deletes need the user's approval; if one is denied, do not retry it. Finish with a one-paragraph summary.";
const noArgs = { type: 'object', properties: {} };
const pathArg = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] };
const writeArgs = { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] };
/** Where the runs' journals live: this origin's IndexedDB, which a reload keeps. */
const journals = indexedDBStorage('lmthing-demo');

// #region shown
/** The agent on `project`: it lists and reads freely; every write and delete waits for approval. */
const agent = (project, task) => (ctx) => {
  ctx.defSystem('role', ROLE);
  ctx.defTracing('trace', { exporters: ['events'] }); // spans as run events: the trace view
  ctx.defApproval('write', { message: (c) => `Write ${c.args.path}?`,
    options: ['approve', 'deny', 'modify'] });
  ctx.defApproval('delete', { message: (c) => `Delete ${c.args.path}?` }); // approve or deny
  ctx.defTool('listFiles', 'Lists the project files', noArgs,
    () => project.list(), { idempotent: true }); // safe to run again after a reload
  ctx.defTool('readFile', 'Reads a file', pathArg,
    ({ path }) => project.read(path), { idempotent: true });
  ctx.defTool('writeFile', 'Writes a whole file', writeArgs,
    ({ path, content }) => project.write(path, content), { approval: 'write' });
  ctx.defTool('deleteFile', 'Deletes a file', pathArg,
    ({ path }) => project.remove(path), { approval: 'delete' });
  ctx.$`${task}`;
};

/** Starts run `id`, journaled in IndexedDB; after a reload, `resumed` continues it from there. */
export function startAgent(project, task, { id, resumed, model, signal, onApproval, onEvent }) {
  const config = { model, onApproval, onEvent, options: { maxSteps: 12, abortSignal: signal },
    // A write or delete the reload cut off: done if its change is in the files, else not redone.
    durable: { id, storage: journals, onInterrupted: (call) => project.landed(call) } };
  return resumed ? resume(id, agent(project, task), config) : runPrompt(agent(project, task), config);
}
// #endregion

/**
 * Deletes the journals of ended runs: every key of the demo's database (`lmthing:journal:<id>:…`,
 * docs/durable-runs.md) but those of run `keep`, the one going on. Called when a run starts and on
 * a load with nothing to resume, not when a run ends: the library may still be writing its last
 * keys then (its end status).
 */
export async function forgetJournals(keep) {
  for (const key of await journals.list()) if (keep === undefined || !key.includes(keep)) await journals.delete(key);
}

/** The source lines between the markers above, for the code panel. */
export function shownRegion(source) {
  const lines = source.split('\n');
  return lines.slice(lines.findIndex((l) => l.includes('#region shown')) + 1, lines.findIndex((l) => l.includes('#endregion'))).join('\n');
}
