'use strict';
// Privileges end when they change, on every node (issue 9, item 6). Two
// parleyd processes on one database:
//   - a password change (the agent's own, or an admin's) ends the agent's
//     other sessions and closes the sockets opened with them (4002) on both
//     nodes; the agent's own changing session stays;
//   - a demotion, a removal from a team and a deactivation take effect on
//     sockets that are already open: from the moment the change commits
//     nothing is acked that the new rights do not allow, and the sockets
//     close (4004 "rights changed", 4001 "deactivated") on both nodes;
//   - a site that turns identity_required on refuses the anonymous visitor
//     tokens it issued before, and closes their open sockets (4003).

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { assertJson, assertProblem, assertStatus } = require('../helpers/assert');
const { connect, wsUrl } = require('../helpers/ws');
const {
  createTeam,
  createAgent,
  createSite,
  connectVisitor,
  identityHash,
  openVisitorSocket,
  startConversation,
  sendMessage,
  visitorSession,
  convUpdated,
  mentions,
  uniq,
} = require('../helpers/fixtures');

let admin;
let asAdmin;
const fx = suite({ nodes: 2 });
const { test } = fx;

fx.setup(async () => {
  admin = await createAgent(fx.pg, { name: 'Nodes Admin', role: 'admin' });
  asAdmin = await client(fx.nodes[0], await session(fx.nodes[0], admin));
});

/** A new session of an agent, logged in through srv: { cookie, csrf }. */
async function session(srv, agent, password = agent.password) {
  const r = await login(srv, agent.email, password);
  assert.equal(r.res.status, 200, `login of ${agent.email} through :${srv.port}: ${r.res.body}`);
  return { cookie: r.cookie, csrf: r.csrf };
}

/** call(method, path, json) through srv with a session's cookie and CSRF token. */
function client(srv, s) {
  return (method, path, json) =>
    request(srv, { method, path, json, origin: srv.origin, headers: { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf } });
}

/** An authenticated agent socket on srv opened with session s. */
async function agentSocket(srv, s, label, { subscribe = true } = {}) {
  const c = await connect(wsUrl(srv, '/ws/agent'), { headers: { Cookie: `parley_session=${s.cookie}`, Origin: srv.origin }, label });
  c.authAck = await c.ack({ type: 'auth', csrf_token: s.csrf });
  if (subscribe) await c.ack({ type: 'queue.subscribe' });
  return c;
}

/** The reply to frame on c is an error (its code) or c is closed: never an ack. */
async function refused(c, frame) {
  if (!c.isOpen) return 'closed';
  try {
    const r = await c.request(frame);
    assert.equal(r.type, 'error', `${c.label}: ${frame.type} was accepted after the change: ${JSON.stringify(r)}`);
    return r.code;
  } catch (e) {
    if (c.closeInfo) return 'closed';
    throw e;
  }
}

async function closedWith(c, code, reason) {
  const info = await c.waitClosed(5000);
  assert.equal(info.code, code, `${c.label} closed with ${info.code} ${info.reason}`);
  assert.equal(info.reason, reason);
}

async function stillOpen(c) {
  const pong = await c.request({ type: 'ping' });
  assert.equal(pong.type, 'pong', `${c.label} should still be open`);
}

const me = (srv, s) => request(srv, { path: '/api/auth/me', headers: { Cookie: `parley_session=${s.cookie}` } });

// ------------------------------------------------------------- passwords

test("an agent's own password change ends every other session and closes its sockets on both nodes; this session stays", async () => {
  const ann = await createAgent(fx.pg, { name: uniq('Pat Self ') });
  const mine = await session(fx.nodes[0], ann);
  const other = await session(fx.nodes[1], ann);
  const keepA = await agentSocket(fx.nodes[0], mine, 'changing session on A');
  const keepB = await agentSocket(fx.nodes[1], mine, 'changing session on B');
  const goneA = await agentSocket(fx.nodes[0], other, 'other session on A');
  const goneB = await agentSocket(fx.nodes[1], other, 'other session on B');

  const r = await client(fx.nodes[0], mine)('POST', '/api/auth/password', { current_password: ann.password, new_password: 'a brand new passphrase' });
  assertStatus(r, 204);
  await closedWith(goneA, 4002, 'logged out');
  await closedWith(goneB, 4002, 'logged out');
  await stillOpen(keepA);
  await stillOpen(keepB);
  assertProblem(await me(fx.nodes[0], other), 401, 'unauthenticated');
  assertProblem(await me(fx.nodes[1], other), 401, 'unauthenticated');
  assertJson(await me(fx.nodes[1], mine), 200);
  assert.equal((await login(fx.nodes[1], ann.email, ann.password)).res.status, 401, 'the old password must not work');
  assert.equal((await login(fx.nodes[0], ann.email, 'a brand new passphrase')).res.status, 200);
});

