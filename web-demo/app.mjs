// The demo page: a coding agent (web-demo/agent.mjs) over an in-memory project. Writes and deletes
// wait for a decision in the approval dialog; the timeline shows each step and tool call once;
// changed files are highlighted. Every Run starts from the initial files and an empty timeline.
import { createOpenAICompatible } from 'lmthing';

import { shownRegion, startAgent } from './agent.mjs';
import { askInDialog } from './approval-dialog.mjs';
import { highlight } from './code-view.mjs';
import { demoModel } from './demo-model.mjs';
import { lineDiff, Project } from './project.mjs';
import { Timeline } from './timeline.mjs';
import { TraceView } from './trace-view.mjs';

const $ = (id) => document.getElementById(id);
const project = new Project(renderFiles);
const timeline = new Timeline($('timeline'));
const traceView = new TraceView($('trace'));
/** The run in progress: its AbortController, or null. */
let current = null;
let dialogQueue = Promise.resolve();

// ------------------------------------------------------------------ project files

function renderFiles() {
  const box = $('files');
  box.replaceChildren();
  for (const { path, state, before, now } of project.entries()) {
    const card = document.createElement('article');
    card.className = `file ${state}`;
    card.dataset.path = path;
    card.dataset.state = state;
    const title = document.createElement('h3');
    const name = document.createElement('span');
    name.textContent = path;
    title.append(name);
    if (state !== 'same') {
      const badge = document.createElement('span');
      badge.className = 'file-badge';
      badge.textContent = state;
      title.append(badge);
    }
    const body = document.createElement('pre');
    if (state === 'deleted') {
      body.className = 'deleted-body';
      body.textContent = before;
    } else {
      body.dataset.file = path; // textContent is the file's content, exactly
      const added = new Set(lineDiff(before, now).filter((l) => l.kind === 'add').map((l) => l.newLine));
      now.split(/(?<=\n)/).forEach((line, i) => {
        const span = document.createElement('span');
        if (state === 'modified' && added.has(i + 1)) span.className = 'added-line';
        span.textContent = line;
        body.append(span);
      });
    }
    card.append(title, body);
    box.append(card);
  }
  $('changes').textContent = changeSummary();
}

function changeSummary() {
  const changed = project.entries().filter((e) => e.state !== 'same');
  return changed.length === 0 ? 'no changes' : changed.map((e) => `${e.state} ${e.path}`).join(' · ');
}

// ------------------------------------------------------------------ model choice

function pickModel() {
  if (document.querySelector('input[name="model"]:checked').value === 'demo') return demoModel();
  const baseURL = $('base-url').value.trim();
  const modelId = $('model-id').value.trim();
  const apiKey = $('api-key').value; // stays in this page: sent only to baseURL, never stored
  if (!baseURL || !modelId) throw new Error('enter the base URL and the model of the endpoint');
  return createOpenAICompatible({ name: 'endpoint', baseURL, apiKey: apiKey || undefined })(modelId);
}

function showEndpointFields() {
  $('endpoint').hidden = document.querySelector('input[name="model"]:checked').value !== 'openai';
}

// ------------------------------------------------------------------ running

function setState(state) {
  $('status').textContent = state;
  $('status').dataset.state = state;
  const running = state === 'running';
  $('run').disabled = running;
  $('stop').disabled = !running;
}

/** Stops the run in progress (its pending approval closes; no more tools run). */
function stop() {
  current?.abort();
}

/** Back to the initial files and an empty timeline (stopping a run in progress). */
function reset() {
  stop();
  current = null;
  project.reset();
  timeline.clear();
  traceView.clear();
  setState('idle');
}

async function runTask() {
  reset();
  const controller = new AbortController();
  current = controller;
  const task = $('task').value;
  setState('running');
  let steps = 0;
  try {
    const { result } = await startAgent(project, task, {
      model: pickModel(),
      signal: controller.signal,
      // One dialog at a time: parallel tool calls (a real model may make them) wait their turn.
      onEvent: (event) => {
        if (current === controller) traceView.apply(event);
      },
      onApproval: (request) => (dialogQueue = dialogQueue.then(() => (request.signal.aborted ? undefined : askInDialog(request, project.files, stop)))),
    });
    for await (const part of result.fullStream) {
      if (current !== controller) return; // reset while this run was going: it no longer owns the page
      timeline.apply(part);
      if (part.type === 'step-finish') steps++;
      if (part.type === 'finish') timeline.finish(part, steps);
      if (part.type === 'error') throw part.error;
    }
    setState('done');
  } catch (err) {
    if (current !== controller) return;
    const stopped = controller.signal.aborted;
    timeline.end(stopped ? 'stopped' : 'error', stopped ? 'Stopped: no further tool runs and nothing else is written.' : `Error: ${err?.message ?? String(err)}`);
    setState(stopped ? 'stopped' : 'failed');
  } finally {
    if (current === controller) current = null;
  }
}

// ------------------------------------------------------------------ wiring

$('model-form').addEventListener('submit', (event) => event.preventDefault());
for (const radio of document.querySelectorAll('input[name="model"]')) radio.addEventListener('change', showEndpointFields);
showEndpointFields();
$('run').addEventListener('click', () => void runTask());
$('stop').addEventListener('click', stop);
$('reset').addEventListener('click', reset);
fetch('agent.mjs')
  .then((response) => response.text())
  .then((source) => highlight($('code'), shownRegion(source)))
  .catch(() => ($('code').textContent = 'see web-demo/agent.mjs'));
renderFiles();
setState('idle');
window.lmthingDemoReady = true;
