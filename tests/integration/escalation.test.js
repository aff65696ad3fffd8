'use strict';
// Several agents in one conversation, on two nodes: an invited collaborator
// replies and the visitor sees both names; capacity counts the owner only
// unless the team says otherwise; a supervisor on node A watches a chat
// owned on node B, whispers (never reaching the visitor's socket, sync,
// the REST transcript without notes, or a webhook without notes), barges in
// and takes over; viewers and typing cross nodes; escalation to a team
// keeps the owner in it and raises the priority; priority and labels
// through the socket and the REST API, with filters.

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
const { addToken, api } = require('../helpers/api');
const { startReceiver } = require('../helpers/hookrecv');

const fx = suite({
  nodes: 2,
  env: {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
    PARLEY_AGENT_GRACE_SECONDS: '86400',
  },
});
const { test } = fx;
const [A, B] = [0, 1];

/** A team with a site, an owner on node B who gets the chat, and the visitor on node A. */
async function assignedChat({ ownerNode = B, capacityFlag = false } = {}) {
  const team = await createTeam(fx.pg);
  if (capacityFlag) await fx.pg.query('UPDATE teams SET collaborators_use_capacity = true WHERE id = $1', [team]);
  const site = await createSite(fx.pg, { teamId: team });
  const owner = await createAgent(fx.pg, { name: `Owen ${team}`, teams: [team], maxChats: 5 });
  const o = await connectAgent(fx.nodes[ownerNode], owner, { status: 'online', label: 'owner' });
  const v = await connectVisitor(fx.nodes[A], site, { label: 'visitor' });
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000, 'the owner is assigned');
  return { team, site, owner, o, v, cid };
}

/** A 400 invalid_request that names field. */
function badField(res, field) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.equal(p.errors && p.errors[0] && p.errors[0].field, field, JSON.stringify(p));
}

const loadOf = async (agentId) => Number((await fx.pg.query('SELECT parley_agent_load($1) AS n', [agentId])).rows[0].n);

