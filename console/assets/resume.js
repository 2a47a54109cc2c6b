// What an upload under way has sent, in IndexedDB, so that a reopened page
// given the same file again sends only the parts not yet acknowledged. A
// record is keyed by the file's name, size and last-modified time.

const dbName = 'silo-console', storeName = 'uploads';
let dbPromise = null;

function db() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(dbName, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(storeName, { keyPath: 'key' });
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const t = d.transaction(storeName, mode);
    const req = fn(t.objectStore(storeName));
    t.oncomplete = () => resolve(req?.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export function resumeKey(file) { return `${file.name}\u0000${file.size}\u0000${file.lastModified}`; }
export const get = (key) => tx('readonly', (s) => s.get(key));
export const put = (rec) => tx('readwrite', (s) => s.put(rec));
export const remove = (key) => tx('readwrite', (s) => s.delete(key));
export const all = () => tx('readonly', (s) => s.getAll());

// expired reports whether the Upload of rec can take no more parts: it
// expires within a minute.
export function expired(rec, now = Date.now()) { return rec.expiresAt * 1000 - 60000 <= now; }
