// The agent's WebSocket (/ws/agent): authenticates with the CSRF token
// (the browser sends the session cookie), matches replies to requests by
// id, pings to notice dead connections, and reconnects with exponential
// back-off and jitter. What to do after (re)connecting is the store's job
// (onOpen); close codes that mean "you are logged out" go to onFatal;
// 4004 (the agent's role or teams changed) reconnects at once, and the new
// authentication brings the new rights.

const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;
const AUTH_WITHIN_MS = 10000;

export class SocketError extends Error {
  constructor(code, message, field) {
    super(message || code);
    this.code = code;
    this.field = field;
  }
}

export class AgentSocket {
  /**
   * opts: getCsrf() -> token, onOpen(authAck), onEvent(frame),
   * onState({state, attempt, retryAt}), onFatal(reason), checkSession() -> Promise<bool>
   */
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.state = 'idle'; // idle | connecting | open | waiting | stopped
    this.attempt = 0;
    this.retryAt = 0;
    this.pending = new Map();
    this.seq = 0;
    this.timer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.authTimer = null;
    this.onlineHandler = () => {
      if (this.state === 'waiting') this.retryNow();
    };
    window.addEventListener('online', this.onlineHandler);
  }

  get isOpen() {
    return this.state === 'open';
  }

  _setState(state) {
    this.state = state;
    this.opts.onState({ state, attempt: this.attempt, retryAt: this.retryAt });
  }

  start() {
    if (this.state === 'connecting' || this.state === 'open') return;
    this._connect();
  }

  stop() {
    this._clearTimers();
    window.removeEventListener('online', this.onlineHandler);
    this._setState('stopped');
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close(1000, 'bye');
      } catch {
        /* closed */
      }
    }
    this._failPending('stopped');
  }

  retryNow() {
    if (this.state !== 'waiting') return;
    clearTimeout(this.timer);
    this._connect();
  }

  /** Drops the current connection (for tests and "reconnect" buttons). */
  drop() {
    if (this.ws) this.ws.close(4000, 'client reconnect');
  }

  _clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.authTimer);
  }

  _connect() {
    this._clearTimers();
    this._setState('connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/agent`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this._scheduleRetry();
      return;
    }
    this.ws = ws;
    let authed = false;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      ws.send(JSON.stringify({ type: 'auth', id: 'auth', csrf_token: this.opts.getCsrf() || '' }));
      this.authTimer = setTimeout(() => ws.close(4000, 'auth timeout'), AUTH_WITHIN_MS);
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!authed) {
        if (m.id === 'auth' && m.type === 'ack') {
          authed = true;
          clearTimeout(this.authTimer);
          this.attempt = 0;
          this.retryAt = 0;
          this._setState('open');
          this._startPing(ws);
          this.opts.onOpen(m);
        } else if (m.type !== 'ack' && m.type !== 'error') {
          this.opts.onEvent(m);
        }
        return;
      }
      if ((m.type === 'ack' || m.type === 'error' || m.type === 'pong') && typeof m.id === 'string' && this.pending.has(m.id)) {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.type === 'error') p.reject(new SocketError(m.code, m.message, m.field));
        else p.resolve(m);
        return;
      }
      if (m.type === 'pong') {
        clearTimeout(this.pongTimer);
        return;
      }
      if (m.type === 'ack' || m.type === 'error') return; // a reply nobody waits for
      this.opts.onEvent(m);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this._clearTimers();
      this._failPending('disconnected');
      this._onClose(ev.code, ev.reason || '');
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  async _onClose(code, reason) {
    if (this.state === 'stopped') return;
    if (code === 4002) return this._fatal('logged_out');
    if (code === 4004) this.attempt = 0; // rights changed: no back-off
    if (code === 4001 && reason === 'deactivated') return this._fatal('deactivated');
    if (code === 4003 && reason === 'auth_failed') {
      // The session may have ended (expired, logged out elsewhere).
      let alive;
      try {
        alive = await this.opts.checkSession();
      } catch {
        alive = true;
      }
      if (!alive) return this._fatal('session_ended');
    }
    this._scheduleRetry();
  }

  _fatal(reason) {
    this._setState('stopped');
    this.opts.onFatal(reason);
  }

  _scheduleRetry() {
    if (this.state === 'stopped') return;
    const base = Math.min(30000, 500 * 2 ** Math.min(this.attempt, 6));
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
      this.pongTimer = setTimeout(() => ws.close(4000, 'no pong'), PONG_WITHIN_MS);
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

  /** Sends a frame and resolves with its ack (rejects with SocketError). */
  request(frame, { timeoutMs = 20000 } = {}) {
    if (!this.ws || this.state !== 'open') return Promise.reject(new SocketError('disconnected', 'not connected'));
    this.seq += 1;
    const id = `r${this.seq}`;
    const ws = this.ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(id)) return;
        this.pending.delete(id);
        reject(new SocketError('timeout', 'the server did not answer in time'));
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

  /** Fire and forget (typing). */
  send(frame) {
    if (this.ws && this.state === 'open') {
      try {
        this.ws.send(JSON.stringify(frame));
      } catch {
        /* dropped */
      }
    }
  }
}
