// socket: authentication, requests, dead connections and reconnecting.
import test, { mock } from 'node:test';
import assert from 'node:assert/strict';

import { fire, flushMicrotasks, install, latest, sockets } from './fake-socket.js';
import { ChatSocket, SocketError } from '../socket.js';

install();

function make(extra = {}) {
  const log = { opens: [], events: [], states: [], closes: [] };
  const sock = new ChatSocket({
    path: '/ws/visitor',
    auth: () => ({ token: 'tok' }),
    onOpen: (ack) => log.opens.push(ack),
    onEvent: (m) => log.events.push(m),
    onState: (s) => log.states.push(s.state),
    onClose: (c) => {
      log.closes.push(c);
      return 'retry';
    },
    ...extra,
  });
  return { sock, log };
}

async function connected(extra) {
  const t = make(extra);
  t.sock.start();
  const ws = latest();
  ws.open();
  ws.receive({ type: 'ack', id: 'auth' });
  return { ...t, ws };
}

test.beforeEach(() => {
  sockets.length = 0;
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
});
test.afterEach(() => mock.timers.reset());

test('authenticates with the first frame, then is open', async () => {
  const { sock, log, ws } = await connected();
  assert.equal(ws.url, 'wss://parley.example/ws/visitor');
  assert.deepEqual(ws.sent[0], { type: 'auth', id: 'auth', token: 'tok' });
  assert.equal(sock.isOpen, true);
  assert.deepEqual(log.states, ['connecting', 'open']);
  assert.equal(log.opens.length, 1);
});

test('stays idle without credentials', () => {
  const { sock, log } = make({ auth: () => null });
  sock.start();
  assert.equal(sockets.length, 0);
  assert.deepEqual(log.states, ['idle']);
});

test('replies resolve and reject their requests by id; events go to onEvent', async () => {
  const { sock, log, ws } = await connected();
  const p1 = sock.request({ type: 'read', conversation_id: 1, seq: 2 });
  const p2 = sock.request({ type: 'message.send', conversation_id: 1, body: 'x' });
  const [f1, f2] = ws.sent.slice(1);
  ws.receive({ type: 'message.created', message: { id: 1 } });
  ws.receive({ type: 'error', id: f2.id, code: 'message_too_long', message: 'too long', field: 'body' });
  ws.receive({ type: 'ack', id: f1.id, last_read_seq: 2 });
  assert.equal((await p1).last_read_seq, 2);
  await assert.rejects(p2, (e) => e instanceof SocketError && e.code === 'message_too_long' && e.field === 'body' && e.message === 'too long');
  assert.deepEqual(log.events, [{ type: 'message.created', message: { id: 1 } }]);
});

test('a request while not connected fails at once', async () => {
  const { sock } = make();
  await assert.rejects(sock.request({ type: 'ping' }), (e) => e.code === 'disconnected');
});

test('a close fails pending requests and reconnects with growing back-off', async () => {
  const { sock, log, ws } = await connected();
  const p = sock.request({ type: 'sync', conversation_id: 1, after_seq: 0 });
  ws.serverClose(1006);
  await assert.rejects(p, (e) => e.code === 'disconnected');
  await flushMicrotasks();
  assert.equal(sock.state, 'waiting');
  assert.equal(log.closes[0].code, 1006);
  const delays = [];
  for (let i = 0; i < 9; i++) {
    delays.push(sock.retryAt - Date.now());
    mock.timers.tick(sock.retryAt - Date.now());
    latest().serverClose(1006); // refused again
    await flushMicrotasks();
  }
  const bases = [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000];
  delays.forEach((d, i) => assert.ok(d >= bases[i] * 0.75 && d <= bases[i] * 1.25, `retry ${i}: ${d} ms`));
  // Authenticating again starts the back-off over.
  mock.timers.tick(sock.retryAt - Date.now());
  latest().open();
  latest().receive({ type: 'ack', id: 'auth' });
  assert.equal(sock.attempt, 0);
  assert.equal(log.opens.length, 2);
});

