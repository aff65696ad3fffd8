'use strict';
// HTTPS: the suite's smoke path over TLS with a self-signed certificate.
// Health, HSTS, an agent's login (Secure cookie) and console socket over
// wss, a visitor's session and socket over wss, messages both ways, and the
// transcript through the REST API. Debian's libcivetweb crashed on the first
// HTTPS request (it called SSL_get_peer_certificate, which OpenSSL 3 does not
// export); the server now compiles civetweb with OpenSSL 3.

const assert = require('node:assert/strict');
const tls = require('node:tls');

const { suite } = require('../helpers/suite');
const { request, login, findSetCookie } = require('../helpers/http');
const { addToken, api } = require('../helpers/api');
const { trustedCa } = require('../helpers/common');
const { createTeam, createAgent, createSite, connectAgent, connectVisitor, startConversation, sendMessage, msgCreated } = require('../helpers/fixtures');

const fx = suite({ tls: true });
const { test } = fx;

test('plain TLS: the certificate is served, TLS 1.2 or newer, and plain HTTP on the port is refused', async () => {
  const info = await new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: fx.srv.port, ca: trustedCa(), servername: 'localhost' }, () => {
      resolve({ protocol: s.getProtocol(), authorized: s.authorized, subject: s.getPeerCertificate().subject });
      s.end();
    });
    s.on('error', reject);
  });
  assert.equal(info.authorized, true);
  assert.match(info.protocol, /^TLSv1\.[23]$/);
  assert.equal(info.subject.CN, '127.0.0.1');
  // Speaking plain HTTP to the TLS port gets no HTTP answer.
  await assert.rejects(request(`http://127.0.0.1:${fx.srv.port}`, { path: '/healthz', timeoutMs: 5000 }));
});

test('smoke path over HTTPS and WSS: health, HSTS, login, console and visitor sockets, chat, transcript', async () => {
  const health = await request(fx.srv, { path: '/healthz' });
  assert.equal(health.status, 200);
  assert.match(health.headers['strict-transport-security'] || '', /max-age=\d{7,}/, 'HSTS over HTTPS');

  const team = await createTeam(fx.pg);
  const ann = await createAgent(fx.pg, { name: 'Ann Tls', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });

  const l = await login(fx.srv, ann.email, ann.password);
  assert.equal(l.res.status, 200);
  const cookie = findSetCookie(l.res, 'parley_session');
  assert.ok(cookie, 'a session cookie');
  assert.match(cookie.raw, /;\s*Secure/i, 'the session cookie is Secure over HTTPS');
  assert.match(cookie.raw, /;\s*HttpOnly/i);

  const a = await connectAgent(fx.srv, ann, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v, { prechat: { name: 'Tess' } });
  await sendMessage(v, cid, 'hello over TLS');
  await a.next(
    msgCreated(cid, (m) => m.body === 'hello over TLS'),
    5000,
    'the agent gets the message',
  );
  await sendMessage(a, cid, 'hi, secure reply');
  await v.next(
    msgCreated(cid, (m) => m.body === 'hi, secure reply'),
    5000,
    'the visitor gets the reply',
  );

  const tok = await addToken(fx.pg, { scopes: ['transcripts:read', 'conversations:read'] });
  const t = await api(fx.srv, tok, 'GET', `/api/v1/conversations/${cid}/transcript`);
  assert.equal(t.status, 200, t.body);
  const bodies = t.json.messages.map((m) => m.body);
  assert.ok(bodies.includes('hello over TLS') && bodies.includes('hi, secure reply'), JSON.stringify(bodies));
  await a.close();
  await v.close();
});
