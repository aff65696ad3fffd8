'use strict';
// kill -9 between message.send and its ack: after a restart on the same
// database, resending the same client_msg_id yields exactly one stored
// message, acknowledged with its seq, and the conversation's seqs stay
// gap-free.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createSite, connectVisitor, startConversation, sendMessage } = require('../helpers/fixtures');

const fx = suite();
const { test } = fx;

async function seqsOf(cid) {
  const r = await fx.pg.query('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [cid]);
  const last = await fx.pg.query('SELECT last_seq FROM conversations WHERE id = $1', [cid]);
  return { seqs: r.rows.map((x) => Number(x.seq)), lastSeq: Number(last.rows[0].last_seq) };
}

test('kill -9 around message.send, restart, resend: one message, its seq in the ack, no gaps', { timeout: 120000 }, async () => {
  const team = await createTeam(fx.pg);
  // A fixed origin: the restarted server listens on another port.
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://crash.example'] });
  let v = await connectVisitor(fx.srv, site);
  const token = v.token;
  const cid = await startConversation(v);
  await sendMessage(v, cid, 'before the crash');

  // When to kill: at once (the frame may not even have been read), a few
  // milliseconds later (maybe mid-commit), and after the ack arrived.
  for (const when of ['immediately', 'after 5 ms', 'after the ack']) {
    const key = `crash-${when.replace(/\W+/g, '-')}`;
    const body = `sent while killing (${when})`;
    const reply = v.request({ type: 'message.send', conversation_id: cid, client_msg_id: key, body }).catch(() => null);
    if (when === 'after 5 ms') await new Promise((r) => setTimeout(r, 5));
    if (when === 'after the ack') {
      const first = await reply;
      assert.equal(first && first.type, 'ack', `no ack before the kill: ${JSON.stringify(first)}`);
    }
    const old = fx.srv;
    await old.kill9();
    fx.track(old);
    fx.srv = await fx.startNode();
    await v.waitClosed(10000);

    v = await connectVisitor(fx.srv, site, { token, label: `visitor after kill (${when})` });
    const ack = await sendMessage(v, cid, body, { clientMsgId: key });
    const rows = await fx.pg.query('SELECT id, seq, body FROM messages WHERE conversation_id = $1 AND client_msg_id = $2', [cid, key]);
    assert.equal(rows.rows.length, 1, `kill ${when}: ${rows.rows.length} messages with client_msg_id ${key}`);
    assert.equal(ack.message.seq, Number(rows.rows[0].seq), `kill ${when}: the ack must carry the stored seq`);
    assert.equal(ack.message.id, Number(rows.rows[0].id));
    assert.equal(ack.message.body, body);
    if (when === 'after the ack') assert.equal(ack.duplicate, true, 'a message acked before the kill must come back as a duplicate');

    const { seqs, lastSeq } = await seqsOf(cid);
    assert.deepEqual(
      seqs,
      Array.from({ length: lastSeq }, (_, i) => i + 1),
      `kill ${when}: seqs must be 1..${lastSeq} without gaps`,
    );
  }

  // The conversation still works normally afterwards.
  const later = await sendMessage(v, cid, 'after all that');
  const { lastSeq } = await seqsOf(cid);
  assert.equal(later.message.seq, lastSeq);
  const sync = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  const keys = sync.messages.filter((m) => m.client_msg_id && m.client_msg_id.startsWith('crash-')).map((m) => m.client_msg_id);
  assert.deepEqual(keys, ['crash-immediately', 'crash-after-5-ms', 'crash-after-the-ack']);
  await v.close();
});

test("a killed node's agents count as gone after PARLEY_NODE_TIMEOUT_SECONDS: their chats are requeued then, not 30 s later", { timeout: 90000 }, async () => {
  const { createAgent, connectAgent, convUpdated, waitFor } = require('../helpers/fixtures');
  // Grace 0: the requeue waits only for the node to count as gone.
  const env = { PARLEY_NODE_TIMEOUT_SECONDS: '10', PARLEY_AGENT_GRACE_SECONDS: '0' };
  const a = await fx.startNode({ env });
  const b = await fx.startNode({ env });
  try {
    const team = await createTeam(fx.pg);
    const ann = await createAgent(fx.pg, { name: 'Ann Crash', teams: [team] });
    const site = await createSite(fx.pg, { teamId: team, origins: ['https://crash.example'] });
    const agent = await connectAgent(a, ann, { status: 'online' });
    const v = await connectVisitor(b, site);
    const cid = await startConversation(v);
    await agent.next(convUpdated(cid, 'assigned'), 10000, 'assigned to Ann on node a');
    await a.kill9();
    const killed = Date.now();
    // Node b's sweep requeues it once node a's heartbeat is 10 s old.
    await waitFor(async () => (await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [cid])).rows[0].status === 'queued', {
      timeoutMs: 22000,
      intervalMs: 200,
      what: 'the conversation requeued within about PARLEY_NODE_TIMEOUT_SECONDS of the crash',
    });
    assert.ok(Date.now() - killed >= 5000, 'not before the node could have missed a heartbeat');
    await v.close();
  } finally {
    await b.stop();
  }
});
