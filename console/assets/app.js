// The console's entry: sign in and out, and wiring of the files table, the
// uploader and drag and drop.

import { apiKey, callJSON, forgetAPIKey, setAPIKey } from './api.js';
import { FilesTable } from './files.js';
import { Uploader } from './uploads.js';

const $ = (id) => document.getElementById(id);

const status = $('status');
function announce(text) {
  status.textContent = '';
  setTimeout(() => { status.textContent = text; }, 50);
}

let toastTimer;
function fail(err) {
  const t = $('toast');
  t.textContent = err.message + (err.requestId ? ` (request ${err.requestId})` : '');
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 8000);
}

const table = new FilesTable({
  body: $('files-body'), table: $('files-table'), empty: $('empty'), summary: $('files-summary'),
  more: $('load-more'), purpose: $('filter-purpose'), name: $('filter-name'), dialog: $('confirm-delete'),
  announce, fail,
});

const uploader = new Uploader({
  list: $('uploads'), interrupted: $('interrupted'), announce,
  onFile: (f) => table.add(f),
});

function show(signedIn) {
  $('signin-view').hidden = signedIn;
  $('app-view').hidden = !signedIn;
  $('signout').hidden = !signedIn;
  document.title = signedIn ? 'Files · Silo' : 'Sign in · Silo';
}

async function enter() {
  show(true);
  uploader.showInterrupted();
  await table.reload();
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('key').value.trim();
  const error = $('signin-error');
  error.textContent = '';
  if (!key) {
    error.textContent = 'Enter an API key.';
    $('key').focus();
    return;
  }
  setAPIKey(key);
  try {
    await callJSON('GET', '/files?limit=1');
  } catch (err) {
    forgetAPIKey();
    error.textContent = err.message;
    $('key').focus();
    return;
  }
  $('key').value = '';
  await enter();
  $('upload-purpose').focus();
});

$('signout').addEventListener('click', () => {
  uploader.stopAll();
  forgetAPIKey();
  table.clear();
  $('uploads').replaceChildren();
  show(false);
  $('key').focus();
  announce('Signed out.');
});

$('refresh').addEventListener('click', () => table.reload());

const input = $('file-input');
input.addEventListener('change', () => {
  if (input.files.length > 0) uploader.start([...input.files], $('upload-purpose').value);
  input.value = '';
});

// Drag and drop anywhere on the page, once signed in.
const overlay = $('drop-overlay');
let depth = 0;
const carriesFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
window.addEventListener('dragenter', (e) => {
  if (!carriesFiles(e) || !apiKey()) return;
  e.preventDefault();
  depth++;
  overlay.hidden = false;
});
window.addEventListener('dragleave', () => {
  depth = Math.max(0, depth - 1);
  if (depth === 0) overlay.hidden = true;
});
window.addEventListener('dragover', (e) => {
  if (carriesFiles(e)) e.preventDefault();
});
window.addEventListener('drop', (e) => {
  if (!carriesFiles(e)) return;
  e.preventDefault();
  depth = 0;
  overlay.hidden = true;
  if (!apiKey()) return;
  const files = [...e.dataTransfer.files];
  if (files.length > 0) uploader.start(files, $('upload-purpose').value);
});

if (apiKey()) {
  enter();
} else {
  show(false);
  $('key').focus();
}