test("an admin's password change ends every session of the agent and closes their sockets on both nodes", async () => {
  const bob = await createAgent(fx.pg, { name: uniq('Pat Admin ') });
  const s1 = await session(fx.nodes[0], bob);
  const s2 = await session(fx.nodes[1], bob);
  const socks = [
    await agentSocket(fx.nodes[0], s1, 'bob on A'),
    await agentSocket(fx.nodes[1], s1, 'bob s1 on B'),
    await agentSocket(fx.nodes[1], s2, 'bob s2 on B'),
  ];
  const adminSock = await agentSocket(fx.nodes[1], await session(fx.nodes[1], admin), 'admin on B');

  assertJson(await asAdmin('PATCH', `/api/agents/${bob.id}`, { password: 'set by the admin 42' }), 200);
  for (const c of socks) await closedWith(c, 4002, 'logged out');
  for (const s of [s1, s2]) {
    assertProblem(await me(fx.nodes[0], s), 401, 'unauthenticated');
    assertProblem(await me(fx.nodes[1], s), 401, 'unauthenticated');
  }
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM agent_sessions WHERE agent_id = $1', [bob.id])).rows[0].n, 0);
  await stillOpen(adminSock);
  assertJson(await asAdmin('GET', '/api/auth/me'), 200);
  assert.equal((await login(fx.nodes[1], bob.email, 'set by the admin 42')).res.status, 200);
});

// ------------------------------------------------------- rights on open sockets

test("a demoted supervisor can no longer read or act on another team's conversation over the open sockets, and they close (4004) on both nodes", async () => {
  const own = await createTeam(fx.pg);
  const foreign = await createTeam(fx.pg);
  const sue = await createAgent(fx.pg, { name: uniq('Sue Super '), role: 'supervisor', teams: [own] });
  const site = await createSite(fx.pg, { teamId: foreign });
  const v = await connectVisitor(fx.nodes[0], site, { label: 'visitor of the foreign team' });
  const cid = await startConversation(v);
  const first = await sendMessage(v, cid, 'hello from another team');

  const s = await session(fx.nodes[0], sue);
  const onA = await agentSocket(fx.nodes[0], s, 'sue on A');
  const onB = await agentSocket(fx.nodes[1], s, 'sue on B');
  // As a supervisor: reads and writes in any team's conversation.
  const sync = await onB.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(sync.messages.some((m) => m.id === first.message.id));
  await sendMessage(onA, cid, 'a supervisor note', { type: 'note.send' });

  assertJson(await asAdmin('PATCH', `/api/agents/${sue.id}`, { role: 'agent' }), 200);
  // From the commit on, whichever the socket and node: nothing is allowed.
  for (const c of [onB, onA]) {
    const code = await refused(c, { type: 'sync', conversation_id: cid, after_seq: 0 });
    assert.ok(['not_found', 'closed'].includes(code), `${c.label}: sync answered ${code}`);
    assert.ok(['forbidden', 'closed'].includes(await refused(c, { type: 'note.send', conversation_id: cid, client_msg_id: uniq('n'), body: 'still here?' })));
    assert.ok(['forbidden', 'closed'].includes(await refused(c, { type: 'conversation.accept', conversation_id: cid })));
  }
  await closedWith(onA, 4004, 'rights changed');
  await closedWith(onB, 4004, 'rights changed');

  // Reconnecting gives the new rights.
  const again = await agentSocket(fx.nodes[1], s, 'sue again on B');
  assert.equal(again.authAck.agent.role, 'agent');
  await again.expectError({ type: 'sync', conversation_id: cid, after_seq: 0 }, 'not_found');
  const list = await again.ack({ type: 'conversations.list' });
  assert.ok(!list.conversations.some((c) => c.id === cid), 'the foreign conversation is still listed');
  // Nothing more of that conversation reaches her: a later event she does
  // get (commit order) comes after the visitor's message was delivered.
  await sendMessage(v, cid, 'after the demotion');
  const marker = await createAgent(fx.pg, { name: uniq('Marker ') });
  const m = await agentSocket(fx.nodes[0], await session(fx.nodes[0], marker), 'marker', { subscribe: false });
  await m.ack({ type: 'status.set', status: 'online' });
  await again.nextType('agent.presence', (p) => p.agent_id === marker.id && p.status === 'online');
  assert.deepEqual(
    again.seen(mentions(cid)).filter((f) => f.type === 'message.created'),
    [],
  );
  for (const c of [again, m, v]) await c.close();
});

