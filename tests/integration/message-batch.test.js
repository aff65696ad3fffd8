'use strict';
// post_messages, the one way a message is stored, is set-based: a batch is a
// few statements whatever its size (docs/performance.md). Its contract is
// that a batch means what its elements would mean stored one after the
// other. Tested differentially: the same elements go to two identical sets
// of conversations, once as one batch and once an element per call, and
// every result, seq, stored row and conversation state must agree --
// including elements that refer to earlier ones of the same batch (a
// client_msg_id used twice, an answer after a visitor's message).
// Also: the notification a batch sends is the line format that
// live/deliver forwards without parsing (routing, then both frames); and a
// message reaches each follower as one message.created, with no
// conversation.updated beside it (the conversation list reads the message).

const assert = require('node:assert/strict');
const { Client } = require('pg');

const { suite } = require('../helpers/suite');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  startConversation,
  sendMessage,
  convUpdated,
  msgCreated,
} = require('../helpers/fixtures');

const fx = suite();
const { test } = fx;

/** Two identical conversations, each of its own visitor (assigned to agent, in team). */
async function pair(site, agent, team, { status = 'assigned' } = {}) {
  const ids = [];
  const visitors = [];
  // Connected a moment ago: the grace sweep leaves the assignee's chats alone.
  await fx.pg.query("UPDATE agents SET last_connected_at = now() + interval '1 hour' WHERE id = $1", [agent.id]);
  for (let k = 0; k < 2; k++) {
    const v = await connectVisitor(fx.srv, site);
    const id = await startConversation(v);
    v.close();
    await fx.pg.query(
      `UPDATE conversations SET status = $2, assignee_id = CASE WHEN $2 = 'assigned' THEN $3::bigint END, team_id = $4,
              closed_at = CASE WHEN $2 = 'closed' THEN now() END WHERE id = $1`,
      [id, status, agent.id, team],
    );
    const r = await fx.pg.query('SELECT visitor_id FROM conversations WHERE id = $1', [id]);
    ids.push(id);
    visitors.push(Number(r.rows[0].visitor_id));
  }
  return { ids, visitors };
}

async function post(items) {
  const r = await fx.pg.query('SELECT idx, status, message FROM post_messages($1::jsonb)', [JSON.stringify(items)]);
  return r.rows.map((row) => ({ status: row.status, message: row.message === null ? null : JSON.parse(row.message) }));
}

/** What must agree between the two sets: everything but ids and clocks. */
function comparable(result) {
  if (!result.message) return { status: result.status };
  const { id, conversation_id: conv, created_at: at, author, ...rest } = result.message;
  assert.ok(id > 0 && conv > 0 && at);
  return { status: result.status, author: { ...author, id: author.kind === 'visitor' ? 'the visitor' : author.id }, ...rest };
}

/** The conversations' state and stored messages, visitors' ids left out. */
async function state(ids) {
  const r = await fx.pg.query(
    `SELECT last_seq, awaiting_since IS NULL AS not_waiting, first_response_at IS NULL AS unanswered,
            last_reply_at IS NULL AS no_reply, last_visitor_at IS NULL AS no_visitor
       FROM conversations c JOIN unnest($1::bigint[]) WITH ORDINALITY AS x(id, ord) ON x.id = c.id ORDER BY x.ord`,
    [ids],
  );
  const m = await fx.pg.query(
    `SELECT x.ord, m.seq, m.author_kind, CASE WHEN m.author_kind = 'visitor' THEN NULL ELSE m.author_id END AS author_id,
            m.kind, m.body, m.meta, m.client_msg_id
       FROM messages m JOIN unnest($1::bigint[]) WITH ORDINALITY AS x(id, ord) ON x.id = m.conversation_id
      ORDER BY x.ord, m.seq`,
    [ids],
  );
  return { conversations: r.rows, messages: m.rows };
}

