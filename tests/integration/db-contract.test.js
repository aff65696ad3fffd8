'use strict';
// The database contract of docs/architecture.md ("The database contract"),
// tested by breaking the database on purpose:
//
// - A transaction that fails at COMMIT with a serialization failure (40001)
//   is run again by db_transaction, and each domain _tx function starts its
//   context over: the move happens once, its event reaches the agents once,
//   its reply is the one from the run that committed (and, under make asan,
//   the first run's reply is not leaked).
// - A statement whose COMMIT reached PostgreSQL but whose answer did not (the
//   connection died in between) is not sent again: the REST API answers 503
//   "may not have been stored" and the message is stored exactly once.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectAgent, connectVisitor, conversationRow, convUpdated, msgCreated } = require('../helpers/fixtures');
const { addToken, api } = require('../helpers/api');
const { assertProblem } = require('../helpers/assert');
const { startTcpProxy } = require('../helpers/tcp-proxy');

const fx = suite();
const { test } = fx;

// A deferred constraint trigger runs at COMMIT. It fails the commit with
// 40001 once after the sequence is armed (setval to 1, not called), and only
// for rows of the armed site or conversation, so the server's own background
// writes cannot take the shot. nextval is not rolled back: the rerun passes.
const FAULT_SQL = `
  CREATE TABLE test_fail_on (site_id bigint, conversation_id bigint);
  CREATE SEQUENCE test_fail_shots START 2;
  CREATE FUNCTION test_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_fail_on f WHERE f.site_id = NEW.site_id OR f.conversation_id = NEW.id) THEN
      IF nextval('test_fail_shots') = 1 THEN
        RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
      END IF;
    END IF;
    RETURN NULL;
  END $$;
  CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT OR UPDATE ON conversations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_once();
  GRANT SELECT ON test_fail_on TO PUBLIC;
  GRANT USAGE, UPDATE ON SEQUENCE test_fail_shots TO PUBLIC;
`;

async function armFault({ siteId = null, conversationId = null }) {
  await fx.pg.query('DELETE FROM test_fail_on');
  await fx.pg.query('INSERT INTO test_fail_on (site_id, conversation_id) VALUES ($1, $2)', [siteId, conversationId]);
  await fx.pg.query("SELECT setval('test_fail_shots', 1, false)");
}

/** Disarms, and says whether the armed failure was injected and then passed. */
async function faultFired() {
  await fx.pg.query('DELETE FROM test_fail_on');
  const r = await fx.pg.query('SELECT last_value, is_called FROM test_fail_shots');
  return r.rows[0].is_called && Number(r.rows[0].last_value) >= 2;
}

fx.setup(() => fx.pg.query(FAULT_SQL));