test('an agent removed from a team loses its queue at once: the open sockets close (4004) on both nodes and hear nothing more of it', async () => {
  const team = await createTeam(fx.pg);
  const tom = await createAgent(fx.pg, { name: uniq('Tom Team '), teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const v = await connectVisitor(fx.nodes[0], site);
  const cid = await startConversation(v);
  const s = await session(fx.nodes[1], tom);
  const onA = await agentSocket(fx.nodes[0], s, 'tom on A');
  const onB = await agentSocket(fx.nodes[1], s, 'tom on B');
  await onA.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });

  assertJson(await asAdmin('PATCH', `/api/teams/${team}`, { member_ids: [] }), 200);
  for (const c of [onA, onB]) {
    const code = await refused(c, { type: 'sync', conversation_id: cid, after_seq: 0 });
    assert.ok(['not_found', 'closed'].includes(code), `${c.label}: sync answered ${code}`);
  }
  await closedWith(onA, 4004, 'rights changed');
  await closedWith(onB, 4004, 'rights changed');

  // A conversation queued in the team afterwards reaches a new socket of Tom
  // no more than the closed ones.
  const again = await agentSocket(fx.nodes[0], s, 'tom again on A');
  assert.deepEqual(again.authAck.teams, []);
  const watcher = await agentSocket(fx.nodes[0], await session(fx.nodes[0], admin), 'admin watching');
  const v2 = await connectVisitor(fx.nodes[1], site);
  const c2 = await startConversation(v2);
  await watcher.next(convUpdated(c2, 'queued'), 5000, 'the new queued conversation');
  const marker = await createAgent(fx.pg, { name: uniq('Marker ') });
  const m = await agentSocket(fx.nodes[1], await session(fx.nodes[1], marker), 'marker', { subscribe: false });
  await m.ack({ type: 'status.set', status: 'away' });
  await again.nextType('agent.presence', (p) => p.agent_id === marker.id && p.status === 'away');
  assert.deepEqual(again.seen(mentions(c2)), [], 'a socket outside the team heard of its queue');
  for (const c of [onA, onB]) assert.deepEqual(c.seen(mentions(c2)), []);
  for (const c of [again, v, v2, watcher, m]) await c.close();
});

test("a deactivated agent's sockets close (4001) on both nodes and nothing is accepted after the change", async () => {
  const team = await createTeam(fx.pg);
  const dee = await createAgent(fx.pg, { name: uniq('Dee Gone '), teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const v = await connectVisitor(fx.nodes[1], site);
  const cid = await startConversation(v);
  const s = await session(fx.nodes[0], dee);
  const onA = await agentSocket(fx.nodes[0], s, 'dee on A');
  const onB = await agentSocket(fx.nodes[1], s, 'dee on B');

  assertJson(await asAdmin('PATCH', `/api/agents/${dee.id}`, { active: false }), 200);
  for (const c of [onA, onB]) {
    const code = await refused(c, { type: 'conversation.accept', conversation_id: cid });
    assert.ok(['closed', 'not_found', 'forbidden'].includes(code), `${c.label}: accept answered ${code}`);
  }
  await closedWith(onA, 4001, 'deactivated');
  await closedWith(onB, 4001, 'deactivated');
  assertProblem(await me(fx.nodes[1], s), 401, 'unauthenticated');
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM agent_sessions WHERE agent_id = $1', [dee.id])).rows[0].n, 0);
  assert.equal((await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [cid])).rows[0].status, 'queued');
  await v.close();
});

// ------------------------------------------------------- visitors: identity_required

test('identity_required turned on: earlier anonymous tokens are refused and their open sockets close on both nodes; verified ones stay', async () => {
  const team = await createTeam(fx.pg);
  const secret = 'nodes-identity-secret';
  const site = await createSite(fx.pg, { teamId: team, identitySecret: secret });
  const anonA = await connectVisitor(fx.nodes[0], site, { label: 'anonymous on A' });
  const anonB = await connectVisitor(fx.nodes[1], site, { label: 'anonymous on B' });
  const identity = { id: uniq('customer-') };
  identity.hash = identityHash(secret, identity.id);
  const verified = await connectVisitor(fx.nodes[1], site, { identity, label: 'verified on B' });
  assert.equal(verified.visitor.verified, true);
  const other = await createSite(fx.pg, { teamId: team });
  const elsewhere = await connectVisitor(fx.nodes[0], other, { label: 'anonymous on another site' });

  assertJson(await asAdmin('PATCH', `/api/sites/${site.id}`, { identity_required: true }), 200);
  await closedWith(anonA, 4003, 'identity_required');
  await closedWith(anonB, 4003, 'identity_required');
  await stillOpen(verified);
  await stillOpen(elsewhere);

  // The old token no longer authenticates a socket, on either node ...
  for (const srv of [fx.nodes[0], fx.nodes[1]]) {
    const c = await openVisitorSocket(srv, { origin: site.origin });
    const r = await c.request({ type: 'auth', token: anonA.token });
    assert.equal(r.type, 'error');
    assert.equal(r.code, 'identity_required');
    const info = await c.waitClosed();
    assert.equal(info.code, 4003);
    assert.equal(info.reason, 'identity_required');
  }
  // ... nor is it reused by the session endpoint: without an identity it is
  // refused; with one, the verified visitor gets a token of their own.
  assertProblem(await visitorSession(fx.nodes[0], site, { visitorToken: anonB.token }), 403, 'identity_required');
  const withId = await visitorSession(fx.nodes[1], site, { visitorToken: anonB.token, identity });
  assert.equal(withId.status, 200, withId.body);
  assert.notEqual(withId.json.visitor_token, anonB.token);
  assert.equal(withId.json.visitor.id, verified.visitor.id);
  assert.equal(withId.json.visitor.verified, true);
  for (const c of [verified, elsewhere]) await c.close();
});
