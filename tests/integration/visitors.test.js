'use strict';
// Visitors on the sites: where they are (geolocated before the address is
// cut; X-Forwarded-For only from a trusted proxy), the beats and page views
// of the widget's loader on two nodes giving one online list and one
// journey, dropping off after leaving or going silent, an agent's
// invitation reaching the visitor and starting a conversation with them,
// and automatic invitation rules firing once per visitor a day. Node 0
// trusts 127.0.0.1 as a proxy; node 1 trusts nobody.

const assert = require('node:assert/strict');
const path = require('node:path');

const { suite } = require('../helpers/suite');
const { assertJson, assertProblem } = require('../helpers/assert');
const { createAgent, connectAgent, connectVisitor, waitFor } = require('../helpers/fixtures');
const { login, request } = require('../helpers/http');
const { addToken, api } = require('../helpers/api');

const FIXTURE = path.join(__dirname, '..', '..', 'build', 'test', 'geo-fixture.mmdb');
const env = {
  PARLEY_GEOIP_DB: FIXTURE,
  PARLEY_VISITOR_BEAT_SECONDS: '2',
  PARLEY_ONLINE_TIMEOUT_SECONDS: '5',
};
const fx = suite({ nodes: [{ env: { PARLEY_TRUSTED_PROXIES: '127.0.0.1' } }, {}], env });
const { test } = fx;
const F = {};

const UA_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

