// A stand-in for the browser's WebSocket, window and location, for the
// socket and outbox tests: every WebSocket made is kept in `sockets`; the
// test opens it, reads what was sent, answers and closes it.

export const sockets = [];

export class FakeWebSocket {
  static OPEN = 1;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closed = null;
    sockets.push(this);
  }
  send(text) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(text));
  }
  close(code, reason) {
    if (this.closed) return;
    this.closed = { code, reason };
    this.readyState = 3;
  }
  // ---- driven by the test ----
  open() {
    this.readyState = 1;
    this.onopen();
  }
  receive(frame) {
    this.onmessage({ data: JSON.stringify(frame) });
  }
  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
  last() {
    return this.sent[this.sent.length - 1];
  }
}

const listeners = {};
export function install() {
  globalThis.WebSocket = FakeWebSocket;
  globalThis.location = { protocol: 'https:', host: 'parley.example' };
  globalThis.window = {
    addEventListener: (t, fn) => (listeners[t] = fn),
    removeEventListener: (t) => delete listeners[t],
  };
}
export const fire = (type) => listeners[type] && listeners[type]();
export const latest = () => sockets[sockets.length - 1];
export const flushMicrotasks = () => new Promise((r) => setImmediate(r));
