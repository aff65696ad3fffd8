'use strict';
// Two parleyd processes on one database act as one system: a visitor on
// node A and an agent on node B see each other's queue events, assignment,
// messages, typing, read receipts and close.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
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
} = require('../helpers/fixtures');

const fx = suite({ nodes: 2 });
const { test } = fx;

fx.setup(async () => {
  assert.notEqual(fx.nodes[0].port, fx.nodes[1].port);
});

test('visitor on node A, agent on node B: queue event, assignment, messages, typing, read and close cross nodes', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://two-nodes.example'] });
  const bea = await createAgent(fx.pg, { name: 'Bea Node B', teams: [team] });
  const a = await connectAgent(fx.nodes[1], bea, { status: 'away', label: 'agent on B' });
  const v = await connectVisitor(fx.nodes[0], site, { label: 'visitor on A' });

  const cid = await startConversation(v);
  const q = await a.next(convUpdated(cid, 'queued'), 5000, 'the queue event on node B');
  assert.equal(q.conversation.team_id, team);
  assert.equal((await conversationRow(fx.pg, cid)).status, 'queued');

  await a.ack({ type: 'status.set', status: 'online' });
  const va = await v.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node A');
  assert.equal(va.conversation.assignee.name, bea.name);
  await a.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node B');
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, bea.id);

  const m1 = await sendMessage(v, cid, 'hello from node A');
  const e1 = await a.next(
    msgCreated(cid, (m) => m.id === m1.message.id),
    5000,
    'the visitor message on node B',
  );
  assert.equal(e1.message.seq, m1.message.seq);
  const m2 = await sendMessage(a, cid, 'hello from node B');
  const e2 = await v.next(
    msgCreated(cid, (m) => m.id === m2.message.id),
    5000,
    'the agent message on node A',
  );
  assert.equal(e2.message.seq, m2.message.seq);
  assert.ok(m2.message.seq > m1.message.seq);

  await v.ack({ type: 'typing', conversation_id: cid, on: true });
  assert.equal((await a.nextType('typing', (m) => m.conversation_id === cid && m.side === 'visitor')).on, true);
  await a.ack({ type: 'typing', conversation_id: cid, on: true });
  assert.equal((await v.nextType('typing', (m) => m.conversation_id === cid && m.side === 'agent')).on, true);

  await a.ack({ type: 'read', conversation_id: cid, seq: m1.message.seq });
  assert.equal((await v.nextType('read', (m) => m.conversation_id === cid && m.side === 'agent')).last_read_seq, m1.message.seq);
  await v.ack({ type: 'read', conversation_id: cid, seq: m2.message.seq });
  assert.equal((await a.nextType('read', (m) => m.conversation_id === cid && m.side === 'visitor')).last_read_seq, m2.message.seq);

  await a.ack({ type: 'conversation.close', conversation_id: cid });
  const vc = await v.next(convUpdated(cid, 'closed'), 5000, 'close seen on node A');
  assert.equal(vc.conversation.status, 'closed');
  await v.close();
  await a.close();
});

test('a conversation started on node A goes at once to an agent online on node B', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://two-nodes-2.example'] });
  const ben = await createAgent(fx.pg, { name: 'Ben Node B', teams: [team] });
  const a = await connectAgent(fx.nodes[1], ben, { status: 'online', label: 'agent on B' });
  const v = await connectVisitor(fx.nodes[0], site, { label: 'visitor on A' });
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node A');
  await a.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node B');
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, ben.id);
  // A visitor on node B works alongside.
  const v2 = await connectVisitor(fx.nodes[1], site, { label: 'visitor on B' });
  const c2 = await startConversation(v2);
  await a.next(convUpdated(c2, 'assigned'), 5000, 'second assignment');
  const hi = await sendMessage(a, c2, 'same node works too');
  await v2.next(
    msgCreated(c2, (m) => m.id === hi.message.id),
    5000,
    'message on node B',
  );
  for (const c of [v, v2, a]) await c.close();
});
