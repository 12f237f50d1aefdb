// The demo page: a coding agent (web-demo/agent.mjs) over an in-memory project. Writes and deletes
// wait for a decision in the approval dialog; the timeline shows each step and tool call once;
// changed files are highlighted. Every Run starts from the initial files and an empty timeline.
// Runs are durable: a reload resumes the unfinished run where it was (a pending dialog comes back).
import { createOpenAICompatible, preload } from 'lmthing';

import { forgetJournals, shownRegion, startAgent } from './agent.mjs';
import { askInDialog } from './approval-dialog.mjs';
import { highlight } from './code-view.mjs';
import { demoModel } from './demo-model.mjs';
import { lineDiff, Project } from './project.mjs';
import { Timeline } from './timeline.mjs';
import { TraceView } from './trace-view.mjs';

// The engine, and its code the first Run needs beyond a plain prompt (approvals, tracing: the
// deferred wasm file), load while the page renders instead of in the middle of that Run
// (docs/bundlers.md). A failure shows again, with its message, when a Run starts.
preload().catch(() => {});

const $ = (id) => document.getElementById(id);
const project = new Project(renderFiles, localStorage); // the files survive a reload
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

const modelKind = () => document.querySelector('input[name="model"]:checked').value;

/** The model choice as it may be stored: the kind, and the endpoint's URL and model (never its key). */
function modelChoice() {
  if (modelKind() === 'demo') return { kind: 'demo' };
  return { kind: 'openai', baseURL: $('base-url').value.trim(), modelId: $('model-id').value.trim() };
}

/** Puts a stored choice back in the form (the key field stays as it is: empty after a reload). */
function showModelChoice(choice) {
  document.querySelector(`input[name="model"][value="${choice.kind}"]`).checked = true;
  if (choice.kind === 'openai') {
    $('base-url').value = choice.baseURL;
    $('model-id').value = choice.modelId;
  }
  showEndpointFields();
}

function modelFor(choice) {
  if (choice.kind === 'demo') return demoModel();
  const apiKey = $('api-key').value; // stays in this page: sent only to baseURL, never stored
  if (!choice.baseURL || !choice.modelId) throw new Error('enter the base URL and the model of the endpoint');
  return createOpenAICompatible({ name: 'endpoint', baseURL: choice.baseURL, apiKey: apiKey || undefined })(choice.modelId);
}

function showEndpointFields() {
  $('endpoint').hidden = modelKind() !== 'openai';
}

// ------------------------------------------------------------------ the unfinished run

// The run in progress is durable: its engine journals every turn to IndexedDB (agent.mjs), and
// localStorage says which run to resume after a reload: its id, task and model choice.
const SAVED_RUN = 'lmthing-demo:run';

function savedRun() {
  try {
    return JSON.parse(localStorage.getItem(SAVED_RUN) ?? 'null');
  } catch {
    return null;
  }
}

const saveRun = (run) => localStorage.setItem(SAVED_RUN, JSON.stringify(run));

/** The run is over (finished, failed, stopped or reset): nothing to resume. Its journal goes when the next run starts. */
function forgetRun(run) {
  if (savedRun()?.id === run.id) localStorage.removeItem(SAVED_RUN);
  $('resume').hidden = true;
}

/** Deletes the journals of ended runs (a failure only leaves them for the next time). */
const forgetEndedRuns = (keep) => void forgetJournals(keep).catch(() => {});