test('an invited collaborator replies; the visitor sees both names; only the owner carries the capacity', async () => {
  const { team, owner, o, v, cid } = await assignedChat();
  const other = await createTeam(fx.pg);
  const ben = await createAgent(fx.pg, { name: 'Ben Collab', teams: [other], maxChats: 1 });
  const b = await connectAgent(fx.nodes[A], ben, { status: 'away', label: 'collaborator' });

  // Not in it yet: Ben may neither write nor read it.
  await b.expectError({ type: 'message.send', conversation_id: cid, client_msg_id: 'b-early', body: 'hi' }, 'forbidden');
  await b.expectError({ type: 'sync', conversation_id: cid, after_seq: 0 }, 'not_found');

  const inv = await o.ack({ type: 'conversation.invite', conversation_id: cid, agent_id: ben.id });
  assert.deepEqual(
    inv.conversation.participants.map((p) => [p.id, p.name, p.role]),
    [[ben.id, 'Ben Collab', 'collaborator']],
  );
  const joined = await v.next(
    msgCreated(cid, (m) => m.event === 'joined'),
    5000,
    'the joined line at the visitor',
  );
  assert.equal(joined.message.event_agent, 'Ben Collab');
  assert.equal(joined.message.body, `Ben Collab joined the conversation, invited by ${owner.name}`);
  const vu = await v.next(convUpdated(cid, 'participants'), 5000, 'the visitor sees the participants');
  assert.deepEqual(vu.conversation.participants, [{ name: 'Ben Collab' }], 'a visitor sees names only');
  await b.next(convUpdated(cid, 'participants'), 5000, 'the collaborator hears of it');
  // The collaborator's list (after a reconnect, say) has it, though it is neither theirs nor queued in their team.
  const listed = await b.ack({ type: 'conversations.list' });
  assert.ok(
    listed.conversations.some((c) => c.id === cid),
    'a conversation the agent takes part in is in their list',
  );

  // Both reply; the visitor sees each under its own name, across nodes.
  const m1 = await sendMessage(o, cid, 'I am the owner');
  const m2 = await sendMessage(b, cid, 'and I am helping');
  const got1 = await v.next(
    msgCreated(cid, (m) => m.id === m1.message.id),
    5000,
    'owner message',
  );
  const got2 = await v.next(
    msgCreated(cid, (m) => m.id === m2.message.id),
    5000,
    'collaborator message',
  );
  assert.equal(got1.message.author.name, owner.name);
  assert.equal(got2.message.author.name, 'Ben Collab');
  // The visitor's messages reach the collaborator (on another node than the owner).
  const vm = await sendMessage(v, cid, 'thanks both');
  await b.next(
    msgCreated(cid, (m) => m.id === vm.message.id),
    5000,
    'visitor message at the collaborator',
  );
  const synced = await b.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(synced.messages.some((m) => m.id === vm.message.id));

  // Capacity: the owner carries it, the collaborator does not (team default).
  assert.equal(await loadOf(owner.id), 1);
  assert.equal(await loadOf(ben.id), 0);
  await fx.pg.query('UPDATE teams SET collaborators_use_capacity = true WHERE id = $1', [team]);
  assert.equal(await loadOf(ben.id), 1, 'the team now counts collaborators');
  // ...and Ben, at max_chats 1, can no longer accept another chat.
  const queuedConv = await fx.pg.query(
    `INSERT INTO conversations (site_id, visitor_id, team_id, status, queued_at)
     SELECT site_id, visitor_id, $2, 'queued', now() FROM conversations WHERE id = $1 RETURNING id`,
    [cid, other],
  );
  await b.expectError({ type: 'conversation.accept', conversation_id: Number(queuedConv.rows[0].id) }, 'at_capacity');
  await fx.pg.query("UPDATE conversations SET status = 'closed', closed_at = now(), queued_at = NULL WHERE id = $1", [queuedConv.rows[0].id]);
  await fx.pg.query('UPDATE teams SET collaborators_use_capacity = false WHERE id = $1', [team]);

  // The owner cannot "leave"; the collaborator can, and then hears nothing more.
  await o.expectError({ type: 'conversation.leave', conversation_id: cid }, 'invalid_state');
  const left = await b.ack({ type: 'conversation.leave', conversation_id: cid });
  assert.equal(left.conversation.participants, undefined);
  await v.next(
    msgCreated(cid, (m) => m.event === 'left' && m.event_agent === 'Ben Collab'),
    5000,
    'left line',
  );
  await b.next(convUpdated(cid, 'participants'), 5000, 'the one who left hears that they did');
  const after = await sendMessage(v, cid, 'one more');
  await o.next(
    msgCreated(cid, (m) => m.id === after.message.id),
    5000,
  );
  await b.request({ type: 'ping' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(b.seen(msgCreated(cid, (m) => m.id === after.message.id)).length, 0, 'a former participant still receives messages');
  for (const c of [o, b, v]) await c.close();
});

test('inviting needs a connected active agent, not one already in it, at most 8; strangers may not invite', async () => {
  const { o, v, cid } = await assignedChat();
  const gone = await createAgent(fx.pg, { name: 'Gone Agent' });
  await o.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: gone.id }, 'agent_unavailable');
  await o.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: 999999 }, 'not_found');
  await o.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: o.agent.id }, 'invalid_state');
  const stranger = await createAgent(fx.pg, { name: 'Stranger Agent' });
  const s = await connectAgent(fx.nodes[A], stranger, { status: 'away' });
  await s.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: stranger.id }, 'not_found');
  const sockets = [];
  for (let i = 0; i < 8; i += 1) {
    const ag = await createAgent(fx.pg, { name: `Helper ${i}` });
    sockets.push(await connectAgent(fx.nodes[i % 2], ag, { status: 'away', subscribe: false }));
    await o.ack({ type: 'conversation.invite', conversation_id: cid, agent_id: ag.id });
  }
  await o.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: stranger.id }, 'limit_reached');
  await o.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: sockets[0].agent.id }, 'invalid_state');
  // Field checks.
  await o.expectError({ type: 'conversation.invite', conversation_id: cid }, 'invalid_field');
  await o.expectError({ type: 'conversation.invite', conversation_id: cid, agent_id: 'x' }, 'invalid_field');
  for (const c of [o, v, s, ...sockets]) await c.close();
});

