'use strict';
// Calls (issue 17): the ICE servers parleyd hands to the console and to the
// widget, checked against a real TURN server. coturn (tests/helpers/coturn.js)
// runs on loopback with use-auth-secret and a random secret; parleyd gets the
// same secret as PARLEY_TURN_SECRET. What parleyd answers must be a username
// "<unix expiry>:<id>" and credential base64(HMAC-SHA1(secret, username))
// (coturn's TURN REST API), and coturn must grant a relay allocation with
// exactly those credentials and refuse a tampered or expired one.
// parleyd answers only the parties of a live call (409 otherwise): the agent
// and the visitor here have an active one, set up once (its state machine is
// tests/integration/calls.test.js's).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const path = require('node:path');

const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { assertJson, assertStatus } = require('../helpers/assert');
const {
  createTeam,
  createAgent,
  createSite,
  agentSession,
  visitorToken,
  connectAgent,
  connectVisitor,
  startConversation,
  convUpdated,
} = require('../helpers/fixtures');
const { stopChecked, runParleyd } = require('../helpers/parleyd');
const { REPO_ROOT } = require('../helpers/common');
const { startCoturn } = require('../helpers/coturn');
const { turnClient, restCredentials, parseIceUrl } = require('../helpers/turn');

const TTL = 600;
const C = {}; // coturn, and what the tests share

const fx = suite({
  env: async () => {
    C.turn = await startCoturn();
    C.turnUrl = `${C.turn.url}?transport=udp`;
    C.stunUrl = `stun:${C.turn.host}:${C.turn.port}`;
    return {
      PARLEY_TURN_SECRET: C.turn.secret,
      PARLEY_TURN_URLS: C.turnUrl,
      PARLEY_STUN_URLS: C.stunUrl,
      PARLEY_TURN_TTL_SECONDS: String(TTL),
    };
  },
});

/** fx.test, with coturn's log added to a failure. */
function test(name, fn) {
  return fx.test(name, async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      if (C.turn && e && typeof e === 'object') {
        const log = C.turn.logs().split('\n').slice(-60).join('\n');
        try {
          e.message = `${e.message}\n--- coturn :${C.turn.port} log ---\n${log}`;
        } catch {
          /* read-only message */
        }
      }
      throw e;
    }
  });
}

fx.setup(async () => {
  const team = await createTeam(fx.pg, 'Calls team');
  C.agent = await createAgent(fx.pg, { name: 'Ana Calls', teams: [team] });
  C.site = await createSite(fx.pg, { teamId: team });
  // An agent and a visitor of another team, with no call.
  C.idleAgent = await createAgent(fx.pg, { name: 'Ivo Idle', teams: [await createTeam(fx.pg, 'Idle team')] });
  C.idleSession = await agentSession(fx.srv, C.idleAgent);
  C.idleVisitor = (await visitorToken(fx.srv, C.site)).token;

  // The agent calls the visitor, who answers: an active call (a ringing one
  // would be missed after PARLEY_CALL_RING_SECONDS).
  const a = await connectAgent(fx.srv, C.agent, { status: 'online', label: 'agent' });
  const v = await connectVisitor(fx.srv, C.site, { label: 'visitor' });
  const conv = await startConversation(v);
  await v.next(convUpdated(conv, 'assigned'), 5000, 'the assignment');
  const call = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'audio' })).call;
  assert.equal((await v.ack({ type: 'call.accept', call_id: call.id })).call.state, 'active');
  C.session = await agentSession(fx.srv, C.agent);
  C.visitor = v.token;
});

fx.teardown(async () => {
  if (C.turn) await C.turn.stop();
});

const CONSOLE_PATH = '/api/calls/ice-servers';
const WIDGET_PATH = '/api/widget/calls/ice-servers';

/** GET the console's list with the agent's session cookie (or `cookie`). */
function consoleIce(srv = fx.srv, { cookie = C.session.cookie, headers = {} } = {}) {
  return request(srv, { path: CONSOLE_PATH, headers: { ...(cookie ? { Cookie: `parley_session=${cookie}` } : {}), ...headers } });
}

/** GET the widget's list as the frame does: same origin (no Origin header), the visitor token as Bearer. */
function widgetIce(srv = fx.srv, { token = C.visitor, headers = {} } = {}) {
  return request(srv, { path: WIDGET_PATH, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });
}

const hmac = (secret, username) => crypto.createHmac('sha1', secret).update(username).digest('base64');
const now = () => Math.floor(Date.now() / 1000);

/**
 * Check an ICE-servers answer and return its TURN entry (or null).
 *   stun: the STUN URLs expected (in one entry, without credentials)
 *   turn: the TURN URLs expected (in one entry, with REST API credentials)
 *   ttl:  the expected ttl; before/after bracket the request (unix seconds)
 */
