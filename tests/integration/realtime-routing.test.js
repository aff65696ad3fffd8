'use strict';
// Who may take a conversation, and who gets one automatically: team
// scoping, supervisors, capacity, agent status, draining the backlog, and
// the tie-breaks of the assignment policy.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  startConversation,
  conversationRow,
  sendMessage,
  convUpdated,
  msgCreated,
  mentions,
  waitFor,
} = require('../helpers/fixtures');

const fx = suite();
const { test } = fx;

/** A visitor of the site starts a conversation; resolves { v, cid }. */
async function newConversation(site, label) {
  const v = await connectVisitor(fx.srv, site, { label });
  const cid = await startConversation(v);
  return { v, cid };
}

async function assigneeOf(cid) {
  return (await conversationRow(fx.pg, cid)).assignee_id;
}

test('an agent outside the team cannot accept (forbidden); a supervisor can', async () => {
  const team = await createTeam(fx.pg);
  const other = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const outsider = await createAgent(fx.pg, { name: 'Olga Outsider', teams: [other] });
  const boss = await createAgent(fx.pg, { name: 'Sam Supervisor', role: 'supervisor' });
  const o = await connectAgent(fx.srv, outsider, { status: 'online' });
  const s = await connectAgent(fx.srv, boss, { status: 'away' });

  const { v, cid } = await newConversation(site);
  assert.equal((await conversationRow(fx.pg, cid)).status, 'queued', 'nobody of the team is online: it must wait');
  await o.expectError({ type: 'conversation.accept', conversation_id: cid }, 'forbidden');
  await o.expectError({ type: 'conversation.close', conversation_id: cid }, 'forbidden');
  await o.expectError({ type: 'message.send', conversation_id: cid, client_msg_id: 'outsider-1', body: 'not mine' }, 'forbidden');
  const row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'queued');
  assert.equal(row.assignee_id, null);

  await o.expectError({ type: 'sync', conversation_id: cid, after_seq: 0 }, 'not_found');

  // Team scoping of events: the outsider watches the queue of another team
  // and hears nothing of this conversation; the supervisor hears all.
  const said = await sendMessage(v, cid, 'anyone there?');
  await s.next(
    msgCreated(cid, (m) => m.id === said.message.id),
    5000,
    'the message at the watching supervisor',
  );
  await o.request({ type: 'ping' });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(o.seen(mentions(cid)), [], 'an agent of another team received events of this conversation');

  const taken = await s.ack({ type: 'conversation.accept', conversation_id: cid });
  assert.equal(taken.conversation.status, 'assigned');
  assert.equal(taken.conversation.assignee.id, boss.id);
  assert.equal(await assigneeOf(cid), boss.id);
  await v.next(convUpdated(cid, 'assigned'), 5000, 'visitor told of the assignment');
  // Taken is taken.
  await o.expectError({ type: 'conversation.accept', conversation_id: cid }, 'forbidden');
  for (const c of [v, o, s]) await c.close();
});

test('an agent at max_chats gets at_capacity when accepting', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const carl = await createAgent(fx.pg, { name: 'Carl Capacity', teams: [team], maxChats: 1 });
  const a = await connectAgent(fx.srv, carl, { status: 'away' });
  const one = await newConversation(site, 'visitor 1');
  const two = await newConversation(site, 'visitor 2');

  await a.ack({ type: 'conversation.accept', conversation_id: one.cid });
  assert.equal(await assigneeOf(one.cid), carl.id);
  await a.expectError({ type: 'conversation.accept', conversation_id: two.cid }, 'at_capacity');
  const row = await conversationRow(fx.pg, two.cid);
  assert.equal(row.status, 'queued');
  assert.equal(row.assignee_id, null);
  // Already assigned: not acceptable again.
  await a.expectError({ type: 'conversation.accept', conversation_id: one.cid }, 'invalid_state');
  for (const c of [one.v, two.v, a]) await c.close();
});