test('a supervisor on node A watches a chat owned on node B, whispers, barges in and takes over', async () => {
  const { owner, o, v, cid } = await assignedChat({ ownerNode: B });
  const sue = await createAgent(fx.pg, { name: 'Sue Supervisor', role: 'supervisor' });
  const s = await connectAgent(fx.nodes[A], sue, { status: 'away', label: 'supervisor' });
  const plain = await createAgent(fx.pg, { name: 'Plain Agent', teams: [] });
  const p = await connectAgent(fx.nodes[A], plain, { status: 'away' });
  const hooks = await startReceiver();
  const admin = await addToken(fx.pg, { scopes: ['admin'] });
  const reader = await addToken(fx.pg, { scopes: ['conversations:read', 'transcripts:read'] });
  const ep = assertJson(await api(fx.srv, admin, 'POST', '/api/v1/webhooks', { json: { url: hooks.url('/all'), events: ['message.created'] } }), 201);

  // Watching: the owner's and the visitor's messages reach the supervisor on the other node.
  const said = await sendMessage(v, cid, 'is anyone senior there?');
  await s.next(
    msgCreated(cid, (m) => m.id === said.message.id),
    5000,
    'the visitor message at the supervisor',
  );
  const answered = await sendMessage(o, cid, 'let me check');
  await s.next(
    msgCreated(cid, (m) => m.id === answered.message.id),
    5000,
    'the owner message at the supervisor',
  );

  // A whisper: only supervisors and admins may; the owner on node B gets it.
  await p.expectError({ type: 'note.send', conversation_id: cid, client_msg_id: 'w-plain', body: 'psst', whisper: true }, 'forbidden');
  await o.expectError({ type: 'note.send', conversation_id: cid, client_msg_id: 'w-owner', body: 'psst', whisper: true }, 'forbidden');
  const w = await s.ack({ type: 'note.send', conversation_id: cid, client_msg_id: 'w-1', body: 'offer the refund', whisper: true });
  assert.equal(w.message.kind, 'note');
  assert.deepEqual(w.message.meta, { whisper: true });
  const ow = await o.next(
    msgCreated(cid, (m) => m.id === w.message.id),
    5000,
    'the whisper at the owner on node B',
  );
  assert.equal(ow.message.author.name, 'Sue Supervisor');
  // Typing a whisper is not shown to the visitor.
  await s.ack({ type: 'typing', conversation_id: cid, on: true, note: true });
  await o.next((m) => m.type === 'typing' && m.conversation_id === cid && m.name === 'Sue Supervisor', 5000);

  // Never to the visitor: socket, sync, the REST transcript without notes, a webhook without notes.
  const marker = await sendMessage(o, cid, 'after the whisper');
  await v.next(
    msgCreated(cid, (m) => m.id === marker.message.id),
    5000,
  );
  assert.equal(v.seen(msgCreated(cid, (m) => m.id === w.message.id)).length, 0, 'the whisper reached the visitor socket');
  assert.equal(v.seen((m) => m.type === 'typing' && m.conversation_id === cid && m.name === 'Sue Supervisor').length, 0);
  const vs = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(!vs.messages.some((m) => m.id === w.message.id || /refund/.test(m.body)), 'the whisper is in the visitor sync');
  const tr = assertJson(await api(fx.srv, reader, 'GET', `/api/v1/conversations/${cid}/transcript`), 200);
  assert.ok(!JSON.stringify(tr).includes('offer the refund'), 'the whisper is in the transcript without notes');
  await waitFor(() => hooks.requests.some((q) => JSON.parse(q.body).data.id === marker.message.id), { what: 'the marker webhook' });
  assert.ok(!hooks.requests.some((q) => q.body.includes('offer the refund')), 'the whisper went to a webhook');

  // Barge in: the visitor sees the supervisor join and write.
  await p.expectError({ type: 'conversation.join', conversation_id: cid }, 'forbidden');
  const j = await s.ack({ type: 'conversation.join', conversation_id: cid });
  assert.deepEqual(
    j.conversation.participants.map((x) => [x.id, x.role]),
    [[sue.id, 'supervisor']],
  );
  await v.next(
    msgCreated(cid, (m) => m.event === 'joined' && m.event_agent === 'Sue Supervisor'),
    5000,
  );
  const sm = await sendMessage(s, cid, 'Hello, I am the supervisor');
  const vsm = await v.next(
    msgCreated(cid, (m) => m.id === sm.message.id),
    5000,
  );
  assert.equal(vsm.message.author.name, 'Sue Supervisor');

  // Take over: Sue owns it, the previous owner stays as a collaborator.
  const t = await s.ack({ type: 'conversation.take', conversation_id: cid });
  assert.equal(t.conversation.assignee.id, sue.id);
  assert.deepEqual(
    t.conversation.participants.map((x) => [x.id, x.role]),
    [[owner.id, 'collaborator']],
  );
  await v.next(
    msgCreated(cid, (m) => m.event === 'taken' && m.event_agent === 'Sue Supervisor'),
    5000,
  );
  await o.next(convUpdated(cid, 'taken'), 5000, 'the former owner hears it on node B');
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, sue.id);
  const still = await sendMessage(o, cid, 'I am still here');
  await v.next(
    msgCreated(cid, (m) => m.id === still.message.id),
    5000,
    'the former owner still writes',
  );
  await s.expectError({ type: 'conversation.take', conversation_id: cid }, 'invalid_state');

  await api(fx.srv, admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
  await hooks.close();
  for (const c of [o, v, s, p]) await c.close();
});