function checkIceServers(res, { stun = [], turn = [], ttl, secret, before, after }) {
  const body = assertJson(res, 200);
  assert.match(String(res.headers['cache-control'] || ''), /no-store/, 'credentials must not be cached');
  assert.ok(Array.isArray(body.ice_servers), `ice_servers is an array: ${res.body}`);
  for (const s of body.ice_servers) {
    assert.ok(Array.isArray(s.urls) && s.urls.length > 0, `each entry has urls: ${res.body}`);
    for (const u of s.urls) parseIceUrl(u);
  }
  const stunEntries = body.ice_servers.filter((s) => s.urls.some((u) => u.startsWith('stun')));
  const turnEntries = body.ice_servers.filter((s) => s.urls.some((u) => u.startsWith('turn')));
  assert.equal(stunEntries.length + turnEntries.length, body.ice_servers.length, `only stun: and turn: entries: ${res.body}`);

  if (stun.length) {
    assert.deepEqual(
      stunEntries.flatMap((s) => s.urls),
      stun,
      'the STUN URLs configured',
    );
    for (const s of stunEntries) {
      assert.ok(
        s.urls.every((u) => u.startsWith('stun')),
        `a STUN entry holds STUN URLs only: ${JSON.stringify(s)}`,
      );
      assert.equal(s.username, undefined, 'a STUN entry carries no username');
      assert.equal(s.credential, undefined, 'a STUN entry carries no credential');
    }
  } else {
    assert.equal(stunEntries.length, 0, `no STUN entry: ${res.body}`);
  }

  if (!turn.length) {
    assert.equal(turnEntries.length, 0, `no TURN entry: ${res.body}`);
    return null;
  }
  assert.equal(turnEntries.length, 1, `one TURN entry: ${res.body}`);
  const t = turnEntries[0];
  assert.deepEqual(t.urls, turn, 'the TURN URLs configured');
  assert.equal(body.ttl, ttl, 'ttl');
  assert.equal(typeof t.username, 'string');
  assert.equal(typeof t.credential, 'string');
  const m = /^(\d+):(.+)$/.exec(t.username);
  assert.ok(m, `username is "<unix expiry>:<id>": ${t.username}`);
  const expiry = Number(m[1]);
  assert.ok(expiry >= before + ttl - 2 && expiry <= after + ttl + 2, `expiry ${expiry} is about now + ${ttl} (${before + ttl}..${after + ttl})`);
  assert.equal(t.credential, hmac(secret, t.username), 'credential is base64(HMAC-SHA1(secret, username))');
  return { ...t, expiry, id: m[2] };
}

/** The agent's and the visitor's TURN entries from the suite's node (checked). */
async function fetchBoth() {
  const before = now();
  const [a, v] = await Promise.all([consoleIce(), widgetIce()]);
  const after = now();
  const want = { stun: [C.stunUrl], turn: [C.turnUrl], ttl: TTL, secret: C.turn.secret, before, after };
  return { agent: checkIceServers(a, want), visitor: checkIceServers(v, want) };
}

/** Allocate on the coturn the entry's first URL names. Resolves the answer (client closed unless keep). */
async function allocate(entry, { username = entry.username, password = entry.credential, keep = false } = {}) {
  const where = parseIceUrl(entry.urls[0]);
  assert.equal(where.transport, 'udp');
  const c = await turnClient({ host: where.host, port: where.port });
  let r;
  try {
    r = await c.allocate({ username, password });
  } finally {
    if (!keep || !r) c.close();
  }
  if (keep) r.client = c;
  return r;
}

function assertRefused(r, what) {
  assert.equal(r.step, 'authenticated', `${what}: coturn challenged the first request (401 with REALM and NONCE)`);
  assert.equal(r.ok, false, `${what}: coturn must refuse the allocation, got ${JSON.stringify({ relayed: r.relayed })}`);
  assert.ok([401, 438].includes(r.code), `${what}: refused with 401 or 438, got ${r.code} ${r.reason}`);
  assert.equal(r.relayed, undefined, `${what}: no relayed address`);
}

test('an agent and a visitor get the STUN server and the TURN server with REST API credentials', async () => {
  const { agent, visitor } = await fetchBoth();
  assert.ok(agent.id.length > 0 && visitor.id.length > 0, 'the username names someone');
  assert.ok(!agent.id.includes(C.turn.secret) && !visitor.id.includes(C.turn.secret), 'the secret is not in the username');
});

