'use strict';
// REST API v1, writing: POST /conversations/{id}/messages (idempotent on a
// key in the body or the Idempotency-Key header, delivered live to the
// visitor's socket, 409 once closed), assign to a team (queued again) and to
// a connected agent, close, reopen (queued); and the per-token rate limit
// (a second parleyd with PARLEY_API_RATE_PER_MINUTE=5).

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { assertProblem, assertJson } = require('../helpers/assert');
const {
  createTeam,
  createAgent,
  createSite,
  connectVisitor,
  connectAgent,
  startConversation,
  sendMessage,
  convUpdated,
  msgCreated,
  conversationRow,
} = require('../helpers/fixtures');
const { addToken, api, loadSpec, checkSchema, responseSchema } = require('../helpers/api');

const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;
let spec;
const T = {};
const F = {};

function conforms(res, method, pattern, status) {
  const body = assertJson(res, status);
  const schema = responseSchema(spec, method, pattern, status, 'application/json');
  assert.ok(schema, `docs/openapi.yaml has no application/json schema for ${method} ${pattern} ${status}`);
  assert.deepEqual(checkSchema(spec, schema, body), [], `${method} ${pattern} ${status} answer does not match docs/openapi.yaml`);
  return body;
}

function badField(res, field) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.equal(p.errors && p.errors[0] && p.errors[0].field, field, `errors[0].field in ${JSON.stringify(p)}`);
  return p;
}

const MSG = '/api/v1/conversations/{id}/messages';
const post = (tok, cid, json, headers) => api(fx.srv, tok, 'POST', `/api/v1/conversations/${cid}/messages`, { json, headers });

fx.setup(async () => {
  spec = loadSpec();
  T.write = await addToken(fx.pg, { name: 'CRM writer', scopes: ['conversations:write'] });
  T.other = await addToken(fx.pg, { name: 'Other integration', scopes: ['conversations:write'] });
  T.read = await addToken(fx.pg, { scopes: ['conversations:read'] });
  T.admin = await addToken(fx.pg, { scopes: ['admin'] });
  // Nobody in these teams is online: conversations stay where the API puts them.
  F.team = await createTeam(fx.pg, 'Write team');
  F.queueTeam = await createTeam(fx.pg, 'Second line');
  F.bob = await createAgent(fx.pg, { name: 'Bob Write', teams: [F.team] });
  F.carl = await createAgent(fx.pg, { name: 'Carl Away', teams: [F.team] });
  F.site = await createSite(fx.pg, { teamId: F.team });
});

