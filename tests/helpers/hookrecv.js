'use strict';
// Webhook receivers for the webhook tests: a real HTTP server on 127.0.0.1
// (port 0) that records every request and answers what the test says, a
// redirector, and verifyWebhook(), a Standard Webhooks signature check
// written from the spec with node:crypto alone (so that it does not share a
// mistake with the C signer).
//
//   const r = await startReceiver();
//   // parleyd needs PARLEY_WEBHOOK_ALLOW_HTTP=1 and
//   // PARLEY_WEBHOOK_ALLOW_PRIVATE=127.0.0.0/8 to deliver to it
//   await createEndpoint({ url: r.url('/hook'), ... });
//   r.respond((req, attempt) => (attempt < 2 ? { status: 500 } : { status: 204 }));
//   const [first] = await r.waitFor(1, 10000);
//   const payload = verifyWebhook(secret, first.headers, first.body);
//   await r.close();
//
// startReceiver(opts) -> Promise<Receiver>
//   opts: {
//     host = '127.0.0.1'
//     respond      the initial responder (see respond() below)
//     maxBodyBytes = 1 MiB   bytes of each request body kept (the rest is read
//                            and dropped; the request is marked truncated)
//   }
//   Receiver: {
//     port, host
//     url(path = '/hook')   'http://127.0.0.1:<port>/hook'
//     requests              [{ method, path, headers (lower-case names),
//                              body (string, UTF-8), bytes (Buffer, as received,
//                              capped), size (bytes received), truncated,
//                              at (ms since the epoch when the request head
//                              arrived), attempt }] in order of arrival (a
//                              request is recorded once its body has been read)
//     respond(fn)           fn(req, attemptIndex) -> answer | undefined | Promise
//                           for the requests from now on. attemptIndex counts
//                           earlier requests with the same webhook-id header
//                           (0 on the first attempt of an event; without that
//                           header, earlier requests without it). An answer:
//                             { status = 200, headers = {}, body = 'ok' (string | Buffer),
//                               delayMs (wait before answering),
//                               hang: true (never answer; close() ends the socket),
//                               destroy: true (drop the connection, no answer) }
//                           respond(null) restores the default 200 "ok".
//     waitFor(n, timeoutMs = 10000) -> Promise<requests>  resolves once n
//                           requests have been recorded (rejects on timeout,
//                           saying how many arrived)
//     close() -> Promise    stops listening, ends every connection (hanging or
//                           delayed ones too) and rejects pending waitFor()s
//   }
//
// startRedirector(location, opts) -> Promise<Receiver> answering every request
//   302 (opts.status) with that Location; its requests record the hits.
//
// verifyWebhook(secretText, headers, body, { now, toleranceSec = 300 }) -> payload
//   Checks webhook-id / webhook-timestamp / webhook-signature against the
//   whsec_ secret and returns the parsed JSON body; throws an Error (with a
//   .code) saying what failed.

const crypto = require('node:crypto');
const http = require('node:http');