test("coturn grants a relay with the agent's credentials, and data goes through it to a peer", async () => {
  const { agent } = await fetchBoth();
  const r = await allocate(agent, { keep: true });
  const c = r.client;
  const peer = dgram.createSocket('udp4');
  try {
    assert.equal(r.ok, true, `Allocate refused: ${r.code} ${r.reason}`);
    assert.equal(r.challenge.realm, C.turn.realm, "coturn's realm");
    assert.equal(r.integrity, true, "coturn's answer is signed with the key of parleyd's credentials");
    assert.equal(r.relayed.address, '127.0.0.1', 'relayed address');
    assert.ok(r.relayed.port > 0, 'relayed port');
    assert.ok(r.lifetime > 0, 'allocation lifetime');

    // The relay really relays: to a loopback peer and back.
    await new Promise((resolve) => peer.bind(0, '127.0.0.1', resolve));
    const peerAddr = { address: '127.0.0.1', port: peer.address().port };
    const perm = await c.createPermission(peerAddr);
    assert.equal(perm.ok, true, `CreatePermission refused: ${perm.code} ${perm.reason}`);
    const got = new Promise((resolve) => peer.once('message', (msg, rinfo) => resolve({ msg: msg.toString(), rinfo })));
    c.sendIndication(peerAddr, 'hello from the agent');
    const out = await got;
    assert.equal(out.msg, 'hello from the agent');
    assert.deepEqual(
      { address: out.rinfo.address, port: out.rinfo.port },
      { address: r.relayed.address, port: r.relayed.port },
      'sent from the relayed address',
    );
    peer.send('hello back', r.relayed.port, r.relayed.address);
    const back = await c.nextData();
    assert.equal(back.data.toString(), 'hello back');
    assert.equal(back.peer.port, peerAddr.port);
    assert.equal((await c.refresh(0)).ok, true, 'deallocate');
  } finally {
    c.close();
    peer.close();
  }
});

test("coturn grants a relay with the visitor's credentials", async () => {
  const { visitor } = await fetchBoth();
  const r = await allocate(visitor);
  assert.equal(r.ok, true, `Allocate refused: ${r.code} ${r.reason}`);
  assert.equal(r.integrity, true);
  assert.equal(r.relayed.address, '127.0.0.1');
  assert.ok(r.relayed.port > 0);
});

test('coturn refuses a tampered credential, a tampered username and an expired username', async () => {
  const { agent } = await fetchBoth();

  // One character of the credential changed (still base64 of 20 bytes).
  const cred = agent.credential;
  const flipped = (cred[0] === 'A' ? 'B' : 'A') + cred.slice(1);
  assertRefused(await allocate(agent, { password: flipped }), 'tampered credential');

  // A later expiry with the credential of the original username.
  assertRefused(await allocate(agent, { username: `${agent.expiry + 3600}:${agent.id}` }), 'tampered username');

  // Signed with another secret.
  const other = restCredentials(crypto.randomBytes(24).toString('base64url'), { id: agent.id, ttl: 600 });
  assertRefused(await allocate(agent, { username: other.username, password: other.password }), 'another secret');

  // Correctly signed with the secret, but expired a minute ago.
  const expired = restCredentials(C.turn.secret, { id: agent.id, expiry: now() - 60 });
  assertRefused(await allocate(agent, { username: expired.username, password: expired.password }), 'expired username');

  // The control: the same id, signed the same way, not expired, is granted
  // (so the refusals above are for the tampering and the expiry alone).
  const fresh = restCredentials(C.turn.secret, { id: agent.id, expiry: now() + 60 });
  const ok = await allocate(agent, { username: fresh.username, password: fresh.password });
  assert.equal(ok.ok, true, `a fresh credential signed with the secret is granted: ${ok.code} ${ok.reason}`);
});

test('without a session or a visitor token the ICE servers are refused (401)', async () => {
  const checks = [
    ['console, no cookie', await consoleIce(fx.srv, { cookie: null })],
    ['console, unknown session', await consoleIce(fx.srv, { cookie: crypto.randomBytes(32).toString('base64url') })],
    ['console, a visitor token as Bearer', await consoleIce(fx.srv, { cookie: null, headers: { Authorization: `Bearer ${C.visitor}` } })],
    ['widget, no token', await widgetIce(fx.srv, { token: null })],
    ['widget, unknown token', await widgetIce(fx.srv, { token: `${C.visitor.slice(0, -4)}AAAA` })],
    ['widget, an agent session cookie', await widgetIce(fx.srv, { token: null, headers: { Cookie: `parley_session=${C.session.cookie}` } })],
  ];
  for (const [what, res] of checks) {
    assertStatus(res, 401);
    assert.ok(!res.body.includes(C.turn.secret), `${what}: no secret in the answer`);
    assert.ok(!/"credential"/.test(res.body), `${what}: no credential in the answer`);
  }
});

test('a party without a live call gets no credentials (409)', async () => {
  for (const [what, res] of [
    ['an agent with no call', await consoleIce(fx.srv, { cookie: C.idleSession.cookie })],
    ['a visitor with no call', await widgetIce(fx.srv, { token: C.idleVisitor })],
  ]) {
    assertStatus(res, 409);
    assert.ok(!res.body.includes(C.turn.secret), `${what}: no secret in the answer`);
    assert.ok(!/"credential"/.test(res.body), `${what}: no credential in the answer`);
  }
});

