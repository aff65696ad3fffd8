'use strict';
// Socket floods: idle TCP connections, slowloris request heads, slow bodies
// and unauthenticated WebSockets that answer pings, each from its own
// loopback address and each as far as the limits allow, while a real agent
// and visitor (from 127.0.0.1) must still get /healthz, a login and a chat.
// Upstream civetweb gave every connection a worker thread from its first
// byte, so a few hundred idle sockets took all of them.
//
// The server runs with 16 worker threads (4 of them never given to
// sockets) so that the floods are cheap; the attackers hold far more
// connections than that.

const assert = require('node:assert/strict');

const { startParleyd, stopChecked } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { tcpConnect, socketClosed, slowloris, rawWebSocket, textFrame, destroyAll } = require('../helpers/attack');
const { FAST_ENV, openVisitorSocket, connectAgent, connectVisitor, startConversation, sendMessage, msgCreated, waitFor } = require('../helpers/fixtures');

const THREADS = 16;
const TCP_PER_IP = 48;
const HTTP_PER_IP = 4;
const WS_UNAUTH_PER_IP = 4;
const AUTH_TIMEOUT_MS = 1500;
const HEADER_TIMEOUT_MS = 4000;
const PROXY = '127.0.0.9';

let site;
let ann;
const fx = suite({
  env: {
    PARLEY_HTTP_THREADS: String(THREADS),
    PARLEY_HTTP_RESERVED_THREADS: '4',
    PARLEY_WS_MAX_UNAUTHENTICATED: '8',
    PARLEY_WS_MAX_UNAUTHENTICATED_PER_IP: String(WS_UNAUTH_PER_IP),
    PARLEY_WS_MAX_PER_IP: '6',
    PARLEY_MAX_CONNECTIONS_PER_IP: String(TCP_PER_IP),
    PARLEY_HTTP_MAX_PER_IP: String(HTTP_PER_IP),
    PARLEY_WS_AUTH_TIMEOUT_MS: String(AUTH_TIMEOUT_MS),
    PARLEY_HEADER_TIMEOUT_MS: String(HEADER_TIMEOUT_MS),
    PARLEY_TRUSTED_PROXIES: PROXY,
  },
});
const { test } = fx;

fx.setup(async () => {
  ({
    site,
    agents: [ann],
  } = await fx.teamWithSite({ agents: [{ name: 'Ann Flood' }] }));
});

fx.teardown(() => destroyAll());