const newRunId = () => `demo-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** A reload cancels the page's requests: that must not count as the run failing (it is resumed). */
let leaving = false;
addEventListener('pagehide', () => (leaving = true));
addEventListener('pageshow', () => (leaving = false)); // back from the back/forward cache

/**
 * Runs `work` holding a Web Lock named after the run, so that a second tab of the demo (same
 * localStorage) does not resume the same run and run its tools twice. Resolves false, without
 * running `work`, when another tab holds it; a page without Web Locks (not a secure context) just runs.
 */
function withRunLock(run, work) {
  if (!navigator.locks) return work().then(() => true);
  return navigator.locks.request(`lmthing-demo:${run.id}`, { ifAvailable: true }, (lock) => (lock ? work().then(() => true) : false));
}

// ------------------------------------------------------------------ running

function setState(state, note = '') {
  $('status').textContent = state;
  $('status').dataset.state = state;
  $('status-note').textContent = note;
  $('status-note').hidden = !note;
  const running = state === 'running';
  $('run').disabled = running;
  $('stop').disabled = !running;
}

/** Stops the run in progress (its pending approval closes; no more tools run). */
function stop() {
  current?.abort();
}

/** Back to the initial files and an empty timeline (stopping a run in progress, forgetting it). */
function reset() {
  stop();
  current = null;
  const saved = savedRun();
  if (saved) forgetRun(saved);
  project.reset();
  timeline.clear();
  traceView.clear();
  setState('idle');
}

/** Run: a new durable run of the task, from the initial files. */
function runTask() {
  reset();
  const run = { id: newRunId(), task: $('task').value, model: modelChoice() };
  saveRun(run);
  // The run owns the page from the click on (Run disabled, Stop and Reset reach it), not only once
  // its lock is granted: a second click, or a Reset, in between must not leave a run unseen.
  const controller = new AbortController();
  current = controller;
  setState('running');
  return withRunLock(run, () => execute(run, false, controller));
}

/**
 * Runs `run` (or, `resumed`, continues it from its journal: the timeline is rebuilt from the
 * replayed `fullStream`, and a pending approval opens its dialog again) until it ends.
 * `controller` is the one Run made when it was clicked; a run reset before it got here does not start.
 */
async function execute(run, resumed, controller = new AbortController()) {
  if (controller.signal.aborted) return;
  current = controller;
  const note = resumed ? 'resumed after a reload: earlier steps come from the journal, nothing runs twice' : '';
  setState('running', note);
  forgetEndedRuns(run.id);
  let steps = 0;
  try {
    const { result } = await startAgent(project, run.task, {
      id: run.id,
      resumed,
      model: modelFor(run.model),
      signal: controller.signal,
      onEvent: (event) => {
        if (current === controller) traceView.apply(event);
      },
      // One dialog at a time: parallel tool calls (a real model may make them) wait their turn.
      onApproval: (request) => (dialogQueue = dialogQueue.then(() => (request.signal.aborted ? undefined : askInDialog(request, project.files, stop)))),
    });
    for await (const part of result.fullStream) {
      if (current !== controller) return; // reset while this run was going: it no longer owns the page
      timeline.apply(part);
      if (part.type === 'step-finish') steps++;
      if (part.type === 'finish') timeline.finish(part, steps);
      if (part.type === 'error') throw part.error;
    }
    setState('done', note);
  } catch (err) {
    if (current !== controller || leaving) return;
    // Reloaded before the run's first journal write: there is nothing to resume, so it starts afresh.
    if (resumed && err?.code === 'JOURNAL_MISSING') {
      timeline.clear();
      traceView.clear();
      return execute(run, false);
    }
    const stopped = controller.signal.aborted;
    timeline.end(stopped ? 'stopped' : 'error', stopped ? 'Stopped: no further tool runs and nothing else is written.' : `Error: ${err?.message ?? String(err)}`);
    setState(stopped ? 'stopped' : 'failed', note);
  } finally {
    if (current === controller) {
      current = null;
      if (!leaving) forgetRun(run);
    }
  }
}

/** Continues the saved run from its journal, unless another tab is running it. */
async function resumeRun(run) {
  $('resume').hidden = true;
  if (!(await withRunLock(run, () => execute(run, true)))) setState('idle', 'the unfinished run goes on in another tab of this page');
}

/**
 * On load: an unfinished run is resumed, the offline model's at once; the endpoint's waits for
 * Resume, since its API key was not stored. With none, leftover journals are cleared.
 */
function resumeSavedRun() {
  const run = savedRun();
  if (!run) return forgetEndedRuns();
  $('task').value = run.task;
  showModelChoice(run.model);
  if (run.model.kind === 'demo') return void resumeRun(run);
  $('resume').hidden = false;
  setState('idle', 'an unfinished run waits: enter the API key (if the endpoint needs one) and press Resume');
}

// ------------------------------------------------------------------ wiring

$('model-form').addEventListener('submit', (event) => event.preventDefault());
for (const radio of document.querySelectorAll('input[name="model"]')) radio.addEventListener('change', showEndpointFields);
showEndpointFields();
$('run').addEventListener('click', () => void runTask());
$('resume').addEventListener('click', () => {
  const run = savedRun();
  if (run) void resumeRun(run);
});
$('stop').addEventListener('click', stop);
$('reset').addEventListener('click', reset);
fetch('agent.mjs')
  .then((response) => response.text())
  .then((source) => highlight($('code'), shownRegion(source)))
  .catch(() => ($('code').textContent = 'see web-demo/agent.mjs'));
renderFiles();
setState('idle');
resumeSavedRun();
window.lmthingDemoReady = true;
