// The REST side of the server: same-origin fetch with the session cookie,
// the CSRF header on every state change, and problem+json errors turned
// into ApiError (status, slug, detail, per-field messages).

let csrfToken = null;
let onSessionEnded = null;

export function setCsrf(token) {
  csrfToken = token;
}

/** Called when an authenticated call answers 401 (the session is gone). */
export function setSessionEndedHandler(fn) {
  onSessionEnded = fn;
}

/** The headers a state change sends besides the cookie (uploads send it through XHR). */
export function csrfHeaders() {
  return csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

/** A request made outside api() (an upload) answered 401: the session is gone. */
export function unauthorized() {
  if (onSessionEnded) onSessionEnded();
}

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || (status ? `HTTP ${status}` : 'Network error'));
    this.status = status;
    this.slug = typeof p.type === 'string' ? p.type.replace(/^urn:parley:problem:/, '') : '';
    this.title = p.title || '';
    this.fields = {};
    // Per-field messages: [{field, message}] under "errors" (problem_render), or "fields".
    for (const list of [p.errors, p.fields]) {
      if (!Array.isArray(list)) continue;
      for (const e of list) if (e && e.field) this.fields[e.field] = e.message || 'is not valid';
    }
    this.retryAfter = p.retryAfter;
  }
  /** A sentence for the user. */
  get text() {
    const fields = Object.entries(this.fields);
    if (fields.length) return fields.map(([f, m]) => `${f.replace(/_/g, ' ')}: ${m}`).join('; ');
    if (this.status === 0) return 'The server could not be reached. Check your connection and try again.';
    if (this.status === 403 && this.slug === 'forbidden') return this.message || 'You are not allowed to do this.';
    return this.message;
  }
}

export async function api(method, path, body, { auth = true } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (res.status === 204) return null;
  let data = null;
  if (/json/.test(res.headers.get('content-type') || '')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data || { title: res.statusText });
    const retry = Number(res.headers.get('retry-after'));
    if (retry > 0) err.retryAfter = retry;
    if (res.status === 401 && auth && onSessionEnded) onSessionEnded();
    throw err;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);
