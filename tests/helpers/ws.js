'use strict';
// WebSocket client for the realtime integration tests.
//
//   const { connect, wsUrl } = require('../helpers/ws');
//   const c = await connect(wsUrl(srv, '/ws/visitor'), { headers: { Origin: o }, label: 'visitor' });
//   const ack = await c.ack({ type: 'auth', token });        // ack, or throws WsReplyError
//   const r = await c.request({ type: 'sync', ... });         // ack or error reply, never throws on error
//   const ev = await c.next((m) => m.type === 'message.created', 5000);
//   await c.close();
//
// Every frame the server sends is parsed and appended to c.log (never
// consumed) and to c.inbox (consumed by next() / request()), so an event
// that arrives before a test starts waiting for it is not missed. A frame
// that is not JSON is kept as { type: '__raw', raw }.

const WebSocket = require('ws');

const { trustedCa } = require('./common');

const DEFAULT_TIMEOUT_MS = 5000;

let requestCounter = 0;
const openClients = new Set();

class WsReplyError extends Error {
  constructor(reply, frame) {
    super(`server answered ${frame && frame.type} with error ${reply.code}${reply.field ? ` (field ${reply.field})` : ''}: ${reply.message}`);
    this.reply = reply;
    this.code = reply.code;
    this.field = reply.field;
  }
}

/** ws://host:port/path for a server returned by startParleyd. */
function wsUrl(srv, path) {
  return `${srv.url.replace(/^http/, 'ws')}${path}`;
}

function brief(m) {
  const s = JSON.stringify(m);
  return s.length > 400 ? `${s.slice(0, 400)}...` : s;
}

