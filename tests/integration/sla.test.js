'use strict';
// Business hours, SLA clocks and escalation rules per team, swept by two
// nodes at once: settings are validated and kept; outside business hours
// the widget shows the offline form and when the team is back; a chat
// waiting too long moves to another team (or is raised in priority)
// exactly once; a chat the router gave to an agent who does not answer goes
// to the next agent; a chat whose visitor went silent is closed with the
// team's message; SLA due times are set (in business time where asked) and
// each missed target is recorded once, and sent to the webhooks that want
// it; the supervisors' board.

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
  convUpdated,
  msgCreated,
  waitFor,
} = require('../helpers/fixtures');
const { login, request } = require('../helpers/http');
const { addToken, api } = require('../helpers/api');
const { startReceiver, verifyWebhook } = require('../helpers/hookrecv');

const fx = suite({
  nodes: 2,
  env: { PARLEY_AGENT_GRACE_SECONDS: '86400', PARLEY_WEBHOOK_ALLOW_HTTP: '1', PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8' },
});
const { test } = fx;
const [A, B] = [0, 1];
let asAdmin;

fx.setup(async () => {
  const admin = await createAgent(fx.pg, { name: 'Sla Admin', role: 'admin' });
  const s = await login(fx.srv, admin.email, admin.password);
  assert.equal(s.res.status, 200);
  asAdmin = (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
});

const patchTeam = (id, json) => asAdmin('PATCH', `/api/teams/${id}`, json);
function badField(res, field) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.equal(p.errors && p.errors[0] && p.errors[0].field, field, JSON.stringify(p));
}
const isoDay = (d) => d.toISOString().slice(0, 10);
const day = 86400e3;
/** Hours open all day every day, but today and tomorrow (UTC) are holidays: closed now, back the day after. */
function closedTillAfterTomorrow() {
  const week = {};
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) week[d] = [['00:00', '24:00']];
  const now = Date.now();
  return {
    hours: { timezone: 'UTC', week, holidays: [isoDay(new Date(now)), isoDay(new Date(now + day))] },
    backAt: `${isoDay(new Date(now + 2 * day))}T00:00:00Z`,
  };
}
const eventsOf = async (cid, event) =>
  (await fx.pg.query("SELECT body, meta FROM messages WHERE conversation_id = $1 AND meta->>'event' = $2 ORDER BY seq", [cid, event])).rows;

test('team settings are validated, naming the field, and kept; open_now and back_at are read', async () => {
  const team = await createTeam(fx.pg);
  badField(await patchTeam(team, { business_hours: { timezone: 'Mars/Olympus', week: {} } }), 'business_hours.timezone');
  badField(await patchTeam(team, { business_hours: { timezone: 'UTC', week: { mon: [['10:00', '09:00']] } } }), 'business_hours.week.mon[0]');
  badField(await patchTeam(team, { sla: { first_response_seconds: 1 } }), 'sla.first_response_seconds');
  badField(await patchTeam(team, { sla: { business_time: true } }), 'sla.first_response_seconds');
  badField(await patchTeam(team, { escalation: { queue_wait: { after_seconds: 60 } } }), 'escalation.queue_wait.to_team_id');
  badField(await patchTeam(team, { escalation: { queue_wait: { after_seconds: 60, to_team_id: 999999 } } }), 'escalation.queue_wait.to_team_id');
  badField(await patchTeam(team, { escalation: { visitor_idle: { after_seconds: 60 } } }), 'escalation.visitor_idle.message');
  badField(await patchTeam(team, { collaborators_use_capacity: 'yes' }), 'collaborators_use_capacity');

  const { hours, backAt } = closedTillAfterTomorrow();
  const sla = { first_response_seconds: 300, next_response_seconds: 600, resolution_seconds: null, business_time: true };
  const escalation = { reassign_after_seconds: 60, visitor_idle: { after_seconds: 900, message: 'Closing this chat.' } };
  const saved = assertJson(await patchTeam(team, { business_hours: hours, sla, escalation, collaborators_use_capacity: true }), 200).team;
  assert.deepEqual(saved.sla, sla);
  assert.equal(saved.collaborators_use_capacity, true);
  const listed = assertJson(await asAdmin('GET', '/api/teams'), 200).teams.find((t) => t.id === team);
  assert.deepEqual(listed.business_hours, hours);
  assert.deepEqual(listed.escalation, escalation);
  assert.equal(listed.open_now, false);
  assert.equal(listed.back_at, backAt);
  // null clears; absent keeps.
  const cleared = assertJson(await patchTeam(team, { business_hours: null }), 200).team;
  assert.equal(cleared.business_hours, undefined === cleared.business_hours ? undefined : null);
  const again = assertJson(await asAdmin('GET', '/api/teams'), 200).teams.find((t) => t.id === team);
  assert.equal(again.business_hours, null);
  assert.equal(again.open_now, true);
  assert.deepEqual(again.sla, sla, 'absent members are kept');
});