test('a batch stores, refuses and numbers exactly as its elements would one after the other', async () => {
  const team = await createTeam(fx.pg, 'Batch');
  const other = await createTeam(fx.pg, 'Elsewhere');
  const site = await createSite(fx.pg, { teamId: team });
  const ann = await createAgent(fx.pg, { name: 'Ann Assignee', teams: [team] });
  const ben = await createAgent(fx.pg, { name: 'Ben Teammate', teams: [team] });
  const out = await createAgent(fx.pg, { name: 'Oli Outsider', teams: [other] });
  const sue = await createAgent(fx.pg, { name: 'Sue Supervisor', role: 'supervisor' });
  const a = await pair(site, ann, team);
  const b = await pair(site, ann, team);
  const closed = await pair(site, ann, team, { status: 'closed' });
  const stranger = await pair(site, ann, team);

  // The elements, for set k (0: the batch, 1: one per call).
  const items = (k) => {
    const A = a.ids[k];
    const B = b.ids[k];
    const C = closed.ids[k];
    const V = { ak: 'visitor', ai: a.visitors[k] };
    return [
      { c: A, ...V, k: 'message', b: 'hello', cm: 'k1' },
      { c: A, ...V, k: 'message', b: 'hello again', cm: 'k1' }, // the same key, same author: the first one
      { c: A, ak: 'agent', ai: ann.id, k: 'message', b: 'mine now', cm: 'k1' }, // someone else's key
      { c: A, ak: 'agent', ai: ann.id, k: 'message', b: 'an answer', cm: 'k2' },
      { c: A, ...V, k: 'message', b: 'thanks, and…', cm: 'k3' },
      { c: A, ak: 'agent', ai: ben.id, k: 'message', b: 'not his to answer' },
      { c: A, ak: 'agent', ai: ben.id, k: 'note', b: 'a teammate’s note' },
      { c: A, ak: 'agent', ai: out.id, k: 'note', b: 'not his team' },
      { c: A, ak: 'visitor', ai: stranger.visitors[k], k: 'message', b: 'not my conversation' },
      { c: C, ak: 'visitor', ai: closed.visitors[k], k: 'message', b: 'too late' },
      { c: A, ak: 'agent', ai: ann.id, k: 'note', b: 'whisper?', w: true },
      { c: A, ak: 'agent', ai: sue.id, p: true, pc: true, k: 'note', b: 'a whisper', w: true },
      { c: A, ak: 'agent', ai: ben.id, p: true, pc: true, k: 'message', b: 'a claim narrowed to his role' },
      { c: B, ak: 'agent', ai: ann.id, k: 'message', b: 'first words', cm: 'k1' },
      { c: B, ak: 'visitor', ai: b.visitors[k], k: 'message', b: 'tab\there "quoted" \\ <b>', cm: 'k9' },
      { c: A, ak: 'system', p: true, k: 'event', b: 'An event line', mt: { event: 'assigned', agent_id: ann.id } },
      { c: B, ak: 'system', p: true, k: 'event', b: 'Moved', mt: { event: 'transferred', team_id: other, by: 'agent' } },
      { c: B, ak: 'system', p: true, k: 'message', b: 'Hello from us', mt: { sender_name: 'The Shop', rule: 7 } },
      { c: 999999999, ...V, k: 'message', b: 'nowhere' },
    ];
  };
  const batch = await post(items(0));
  const single = [];
  for (const it of items(1)) single.push(...(await post([it])));
  assert.deepEqual(batch.map(comparable), single.map(comparable));
  assert.deepEqual(
    batch.map((r) => r.status),
    [
      'ok',
      'duplicate',
      'key_taken',
      'ok',
      'ok',
      'forbidden',
      'ok',
      'forbidden',
      'not_found',
      'closed',
      'forbidden',
      'ok',
      'forbidden',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'not_found',
    ],
  );
  // The duplicate is the first message, as stored.
  assert.equal(batch[1].message.id, batch[0].message.id);
  assert.equal(batch[1].message.body, 'hello');
  // Gap-free, in the order given.
  assert.deepEqual(
    batch.filter((r) => r.status === 'ok' && r.message.conversation_id === a.ids[0]).map((r) => r.message.seq),
    [1, 2, 3, 4, 5, 6],
  );
  const s0 = await state([a.ids[0], b.ids[0], closed.ids[0]]);
  const s1 = await state([a.ids[1], b.ids[1], closed.ids[1]]);
  assert.deepEqual(s0, s1);
  // The visitor wrote after the answer: waiting again; answered; replied.
  assert.deepEqual(s0.conversations[0], { last_seq: '6', not_waiting: false, unanswered: false, no_reply: false, no_visitor: false });
  // The second: the agent spoke first, then the visitor.
  assert.deepEqual(s0.conversations[1], { last_seq: '4', not_waiting: false, unanswered: false, no_reply: false, no_visitor: false });

  // Sent again after they were stored: duplicates of the stored ones, the
  // visitor's view for the visitor (no meta, their own key).
  const again = await post([items(0)[0], items(0)[3], items(0)[14]]);
  assert.deepEqual(
    again.map((r) => r.status),
    ['duplicate', 'duplicate', 'duplicate'],
  );
  assert.deepEqual(again[0].message, batch[0].message);
  assert.deepEqual(again[1].message, batch[3].message);
  assert.deepEqual(again[2].message, batch[14].message);
  assert.equal(batch[14].message.body, 'tab\there "quoted" \\ <b>');
  // Rendered as text by post_messages: the same as the stored row reads
  // (parley_message_json, the history and REST path) for its author; the
  // event line names its team, the system message speaks as its sender.
  for (const [i, r] of batch.entries()) {
    if (r.status !== 'ok') continue;
    const audience = items(0)[i].ak === 'visitor' ? 'visitor' : 'agent';
    const q = await fx.pg.query('SELECT parley_message_json(m, $2)::text AS j FROM messages m WHERE id = $1', [r.message.id, audience]);
    assert.deepEqual(JSON.parse(q.rows[0].j), r.message, `element ${i}`);
  }
  assert.equal(batch[16].message.event_team, 'Elsewhere');
  assert.equal(batch[16].message.event_by, 'agent');
  assert.equal(batch[17].message.author.name, 'The Shop');
  assert.deepEqual(batch[17].message.meta, { sender_name: 'The Shop', rule: 7 });

  // the visitor's view of it (in the notification) has neither, nor meta.
  assert.equal(batch[3].message.author.id, ann.id);
  assert.equal(batch[3].message.client_msg_id, 'k2');
});

