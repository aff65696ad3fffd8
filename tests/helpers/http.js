'use strict';
// Raw HTTP for the integration tests. Built on http.request rather than fetch
// so that tests can send any header (Origin, Cookie, Host...), any method and
// an un-normalised request target (`/assets/../../etc/passwd`, `*`), and see
// the raw status, headers (all Set-Cookie lines) and body.

const http = require('node:http');
const https = require('node:https');

const { trustedCa } = require('./common');

/**
 * request(server, opts) -> Promise<Response>
 *   server: an object with { host, port } (what startParleyd returns) or a URL string
 *   opts: {
 *     method = 'GET', path = '/', headers = {},
 *     json        value to send as JSON (sets Content-Type: application/json unless given)
 *     body        string | Buffer to send as is
 *     origin      shorthand for headers.Origin
 *     jar         CookieJar: sends its cookies, stores Set-Cookie from the answer
 *     localAddress  source address (e.g. '127.0.0.2' to look like another client)
 *     onSent      called once the whole request has been handed to the kernel
 *     timeoutMs = 20000
 *   }
 * Response: { status, headers (lower-case names), rawHeaders, setCookies: [string],
 *             body (string), json (parsed JSON or undefined), truncated }
 * Each request uses its own connection (no keep-alive pool).
 */