class WsClient {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.log = [];
    this.inbox = [];
    this.waiters = [];
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      this._resolveClosed = resolve;
    });
    ws.on('message', (data, isBinary) => this._onFrame(data, isBinary));
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: String(reason) };
      openClients.delete(this);
      const waiters = this.waiters.splice(0);
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error(`${this.label}: socket closed (${code} ${String(reason)}) while waiting for ${w.what}\n${this.recent()}`));
      }
      this._resolveClosed(this.closeInfo);
    });
    ws.on('error', () => {
      /* the close event follows */
    });
  }

  _onFrame(data, isBinary) {
    let m;
    const text = isBinary ? data : data.toString('utf8');
    try {
      m = JSON.parse(text);
    } catch {
      m = { type: '__raw', raw: String(text) };
    }
    this.log.push(m);
    const i = this.waiters.findIndex((w) => w.predicate(m));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(m);
    } else {
      this.inbox.push(m);
    }
  }

  /** The last frames received, for failure messages. */
  recent(n = 12) {
    const frames = this.log.slice(-n).map((m) => `  ${brief(m)}`);
    return `--- last ${frames.length} of ${this.log.length} frames received by ${this.label} ---\n${frames.join('\n')}`;
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a value as JSON text. */
  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  /** Send a string or Buffer as is (text frame unless opts.binary). */
  sendRaw(data, opts = {}) {
    this.ws.send(data, opts);
  }

  /**
   * Wait for (and consume) the first frame matching predicate, looking at
   * frames already received first. Rejects after timeoutMs or when the
   * socket closes.
   */
  next(predicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS, what = 'a matching frame') {
    const i = this.inbox.findIndex(predicate);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`${this.label}: socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) before ${what}\n${this.recent()}`));
    }
    return new Promise((resolve, reject) => {
      const w = { predicate, resolve, reject, what };
      w.timer = setTimeout(() => {
        const k = this.waiters.indexOf(w);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms\n${this.recent()}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** next() for a frame of one type, optionally with more conditions. */
  nextType(type, predicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS) {
    return this.next((m) => m.type === type && predicate(m), timeoutMs, `"${type}" frame`);
  }

  /**
   * Send a frame with a fresh request id (unless it has one) and resolve
   * with the reply carrying that id: an ack, an error or a pong.
   */
  request(frame, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const id = frame.id !== undefined ? frame.id : `r${++requestCounter}`;
    const out = { ...frame, id };
    const p = this.next((m) => (m.type === 'ack' || m.type === 'error' || m.type === 'pong') && m.id === id, timeoutMs, `reply to ${frame.type} (id ${id})`);
    this.send(out);
    return p;
  }

  /** request() that resolves with the ack and rejects (WsReplyError) on an error reply. */
  async ack(frame, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const r = await this.request(frame, timeoutMs);
    if (r.type === 'error') throw new WsReplyError(r, frame);
    return r;
  }

  /** request() that expects an error reply with the given code; returns it. */
  async expectError(frame, code, timeoutMs = DEFAULT_TIMEOUT_MS) {
    const r = await this.request(frame, timeoutMs);
    if (r.type !== 'error' || r.code !== code) {
      throw new Error(`${this.label}: expected error ${code} for ${brief(frame)}, got ${brief(r)}`);
    }
    return r;
  }

  /** Frames received so far (consumed or not) that match. */
  seen(predicate) {
    return this.log.filter(predicate);
  }

  /** Forget unconsumed frames. */
  clearInbox() {
    this.inbox.length = 0;
  }

  /** Resolves with {code, reason} once closed, or rejects after timeoutMs. */
  waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS) {
    if (this.closeInfo) return Promise.resolve(this.closeInfo);
    let timer;
    return Promise.race([
      this.closed.finally(() => clearTimeout(timer)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.label}: socket still open after ${timeoutMs} ms\n${this.recent()}`)), timeoutMs);
      }),
    ]);
  }

  /** Clean close (close handshake); falls back to terminate(). */
  async close(code = 1000, timeoutMs = 3000) {
    if (this.closeInfo) return this.closeInfo;
    try {
      this.ws.close(code);
    } catch {
      this.ws.terminate();
    }
    try {
      return await this.waitClosed(timeoutMs);
    } catch {
      this.ws.terminate();
      return this.closed;
    }
  }

  /** Drop the TCP connection without a close handshake (a network failure). */
  async terminate() {
    if (!this.closeInfo) this.ws.terminate();
    return this.closed;
  }
}

/**
 * Open a WebSocket. Options: headers (Origin, Cookie...), timeoutMs, label,
 * localAddress (source address, e.g. '127.0.0.2' to look like another client).
 * Resolves a WsClient once open; rejects when the handshake is refused,
 * with err.status set to the HTTP status when the server answered one.
 */
function connect(url, { headers = {}, timeoutMs = DEFAULT_TIMEOUT_MS, label = url, maxPayload, localAddress, autoPong = true } = {}) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      ...(maxPayload ? { maxPayload } : {}),
      ...(localAddress ? { localAddress } : {}),
      // false: the server's pings go unanswered (a dead peer, as the server sees it).
      autoPong,
      ...(url.startsWith('wss:') ? { ca: trustedCa() } : {}),
    });
    // Attach the client at once so that no frame sent right after the
    // handshake is lost.
    const client = new WsClient(ws, label);
    const fail = (err) => {
      if (settled) return;
      settled = true;
      try {
        ws.terminate();
      } catch {
        /* gone */
      }
      reject(err);
    };
    ws.on('unexpected-response', (req, res) => {
      const err = new Error(`${label}: handshake refused with HTTP ${res.statusCode}`);
      err.status = res.statusCode;
      res.resume();
      fail(err);
    });
    ws.on('error', (e) => {
      const err = new Error(`${label}: handshake failed: ${e.message}`);
      err.cause = e;
      err.status = 0;
      fail(err);
    });
    ws.on('close', (code) => {
      const err = new Error(`${label}: closed (${code}) during the handshake`);
      err.status = 0;
      fail(err);
    });
    ws.on('open', () => {
      if (settled) return;
      settled = true;
      openClients.add(client);
      resolve(client);
    });
  });
}

/** Close every client this process opened that is still open. */
async function closeAll() {
  await Promise.all([...openClients].map((c) => c.close().catch(() => {})));
}

module.exports = { connect, wsUrl, closeAll, WsClient, WsReplyError, DEFAULT_TIMEOUT_MS };
