'use strict';
// Automation rules: admins keep them (validated, naming the field inside the
// rule; the ids they name must exist), and they run on a visitor's new
// conversation and on visitors' messages: assign a team, set the priority,
// add a label, send a message, add a note, close. A change made on one node
// reaches another within the cache time.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { assertJson, assertProblem } = require('../helpers/assert');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  startConversation,
  sendMessage,
  conversationRow,
  msgCreated,
  waitFor,
} = require('../helpers/fixtures');
const { addToken, api } = require('../helpers/api');
const { login, request } = require('../helpers/http');

const fx = suite({ nodes: 2, env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;
const F = {};

fx.setup(async () => {
  const admin = await createAgent(fx.pg, { name: 'Rule Admin', role: 'admin' });
  const s = await login(fx.srv, admin.email, admin.password);
  F.asAdmin = (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
  const agent = await createAgent(fx.pg, { name: 'Rule Agent', role: 'agent' });
  const sa = await login(fx.srv, agent.email, agent.password);
  F.asAgent = (method, path, json) => request(fx.srv, { method, path, json, jar: sa.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': sa.csrf } });
  F.token = await addToken(fx.pg, { scopes: ['admin'] });
  F.front = await createTeam(fx.pg, `Front ${Date.now()}`);
  F.sales = await createTeam(fx.pg, `Sales ${Date.now()}`);
  F.site = await createSite(fx.pg, { teamId: F.front });
  F.vip = assertJson(await F.asAdmin('POST', '/api/labels', { name: `VIP ${Date.now()}` }), 201).label;
  F.refund = assertJson(await F.asAdmin('POST', '/api/labels', { name: `Refund ${Date.now()}` }), 201).label;
});

function badField(res, field) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.equal(p.errors && p.errors[0] && p.errors[0].field, field, JSON.stringify(p));
}

test('rules are validated (the field inside the rule named), kept, listed, changed and deleted; admins only', async () => {
  const rule = {
    trigger: 'conversation.created',
    conditions: [{ field: 'page_url', op: 'contains', value: '/nothing-here' }],
    actions: [{ type: 'set_priority', priority: 'high' }],
  };
  assertProblem(await F.asAgent('POST', '/api/automation-rules', { name: 'x', rule }), 403, 'forbidden');
  badField(await F.asAdmin('POST', '/api/automation-rules', { rule }), 'name');
  badField(await F.asAdmin('POST', '/api/automation-rules', { name: 'no rule' }), 'rule');
  badField(
    await F.asAdmin('POST', '/api/automation-rules', { name: 'bad op', rule: { ...rule, conditions: [{ field: 'page_url', op: 'near', value: 'x' }] } }),
    'rule.conditions[0].op',
  );
  badField(
    await F.asAdmin('POST', '/api/automation-rules', { name: 'bad team', rule: { ...rule, actions: [{ type: 'assign_team', team_id: 999999 }] } }),
    'rule.actions[0].team_id',
  );
  badField(
    await F.asAdmin('POST', '/api/automation-rules', {
      name: 'bad label',
      rule: { ...rule, conditions: [{ field: 'label', op: 'includes', value: 999999 }] },
    }),
    'rule.conditions[0].value',
  );
  badField(
    await F.asAdmin('POST', '/api/automation-rules', {
      name: 'close first',
      rule: { ...rule, actions: [{ type: 'close' }, { type: 'set_priority', priority: 'low' }] },
    }),
    'rule.actions[0].type',
  );
  const made = assertJson(await F.asAdmin('POST', '/api/automation-rules', { name: 'Pricing', rule, position: 5 }), 201).rule;
  assert.equal(made.enabled, true);
  assert.deepEqual(made.rule, rule);
  const listed = assertJson(await api(fx.srv, F.token, 'GET', '/api/v1/automation-rules'), 200).rules;
  assert.ok(listed.some((r) => r.id === made.id));
  const off = assertJson(await F.asAdmin('PATCH', `/api/automation-rules/${made.id}`, { enabled: false }), 200).rule;
  assert.equal(off.enabled, false);
  assert.deepEqual(off.rule, rule, 'absent members are kept');
  assert.equal((await api(fx.srv, F.token, 'DELETE', `/api/v1/automation-rules/${made.id}`)).status, 204);
  assertProblem(await F.asAdmin('DELETE', `/api/automation-rules/${made.id}`), 404, 'not_found');
});

test('conversation.created: a visitor from the pricing page goes to Sales, urgent-ish, labelled, greeted, with a note', async () => {
  const rule = {
    trigger: 'conversation.created',
    match: 'all',
    conditions: [
      { field: 'page_url', op: 'contains', value: '/PRICING' },
      { field: 'prechat.plan', op: 'in', value: ['pro', 'enterprise'] },
    ],
    actions: [
      { type: 'assign_team', team_id: F.sales },
      { type: 'set_priority', priority: 'high' },
      { type: 'add_label', label_id: F.vip.id },
      { type: 'send_message', body: 'Welcome! Sales will be with you shortly.' },
      { type: 'add_note', body: 'Came from the pricing page' },
    ],
  };
  const made = assertJson(await F.asAdmin('POST', '/api/automation-rules', { name: 'Pricing to sales', rule }), 201).rule;
  const v = await connectVisitor(fx.nodes[0], F.site);
  const cid = await startConversation(v, { page_url: 'https://shop.example/pricing?x=1', prechat: { plan: 'pro' } });
  const hello = await v.next(
    msgCreated(cid, (m) => m.author.kind === 'system' && m.kind === 'message'),
    5000,
    'the greeting',
  );
  assert.equal(hello.message.body, 'Welcome! Sales will be with you shortly.');
  await waitFor(async () => (await conversationRow(fx.pg, cid)).team_id === F.sales, { what: 'moved to Sales' });
  const row = (await fx.pg.query('SELECT priority FROM conversations WHERE id = $1', [cid])).rows[0];
  assert.equal(row.priority, 2);
  const labels = (await fx.pg.query('SELECT label_id FROM conversation_labels WHERE conversation_id = $1', [cid])).rows;
  assert.deepEqual(
    labels.map((l) => Number(l.label_id)),
    [F.vip.id],
  );
  const notes = (await fx.pg.query("SELECT body FROM messages WHERE conversation_id = $1 AND kind = 'note'", [cid])).rows.map((r) => r.body);
  assert.ok(notes.includes('Came from the pricing page'));
  const vs = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(!vs.messages.some((m) => m.body === 'Came from the pricing page'), 'a rule note reached the visitor');

  // Another page, or another plan: nothing happens.
  const v2 = await connectVisitor(fx.nodes[0], F.site);
  const cid2 = await startConversation(v2, { page_url: 'https://shop.example/pricing', prechat: { plan: 'free' } });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await conversationRow(fx.pg, cid2)).team_id, F.front);
  await F.asAdmin('DELETE', `/api/automation-rules/${made.id}`);
  for (const c of [v, v2]) await c.close();
});

test('message.created: a visitor asking for a refund is labelled and made urgent; spam is closed', async () => {
  const agent = await createAgent(fx.pg, { name: 'Msg Agent', teams: [F.front] });
  const a = await connectAgent(fx.nodes[1], agent, { status: 'online' });
  const refund = assertJson(
    await F.asAdmin('POST', '/api/automation-rules', {
      name: 'Refunds',
      rule: {
        trigger: 'message.created',
        conditions: [{ field: 'message', op: 'contains', value: 'refund' }],
        actions: [
          { type: 'add_label', label_id: F.refund.id },
          { type: 'set_priority', priority: 'urgent' },
        ],
      },
    }),
    201,
  ).rule;
  const spam = assertJson(
    await F.asAdmin('POST', '/api/automation-rules', {
      name: 'Spam',
      rule: {
        trigger: 'message.created',
        match: 'any',
        conditions: [
          { field: 'message', op: 'starts_with', value: 'BUY CHEAP' },
          { field: 'attribute.spammer', op: 'equals', value: 'true' },
        ],
        actions: [{ type: 'send_message', body: 'This chat was closed.' }, { type: 'close' }],
      },
    }),
    201,
  ).rule;
  const v = await connectVisitor(fx.nodes[0], F.site);
  const cid = await startConversation(v);
  await sendMessage(v, cid, 'Hello, I would like a Refund please');
  await waitFor(async () => (await fx.pg.query('SELECT priority FROM conversations WHERE id = $1', [cid])).rows[0].priority === 3, { what: 'urgent' });
  const labels = (await fx.pg.query('SELECT label_id FROM conversation_labels WHERE conversation_id = $1', [cid])).rows;
  assert.deepEqual(
    labels.map((l) => Number(l.label_id)),
    [F.refund.id],
  );
  // What the agent writes never triggers a rule.
  await sendMessage(a, cid, 'a refund? BUY CHEAP watches');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await conversationRow(fx.pg, cid)).status, 'assigned');

  const v2 = await connectVisitor(fx.nodes[1], F.site);
  const cid2 = await startConversation(v2);
  await sendMessage(v2, cid2, 'buy cheap watches here');
  const bye = await v2.next(
    msgCreated(cid2, (m) => m.author.kind === 'system' && m.kind === 'message'),
    5000,
    'closing',
  );
  assert.equal(bye.message.body, 'This chat was closed.');
  await waitFor(async () => (await conversationRow(fx.pg, cid2)).status === 'closed', { what: 'closed' });

  // A rule switched off on node A stops running on node B within the cache time.
  assertJson(await F.asAdmin('PATCH', `/api/automation-rules/${spam.id}`, { enabled: false }), 200);
  await new Promise((r) => setTimeout(r, 5500));
  const v3 = await connectVisitor(fx.nodes[1], F.site);
  const cid3 = await startConversation(v3);
  await sendMessage(v3, cid3, 'BUY CHEAP stuff');
  await new Promise((r) => setTimeout(r, 800));
  assert.notEqual((await conversationRow(fx.pg, cid3)).status, 'closed');
  for (const id of [refund.id, spam.id]) await F.asAdmin('DELETE', `/api/automation-rules/${id}`);
  for (const c of [a, v, v2, v3]) await c.close();
});
