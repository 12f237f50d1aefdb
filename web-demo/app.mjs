// The demo page: a coding agent (lmthing runPrompt) over an in-memory project. Writes and deletes
// need approval in the <dialog>; the timeline shows steps, tool calls and decisions as they happen.
import { createOpenAICompatible, runPrompt } from 'lmthing';

import { demoModel } from './demo-model.mjs';
import { initialFiles, lineDiff } from './project.mjs';

const $ = (id) => document.getElementById(id);
const files = initialFiles();
const KEY_STORAGE = 'lmthing-demo.apiKey';
const ENDPOINT_STORAGE = 'lmthing-demo.endpoint';
let dialogQueue = Promise.resolve();

// ------------------------------------------------------------------ rendering

function renderFiles() {
  const box = $('files');
  box.replaceChildren();
  for (const [path, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const wrapper = document.createElement('div');
    wrapper.className = 'file';
    const title = document.createElement('h3');
    title.textContent = path;
    const body = document.createElement('pre');
    body.dataset.file = path;
    body.textContent = content;
    wrapper.append(title, body);
    box.append(wrapper);
  }
}

function addTimeline(kind, text, data = {}) {
  const item = document.createElement('li');
  item.dataset.kind = kind;
  for (const [key, value] of Object.entries(data)) item.dataset[key] = value;
  item.textContent = text;
  $('timeline').append(item);
  item.scrollIntoView({ block: 'nearest' });
}

const short = (value) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? text.slice(0, 117) + '...' : text;
};

function renderDiff(before, after) {
  const pre = $('approval-diff');
  pre.replaceChildren();
  for (const line of lineDiff(before, after)) {
    const span = document.createElement('span');
    span.className = line.kind;
    span.textContent = (line.kind === 'add' ? '+ ' : line.kind === 'del' ? '- ' : '  ') + line.text;
    pre.append(span);
  }
}

// ------------------------------------------------------------------ approvals in the dialog

/** Shows the request in the dialog; resolves with the decision the user clicks. */
function askInDialog(request) {
  const dialog = $('approval');
  const { toolName, args } = request.preview ?? { toolName: request.name, args: request.context };
  $('approval-title').textContent = `Approve ${toolName}?`;
  $('approval-message').textContent = request.message;
  $('approval-tool').textContent = toolName;
  $('approval-args').textContent = JSON.stringify(args, null, 2);
  const before = files.get(args.path) ?? '';
  const after = toolName === 'writeFile' ? String(args.content ?? '') : '';
  renderDiff(before, after);
  const canModify = request.options.includes('modify');
  dialog.querySelector('[data-testid="modify"]').hidden = !canModify;
  $('approval-edit').hidden = !canModify;
  $('approval-content').value = after;
  $('approval-content').oninput = () => renderDiff(before, $('approval-content').value);
  $('approval-deadline').textContent = request.deadline ? `Without an answer: ${request.defaultAction} at ${new Date(request.deadline).toLocaleTimeString()}` : '';

  return new Promise((resolve) => {
    const onClose = () => {
      request.signal.removeEventListener('abort', onAbort);
      const action = dialog.returnValue;
      if (action === 'modify') resolve({ action, modifiedData: { ...args, content: $('approval-content').value }, reason: 'edited in the dialog' });
      else if (action === 'approve' || action === 'deny') resolve({ action, reason: `clicked ${action}` });
      else resolve({ action: 'deny', reason: 'the dialog was dismissed' });
    };
    // The engine stopped waiting (timeout, run cancelled): close without answering.
    const onAbort = () => {
      dialog.removeEventListener('close', onClose);
      dialog.close();
      resolve(undefined); // nothing to answer any more; frees the dialog for the next request
    };
    dialog.returnValue = '';
    dialog.addEventListener('close', onClose, { once: true });
    request.signal.addEventListener('abort', onAbort, { once: true });
    dialog.showModal();
  });
}

// ------------------------------------------------------------------ the agent

function pickModel() {
  if (document.querySelector('input[name="model"]:checked').value === 'demo') return demoModel();
  const baseURL = $('base-url').value.trim();
  const modelId = $('model-id').value.trim();
  const apiKey = $('api-key').value;
  if (!baseURL || !modelId || !apiKey) throw new Error('enter the base URL, the model and the API key of the endpoint');
  localStorage.setItem(KEY_STORAGE, apiKey);
  localStorage.setItem(ENDPOINT_STORAGE, JSON.stringify({ baseURL, modelId }));
  return createOpenAICompatible({ name: 'endpoint', baseURL, apiKey })(modelId);
}

