'use strict';
// Webhook delivery across nodes: two nodes share the outbox and deliver
// every event once between them; a node killed (kill -9) in the middle of a
// delivery loses nothing: once its heartbeat is stale another node sends the
// event again, with the same id, exactly once more. And an endpoint whose
// deliveries keep failing for PARLEY_WEBHOOK_DISABLE_AFTER_SECONDS is
// disabled (5 days in production, compressed here).

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { assertJson } = require('../helpers/assert');
const { createTeam, createSite, connectVisitor, startConversation, sendMessage, waitFor } = require('../helpers/fixtures');
const { addToken, api } = require('../helpers/api');
const { startReceiver } = require('../helpers/hookrecv');

const fx = suite({
  nodes: 2,
  env: {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
    PARLEY_WEBHOOK_RETRY_SCHEDULE: '0,1,1,1,1,1,1,1,1,1',
    PARLEY_WEBHOOK_TIMEOUT_SECONDS: '5',
    PARLEY_WEBHOOK_DISABLE_AFTER_SECONDS: '3',
    PARLEY_NODE_TIMEOUT_SECONDS: '10',
  },
});
const { test } = fx;
const F = {};
const receivers = [];

fx.setup(async () => {
  F.admin = await addToken(fx.pg, { scopes: ['admin'] });
  F.team = await createTeam(fx.pg, 'Nodes team');
  F.site = await createSite(fx.pg, { teamId: F.team });
});
fx.teardown(async () => {
  for (const r of receivers) await r.close();
});

async function endpoint(url) {
  return assertJson(await api(fx.srv, F.admin, 'POST', '/api/v1/webhooks', { json: { url, events: ['message.created'] } }), 201);
}

test('two nodes deliver each event once between them', async () => {
  const r = await startReceiver();
  receivers.push(r);
  const ep = await endpoint(r.url());
  const sent = [];
  for (let i = 0; i < 6; i++) {
    const v = await connectVisitor(fx.nodes[i % 2], F.site);
    const conv = await startConversation(v);
    for (let j = 0; j < 5; j++) {
      await sendMessage(v, conv, `c${i} m${j}`);
      sent.push(`c${i} m${j}`);
    }
  }
  await r.waitFor(sent.length, 20000);
  await new Promise((res) => setTimeout(res, 1000));
  const bodies = r.requests.map((q) => JSON.parse(q.body).data.body);
  assert.equal(r.requests.length, sent.length, 'no event twice');
  assert.deepEqual([...bodies].sort(), [...sent].sort());
  assert.equal(new Set(r.requests.map((q) => q.headers['webhook-id'])).size, sent.length);
  // Each conversation's messages arrived in their order.
  for (let i = 0; i < 6; i++) {
    const mine = bodies.filter((b) => b.startsWith(`c${i} `));
    assert.deepEqual(
      mine,
      [0, 1, 2, 3, 4].map((j) => `c${i} m${j}`),
    );
  }
  const byNode = await fx.pg.query(
    'SELECT a.node_id, count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.endpoint_id = $1 GROUP BY 1',
    [ep.id],
  );
  assert.equal(
    byNode.rows.reduce((s, x) => s + x.n, 0),
    sent.length,
    'one attempt per event',
  );
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('kill -9 in the middle of a delivery: another node sends it again, same id, exactly once more', { timeout: 90000 }, async () => {
  // One node delivers: the other stops first.
  await fx.nodes[1].stop();
  const r = await startReceiver({ respond: (req, attempt) => (attempt === 0 ? { hang: true } : { status: 200 }) });
  receivers.push(r);
  const ep = await endpoint(r.url());
  const v = await connectVisitor(fx.nodes[0], F.site);
  const conv = await startConversation(v);
  await sendMessage(v, conv, 'in flight when the node dies');
  const [first] = await r.waitFor(1, 10000);
  await fx.nodes[0].kill9();
  fx.srv = await fx.startNode();
  const reqs = await r.waitFor(2, 40000);
  assert.equal(reqs[1].headers['webhook-id'], first.headers['webhook-id'], 'the same event id');
  assert.equal(reqs[1].body, first.body, 'the same bytes');
  const d = await waitFor(
    async () => {
      const l = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}/deliveries`), 200);
      return l.data[0] && l.data[0].status === 'delivered' ? l.data[0] : null;
    },
    { timeoutMs: 10000, what: 'delivered by the new node' },
  );
  assert.equal(d.event_id, first.headers['webhook-id']);
  await new Promise((res) => setTimeout(res, 2000));
  assert.equal(r.requests.length, 2, 'exactly once more');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('an endpoint failing longer than the disable period is disabled, and the log says why', { timeout: 60000 }, async () => {
  const r = await startReceiver({ respond: () => ({ status: 500 }) });
  receivers.push(r);
  const ep = await endpoint(r.url());
  const v = await connectVisitor(fx.srv, F.site);
  const conv = await startConversation(v);
  await sendMessage(v, conv, 'nobody home');
  const off = await waitFor(
    async () => {
      const e = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${ep.id}`), 200);
      return e.enabled ? null : e;
    },
    { timeoutMs: 20000, what: 'the endpoint disabled after failing for 3 s' },
  );
  assert.equal(off.disabled_reason, 'failing');
  assert.ok(off.failing_since);
  assert.ok(Date.parse(off.disabled_at) - Date.parse(off.failing_since) >= 3000);
  const n = r.requests.length;
  await sendMessage(v, conv, 'still nobody');
  await new Promise((res) => setTimeout(res, 2000));
  assert.equal(r.requests.length, n, 'a disabled endpoint gets nothing');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});
