// outbox: unacknowledged messages are kept, resent with the same
// client_msg_id after a reconnect, and leave on their ack or echo.
import test, { mock } from 'node:test';
import assert from 'node:assert/strict';

import { flushMicrotasks, install, latest, sockets } from './fake-socket.js';
import { ChatSocket } from '../socket.js';
import { Outbox, clientMsgId } from '../outbox.js';

install();

function setup({ conv = 5 } = {}) {
  const t = { sent: [], changes: [], conv };
  t.sock = new ChatSocket({ path: '/ws/agent', auth: () => ({ csrf_token: 'c' }), onOpen: () => t.outbox.flush() });
  t.outbox = new Outbox({
    socket: () => t.sock,
    prefix: () => 'a7',
    frame: (item) => (t.conv ? { type: item.kind === 'note' ? 'note.send' : 'message.send', conversation_id: t.conv } : null),
    onSent: (item, ack) => t.sent.push([item.cmid, ack.message]),
    onChange: (stored) => t.changes.push(stored),
  });
  t.connect = () => {
    t.sock.start();
    t.ws = latest();
    t.ws.open();
    t.ws.receive({ type: 'ack', id: 'auth' });
  };
  t.sends = () => t.ws.sent.filter((f) => /\.send$/.test(f.type));
  return t;
}

test.beforeEach(() => {
  sockets.length = 0;
  mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
});
test.afterEach(() => mock.timers.reset());

test('client_msg_id: the prefix and 96 random bits', () => {
  assert.match(clientMsgId('w'), /^w-[0-9a-f]{24}$/);
  assert.notEqual(clientMsgId('w'), clientMsgId('w'));
});

test('a message is sent at once and leaves on its ack', async () => {
  const t = setup();
  t.connect();
  const item = t.outbox.add({ body: 'hello', kind: 'message' });
  const [f] = t.sends();
  assert.deepEqual({ ...f, id: 0 }, { type: 'message.send', conversation_id: 5, client_msg_id: item.cmid, body: 'hello', id: 0 });
  assert.equal(item.state, 'sending');
  t.ws.receive({ type: 'ack', id: f.id, message: { seq: 1 } });
  await flushMicrotasks();
  assert.deepEqual(t.outbox.items, []);
  assert.deepEqual(t.sent, [[item.cmid, { seq: 1 }]]);
});

test('written offline, or cut off before the ack: resent with the same id after the reconnect', async () => {
  const t = setup();
  const offline = t.outbox.add({ body: 'typed offline' });
  assert.equal(offline.state, 'queued');
  t.connect();
  const inflight = t.outbox.add({ body: 'ack lost' });
  t.ws.serverClose(1006);
  await flushMicrotasks();
  assert.deepEqual(
    t.outbox.items.map((i) => i.state),
    ['queued', 'queued'],
  );
  mock.timers.tick(t.sock.retryAt - Date.now());
  t.ws = latest();
  t.ws.open();
  t.ws.receive({ type: 'ack', id: 'auth' }); // onOpen flushes
  const ids = t.sends().map((f) => f.client_msg_id);
  assert.deepEqual(ids, [offline.cmid, inflight.cmid]);
  // The echo of one of them arrives first: it leaves, and its ack changes nothing.
  assert.equal(t.outbox.remove(inflight.cmid), true);
  assert.equal(t.outbox.remove(inflight.cmid), false);
  assert.equal(t.outbox.items.length, 1);
});

test('no conversation yet: the item waits', () => {
  const t = setup({ conv: 0 });
  t.connect();
  const item = t.outbox.add({ body: 'first' });
  assert.equal(item.state, 'queued');
  assert.equal(t.sends().length, 0);
  t.conv = 9;
  t.outbox.flush();
  assert.equal(t.sends()[0].conversation_id, 9);
});

test('errors: a pause for a busy server, a new id for a taken one, failed otherwise', async () => {
  const t = setup();
  t.connect();
  const busy = t.outbox.add({ body: 'busy' });
  let f = t.sends().pop();
  t.ws.receive({ type: 'error', id: f.id, code: 'rate_limited' });
  await flushMicrotasks();
  assert.equal(busy.state, 'queued');
  mock.timers.tick(3999);
  assert.equal(t.sends().length, 1);
  mock.timers.tick(1);
  f = t.sends().pop();
  assert.equal(f.client_msg_id, busy.cmid);

  const taken = t.outbox.add({ body: 'taken' });
  const old = taken.cmid;
  const g = t.sends().pop();
  t.ws.receive({ type: 'error', id: g.id, code: 'invalid_field', field: 'client_msg_id' });
  await flushMicrotasks();
  mock.timers.tick(0);
  assert.notEqual(taken.cmid, old);
  assert.equal(t.sends().pop().client_msg_id, taken.cmid);

  const long = t.outbox.add({ body: 'x'.repeat(5000) });
  const h = t.sends().pop();
  t.ws.receive({ type: 'error', id: h.id, code: 'message_too_long', message: 'the message is too long' });
  await flushMicrotasks();
  assert.equal(long.state, 'failed');
  assert.equal(long.error, 'message_too_long');
  assert.equal(long.message, 'the message is too long');
  const n = t.sends().length;
  t.outbox.flush();
  assert.equal(t.sends().length, n, 'flush leaves a failed item alone');
  t.outbox.retry(long.cmid);
  assert.equal(long.state, 'sending');
  assert.equal(t.sends().pop().client_msg_id, long.cmid);
});

test('restore: kept items come back queued; onChange says when to store', () => {
  const t = setup();
  t.outbox.restore([{ cmid: 'a7-x', body: 'kept', at: 1, conv: 5 }]);
  assert.deepEqual(t.outbox.items, [{ cmid: 'a7-x', body: 'kept', at: 1, conv: 5, state: 'queued', error: null, message: '' }]);
  t.connect();
  assert.deepEqual(t.changes, [false]); // sending: nothing new to store
  t.outbox.add({ body: 'new' });
  assert.deepEqual(t.changes, [false, true, false]);
});