test('outside business hours the widget shows the offline form and when the team is back', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const agent = await createAgent(fx.pg, { teams: [team] });
  const a = await connectAgent(fx.nodes[B], agent, { status: 'online' });
  const widgetSite = async () => assertJson(await request(fx.srv, { path: `/api/widget/sites/${site.key}`, headers: { Origin: site.origin } }), 200);
  let w = await widgetSite();
  assert.equal(w.open, true);
  assert.equal(w.online, true);
  assert.equal(w.back_at, null);

  const { hours, backAt } = closedTillAfterTomorrow();
  assertJson(await patchTeam(team, { business_hours: hours }), 200);
  w = await widgetSite();
  assert.equal(w.open, false);
  assert.equal(w.online, false, 'an online agent does not make a closed team online');
  assert.equal(w.back_at, backAt);

  assertJson(await patchTeam(team, { business_hours: null }), 200);
  assert.equal((await widgetSite()).online, true);
  await a.close();
});

test('a chat waiting past queue_wait moves to the other team exactly once, with two nodes sweeping', async () => {
  const front = await createTeam(fx.pg);
  const overflow = await createTeam(fx.pg, `Overflow ${Date.now()}`);
  // Each team its own first-response target: the chat's due time follows it when it moves.
  assertJson(await patchTeam(overflow, { sla: { first_response_seconds: 300, business_time: false } }), 200);
  assertJson(
    await patchTeam(front, {
      escalation: { queue_wait: { after_seconds: 5, to_team_id: overflow } },
      sla: { first_response_seconds: 3600, business_time: false },
    }),
    200,
  );
  const site = await createSite(fx.pg, { teamId: front });
  const sup = await createAgent(fx.pg, { name: 'Watching Sup', role: 'supervisor' });
  const s = await connectAgent(fx.nodes[B], sup, { status: 'away' });
  const v = await connectVisitor(fx.nodes[A], site);
  const cid = await startConversation(v);
  const moved = await s.next(convUpdated(cid, 'escalated'), 15000, 'the supervisor hears of the escalation');
  assert.equal(moved.conversation.team_id, overflow);
  assert.equal((await conversationRow(fx.pg, cid)).team_id, overflow);
  await new Promise((r) => setTimeout(r, 2500)); // more rounds on both nodes
  const lines = await eventsOf(cid, 'escalated');
  assert.equal(lines.length, 1, `escalated ${lines.length} times`);
  assert.match(lines[0].body, /^Escalated to Overflow \d+: waited \d+ min in the queue$/);
  assert.equal(lines[0].meta.rule, 'queue_wait');
  // The first response is now due by Overflow's target, not the front desk's.
  const created = (await fx.pg.query('SELECT created_at FROM conversations WHERE id = $1', [cid])).rows[0].created_at;
  await waitFor(
    async () => {
      const r = (await fx.pg.query('SELECT sla_first_due_at FROM conversations WHERE id = $1', [cid])).rows[0];
      return r.sla_first_due_at && r.sla_first_due_at.getTime() === Math.floor(created.getTime() / 1000) * 1000 + 300e3;
    },
    { timeoutMs: 5000, what: "the due time by the new team's SLA" },
  );

  // The other kind: raise the priority, once.
  const slow = await createTeam(fx.pg);
  assertJson(await patchTeam(slow, { escalation: { queue_wait: { after_seconds: 5, priority: 'urgent' } } }), 200);
  const site2 = await createSite(fx.pg, { teamId: slow });
  const v2 = await connectVisitor(fx.nodes[B], site2);
  const cid2 = await startConversation(v2);
  const raised = await s.next(convUpdated(cid2, 'priority'), 15000, 'raised');
  assert.equal(raised.conversation.priority, 'urgent');
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await eventsOf(cid2, 'priority')).length, 1);
  for (const c of [s, v, v2]) await c.close();
});