function request(server, opts = {}) {
  const { host, port } = target(server);
  const method = opts.method || 'GET';
  const headers = { ...(opts.headers || {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
  }
  if (opts.origin && !hasHeader(headers, 'origin')) headers.Origin = opts.origin;
  if (opts.jar && opts.jar.size() && !hasHeader(headers, 'cookie')) headers.Cookie = opts.jar.header();
  if (body !== undefined) {
    body = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
    if (!hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) headers['Content-Length'] = String(body.length);
  }

  return new Promise((resolve, reject) => {
    let response = null;
    let settled = false;
    const finish = (fn, v) => {
      if (!settled) {
        settled = true;
        fn(v);
      }
    };
    const tls = typeof server === 'string' ? server.startsWith('https:') : Boolean(server.tls);
    const req = (tls ? https : http).request({
      ...(tls ? { ca: trustedCa() } : {}),
      host,
      port,
      method,
      path: opts.path || '/',
      headers,
      agent: false,
      localAddress: opts.localAddress,
      timeout: opts.timeoutMs || 20000,
      setHost: !hasHeader(headers, 'host'),
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${opts.path || '/'}: no answer within ${opts.timeoutMs || 20000} ms`)));
    req.on('error', (err) => {
      // Once the answer has started we keep it (the server may close the
      // connection while we are still sending a big body).
      if (!response) finish(reject, err);
    });
    req.on('response', (res) => {
      response = res;
      const chunks = [];
      let truncated = false;
      res.on('data', (c) => chunks.push(c));
      res.on('aborted', () => {
        truncated = true;
      });
      const done = () => {
        const bytes = Buffer.concat(chunks);
        const text = bytes.toString('utf8');
        const out = {
          bytes,
          status: res.statusCode,
          statusMessage: res.statusMessage,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          setCookies: [].concat(res.headers['set-cookie'] || []),
          body: text,
          json: parseJson(text, res.headers['content-type']),
          truncated,
        };
        if (opts.jar) opts.jar.update(out);
        finish(resolve, out);
      };
      res.on('end', done);
      res.on('error', () => {
        truncated = true;
        done();
      });
      res.on('close', () => {
        if (!settled) {
          truncated = true;
          done();
        }
      });
    });
    if (opts.onSent) req.on('finish', () => opts.onSent(req));
    if (body === undefined) {
      req.end();
    } else {
      writeBody(req, body, () => response !== null);
    }
  });
}

/** Write a (possibly large) body in chunks, stopping once an answer arrived. */
function writeBody(req, body, answered) {
  const CHUNK = 64 * 1024;
  let off = 0;
  const pump = () => {
    while (off < body.length) {
      if (answered() || req.destroyed) return;
      const piece = body.subarray(off, off + CHUNK);
      off += piece.length;
      if (off >= body.length) {
        req.end(piece);
        return;
      }
      if (!req.write(piece)) {
        req.once('drain', pump);
        return;
      }
    }
    req.end();
  };
  pump();
}

function target(server) {
  if (typeof server === 'string') {
    const u = new URL(server);
    return { host: u.hostname, port: Number(u.port) || 80 };
  }
  return { host: server.host || '127.0.0.1', port: server.port };
}

function hasHeader(headers, name) {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

function parseJson(text, contentType) {
  if (!text || !/json/i.test(contentType || '')) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Parse one Set-Cookie header line.
 * -> { name, value, attrs: { path, samesite, 'max-age', expires, domain, ... },
 *      httpOnly, secure, raw }
 * attribute names are lower-cased; flag attributes have the value true.
 */
function parseSetCookie(line) {
  const parts = line.split(';');
  const first = parts.shift();
  const eq = first.indexOf('=');
  const name = (eq >= 0 ? first.slice(0, eq) : first).trim();
  const value = eq >= 0 ? first.slice(eq + 1).trim() : '';
  const attrs = {};
  for (const p of parts) {
    const i = p.indexOf('=');
    const k = (i >= 0 ? p.slice(0, i) : p).trim().toLowerCase();
    if (!k) continue;
    attrs[k] = i >= 0 ? p.slice(i + 1).trim() : true;
  }
  return { name, value, attrs, httpOnly: attrs.httponly === true, secure: attrs.secure === true, raw: line };
}

/** Find the Set-Cookie for `name` in a response (parsed), or null. */
function findSetCookie(res, name) {
  for (const line of res.setCookies) {
    const c = parseSetCookie(line);
    if (c.name === name) return c;
  }
  return null;
}

/** A minimal cookie jar (one host, no path/expiry matching beyond deletion). */
class CookieJar {
  constructor(initial = {}) {
    this.cookies = new Map(Object.entries(initial));
  }
  update(res) {
    for (const line of res.setCookies || []) {
      const c = parseSetCookie(line);
      const maxAge = c.attrs['max-age'];
      const expires = c.attrs.expires ? Date.parse(c.attrs.expires) : NaN;
      if ((maxAge !== undefined && Number(maxAge) <= 0) || (!Number.isNaN(expires) && expires <= Date.now())) {
        this.cookies.delete(c.name);
      } else {
        this.cookies.set(c.name, c.value);
      }
    }
  }
  get(name) {
    return this.cookies.get(name);
  }
  set(name, value) {
    this.cookies.set(name, value);
  }
  delete(name) {
    this.cookies.delete(name);
  }
  size() {
    return this.cookies.size;
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const SESSION_COOKIE = 'parley_session';
const PROBLEM_PREFIX = 'urn:parley:problem:';

/**
 * POST /api/auth/login with the right Origin and Content-Type.
 * Options: jar, headers, localAddress, onSent (called once the request is sent).
 * Resolves { res, jar, cookie (session value or undefined), csrf }.
 */
async function login(srv, email, password, { jar = new CookieJar(), headers = {}, localAddress, onSent } = {}) {
  const res = await request(srv, {
    method: 'POST',
    path: '/api/auth/login',
    origin: srv.origin,
    json: { email, password },
    headers,
    jar,
    localAddress,
    onSent,
  });
  return { res, jar, cookie: jar.get(SESSION_COOKIE), csrf: res.json && res.json.csrf_token };
}

/** A problem+json answer's content type without parameters, lower-cased. */
function mediaType(res) {
  return String(res.headers['content-type'] || '')
    .split(';')[0]
    .trim()
    .toLowerCase();
}

module.exports = {
  request,
  parseSetCookie,
  findSetCookie,
  CookieJar,
  login,
  mediaType,
  SESSION_COOKIE,
  PROBLEM_PREFIX,
};