test('the browser coming back online reconnects at once', async () => {
  const { sock, ws } = await connected();
  ws.serverClose(1006);
  await flushMicrotasks();
  const n = sockets.length;
  fire('online');
  assert.equal(sockets.length, n + 1);
  assert.equal(sock.state, 'connecting');
});

test('onClose decides: stop, reset, slow; a refused auth reports its code', async () => {
  let answer = 'stop';
  const { sock, log, ws } = await connected({
    onClose: (c) => {
      log.closes.push(c);
      return answer;
    },
  });
  ws.serverClose(4003, 'auth_failed');
  await flushMicrotasks();
  assert.equal(log.closes[0].error, 'auth_failed');
  assert.equal(sock.state, 'stopped');

  answer = 'slow';
  sock.restart();
  latest().open();
  latest().receive({ type: 'error', id: 'auth', code: 'too_many_sockets' });
  latest().serverClose(4003, 'too_many_sockets');
  await flushMicrotasks();
  assert.equal(log.closes[1].error, 'too_many_sockets');
  assert.ok(sock.retryAt - Date.now() >= 30000 * 0.75);

  answer = 'reset';
  sock.attempt = 5;
  mock.timers.tick(sock.retryAt - Date.now());
  latest().serverClose(4004, 'rights changed');
  await flushMicrotasks();
  assert.ok(sock.retryAt - Date.now() <= 625);
});

test('a connection that stops answering is replaced: no pong, or an unanswered request', async () => {
  const { sock, log, ws } = await connected({ requestTimeoutMs: 15000 });
  mock.timers.tick(25000);
  assert.deepEqual(ws.last(), { type: 'ping' });
  ws.receive({ type: 'pong' });
  mock.timers.tick(10000);
  assert.equal(sock.isOpen, true, 'the pong kept it');
  mock.timers.tick(15000); // the next ping, unanswered
  mock.timers.tick(10000);
  await flushMicrotasks();
  assert.deepEqual(ws.closed, { code: 4000, reason: 'no pong' });
  assert.equal(sock.state, 'waiting');
  assert.equal(log.closes[0].reason, 'no pong');

  mock.timers.tick(sock.retryAt - Date.now());
  const ws2 = latest();
  ws2.open();
  ws2.receive({ type: 'ack', id: 'auth' });
  const p = sock.request({ type: 'conversations.list' });
  mock.timers.tick(15000);
  await assert.rejects(p, (e) => e.code === 'timeout');
  await flushMicrotasks();
  assert.deepEqual(ws2.closed, { code: 4000, reason: 'no reply' });
  assert.equal(sock.state, 'waiting');
});

test('restart drops the connection and connects again at once; stop is final', async () => {
  const { sock, ws } = await connected();
  const p = sock.request({ type: 'sync', conversation_id: 1, after_seq: 0 });
  sock.restart();
  await assert.rejects(p, (e) => e.code === 'disconnected');
  assert.ok(ws.closed);
  assert.notEqual(latest(), ws);
  assert.equal(sock.state, 'connecting');
  sock.stop();
  assert.equal(sock.state, 'stopped');
  latest().serverClose(1000); // the old socket's close is ignored
  fire('online');
  mock.timers.tick(60000);
  assert.equal(sock.state, 'stopped');
});

test('sync pages until the server has no more', async () => {
  const { sock, ws } = await connected();
  const pages = [];
  const done = sock.sync(7, 3, { limit: 2, onPage: (a) => pages.push(a.messages.map((m) => m.seq)) });
  await flushMicrotasks();
  let f = ws.last();
  assert.deepEqual({ ...f, id: 0 }, { type: 'sync', conversation_id: 7, after_seq: 3, limit: 2, id: 0 });
  ws.receive({ type: 'ack', id: f.id, messages: [{ seq: 4 }, { seq: 5 }], more: true });
  await flushMicrotasks();
  f = ws.last();
  assert.equal(f.after_seq, 5);
  ws.receive({ type: 'ack', id: f.id, messages: [{ seq: 6 }], more: false });
  assert.equal(await done, true);
  assert.deepEqual(pages, [[4, 5], [6]]);
});