test('away and offline agents get nothing; going online drains the backlog oldest first; a close makes room for the next', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const ada = await createAgent(fx.pg, { name: 'Ada Away', teams: [team], maxChats: 2 });
  const otto = await createAgent(fx.pg, { name: 'Otto Offline', teams: [team] });
  const a = await connectAgent(fx.srv, ada, { status: 'away' });
  const o = await connectAgent(fx.srv, otto, { status: 'offline' });

  const convs = [];
  for (const label of ['oldest', 'middle', 'newest']) convs.push(await newConversation(site, label));
  // conversation.start drains the queue before it answers; nobody may take them.
  await new Promise((r) => setTimeout(r, 300));
  for (const { cid } of convs) {
    const row = await conversationRow(fx.pg, cid);
    assert.equal(row.status, 'queued', `conversation ${cid} was assigned to an away/offline agent`);
    assert.equal(row.assignee_id, null);
  }
  assert.deepEqual(
    o.seen((m) => m.type === 'conversation.updated' && m.change === 'assigned'),
    [],
  );
  assert.deepEqual(
    a.seen((m) => m.type === 'conversation.updated' && m.change === 'assigned'),
    [],
  );

  // Ada goes online: she takes the two oldest (her max_chats), at once.
  await a.ack({ type: 'status.set', status: 'online' });
  await waitFor(async () => (await assigneeOf(convs[1].cid)) === ada.id, { timeoutMs: 3000, what: 'the backlog to drain' });
  assert.equal(await assigneeOf(convs[0].cid), ada.id, 'the oldest goes first');
  assert.equal(await assigneeOf(convs[1].cid), ada.id);
  assert.equal((await conversationRow(fx.pg, convs[2].cid)).status, 'queued', 'beyond max_chats it must wait');
  await a.next(convUpdated(convs[0].cid, 'assigned'), 5000, 'assignment of the oldest');
  await a.next(convUpdated(convs[1].cid, 'assigned'), 5000, 'assignment of the middle one');

  // She closes one: the newest is hers.
  await a.ack({ type: 'conversation.close', conversation_id: convs[0].cid });
  await waitFor(async () => (await assigneeOf(convs[2].cid)) === ada.id, { timeoutMs: 3000, what: 'the freed capacity to be used' });
  await a.next(convUpdated(convs[2].cid, 'assigned'), 5000, 'assignment of the newest');
  assert.equal(await assigneeOf(convs[1].cid), ada.id);
  for (const c of [...convs.map((x) => x.v), a, o]) await c.close();
});

test('ties: the least-loaded agent first, then the longest idle', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const pia = await createAgent(fx.pg, { name: 'Pia Tie', teams: [team] });
  const quin = await createAgent(fx.pg, { name: 'Quin Tie', teams: [team] });
  const p = await connectAgent(fx.srv, pia, { status: 'online' });
  const q = await connectAgent(fx.srv, quin, { status: 'online' });
  const setIdle = (agent, interval) => fx.pg.query(`UPDATE agents SET last_assigned_at = now() - $2::interval WHERE id = $1`, [agent.id, interval]);

  // Both free: the one idle longer (Pia) gets it.
  await setIdle(pia, '2 hours');
  await setIdle(quin, '1 hour');
  const d1 = await newConversation(site, 'visitor 1');
  await waitFor(async () => (await assigneeOf(d1.cid)) !== null, { what: 'first assignment' });
  assert.equal(await assigneeOf(d1.cid), pia.id, 'equal load: the longest idle agent must get it');

  // Pia has one chat, Quin none: Quin gets it although Pia is idle longer.
  await setIdle(pia, '3 hours');
  await setIdle(quin, '1 second');
  const d2 = await newConversation(site, 'visitor 2');
  await waitFor(async () => (await assigneeOf(d2.cid)) !== null, { what: 'second assignment' });
  assert.equal(await assigneeOf(d2.cid), quin.id, 'the least-loaded agent must get it');

  // One each again: the longest idle (now Quin) wins.
  await setIdle(pia, '1 minute');
  await setIdle(quin, '5 minutes');
  const d3 = await newConversation(site, 'visitor 3');
  await waitFor(async () => (await assigneeOf(d3.cid)) !== null, { what: 'third assignment' });
  assert.equal(await assigneeOf(d3.cid), quin.id, 'equal load: the longest idle agent must get it');
  for (const c of [d1.v, d2.v, d3.v, p, q]) await c.close();
});