test('whispers and notes never reach a bot', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const admin = await addToken(fx.pg, { scopes: ['admin'] });
  const botServer = await startReceiver();
  const made = assertJson(
    await api(fx.srv, admin, 'POST', '/api/v1/bots', { json: { name: 'Whisper Bot', url: botServer.url('/bot'), site_ids: [site.id] } }),
    201,
  );
  const sue = await createAgent(fx.pg, { name: 'Sue Watch', role: 'supervisor' });
  const s = await connectAgent(fx.nodes[B], sue, { status: 'away' });
  const v = await connectVisitor(fx.nodes[A], site);
  const cid = await startConversation(v);
  assert.equal((await conversationRow(fx.pg, cid)).status, 'bot');
  await s.ack({ type: 'note.send', conversation_id: cid, client_msg_id: 'wb-1', body: 'secret whisper', whisper: true });
  await s.ack({ type: 'note.send', conversation_id: cid, client_msg_id: 'wb-2', body: 'secret note' });
  const hello = await sendMessage(v, cid, 'hello bot');
  await waitFor(() => botServer.requests.some((q) => JSON.parse(q.body).data.id === hello.message.id), { what: 'the bot hears the visitor' });
  assert.ok(!botServer.requests.some((q) => /secret (whisper|note)/.test(q.body)), 'a note or whisper reached the bot');
  await api(fx.srv, admin, 'DELETE', `/api/v1/bots/${made.id}`);
  await botServer.close();
  await s.close();
  await v.close();
});

