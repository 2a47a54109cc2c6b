// Browser tests of Silo's web console, in headless Chromium driven by
// Playwright. cmd/silo's TestConsoleBrowser starts the real `silo serve` and
// runs this script with:
//   SILO_URL        the server's origin, e.g. http://127.0.0.1:PORT
//   SILO_KEY        a valid API key
//   OTHER_ORIGIN    a second loopback server, listed in --cors-origins, that
//                   serves /cors.html and /log (the server's request log)
//   CHROMIUM        the browser binary
//   ARTIFACTS       a directory for screenshots and test files
//   BIG_MB          size of the large upload in MB (default 200)
// It prints one line per check and exits non-zero at the first failure.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { chromium } from 'playwright-core';

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`${k} is not set`); })();
const base = env('SILO_URL');
const key = env('SILO_KEY');
const other = env('OTHER_ORIGIN');
const artifacts = env('ARTIFACTS');
const bigMB = Number(env('BIG_MB', '200'));
const files = join(artifacts, 'files');
mkdirSync(files, { recursive: true });

const MiB = 1 << 20;
const timeout = 180_000; // a bound on any one wait, not an assertion of speed

// ---- helpers ----------------------------------------------------------------

async function makeFile(name, bytes) {
  const path = join(files, name);
  const out = createWriteStream(path);
  const h = createHash('sha256');
  for (let left = bytes; left > 0;) {
    const b = randomBytes(Math.min(left, 4 * MiB));
    h.update(b);
    left -= b.length;
    if (!out.write(b)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { path, name, bytes, sha256: h.digest('hex') };
}

async function sha256File(path) {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return h.digest('hex');
}

async function api(method, path, body, headers = {}) {
  const res = await fetch(base + '/v1' + path, {
    method, body,
    headers: { Authorization: `Bearer ${key}`, ...headers },
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers };
}

// serverLog is the server's request log (one line per request).
async function serverLog() { return (await fetch(other + '/log')).text(); }

// partRequests counts the part requests of an Upload the server answered
// with status (any status when omitted).
async function partRequests(uploadId, status) {
  const log = await serverLog();
  return log.split('\n').filter((l) => l.includes(`path=/v1/uploads/${uploadId}/parts `) &&
    (status === undefined || l.includes(` status=${status} `))).length;
}

async function until(what, fn, ms = timeout) {
  const end = Date.now() + ms;
  for (let i = 0; ; i++) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** i, 500)));
  }
}