fx.setup(async () => {
  const { team, site, agents } = await fx.teamWithSite({ agents: [{ name: 'Ana Invite' }] });
  F.team = team;
  F.site = site;
  F.agent = agents[0];
  const s = await login(fx.srv, F.agent.email, F.agent.password);
  F.asAgent = (method, p, json, srv = fx.srv) => request(srv, { method, path: p, json, jar: s.jar, origin: srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
  const admin = await createAgent(fx.pg, { name: 'Vis Admin', role: 'admin' });
  const sa = await login(fx.srv, admin.email, admin.password);
  F.asAdmin = (method, p, json) => request(fx.srv, { method, path: p, json, jar: sa.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': sa.csrf } });
  // An agent of another team sees none of this site's visitors.
  const other = await fx.teamWithSite({ agents: [{ name: 'Olga Other' }] });
  const so = await login(fx.srv, other.agents[0].email, other.agents[0].password);
  F.asOther = (method, p, json) => request(fx.srv, { method, path: p, json, jar: so.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': so.csrf } });
});

/** A widget session from the site's page, through node srv, as client ip (X-Forwarded-For). */
async function session(srv, { xff, ua, token } = {}) {
  const headers = { Origin: F.site.origin };
  if (xff) headers['X-Forwarded-For'] = xff;
  if (ua) headers['User-Agent'] = ua;
  const json = { site_key: F.site.key };
  if (token) json.visitor_token = token;
  const j = assertJson(await request(srv, { method: 'POST', path: '/api/widget/session', headers, json }), 200);
  assert.equal(j.beat.every, 2);
  assert.match(j.beat.ticket, /^\d+\.\d+\.\d+\.[A-Za-z0-9_-]{24}$/);
  return { id: j.visitor.id, token: j.visitor_token, ticket: j.beat.ticket };
}

/** One beat as the loader sends it: text/plain JSON. */
function beat(srv, body, { origin = F.site.origin, xff, ua, type = 'text/plain;charset=UTF-8' } = {}) {
  const headers = { Origin: origin, 'Content-Type': type };
  if (xff) headers['X-Forwarded-For'] = xff;
  if (ua) headers['User-Agent'] = ua;
  return request(srv, { method: 'POST', path: '/api/widget/beat', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function online(query = '') {
  return assertJson(await F.asAgent('GET', `/api/visitors/online${query}`), 200);
}

async function context(id, as = F.asAgent) {
  return assertJson(await as('GET', `/api/visitors/${id}/context`), 200);
}

test('a session through a trusted proxy is placed by X-Forwarded-For and keeps only the /24; through anyone else the header is ignored', async () => {
  const v = await session(fx.nodes[0], { xff: '203.0.113.77', ua: UA_IPHONE });
  const c = await context(v.id);
  assert.deepEqual(c.visitor.location, { country: 'JP', region: 'Tokyo', city: 'Tokyo', time_zone: 'Asia/Tokyo' });
  assert.equal(c.visitor.device.browser, 'Safari');
  assert.equal(c.visitor.device.os, 'iOS');
  assert.equal(c.visitor.device.device, 'mobile');
  const row = await fx.pg.query('SELECT host(ip) AS ip FROM visitors WHERE id = $1', [v.id]);
  assert.equal(row.rows[0].ip, '203.0.113.0', 'PARLEY_IP_STORAGE=truncated keeps the /24');

  // Node 1 trusts no proxy: the header is the client's own claim.
  const w = await session(fx.nodes[1], { xff: '203.0.113.77' });
  const cw = await context(w.id);
  assert.deepEqual(cw.visitor.location, {});
  const roww = await fx.pg.query('SELECT host(ip) AS ip FROM visitors WHERE id = $1', [w.id]);
  assert.equal(roww.rows[0].ip, '127.0.0.0');

  // IPv6 and the flat ip-location-db schema, through the proxy.
  const x = await session(fx.nodes[0], { xff: '2001:db8:1::42' });
  assert.equal((await context(x.id)).visitor.location.city, 'São Paulo');
  const rowx = await fx.pg.query('SELECT host(ip) AS ip FROM visitors WHERE id = $1', [x.id]);
  assert.equal(rowx.rows[0].ip, '2001:db8:1::', 'an IPv6 address keeps its /48');
});

test('page views and beats on two nodes give one online list and one journey, with time on each page and UTM', async () => {
  const v = await session(fx.nodes[0]);
  const landing = 'https://shop.example/shoes?utm_source=news%20letter&utm_campaign=spring&x=1';
  assert.equal(
    (await beat(fx.nodes[0], { b: v.ticket, v: 1, u: landing, n: 'Shoes', r: 'https://www.google.com/', s: '1280x800', l: 'de-DE' }, { xff: '198.51.100.9' }))
      .status,
    200,
  );
  const other = await session(fx.nodes[1]);
  assertJson(await beat(fx.nodes[1], { b: other.ticket, v: 1, u: 'https://shop.example/', n: 'Home' }), 200);
  const both = await waitFor(
    async () => {
      const list = await online();
      const ids = list.visitors.map((x) => x.visitor_id);
      return ids.includes(v.id) && ids.includes(other.id) && list;
    },
    { what: 'both visitors online, one beating to each node' },
  );
  const row = both.visitors.find((x) => x.visitor_id === v.id);
  assert.equal(row.page.url, landing);
  assert.equal(row.page.title, 'Shoes');
  assert.equal(row.referrer, 'https://www.google.com/');
  assert.equal(row.returning, false);
  assert.equal(row.chatting, null);
  assert.equal(row.device.screen, '1280x800');
  assert.equal(row.device.language, 'de-DE');
  assert.equal(row.location.city, 'Munich', 'the page view was placed through the trusted proxy');
  assert.equal(row.site_id, F.site.id);

  // The next page, on the other node, after a moment on the first.
  await new Promise((r) => setTimeout(r, 1100));
  assertJson(await beat(fx.nodes[1], { b: v.ticket, v: 1, u: 'https://shop.example/checkout', n: 'Checkout' }), 200);
  assertJson(await beat(fx.nodes[0], { b: v.ticket, u: 'https://shop.example/checkout', n: 'Checkout' }), 200);
  const journey = await waitFor(
    async () => {
      const c = await context(v.id);
      return c.visits.length === 1 && c.visits[0].pages.length === 2 && c;
    },
    { what: 'two pages in one visit' },
  );
  const [visit] = journey.visits;
  assert.deepEqual(visit.utm, { source: 'news letter', campaign: 'spring' });
  assert.equal(visit.landing_url, landing);
  assert.deepEqual(
    visit.pages.map((p) => p.title),
    ['Shoes', 'Checkout'],
  );
  assert.ok(visit.pages[0].seconds >= 1 && visit.pages[0].seconds < 60, JSON.stringify(visit.pages[0]));
  assert.equal(visit.pages[1].seconds, null, 'the page still open has no time yet');
  assert.equal(journey.visitor.visits, 1);
  assert.equal(journey.visitor.online, true);

  // Filters: country, a search, and an agent of another team sees nothing.
  assert.ok((await online('?country=DE')).visitors.some((x) => x.visitor_id === v.id));
  assert.ok(!(await online('?country=JP')).visitors.some((x) => x.visitor_id === v.id));
  assert.ok((await online('?q=checkout')).visitors.some((x) => x.visitor_id === v.id));
  const theirs = assertJson(await F.asOther('GET', '/api/visitors/online'), 200);
  assert.ok(!theirs.visitors.some((x) => x.site_id === F.site.id));
  assertProblem(await F.asOther('GET', `/api/visitors/${v.id}/context`), 404, 'not_found');
});

test('a visitor who leaves drops off in seconds, a silent one after the timeout; a visit after a pause continues', async () => {
  const a = await session(fx.nodes[0]);
  const b = await session(fx.nodes[1]);
  assertJson(await beat(fx.nodes[0], { b: a.ticket, v: 1, u: 'https://shop.example/a', n: 'A' }), 200);
  assertJson(await beat(fx.nodes[1], { b: b.ticket, v: 1, u: 'https://shop.example/b', n: 'B' }), 200);
  await waitFor(async () => (await online()).visitors.filter((x) => [a.id, b.id].includes(x.visitor_id)).length === 2, {
    what: 'both online',
  });
  const left = await beat(fx.nodes[0], { b: a.ticket, q: 1 });
  assert.equal(left.status, 204);
  // Leaving hides them from the list at once; the row goes 10 s later.
  await waitFor(async () => !(await online()).visitors.some((x) => x.visitor_id === a.id), { what: 'the leaver gone', timeoutMs: 5000 });
  // The silent one is gone after PARLEY_ONLINE_TIMEOUT_SECONDS (5).
  await waitFor(async () => !(await online()).visitors.some((x) => x.visitor_id === b.id), { what: 'the silent one gone', timeoutMs: 12000 });
  await waitFor(async () => (await fx.pg.query('SELECT 1 FROM visitors_online WHERE visitor_id = $1', [a.id])).rowCount === 0, {
    what: 'the leaver row gone',
    timeoutMs: 15000,
  });
  const pages = await fx.pg.query('SELECT seconds FROM page_views WHERE visitor_id = $1', [a.id]);
  assert.equal(pages.rowCount, 1);
  assert.ok(pages.rows[0].seconds !== null, 'the page left has its time');
  // Back within 30 minutes: the same visit.
  assertJson(await beat(fx.nodes[1], { b: a.ticket, v: 1, u: 'https://shop.example/again', n: 'Again' }), 200);
  const c = await waitFor(async () => {
    const x = await context(a.id);
    return x.visits[0] && x.visits[0].pages.length === 2 && x;
  });
  assert.equal(c.visits.length, 1);
});

test('an agent invites an online visitor: the next beat says so, the widget fetches it, the answer starts a chat with that agent', async () => {
  const agentSock = await connectAgent(fx.srv, F.agent, { status: 'online' });
  const v = await session(fx.nodes[1]);
  assertJson(await beat(fx.nodes[1], { b: v.ticket, v: 1, u: 'https://shop.example/pricing', n: 'Pricing' }), 200);
  await waitFor(async () => (await online()).visitors.some((x) => x.visitor_id === v.id), { what: 'online' });

  // Bounds and refusals first.
  assertProblem(await F.asAgent('POST', `/api/visitors/${v.id}/invitations`, { message: '' }), 400, 'invalid_request');
  assertProblem(await F.asAgent('POST', `/api/visitors/${v.id}/invitations`, { message: 'x'.repeat(1001) }), 400, 'invalid_request');
  assertProblem(await F.asOther('POST', `/api/visitors/${v.id}/invitations`, { message: 'Hi' }), 404, 'not_found');
  const offline = await session(fx.nodes[0]);
  assertProblem(await F.asAgent('POST', `/api/visitors/${offline.id}/invitations`, { message: 'Hi' }), 409, 'visitor_offline');

  const inv = assertJson(await F.asAgent('POST', `/api/visitors/${v.id}/invitations`, { message: 'Hi! Can I help you choose a plan?' }), 201).invitation;
  assert.equal(inv.status, 'pending');
  assertProblem(await F.asAgent('POST', `/api/visitors/${v.id}/invitations`, { message: 'Again' }), 409, 'invitation_pending');
  // The visitor beats to the other node: it learns of it within a write.
  await waitFor(async () => (await beat(fx.nodes[1], { b: v.ticket, u: 'https://shop.example/pricing' })).json.invite === true, {
    what: 'invite: true in the beat answer',
    intervalMs: 400,
  });
  const vs = await connectVisitor(fx.nodes[1], F.site, { token: v.token });
  const got = await vs.ack({ type: 'invitation.get' });
  assert.equal(got.invitation.id, inv.id);
  assert.equal(got.invitation.message, 'Hi! Can I help you choose a plan?');
  assert.equal(got.invitation.agent.name, 'Ana Invite');
  await agentSock.next((m) => m.type === 'invitation.updated' && m.invitation.id === inv.id && m.invitation.status === 'shown');

  // Someone else's invitation, and an unknown one, are refused.
  const stranger = await connectVisitor(fx.nodes[0], F.site);
  const refused = await stranger.ack({ type: 'conversation.start', invitation_id: inv.id }).catch((e) => e);
  assert.match(String(refused.code || refused.message), /not_found/);

  const started = await vs.ack({ type: 'conversation.start', invitation_id: inv.id });
  const conv = started.conversation;
  assert.equal(conv.status, 'assigned');
  assert.equal(conv.assignee.name, 'Ana Invite');
  const sync = await vs.ack({ type: 'sync', conversation_id: conv.id, after_seq: 0 });
  const said = sync.messages.filter((m) => m.kind === 'message');
  assert.equal(said[0].body, 'Hi! Can I help you choose a plan?');
  assert.equal(said[0].author.kind, 'agent');
  await agentSock.next(
    (m) => m.type === 'invitation.updated' && m.invitation.id === inv.id && m.invitation.status === 'accepted' && m.invitation.conversation_id === conv.id,
  );
  const row = await fx.pg.query('SELECT status, conversation_id FROM invitations WHERE id = $1', [inv.id]);
  assert.equal(row.rows[0].status, 'accepted');
  // Answered once only.
  const again = await vs.ack({ type: 'invitation.dismiss', invitation_id: inv.id }).catch((e) => e);
  assert.match(String(again.code || again.message), /invitation_used/);
  assertProblem(await F.asAgent('POST', `/api/visitors/${v.id}/invitations`, { message: 'More?' }), 409, 'visitor_chatting');
  vs.close();
  stranger.close();
  agentSock.close();
});

test('automatic invitation rules: validated, fire once per visitor a day, never after the visitor closed the widget; dismissed counts as ignored', async () => {
  const bad = await F.asAdmin('POST', '/api/invitation-rules', {
    site_id: F.site.id,
    name: 'Bad',
    message: 'Hi',
    conditions: { countries: ['germany'] },
  });
  const p = assertProblem(bad, 400, 'invalid_request');
  assert.equal(p.errors[0].field, 'conditions.countries');
  assertProblem(
    await F.asAdmin('POST', '/api/invitation-rules', { site_id: F.site.id, name: 'x', message: 'Hi', conditions: { later: 1 } }),
    400,
    'invalid_request',
  );
  assertProblem(await F.asAgent('POST', '/api/invitation-rules', { site_id: F.site.id, name: 'x', message: 'Hi' }), 403, 'forbidden');
  const rule = assertJson(
    await F.asAdmin('POST', '/api/invitation-rules', {
      site_id: F.site.id,
      name: 'Docs helper',
      message: 'Reading the docs? Ask us anything.',
      sender_name: 'The docs team',
      conditions: { time_on_page_seconds: 0, url_contains: '/DOCS/' },
    }),
    201,
  ).rule;
  assert.deepEqual(rule.stats, { sent: 0, accepted: 0, ignored: 0 });

  const closer = await session(fx.nodes[0]);
  assertJson(await beat(fx.nodes[0], { b: closer.ticket, v: 1, x: 1, u: 'https://shop.example/docs/a', n: 'Docs' }), 200);
  const v = await session(fx.nodes[1]);
  assertJson(await beat(fx.nodes[1], { b: v.ticket, v: 1, u: 'https://shop.example/docs/install', n: 'Install' }), 200);
  await waitFor(async () => (await beat(fx.nodes[1], { b: v.ticket, u: 'https://shop.example/docs/install' })).json.invite === true, {
    what: 'the rule invites',
    intervalMs: 400,
  });
  const vs = await connectVisitor(fx.nodes[1], F.site, { token: v.token });
  const got = (await vs.ack({ type: 'invitation.get' })).invitation;
  assert.equal(got.sender_name, 'The docs team');
  assert.equal(got.agent, null);
  await vs.ack({ type: 'invitation.dismiss', invitation_id: got.id });
  // More beats, more page views of the docs: no second invitation today.
  for (let i = 0; i < 3; i++) {
    assertJson(await beat(fx.nodes[0], { b: v.ticket, v: 1, u: `https://shop.example/docs/p${i}`, n: 'More' }), 200);
    await new Promise((r) => setTimeout(r, 1200));
  }
  assert.equal((await beat(fx.nodes[0], { b: v.ticket, u: 'https://shop.example/docs/p2' })).json.invite, false);
  const n = await fx.pg.query('SELECT count(*)::int AS n FROM invitations WHERE rule_id = $1', [rule.id]);
  assert.equal(n.rows[0].n, 1, 'one invitation per rule and visitor a day');
  const closed = await fx.pg.query('SELECT count(*)::int AS n FROM invitations WHERE visitor_id = $1', [closer.id]);
  assert.equal(closed.rows[0].n, 0, 'never to a visitor who closed the widget');
  const listed = assertJson(await F.asAdmin('GET', '/api/invitation-rules'), 200).rules.find((r) => r.id === rule.id);
  assert.deepEqual(listed.stats, { sent: 1, accepted: 0, ignored: 1 });
  const cleared = assertJson(await F.asAdmin('PATCH', `/api/invitation-rules/${rule.id}`, { enabled: false, sender_name: '' }), 200).rule;
  assert.equal(cleared.sender_name, '', "an empty sender name means the site's name");
  assertProblem(await F.asAdmin('PATCH', `/api/invitation-rules/${rule.id}`, { sender_name: '\u202e' }), 400, 'invalid_request');
  assert.equal((await F.asAdmin('DELETE', `/api/invitation-rules/${rule.id}`)).status, 204);
  vs.close();
});

test('beats are checked before any work: ticket, origin, size, URL scheme, fields', async () => {
  const v = await session(fx.nodes[0]);
  const ok = { b: v.ticket, v: 1, u: 'https://shop.example/', n: 'Home' };
  assertProblem(await beat(fx.nodes[0], ok, { origin: 'https://evil.example' }), 401, 'beat_ticket_invalid');
  assertProblem(await beat(fx.nodes[0], { ...ok, b: `${v.ticket.slice(0, -1)}${v.ticket.endsWith('A') ? 'B' : 'A'}` }), 401, 'beat_ticket_invalid');
  assertProblem(await beat(fx.nodes[0], { ...ok, b: undefined }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, u: 'javascript:alert(1)' }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, u: 'https://shop.example/\u0007' }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, r: 'data:text/html,x' }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, s: '1280 x 800' }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, v: 2 }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, extra: 1 }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, u: `https://shop.example/${'a'.repeat(2100)}` }), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], JSON.stringify({ ...ok, n: 'x'.repeat(5000) })), 413, 'payload_too_large');
  assertProblem(await beat(fx.nodes[0], ok, { type: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  assertProblem(await beat(fx.nodes[0], '[1,2'), 400, 'invalid_request');
  assertProblem(await beat(fx.nodes[0], { ...ok, n: 'Tab\there' }), 400, 'invalid_request');
  // A title is text, cut to 300 characters.
  const r = await beat(fx.nodes[0], { ...ok, n: `Tab here ${'é'.repeat(400)}` });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], F.site.origin);
  const row = await waitFor(async () => (await fx.pg.query('SELECT title FROM page_views WHERE visitor_id = $1', [v.id])).rows[0]);
  assert.ok(row.title.startsWith('Tab here'), JSON.stringify(row.title.slice(0, 20)));
  assert.equal([...row.title].length, 300);
});

test('REST API v1: a visitor journey with a conversations:read token, matching the console; the scope is required', async () => {
  const v = await session(fx.nodes[0], { xff: '203.0.113.5' });
  assertJson(await beat(fx.nodes[0], { b: v.ticket, v: 1, u: 'https://shop.example/a?utm_medium=cpc', n: 'A', z: 'Europe/Berlin' }), 200);
  const want = await waitFor(async () => {
    const c = await context(v.id);
    return c.visits[0] && c.visits[0].pages.length === 1 && c;
  });
  assert.equal(want.visitor.location.time_zone, 'Europe/Berlin', "the browser's zone wins over the database's");
  const tok = await addToken(fx.pg, { scopes: ['conversations:read'] });
  const got = assertJson(await api(fx.srv, tok, 'GET', `/api/v1/visitors/${v.id}/journey`), 200);
  assert.deepEqual(got, want);
  const res = assertJson(await api(fx.srv, tok, 'GET', `/api/v1/visitors/${v.id}`), 200);
  assert.equal(res.location.country, 'JP');
  const none = await addToken(fx.pg, { scopes: ['transcripts:read'] });
  assert.equal((await api(fx.srv, none, 'GET', `/api/v1/visitors/${v.id}/journey`)).status, 403);
  assert.equal((await api(fx.srv, tok, 'GET', '/api/v1/visitors/999999999/journey')).status, 404);
});

test('several beats of one visitor in one write: the latest wins (title, time, widget state)', async () => {
  const v = await session(fx.nodes[0]);
  assertJson(await beat(fx.nodes[0], { b: v.ticket, v: 1, u: 'https://shop.example/spa', n: 'Start' }), 200);
  await waitFor(async () => (await online()).visitors.some((x) => x.visitor_id === v.id), { what: 'online', intervalMs: 300 });
  // Within one second: one write holds them all, in this order.
  for (const [n, x] of [
    ['First', 0],
    ['Second', 0],
    ['Third', 1],
  ]) {
    assertJson(await beat(fx.nodes[0], { b: v.ticket, u: 'https://shop.example/spa', n, x }), 200);
  }
  const row = await waitFor(
    async () => {
      const r = (await online()).visitors.find((x) => x.visitor_id === v.id);
      return r && r.page.title !== 'Start' && r;
    },
    { what: 'the beats written', intervalMs: 300 },
  );
  assert.equal(row.page.title, 'Third');
  assert.equal(row.widget_closed, true);
});