test('who is viewing and typing crosses nodes; a closed socket leaves the list', async () => {
  const { owner, o, v, cid } = await assignedChat({ ownerNode: B });
  const ana = await createAgent(fx.pg, { name: 'Ana Viewer', role: 'supervisor' });
  const a = await connectAgent(fx.nodes[A], ana, { status: 'away' });
  const outsider = await createAgent(fx.pg, { name: 'Out Sider' });
  const x = await connectAgent(fx.nodes[A], outsider, { status: 'away' });
  await x.expectError({ type: 'conversation.view', conversation_id: cid, on: true }, 'not_found');

  const viewers = (cid2, pred) => (m) => m.type === 'conversation.viewers' && m.conversation_id === cid2 && pred(m.viewers);
  await o.ack({ type: 'conversation.view', conversation_id: cid, on: true });
  // The reply tells the newcomer who is there already (events say changes only).
  const viewed = await a.ack({ type: 'conversation.view', conversation_id: cid, on: true });
  assert.deepEqual(
    viewed.viewers.map((w) => w.id),
    [owner.id, ana.id],
  );
  const seenByOwner = await o.next(
    viewers(cid, (l) => l.length === 2),
    5000,
    'both viewers at the owner on B',
  );
  assert.deepEqual(
    seenByOwner.viewers.map((w) => [w.id, w.name, w.typing, w.note]),
    [
      [owner.id, owner.name, false, false],
      [ana.id, 'Ana Viewer', false, false],
    ],
  );
  await a.next(
    viewers(cid, (l) => l.length === 2),
    5000,
    'both viewers at the supervisor on A',
  );

  // Typing shows for the viewers (the owner types a reply on node B).
  v.log.length = 0;
  await o.ack({ type: 'typing', conversation_id: cid, on: true });
  const typingAtA = await a.next((m) => m.type === 'typing' && m.conversation_id === cid && m.on, 5000, 'typing at A');
  assert.deepEqual([typingAtA.agent_id, typingAtA.note, typingAtA.name], [owner.id, false, owner.name]);
  const typingAtV = await v.next((m) => m.type === 'typing' && m.on, 5000, 'typing at the visitor');
  assert.deepEqual(Object.keys(typingAtV).sort(), ['conversation_id', 'name', 'on', 'side', 'type'], 'no agent id for the visitor');
  await a.next(
    viewers(cid, (l) => l.some((w) => w.id === owner.id && w.typing && !w.note)),
    5000,
    'the owner is typing a reply, seen on A',
  );
  // Switching to a note is news too ("typing a note", not "a reply").
  await o.ack({ type: 'typing', conversation_id: cid, on: true, note: true });
  await a.next(
    viewers(cid, (l) => l.some((w) => w.id === owner.id && w.typing && w.note)),
    5000,
    'the owner is typing a note, seen on A',
  );
  await o.ack({ type: 'typing', conversation_id: cid, on: false });
  await a.next(
    viewers(cid, (l) => l.every((w) => !w.typing)),
    5000,
    'stopped typing',
  );

  // A second tab of the same agent is not a second viewer; closing a socket leaves.
  const a2 = await connectAgent(fx.nodes[B], ana, { status: 'away', subscribe: false });
  const secondTab = await a2.ack({ type: 'conversation.view', conversation_id: cid, on: true });
  assert.deepEqual(
    secondTab.viewers.map((w) => w.id),
    [owner.id, ana.id],
    'a second tab changes nothing for the others, yet learns the list',
  );
  await a2.close();
  await a.close();
  await o.next(
    viewers(cid, (l) => l.length === 1 && l[0].id === owner.id),
    5000,
    'Ana left when her sockets closed',
  );
  const rows = await fx.pg.query('SELECT count(*)::int AS n FROM conversation_viewers WHERE agent_id = $1', [ana.id]);
  assert.equal(rows.rows[0].n, 0);

  // At most four at once per socket; closing what is not open is no error.
  const boss = await createAgent(fx.pg, { name: 'Many Views', role: 'admin' });
  const m = await connectAgent(fx.nodes[A], boss, { status: 'away', subscribe: false });
  const ids = (await fx.pg.query('SELECT id FROM conversations ORDER BY id DESC LIMIT 5')).rows.map((r) => Number(r.id));
  assert.equal(ids.length, 5);
  for (let i = 0; i < 4; i += 1) await m.ack({ type: 'conversation.view', conversation_id: ids[i], on: true });
  await m.expectError({ type: 'conversation.view', conversation_id: ids[4], on: true }, 'limit_reached');
  await m.ack({ type: 'conversation.view', conversation_id: ids[0], on: false });
  await m.ack({ type: 'conversation.view', conversation_id: ids[0], on: false });
  await m.ack({ type: 'conversation.view', conversation_id: ids[4], on: true });
  await o.ack({ type: 'conversation.view', conversation_id: cid, on: false });
  for (const c of [o, v, x, m]) await c.close();
});

