'use strict';
// Webhooks, end to end against real HTTP receivers on loopback: endpoints
// through /api/v1/webhooks (admin scope) and /api/webhooks (admin session),
// the secret shown once, events written in the transaction of their change
// (a rolled-back change has none), Standard Webhooks signatures checked by an
// independent verifier (tests/helpers/hookrecv.js), notes only when asked
// for, retries on the (compressed) schedule with the same event id,
// Retry-After, 410 disabling the endpoint, a hanging receiver not holding
// back another endpoint, one conversation's events in order while an earlier
// one is retried, secret rotation sending two signatures, the test event,
// redelivery, the delivery log and /metrics.

const assert = require('node:assert/strict');

const pg = require('pg');

const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { assertProblem, assertJson } = require('../helpers/assert');
const {
  createTeam,
  createSite,
  createAgent,
  connectVisitor,
  connectAgent,
  startConversation,
  sendMessage,
  agentSession,
  waitFor,
} = require('../helpers/fixtures');
const { addToken, api, loadSpec, checkSchema, responseSchema } = require('../helpers/api');
const { startReceiver, verifyWebhook } = require('../helpers/hookrecv');

const fx = suite({
  env: {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
    // attempt 1 at once, then 1 s, 1 s, 4 s: the schedule's shape, quickly
    PARLEY_WEBHOOK_RETRY_SCHEDULE: '0,1,1,4',
    PARLEY_WEBHOOK_TIMEOUT_SECONDS: '2',
    PARLEY_AGENT_GRACE_SECONDS: '86400',
  },
});
const { test } = fx;
const F = {};
let spec;
const receivers = [];

async function receiver(respond) {
  const r = await startReceiver({ respond });
  receivers.push(r);
  return r;
}

fx.setup(async () => {
  spec = loadSpec();
  F.admin = await addToken(fx.pg, { scopes: ['admin'] });
  F.reader = await addToken(fx.pg, { scopes: ['conversations:read'] });
  F.team = await createTeam(fx.pg, 'Hook team');
  F.site = await createSite(fx.pg, { teamId: F.team });
  F.adminAgent = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin', teams: [F.team] });
  F.agent = await createAgent(fx.pg, { name: 'Al Agent', teams: [F.team] });
});

fx.teardown(async () => {
  for (const r of receivers) await r.close();
});

function conforms(res, method, pattern, status) {
  const body = assertJson(res, status);
  const schema = responseSchema(spec, method, pattern, status, 'application/json');
  if (!schema) return body;
  assert.ok(schema, `docs/openapi.yaml has no schema for ${method} ${pattern} ${status}`);
  assert.deepEqual(checkSchema(spec, schema, body), [], `${method} ${pattern} ${status} answer does not match docs/openapi.yaml`);
  return body;
}

/** Creates an endpoint through the REST API; resolves its shape with .secret. */
async function endpoint(url, body = {}) {
  const r = await api(fx.srv, F.admin, 'POST', '/api/v1/webhooks', { json: { url, events: ['message.created'], ...body } });
  return conforms(r, 'POST', '/api/v1/webhooks', 201);
}

/** A visitor with a conversation on F.site: { v, conv }. */
async function visitorConversation() {
  const v = await connectVisitor(fx.srv, F.site);
  const conv = await startConversation(v);
  return { v, conv };
}

const eventsOf = (r) => r.requests.map((q) => JSON.parse(q.body));