const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_ANSWER = Object.freeze({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' });

async function startReceiver(opts = {}) {
  const host = opts.host || '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  let responder = opts.respond || null;
  const requests = [];
  const sockets = new Set();
  const timers = new Set();
  const waiters = new Set();
  const seen = new Map(); // webhook-id (or '') -> requests so far
  let closed = false;

  const server = http.createServer((req, res) => {
    const at = Date.now();
    const chunks = [];
    let kept = 0;
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (kept < maxBodyBytes) {
        const piece = c.subarray(0, maxBodyBytes - kept);
        chunks.push(piece);
        kept += piece.length;
      }
    });
    req.on('error', () => {});
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const id = typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'] : '';
      const attempt = seen.get(id) || 0;
      seen.set(id, attempt + 1);
      const entry = {
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: bytes.toString('utf8'),
        bytes,
        size,
        truncated: size > kept,
        at,
        attempt,
      };
      requests.push(entry);
      for (const w of [...waiters]) w.check();
      answer(req, res, entry, attempt);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err, socket) => socket.destroy());

  async function answer(req, res, entry, attempt) {
    let a;
    try {
      a = responder ? await responder(entry, attempt) : undefined;
    } catch (err) {
      a = { status: 500, body: `receiver's respond() threw: ${err && err.message}` };
    }
    a = a || DEFAULT_ANSWER;
    if (closed || a.hang) return; // close() ends the socket
    if (a.destroy) {
      req.socket.destroy();
      return;
    }
    const send = () => {
      if (closed || res.destroyed) return;
      const status = a.status ?? 200;
      const body = a.body ?? (a.status === undefined ? 'ok' : '');
      const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
      const headers = { ...(a.headers || {}) };
      const named = (n) => Object.keys(headers).some((k) => k.toLowerCase() === n);
      const bodyless = status === 204 || status === 304 || (status >= 100 && status < 200);
      if (!bodyless && !named('content-length') && !named('transfer-encoding')) headers['content-length'] = String(buf.length);
      if (!bodyless && buf.length && !named('content-type')) headers['content-type'] = 'text/plain';
      res.writeHead(status, headers);
      res.end(bodyless ? undefined : buf);
    };
    if (a.delayMs > 0) {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, a.delayMs);
      timers.add(t);
    } else {
      send();
    }
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address();

  return {
    host,
    port,
    requests,
    url(path = '/hook') {
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}${path.startsWith('/') ? '' : '/'}${path}`;
    },
    respond(fn) {
      responder = fn || null;
    },
    waitFor(n, timeoutMs = 10000) {
      return new Promise((resolve, reject) => {
        const w = {
          check() {
            if (requests.length >= n) {
              clearTimeout(w.timer);
              waiters.delete(w);
              resolve(requests.slice());
            }
          },
          fail(why) {
            clearTimeout(w.timer);
            waiters.delete(w);
            reject(new Error(`webhook receiver: ${why} (waiting for ${n} request(s), ${requests.length} arrived: ${summary(requests)})`));
          },
        };
        if (closed) return w.fail('closed');
        waiters.add(w);
        w.timer = setTimeout(() => w.fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        w.check();
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of [...waiters]) w.fail('closed');
      const done = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      return done;
    },
  };
}

function summary(requests) {
  if (!requests.length) return 'none';
  return requests.map((r) => `${r.method} ${r.path} ${r.headers['webhook-id'] || ''}`.trim()).join('; ');
}

/** A receiver answering every request `status` (302) with Location: location. */
function startRedirector(location, { status = 302, ...opts } = {}) {
  return startReceiver({ ...opts, respond: () => ({ status, headers: { location }, body: '' }) });
}

// --- Standard Webhooks verification (https://www.standardwebhooks.com) -------

function fail(code, message) {
  const err = new Error(`webhook verification failed: ${message}`);
  err.code = code;
  return err;
}

/** A header from a plain object (any case) or a Fetch Headers, as one string or undefined. */
function header(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === 'function') {
    const v = headers.get(name);
    return v === null ? undefined : v;
  }
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(' ') : v === undefined ? undefined : String(v);
  }
  return undefined;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The HMAC key of a `whsec_<base64>` secret. */
function secretKey(secretText) {
  if (typeof secretText !== 'string' || !secretText.startsWith('whsec_')) throw fail('bad_secret', 'the secret must be a string starting with "whsec_"');
  const b64 = secretText.slice('whsec_'.length);
  if (!b64 || !BASE64.test(b64)) throw fail('bad_secret', 'the part of the secret after "whsec_" is not base64');
  return Buffer.from(b64, 'base64');
}

/**
 * Verify a webhook request and return its parsed JSON body.
 *   secretText   'whsec_<base64>'
 *   headers      the request headers (object with any-case names, or Headers)
 *   body         the raw body exactly as received (string or Buffer)
 *   now          unix seconds (Date.now() / 1000 by default)
 *   toleranceSec how far webhook-timestamp may be from now, either way
 */
function verifyWebhook(secretText, headers, body, { now = Date.now() / 1000, toleranceSec = 300 } = {}) {
  const key = secretKey(secretText);
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  for (const [name, v] of [
    ['webhook-id', id],
    ['webhook-timestamp', ts],
    ['webhook-signature', sigs],
  ]) {
    if (v === undefined || v === '') throw fail('missing_header', `no ${name} header`);
  }
  if (!/^[0-9]{1,15}$/.test(ts)) throw fail('bad_timestamp', `webhook-timestamp ${JSON.stringify(ts)} is not unix seconds`);
  const age = now - Number(ts);
  if (age > toleranceSec) throw fail('timestamp_too_old', `webhook-timestamp ${ts} is ${Math.round(age)} s old (tolerance ${toleranceSec} s)`);
  if (-age > toleranceSec) throw fail('timestamp_too_new', `webhook-timestamp ${ts} is ${Math.round(-age)} s in the future (tolerance ${toleranceSec} s)`);

  const raw = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
  const expected = crypto
    .createHmac('sha256', key)
    .update(Buffer.from(`${id}.${ts}.`, 'utf8'))
    .update(raw)
    .digest();
  let v1 = 0;
  let ok = false;
  for (const entry of sigs.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue; // another scheme or version
    v1 += 1;
    const b64 = entry.slice(comma + 1);
    if (!BASE64.test(b64)) continue;
    const given = Buffer.from(b64, 'base64');
    // Check every entry (no early exit), each in constant time.
    if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) ok = true;
  }
  if (!v1) throw fail('no_signature', `webhook-signature ${JSON.stringify(sigs)} has no v1 entry`);
  if (!ok) throw fail('bad_signature', `none of the ${v1} v1 signature(s) matches (wrong secret, or the body, id or timestamp changed)`);

  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw fail('bad_json', `the signed body is not JSON: ${err.message}`);
  }
}

module.exports = { startReceiver, startRedirector, verifyWebhook };
