// Uploads through the Uploads API, as a careful SDK does them: create, parts
// sliced from the File (never the whole file in memory) sent a few at a time
// with retries, md5 in a worker, complete. Progress, Cancel, and resume
// after a reload from what resume.js kept.

import { APIError, apiKey, callJSON, errorOf, retrying } from './api.js';
import { el, humanDuration, humanRate, humanSize } from './format.js';
import * as resume from './resume.js';

const MiB = 1 << 20;
export const maxPartSize = 64 * MiB;
export const parallelParts = 4;

// partSizeFor is 64 MiB for large files, and about an eighth of a smaller
// one (whole MiB, at least 1 MiB), so that small files show progress too.
export function partSizeFor(size) {
  if (size >= 4 * maxPartSize) return maxPartSize;
  return Math.max(MiB, Math.ceil(size / 8 / MiB) * MiB);
}

// slots bounds the parts in flight over all uploads of the page.
const slots = {
  free: parallelParts, waiting: [],
  async take(signal) {
    if (this.free > 0) { this.free--; return; }
    await new Promise((resolve, reject) => {
      const w = { resolve };
      this.waiting.push(w);
      signal.addEventListener('abort', () => {
        const i = this.waiting.indexOf(w);
        if (i >= 0) { this.waiting.splice(i, 1); reject(signal.reason); }
      }, { once: true });
    });
  },
  give() {
    const w = this.waiting.shift();
    if (w) w.resolve(); else this.free++;
  },
};