test('an agent the router chose who does not answer in time: the chat goes to the next agent, not back to them', async () => {
  const team = await createTeam(fx.pg);
  assertJson(await patchTeam(team, { escalation: { reassign_after_seconds: 5 } }), 200);
  const site = await createSite(fx.pg, { teamId: team });
  const slowpoke = await createAgent(fx.pg, { name: 'Slow Poke', teams: [team] });
  const s1 = await connectAgent(fx.nodes[A], slowpoke, { status: 'online' });
  const v = await connectVisitor(fx.nodes[A], site);
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000);
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, slowpoke.id);
  const quick = await createAgent(fx.pg, { name: 'Quick Quinn', teams: [team], maxChats: 5 });
  const s2 = await connectAgent(fx.nodes[B], quick, { status: 'online' });
  await waitFor(async () => (await conversationRow(fx.pg, cid)).assignee_id === quick.id, {
    timeoutMs: 15000,
    what: 'the chat reassigned to the next agent',
  });
  const lines = await eventsOf(cid, 'requeued');
  assert.equal(lines.length, 1);
  assert.equal(lines[0].body, 'Slow Poke did not answer in time; waiting for another agent');
  // Quinn answers: the rule is satisfied and nothing moves any more.
  await sendMessage(s2, cid, 'Hi, I am here');
  await new Promise((r) => setTimeout(r, 6500));
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, quick.id);
  assert.equal((await eventsOf(cid, 'requeued')).length, 1);
  // A manual accept is the agent's own choice: the rule does not apply.
  const v2 = await connectVisitor(fx.nodes[A], site);
  await s1.ack({ type: 'status.set', status: 'away' });
  await s2.ack({ type: 'status.set', status: 'away' });
  const cid2 = await startConversation(v2);
  await s1.ack({ type: 'conversation.accept', conversation_id: cid2 });
  await new Promise((r) => setTimeout(r, 6500));
  assert.equal((await conversationRow(fx.pg, cid2)).assignee_id, slowpoke.id);
  for (const c of [s1, s2, v, v2]) await c.close();
});

test('a visitor silent past visitor_idle after the answer: the team message, then closed', async () => {
  const team = await createTeam(fx.pg);
  assertJson(await patchTeam(team, { escalation: { visitor_idle: { after_seconds: 5, message: 'We closed this chat; write again any time.' } } }), 200);
  const site = await createSite(fx.pg, { teamId: team });
  const agent = await createAgent(fx.pg, { teams: [team] });
  const a = await connectAgent(fx.nodes[B], agent, { status: 'online' });
  const v = await connectVisitor(fx.nodes[A], site);
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000);
  await sendMessage(v, cid, 'a question');
  await new Promise((r) => setTimeout(r, 6000));
  assert.equal((await conversationRow(fx.pg, cid)).status, 'assigned', 'the visitor waits for an answer: not idle');
  await sendMessage(a, cid, 'the answer');
  const bye = await v.next(
    msgCreated(cid, (m) => m.author.kind === 'system' && m.kind === 'message'),
    15000,
    'closing message',
  );
  assert.equal(bye.message.body, 'We closed this chat; write again any time.');
  const closed = await v.next(convUpdated(cid, 'closed'), 5000);
  assert.equal(closed.conversation.status, 'closed');
  const row = await fx.pg.query('SELECT closed_by_kind FROM conversations WHERE id = $1', [cid]);
  assert.equal(row.rows[0].closed_by_kind, 'system');
  assert.equal((await eventsOf(cid, 'closed')).length, 1);
  for (const c of [a, v]) await c.close();
});