test('a serialization failure at COMMIT reruns start, accept, transfer and close once each, with one event each', async () => {
  const team = await createTeam(fx.pg);
  const ann = await createAgent(fx.pg, { name: 'Ann Retry', teams: [team] });
  const bob = await createAgent(fx.pg, { name: 'Bob Retry', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  // Away: nothing is assigned automatically, every move below is explicit.
  const a = await connectAgent(fx.srv, ann, { status: 'away' });
  const b = await connectAgent(fx.srv, bob, { status: 'away' });
  const v = await connectVisitor(fx.srv, site);

  await armFault({ siteId: site.id });
  const start = await v.ack({ type: 'conversation.start', prechat: { name: 'Vera' } });
  assert.ok(await faultFired(), 'the commit of conversation.start failed once and was run again');
  assert.equal(start.created, true, 'the reply is the rerun’s: the conversation was created');
  assert.equal(start.conversation.status, 'queued');
  const cid = start.conversation.id;
  const rows = await fx.pg.query('SELECT id FROM conversations WHERE site_id = $1', [site.id]);
  assert.deepEqual(
    rows.rows.map((r) => Number(r.id)),
    [cid],
    'one conversation, not one per attempt',
  );

  await armFault({ conversationId: cid });
  const accepted = await a.ack({ type: 'conversation.accept', conversation_id: cid });
  assert.ok(await faultFired(), 'the commit of accept failed once');
  assert.equal(accepted.conversation.status, 'assigned');

  await armFault({ conversationId: cid });
  const moved = await a.ack({ type: 'conversation.transfer', conversation_id: cid, to_agent_id: bob.id, reason: 'retry' });
  assert.ok(await faultFired(), 'the commit of transfer failed once');
  assert.equal(moved.conversation.status, 'assigned');

  await armFault({ conversationId: cid });
  const closed = await b.ack({ type: 'conversation.close', conversation_id: cid });
  assert.ok(await faultFired(), 'the commit of close failed once');
  assert.equal(closed.conversation.status, 'closed');
  const row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'closed');
  assert.equal(row.assignee_id, bob.id);

  // Events reach a listener in commit order: once the next conversation's
  // "queued" has arrived, every event of the first one has too.
  const v2 = await connectVisitor(fx.srv, site, { label: 'visitor 2' });
  const second = await v2.ack({ type: 'conversation.start' });
  await a.next(convUpdated(second.conversation.id, 'queued'), 5000, 'the second conversation queued (Ann)');
  await b.next(convUpdated(second.conversation.id, 'queued'), 5000, 'the second conversation queued (Bob)');
  for (const [change, who] of [
    ['queued', a],
    ['assigned', a],
    ['transferred', b],
    ['closed', b],
  ]) {
    assert.equal(who.seen(convUpdated(cid, change)).length, 1, `exactly one conversation.updated ${change}`);
  }
  const notes = await fx.pg.query("SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND body LIKE 'Transferred to %'", [cid]);
  assert.equal(notes.rows[0].n, 1, 'one transfer note');
  const joined = await fx.pg.query("SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND body LIKE '% joined the conversation'", [cid]);
  assert.equal(joined.rows[0].n, 2, 'Ann joined once, Bob joined once');
});

test('a message whose COMMIT succeeded but whose answer was lost is not posted again: 503, stored once', async () => {
  // A second node reaches PostgreSQL through a proxy that can cut a
  // connection right after a statement went through.
  const proxy = await startTcpProxy({ target: new URL(fx.pg.url).port });
  fx.teardown(() => proxy.close());
  const viaProxy = new URL(fx.pg.url);
  viaProxy.port = String(proxy.port);
  const cutNode = await fx.startNode({ databaseUrl: viaProxy.toString() });
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const v = await connectVisitor(fx.srv, site);
  const cid = (await v.ack({ type: 'conversation.start' })).conversation.id;
  const tok = await addToken(fx.pg, { name: 'contract writer', scopes: ['conversations:write'] });

  const marker = `lost-answer-${process.pid}-${Date.now()}`;
  const cut = proxy.cutAfterClientBytes((bytes) => bytes.includes(marker));
  const res = await api(cutNode, tok, 'POST', `/api/v1/conversations/${cid}/messages`, { json: { body: marker } });
  await cut;
  const p = assertProblem(res, 503, 'unavailable');
  assert.match(p.detail, /may not have been stored/);
  // The backend commits on its own time once it has the statement (the cut
  // does not wait for it): the visitor hears of the message when it has.
  await v.next(
    msgCreated(cid, (m) => m.body === marker),
    10000,
    'the message, committed and delivered live',
  );

  // The node's pool replaces the connection: the next post goes through.
  const next = await api(cutNode, tok, 'POST', `/api/v1/conversations/${cid}/messages`, { json: { body: 'after the cut' } });
  assert.equal(next.status, 201, JSON.stringify(next.json));
  // Events reach the socket in commit order: once this one is here, a second
  // copy of the first would have been too.
  await v.next(
    msgCreated(cid, (m) => m.body === 'after the cut'),
    10000,
    'the next message',
  );
  const stored = await fx.pg.query('SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND body = $2', [cid, marker]);
  assert.equal(stored.rows[0].n, 1, 'the statement committed once and was not sent again');
  assert.equal(v.seen(msgCreated(cid, (m) => m.body === marker)).length, 1, 'the visitor got it once');
});
