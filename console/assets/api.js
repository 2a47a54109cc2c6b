// Calls to the /v1 API with the bearer key of this tab, and the retry rule
// of the official SDKs: network errors, 408, 409, 429 and 5xx are retried
// with exponential backoff, unless the server says x-should-retry: false.

const keyName = 'silo.apiKey';

export function apiKey() { return sessionStorage.getItem(keyName) || ''; }
export function setAPIKey(k) { sessionStorage.setItem(keyName, k); }
export function forgetAPIKey() { sessionStorage.removeItem(keyName); }

// APIError is an error answer of the API, with its message for people.
export class APIError extends Error {
  constructor(message, { status = 0, code = null, param = null, requestId = '', retryable = false, retryAfterMs = 0 } = {}) {
    super(message);
    this.name = 'APIError';
    Object.assign(this, { status, code, param, requestId, retryable, retryAfterMs });
  }
}

// retryableStatus is the SDKs' rule, with x-should-retry taking precedence.
function retryableStatus(status, shouldRetry) {
  if (shouldRetry === 'true') return true;
  if (shouldRetry === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

function retryAfter(headers) {
  const ms = Number(headers.get('retry-after-ms'));
  if (ms > 0) return ms;
  const s = Number(headers.get('retry-after'));
  if (s > 0) return s * 1000;
  return 0;
}

// errorOf turns a non-2xx answer (status, headers, body text) into an APIError.
export function errorOf(status, headers, text) {
  let message = '', code = null, param = null;
  try {
    const e = JSON.parse(text).error;
    if (e) ({ message, code, param } = e);
  } catch { /* not JSON: say the status */ }
  return new APIError(message || `The server answered ${status}.`, {
    status, code, param,
    requestId: headers.get('x-request-id') || '',
    retryable: retryableStatus(status, headers.get('x-should-retry')),
    retryAfterMs: retryAfter(headers),
  });
}

// call sends one request to /v1+path and returns the Response, or throws an
// APIError (answers) or a TypeError (network).
export async function call(method, path, { json, body, headers = {}, signal } = {}) {
  const h = new Headers(headers);
  h.set('Authorization', 'Bearer ' + apiKey());
  if (json !== undefined) {
    h.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  }
  const res = await fetch('/v1' + path, { method, headers: h, body, signal, cache: 'no-store', credentials: 'omit' });
  if (!res.ok) throw errorOf(res.status, res.headers, await res.text());
  return res;
}

// callJSON is call with the answer's JSON.
export async function callJSON(method, path, opts) {
  return (await call(method, path, opts)).json();
}

export const maxTries = 6;

// backoff is how long to wait before try n (1-based retry count): 0.5 s
// doubling to 8 s, with jitter, or what the server asked for (at most 60 s).
export function backoff(n, err) {
  if (err && err.retryAfterMs > 0) return Math.min(err.retryAfterMs, 60000);
  const base = Math.min(500 * 2 ** (n - 1), 8000);
  return base * (0.75 + Math.random() * 0.25);
}

export function isRetryable(err) {
  if (err && err.name === 'AbortError') return false;
  if (err instanceof APIError) return err.retryable;
  return err instanceof TypeError || (err && err.network === true);
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason ?? new DOMException('Aborted', 'AbortError'));
    }, { once: true });
  });
}

// retrying runs fn until it succeeds, fails for good, or maxTries is reached.
// onRetry(n, err) is told of each retry.
export async function retrying(fn, { signal, onRetry } = {}) {
  for (let n = 1; ; n++) {
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted || n >= maxTries || !isRetryable(err)) throw err;
      onRetry?.(n, err);
      await sleep(backoff(n, err), signal);
    }
  }
}