test('SLA: due times appear, each missed target is recorded once and is a webhook; business time starts at the next opening', async () => {
  const hooks = await startReceiver();
  const token = await addToken(fx.pg, { scopes: ['admin'] });
  const ep = assertJson(await api(fx.srv, token, 'POST', '/api/v1/webhooks', { json: { url: hooks.url(), events: ['conversation.sla_breached'] } }), 201);
  const team = await createTeam(fx.pg);
  assertJson(await patchTeam(team, { sla: { first_response_seconds: 10, next_response_seconds: 10, business_time: false } }), 200);
  const site = await createSite(fx.pg, { teamId: team });
  const sup = await createAgent(fx.pg, { name: 'Sla Sup', role: 'supervisor' });
  const s = await connectAgent(fx.nodes[A], sup, { status: 'away' });
  const v = await connectVisitor(fx.nodes[B], site);
  const cid = await startConversation(v);
  const due = await s.next((m) => convUpdated(cid, 'sla')(m) && m.conversation.sla && m.conversation.sla.first_response_due_at, 10000, 'due');
  const created = (await fx.pg.query('SELECT created_at FROM conversations WHERE id = $1', [cid])).rows[0].created_at;
  assert.equal(Date.parse(due.conversation.sla.first_response_due_at), Math.floor(created.getTime() / 1000) * 1000 + 10000);
  const missed = await s.next(
    msgCreated(cid, (m) => m.kind === 'note' && m.body === 'SLA first response missed'),
    20000,
    'breach note',
  );
  assert.equal(missed.message.meta.kind, 'first_response');
  // The visitor never sees it.
  const vs = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(!vs.messages.some((m) => /SLA/.test(m.body)));
  assert.equal(vs.conversation.sla, undefined);

  // Answered: the next visitor message starts the next-response clock.
  await s.ack({ type: 'conversation.accept', conversation_id: cid });
  await sendMessage(s, cid, 'sorry for the wait');
  await sendMessage(v, cid, 'still there?');
  await s.next(
    msgCreated(cid, (m) => m.body === 'SLA next response missed'),
    25000,
    'next response breach',
  );
  await new Promise((r) => setTimeout(r, 2500));
  const rows = (await fx.pg.query('SELECT kind FROM sla_breaches WHERE conversation_id = $1 ORDER BY kind', [cid])).rows;
  assert.deepEqual(
    rows.map((r) => r.kind),
    ['first_response', 'next_response'],
    'each target once',
  );
  const conv = assertJson(await asAdmin('GET', `/api/conversations/${cid}`), 200);
  const doc = conv.conversation || conv;
  assert.deepEqual(
    doc.sla.breaches.map((b) => b.kind),
    ['first_response', 'next_response'],
  );
  // Each breach once to the endpoint, signed, the conversation with what was missed.
  const sent = await hooks.waitFor(2, 15000);
  const payloads = sent.map((q) => verifyWebhook(ep.secret, q.headers, q.body));
  assert.deepEqual(
    payloads.map((e) => [e.type, e.data.id, e.data.breach.kind]),
    [
      ['conversation.sla_breached', cid, 'first_response'],
      ['conversation.sla_breached', cid, 'next_response'],
    ],
  );
  assert.equal(payloads[0].data.breach.due_at, due.conversation.sla.first_response_due_at);
  await hooks.close();

  // Business time: a closed team's clock starts when it opens.
  const { hours, backAt } = closedTillAfterTomorrow();
  const biz = await createTeam(fx.pg);
  assertJson(await patchTeam(biz, { business_hours: hours, sla: { first_response_seconds: 600, business_time: true } }), 200);
  const site2 = await createSite(fx.pg, { teamId: biz });
  const v2 = await connectVisitor(fx.nodes[A], site2);
  const cid2 = await startConversation(v2);
  const due2 = await s.next((m) => convUpdated(cid2, 'sla')(m) && m.conversation.sla, 10000, 'business due');
  assert.equal(Date.parse(due2.conversation.sla.first_response_due_at), Date.parse(backAt) + 600e3);
  for (const c of [s, v, v2]) await c.close();
});

test('the board: supervisors see waiting chats, agents and load, and chats at risk; agents may not', async () => {
  const team = await createTeam(fx.pg, `Board ${Date.now()}`);
  assertJson(await patchTeam(team, { sla: { first_response_seconds: 120 } }), 200);
  const site = await createSite(fx.pg, { teamId: team });
  const worker = await createAgent(fx.pg, { name: 'Board Worker', teams: [team], maxChats: 3 });
  const w = await connectAgent(fx.nodes[A], worker, { status: 'away' });
  await w.expectError({ type: 'board.get' }, 'forbidden');
  const sup = await createAgent(fx.pg, { name: 'Board Sup', role: 'supervisor' });
  const s = await connectAgent(fx.nodes[B], sup, { status: 'away' });
  const v = await connectVisitor(fx.nodes[A], site);
  const cid = await startConversation(v);
  await v.ack({ type: 'visitor.update', name: 'Vera Visitor' });
  await waitFor(async () => (await fx.pg.query('SELECT sla_first_due_at FROM conversations WHERE id = $1', [cid])).rows[0].sla_first_due_at, {
    what: 'the due time',
  });
  const board = (await s.ack({ type: 'board.get' })).board;
  const mine = board.teams.find((t) => t.id === team);
  assert.equal(mine.open_now, true);
  assert.deepEqual(
    mine.waiting.map((x) => [x.conversation_id, x.visitor, x.priority]),
    [[cid, 'Vera Visitor', 'normal']],
  );
  assert.ok(mine.waiting[0].waiting_seconds >= 0);
  assert.deepEqual(Object.keys(mine.waiting[0]).sort(), ['conversation_id', 'priority', 'queued_at', 'visitor', 'waiting_seconds']);
  assert.deepEqual(
    mine.agents.map((x) => [x.name, x.status, x.connected, x.load, x.max_chats]),
    [['Board Worker', 'away', true, 0, 3]],
  );
  assert.deepEqual(
    mine.at_risk.map((x) => [x.conversation_id, x.kind, x.breached, x.visitor]),
    [[cid, 'first_response', false, 'Vera Visitor']],
  );
  // Taken: it leaves the queue, the load shows.
  await w.ack({ type: 'conversation.accept', conversation_id: cid });
  const after = (await s.ack({ type: 'board.get' })).board.teams.find((t) => t.id === team);
  assert.deepEqual(after.waiting, []);
  assert.equal(after.agents[0].load, 1);
  for (const c of [s, w, v]) await c.close();
});
