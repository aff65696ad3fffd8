// socket: the WebSocket through which both front ends talk to parleyd
// (/ws/visitor for the widget, /ws/agent for the console; docs/protocol.md).
//
// It owns:
// - authentication as the first frame (the caller gives its fields: the
//   visitor token, or the console's CSRF token);
// - requests and their replies (ack, error, pong), matched by id; errors
//   reject with a SocketError carrying the protocol's code;
// - noticing a dead connection: an application ping every 25 s that some
//   frame must follow within 10 s, auth within 10 s, and a request left
//   unanswered. A dead connection is forgotten at once (a dead network can
//   take minutes to report the close) and replaced;
// - reconnecting: back-off from 0.5 s doubling to 30 s with ±25 % jitter, at
//   once on the browser's `online` event or retryNow(). After each close the
//   caller's onClose says whether to retry, start the back-off again
//   ('reset'), wait the longest ('slow') or stop;
// - the state for the UI: idle | connecting | open | waiting | stopped.
//
// Events go to onEvent. What to do after each (re)authentication (list,
// sync(), resend the outbox) is the caller's: onOpen.

export const PING_EVERY_MS = 25000;
export const PONG_WITHIN_MS = 10000;
export const AUTH_WITHIN_MS = 10000;
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 30000;

/** A request that failed: `code` is the protocol's error code, or disconnected | stopped | timeout. */
export class SocketError extends Error {
  constructor(code, message, field) {
    super(message || code);
    this.code = code;
    this.field = field;
  }
}

const REPLY = { ack: 1, error: 1, pong: 1 };

export class ChatSocket {
  /**
   * opts:
   *   path                '/ws/visitor' or '/ws/agent'
   *   auth()              the auth frame's own fields; null: nothing to authenticate with, stay idle
   *   onOpen(ack)         authenticated, the first time and after every reconnect
   *   onEvent(frame)      a frame that is not a reply
   *   onState({state, attempt, retryAt})
   *   onClose({code, reason, error}) -> 'retry' | 'reset' | 'slow' | 'stop' (or a promise of one):
   *                       error is the code of a refused auth (its error frame, or a 4003 close's reason)
   *   requestTimeoutMs    default for request()
   */
  constructor(opts) {
    this.opts = { requestTimeoutMs: 20000, onState() {}, onEvent() {}, onClose: () => 'retry', ...opts };
    this.ws = null;
    this.state = 'idle';
    this.attempt = 0;
    this.retryAt = 0;
    this.pending = new Map();
    this.seq = 0;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.authTimer = null;
    this.onOnline = () => this.retryNow();
  }

  get isOpen() {
    return this.state === 'open' && !!this.ws;
  }

  /** Connects unless connected or connecting. */
  start() {
    if (this.state === 'connecting' || this.state === 'open') return;
    window.addEventListener('online', this.onOnline);
    this._connect();
  }

  /** Closes for good (until the next start). Pending requests fail with `stopped`. */
  stop() {
    window.removeEventListener('online', this.onOnline);
    this._clearTimers();
    this._setState('stopped');
    this._forget(1000, 'bye');
    this._failPending('stopped');
  }

  /** Drops the current connection at once and connects again (e.g. new credentials). */
  restart() {
    this._forget(4000, 'client reconnect');
    this._failPending('disconnected');
    this.state = 'idle';
    this.start();
  }

  /** While waiting to reconnect: reconnect now. */
  retryNow() {
    if (this.state !== 'waiting') return;
    clearTimeout(this.timer);
    this._connect();
  }

  _setState(state) {
    this.state = state;
    this.opts.onState({ state, attempt: this.attempt, retryAt: this.retryAt });
  }

