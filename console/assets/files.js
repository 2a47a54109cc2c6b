// The table of the project's files: pages of the API's list, newest first,
// a purpose filter (the API's) and a filename filter (over loaded pages).

import { call, callJSON } from './api.js';
import { el, exactBytes, humanSize, localTime, relativeTime } from './format.js';

export const pageSize = 100;

// blobLimit is the largest download held in memory where the browser cannot
// stream to disk (no File System Access API).
export const blobLimit = 2 * 1024 * 1024 * 1024;

export class FilesTable {
  constructor({ body, table, empty, summary, more, purpose, name, dialog, announce, fail }) {
    Object.assign(this, { body, table, empty, summary, more, purpose, name, dialog, announce, fail });
    this.files = [];
    this.after = null;
    this.hasMore = false;
    this.loading = null;
    more.addEventListener('click', () => this.loadMore());
    purpose.addEventListener('change', () => this.reload());
    name.addEventListener('input', () => this.render());
  }

  clear() {
    this.files = [];
    this.after = null;
    this.hasMore = false;
    this.generation = (this.generation || 0) + 1;
    this.body.replaceChildren();
    this.render();
  }

  async reload() {
    this.clear();
    await this.loadMore();
  }

  async loadMore() {
    const gen = this.generation;
    const q = new URLSearchParams({ limit: String(pageSize), order: 'desc' });
    if (this.purpose.value) q.set('purpose', this.purpose.value);
    if (this.after) q.set('after', this.after);
    this.more.disabled = true;
    this.summary.textContent = 'Loading…';
    try {
      const page = await callJSON('GET', '/files?' + q);
      if (gen !== this.generation) return;
      const known = new Set(this.files.map((f) => f.id));
      for (const f of page.data) if (!known.has(f.id)) this.files.push(f);
      this.after = page.last_id ?? this.after;
      this.hasMore = page.has_more;
    } catch (err) {
      if (gen === this.generation) this.fail(err);
    } finally {
      this.more.disabled = false;
      if (gen === this.generation) this.render();
    }
  }

  // add puts a file just uploaded at the top, if it passes the purpose filter.
  add(file) {
    if (!file || this.files.some((f) => f.id === file.id)) return;
    if (this.purpose.value && this.purpose.value !== file.purpose) return;
    this.files.unshift(file);
    this.render();
  }

  render() {
    const needle = this.name.value.trim().toLowerCase();
    const shown = needle ? this.files.filter((f) => f.filename.toLowerCase().includes(needle)) : this.files;
    const rows = shown.map((f) => this.row(f));
    this.body.replaceChildren(...rows);
    const none = this.files.length === 0 && !this.hasMore;
    this.empty.hidden = !none || !!this.purpose.value;
    this.table.hidden = shown.length === 0;
    this.more.hidden = !this.hasMore;
    let text;
    if (this.files.length === 0) text = this.purpose.value ? `No files with purpose ${this.purpose.value}.` : '';
    else if (needle) text = `${shown.length} of ${this.files.length} loaded files match.`;
    else text = `${this.files.length} ${this.files.length === 1 ? 'file' : 'files'}${this.hasMore ? ' loaded, more to load' : ''}.`;
    this.summary.textContent = text;
  }

  row(f) {
    const name = el('td', { class: 'name', 'data-label': 'Filename' }, el('span', { class: 'filename', text: f.filename }));
    const size = el('td', { class: 'num', 'data-label': 'Size' }, el('span', { title: exactBytes(f.bytes), text: humanSize(f.bytes) }));
    const when = (t, label) => el('td', { class: 'when', 'data-label': label }, t == null
      ? el('span', { class: 'muted', text: 'Never' })
      : el('time', { datetime: new Date(t * 1000).toISOString(), title: localTime(t) },
        el('span', { text: localTime(t) }), el('span', { class: 'rel', text: relativeTime(t) })));
    const copy = el('button', { type: 'button', class: 'quiet small', 'aria-label': `Copy ID ${f.id}`, title: 'Copy ID', text: 'Copy' });
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(f.id);
        this.announce(`Copied ${f.id}.`);
        copy.textContent = 'Copied';
        setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
      } catch {
        this.announce('The browser did not allow copying; select the ID instead.');
      }
    });
    const id = el('td', { 'data-label': 'ID' }, el('div', { class: 'idcell' }, el('code', { title: f.id, text: f.id }), copy));
    const dl = el('button', { type: 'button', class: 'small', text: 'Download' });
    dl.addEventListener('click', () => this.download(f, dl));
    const del = el('button', { type: 'button', class: 'small danger', text: 'Delete' });
    del.addEventListener('click', () => this.confirmDelete(f, del));
    const tr = el('tr', { 'data-id': f.id }, name,
      el('td', { 'data-label': 'Purpose' }, el('span', { class: 'pill', text: f.purpose })),
      size, when(f.created_at, 'Created'), when(f.expires_at, 'Expires'), id,
      el('td', { class: 'actions' }, dl, del));
    return tr;
  }

  // download saves the file with the key in a header: streamed to disk with
  // the File System Access API where the browser has it, else through a
  // Blob in memory, up to blobLimit.
  async download(f, button) {
    const path = `/files/${encodeURIComponent(f.id)}/content`;
    const headers = { Accept: 'application/binary' };
    button.disabled = true;
    try {
      if (window.showSaveFilePicker) {
        let handle;
        try {
          handle = await window.showSaveFilePicker({ suggestedName: f.filename });
        } catch (err) {
          if (err.name === 'AbortError') return;
          throw err;
        }
        const res = await call('GET', path, { headers });
        await res.body.pipeTo(await handle.createWritable());
        this.announce(`Saved ${f.filename}.`);
        return;
      }
      if (f.bytes > blobLimit) {
        throw new Error(`This browser cannot stream a download to disk, and ${humanSize(f.bytes)} is more than the ${humanSize(blobLimit)} it may hold in memory. ` +
          `Use a Chromium-based browser, or the command line: silo files content ${f.id} --output FILE`);
      }
      const res = await call('GET', path, { headers });
      const url = URL.createObjectURL(await res.blob());
      const a = el('a', { href: url, download: f.filename });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      this.fail(err);
    } finally {
      button.disabled = false;
    }
  }

  confirmDelete(f, button) {
    const d = this.dialog;
    d.querySelector('#confirm-name').textContent = f.filename;
    const ok = d.querySelector('#confirm-ok'), no = d.querySelector('#confirm-cancel');
    const done = async (yes) => {
      ok.onclick = no.onclick = null;
      d.close();
      if (!yes) { button.focus(); return; }
      try {
        await call('DELETE', `/files/${encodeURIComponent(f.id)}`);
        const tr = button.closest('tr');
        const nextId = (tr?.nextElementSibling || tr?.previousElementSibling)?.dataset.id;
        const i = this.files.findIndex((x) => x.id === f.id);
        if (i >= 0) this.files.splice(i, 1);
        this.render();
        // Keep keyboard users in place: focus a neighbour's Delete, else the filter.
        const next = nextId && this.body.querySelector(`tr[data-id="${CSS.escape(nextId)}"] button.danger`);
        (next || this.name).focus();
        this.announce(`Deleted ${f.filename}.`);
      } catch (err) {
        this.fail(err);
      }
    };
    ok.onclick = () => done(true);
    no.onclick = () => done(false);
    d.oncancel = () => { ok.onclick = no.onclick = null; button.focus(); };
    d.showModal();
  }
}