test('an admin token creates an endpoint; the secret is in that answer only; others may not', async () => {
  const r = await receiver();
  const ep = await endpoint(r.url(), { description: 'CRM sync', events: ['conversation.created', 'message.created'] });
  assert.match(ep.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  assert.equal(ep.enabled, true);
  assert.deepEqual(ep.events, ['conversation.created', 'message.created']);
  const got = conforms(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}`), 'GET', '/api/v1/webhooks/{id}', 200);
  assert.equal(got.secret, undefined, 'the secret is shown once');
  const list = conforms(await api(fx.srv, F.admin, 'GET', '/api/v1/webhooks'), 'GET', '/api/v1/webhooks', 200);
  assert.ok(list.data.some((e) => e.id === ep.id));
  assert.ok(!JSON.stringify(list).includes(ep.secret));
  // Stored sealed: the database holds no copy of the secret's text or key.
  const row = await fx.pg.query('SELECT encode(secret, $2) AS s FROM webhook_endpoints WHERE id = $1', [ep.id, 'base64']);
  assert.ok(!row.rows[0].s.includes(ep.secret.slice(6, 30)));
  // Without the admin scope, or as an agent in the console: refused.
  assertProblem(await api(fx.srv, F.reader, 'GET', '/api/v1/webhooks'), 403, 'insufficient_scope');
  const s = await agentSession(fx.srv, F.agent);
  assertProblem(await request(fx.srv, { path: '/api/webhooks', headers: { Cookie: `parley_session=${s.cookie}` } }), 403, 'forbidden');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('bad endpoint fields are refused field by field', async () => {
  const bad = async (json, field) => {
    const res = await api(fx.srv, F.admin, 'POST', '/api/v1/webhooks', { json });
    const p = assertProblem(res, 400, 'invalid_request');
    assert.equal(p.errors[0].field, field, JSON.stringify(p));
  };
  await bad({ url: 'ftp://example.com/x', events: ['message.created'] }, 'url');
  await bad({ url: 'https://user:pw@example.com/x', events: ['message.created'] }, 'url');
  await bad({ url: 'https://example.com/x' }, 'events');
  await bad({ url: 'https://example.com/x', events: [] }, 'events');
  await bad({ url: 'https://example.com/x', events: ['message.created', 'message.created'] }, 'events');
  await bad({ url: 'https://example.com/x', events: ['message.deleted'] }, 'events');
  await bad({ url: 'https://example.com/x', events: ['webhook.test'] }, 'events');
  await bad({ url: `https://example.com/${'x'.repeat(2100)}`, events: ['message.created'] }, 'url');
  await bad({ url: 'https://example.com/x', events: ['message.created'], secret: 'whsec_x' }, 'secret');
  await bad({ url: 'https://example.com/x', events: ['message.created'], include_notes: 'yes' }, 'include_notes');
});

test('events are signed per Standard Webhooks, carry the REST shapes, and arrive in commit order', async () => {
  const r = await receiver();
  const ep = await endpoint(r.url(), { events: ['conversation.created', 'conversation.queued', 'message.created', 'conversation.closed'] });
  const { v, conv } = await visitorConversation();
  await sendMessage(v, conv, 'Hello, is anyone there?');
  const reqs = await r.waitFor(3, 10000);
  const types = eventsOf(r).map((e) => e.type);
  assert.deepEqual(types, ['conversation.created', 'conversation.queued', 'message.created']);
  for (const q of reqs) {
    const payload = verifyWebhook(ep.secret, q.headers, q.body);
    assert.match(q.headers['webhook-id'], /^evt_[0-9a-f]{32}$/);
    assert.equal(q.headers['content-type'], 'application/json');
    assert.ok(Math.abs(Number(q.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
    assert.match(payload.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  }
  const [created, , message] = eventsOf(r);
  assert.equal(created.data.id, conv);
  assert.equal(created.data.status, 'queued');
  assert.equal(created.data.visitor.id, v.visitor.id);
  assert.equal(message.data.conversation_id, conv);
  assert.equal(message.data.body, 'Hello, is anyone there?');
  assert.equal(message.data.author.kind, 'visitor');
  // The message is what the REST API lists.
  const listed = await api(fx.srv, F.admin, 'GET', `/api/v1/conversations/${conv}/messages`);
  assert.deepEqual(
    message.data,
    assertJson(listed, 200).data.find((m) => m.id === message.data.id),
  );
  // A changed body, a stale timestamp or another secret fail verification.
  const q = reqs[2];
  assert.throws(() => verifyWebhook(ep.secret, q.headers, q.body.replace('anyone', 'someone')), /bad_signature|signature/);
  assert.throws(() => verifyWebhook(ep.secret, q.headers, q.body, { now: Number(q.headers['webhook-timestamp']) + 600 }), /too_old|old/);
  const other = await endpoint(r.url('/other'));
  assert.throws(() => verifyWebhook(other.secret, q.headers, q.body), /signature/);
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${other.id}`);
  // Closing it through the API: conversation.closed with the closed shape.
  await api(fx.srv, F.admin, 'POST', `/api/v1/conversations/${conv}/close`, { json: {} });
  await r.waitFor(4, 10000);
  assert.equal(eventsOf(r)[3].type, 'conversation.closed');
  assert.equal(eventsOf(r)[3].data.status, 'closed');
  // Ids are stable and unique.
  assert.equal(new Set(r.requests.map((x) => x.headers['webhook-id'])).size, 4);
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('a change that rolls back writes no event; one that commits does', async () => {
  const r = await receiver();
  const ep = await endpoint(r.url(), { events: ['conversation.closed', 'visitor.updated'] });
  const { conv } = await visitorConversation();
  const client = new pg.Client({ connectionString: fx.pg.url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query("UPDATE conversations SET status = 'closed', closed_at = now(), assignee_id = NULL WHERE id = $1", [conv]);
    const inside = await client.query("SELECT count(*)::int AS n FROM webhook_events WHERE conversation_id = $1 AND type = 'conversation.closed'", [conv]);
    assert.equal(inside.rows[0].n, 1, 'the event is written inside the transaction');
    await client.query('ROLLBACK');
  } finally {
    await client.end();
  }
  const after = await fx.pg.query("SELECT count(*)::int AS n FROM webhook_events WHERE conversation_id = $1 AND type = 'conversation.closed'", [conv]);
  assert.equal(after.rows[0].n, 0, 'rolled back with its change');
  await api(fx.srv, F.admin, 'POST', `/api/v1/conversations/${conv}/close`, { json: {} });
  await r.waitFor(1, 10000);
  assert.equal(eventsOf(r)[0].type, 'conversation.closed');
  assert.equal(eventsOf(r)[0].data.id, conv);
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('internal notes go only to endpoints that asked for them', async () => {
  const plain = await receiver();
  const withNotes = await receiver();
  const a = await endpoint(plain.url());
  const b = await endpoint(withNotes.url(), { include_notes: true });
  const { conv } = await visitorConversation();
  const W = await addToken(fx.pg, { scopes: ['conversations:write'] });
  const agent = await connectAgent(fx.srv, F.agent);
  await sendMessage(agent, conv, 'internal: VIP customer', { type: 'note.send' });
  const msg = await api(fx.srv, W, 'POST', `/api/v1/conversations/${conv}/messages`, { json: { body: 'Hi from the CRM', idempotency_key: 'm1' } });
  assert.equal(msg.status, 201, msg.body);
  await withNotes.waitFor(2, 10000);
  await plain.waitFor(1, 10000);
  assert.deepEqual(
    eventsOf(withNotes).map((e) => e.data.kind),
    ['note', 'message'],
  );
  // The plain endpoint's next event after the note is the message itself.
  await new Promise((res) => setTimeout(res, 500));
  assert.deepEqual(
    eventsOf(plain).map((e) => e.data.body),
    ['Hi from the CRM'],
  );
  for (const e of [a, b]) await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${e.id}`);
});

test('failures are retried on the schedule with the same event id, and the log shows each attempt', async () => {
  const r = await receiver((req, attempt) => (attempt < 2 ? { status: 500, body: 'upstream broke' } : { status: 204 }));
  const ep = await endpoint(r.url());
  const { v, conv } = await visitorConversation();
  await sendMessage(v, conv, 'retry me');
  const reqs = await r.waitFor(3, 15000);
  assert.equal(new Set(reqs.map((q) => q.headers['webhook-id'])).size, 1, 'one event, three attempts');
  assert.equal(reqs[0].body, reqs[2].body, 'the body is the same bytes on every attempt');
  // Schedule 0,1,1: at least ~1 s (minus 10 % jitter) between attempts.
  assert.ok(reqs[1].at - reqs[0].at >= 850, `second attempt ${reqs[1].at - reqs[0].at} ms after the first`);
  assert.ok(reqs[2].at - reqs[1].at >= 850, `third attempt ${reqs[2].at - reqs[1].at} ms after the second`);
  for (const q of reqs) verifyWebhook(ep.secret, q.headers, q.body);
  const log = await waitFor(
    async () => {
      const l = conforms(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries`), 'GET', '/api/v1/webhooks/{id}/deliveries', 200);
      return l.data[0] && l.data[0].status === 'delivered' ? l : null;
    },
    { timeoutMs: 5000, what: 'the delivery recorded as delivered' },
  );
  const d = log.data[0];
  assert.equal(d.attempts, 3);
  assert.equal(d.event_id, reqs[0].headers['webhook-id']);
  assert.equal(d.type, 'message.created');
  const detail = conforms(
    await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries/${d.id}`),
    'GET',
    '/api/v1/webhooks/{id}/deliveries/{did}',
    200,
  );
  assert.equal(detail.body, reqs[0].body);
  assert.deepEqual(
    detail.attempts.map((x) => x.response_status),
    [500, 500, 204],
  );
  assert.equal(detail.attempts[0].response_excerpt, 'upstream broke');
  assert.equal(detail.attempts[0].request_headers['webhook-id'], d.event_id);
  assert.ok(detail.attempts.every((x) => Number.isInteger(x.latency_ms)));
  // The endpoint recovered: not failing.
  const got = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}`), 200);
  assert.equal(got.failing_since, null);
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('a delivery that fails every attempt ends failed; Retry-After stretches a wait', async () => {
  const r = await receiver((req, attempt) => (attempt === 0 ? { status: 503, headers: { 'Retry-After': '3' } } : { status: 500 }));
  const ep = await endpoint(r.url());
  const { v, conv } = await visitorConversation();
  await sendMessage(v, conv, 'never lands');
  const reqs = await r.waitFor(4, 20000);
  // The schedule said 1 s; the receiver asked for 3.
  assert.ok(reqs[1].at - reqs[0].at >= 2900, `second attempt ${reqs[1].at - reqs[0].at} ms after the first`);
  const d = await waitFor(
    async () => {
      const l = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries?status=failed`), 200);
      return l.data[0];
    },
    { timeoutMs: 5000, what: 'the delivery given up' },
  );
  assert.equal(d.attempts, 4, 'four attempts in the schedule 0,1,1,4');
  assert.equal(d.last_status, 500);
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(r.requests.length, 4, 'no fifth attempt');
  const got = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}`), 200);
  assert.ok(got.failing_since, 'the endpoint is failing');
  assert.equal(got.enabled, true, 'but not for five days');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('410 Gone disables the endpoint at once; re-enabling clears the reason', async () => {
  const r = await receiver(() => ({ status: 410 }));
  const ep = await endpoint(r.url());
  const { v, conv } = await visitorConversation();
  await sendMessage(v, conv, 'first');
  await r.waitFor(1, 10000);
  const off = await waitFor(
    async () => {
      const e = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}`), 200);
      return e.enabled ? null : e;
    },
    { timeoutMs: 5000, what: 'the endpoint disabled' },
  );
  assert.equal(off.disabled_reason, 'gone');
  assert.ok(off.disabled_at);
  await sendMessage(v, conv, 'second');
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(r.requests.length, 1, 'nothing more to a disabled endpoint');
  const onRes = await api(fx.srv, F.admin, 'PATCH', `/api/v1/webhooks/${ep.id}`, { json: { enabled: true } });
  const on = assertJson(onRes, 200);
  assert.equal(on.enabled, true);
  assert.equal(on.disabled_reason, null);
  const man = assertJson(await api(fx.srv, F.admin, 'PATCH', `/api/v1/webhooks/${ep.id}`, { json: { enabled: false } }), 200);
  assert.equal(man.disabled_reason, 'admin');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test("a receiver that hangs times out without holding back another endpoint's deliveries", async () => {
  const hanging = await receiver(() => ({ hang: true }));
  const fast = await receiver();
  const h = await endpoint(hanging.url());
  const f = await endpoint(fast.url());
  const { v, conv } = await visitorConversation();
  for (let i = 0; i < 5; i++) await sendMessage(v, conv, `m${i}`);
  // All five reach the fast receiver while the first is still hanging.
  await fast.waitFor(5, 10000);
  assert.equal(hanging.requests.length, 1, 'the hanging endpoint holds its conversation in order');
  const d = await waitFor(
    async () => {
      const l = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${h.id}/deliveries`), 200);
      const first = l.data[l.data.length - 1];
      if (!first || first.attempts < 1 || !first.last_error) return null;
      return first;
    },
    { timeoutMs: 8000, what: 'the hanging attempt timed out' },
  );
  assert.equal(d.last_error, 'timeout');
  for (const e of [h, f]) await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${e.id}`);
});

test("one conversation's events reach an endpoint in order while an earlier one is retried", async () => {
  const r = await receiver((req, attempt) => (JSON.parse(req.body).data.body === 'one' && attempt === 0 ? { status: 500 } : { status: 200 }));
  const ep = await endpoint(r.url());
  const { v, conv } = await visitorConversation();
  await sendMessage(v, conv, 'one');
  await sendMessage(v, conv, 'two');
  await sendMessage(v, conv, 'three');
  await r.waitFor(4, 10000);
  assert.deepEqual(
    eventsOf(r).map((e) => e.data.body),
    ['one', 'one', 'two', 'three'],
  );
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('rotation: during the grace period both secrets sign; without one, only the new', async () => {
  const r = await receiver();
  const ep = await endpoint(r.url());
  const rot = conforms(
    await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${ep.id}/rotate`, { json: { grace_seconds: 3600 } }),
    'POST',
    '/api/v1/webhooks/{id}/rotate',
    200,
  );
  assert.match(rot.secret, /^whsec_/);
  assert.notEqual(rot.secret, ep.secret);
  assert.ok(rot.previous_secret_expires_at);
  const t1 = assertJson(await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${ep.id}/test`), 202);
  assert.equal(t1.delivery.type, 'webhook.test');
  const [q] = await r.waitFor(1, 10000);
  const sigs = q.headers['webhook-signature'].split(' ');
  assert.equal(sigs.length, 2, q.headers['webhook-signature']);
  verifyWebhook(rot.secret, { ...q.headers, 'webhook-signature': sigs[0] }, q.body);
  verifyWebhook(ep.secret, { ...q.headers, 'webhook-signature': sigs[1] }, q.body);
  assert.equal(JSON.parse(q.body).type, 'webhook.test');
  assert.equal(JSON.parse(q.body).data.endpoint_id, ep.id);
  const rot2 = assertJson(await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${ep.id}/rotate`, { json: { grace_seconds: 0 } }), 200);
  await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${ep.id}/test`);
  const q2 = (await r.waitFor(2, 10000))[1];
  assert.equal(q2.headers['webhook-signature'].split(' ').length, 1);
  verifyWebhook(rot2.secret, q2.headers, q2.body);
  assert.throws(() => verifyWebhook(rot.secret, q2.headers, q2.body), /signature/);
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('redeliver sends the same event again; the console route works with an admin session', async () => {
  const r = await receiver();
  const ep = await endpoint(r.url());
  const t = assertJson(await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${ep.id}/test`), 202);
  const [first] = await r.waitFor(1, 10000);
  await waitFor(
    async () => assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries/${t.delivery.id}`), 200).status === 'delivered',
    { what: 'delivered' },
  );
  const s = await agentSession(fx.srv, F.adminAgent);
  const headers = { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf, Origin: fx.srv.origin };
  const again = await request(fx.srv, { method: 'POST', path: `/api/webhooks/${ep.id}/deliveries/${t.delivery.id}/redeliver`, headers, json: {} });
  const body = assertJson(again, 202);
  assert.notEqual(body.delivery.id, t.delivery.id);
  assert.equal(body.delivery.event_id, t.delivery.event_id);
  const second = (await r.waitFor(2, 10000))[1];
  assert.equal(second.headers['webhook-id'], first.headers['webhook-id']);
  assert.equal(second.body, first.body);
  // Without the CSRF header a console change is refused.
  const noCsrf = await request(fx.srv, { method: 'POST', path: `/api/webhooks/${ep.id}/test`, headers: { Cookie: headers.Cookie, Origin: fx.srv.origin } });
  assert.equal(noCsrf.status, 403);
  assertProblem(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries/999999999`), 404, 'not_found');
  assertProblem(await api(fx.srv, F.admin, 'GET', '/api/v1/webhooks/999999999'), 404, 'not_found');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
  assertProblem(await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`), 404, 'not_found');
});

test('a secret that does not open (another key file) sends nothing: the attempt fails as secret_unreadable', async () => {
  const r = await receiver();
  const ep = await endpoint(r.url());
  await fx.pg.query("UPDATE webhook_endpoints SET secret = decode(repeat('00', 60), 'hex') WHERE id = $1", [ep.id]);
  const t = assertJson(await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${ep.id}/test`), 202);
  const d = await waitFor(
    async () => {
      const x = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries/${t.delivery.id}`), 200);
      return x.attempts.length ? x : null;
    },
    { what: 'the attempt recorded' },
  );
  assert.equal(d.attempts[0].error, 'secret_unreadable');
  assert.equal(d.attempts[0].response_status, null);
  assert.equal(r.requests.length, 0, 'nothing unsigned went out');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('/metrics shows deliveries, failures and the backlog', async () => {
  const m = await request(fx.srv, { path: '/metrics' });
  assert.equal(m.status, 200);
  assert.match(m.body, /^parley_webhook_attempts_total\{result="delivered"\} [1-9]\d*$/m);
  assert.match(m.body, /^parley_webhook_attempts_total\{result="failed"\} [1-9]\d*$/m);
  assert.match(m.body, /^parley_webhook_deliveries_given_up_total [1-9]\d*$/m);
  assert.match(m.body, /^parley_webhook_backlog \d+$/m);
  assert.match(m.body, /^parley_webhook_oldest_pending_seconds [\d.]+$/m);
  assert.match(m.body, /^parley_webhook_in_flight \d+$/m);
});