test('POST messages: stored once per idempotency key (header or body), delivered live to the visitor', async () => {
  const v = await connectVisitor(fx.srv, F.site);
  const cid = await startConversation(v);

  const text = 'Your order shipped & is "tracked" <soon>';
  const first = conforms(await post(T.write, cid, { body: text }, { 'Idempotency-Key': 'crm-1' }), 'POST', MSG, 201);
  assert.equal(first.duplicate, false);
  const m = first.message;
  assert.equal(m.conversation_id, cid);
  assert.equal(m.kind, 'message');
  assert.equal(m.body, text);
  assert.equal(m.client_msg_id, 'crm-1');
  assert.deepEqual(m.author, { kind: 'api', id: T.write.id, name: 'CRM writer' });
  assert.equal(m.seq, (await conversationRow(fx.pg, cid)).last_seq);

  // Live on the visitor's socket, as any chat message.
  const live = await v.next(
    msgCreated(cid, (x) => x.id === m.id),
    5000,
    'message.created for the API message',
  );
  assert.equal(live.message.body, text);
  assert.equal(live.message.seq, m.seq);
  assert.equal(live.message.author.kind, 'api');
  assert.equal(live.message.author.name, 'CRM writer');

  // The same key again (header, then body; even with another text): the original, nothing stored.
  for (const [json, headers] of [
    [{ body: text }, { 'Idempotency-Key': 'crm-1' }],
    [{ body: 'a different text', idempotency_key: 'crm-1' }, {}],
    [{ body: text, idempotency_key: 'crm-1' }, { 'Idempotency-Key': 'something-else' }],
  ]) {
    const again = conforms(await post(T.write, cid, json, headers), 'POST', MSG, 200);
    assert.equal(again.duplicate, true);
    assert.deepEqual(again.message, m, 'the original message, unchanged');
  }
  const rows = await fx.pg.query("SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND client_msg_id = 'crm-1'", [cid]);
  assert.equal(rows.rows[0].n, 1, 'one row for the key');
  const apiRows = await fx.pg.query("SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND author_kind = 'api'", [cid]);
  assert.equal(apiRows.rows[0].n, 1);

  // The body's key wins over the header's.
  const second = conforms(await post(T.write, cid, { body: 'second', idempotency_key: 'crm-2' }, { 'Idempotency-Key': 'crm-1' }), 'POST', MSG, 201);
  assert.equal(second.message.client_msg_id, 'crm-2');
  assert.equal(second.message.seq, m.seq + 1);
  await v.next(
    msgCreated(cid, (x) => x.id === second.message.id),
    5000,
    'message.created for the second message',
  );
  // A conversation's events reach a socket in order: a duplicate delivery
  // of the first message would have come before the second one.
  assert.equal(v.seen((x) => x.type === 'message.created' && x.message.id === m.id).length, 1, 'the visitor got it once');

  // Without a key every request stores a message.
  const a = conforms(await post(T.write, cid, { body: 'no key' }), 'POST', MSG, 201);
  const b = conforms(await post(T.write, cid, { body: 'no key' }), 'POST', MSG, 201);
  assert.notEqual(a.message.id, b.message.id);
  assert.equal(a.message.client_msg_id, undefined);

  // A key belongs to its author: another token, or the visitor, used it first -> 400.
  badField(await post(T.other, cid, { body: 'x' }, { 'Idempotency-Key': 'crm-1' }), 'idempotency_key');
  const vack = await sendMessage(v, cid, 'from the visitor', { clientMsgId: 'visitor-key-1' });
  assert.ok(vack.message);
  badField(await post(T.write, cid, { body: 'x', idempotency_key: 'visitor-key-1' }), 'idempotency_key');

  // Keys are per conversation.
  const v2 = await connectVisitor(fx.srv, F.site, { label: 'visitor 2' });
  const cid2 = await startConversation(v2);
  conforms(await post(T.write, cid2, { body: text }, { 'Idempotency-Key': 'crm-1' }), 'POST', MSG, 201);
  F.cid = cid;
  F.v = v;
});

test('POST messages: 400 naming the field, 415, 404, 403', async () => {
  const cid = F.cid;
  badField(await post(T.write, cid, {}), 'body');
  badField(await post(T.write, cid, { body: '' }), 'body');
  badField(await post(T.write, cid, { body: 42 }), 'body');
  badField(await post(T.write, cid, { body: 'x'.repeat(4001) }), 'body');
  badField(await post(T.write, cid, { body: 'bell \u0007' }), 'body');
  badField(await post(T.write, cid, { body: 'x', extra: 1 }), 'extra');
  badField(await post(T.write, cid, { body: 'x', idempotency_key: '' }), 'idempotency_key');
  badField(await post(T.write, cid, { body: 'x', idempotency_key: 'k'.repeat(65) }), 'idempotency_key');
  badField(await post(T.write, cid, { body: 'x', idempotency_key: 'with space' }), 'idempotency_key');
  badField(await post(T.write, cid, { body: 'x', idempotency_key: 'clé' }), 'idempotency_key');
  badField(await post(T.write, cid, { body: 'x' }, { 'Idempotency-Key': 'k'.repeat(65) }), 'idempotency_key');
  badField(await post(T.write, cid, { body: 'x' }, { 'Idempotency-Key': 'a b' }), 'idempotency_key');
  const ok = conforms(await post(T.write, cid, { body: 'multi\nline\ttext', idempotency_key: 'k'.repeat(64) }), 'POST', MSG, 201);
  assert.equal(ok.message.body, 'multi\nline\ttext');

  const raw = (body, type) =>
    request(fx.srv, {
      method: 'POST',
      path: `/api/v1/conversations/${cid}/messages`,
      body,
      headers: { Authorization: `Bearer ${T.write.token}`, ...(type ? { 'Content-Type': type } : {}) },
    });
  assertProblem(await raw('{"body":"x"}', 'text/plain'), 415, 'unsupported_media_type');
  assertProblem(await raw('{"body":"x"}'), 415, 'unsupported_media_type');
  assertProblem(await raw('{"body":', 'application/json'), 400, 'invalid_request');
  assertProblem(await raw('["x"]', 'application/json'), 400, 'invalid_request');
  assertProblem(await raw('{"body":"x","body":"y"}', 'application/json'), 400, 'invalid_request');

  assertProblem(await post(T.write, 999999999, { body: 'x' }), 404, 'not_found');
  assertProblem(await post(T.write, 'abc', { body: 'x' }), 404, 'not_found');
  assertProblem(await post(T.read, cid, { body: 'x' }), 403, 'insufficient_scope');
});