async function metric(name) {
  const m = await request(fx.srv, { path: '/metrics', timeoutMs: 5000 });
  const re = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\d+)$`, 'm');
  const hit = re.exec(m.body);
  if (!hit) throw new Error(`no ${name} in /metrics`);
  return Number(hit[1]);
}

/** A request whose body trickles in: the head is complete, the body is not. */
async function slowBody(srv_, { localAddress, headers = {} } = {}) {
  const s = await tcpConnect(srv_, { localAddress });
  const lines = [
    'POST /api/auth/login HTTP/1.1',
    `Host: 127.0.0.1:${srv_.port}`,
    `Origin: ${srv_.origin}`,
    'Content-Type: application/json',
    'Content-Length: 200',
  ];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  s.write(`${lines.join('\r\n')}\r\n\r\n{`);
  const answer = [];
  s.on('data', (b) => answer.push(b));
  const timer = setInterval(() => {
    if (!s.destroyed) s.write(' ');
  }, 300);
  timer.unref();
  s.on('close', () => clearInterval(timer));
  return { socket: s, answer: () => Buffer.concat(answer).toString('latin1'), stop: () => clearInterval(timer) };
}

/** The legitimate traffic that must keep working. */
async function realUsersGetThrough(label) {
  const h = await request(fx.srv, { path: '/healthz', timeoutMs: 5000 });
  assert.equal(h.status, 200, `${label}: /healthz`);
  const l = await login(fx.srv, ann.email, ann.password);
  assert.equal(l.res.status, 200, `${label}: login`);
  const a = await connectAgent(fx.srv, ann, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await sendMessage(v, cid, `hello during ${label}`);
  await a.next(
    msgCreated(cid, (m) => m.body === `hello during ${label}`),
    5000,
    `${label}: the agent gets the message`,
  );
  await a.close();
  await v.close();
}

test('idle, slowloris, slow-body and unauthenticated floods: /healthz, login and a chat keep working', async () => {
  // 127.0.0.2: idle TCP connections, three times the worker threads, and more
  // than one address may hold: those past the limit are refused at accept.
  const refusedBefore = await metric('parley_connections_refused_total{limit="tcp_per_ip"}');
  const idle = [];
  for (let i = 0; i < TCP_PER_IP + 12; i++) idle.push(await tcpConnect(fx.srv, { localAddress: '127.0.0.2' }));
  await waitFor(async () => (await metric('parley_connections_refused_total{limit="tcp_per_ip"}')) - refusedBefore >= 12, {
    what: '12 idle connections refused for the per-address limit',
  });

  // 127.0.0.3: slowloris, a header byte every 500 ms.
  const loris = await slowloris(fx.srv, 40, { localAddress: '127.0.0.3' });

  // 127.0.0.4: unauthenticated sockets that answer pings, up to the limit.
  const unauth = [];
  const from4 = { origin: site.origin, localAddress: '127.0.0.4' };
  for (let i = 0; i < WS_UNAUTH_PER_IP; i++) unauth.push(await openVisitorSocket(fx.srv, { ...from4, label: `unauth ${i}` }));
  await assert.rejects(openVisitorSocket(fx.srv, { ...from4, label: 'unauth one too many' }), (e) => e.status === 429);

  // 127.0.0.5: slow request bodies, each holding a worker: one address gets
  // HTTP_PER_IP of them, the next one is answered 429 at once.
  const bodies = [];
  for (let i = 0; i < HTTP_PER_IP; i++) bodies.push(await slowBody(fx.srv, { localAddress: '127.0.0.5' }));
  await waitFor(async () => (await metric('parley_http_requests_in_flight')) >= HTTP_PER_IP + 1, { what: 'slow bodies in flight' });
  const extra = await request(fx.srv, {
    method: 'POST',
    path: '/api/auth/login',
    localAddress: '127.0.0.5',
    origin: fx.srv.origin,
    json: { email: 'x@y.z', password: 'x' },
  });
  assert.equal(extra.status, 429, extra.body);
  assert.equal(extra.json.type.endsWith('too_many_connections'), true);

  // Meanwhile, from 127.0.0.1:
  await realUsersGetThrough('the floods');

  // The slowloris heads never complete: their connections end at the header deadline.
  const lorisClosed = await Promise.all(loris.sockets.map((s) => socketClosed(s, HEADER_TIMEOUT_MS + 5000)));
  loris.stop();
  assert.equal(lorisClosed.length, 40);
  // So do the idle ones that were let in.
  await Promise.all(idle.map((s) => socketClosed(s, HEADER_TIMEOUT_MS + 5000)));
  // And the unauthenticated sockets at the auth timeout.
  for (const c of unauth) assert.equal((await c.waitClosed(AUTH_TIMEOUT_MS + 3000)).code, 4008);
  for (const b of bodies) b.socket.destroy();

  // Everything an attacker held is given back: the same address may connect again.
  const again = await request(fx.srv, { path: '/healthz', localAddress: '127.0.0.2' });
  assert.equal(again.status, 200);
});

test('an unauthenticated socket that answers pings, or ignores everything, is really closed at the auth timeout', async () => {
  const baseline = await metric('parley_ws_connections_open');
  // One that answers pings and close frames (the ws library does).
  const polite = await openVisitorSocket(fx.srv, { origin: site.origin, label: 'polite', localAddress: '127.0.0.7' });
  // One that finished the handshake and never reads or answers anything.
  const raw = await rawWebSocket(fx.srv, '/ws/visitor', { origin: site.origin, localAddress: '127.0.0.6' });
  assert.equal(raw.status, 101);
  raw.socket.pause();
  assert.equal((await polite.waitClosed(AUTH_TIMEOUT_MS + 3000)).code, 4008);
  // TCP gone: the server ended it although the peer never closed.
  raw.socket.resume();
  await socketClosed(raw.socket, AUTH_TIMEOUT_MS + 3000);
  await waitFor(async () => (await metric('parley_ws_connections_open')) === baseline, { what: 'the socket count back to its baseline' });
});

test('a socket the server closes is ended even when the peer ignores the close frame (here: its session logged out)', async () => {
  const { agentSession } = require('../helpers/fixtures');
  const s = await agentSession(fx.srv, ann, { fresh: true });
  const raw = await rawWebSocket(fx.srv, '/ws/agent', { origin: fx.srv.origin, localAddress: '127.0.0.8', headers: { Cookie: `parley_session=${s.cookie}` } });
  assert.equal(raw.status, 101);
  const got = [];
  raw.socket.on('data', (b) => got.push(b));
  raw.socket.write(textFrame(JSON.stringify({ type: 'auth', id: 'a', csrf_token: s.csrf })));
  await waitFor(() => Buffer.concat(got).toString().includes('"ack"'), { what: 'the auth ack' });
  const out = await request(fx.srv, {
    method: 'POST',
    path: '/api/auth/logout',
    origin: fx.srv.origin,
    headers: { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf },
  });
  assert.equal(out.status, 204);
  // The peer never answers the 4002 close frame; the server ends the connection anyway.
  await socketClosed(raw.socket, 5000);
  const bytes = Buffer.concat(got);
  const close = bytes.indexOf(Buffer.from([0x88]));
  assert.ok(close >= 0 && bytes.readUInt16BE(close + 2) === 4002, 'a 4002 close frame came first');
});

test('behind a trusted proxy connections are not counted per proxy, requests are counted per forwarded client', async () => {
  // Many connections from the proxy's address: none refused.
  const refusedBefore = await metric('parley_connections_refused_total{limit="tcp_per_ip"}');
  const conns = [];
  for (let i = 0; i < TCP_PER_IP + 10; i++) conns.push(await tcpConnect(fx.srv, { localAddress: PROXY }));
  const r = await request(fx.srv, { path: '/healthz', localAddress: PROXY });
  assert.equal(r.status, 200);
  assert.equal(await metric('parley_connections_refused_total{limit="tcp_per_ip"}'), refusedBefore);
  for (const c of conns) c.destroy();

  // Requests in flight are counted per client address the proxy forwards.
  const held = [];
  for (let i = 0; i < HTTP_PER_IP; i++) held.push(await slowBody(fx.srv, { localAddress: PROXY, headers: { 'X-Forwarded-For': '203.0.113.7' } }));
  await waitFor(async () => (await metric('parley_http_requests_in_flight')) >= HTTP_PER_IP + 1, { what: 'slow bodies in flight' });
  const same = await request(fx.srv, { path: '/healthz', localAddress: PROXY, headers: { 'X-Forwarded-For': '203.0.113.7' } });
  assert.equal(same.status, 429, 'the same forwarded client is over its limit');
  const other = await request(fx.srv, { path: '/healthz', localAddress: PROXY, headers: { 'X-Forwarded-For': '203.0.113.8' } });
  assert.equal(other.status, 200, 'another client behind the same proxy is not');
  for (const h of held) h.socket.destroy();
});

test('/metrics answers loopback clients only, unless PARLEY_METRICS_TOKEN is set', async () => {
  const local = await request(fx.srv, { path: '/metrics' });
  assert.equal(local.status, 200);
  const remote = await request(fx.srv, { path: '/metrics', localAddress: PROXY, headers: { 'X-Forwarded-For': '198.51.100.4' } });
  assert.equal(remote.status, 403);
  const token = 'metrics-secret-0123456789';
  // The suite's nodes' key (parleyd refuses a key the other nodes lack).
  const keyFile = fx.env.PARLEY_SECRET_KEY_FILE;
  const guarded = await startParleyd({ databaseUrl: fx.pg.url, env: { ...FAST_ENV, PARLEY_SECRET_KEY_FILE: keyFile, PARLEY_METRICS_TOKEN: token } });
  try {
    const none = await request(guarded, { path: '/metrics' });
    assert.equal(none.status, 401);
    assert.match(none.headers['www-authenticate'] || '', /^Bearer/);
    const wrong = await request(guarded, { path: '/metrics', headers: { Authorization: 'Bearer metrics-secret-0123456788' } });
    assert.equal(wrong.status, 401);
    const right = await request(guarded, { path: '/metrics', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(right.status, 200);
    assert.match(right.body, /parley_connections_refused_total/);
  } finally {
    await stopChecked(guarded);
  }
});
