// The approval <dialog>: what the agent wants to do, its arguments (wrapped, however long), a
// line diff of the file before and after, and Approve / Modify (edit the content) / Deny / Stop.
import { lineDiff } from './project.mjs';

const $ = (id) => document.getElementById(id);

/** Renders a line diff into `box`: a gutter with old and new line numbers, then the line. */
export function renderDiff(box, before, after) {
  box.replaceChildren();
  for (const line of lineDiff(before, after)) {
    const row = document.createElement('div');
    row.className = `diff-line ${line.kind}`;
    const oldNo = document.createElement('span');
    oldNo.className = 'ln';
    oldNo.textContent = line.oldLine ?? '';
    const newNo = document.createElement('span');
    newNo.className = 'ln';
    newNo.textContent = line.newLine ?? '';
    const sign = document.createElement('span');
    sign.className = 'sign';
    sign.textContent = line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' ';
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = line.text;
    row.append(oldNo, newNo, sign, text);
    box.append(row);
  }
  if (!box.children.length) box.textContent = '(empty file)';
}

const lineCount = (text) => (text === '' ? 0 : text.replace(/\n$/, '').split('\n').length);

/** The arguments as key/value rows; a write's content is left to the diff. */
function renderArgs(box, args) {
  box.replaceChildren();
  const entries = Object.entries(args ?? {}).sort(([a], [b]) => (a === 'path' ? -1 : b === 'path' ? 1 : 0));
  for (const [key, value] of entries) {
    const dt = document.createElement('dt');
    dt.textContent = key;
    const dd = document.createElement('dd');
    dd.textContent = key === 'content' && typeof value === 'string' ? `${lineCount(value)} lines, ${value.length} characters (the change is below)` : typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    box.append(dt, dd);
  }
}

/**
 * Shows `request` and resolves with the decision clicked; `undefined` when the engine stopped
 * waiting (timeout, run stopped). `files` is the project's current files; `onStop` stops the run.
 */
export function askInDialog(request, files, onStop) {
  const dialog = $('approval');
  const { toolName, args } = request.preview ?? { toolName: request.name, args: request.context };
  $('approval-title').textContent = request.message;
  $('approval-tool').textContent = toolName;
  renderArgs($('approval-args'), args);
  $('approval-json').textContent = JSON.stringify(args, null, 2);
  const before = files.get(args?.path) ?? '';
  const after = toolName === 'writeFile' ? String(args.content ?? '') : '';
  $('approval-file').textContent = args?.path ?? '';
  renderDiff($('approval-diff'), before, after);
  const canModify = request.options.includes('modify');
  dialog.querySelector('[data-testid="modify"]').hidden = !canModify;
  $('approval-edit').hidden = !canModify;
  $('approval-content').value = after;
  $('approval-content').oninput = () => renderDiff($('approval-diff'), before, $('approval-content').value);
  $('approval-deadline').textContent = request.deadline ? `Without an answer: ${request.defaultAction} at ${new Date(request.deadline).toLocaleTimeString()}` : '';

  return new Promise((resolve) => {
    const onClose = () => {
      request.signal.removeEventListener('abort', onAbort);
      const action = dialog.returnValue;
      if (action === 'modify') resolve({ action, modifiedData: { ...args, content: $('approval-content').value }, reason: 'edited in the dialog' });
      else if (action === 'approve' || action === 'deny') resolve({ action, reason: `you clicked ${action}` });
      else if (action === 'stop') {
        resolve(undefined);
        onStop();
      } else resolve({ action: 'deny', reason: 'the dialog was dismissed' });
    };
    // The engine stopped waiting (timeout, run stopped): close without answering.
    const onAbort = () => {
      dialog.removeEventListener('close', onClose);
      dialog.close();
      resolve(undefined);
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose, { once: true });
    request.signal.addEventListener('abort', onAbort, { once: true });
    dialog.showModal();
  });
}