function defineAgent(ctx, task) {
  const pathSchema = { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false };
  // Stream parts reach the timeline a few microtasks after the engine emits them; a timer puts the
  // "ran" line after the decision that allowed it.
  const executed = (name, args) => setTimeout(() => addTimeline('tool-executed', `ran ${name} ${short(args)}`, { tool: name }), 0);
  const existing = (path) => {
    if (!files.has(path)) throw new Error(`no such file: ${path} (files: ${[...files.keys()].join(', ')})`);
    return files.get(path);
  };
  ctx.defSystem('role', 'You are a careful coding agent working on a small project. Use the tools to inspect files before changing them. Writes and deletes need the user\'s approval; if one is denied, do not retry it. Finish with a one-paragraph summary.');
  ctx.defApproval('write', { message: (c) => `The agent wants to write ${c.args.path}.`, options: ['approve', 'deny', 'modify'] });
  ctx.defApproval('delete', { message: (c) => `The agent wants to delete ${c.args.path}.`, options: ['approve', 'deny'] });
  ctx.defTool('listFiles', 'Lists the project files', { type: 'object', properties: {} }, (args) => {
    executed('listFiles', args);
    return [...files.keys()].sort();
  });
  ctx.defTool('readFile', 'Reads a file', pathSchema, (args) => {
    executed('readFile', args);
    return existing(args.path);
  });
  ctx.defTool('searchFiles', 'Finds lines containing a text', { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] }, (args) => {
    executed('searchFiles', args);
    const hits = [];
    for (const [path, content] of files)
      content.split('\n').forEach((text, i) => text.includes(args.query) && hits.push({ path, line: i + 1, text }));
    return hits;
  });
  ctx.defTool('writeFile', 'Writes a whole file', { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path', 'content'] }, (args) => {
    executed('writeFile', args);
    files.set(args.path, args.content);
    renderFiles();
    return `wrote ${args.path} (${args.content.length} characters)`;
  }, { approval: 'write' });
  ctx.defTool('deleteFile', 'Deletes a file', pathSchema, (args) => {
    executed('deleteFile', args);
    existing(args.path);
    files.delete(args.path);
    renderFiles();
    return `deleted ${args.path}`;
  }, { approval: 'delete' });
  ctx.$`${task}`;
}

async function runTask() {
  const button = $('run');
  button.disabled = true;
  $('status').textContent = 'running';
  addTimeline('run', `task: ${$('task').value}`);
  try {
    const model = pickModel();
    const { result } = await runPrompt((ctx) => defineAgent(ctx, $('task').value), {
      model,
      // One dialog at a time: parallel tool calls (a real model may make them) wait their turn.
      onApproval: (request) => (dialogQueue = dialogQueue.then(() => (request.signal.aborted ? undefined : askInDialog(request)))),
      options: { maxSteps: 12 },
    });
    for await (const part of result.fullStream) {
      switch (part.type) {
        case 'tool-call':
          addTimeline('tool-call', `step ${part.stepNumber}: ${part.toolName} ${short(part.args)}`, { tool: part.toolName });
          break;
        case 'tool-result':
          addTimeline('tool-result', `${part.toolName} → ${short(part.result)}`, { tool: part.toolName });
          break;
        case 'tool-error':
          addTimeline('tool-error', `${part.toolName} ✗ ${part.error}`, { tool: part.toolName });
          break;
        case 'approval-request':
          addTimeline('approval-request', `approval asked: ${part.message}`, { tool: part.toolName ?? '' });
          break;
        case 'approval-decision':
          addTimeline('approval-decision', `${part.toolName ?? part.name}: ${part.action}${part.reason ? ` (${part.reason})` : ''}`, { tool: part.toolName ?? '', action: part.action });
          break;
        case 'step-finish':
          if (part.text) addTimeline('step', `step ${part.stepNumber} said: ${part.text}`);
          break;
        case 'error':
          throw part.error;
      }
    }
    addTimeline('finish', `finished: ${await result.text}`);
    $('status').textContent = 'done';
  } catch (err) {
    addTimeline('error', `error: ${err?.message ?? String(err)}`);
    $('status').textContent = 'failed';
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ wiring

for (const radio of document.querySelectorAll('input[name="model"]'))
  radio.addEventListener('change', () => {
    document.querySelector('.endpoint').hidden = document.querySelector('input[name="model"]:checked').value !== 'openai';
  });
try {
  const saved = JSON.parse(localStorage.getItem(ENDPOINT_STORAGE) ?? 'null');
  if (saved) {
    $('base-url').value = saved.baseURL;
    $('model-id').value = saved.modelId;
  }
  $('api-key').value = localStorage.getItem(KEY_STORAGE) ?? '';
} catch {
  // storage unavailable (private mode): the fields simply start empty
}
$('run').addEventListener('click', runTask);
renderFiles();
window.lmthingDemoReady = true;
