'use strict';
// Two parleyd processes on one database act as one system: a visitor on
// node A and an agent on node B see each other's queue events, assignment,
// messages, typing, read receipts and close.

const { before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startCluster } = require('../helpers/pg');
const { startParleyd, stopChecked, testWithLogs } = require('../helpers/parleyd');
const { closeAll } = require('../helpers/ws');
const {
  FAST_ENV,
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

let pg;
let nodeA;
let nodeB;
const test = testWithLogs(() => [nodeA, nodeB]);

before(async () => {
  pg = await startCluster();
  nodeA = await startParleyd({ databaseUrl: pg.url, env: FAST_ENV });
  nodeB = await startParleyd({ databaseUrl: pg.url, env: FAST_ENV });
  assert.notEqual(nodeA.port, nodeB.port);
}, { timeout: 60000 });

after(async () => {
  await closeAll();
  try {
    await stopChecked(nodeA);
  } finally {
    try {
      await stopChecked(nodeB);
    } finally {
      if (pg) await pg.stop();
    }
  }
});

test('visitor on node A, agent on node B: queue event, assignment, messages, typing, read and close cross nodes', async () => {
  const team = await createTeam(pg);
  const site = await createSite(pg, { teamId: team, origins: ['https://two-nodes.example'] });
  const bea = await createAgent(pg, { name: 'Bea Node B', teams: [team] });
  const a = await connectAgent(nodeB, bea, { status: 'away', label: 'agent on B' });
  const v = await connectVisitor(nodeA, site, { label: 'visitor on A' });

  const cid = await startConversation(v);
  const q = await a.next(convUpdated(cid, 'queued'), 5000, 'the queue event on node B');
  assert.equal(q.conversation.team_id, team);
  assert.equal((await conversationRow(pg, cid)).status, 'queued');

  await a.ack({ type: 'status.set', status: 'online' });
  const va = await v.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node A');
  assert.equal(va.conversation.assignee.name, bea.name);
  await a.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node B');
  assert.equal((await conversationRow(pg, cid)).assignee_id, bea.id);

  const m1 = await sendMessage(v, cid, 'hello from node A');
  const e1 = await a.next(msgCreated(cid, (m) => m.id === m1.message.id), 5000, 'the visitor message on node B');
  assert.equal(e1.message.seq, m1.message.seq);
  const m2 = await sendMessage(a, cid, 'hello from node B');
  const e2 = await v.next(msgCreated(cid, (m) => m.id === m2.message.id), 5000, 'the agent message on node A');
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
  const team = await createTeam(pg);
  const site = await createSite(pg, { teamId: team, origins: ['https://two-nodes-2.example'] });
  const ben = await createAgent(pg, { name: 'Ben Node B', teams: [team] });
  const a = await connectAgent(nodeB, ben, { status: 'online', label: 'agent on B' });
  const v = await connectVisitor(nodeA, site, { label: 'visitor on A' });
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node A');
  await a.next(convUpdated(cid, 'assigned'), 5000, 'assignment seen on node B');
  assert.equal((await conversationRow(pg, cid)).assignee_id, ben.id);
  // A visitor on node B works alongside.
  const v2 = await connectVisitor(nodeB, site, { label: 'visitor on B' });
  const c2 = await startConversation(v2);
  await a.next(convUpdated(c2, 'assigned'), 5000, 'second assignment');
  const hi = await sendMessage(a, c2, 'same node works too');
  await v2.next(msgCreated(c2, (m) => m.id === hi.message.id), 5000, 'message on node B');
  for (const c of [v, v2, a]) await c.close();
});
