'use strict';
// Getting onto a socket: authentication comes first and in time; Origin
// checks on the agent handshake, the widget session and the visitor socket;
// visitor identity verification across devices.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { connect, wsUrl } = require('../helpers/ws');
const { assertProblem } = require('../helpers/assert');
const {
  createSite,
  identityHash,
  agentSession,
  openAgentSocket,
  connectAgent,
  openVisitorSocket,
  connectVisitor,
  visitorSession,
  visitorToken,
  startConversation,
} = require('../helpers/fixtures');

// Short, yet long enough that a prompt auth is never late on a loaded machine.
const AUTH_TIMEOUT_MS = 1000;

let team;
let site;
let agent;
const fx = suite({ env: { PARLEY_WS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS) } });
const { test } = fx;

fx.setup(async () => {
  ({
    team,
    site,
    agents: [agent],
  } = await fx.teamWithSite({ agents: [{ name: 'Ava Auth' }] }));
});

test('any frame before auth is answered not_authenticated and the socket is closed', async () => {
  const v1 = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'visitor ping first' });
  const e1 = await v1.request({ type: 'ping', id: 'early-ping' });
  assert.equal(e1.type, 'error');
  assert.equal(e1.code, 'not_authenticated');
  assert.equal((await v1.waitClosed()).code, 4001);

  const v2 = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'visitor start first' });
  const e2 = await v2.request({ type: 'conversation.start' });
  assert.equal(e2.code, 'not_authenticated');
  await v2.waitClosed();

  const v3 = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'visitor garbage first' });
  v3.sendRaw('{"type": "auth", "token": ');
  const e3 = await v3.nextType('error');
  assert.ok(['bad_json', 'not_authenticated'].includes(e3.code), `unexpected code ${e3.code}`);
  await v3.waitClosed();

  const a = await openAgentSocket(fx.srv, agent, { label: 'agent status first' });
  const e4 = await a.request({ type: 'status.set', status: 'online' });
  assert.equal(e4.code, 'not_authenticated');
  assert.equal((await a.waitClosed()).code, 4001);
  const st = await fx.pg.query('SELECT status FROM agents WHERE id = $1', [agent.id]);
  assert.equal(st.rows[0].status, 'offline', 'a frame before auth changed the agent status');

  // A wrong token: refused and closed too.
  const v4 = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'visitor bad token' });
  const e5 = await v4.request({ type: 'auth', token: 'pv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  assert.equal(e5.code, 'auth_failed');
  await v4.waitClosed();
});

test('a socket that does not authenticate within PARLEY_WS_AUTH_TIMEOUT_MS is closed; one that does stays open', async () => {
  const idleV = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'silent visitor' });
  const idleA = await openAgentSocket(fx.srv, agent, { label: 'silent agent' });
  const good = await connectVisitor(fx.srv, site, { label: 'prompt visitor' });
  const closedV = await idleV.waitClosed(10 * AUTH_TIMEOUT_MS);
  const closedA = await idleA.waitClosed(10 * AUTH_TIMEOUT_MS);
  assert.equal(closedV.code, 4008, `close code ${closedV.code} ${closedV.reason}`);
  assert.equal(closedA.code, 4008, `close code ${closedA.code} ${closedA.reason}`);
  await new Promise((r) => setTimeout(r, AUTH_TIMEOUT_MS));
  const pong = await good.request({ type: 'ping' });
  assert.equal(pong.type, 'pong', 'an authenticated socket must outlive the auth timeout');
  await good.close();
});

test('the agent handshake is refused from a foreign or missing Origin', async () => {
  const s = await agentSession(fx.srv, agent);
  const cookie = { Cookie: `parley_session=${s.cookie}` };
  for (const headers of [{ ...cookie, Origin: 'https://evil.example' }, { ...cookie, Origin: 'http://127.0.0.1:1' }, cookie]) {
    let client;
    await assert.rejects(
      (async () => {
        client = await connect(wsUrl(fx.srv, '/ws/agent'), { headers, label: `agent from ${headers.Origin || 'no origin'}` });
      })(),
      (e) => e.status !== undefined,
      `the handshake from Origin ${headers.Origin || '(none)'} was accepted`,
    );
    if (client) await client.close();
  }
  // The right Origin works.
  const ok = await connectAgent(fx.srv, agent, { subscribe: false });
  await ok.close();
});