test('escalation to a team keeps the owner in it, raises the priority and is told; to an agent brings them in', async () => {
  const { team, owner, o, v, cid } = await assignedChat({ ownerNode: A });
  const billing = await createTeam(fx.pg, `Billing ${Date.now()}`);
  const bill = await createAgent(fx.pg, { name: 'Bill Billing', teams: [billing] });

  await o.expectError({ type: 'conversation.escalate', conversation_id: cid }, 'invalid_field');
  await o.expectError({ type: 'conversation.escalate', conversation_id: cid, to_team_id: 999999 }, 'not_found');
  const e = await o.ack({
    type: 'conversation.escalate',
    conversation_id: cid,
    to_team_id: billing,
    reason: 'refund over limit',
  });
  assert.equal(e.conversation.status, 'queued');
  assert.equal(e.conversation.team_id, billing);
  assert.equal(e.conversation.priority, 'high');
  assert.deepEqual(
    e.conversation.participants.map((p) => [p.id, p.role]),
    [[owner.id, 'collaborator']],
  );
  const line = await v.next(
    msgCreated(cid, (m) => m.event === 'escalated'),
    5000,
    'the escalation line at the visitor',
  );
  assert.equal(line.message.body, `Escalated to ${(await fx.pg.query('SELECT name FROM teams WHERE id=$1', [billing])).rows[0].name} by ${owner.name}`);
  assert.ok(!/refund/.test(line.message.body), 'the reason is for the agents only');
  const note = await o.next(
    msgCreated(cid, (m) => m.kind === 'note' && /refund over limit/.test(m.body)),
    5000,
    'the reason note',
  );
  assert.equal(note.message.author.name, owner.name);
  // The owner still talks to the visitor while Billing picks it up.
  const still = await sendMessage(o, cid, 'a colleague from billing will join');
  await v.next(
    msgCreated(cid, (m) => m.id === still.message.id),
    5000,
  );

  // A Billing agent coming online gets it; the former owner stays in.
  const b = await connectAgent(fx.nodes[B], bill, { status: 'online' });
  await v.next(convUpdated(cid, 'assigned'), 5000, 'Billing took it');
  const row = await conversationRow(fx.pg, cid);
  assert.equal(row.assignee_id, bill.id);
  assert.equal(row.team_id, billing);
  const parts = await fx.pg.query('SELECT participant_ids FROM conversations WHERE id = $1', [cid]);
  assert.deepEqual(parts.rows[0].participant_ids.map(Number), [owner.id]);

  // To an agent: brought in as a participant (role escalation), nobody leaves.
  const lead = await createAgent(fx.pg, { name: 'Lea Lead', role: 'supervisor', teams: [team] });
  const l = await connectAgent(fx.nodes[A], lead, { status: 'away' });
  const e2 = await b.ack({ type: 'conversation.escalate', conversation_id: cid, to_agent_id: lead.id, reason: 'needs approval' });
  assert.equal(e2.conversation.assignee.id, bill.id);
  assert.deepEqual(
    e2.conversation.participants.map((p) => [p.id, p.role]),
    [
      [owner.id, 'collaborator'],
      [lead.id, 'escalation'],
    ],
  );
  await l.next(
    msgCreated(cid, (m) => m.event === 'escalated' && m.event_agent === 'Lea Lead'),
    5000,
    'the lead hears it',
  );
  for (const c of [o, v, b, l]) await c.close();
});

