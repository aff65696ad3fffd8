'use strict';
// The real-time conversation core, end to end on one node: a visitor's
// conversation is queued, auto-assigned, chatted in both ways (typing, read
// receipts), closed; duplicates, reconnect + sync, transfers and queue
// positions.

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
  waitFor,
} = require('../helpers/fixtures');

const fx = suite();
const { test } = fx;

test('full flow: queued, auto-assigned, messages, typing and read receipts both ways, close', async () => {
  const team = await createTeam(fx.pg);
  const ann = await createAgent(fx.pg, { name: 'Ann Flow', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, ann, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);

  const start = await v.ack({ type: 'conversation.start', prechat: { name: 'Vic' }, page_url: 'https://shop.example/p' });
  assert.equal(start.created, true);
  assert.equal(start.conversation.status, 'queued', 'a new conversation starts in the queue');
  const cid = start.conversation.id;
  assert.ok(Number.isInteger(cid) && cid > 0);
  // Starting again while it is open gives the same conversation.
  const again = await v.ack({ type: 'conversation.start' });
  assert.equal(again.created, false);
  assert.equal(again.conversation.id, cid);

  // Queued: both the visitor and the team's queue watcher hear of it.
  await v.next(convUpdated(cid, 'queued'), 5000, 'conversation.updated queued (visitor)');
  await a.next(convUpdated(cid, 'queued'), 5000, 'conversation.updated queued (agent)');

  // Auto-assigned to the only online agent of the team.
  const va = await v.next(convUpdated(cid, 'assigned'), 5000, 'conversation.updated assigned (visitor)');
  assert.equal(va.conversation.status, 'assigned');
  assert.equal(va.conversation.assignee && va.conversation.assignee.name, ann.name);
  assert.equal(va.conversation.assignee.id, undefined, 'a visitor must not see agent ids');
  const aa = await a.next(convUpdated(cid, 'assigned'), 5000, 'conversation.updated assigned (agent)');
  assert.equal(aa.conversation.status, 'assigned');
  assert.equal(aa.conversation.assignee.id, ann.id);
  const row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'assigned');
  assert.equal(row.assignee_id, ann.id);

  // Visitor -> agent.
  const ack1 = await sendMessage(v, cid, 'hello from the visitor');
  assert.equal(ack1.duplicate, false);
  assert.ok(Number.isInteger(ack1.message.id), `ack has no message id: ${JSON.stringify(ack1)}`);
  assert.ok(Number.isInteger(ack1.message.seq) && ack1.message.seq > 0, `ack has no seq: ${JSON.stringify(ack1)}`);
  const ev1 = await a.next(
    msgCreated(cid, (m) => m.seq === ack1.message.seq),
    5000,
    'message.created for the visitor message',
  );
  assert.equal(ev1.message.id, ack1.message.id);
  assert.equal(ev1.message.body, 'hello from the visitor');
  assert.equal(ev1.message.kind, 'message');
  assert.equal(ev1.message.author.kind, 'visitor');

  // Agent -> visitor.
  const ack2 = await sendMessage(a, cid, 'hello from the agent');
  assert.ok(ack2.message.seq > ack1.message.seq, 'seq grows');
  const ev2 = await v.next(
    msgCreated(cid, (m) => m.seq === ack2.message.seq),
    5000,
    'message.created for the agent message',
  );
  assert.equal(ev2.message.id, ack2.message.id);
  assert.equal(ev2.message.body, 'hello from the agent');
  assert.equal(ev2.message.author.kind, 'agent');
  assert.equal(ev2.message.author.name, ann.name);
  assert.equal(ev2.message.author.id, undefined, 'a visitor must not see agent ids');

  // Typing, both ways.
  await v.ack({ type: 'typing', conversation_id: cid, on: true });
  const t1 = await a.nextType('typing', (m) => m.conversation_id === cid && m.side === 'visitor');
  assert.equal(t1.on, true);
  await a.ack({ type: 'typing', conversation_id: cid, on: true });
  const t2 = await v.nextType('typing', (m) => m.conversation_id === cid && m.side === 'agent');
  assert.equal(t2.on, true);
  assert.equal(t2.name, ann.name);
  await v.ack({ type: 'typing', conversation_id: cid, on: false });
  const t3 = await a.nextType('typing', (m) => m.conversation_id === cid && m.side === 'visitor');
  assert.equal(t3.on, false);
  await a.ack({ type: 'typing', conversation_id: cid, on: false });
  const t4 = await v.nextType('typing', (m) => m.conversation_id === cid && m.side === 'agent');
  assert.equal(t4.on, false);

  // Read receipts, both ways.
  const r1 = await v.ack({ type: 'read', conversation_id: cid, seq: ack2.message.seq });
  assert.equal(r1.last_read_seq, ack2.message.seq);
  const re1 = await a.nextType('read', (m) => m.conversation_id === cid && m.side === 'visitor');
  assert.equal(re1.last_read_seq, ack2.message.seq);
  const r2 = await a.ack({ type: 'read', conversation_id: cid, seq: ack2.message.seq });
  assert.equal(r2.last_read_seq, ack2.message.seq);
  const re2 = await v.nextType('read', (m) => m.conversation_id === cid && m.side === 'agent');
  assert.equal(re2.last_read_seq, ack2.message.seq);
  // A read marker never moves back.
  const back = await v.ack({ type: 'read', conversation_id: cid, seq: 1 });
  assert.equal(back.last_read_seq, ack2.message.seq);

  // Every message.created either side saw came in seq order.
  for (const c of [v, a]) {
    const seqs = c.seen(msgCreated(cid)).map((m) => m.message.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      `${c.label} got message.created out of seq order: ${seqs}`,
    );
  }

  // Close (by the visitor): both sides are told.
  const closed = await v.ack({ type: 'conversation.close', conversation_id: cid });
  assert.equal(closed.conversation.status, 'closed');
  const vc = await v.next(convUpdated(cid, 'closed'), 5000, 'conversation.updated closed (visitor)');
  assert.equal(vc.conversation.status, 'closed');
  const ac = await a.next(convUpdated(cid, 'closed'), 5000, 'conversation.updated closed (agent)');
  assert.equal(ac.conversation.status, 'closed');
  assert.equal((await conversationRow(fx.pg, cid)).status, 'closed');
  await v.expectError({ type: 'message.send', conversation_id: cid, client_msg_id: 'after-close', body: 'too late' }, 'invalid_state');

  await v.close();
  await a.close();
});