test('widget session and visitor socket refuse an Origin the site does not allow', async () => {
  const res = await visitorSession(fx.srv, site, { origin: 'https://evil.example' });
  assertProblem(res, 403, 'origin_forbidden');
  assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS grant for a refused origin');
  assertProblem(await visitorSession(fx.srv, site, { origin: null }), 403, 'origin_forbidden');

  const { token } = await visitorToken(fx.srv, site);
  const v = await openVisitorSocket(fx.srv, { origin: 'https://evil.example', label: 'visitor on a foreign page' });
  const r = await v.request({ type: 'auth', token });
  assert.equal(r.type, 'error', `auth accepted from a foreign origin: ${JSON.stringify(r)}`);
  assert.equal(r.code, 'origin_forbidden');
  await v.waitClosed();
  // The same token from an allowed origin is fine.
  const ok = await connectVisitor(fx.srv, site, { token });
  await ok.close();
});

test('identity verification: required, checked, and the same visitor on two devices', async () => {
  const secret = 'shh-identity-secret-42';
  const vsite = await createSite(fx.pg, { teamId: team, identitySecret: secret, identityRequired: true });
  const externalId = 'customer-1001';

  assertProblem(await visitorSession(fx.srv, vsite), 403, 'identity_required');
  const wrong = identityHash('another secret', externalId);
  assertProblem(await visitorSession(fx.srv, vsite, { identity: { id: externalId, hash: wrong } }), 403, 'identity_invalid');
  const otherId = identityHash(secret, 'customer-1002');
  assertProblem(await visitorSession(fx.srv, vsite, { identity: { id: externalId, hash: otherId } }), 403, 'identity_invalid');

  // The hash signs every field the identity carries (here the id and the name).
  const identity = { id: externalId, hash: identityHash(secret, externalId, { name: 'Vera Verified' }), name: 'Vera Verified' };
  const d1 = await visitorSession(fx.srv, vsite, { identity });
  assert.equal(d1.status, 200, d1.body);
  assert.equal(d1.json.visitor.verified, true);
  const phone = await connectVisitor(fx.srv, vsite, { token: d1.json.visitor_token, label: 'device 1' });
  const cid = await startConversation(phone);

  // Another device: no visitor_token, the same identity without its name
  // (upper-case hex is the same hash).
  const d2 = await visitorSession(fx.srv, vsite, { identity: { id: externalId, hash: identityHash(secret, externalId).toUpperCase() } });
  assert.equal(d2.status, 200, d2.body);
  assert.notEqual(d2.json.visitor_token, d1.json.visitor_token);
  assert.equal(d2.json.visitor.id, d1.json.visitor.id, 'a verified identity must be the same visitor on every device');
  const laptop = await connectVisitor(fx.srv, vsite, { token: d2.json.visitor_token, label: 'device 2' });
  const list = await laptop.ack({ type: 'conversations.list' });
  assert.ok(
    list.conversations.some((c) => c.id === cid),
    `device 2 does not see conversation ${cid}: ${JSON.stringify(list)}`,
  );
  const sync = await laptop.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.equal(sync.conversation.id, cid);

  // A different identity is a different visitor who sees none of it.
  const other = await visitorSession(fx.srv, vsite, { identity: { id: 'customer-1002', hash: otherId } });
  assert.equal(other.status, 200, other.body);
  assert.notEqual(other.json.visitor.id, d1.json.visitor.id);
  const stranger = await connectVisitor(fx.srv, vsite, { token: other.json.visitor_token, label: 'other identity' });
  assert.deepEqual((await stranger.ack({ type: 'conversations.list' })).conversations, []);
  for (const c of [phone, laptop, stranger]) await c.close();
});