let failures = 0;
async function check(name, fn) {
  const start = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}\n     ${String(err.stack || err).split('\n').join('\n     ')}`);
    throw err;
  }
}

// ---- browser ----------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});

// newPage opens the console in a fresh context. The File System Access API is
// hidden so that Download takes the Blob path, which Playwright can catch.
// With opfs, the save picker "chooses" a file of the origin private file
// system instead, so that the streaming path runs with a real writable.
async function newPage({ width = 1280, height = 860, signIn = true, opfs = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'en-US', acceptDownloads: true });
  if (opfs) {
    await context.addInitScript(() => {
      window.showSaveFilePicker = async ({ suggestedName }) =>
        (await navigator.storage.getDirectory()).getFileHandle(suggestedName, { create: true });
    });
  } else {
    await context.addInitScript(() => { delete Window.prototype.showSaveFilePicker; delete window.showSaveFilePicker; });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(base + '/');
  if (signIn) {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Files' }).waitFor();
  }
  return { page, context, dialogs, errors };
}

const uploadRegion = (page) => page.getByRole('region', { name: 'Upload' });
const filesRegion = (page) => page.getByRole('region', { name: 'Files' });
const rowOf = (page, name) => filesRegion(page).getByRole('row').filter({ has: page.getByText(name, { exact: true }) });
const uploadItem = (page, name) => uploadRegion(page).getByRole('listitem').filter({ hasText: name });

async function uploadViaInput(page, paths) {
  await uploadRegion(page).getByLabel('Upload files').setInputFiles(paths);
}

async function waitUploaded(page, name) {
  await uploadItem(page, name).getByText(/^Done/).waitFor();
  await rowOf(page, name).waitFor();
}

async function downloadSha(page, name) {
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    rowOf(page, name).getByRole('button', { name: 'Download' }).click(),
  ]);
  if (/^[\w.-]+$/.test(name)) assert.equal(dl.suggestedFilename(), name);
  return sha256File(await dl.path());
}

const sha256Of = new Map(); // file name -> sha256 of files made by the checks

const shot = (page, name) => page.screenshot({ path: join(artifacts, name), fullPage: true });

// ---- the checks ---------------------------------------------------------------

try {
  await check('console responses carry the strict headers', async () => {
    for (const path of ['/', '/console/app.js', '/console/md5-worker.js']) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      const csp = res.headers.get('content-security-policy');
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/);
      assert.match(csp, /connect-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('set-cookie'), null);
    }
    const res = await fetch(base + '/v1/nope', { headers: { Authorization: `Bearer ${key}` } });
    assert.equal(res.status, 404);
    assert.match((await res.json()).error.message, /Invalid URL/);
  });

  await check('sign in: a wrong key shows the API\'s message, a good key shows the files', async () => {
    const { page, context } = await newPage({ signIn: false });
    await shot(page, 'desktop-signin.png');
    await page.getByLabel('API key').fill('sk-wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Incorrect API key provided' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await filesRegion(page).getByText('No files here yet.').waitFor();
    assert.equal(await page.evaluate(() => document.cookie), '');
    // Reloading keeps the tab signed in; Sign out forgets the key.
    await page.reload();
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await context.close();
  });

  let big;
  await check(`upload ${bigMB} MB through the file input: progress moves, the table shows its size, the download is identical`, async () => {
    big = await makeFile('big.bin', bigMB * 1000 * 1000);
    const { page, context } = await newPage();
    // Hold the first part until the test has seen the progress bar move,
    // so that "it moved" does not depend on how fast the machine is.
    let release;
    const gate = new Promise((r) => { release = r; });
    await page.route('**/v1/uploads/*/parts', async (route) => {
      await gate;
      await route.continue();
    }, { times: 1 });
    await uploadViaInput(page, big.path);
    const bar = uploadItem(page, 'big.bin').getByRole('progressbar');
    const moved = await until('the progress bar to move', () => bar.evaluate((p) => p.value > 0 && p.value < p.max ? p.value : 0));
    await shot(page, 'desktop-uploading.png');
    release();
    await waitUploaded(page, 'big.bin');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    assert.ok(moved > 0);
    const size = rowOf(page, 'big.bin').locator('td[data-label="Size"] span');
    assert.equal(await size.getAttribute('title'), `${big.bytes.toLocaleString('en-US')} bytes`);
    assert.equal(await downloadSha(page, 'big.bin'), big.sha256);
    await context.close();
  });

  await check('upload by drag and drop onto the page', async () => {
    const { page, context } = await newPage();
    const n = 3 * MiB + 17;
    const dt = await page.evaluateHandle((n) => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) % 251;
      const d = new DataTransfer();
      d.items.add(new File([b], 'dropped.bin', { type: 'application/octet-stream' }));
      return d;
    }, n);
    await page.dispatchEvent('body', 'dragenter', { dataTransfer: dt });
    assert.equal(await page.locator('#drop-overlay').isVisible(), true);
    await page.dispatchEvent('body', 'dragover', { dataTransfer: dt });
    await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
    await waitUploaded(page, 'dropped.bin');
    const want = createHash('sha256');
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) % 251;
    want.update(b);
    assert.equal(await downloadSha(page, 'dropped.bin'), want.digest('hex'));

    // A name the server refuses: the upload says the API's message.
    const long = 'n'.repeat(1100) + '.txt';
    const dt2 = await page.evaluateHandle((name) => {
      const d = new DataTransfer();
      d.items.add(new File(['x'], name));
      return d;
    }, long);
    await page.dispatchEvent('body', 'drop', { dataTransfer: dt2 });
    await uploadItem(page, long).getByText(/^Failed: The filename is 1104 bytes long; a filename takes at most 1024 bytes/).waitFor();
    await context.close();
  });

  await check('several files at once, with the chosen purpose', async () => {
    const { page, context } = await newPage();
    const some = [await makeFile('one.bin', 1), await makeFile('two.bin', 5 * MiB), await makeFile('three.bin', 12 * MiB + 3)];
    for (const f of some) sha256Of.set(f.name, f.sha256);
    await uploadRegion(page).getByLabel('Purpose').selectOption('assistants');
    await uploadViaInput(page, some.map((f) => f.path));
    for (const f of some) {
      await waitUploaded(page, f.name);
      const row = rowOf(page, f.name);
      assert.equal(await row.locator('td[data-label="Size"] span').getAttribute('title'),
        `${f.bytes.toLocaleString('en-US')} ${f.bytes === 1 ? 'byte' : 'bytes'}`);
      assert.equal(await row.locator('td[data-label="Purpose"]').innerText(), 'assistants');
    }
    assert.equal(await downloadSha(page, 'three.bin'), some[2].sha256);
    await context.close();
  });

  await check('Download streams to disk where the browser has the File System Access API', async () => {
    const { page, context } = await newPage({ opfs: true });
    await rowOf(page, 'two.bin').getByRole('button', { name: 'Download' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved two.bin.' }).waitFor();
    const got = await page.evaluate(async () => {
      const f = await (await (await navigator.storage.getDirectory()).getFileHandle('two.bin')).getFile();
      const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
      return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
    });
    assert.equal(got, sha256Of.get('two.bin'));
    await context.close();
  });

  await check('Cancel mid-way cancels the Upload on the server', async () => {
    const f = await makeFile('cancel-me.bin', 40 * MiB);
    const { page, context } = await newPage();
    // Parts wait here until the Upload is cancelled: the upload is mid-way for sure.
    await page.route('**/v1/uploads/*/parts', () => {});
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/uploads') && r.request().method() === 'POST');
    await uploadViaInput(page, f.path);
    const id = (await (await created).json()).id;
    const cancelled = page.waitForResponse((r) => r.url().endsWith(`/v1/uploads/${id}/cancel`));
    await uploadItem(page, 'cancel-me.bin').getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await (await cancelled).json()).status, 'cancelled');
    await uploadItem(page, 'cancel-me.bin').getByText('Cancelled.').waitFor();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    const form = new FormData();
    form.append('data', new Blob(['x']), 'part');
    const r = await api('POST', `/uploads/${id}/parts`, form);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'upload_cancelled');
    assert.equal(await partRequests(id, 200), 0, "parts accepted by the server");
    assert.equal(await rowOf(page, 'cancel-me.bin').count(), 0);
    await context.close();
  });

  await check('a reload mid-upload, then the same file again: only the missing parts are sent, the result is identical', async () => {
    const f = await makeFile('resume.bin', 60 * MiB); // 8 parts of 8 MiB
    const parts = 8, through = 3;
    const { page, context } = await newPage();
    // The network drops after three parts: later part requests fail.
    let seen = 0;
    await page.route('**/v1/uploads/*/parts', (route) => (++seen <= through ? route.continue() : route.abort('internetdisconnected')));
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/uploads') && r.request().method() === 'POST');
    await uploadViaInput(page, f.path);
    const id = (await (await created).json()).id;
    await until('three parts at the server', async () => (await partRequests(id, 200)) === through);
    await until('the page to record three parts', () => page.evaluate(() => new Promise((resolve) => {
      const req = indexedDB.open('silo-console');
      req.onsuccess = () => {
        const g = req.result.transaction('uploads').objectStore('uploads').getAll();
        g.onsuccess = () => resolve(g.result.some((r) => Object.keys(r.parts).length === 3));
      };
    })));
    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await uploadRegion(page).getByRole('list', { name: 'Interrupted uploads' }).getByText('resume.bin').waitFor();
    await shot(page, 'desktop-interrupted.png');
    await uploadViaInput(page, f.path);
    await waitUploaded(page, 'resume.bin');
    assert.equal(await partRequests(id), parts, 'part requests at the server over both pages');
    assert.equal(await partRequests(id, 200), parts);
    assert.match(await uploadItem(page, 'resume.bin').innerText(), /resumed/);
    assert.equal(await downloadSha(page, 'resume.bin'), f.sha256);
    await context.close();
  });

  await check('Discard an interrupted upload: cancelled on the server, forgotten by the page', async () => {
    const f = await makeFile('discard-me.bin', 2 * MiB);
    const { page, context } = await newPage();
    await page.route('**/v1/uploads/*/parts', (route) => route.abort('internetdisconnected'));
    const created = page.waitForResponse((r) => r.url().endsWith('/v1/uploads') && r.request().method() === 'POST');
    await uploadViaInput(page, f.path);
    const id = (await (await created).json()).id;
    await until('the page to keep the upload', () => page.evaluate((id) => new Promise((resolve) => {
      const req = indexedDB.open('silo-console');
      req.onsuccess = () => {
        const g = req.result.transaction('uploads').objectStore('uploads').getAll();
        g.onsuccess = () => resolve(g.result.some((r) => r.uploadId === id));
      };
    }), id));
    await page.reload();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    const list = uploadRegion(page).getByRole('list', { name: 'Interrupted uploads' });
    const cancelled = page.waitForResponse((r) => r.url().endsWith(`/v1/uploads/${id}/cancel`));
    await list.getByRole('listitem').filter({ hasText: 'discard-me.bin' }).getByRole('button', { name: 'Discard' }).click();
    assert.equal((await (await cancelled).json()).status, 'cancelled');
    await list.waitFor({ state: 'hidden' });
    await page.reload();
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    assert.equal(await list.isVisible(), false);
    await context.close();
  });

  await check('a file name that is HTML renders as text and runs nothing', async () => {
    const name = '<img src=x onerror=alert(1)>.txt';
    const { page, context, dialogs } = await newPage();
    await uploadRegion(page).getByLabel('Upload files').setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await waitUploaded(page, name);
    assert.equal(await rowOf(page, name).locator('.filename').innerText(), name);
    assert.equal(await page.locator('main img').count(), 0);
    await page.reload();
    await rowOf(page, name).waitFor();
    assert.equal(await page.locator('main img').count(), 0);
    assert.deepEqual(dialogs, []);
    await context.close();
  });

  await check('Delete asks to confirm; Cancel keeps the file, Delete removes it', async () => {
    const { page, context } = await newPage();
    const row = rowOf(page, 'one.bin');
    const id = await row.locator('code').innerText();
    await row.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete file?' });
    await dialog.getByText('one.bin').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await dialog.isVisible(), false);
    assert.equal((await api('GET', `/files/${id}`)).status, 200);
    await row.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    assert.equal((await api('GET', `/files/${id}`)).status, 404);
    await context.close();
  });

  await check('paging over 250 files with Load more, the purpose filter and the filename filter', async () => {
    const before = (await api('GET', '/files')).json.data.length;
    const names = [];
    for (let i = 0; i < 250; i++) names.push(`page-${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(names.slice(i, i + 10).map((n, j) => {
        const form = new FormData();
        form.append('purpose', (i + j) % 5 === 0 ? 'vision' : 'user_data');
        form.append('file', new Blob([n]), n);
        return api('POST', '/files', form).then((r) => assert.equal(r.status, 200, JSON.stringify(r.json)));
      }));
    }
    const total = before + 250;
    const { page, context } = await newPage();
    const region = filesRegion(page);
    const rows = region.locator('tbody tr');
    await until('the first page', async () => (await rows.count()) === 100);
    // Made ten at a time: the newest is one of the last ten.
    assert.match(await rows.first().locator('.filename').innerText(), /^page-024\d\.txt$/, 'newest first');
    await region.getByRole('button', { name: 'Load more' }).click();
    await until('the second page', async () => (await rows.count()) === 200);
    await region.getByRole('button', { name: 'Load more' }).click();
    await until('the last page', async () => (await rows.count()) === total);
    assert.equal(await region.getByRole('button', { name: 'Load more' }).isVisible(), false);
    await region.getByLabel('Filter by filename').fill('page-0042');
    await until('the filename filter', async () => (await rows.count()) === 1);
    await region.getByLabel('Filter by filename').fill('');
    await region.getByLabel('Purpose').selectOption('vision');
    await until('the purpose filter', async () => (await rows.count()) === 50);
    assert.equal(await region.getByRole('button', { name: 'Load more' }).isVisible(), false);
    await region.getByLabel('Purpose').selectOption('');
    await until('all purposes again', async () => (await rows.count()) === 100);
    await page.screenshot({ path: join(artifacts, 'desktop-files.png') });
    await context.close();

    const mobile = await newPage({ width: 360, height: 780 });
    await until('the first page at 360 px', async () => (await mobile.page.locator('tbody tr').count()) === 100);
    const overflow = await mobile.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 360 px screen`);
    await mobile.page.screenshot({ path: join(artifacts, 'mobile-files.png') });
    await mobile.page.getByRole('button', { name: 'Sign out' }).click();
    await mobile.page.getByLabel('API key').waitFor();
    await mobile.page.screenshot({ path: join(artifacts, 'mobile-signin.png') });
    await mobile.context.close();
  });

  await check('keyboard only: sign in and upload, with visible focus', async () => {
    const { page, context } = await newPage({ signIn: false });
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      return { id: e.id, outline: getComputedStyle(e).outlineStyle };
    });
    assert.equal((await focused()).id, 'key');
    await page.keyboard.type(key);
    await page.keyboard.press('Tab');
    const f = await focused();
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Sign in');
    assert.notEqual(f.outline, 'none', 'the focused button shows an outline');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Files' }).waitFor();
    assert.equal((await focused()).id, 'upload-purpose');
    await page.keyboard.press('Tab');
    assert.equal((await focused()).id, 'file-input');
    const labelOutline = await page.evaluate(() => getComputedStyle(document.querySelector('.file-label')).outlineStyle);
    assert.notEqual(labelOutline, 'none', 'the Upload files control shows focus');
    // Subscribe to the chooser before the key press and let the browser take the
    // subscription (it is sent separately from the key event), then check that
    // nothing took the focus away before Space.
    const chooserShown = page.waitForEvent('filechooser', { timeout: 30000 });
    const file = await makeFile('keyboard.bin', 2 * MiB);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    assert.equal((await focused()).id, 'file-input', 'the file input still has the focus');
    await page.keyboard.press('Space');
    let chooser;
    try {
      chooser = await chooserShown;
    } catch (err) {
      await page.screenshot({ path: join(artifacts, 'keyboard-no-chooser.png') });
      throw new Error(`Space on the focused file input opened no chooser (focus now on #${(await focused()).id}): ${err.message}`);
    }
    await chooser.setFiles(file.path);
    await waitUploaded(page, 'keyboard.bin');
    await context.close();
  });

  await check('CORS: preflight, a real cross-origin call from an allowed origin, none for others', async () => {
    const pre = await fetch(base + '/v1/files', {
      method: 'OPTIONS',
      headers: { Origin: other, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type,x-stainless-os,openai-project' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), other);
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization, content-type, x-stainless-os, openai-project');
    assert.equal(pre.headers.get('access-control-allow-credentials'), null);
    const stranger = await fetch(base + '/v1/files', { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' } });
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);

    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(`${other}/cors.html#${encodeURIComponent(JSON.stringify({ base, key }))}`);
    const out = await page.locator('#result').filter({ hasText: /./ }).innerText();
    const got = JSON.parse(out);
    assert.equal(got.status, 200, out);
    assert.equal(got.object, 'list');
    assert.match(got.requestId, /^req_/);
    // The same page from an origin not listed is refused by the browser.
    const refused = other.replace('127.0.0.1', 'localhost');
    await page.goto(`${refused}/cors.html#${encodeURIComponent(JSON.stringify({ base, key }))}`);
    const out2 = JSON.parse(await page.locator('#result').filter({ hasText: /./ }).innerText());
    assert.equal(out2.error, 'TypeError', JSON.stringify(out2));
    await ctx.close();
  });

  await check('screenshots for the README (another project)', async () => {
    const docsKey = env('SILO_DOCS_KEY');
    const names = [['handbook-2026.pdf', 2.4], ['support-tickets.jsonl', 0.8], ['product-photos.zip', 6.1],
      ['eval-questions.jsonl', 0.2], ['fine-tune-train.jsonl', 3.3]];
    for (const [n, mb] of names) {
      const form = new FormData();
      form.append('purpose', n.endsWith('.jsonl') ? 'evals' : 'user_data');
      form.append('file', new Blob([randomBytes(Math.round(mb * MiB))]), n);
      const r = await fetch(base + '/v1/files', { method: 'POST', body: form, headers: { Authorization: `Bearer ${docsKey}` } });
      assert.equal(r.status, 200);
    }
    const f = await makeFile('customer-calls-2026-q4.tar', 48 * MiB);
    for (const [width, height, file] of [[1100, 720, 'docs-desktop.png'], [360, 760, 'docs-mobile.png']]) {
      const context = await browser.newContext({ viewport: { width, height }, locale: 'en-US' });
      const page = await context.newPage();
      page.setDefaultTimeout(timeout);
      await page.goto(base + '/');
      await page.getByLabel('API key').fill(docsKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await rowOf(page, 'handbook-2026.pdf').waitFor();
      // Hold a part, so that the picture shows an upload under way.
      await page.route('**/v1/uploads/*/parts', () => {}, { times: 1 });
      await uploadViaInput(page, f.path);
      const bar = uploadItem(page, f.name).getByRole('progressbar');
      await until('progress', () => bar.evaluate((p) => p.value > p.max / 2));
      await page.evaluate(() => document.activeElement.blur());
      await page.screenshot({ path: join(artifacts, file) });
      await uploadItem(page, f.name).getByRole('button', { name: 'Cancel' }).click();
      await uploadItem(page, f.name).getByText('Cancelled.').waitFor();
      await context.close();
    }
  });
} catch {
  // reported by check
} finally {
  await browser.close();
}
console.log(failures === 0 ? 'all checks passed' : `${failures} check failed`);
process.exit(failures === 0 ? 0 : 1);