test('POST messages: an empty Idempotency-Key header -> 400 naming idempotency_key, not 503', async () => {
  // Once a bug: an empty header key got through (strspn("") == strlen(""));
  // the INSERT then violated the char_length(client_msg_id) BETWEEN 1 AND 64
  // check and the answer was 503 "retry with the same key" - a retry that
  // could never succeed.
  const res = await post(T.write, F.cid, { body: 'empty key' }, { 'Idempotency-Key': '' });
  badField(res, 'idempotency_key');
});

test('assign: to a connected agent, then to a team (queued again); 409, 404 and 400 cases', async () => {
  const v = await connectVisitor(fx.srv, F.site, { label: 'visitor assign' });
  const cid = await startConversation(v);
  const bob = await connectAgent(fx.srv, F.bob, { status: 'away' });
  const p = `/api/v1/conversations/${cid}/assign`;
  const assign = (json, tok = T.write) => api(fx.srv, tok, 'POST', p, { json });

  // Carl has no live connection: 409. Unknown agent or team: 404.
  assertProblem(await assign({ agent_id: F.carl.id }), 409, 'conflict');
  assertProblem(await assign({ agent_id: 999999 }), 404, 'not_found');
  assertProblem(await assign({ team_id: 999999 }), 404, 'not_found');

  // To Bob, who is connected (away, so no automatic routing interferes).
  const toBob = conforms(await assign({ agent_id: F.bob.id, reason: 'VIP customer' }), 'POST', '/api/v1/conversations/{id}/assign', 200).conversation;
  assert.equal(toBob.status, 'assigned');
  assert.deepEqual(toBob.assignee, { id: F.bob.id, name: 'Bob Write' });
  assert.ok(toBob.assigned_at);
  let row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'assigned');
  assert.equal(row.assignee_id, F.bob.id);
  await bob.next(convUpdated(cid, 'transferred'), 5000, 'Bob hears of the assignment');
  await v.next(convUpdated(cid, 'transferred'), 5000, 'the visitor hears of the assignment');
  assertProblem(await assign({ agent_id: F.bob.id }), 409, 'conflict');

  // To a team: back in a queue, no assignee.
  const toTeam = conforms(await assign({ team_id: F.queueTeam, reason: 'billing' }), 'POST', '/api/v1/conversations/{id}/assign', 200).conversation;
  assert.equal(toTeam.status, 'queued');
  assert.equal(toTeam.team_id, F.queueTeam);
  assert.equal(toTeam.team, 'Second line');
  assert.equal(toTeam.assignee, undefined);
  assert.ok(toTeam.queued_at);
  row = await conversationRow(fx.pg, cid);
  assert.equal(row.status, 'queued');
  assert.equal(row.team_id, F.queueTeam);
  assert.equal(row.assignee_id, null);
  await bob.next(convUpdated(cid, 'transferred'), 5000, 'Bob hears it left him');
  // The note is posted before the transfer is announced, in one transaction
  // (chat/convo.c), and a conversation's events reach a socket in order: a
  // note sent to the visitor would have arrived before this.
  await v.next(convUpdated(cid, 'transferred'), 5000, 'the visitor hears of the transfer to the team');

  // The transfer notes are internal and authored by the token.
  const msgs = assertJson(await api(fx.srv, T.admin, 'GET', `/api/v1/conversations/${cid}/messages`, { query: { include_notes: 'true' } }), 200).data;
  const notes = msgs.filter((m) => m.kind === 'note');
  assert.deepEqual(
    notes.map((n) => n.body),
    ['Transferred to Bob Write: VIP customer', 'Transferred to team Second line: billing'],
  );
  for (const n of notes) assert.deepEqual(n.author, { kind: 'api', id: T.write.id, name: 'CRM writer' });
  assert.ok(msgs.some((m) => m.kind === 'event' && m.meta && m.meta.event === 'transferred' && m.meta.team_id === F.queueTeam));
  assert.equal(v.seen((x) => x.type === 'message.created' && x.message.kind === 'note').length, 0, 'the visitor never gets notes');

  // 400s: exactly one target, typed fields, known fields only.
  badField(await assign({}), 'agent_id');
  badField(await assign({ agent_id: F.bob.id, team_id: F.team }), 'agent_id');
  badField(await assign({ agent_id: '2' }), 'agent_id');
  badField(await assign({ agent_id: 0 }), 'agent_id');
  badField(await assign({ team_id: -1 }), 'team_id');
  badField(await assign({ team_id: F.team, reason: 'r'.repeat(501) }), 'reason');
  badField(await assign({ team_id: F.team, priority: 1 }), 'priority');
  assertProblem(await request(fx.srv, { method: 'POST', path: p, headers: { Authorization: `Bearer ${T.write.token}` } }), 415, 'unsupported_media_type');
  assertProblem(await api(fx.srv, T.write, 'POST', '/api/v1/conversations/999999999/assign', { json: { team_id: F.team } }), 404, 'not_found');
  assertProblem(await assign({ team_id: F.team }, T.read), 403, 'insufficient_scope');
  F.assignCid = cid;
  F.assignV = v;
  await bob.close();
});

