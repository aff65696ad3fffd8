'use strict';
// A visitor reaches only their own conversations: another visitor's token
// can neither act on them nor hear about them, and a token is bound to its
// site's origins.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  openVisitorSocket,
  visitorSession,
  startConversation,
  sendMessage,
  conversationRow,
  convUpdated,
  msgCreated,
  mentions,
} = require('../helpers/fixtures');

const fx = suite();
const { test } = fx;

test("visitor B can neither act on nor hear about visitor A's conversation", async () => {
  const team = await createTeam(fx.pg);
  const ann = await createAgent(fx.pg, { name: 'Ann Isolation', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, ann, { status: 'online' });
  const va = await connectVisitor(fx.srv, site, { label: 'visitor A' });
  const vb = await connectVisitor(fx.srv, site, { label: 'visitor B' });
  assert.notEqual(va.visitor.id, vb.visitor.id);

  const cA = await startConversation(va);
  await va.next(convUpdated(cA, 'assigned'), 5000, 'assignment of A');
  const cB = await startConversation(vb);
  await vb.next(convUpdated(cB, 'assigned'), 5000, 'assignment of B');
  const fromA = await sendMessage(va, cA, 'private words of A');
  await a.next(
    msgCreated(cA, (m) => m.id === fromA.message.id),
    5000,
    "A's message at the agent",
  );
  const before = await conversationRow(fx.pg, cA);

  // Every operation on A's conversation: not_found, as if it did not exist.
  await vb.expectError({ type: 'sync', conversation_id: cA, after_seq: 0 }, 'not_found');
  await vb.expectError({ type: 'message.send', conversation_id: cA, client_msg_id: 'b-into-a', body: 'intruder' }, 'not_found');
  await vb.expectError({ type: 'read', conversation_id: cA, seq: before.last_seq }, 'not_found');
  await vb.expectError({ type: 'typing', conversation_id: cA, on: true }, 'not_found');
  await vb.expectError({ type: 'conversation.close', conversation_id: cA }, 'not_found');
  const list = await vb.ack({ type: 'conversations.list' });
  assert.deepEqual(
    list.conversations.map((c) => c.id),
    [cB],
    "B's list must hold B's conversation only",
  );

  const after = await conversationRow(fx.pg, cA);
  assert.equal(after.status, 'assigned', "B closed A's conversation");
  assert.equal(after.last_seq, before.last_seq, "B wrote into A's conversation");
  const reads = await fx.pg.query('SELECT visitor_last_read_seq FROM conversations WHERE id = $1', [cA]);
  assert.equal(Number(reads.rows[0].visitor_last_read_seq), 0, "B moved A's read marker");
  const intr = await fx.pg.query("SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND client_msg_id = 'b-into-a'", [cA]);
  assert.equal(intr.rows[0].n, 0);

  // Traffic in A's conversation, in every kind of event.
  await a.ack({ type: 'typing', conversation_id: cA, on: true });
  await va.nextType('typing', (m) => m.conversation_id === cA && m.side === 'agent');
  const reply = await sendMessage(a, cA, 'answer for A only');
  await va.next(
    msgCreated(cA, (m) => m.id === reply.message.id),
    5000,
    'the answer at A',
  );
  await va.ack({ type: 'typing', conversation_id: cA, on: true });
  await va.ack({ type: 'read', conversation_id: cA, seq: reply.message.seq });
  await a.nextType('read', (m) => m.conversation_id === cA && m.side === 'visitor');
  await a.ack({ type: 'read', conversation_id: cA, seq: reply.message.seq });
  await va.nextType('read', (m) => m.conversation_id === cA && m.side === 'agent');
  await a.ack({ type: 'conversation.close', conversation_id: cA });
  await va.next(convUpdated(cA, 'closed'), 5000, 'close of A');
  // A's events have been fanned out; give B's queue a moment as well.
  await vb.request({ type: 'ping' });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(vb.seen(mentions(cA)), [], "B received frames about A's conversation");
  assert.ok(!vb.log.some((m) => JSON.stringify(m).includes('private words of A') || JSON.stringify(m).includes('answer for A only')), "A's text reached B");

  for (const c of [va, vb, a]) await c.close();
});

test("a token of one site is refused on another site's origin and does not carry over", async () => {
  const team = await createTeam(fx.pg);
  const site1 = await createSite(fx.pg, { teamId: team });
  const site2 = await createSite(fx.pg, { teamId: team });
  const va = await connectVisitor(fx.srv, site1, { label: 'visitor of site 1' });
  const cA = await startConversation(va);

  // The site-1 token on a page of site 2.
  const s = await openVisitorSocket(fx.srv, { origin: site2.origin, label: 'site-1 token on site-2 origin' });
  const refused = await s.request({ type: 'auth', token: va.token });
  assert.equal(refused.type, 'error', `auth was accepted: ${JSON.stringify(refused)}`);
  assert.equal(refused.code, 'origin_forbidden');
  await s.waitClosed();

  // Asking site 2 for a session with the site-1 token: a different visitor.
  const res = await visitorSession(fx.srv, site2, { visitorToken: va.token });
  assert.equal(res.status, 200, res.body);
  assert.notEqual(res.json.visitor_token, va.token, 'the site-1 token was reused for site 2');
  assert.notEqual(res.json.visitor.id, va.visitor.id, 'the site-1 visitor was carried over to site 2');
  const vc = await connectVisitor(fx.srv, site2, { token: res.json.visitor_token, label: 'visitor of site 2' });
  await vc.expectError({ type: 'sync', conversation_id: cA, after_seq: 0 }, 'not_found');
  await vc.expectError({ type: 'message.send', conversation_id: cA, client_msg_id: 'x-site', body: 'hi' }, 'not_found');
  const list = await vc.ack({ type: 'conversations.list' });
  assert.deepEqual(list.conversations, []);
  for (const c of [va, vc]) await c.close();
});