  _clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.authTimer);
  }

  /** Stops listening to the current WebSocket and closes it. */
  _forget(code, reason) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    try {
      ws.close(code, reason);
    } catch {
      /* closed already */
    }
  }

  _connect() {
    this._clearTimers();
    if (!this.opts.auth()) {
      this._setState('idle');
      return;
    }
    this._setState('connecting');
    let ws;
    try {
      ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${this.opts.path}`);
    } catch {
      this._retry();
      return;
    }
    this.ws = ws;
    let authed = false;
    let authError = '';
    ws.onopen = () => {
      if (this.ws !== ws) return;
      ws.send(JSON.stringify({ type: 'auth', id: 'auth', ...this.opts.auth() }));
      this.authTimer = setTimeout(() => this._dead(ws, 'auth timeout'), AUTH_WITHIN_MS);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!m || typeof m !== 'object') return;
      clearTimeout(this.pongTimer); // any frame shows the connection is alive
      if (!authed && m.id === 'auth') {
        if (m.type === 'error') authError = String(m.code || ''); // the close follows
        if (m.type !== 'ack') return;
        authed = true;
        clearTimeout(this.authTimer);
        this.attempt = 0;
        this.retryAt = 0;
        this._setState('open');
        this._startPing(ws);
        this.opts.onOpen(m);
        return;
      }
      if (REPLY[m.type]) {
        const p = typeof m.id === 'string' && this.pending.get(m.id);
        if (!p) return; // a reply nobody waits for (a ping's pong)
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.type === 'error') p.reject(new SocketError(m.code, m.message, m.field));
        else p.resolve(m);
        return;
      }
      this.opts.onEvent(m);
    };
    ws.onclose = (ev) => {
      if (this.ws === ws) this._lost(ev.code, ev.reason || '', authError || (ev.code === 4003 ? ev.reason || '' : ''));
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  /** The connection `ws` is dead (no pong, no reply, no auth answer): give it up now. */
  _dead(ws, why) {
    if (this.ws === ws) this._lost(4000, why, '');
  }

  async _lost(code, reason, error) {
    this._clearTimers();
    this._forget(4000, reason);
    this._failPending('disconnected');
    if (this.state === 'stopped') return;
    let next;
    try {
      next = await this.opts.onClose({ code, reason, error });
    } catch {
      next = 'retry';
    }
    // Stopped or restarted while the caller decided.
    if (this.state === 'stopped' || this.ws) return;
    if (next === 'stop') return this._setState('stopped');
    if (next === 'reset') this.attempt = 0;
    if (next === 'slow') this.attempt = Math.max(this.attempt, 6);
    this._retry();
  }

  _retry() {
    const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.attempt, 6));
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this._setState('waiting');
    this.timer = setTimeout(() => this._connect(), delay);
  }

  _startPing(ws) {
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'ping' }));
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => this._dead(ws, 'no pong'), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  _failPending(code) {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      clearTimeout(p.timer);
      p.reject(new SocketError(code, code === 'disconnected' ? 'the connection was lost' : code));
    }
  }

  /**
   * Sends a request and resolves with its ack (rejects with a SocketError).
   * A request the server leaves unanswered rejects with `timeout` and the
   * connection is replaced: what it carried is resent after the reconnect.
   */
  request(frame, { timeoutMs = this.opts.requestTimeoutMs } = {}) {
    if (!this.isOpen) return Promise.reject(new SocketError('disconnected', 'not connected'));
    this.seq += 1;
    const id = `r${this.seq}`;
    const ws = this.ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        reject(new SocketError('timeout', 'the server did not answer in time'));
        this._dead(ws, 'no reply');
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify({ ...frame, id }));
      } catch {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new SocketError('disconnected', 'not connected'));
      }
    });
  }

  /** Sends a frame that wants no reply (typing); dropped when not connected. */
  send(frame) {
    if (!this.isOpen) return;
    try {
      this.ws.send(JSON.stringify(frame));
    } catch {
      /* dropped */
    }
  }

  /**
   * Catches a conversation up: `sync` pages after afterSeq until the server
   * has no more (at most `pages` requests), each answer handed to onPage;
   * onPage returning false stops. Resolves true when caught up.
   */
  async sync(conversationId, afterSeq, { limit = 0, pages = 50, onPage }) {
    let after = afterSeq;
    for (let i = 0; i < pages; i++) {
      const frame = { type: 'sync', conversation_id: conversationId, after_seq: after };
      if (limit) frame.limit = limit;
      const ack = await this.request(frame);
      if (onPage(ack) === false) return false;
      const msgs = Array.isArray(ack.messages) ? ack.messages : [];
      if (!ack.more || !msgs.length) return true;
      after = msgs[msgs.length - 1].seq;
    }
    return true;
  }
}