/** The default of a setting, as `parleyd --help` lists it. */
async function helpDefault(name) {
  const r = await runParleyd(['--help']);
  const m = new RegExp(`^\\s*${name}\\s+(\\S+)`, 'm').exec(`${r.stdout}\n${r.stderr}`);
  assert.ok(m, `parleyd --help lists ${name}`);
  return m[1];
}

test('with TURN alone the list has the TURN server only, with the default ttl', async () => {
  const ttl = Number(await helpDefault('PARLEY_TURN_TTL_SECONDS'));
  assert.ok(Number.isInteger(ttl) && ttl >= 60, `default PARLEY_TURN_TTL_SECONDS: ${ttl}`);
  const node = await fx.startNode({ env: { PARLEY_STUN_URLS: null, PARLEY_TURN_TTL_SECONDS: null } });
  try {
    const session = await agentSession(node, C.agent, { fresh: true });
    const before = now();
    const a = await consoleIce(node, { cookie: session.cookie });
    const v = await widgetIce(node);
    const after = now();
    const want = { turn: [C.turnUrl], ttl, secret: C.turn.secret, before, after };
    const entry = checkIceServers(a, want);
    checkIceServers(v, want);
    const r = await allocate(entry);
    assert.equal(r.ok, true, `Allocate refused: ${r.code} ${r.reason}`);
  } finally {
    await stopChecked(node);
  }
});

test('with no TURN configured the list is empty, or STUN only', async () => {
  const none = { PARLEY_TURN_SECRET: null, PARLEY_TURN_URLS: null, PARLEY_TURN_TTL_SECONDS: null };
  for (const [label, env, stun] of [
    ['nothing configured', { ...none, PARLEY_STUN_URLS: null }, []],
    ['STUN only', { ...none, PARLEY_STUN_URLS: C.stunUrl }, [C.stunUrl]],
  ]) {
    const node = await fx.startNode({ env });
    try {
      const session = await agentSession(node, C.agent, { fresh: true });
      for (const res of [await consoleIce(node, { cookie: session.cookie }), await widgetIce(node)]) {
        const body = res.json;
        checkIceServers(res, { stun, before: 0, after: 0 });
        if (!stun.length) assert.deepEqual(body.ice_servers, [], `${label}: an empty list`);
        assert.ok(!/"credential"|"username"/.test(res.body), `${label}: no credentials`);
      }
    } finally {
      await stopChecked(node);
    }
  }
});

test("docker/turnserver.conf: parleyd's credentials are taken, and the relay refuses internal addresses", async () => {
  // The compose file's coturn configuration, on loopback with parleyd's
  // secret. CreatePermission only installs a permission (nothing is sent), so
  // asking for public addresses is harmless.
  const docker = await startCoturn({ config: path.join(REPO_ROOT, 'docker', 'turnserver.conf'), secret: C.turn.secret });
  let c;
  try {
    const { agent } = await fetchBoth();
    c = await turnClient({ host: docker.host, port: docker.port });
    const r = await c.allocate({ username: agent.username, password: agent.credential });
    assert.equal(r.ok, true, `Allocate refused: ${r.code} ${r.reason}\n${docker.logs()}`);
    assert.equal(r.challenge.realm, 'parley', "the file's realm");
    assert.equal(r.software, undefined, 'no-software-attribute');
    const internal = [
      '127.0.0.1', // loopback
      '10.1.2.3',
      '172.28.0.5', // the compose network (postgres, the parleyd nodes)
      '192.168.1.1',
      '169.254.169.254', // cloud metadata
      '100.64.0.1', // carrier-grade NAT
      '0.0.0.0',
      '224.0.0.1', // multicast
      '255.255.255.255',
    ];
    for (const address of internal) {
      const p = await c.createPermission({ address, port: 5432 });
      assert.equal(p.ok, false, `a relay to ${address} must be refused`);
      assert.equal(p.code, 403, `${address}: 403 Forbidden, got ${p.code} ${p.reason}`);
    }
    for (const address of ['8.8.8.8', '1.1.1.1']) {
      const p = await c.createPermission({ address, port: 3478 });
      assert.equal(p.ok, true, `a relay to the public address ${address} is allowed: ${p.code} ${p.reason}`);
    }
    const expired = restCredentials(C.turn.secret, { id: agent.id, expiry: now() - 60 });
    const c2 = await turnClient({ host: docker.host, port: docker.port });
    try {
      assertRefused(await c2.allocate(expired), 'expired username (docker configuration)');
    } finally {
      c2.close();
    }
  } finally {
    if (c) c.close();
    await docker.stop();
  }
});