test('an agent typing in one conversation and then another is shown typing in both', async () => {
  const team = await createTeam(fx.pg);
  const tia = await createAgent(fx.pg, { name: 'Tia Typing', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, tia, { status: 'online' });
  const v1 = await connectVisitor(fx.srv, site, { label: 'visitor 1' });
  const v2 = await connectVisitor(fx.srv, site, { label: 'visitor 2' });
  const c1 = await startConversation(v1);
  const c2 = await startConversation(v2);
  await v1.next(convUpdated(c1, 'assigned'), 5000, 'assignment of conversation 1');
  await v2.next(convUpdated(c2, 'assigned'), 5000, 'assignment of conversation 2');

  // Agents juggle chats: typing in conversation 1, then right away in 2.
  await a.ack({ type: 'typing', conversation_id: c1, on: true });
  const t1 = await v1.nextType('typing', (m) => m.conversation_id === c1 && m.side === 'agent');
  assert.equal(t1.on, true);
  await a.ack({ type: 'typing', conversation_id: c2, on: true });
  const t2 = await v2.nextType('typing', (m) => m.conversation_id === c2 && m.side === 'agent', 3000);
  assert.equal(t2.on, true);
  for (const c of [v1, v2, a]) await c.close();
});

test('a resent client_msg_id is acknowledged as a duplicate and stored once', async () => {
  const team = await createTeam(fx.pg);
  const bob = await createAgent(fx.pg, { name: 'Bob Dup', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, bob, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await a.next(convUpdated(cid, 'assigned'), 5000, 'assignment');

  const first = await sendMessage(v, cid, 'only once please', { clientMsgId: 'dup-client-1' });
  assert.equal(first.duplicate, false);
  const lastSeq = (await conversationRow(fx.pg, cid)).last_seq;

  const again = await sendMessage(v, cid, 'only once please', { clientMsgId: 'dup-client-1' });
  assert.equal(again.duplicate, true, `resend not flagged as duplicate: ${JSON.stringify(again)}`);
  assert.equal(again.message.id, first.message.id);
  assert.equal(again.message.seq, first.message.seq);
  // Same key, other text: still the original message.
  const third = await sendMessage(v, cid, 'a different text', { clientMsgId: 'dup-client-1' });
  assert.equal(third.duplicate, true);
  assert.equal(third.message.id, first.message.id);
  assert.equal(third.message.seq, first.message.seq);
  assert.equal(third.message.body, 'only once please');

  // The agent using the visitor's key is not handed the visitor's message.
  const clash = await a.request({ type: 'message.send', conversation_id: cid, client_msg_id: 'dup-client-1', body: 'agent text' });
  assert.ok(
    clash.type === 'error' || (clash.message.id !== first.message.id && clash.message.author.kind === 'agent'),
    `an agent reusing the visitor's client_msg_id was answered with the visitor's message: ${JSON.stringify(clash)}`,
  );

  const rows = await fx.pg.query('SELECT id, seq, body FROM messages WHERE conversation_id = $1 AND client_msg_id = $2', [cid, 'dup-client-1']);
  assert.equal(rows.rows.length, 1, 'the database must hold the message once');
  assert.equal(Number(rows.rows[0].id), first.message.id);
  assert.equal((await conversationRow(fx.pg, cid)).last_seq, lastSeq, 'a duplicate must not take a seq');

  // The agent heard of it once: a later message is the barrier.
  const marker = await sendMessage(v, cid, 'marker');
  await a.next(
    msgCreated(cid, (m) => m.id === marker.message.id),
    5000,
    'the marker message',
  );
  assert.equal(a.seen(msgCreated(cid, (m) => m.client_msg_id === 'dup-client-1')).length, 1, 'the agent got the duplicate twice');

  await v.close();
  await a.close();
});

test('a visitor who reconnects gets exactly the missed messages from sync, in order and page by page', async () => {
  const team = await createTeam(fx.pg);
  const cat = await createAgent(fx.pg, { name: 'Cat Sync', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, cat, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await v.next(convUpdated(cid, 'assigned'), 5000, 'assignment');
  const mine = await sendMessage(v, cid, 'before I go');
  await v.next(
    msgCreated(cid, (m) => m.seq === mine.message.seq),
    5000,
    'own message echo',
  );
  const lastSeen = Math.max(...v.seen(msgCreated(cid)).map((m) => m.message.seq));
  assert.equal(lastSeen, mine.message.seq);

  await v.close();
  const sent = [];
  for (const body of ['missed one', 'missed two', 'missed three']) sent.push((await sendMessage(a, cid, body)).message);
  assert.deepEqual(
    sent.map((m) => m.seq),
    [lastSeen + 1, lastSeen + 2, lastSeen + 3],
    'agent messages take the next seqs',
  );

  const v2 = await connectVisitor(fx.srv, site, { token: v.token, label: 'visitor (reconnected)' });
  const all = await v2.ack({ type: 'sync', conversation_id: cid, after_seq: lastSeen });
  assert.deepEqual(
    all.messages.map((m) => [m.id, m.seq, m.body]),
    sent.map((m) => [m.id, m.seq, m.body]),
    'sync must return exactly the missed messages, in seq order',
  );
  assert.equal(all.more, false);
  assert.equal(all.conversation.id, cid);
  assert.equal(all.conversation.last_seq, sent[2].seq);

  const exact = await v2.ack({ type: 'sync', conversation_id: cid, after_seq: lastSeen, limit: 3 });
  assert.deepEqual(
    exact.messages.map((m) => m.seq),
    sent.map((m) => m.seq),
  );
  assert.equal(exact.more, false, 'a page that ends exactly at the last message says more: false');
  const page1 = await v2.ack({ type: 'sync', conversation_id: cid, after_seq: lastSeen, limit: 2 });
  assert.deepEqual(
    page1.messages.map((m) => m.seq),
    [sent[0].seq, sent[1].seq],
  );
  assert.equal(page1.more, true, 'a full page with more behind it says more: true');
  const page2 = await v2.ack({ type: 'sync', conversation_id: cid, after_seq: page1.messages[1].seq, limit: 2 });
  assert.deepEqual(
    page2.messages.map((m) => m.seq),
    [sent[2].seq],
  );
  assert.equal(page2.more, false);
  const none = await v2.ack({ type: 'sync', conversation_id: cid, after_seq: sent[2].seq });
  assert.deepEqual(none.messages, []);
  assert.equal(none.more, false);

  await v2.close();
  await a.close();
});

test('transfer to an agent (note for agents only) and to a team (back to its queue)', async () => {
  const team1 = await createTeam(fx.pg);
  const team2 = await createTeam(fx.pg);
  const xena = await createAgent(fx.pg, { name: 'Xena Transfer', teams: [team1] });
  const yuri = await createAgent(fx.pg, { name: 'Yuri Transfer', teams: [team1] });
  const zoe = await createAgent(fx.pg, { name: 'Zoe Transfer', teams: [team2] });
  const site = await createSite(fx.pg, { teamId: team1 });
  const x = await connectAgent(fx.srv, xena, { status: 'online' });
  const y = await connectAgent(fx.srv, yuri, { status: 'away' });
  const z = await connectAgent(fx.srv, zoe, { status: 'away' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await x.next(convUpdated(cid, 'assigned'), 5000, 'assignment to Xena');
  assert.equal((await conversationRow(fx.pg, cid)).assignee_id, xena.id);

  // To an agent.
  const moved = await x.ack({ type: 'conversation.transfer', conversation_id: cid, to_agent_id: yuri.id, reason: 'billing question 7731' });
  assert.equal(moved.conversation.assignee.id, yuri.id);
  const yu = await y.next(
    (m) => convUpdated(cid)(m) && m.conversation.assignee && m.conversation.assignee.id === yuri.id,
    5000,
    'conversation.updated naming Yuri the assignee',
  );
  assert.equal(yu.conversation.status, 'assigned');
  const note = await y.next(
    msgCreated(cid, (m) => m.kind === 'note'),
    5000,
    'the transfer note',
  );
  assert.match(note.message.body, /billing question 7731/);
  await x.next(convUpdated(cid, 'transferred'), 5000, 'Xena told that the conversation moved away');
  const row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'assigned');
  assert.equal(row.assignee_id, yuri.id);
  await v.next((m) => convUpdated(cid)(m) && m.conversation.assignee && m.conversation.assignee.name === yuri.name, 5000, 'visitor sees the new assignee');

  // Barrier: Yuri's message is dispatched after the note, so if the note
  // were to reach the visitor it would have by the time this does.
  const hello = await sendMessage(y, cid, 'Yuri here');
  await v.next(
    msgCreated(cid, (m) => m.id === hello.message.id),
    5000,
    "Yuri's message",
  );
  assert.deepEqual(v.seen(msgCreated(cid, (m) => m.kind === 'note')), [], 'the visitor received an internal note');
  assert.ok(!v.log.some((m) => JSON.stringify(m).includes('billing question 7731')), 'the transfer reason leaked to the visitor');
  const vs = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(!vs.messages.some((m) => m.kind === 'note'), 'visitor sync returned a note');
  const as = await y.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(
    as.messages.some((m) => m.kind === 'note' && /billing question 7731/.test(m.body)),
    'agent sync lacks the note',
  );

  // To a team: back in the queue, of the new team.
  v.clearInbox(); // the agent transfer announced "transferred" already
  const toTeam = await y.ack({ type: 'conversation.transfer', conversation_id: cid, to_team_id: team2 });
  assert.equal(toTeam.conversation.status, 'queued');
  assert.equal(toTeam.conversation.team_id, team2);
  const row2 = await conversationRow(fx.pg, cid);
  assert.equal(row2.status, 'queued');
  assert.equal(row2.team_id, team2);
  assert.equal(row2.assignee_id, null);
  const zq = await z.next(convUpdated(cid, 'transferred'), 5000, 'new team watcher told');
  assert.equal(zq.conversation.status, 'queued');
  assert.equal(zq.conversation.team_id, team2);
  const vq = await v.next(convUpdated(cid, 'transferred'), 5000, 'visitor told of the team transfer');
  assert.equal(vq.conversation.status, 'queued');

  // Once someone in the new team goes online, it is theirs.
  await z.ack({ type: 'status.set', status: 'online' });
  await waitFor(async () => (await conversationRow(fx.pg, cid)).assignee_id === zoe.id, { timeoutMs: 3000, what: 'assignment to Zoe' });
  await v.next((m) => convUpdated(cid)(m) && m.conversation.assignee && m.conversation.assignee.name === zoe.name, 5000, 'visitor sees Zoe');

  for (const c of [v, x, y, z]) await c.close();
});

test('queue position: the second in line learns position 2, then 1 as the line moves', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const boss = await createAgent(fx.pg, { name: 'Sue Supervisor', role: 'supervisor' });
  const s = await connectAgent(fx.srv, boss, { subscribe: false });

  const v1 = await connectVisitor(fx.srv, site, { label: 'visitor 1' });
  const c1 = await startConversation(v1);
  const p1 = await v1.nextType('queue.position', (m) => m.conversation_id === c1);
  assert.equal(p1.position, 1);

  const v2 = await connectVisitor(fx.srv, site, { label: 'visitor 2' });
  const c2 = await startConversation(v2);
  const p2 = await v2.nextType('queue.position', (m) => m.conversation_id === c2);
  assert.equal(p2.position, 2);
  assert.ok(Number.isFinite(p2.estimated_wait_seconds) && p2.estimated_wait_seconds > 0, `estimated_wait_seconds: ${p2.estimated_wait_seconds}`);

  const v3 = await connectVisitor(fx.srv, site, { label: 'visitor 3' });
  const c3 = await startConversation(v3);
  const p3 = await v3.nextType('queue.position', (m) => m.conversation_id === c3 && m.position === 3);
  assert.ok(p3.estimated_wait_seconds > 0);

  // The first is assigned (a supervisor takes it): everyone moves up.
  await s.ack({ type: 'conversation.accept', conversation_id: c1 });
  await v2.nextType('queue.position', (m) => m.conversation_id === c2 && m.position === 1);
  await v3.nextType('queue.position', (m) => m.conversation_id === c3 && m.position === 2);

  // The (new) first closes: the last is first.
  await v2.ack({ type: 'conversation.close', conversation_id: c2 });
  await v3.nextType('queue.position', (m) => m.conversation_id === c3 && m.position === 1);

  // Nobody was ever told a position of someone else's conversation.
  for (const [v, c] of [
    [v1, c1],
    [v2, c2],
    [v3, c3],
  ]) {
    const foreign = v.seen((m) => m.type === 'queue.position' && m.conversation_id !== c);
    assert.deepEqual(foreign, [], `${v.label} received another conversation's queue position`);
  }
  for (const c of [v1, v2, v3, s]) await c.close();
});