test('close, then reopen (queued again); 409 on repeats, messages and assignment refused while closed', async () => {
  const cid = F.assignCid;
  const v = F.assignV;
  const close = () => api(fx.srv, T.write, 'POST', `/api/v1/conversations/${cid}/close`);
  const reopen = () => api(fx.srv, T.write, 'POST', `/api/v1/conversations/${cid}/reopen`);

  assertProblem(await reopen(), 409, 'conflict');
  const before = conforms(await post(T.write, cid, { body: 'just before closing' }, { 'Idempotency-Key': 'pre-close' }), 'POST', MSG, 201);
  const closed = conforms(await close(), 'POST', '/api/v1/conversations/{id}/close', 200).conversation;
  assert.equal(closed.status, 'closed');
  assert.ok(closed.closed_at);
  const row = (await fx.pg.query('SELECT status, closed_by_kind, closed_at FROM conversations WHERE id = $1', [cid])).rows[0];
  assert.equal(row.status, 'closed');
  assert.equal(row.closed_by_kind, 'api');
  await v.next(convUpdated(cid, 'closed'), 5000, 'the visitor hears of the close');
  const ev = await v.next(
    msgCreated(cid, (m) => m.kind === 'event' && m.body === 'Conversation closed'),
    5000,
    'the close event line',
  );
  assert.ok(ev);

  assertProblem(await close(), 409, 'conflict');
  assertProblem(await post(T.write, cid, { body: 'too late' }), 409, 'conflict');
  assertProblem(await post(T.write, cid, { body: 'too late' }, { 'Idempotency-Key': 'late-1' }), 409, 'conflict');
  assertProblem(await api(fx.srv, T.write, 'POST', `/api/v1/conversations/${cid}/assign`, { json: { team_id: F.team } }), 409, 'conflict');
  // A retry of a message stored before the close is still answered as the duplicate it is.
  const dup = conforms(await post(T.write, cid, { body: 'just before closing' }, { 'Idempotency-Key': 'pre-close' }), 'POST', MSG, 200);
  assert.equal(dup.duplicate, true);
  assert.equal(dup.message.id, before.message.id);

  const reopened = conforms(await reopen(), 'POST', '/api/v1/conversations/{id}/reopen', 200).conversation;
  assert.equal(reopened.status, 'queued');
  assert.equal(reopened.closed_at, undefined);
  assert.equal(reopened.assignee, undefined);
  assert.ok(reopened.queued_at);
  const r2 = await conversationRow(fx.pg, cid);
  assert.equal(r2.status, 'queued');
  assert.equal(r2.assignee_id, null);
  await v.next(convUpdated(cid, 'reopened'), 5000, 'the visitor hears of the reopening');
  assertProblem(await reopen(), 409, 'conflict');
  conforms(await post(T.write, cid, { body: 'welcome back' }), 'POST', MSG, 201);
  const events = assertJson(
    await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${cid}/messages`, { query: { direction: 'backward', limit: 2 } }),
    200,
  ).data;
  assert.deepEqual(
    events.map((m) => m.body),
    ['welcome back', 'Conversation reopened'],
  );

  for (const op of ['close', 'reopen']) {
    assertProblem(await api(fx.srv, T.write, 'POST', `/api/v1/conversations/999999999/${op}`), 404, 'not_found');
    assertProblem(await api(fx.srv, T.read, 'POST', `/api/v1/conversations/${cid}/${op}`), 403, 'insufficient_scope');
  }
});

test('rate limit: with PARLEY_API_RATE_PER_MINUTE=5 the 6th request of a token in a minute gets 429 with Retry-After', async () => {
  const srvLimited = await fx.startNode({ env: { PARLEY_API_RATE_PER_MINUTE: '5' } });
  // Fresh tokens: the window is per token and starts at the token's first
  // counted request (core/ratelimit.c), not at a wall-clock minute, so the
  // requests below fall in one window whatever the time is.
  const tok = await addToken(fx.pg, { scopes: ['conversations:read'] });
  const other = await addToken(fx.pg, { scopes: ['conversations:read'] });

  // Answers refused before the token is known do not count.
  for (let i = 0; i < 3; i++) assertProblem(await request(srvLimited, { path: '/api/v1/agents' }), 401, 'unauthenticated');
  for (let i = 1; i <= 5; i++) {
    const res = await api(srvLimited, tok, 'GET', '/api/v1/agents');
    assert.equal(res.status, 200, `request ${i}: ${res.status} ${res.body.slice(0, 200)}`);
  }
  const limited = await api(srvLimited, tok, 'GET', '/api/v1/agents');
  const p = assertProblem(limited, 429, 'rate_limited');
  assert.deepEqual(checkSchema(spec, spec.components.schemas.Problem, p), []);
  const retry = limited.headers['retry-after'];
  assert.match(String(retry), /^\d+$/, `Retry-After: ${retry}`);
  assert.ok(Number(retry) >= 1 && Number(retry) <= 60, `Retry-After ${retry} in 1..60`);
  assertProblem(await api(srvLimited, tok, 'GET', `/api/v1/conversations/${F.cid}`), 429, 'rate_limited');

  // Per token, per node.
  assert.equal((await api(srvLimited, other, 'GET', '/api/v1/agents')).status, 200, 'another token is not limited');
  assert.equal((await api(fx.srv, tok, 'GET', '/api/v1/agents')).status, 200, 'another node counts separately');
});