test('priority and labels: socket, REST, filters, and the router serves urgent first', async () => {
  const admin = await addToken(fx.pg, { scopes: ['admin'] });
  const rw = await addToken(fx.pg, { scopes: ['conversations:read', 'conversations:write'] });
  const vip = assertJson(await api(fx.srv, admin, 'POST', '/api/v1/labels', { json: { name: 'VIP', colour: '#FF0000' } }), 201).label;
  assert.equal(vip.colour, '#ff0000');
  assertProblem(await api(fx.srv, admin, 'POST', '/api/v1/labels', { json: { name: 'vip' } }), 409, 'conflict');
  badField(await api(fx.srv, admin, 'POST', '/api/v1/labels', { json: { name: 'Bad', colour: 'red' } }), 'colour');
  assertProblem(await api(fx.srv, rw, 'POST', '/api/v1/labels', { json: { name: 'Nope' } }), 403, 'insufficient_scope');
  const bug = assertJson(await api(fx.srv, admin, 'POST', '/api/v1/labels', { json: { name: 'Bug' } }), 201).label;
  const listed = assertJson(await api(fx.srv, rw, 'GET', '/api/v1/labels'), 200);
  assert.deepEqual(
    listed.labels.filter((x) => [vip.id, bug.id].includes(x.id)).map((x) => x.name),
    ['Bug', 'VIP'],
  );

  // Three chats wait in a team nobody serves yet.
  const { team, site } = await fx.teamWithSite();
  const chats = [];
  for (let i = 0; i < 3; i += 1) {
    const v = await connectVisitor(fx.nodes[A], site);
    chats.push({ v, cid: await startConversation(v) });
  }
  const sup = await createAgent(fx.pg, { name: 'Pri Supervisor', role: 'supervisor' });
  const s = await connectAgent(fx.nodes[B], sup, { status: 'away' });
  // The newest is urgent: set through the socket; a note tells the agents, not the visitor.
  const up = await s.ack({ type: 'conversation.set_priority', conversation_id: chats[2].cid, priority: 'urgent' });
  assert.equal(up.conversation.priority, 'urgent');
  await s.next(
    msgCreated(chats[2].cid, (m) => m.kind === 'note' && m.meta && m.meta.event === 'priority'),
    5000,
  );
  await s.expectError({ type: 'conversation.set_priority', conversation_id: chats[2].cid, priority: 'panic' }, 'invalid_field');
  // Labels through the socket and the REST API.
  const lab = await s.ack({ type: 'conversation.set_labels', conversation_id: chats[1].cid, label_ids: [vip.id, bug.id] });
  assert.deepEqual(
    lab.conversation.labels.map((x) => x.name),
    ['Bug', 'VIP'],
  );
  const labNote = await s.next(
    msgCreated(chats[1].cid, (m) => m.kind === 'note' && m.meta && m.meta.event === 'labels'),
    5000,
    'the labels note',
  );
  assert.equal(labNote.message.body, 'Labels added: Bug, VIP');
  assert.deepEqual(
    labNote.message.meta.added,
    [vip.id, bug.id].sort((x, y) => x - y),
  );
  await s.ack({ type: 'conversation.set_labels', conversation_id: chats[1].cid, label_ids: [vip.id] });
  const labNote2 = await s.next(
    msgCreated(chats[1].cid, (m) => m.kind === 'note' && m.meta && m.meta.event === 'labels' && m.id !== labNote.message.id),
    5000,
    'the second labels note',
  );
  assert.equal(labNote2.message.body, 'Labels removed: Bug');
  await s.ack({ type: 'conversation.set_labels', conversation_id: chats[1].cid, label_ids: [vip.id, bug.id] });
  await s.expectError({ type: 'conversation.set_labels', conversation_id: chats[1].cid, label_ids: [999999] }, 'not_found');
  await s.expectError({ type: 'conversation.set_labels', conversation_id: chats[1].cid, label_ids: [vip.id, vip.id] }, 'invalid_field');
  const patched = assertJson(await api(fx.srv, rw, 'PATCH', `/api/v1/conversations/${chats[0].cid}`, { json: { priority: 'high', label_ids: [vip.id] } }), 200);
  assert.equal(patched.conversation.priority, 'high');
  assert.deepEqual(
    patched.conversation.labels.map((x) => x.id),
    [vip.id],
  );
  badField(await api(fx.srv, rw, 'PATCH', `/api/v1/conversations/${chats[0].cid}`, { json: {} }), 'priority');
  badField(await api(fx.srv, rw, 'PATCH', `/api/v1/conversations/${chats[0].cid}`, { json: { priority: 'x' } }), 'priority');
  const byLabel = assertJson(await api(fx.srv, rw, 'GET', '/api/v1/conversations', { query: { label_id: vip.id, team_id: team } }), 200);
  assert.deepEqual(byLabel.data.map((c) => c.id).sort(), [chats[0].cid, chats[1].cid].sort());
  const urgent = assertJson(await api(fx.srv, rw, 'GET', '/api/v1/conversations', { query: { priority: 'urgent', team_id: team } }), 200);
  assert.deepEqual(
    urgent.data.map((c) => c.id),
    [chats[2].cid],
  );
  badField(await api(fx.srv, rw, 'GET', '/api/v1/conversations', { query: { priority: 'soon' } }), 'priority');
  // The visitor never sees priority or labels.
  const vv = await chats[1].v.ack({ type: 'sync', conversation_id: chats[1].cid, after_seq: 0 });
  assert.equal(vv.conversation.priority, undefined);
  assert.equal(vv.conversation.labels, undefined);
  assert.ok(!vv.messages.some((m) => m.meta || /Priority|Labels/.test(m.body)));

  // The router: one agent with room for one gets the urgent chat, though it is the newest.
  const one = await createAgent(fx.pg, { name: 'Solo Agent', teams: [team], maxChats: 1 });
  const so = await connectAgent(fx.nodes[A], one, { status: 'online' });
  await chats[2].v.next(convUpdated(chats[2].cid, 'assigned'), 5000, 'the urgent chat first');
  assert.equal((await conversationRow(fx.pg, chats[0].cid)).status, 'queued');
  assert.equal((await conversationRow(fx.pg, chats[1].cid)).status, 'queued');

  // Deleting a label takes it off its conversations.
  assert.equal((await api(fx.srv, admin, 'DELETE', `/api/v1/labels/${bug.id}`)).status, 204);
  const after = assertJson(await api(fx.srv, rw, 'GET', `/api/v1/conversations/${chats[1].cid}`), 200);
  assert.deepEqual(
    (after.conversation || after).labels.map((x) => x.name),
    ['VIP'],
  );
  for (const c of [s, so, ...chats.map((x) => x.v)]) await c.close();
});