test('the notification is a line per message: routing, the agents’ frame, the visitor’s (none for a note)', async () => {
  const team = await createTeam(fx.pg, 'Lines');
  const site = await createSite(fx.pg, { teamId: team });
  const ann = await createAgent(fx.pg, { name: 'Ann Lines', teams: [team] });
  const c = await pair(site, ann, team);
  const listener = new Client({ connectionString: fx.pg.url });
  await listener.connect();
  const payloads = [];
  listener.on('notification', (n) => {
    if (n.payload.startsWith('M\n')) payloads.push(n.payload);
  });
  await listener.query('LISTEN parley');
  try {
    const big = 'x'.repeat(3000);
    const r = await post([
      { c: c.ids[0], ak: 'visitor', ai: c.visitors[0], k: 'message', b: 'line one', cm: 'n1' },
      { c: c.ids[0], ak: 'agent', ai: ann.id, k: 'note', b: 'internal\nnote' },
      { c: c.ids[0], ak: 'agent', ai: ann.id, k: 'message', b: big },
      ...Array.from({ length: 40 }, (_, i) => ({ c: c.ids[1], ak: 'agent', ai: ann.id, k: 'message', b: `many ${i}` })),
    ]);
    assert.ok(r.every((x) => x.status === 'ok'));
    const deadline = Date.now() + 5000;
    while (
      payloads
        .join('')
        .split('\n')
        .filter((l) => l && l !== 'M').length < 43 &&
      Date.now() < deadline
    )
      await new Promise((res) => setTimeout(res, 20));
    assert.ok(payloads.length >= 2, 'forty-three messages do not fit one payload');
    for (const p of payloads) assert.ok(Buffer.byteLength(p) < 8000, `payload of ${Buffer.byteLength(p)} bytes`);
    const lines = payloads.flatMap((p) => p.slice(2).split('\n').filter(Boolean));
    assert.equal(lines.length, 43);
    const [route, agentFrame, visitorFrame] = lines[0].split('\t');
    assert.deepEqual(route.split(' '), [String(c.ids[0]), String(c.visitors[0]), String(team), String(ann.id), '0', '-']);
    const af = JSON.parse(agentFrame);
    assert.equal(af.type, 'message.created');
    assert.deepEqual(af.message, r[0].message);
    // The visitor's own message: their view is the agents' ("=", not sent twice).
    assert.equal(visitorFrame, '=');
    // The note: no visitor frame, the newline escaped inside the JSON.
    const note = lines[1].split('\t');
    assert.equal(note.length, 3);
    assert.equal(note[2], '');
    assert.equal(JSON.parse(note[1]).message.body, 'internal\nnote');
    // Too large to carry twice in a line: a reference to load.
    assert.equal(lines[2], `R ${c.ids[0]} 3`);
    // The agent's answer: in the visitor's frame without the author's id, key or meta.
    const v4 = JSON.parse(lines[3].split('\t')[2]).message;
    assert.equal(v4.author.id, undefined);
    assert.equal(v4.author.name, 'Ann Lines');
    assert.deepEqual(
      lines.slice(3).map((l) => JSON.parse(l.split('\t')[1]).message.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  } finally {
    await listener.end();
  }
});

test('a message is one message.created per follower socket, and no conversation.updated', async () => {
  const team = await createTeam(fx.pg, 'Fan-out');
  const site = await createSite(fx.pg, { teamId: team });
  const ann = await createAgent(fx.pg, { name: 'Ann Fanout', teams: [team] });
  const sue = await createAgent(fx.pg, { name: 'Sue Watching', role: 'supervisor' });
  const agent = await connectAgent(fx.srv, ann, { status: 'online' });
  const watcher = await connectAgent(fx.srv, sue);
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await agent.next(convUpdated(cid, 'assigned'));
  await v.next(convUpdated(cid, 'assigned'));
  await new Promise((res) => setTimeout(res, 300)); // the start's own events are over
  const mark = [agent, watcher, v].map((c) => c.log.length);
  for (let i = 1; i <= 3; i++) await sendMessage(v, cid, `visitor ${i}`);
  await sendMessage(agent, cid, 'the answer');
  for (const c of [agent, watcher, v]) await c.next(msgCreated(cid, (m) => m.body === 'the answer'));
  await new Promise((res) => setTimeout(res, 500));
  const since = (c, k) => c.log.slice(mark[k]).filter((m) => m.type !== 'ack');
  for (const [k, c] of [agent, watcher, v].entries()) {
    const frames = since(c, k);
    assert.deepEqual(
      frames.map((m) => `${m.type} ${m.message ? m.message.body : ''}`),
      ['visitor 1', 'visitor 2', 'visitor 3', 'the answer'].map((b) => `message.created ${b}`),
      `socket ${k}`,
    );
  }
  for (const c of [agent, watcher, v]) c.close();
});

test('a message too long to carry in a notification is loaded by reference and keeps its place', async () => {
  const team = await createTeam(fx.pg, 'Long lines');
  const site = await createSite(fx.pg, { teamId: team });
  const ann = await createAgent(fx.pg, { name: 'Ann Longread', teams: [team] });
  const agent = await connectAgent(fx.srv, ann, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  await agent.next(convUpdated(cid, 'assigned'));
  const long = `long ${'ü'.repeat(1900)}`; // two views of it pass the 3,800-byte line
  const bodies = ['before', long, 'after'];
  // Sent without waiting, so that they can share a batch and its notification.
  await Promise.all(bodies.map((b) => sendMessage(v, cid, b)));
  for (const c of [agent, v]) {
    const got = [];
    for (let i = 0; i < bodies.length; i++) got.push((await c.next(msgCreated(cid, (m) => m.kind === 'message'))).message);
    assert.deepEqual(
      got.map((m) => m.body),
      bodies,
    );
    // Consecutive (the event line before them is seq 1).
    assert.deepEqual(
      got.map((m) => m.seq - got[0].seq),
      [0, 1, 2],
    );
  }
  agent.close();
  v.close();
});