// sendPart posts one part with XMLHttpRequest, for its upload progress.
function sendPart(uploadId, blob, signal, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/uploads/${encodeURIComponent(uploadId)}/parts`);
    xhr.setRequestHeader('Authorization', 'Bearer ' + apiKey());
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        try { resolve(JSON.parse(xhr.responseText)); } catch (e) { reject(e); }
        return;
      }
      const headers = { get: (n) => xhr.getResponseHeader(n) };
      reject(errorOf(xhr.status, headers, xhr.responseText));
    };
    xhr.onerror = () => reject(Object.assign(new Error('The network failed while sending a part.'), { network: true }));
    xhr.onabort = () => reject(new DOMException('Aborted', 'AbortError'));
    const abort = () => xhr.abort();
    signal.addEventListener('abort', abort, { once: true });
    xhr.onloadend = () => signal.removeEventListener('abort', abort);
    const form = new FormData();
    form.append('data', blob, 'part');
    xhr.send(form);
  });
}

// md5Of hashes file in a worker; the promise ends when the digest is ready.
function md5Of(file, signal) {
  return new Promise((resolve, reject) => {
    const w = new Worker('/console/md5-worker.js');
    const stop = () => { w.terminate(); reject(new DOMException('Aborted', 'AbortError')); };
    signal.addEventListener('abort', stop, { once: true });
    w.onmessage = (e) => {
      if (e.data.md5 || e.data.error) {
        signal.removeEventListener('abort', stop);
        w.terminate();
        if (e.data.md5) resolve(e.data.md5); else reject(new Error('Could not read the file to hash it: ' + e.data.error));
      }
    };
    w.onerror = (e) => { w.terminate(); reject(new Error('The md5 worker failed: ' + e.message)); };
    w.postMessage({ file });
  });
}

// gone reports whether err means the Upload can take no more parts, so that
// a kept record is useless.
function gone(err) {
  return err instanceof APIError && (err.status === 404 ||
    ['upload_cancelled', 'upload_expired', 'upload_completed'].includes(err.code));
}

// Upload is one file going up, with its row in the list.
class Upload {
  constructor(file, purpose, ui) {
    this.file = file;
    this.purpose = purpose;
    this.ui = ui;
    this.abort = new AbortController();
    this.acked = 0;        // bytes of acknowledged parts
    this.inflight = new Map(); // part index -> bytes sent so far
    this.sentThisPage = 0; // bytes sent since this page started the upload
    this.started = 0;
    this.rate = 0;
    this.state = 'starting';
    this.render();
  }

  render() {
    const id = 'up-' + Math.random().toString(36).slice(2);
    this.nameEl = el('span', { class: 'up-name', id, text: this.file.name });
    this.cancelBtn = el('button', { type: 'button', class: 'small', 'aria-describedby': id, text: 'Cancel' });
    this.cancelBtn.addEventListener('click', () => this.cancel());
    this.bar = el('progress', { max: Math.max(1, this.file.size), value: 0, 'aria-labelledby': id });
    this.line = el('p', { class: 'up-line', text: 'Starting…' });
    this.li = el('li', { class: 'up' }, el('div', { class: 'up-head' }, this.nameEl, this.cancelBtn), this.bar, this.line);
    this.ui.list.prepend(this.li);
  }

  progress() {
    const done = this.acked + [...this.inflight.values()].reduce((a, b) => a + b, 0);
    this.bar.value = done;
    const size = this.file.size;
    const secs = (performance.now() - this.started) / 1000;
    const sent = done - this.ackedAtStart;
    if (secs > 0.5 && sent > 0) this.rate = sent / secs;
    let text = `${humanSize(done)} of ${humanSize(size)}`;
    if (this.rate > 0) text += ` · ${humanRate(this.rate)} · ${humanDuration((size - done) / this.rate)} left`;
    if (this.resumed) text += ' · resumed';
    this.line.textContent = text;
  }

  finish(cls, text) {
    this.li.classList.add(cls);
    this.line.textContent = text;
    this.cancelBtn.hidden = true;
    clearInterval(this.ticker);
  }

  async run() {
    const { file, purpose } = this;
    const signal = this.abort.signal;
    const key = resume.resumeKey(file);
    try {
      let rec = await resume.get(key);
      if (rec && (resume.expired(rec) || rec.purpose !== purpose)) {
        await resume.remove(key);
        rec = null;
      }
      for (let attempt = 0; ; attempt++) {
        if (!rec) {
          const up = await retrying(() => callJSON('POST', '/uploads', {
            signal,
            json: { filename: file.name, purpose, bytes: file.size, mime_type: mimeType(file) },
          }), { signal });
          rec = { key, uploadId: up.id, filename: file.name, bytes: file.size, purpose, partSize: partSizeFor(file.size), parts: {}, expiresAt: up.expires_at };
          await resume.put(rec);
        } else {
          this.resumed = true;
        }
        this.rec = rec;
        try {
          const f = await this.sendAndComplete(rec, signal);
          await resume.remove(key);
          return f;
        } catch (err) {
          // A kept Upload that the server no longer takes: start afresh once.
          if (attempt === 0 && this.resumed && gone(err) && !signal.aborted) {
            await resume.remove(key);
            rec = null;
            this.resumed = false;
            this.acked = 0;
            this.inflight.clear();
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (signal.aborted) return null;
      if (gone(err)) await resume.remove(key).catch(() => {});
      const kept = this.rec && !gone(err) ? ' Give the same file again to resume.' : '';
      this.finish('up-error', `Failed: ${err.message}${kept}`);
      this.ui.announce(`Upload of ${file.name} failed.`);
      return null;
    }
  }

  async sendAndComplete(rec, outer) {
    const { file } = this;
    // parts stops this attempt's parts and hashing when one part fails for good.
    const parts = new AbortController();
    const stop = () => parts.abort();
    outer.addEventListener('abort', stop, { once: true });
    const signal = parts.signal;
    try {
      return await this.sendParts(rec, signal);
    } finally {
      parts.abort();
      outer.removeEventListener('abort', stop);
    }
  }

  async sendParts(rec, signal) {
    const { file } = this;
    const n = Math.ceil(file.size / rec.partSize);
    const sizeOf = (i) => Math.min(file.size, (i + 1) * rec.partSize) - i * rec.partSize;
    const todo = [];
    this.acked = 0;
    for (let i = 0; i < n; i++) {
      if (rec.parts[i]) this.acked += sizeOf(i); else todo.push(i);
    }
    this.ackedAtStart = this.acked;
    this.started = performance.now();
    this.state = 'sending';
    this.progress();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.progress(), 250);
    const digest = md5Of(file, signal);
    digest.catch(() => {}); // awaited below; a failure before then is not unhandled
    const worker = async () => {
      while (todo.length > 0) {
        const i = todo.shift();
        await slots.take(signal);
        try {
          const blob = file.slice(i * rec.partSize, i * rec.partSize + sizeOf(i));
          const part = await retrying(() => {
            this.inflight.set(i, 0);
            return sendPart(rec.uploadId, blob, signal, (b) => this.inflight.set(i, b));
          }, { signal, onRetry: () => this.inflight.set(i, 0) });
          this.inflight.delete(i);
          this.acked += sizeOf(i);
          rec.parts[i] = part.id;
          await resume.put(rec);
        } finally {
          this.inflight.delete(i);
          slots.give();
        }
      }
    };
    const workers = [];
    for (let w = 0; w < Math.min(parallelParts, Math.max(1, todo.length)); w++) workers.push(worker());
    await Promise.all(workers);
    this.progress();
    this.line.textContent = 'Checking md5…';
    const md5 = await digest;
    const partIds = [];
    for (let i = 0; i < n; i++) partIds.push(rec.parts[i]);
    const up = await retrying(() => callJSON('POST', `/uploads/${encodeURIComponent(rec.uploadId)}/complete`, {
      signal, json: { part_ids: partIds, md5 },
    }), { signal });
    const secs = (performance.now() - this.started) / 1000;
    this.bar.value = file.size;
    this.finish('up-done', `Done: ${humanSize(file.size)} in ${humanDuration(secs)}` + (this.resumed ? ' (resumed)' : ''));
    this.ui.announce(`Uploaded ${file.name}.`);
    this.ui.onFile(up.file);
    return up.file;
  }

  async cancel() {
    this.cancelBtn.disabled = true;
    this.abort.abort();
    clearInterval(this.ticker);
    this.line.textContent = 'Cancelling…';
    const rec = this.rec;
    try {
      if (rec) {
        await resume.remove(rec.key);
        await retrying(() => callJSON('POST', `/uploads/${encodeURIComponent(rec.uploadId)}/cancel`));
      }
      this.finish('up-cancelled', 'Cancelled.');
      this.ui.announce(`Upload of ${this.file.name} cancelled.`);
    } catch (err) {
      this.finish('up-error', `Cancel failed: ${err.message}`);
    }
  }
}

// Uploader starts an Upload per file and lists interrupted ones.
export class Uploader {
  constructor({ list, interrupted, announce, onFile }) {
    this.ui = { list, announce, onFile };
    this.interrupted = interrupted;
    this.active = new Set();
  }

  start(files, purpose) {
    for (const file of files) {
      const key = resume.resumeKey(file);
      if ([...this.active].some((u) => resume.resumeKey(u.file) === key)) {
        this.ui.announce(`${file.name} is already being uploaded.`);
        continue;
      }
      const u = new Upload(file, purpose, this.ui);
      this.active.add(u);
      u.run().finally(() => { this.active.delete(u); this.showInterrupted(); });
    }
    this.showInterrupted();
  }

  // stopAll stops every upload on this page (on sign out), keeping what
  // was acknowledged for a resume.
  stopAll() {
    for (const u of this.active) {
      u.abort.abort();
      u.finish('up-error', 'Stopped. Give the same file again to resume.');
    }
    this.active.clear();
  }

  // showInterrupted lists kept uploads that no Upload on this page runs,
  // and forgets those that expired.
  async showInterrupted() {
    let recs;
    try { recs = await resume.all(); } catch { return; }
    const running = new Set([...this.active].map((u) => u.rec?.key ?? resume.resumeKey(u.file)));
    const list = this.interrupted;
    list.replaceChildren();
    for (const rec of recs) {
      if (resume.expired(rec)) { resume.remove(rec.key).catch(() => {}); continue; }
      if (running.has(rec.key)) continue;
      const n = Math.ceil(rec.bytes / rec.partSize);
      let acked = 0;
      for (let i = 0; i < n; i++) if (rec.parts[i]) acked += Math.min(rec.bytes, (i + 1) * rec.partSize) - i * rec.partSize;
      const id = 'int-' + Math.random().toString(36).slice(2);
      const discard = el('button', { type: 'button', class: 'small', 'aria-describedby': id, text: 'Discard' });
      discard.addEventListener('click', async () => {
        discard.disabled = true;
        await resume.remove(rec.key);
        try { await callJSON('POST', `/uploads/${encodeURIComponent(rec.uploadId)}/cancel`); } catch { /* expired or gone */ }
        this.showInterrupted();
      });
      list.append(el('li', {},
        el('div', { class: 'up-head' }, el('span', { class: 'up-name', id, text: rec.filename }), discard),
        el('p', { class: 'up-line', text: `Interrupted: ${humanSize(acked)} of ${humanSize(rec.bytes)} sent. Choose or drop the same file again to resume.` })));
    }
    list.hidden = list.childElementCount === 0;
  }
}

// mimeType is the browser's type of a file, else the one of its extension
// that browsers do not know but the API's purposes batch and fine-tune take
// (silo.MimeType gives the same for the CLI).
function mimeType(file) {
  if (file.type) return file.type;
  return /\.jsonl$/i.test(file.name) ? 'application/jsonl' : 'application/octet-stream';
}
