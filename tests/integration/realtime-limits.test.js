'use strict';
// Protocol limits and abuse guards: unauthenticated sockets, message length,
// malformed frames, frame size, the visitor message rate and sockets per
// visitor. The server runs with small limits so that they are cheap to hit.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { openVisitorSocket, connectVisitor, visitorToken, startConversation, sendMessage } = require('../helpers/fixtures');

const MAX_CHARS = 100;
const MAX_FRAME = 2048;
const RATE = 3;
const MAX_SOCKETS = 2;
const MAX_UNAUTH = 3;

let site;
const fx = suite({
  env: {
    PARLEY_MESSAGE_MAX_CHARS: String(MAX_CHARS),
    PARLEY_WS_MAX_FRAME_BYTES: String(MAX_FRAME),
    PARLEY_VISITOR_RATE_MESSAGES: String(RATE),
    PARLEY_VISITOR_RATE_WINDOW_SECONDS: '60',
    PARLEY_VISITOR_MAX_SOCKETS: String(MAX_SOCKETS),
    PARLEY_WS_MAX_UNAUTHENTICATED: String(MAX_UNAUTH),
  },
});
const { test } = fx;

fx.setup(async () => {
  ({ site } = await fx.teamWithSite());
});

async function messagesOf(cid) {
  const r = await fx.pg.query("SELECT body FROM messages WHERE conversation_id = $1 AND kind = 'message' ORDER BY seq", [cid]);
  return r.rows.map((x) => x.body);
}

// First in the file: no socket of another test may be waiting for auth.
test('PARLEY_WS_MAX_UNAUTHENTICATED: sockets beyond it are refused until one authenticates', async () => {
  const { token } = await visitorToken(fx.srv, site);
  const waiting = [];
  for (let i = 0; i < MAX_UNAUTH; i++) waiting.push(await openVisitorSocket(fx.srv, { origin: site.origin, label: `unauthenticated ${i + 1}` }));
  await assert.rejects(
    openVisitorSocket(fx.srv, { origin: site.origin, label: 'one too many' }),
    (e) => e.status !== undefined,
    'a socket beyond the limit was accepted',
  );

  await waiting[0].ack({ type: 'auth', token });
  const more = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'after one authenticated' });
  for (const c of [...waiting, more]) await c.close();
});

test('message length, bad JSON, unknown types and missing fields get their error codes', async () => {
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);

  const longest = 'é'.repeat(MAX_CHARS); // characters, not bytes
  const ok = await sendMessage(v, cid, longest);
  assert.equal(ok.message.body, longest);
  const tooLong = await v.expectError(
    { type: 'message.send', conversation_id: cid, client_msg_id: 'long-1', body: 'é'.repeat(MAX_CHARS + 1) },
    'message_too_long',
  );
  assert.equal(tooLong.field, 'body');

  v.sendRaw('this is {not json');
  const bad = await v.nextType('error', (m) => m.code === 'bad_json');
  assert.ok(!bad.id);
  assert.equal((await v.request({ type: 'ping' })).type, 'pong', 'bad JSON must not end an authenticated socket');

  const unknown = await v.expectError({ type: 'message.explode', id: 'u-1' }, 'unknown_type');
  assert.equal(unknown.id, 'u-1');
  await v.expectError({ type: 'note.send', conversation_id: cid, client_msg_id: 'n-1', body: 'agents only' }, 'unknown_type');
  await v.expectError({ type: 'conversation.accept', conversation_id: cid }, 'unknown_type');

  const missing = await v.expectError({ type: 'message.send', conversation_id: cid, body: 'no key' }, 'invalid_field');
  assert.equal(missing.field, 'client_msg_id');
  const blank = await v.expectError({ type: 'message.send', conversation_id: cid, client_msg_id: 'blank-1', body: ' \n\t ' }, 'invalid_field');
  assert.equal(blank.field, 'body');
  const noConv = await v.expectError({ type: 'message.send', client_msg_id: 'nc-1', body: 'where to?' }, 'invalid_field');
  assert.equal(noConv.field, 'conversation_id');

  assert.deepEqual(await messagesOf(cid), [longest], 'only the valid message may be stored');
  assert.ok(v.isOpen);
  await v.close();
});

test('a frame over PARLEY_WS_MAX_FRAME_BYTES closes the socket with 1009 from its header', async () => {
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  const frame = JSON.stringify({ type: 'message.send', id: 'big-1', conversation_id: cid, client_msg_id: 'big-1', body: 'x'.repeat(MAX_FRAME) });
  assert.ok(Buffer.byteLength(frame) > MAX_FRAME);
  v.sendRaw(frame);
  const closed = await v.waitClosed();
  assert.equal(closed.code, 1009, `close code ${closed.code} ${closed.reason}`);
  assert.equal(closed.reason, 'frame too large');
  assert.deepEqual(await messagesOf(cid), []);
});

test('PARLEY_VISITOR_RATE_MESSAGES: the message after the limit is rate_limited', async () => {
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  for (let i = 1; i <= RATE; i++) await sendMessage(v, cid, `message ${i}`);
  const limited = await v.expectError({ type: 'message.send', conversation_id: cid, client_msg_id: 'over-limit', body: 'one too many' }, 'rate_limited');
  assert.ok(limited.message);
  assert.deepEqual(await messagesOf(cid), ['message 1', 'message 2', 'message 3']);
  // Another socket of the same visitor shares the budget.
  const v2 = await connectVisitor(fx.srv, site, { token: v.token, label: 'same visitor, second socket' });
  await v2.expectError({ type: 'message.send', conversation_id: cid, client_msg_id: 'over-limit-2', body: 'me again' }, 'rate_limited');
  // Other visitors are not affected.
  const w = await connectVisitor(fx.srv, site, { label: 'another visitor' });
  const wc = await startConversation(w);
  await sendMessage(w, wc, 'not limited');
  for (const c of [v, v2, w]) await c.close();
});

test('PARLEY_VISITOR_MAX_SOCKETS: one socket too many for a visitor gets too_many_sockets', async () => {
  const { token } = await visitorToken(fx.srv, site);
  const socks = [];
  for (let i = 0; i < MAX_SOCKETS; i++) socks.push(await connectVisitor(fx.srv, site, { token, label: `socket ${i + 1}` }));
  const extra = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'socket too many' });
  const r = await extra.request({ type: 'auth', token });
  assert.equal(r.type, 'error', `auth of a socket over the limit was accepted: ${JSON.stringify(r)}`);
  assert.equal(r.code, 'too_many_sockets');
  await extra.waitClosed();
  // Another visitor is not affected.
  const other = await connectVisitor(fx.srv, site, { label: 'other visitor' });

  // Once one closes there is room again (the server notices the close shortly).
  await socks[0].close();
  let again;
  const deadline = Date.now() + 5000;
  for (;;) {
    const c = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'socket after a close' });
    const a = await c.request({ type: 'auth', token });
    if (a.type === 'ack') {
      again = c;
      break;
    }
    await c.waitClosed().catch(() => {});
    if (Date.now() > deadline) assert.fail(`still ${a.code} 5 s after a socket closed`);
    await new Promise((res) => setTimeout(res, 100));
  }
  for (const c of [...socks, again, other]) await c.close();
});
