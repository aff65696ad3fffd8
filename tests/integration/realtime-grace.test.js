'use strict';
// An agent who disconnects and stays away longer than
// PARLEY_AGENT_GRACE_SECONDS (1 s here) loses their conversations: they go
// back to the front of the queue and on to another online agent.

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
  convUpdated,
  msgCreated,
  waitFor,
} = require('../helpers/fixtures');

const GRACE_SECONDS = 1;
// Requeue happens on the first sweep (every second) after the grace period.
const REQUEUE_WAIT_MS = (GRACE_SECONDS + 6) * 1000;

const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: String(GRACE_SECONDS) } });
const { test } = fx;

test('after the grace period the conversation is requeued, then taken by the next agent to come online', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const gone = await createAgent(fx.pg, { name: 'Gina Gone', teams: [team] });
  const next = await createAgent(fx.pg, { name: 'Nick Next', teams: [team] });
  const g = await connectAgent(fx.srv, gone, { status: 'online' });
  const n = await connectAgent(fx.srv, next, { status: 'away' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000, 'assignment to Gina');
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, gone.id);

  await g.terminate(); // the network drops
  const rq = await v.next(convUpdated(cid, 'requeued'), REQUEUE_WAIT_MS, 'conversation.updated requeued');
  assert.equal(rq.conversation.status, 'queued');
  const row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'queued');
  assert.equal(row.assignee_id, null);
  await n.next(convUpdated(cid, 'requeued'), 5000, 'the team watcher told of the requeue');
  await v.next(
    msgCreated(cid, (m) => m.kind === 'event'),
    5000,
    'the requeue event message',
  );
  const ev = await fx.pg.query("SELECT meta FROM messages WHERE conversation_id = $1 AND kind = 'event' AND meta->>'event' = 'requeued'", [cid]);
  assert.equal(ev.rows.length, 1);

  await n.ack({ type: 'status.set', status: 'online' });
  const as = await v.next(
    (m) => convUpdated(cid, 'assigned')(m) && m.conversation.assignee && m.conversation.assignee.name === next.name,
    5000,
    'assignment to Nick',
  );
  assert.equal(as.conversation.status, 'assigned');
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, next.id);
  await v.close();
  await n.close();
});

test('a requeued conversation goes straight to another online agent with room', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const lost = await createAgent(fx.pg, { name: 'Lou Lost', teams: [team], maxChats: 1 });
  const other = await createAgent(fx.pg, { name: 'Rita Ready', teams: [team], maxChats: 0 });
  const l = await connectAgent(fx.srv, lost, { status: 'online' });
  const r = await connectAgent(fx.srv, other, { status: 'online' });

  const v1 = await connectVisitor(fx.srv, site, { label: 'visitor 1' });
  const c1 = await startConversation(v1);
  await waitFor(async () => (await conversationRow(fx.pg, c1)).assignee_id === lost.id, { what: 'c1 assigned to Lou' });
  // Rita gets room; nothing is waiting, so nothing moves until the requeue.
  await fx.pg.query('UPDATE agents SET max_chats = 1 WHERE id = $1', [other.id]);

  await l.terminate();
  await v1.next(convUpdated(c1, 'requeued'), REQUEUE_WAIT_MS, 'conversation.updated requeued');
  await v1.next((m) => convUpdated(c1, 'assigned')(m) && m.conversation.assignee && m.conversation.assignee.name === other.name, 5000, 'assignment to Rita');
  await r.next(convUpdated(c1, 'assigned'), 5000, 'Rita told');
  assert.equal((await conversationRow(fx.pg, c1)).assignee_id, other.id);
  for (const c of [v1, r]) await c.close();
});

test('a requeued conversation goes to the front of the queue, before one that was waiting', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const lost = await createAgent(fx.pg, { name: 'Lou Lost', teams: [team], maxChats: 1 });
  // Rita has room but is away: nothing can reach her until she comes online
  // (whichever drain runs first: the requeue's, her status change's or the
  // periodic one), and by then c1 is back in the queue.
  const other = await createAgent(fx.pg, { name: 'Rita Ready', teams: [team], maxChats: 1 });
  const l = await connectAgent(fx.srv, lost, { status: 'online' });
  const r = await connectAgent(fx.srv, other, { status: 'away' });

  const v1 = await connectVisitor(fx.srv, site, { label: 'visitor 1' });
  const c1 = await startConversation(v1);
  await waitFor(async () => (await conversationRow(fx.pg, c1)).assignee_id === lost.id, { what: 'c1 assigned to Lou' });
  const v2 = await connectVisitor(fx.srv, site, { label: 'visitor 2' });
  const c2 = await startConversation(v2);
  assert.equal((await conversationRow(fx.pg, c2)).status, 'queued', 'nobody has room for c2');

  await l.terminate();
  await v1.next(convUpdated(c1, 'requeued'), REQUEUE_WAIT_MS, 'conversation.updated requeued');
  await r.ack({ type: 'status.set', status: 'online' });
  await v1.next((m) => convUpdated(c1, 'assigned')(m) && m.conversation.assignee && m.conversation.assignee.name === other.name, 5000, 'assignment to Rita');
  const row2 = await conversationRow(fx.pg, c2);
  assert.equal(row2.status, 'queued', 'the requeued conversation must go before the one that was waiting');
  assert.equal(row2.assignee_id, null);
  for (const c of [v1, v2, r]) await c.close();
});