test('REST: add and remove participants, escalate', async () => {
  const { owner, o, v, cid } = await assignedChat({ ownerNode: A });
  const rw = await addToken(fx.pg, { scopes: ['conversations:read', 'conversations:write'] });
  const ro = await addToken(fx.pg, { scopes: ['conversations:read'] });
  const helper = await createAgent(fx.pg, { name: 'Rest Helper' });
  const h = await connectAgent(fx.nodes[B], helper, { status: 'away' });
  assertProblem(await api(fx.srv, ro, 'POST', `/api/v1/conversations/${cid}/participants`, { json: { agent_id: helper.id } }), 403, 'insufficient_scope');
  badField(await api(fx.srv, rw, 'POST', `/api/v1/conversations/${cid}/participants`, { json: {} }), 'agent_id');
  const added = assertJson(await api(fx.srv, rw, 'POST', `/api/v1/conversations/${cid}/participants`, { json: { agent_id: helper.id } }), 200);
  assert.deepEqual(
    added.conversation.participants.map((p) => p.id),
    [helper.id],
  );
  const line = await v.next(
    msgCreated(cid, (m) => m.event === 'joined'),
    5000,
  );
  assert.equal(line.message.body, 'Rest Helper joined the conversation');
  assertProblem(await api(fx.srv, rw, 'DELETE', `/api/v1/conversations/${cid}/participants/${owner.id}`), 404, 'not_found');
  const removed = assertJson(await api(fx.srv, rw, 'DELETE', `/api/v1/conversations/${cid}/participants/${helper.id}`), 200);
  assert.equal(removed.conversation.participants, undefined);
  const esc = assertJson(
    await api(fx.srv, rw, 'POST', `/api/v1/conversations/${cid}/escalate`, { json: { agent_id: helper.id, reason: 'API says so', priority: 'urgent' } }),
    200,
  );
  assert.deepEqual(
    esc.conversation.participants.map((p) => [p.id, p.role]),
    [[helper.id, 'escalation']],
  );
  assert.equal(esc.conversation.priority, 'urgent');
  badField(await api(fx.srv, rw, 'POST', `/api/v1/conversations/${cid}/escalate`, { json: { agent_id: 1, team_id: 1 } }), 'agent_id');
  for (const c of [o, v, h]) await c.close();
});
