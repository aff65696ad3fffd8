'use strict';
// REST API v1, reading: the conversation list with each filter and its
// keyset pagination, one conversation, messages paged by seq both ways,
// visitors, agents, teams and sites, notes only for admin tokens, the
// transcript in json, txt and html (every message in order, every visitor
// string escaped, a strict CSP), 404s and 400s that name the parameter.
// Every JSON answer is checked against its schema in docs/openapi.yaml.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { mediaType } = require('../helpers/http');
const { assertProblem, assertJson } = require('../helpers/assert');
const {
  createTeam,
  createAgent,
  createSite,
  visitorToken,
  connectVisitor,
  connectAgent,
  startConversation,
  sendMessage,
  convUpdated,
  msgCreated,
} = require('../helpers/fixtures');
const { addToken, api, loadSpec, checkSchema, responseSchema, escapeHtml } = require('../helpers/api');

let spec;
const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;

const T = {}; // tokens
const F = {}; // fixture ids

/** Assert a JSON answer conforms to the documented schema; returns the body. */
function conforms(res, method, pattern, status = 200) {
  const body = assertJson(res, status);
  const schema = responseSchema(spec, method, pattern, status, 'application/json');
  assert.ok(schema, `docs/openapi.yaml has no application/json schema for ${method} ${pattern} ${status}`);
  const errors = checkSchema(spec, schema, body);
  assert.deepEqual(errors, [], `${method} ${pattern} answer does not match docs/openapi.yaml`);
  return body;
}

/** 400 invalid_request whose errors[0].field is `field`. */
function badField(res, field) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.ok(Array.isArray(p.errors) && p.errors.length >= 1, `errors[] in ${JSON.stringify(p)}`);
  assert.equal(p.errors[0].field, field, `errors[0].field in ${JSON.stringify(p)}`);
  assert.equal(typeof p.errors[0].message, 'string');
  assert.deepEqual(checkSchema(spec, spec.components.schemas.Problem, p), []);
  return p;
}

async function insertConv({ site, visitor, team, status, assignee = null, created, closed = null }) {
  const r = await fx.pg.query(
    `INSERT INTO conversations (site_id, visitor_id, team_id, status, assignee_id, created_at, queued_at, assigned_at, closed_at, closed_by_kind)
     VALUES ($1, $2, $3, $4, $5, $6::timestamptz,
             CASE WHEN $4 = 'queued' THEN $6::timestamptz END,
             CASE WHEN $5::bigint IS NOT NULL THEN $6::timestamptz END,
             $7::timestamptz, CASE WHEN $7::timestamptz IS NOT NULL THEN 'agent' END) RETURNING id`,
    [site, visitor, team, status, assignee, created, closed],
  );
  return Number(r.rows[0].id);
}

async function insertMsgs(conv, msgs) {
  let seq = 0;
  for (const m of msgs) {
    seq += 1;
    await fx.pg.query('INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, meta) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      conv,
      seq,
      m.ak,
      m.ai ?? null,
      m.kind || 'message',
      m.body,
      m.meta || {},
    ]);
  }
  await fx.pg.query('UPDATE conversations SET last_seq = $2 WHERE id = $1', [conv, seq]);
}

fx.setup(async () => {
  spec = loadSpec();

  T.read = await addToken(fx.pg, { scopes: ['conversations:read'] });
  T.transcripts = await addToken(fx.pg, { scopes: ['transcripts:read'] });
  T.admin = await addToken(fx.pg, { scopes: ['admin'] });

  F.teamA = await createTeam(fx.pg, 'Alpha team');
  F.teamB = await createTeam(fx.pg, 'Beta team');
  F.ann = await createAgent(fx.pg, { name: 'Ann Read', teams: [F.teamA] });
  F.bob = await createAgent(fx.pg, { name: 'Bob Read', teams: [F.teamB] });
  // Agents that "were just here": the grace sweep leaves their chats alone.
  await fx.pg.query("UPDATE agents SET last_connected_at = now() + interval '1 day' WHERE id = ANY($1)", [[F.ann.id, F.bob.id]]);
  F.secret = `idsecret-${process.pid}-never-shown`;
  F.siteA = await createSite(fx.pg, { teamId: F.teamA, identitySecret: F.secret });
  F.siteB = await createSite(fx.pg, { teamId: F.teamB });
  const vis = async (site, name) => Number((await fx.pg.query('INSERT INTO visitors (site_id, name) VALUES ($1, $2) RETURNING id', [site, name])).rows[0].id);
  F.vA = await vis(F.siteA.id, 'Alma');
  F.vB = await vis(F.siteB.id, 'Bert');

  const { siteA, siteB, teamA, teamB, vA, vB } = { ...F, siteA: F.siteA.id, siteB: F.siteB.id };
  F.c1 = await insertConv({ site: siteA, visitor: vA, team: teamA, status: 'queued', created: '2026-01-01T10:00:00Z' });
  F.c2 = await insertConv({ site: siteA, visitor: vA, team: teamA, status: 'assigned', assignee: F.ann.id, created: '2026-01-02T10:00:00Z' });
  F.c3 = await insertConv({
    site: siteB,
    visitor: vB,
    team: teamB,
    status: 'closed',
    assignee: F.bob.id,
    created: '2026-01-03T10:00:00Z',
    closed: '2026-01-05T00:00:00Z',
  });
  F.c4 = await insertConv({ site: siteB, visitor: vB, team: teamB, status: 'closed', created: '2026-01-04T10:00:00Z', closed: '2026-01-06T00:00:00Z' });
  F.c5 = await insertConv({ site: siteA, visitor: vA, team: teamB, status: 'queued', created: '2026-01-05T10:00:00Z' });
  F.c6 = await insertConv({ site: siteB, visitor: vB, team: teamA, status: 'assigned', assignee: F.ann.id, created: '2026-01-06T10:00:00Z' });

  await insertMsgs(F.c1, [
    { ak: 'visitor', ai: vA, body: 'The pineapple arrived broken' },
    { ak: 'agent', ai: F.ann.id, body: 'Sorry to hear that' },
  ]);
  await insertMsgs(F.c2, [
    { ak: 'visitor', ai: vA, body: 'hello there' },
    { ak: 'agent', ai: F.ann.id, kind: 'note', body: 'pineapple secret, internal only' },
  ]);
  await insertMsgs(F.c3, [
    { ak: 'visitor', ai: vB, body: 'a zebra crossing question' },
    { ak: 'system', kind: 'event', body: 'Conversation closed by the agent', meta: { event: 'closed', by: 'agent' } },
  ]);
  await insertMsgs(F.c4, [{ ak: 'visitor', ai: vB, body: 'nothing special' }]);
  await insertMsgs(F.c6, [
    { ak: 'visitor', ai: vB, body: 'm1' },
    { ak: 'agent', ai: F.ann.id, body: 'm2' },
    { ak: 'visitor', ai: vB, body: 'm3' },
    { ak: 'agent', ai: F.ann.id, kind: 'note', body: 'm4 note' },
    { ak: 'agent', ai: F.ann.id, body: 'm5' },
    { ak: 'visitor', ai: vB, body: 'm6' },
    { ak: 'agent', ai: F.ann.id, body: 'm7' },
  ]);
});

async function listIds(query, tok = T.read) {
  const res = await api(fx.srv, tok, 'GET', '/api/v1/conversations', { query });
  const body = conforms(res, 'GET', '/api/v1/conversations');
  return body.data.map((c) => c.id);
}

// ---- the conversation list -------------------------------------------------

test('GET /api/v1/conversations: each filter alone and combined', async () => {
  const { c1, c2, c3, c4, c5, c6 } = F;
  assert.deepEqual(await listIds({}), [c6, c5, c4, c3, c2, c1], 'everything, newest first');
  assert.deepEqual(await listIds({ status: 'queued' }), [c5, c1]);
  assert.deepEqual(await listIds({ status: 'assigned' }), [c6, c2]);
  assert.deepEqual(await listIds({ status: 'closed' }), [c4, c3]);
  assert.deepEqual(await listIds({ site_id: F.siteA.id }), [c5, c2, c1]);
  assert.deepEqual(await listIds({ site_id: F.siteB.id }), [c6, c4, c3]);
  assert.deepEqual(await listIds({ team_id: F.teamA }), [c6, c2, c1]);
  assert.deepEqual(await listIds({ team_id: F.teamB }), [c5, c4, c3]);
  assert.deepEqual(await listIds({ assignee_id: F.ann.id }), [c6, c2]);
  assert.deepEqual(await listIds({ assignee_id: F.bob.id }), [c3], 'a closed conversation keeps its last assignee');
  assert.deepEqual(await listIds({ visitor_id: F.vA }), [c5, c2, c1]);
  assert.deepEqual(await listIds({ visitor_id: F.vB }), [c6, c4, c3]);
  assert.deepEqual(await listIds({ site_id: 999999 }), []);

  // created_after and created_before are both exclusive.
  assert.deepEqual(await listIds({ created_after: '2026-01-03T09:59:59.999999Z' }), [c6, c5, c4, c3]);
  assert.deepEqual(await listIds({ created_after: '2026-01-03T10:00:00Z' }), [c6, c5, c4]);
  assert.deepEqual(await listIds({ created_before: '2026-01-03T10:00:00Z' }), [c2, c1]);
  assert.deepEqual(await listIds({ created_after: '2026-01-02T00:00:00Z', created_before: '2026-01-05T00:00:00Z' }), [c4, c3, c2]);
  assert.deepEqual(await listIds({ created_after: '2026-01-02T10:59:59+01:00', created_before: '2026-01-04 10:00' }), [c3, c2], 'offsets and a space for T');
  assert.deepEqual(await listIds({ created_before: '2026-01-03' }), [c2, c1], 'a date alone');

  // closed_after and closed_before are both exclusive; open ones never match.
  assert.deepEqual(await listIds({ closed_after: '2026-01-04T23:59:59.999999Z' }), [c4, c3]);
  assert.deepEqual(await listIds({ closed_after: '2026-01-05T00:00:00Z' }), [c4]);
  assert.deepEqual(await listIds({ closed_before: '2026-01-06T00:00:00Z' }), [c3]);
  assert.deepEqual(await listIds({ closed_before: '2026-01-06T01:00:00+01:00' }), [c3]);
  assert.deepEqual(await listIds({ closed_after: '2000-01-01', closed_before: '2100-01-01' }), [c4, c3]);

  // q: full text over message bodies and event lines, never notes.
  assert.deepEqual(await listIds({ q: 'pineapple' }), [c1], 'a word in a message matches; the same word in a note does not');
  assert.deepEqual(await listIds({ q: 'PineApple' }), [c1], 'case-insensitive');
  assert.deepEqual(await listIds({ q: 'secret' }), [], 'words only in notes never match');
  assert.deepEqual(await listIds({ q: 'zebra' }), [c3]);
  assert.deepEqual(await listIds({ q: '"crossing question"' }), [c3], 'a phrase');
  assert.deepEqual(await listIds({ q: 'pineapple -broken' }), [], 'websearch syntax: -word');
  assert.deepEqual(await listIds({ q: 'zebra or pineapple' }), [c3, c1], 'websearch syntax: or');
  assert.deepEqual(await listIds({ q: 'closed' }), [c3], 'event lines are searched');
  assert.deepEqual(await listIds({ q: 'm5' }), [c6]);
  assert.deepEqual(await listIds({ q: 'nosuchwordanywhere' }), []);

  // Combined: AND.
  assert.deepEqual(await listIds({ status: 'closed', site_id: F.siteB.id, assignee_id: F.bob.id }), [c3]);
  assert.deepEqual(await listIds({ status: 'queued', team_id: F.teamB, visitor_id: F.vA }), [c5]);
  assert.deepEqual(await listIds({ q: 'pineapple', status: 'closed' }), []);
  assert.deepEqual(await listIds({ status: '' }), [c6, c5, c4, c3, c2, c1], 'an empty text value counts as absent');
});

test('GET /api/v1/conversations: the shape of a conversation', async () => {
  const body = conforms(
    await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { status: 'closed', assignee_id: F.bob.id } }),
    'GET',
    '/api/v1/conversations',
  );
  const c = body.data[0];
  assert.equal(c.id, F.c3);
  assert.equal(c.status, 'closed');
  assert.equal(c.site_id, F.siteB.id);
  assert.equal(c.team_id, F.teamB);
  assert.equal(c.team, 'Beta team');
  assert.deepEqual(c.assignee, { id: F.bob.id, name: 'Bob Read' });
  assert.equal(c.visitor.id, F.vB);
  assert.equal(c.visitor.name, 'Bert');
  assert.equal(c.created_at, '2026-01-03T10:00:00.000000Z');
  assert.equal(c.closed_at, '2026-01-05T00:00:00.000000Z');
  assert.equal(c.last_seq, 2);
  assert.equal(body.next, null);
});

test('GET /api/v1/conversations: pagination with cursor/next walks everything once, at every page size', async () => {
  // More conversations, so that pages have something to cut.
  for (let i = 0; i < 14; i++) {
    await insertConv({ site: F.siteA.id, visitor: F.vA, team: F.teamA, status: 'queued', created: `2026-02-01T00:00:${String(i).padStart(2, '0')}Z` });
  }
  const expected = (await fx.pg.query('SELECT id FROM conversations ORDER BY id DESC')).rows.map((r) => Number(r.id));
  assert.ok(expected.length >= 20);

  for (const limit of [1, 2, 7, expected.length - 1, expected.length]) {
    const seen = [];
    let cursor;
    for (let page = 0; ; page++) {
      assert.ok(page <= expected.length, `limit=${limit}: next never became null`);
      const body = conforms(await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { limit, cursor } }), 'GET', '/api/v1/conversations');
      assert.ok(body.data.length <= limit, `limit=${limit}: page of ${body.data.length}`);
      seen.push(...body.data.map((c) => c.id));
      if (body.next === null) break;
      assert.equal(body.data.length, limit, `limit=${limit}: only a full page has a next`);
      assert.equal(body.next, String(body.data[body.data.length - 1].id), 'next is the last id of the page');
      cursor = body.next;
    }
    assert.deepEqual(seen, expected, `limit=${limit}: every conversation exactly once, newest first`);
  }

  // The default page is 50; 100 is allowed; 0 and 101 are not.
  const all = conforms(await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { limit: 100 } }), 'GET', '/api/v1/conversations');
  assert.deepEqual(
    all.data.map((c) => c.id),
    expected,
  );
  assert.equal(all.next, null);
  badField(await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { limit: 101 } }), 'limit');
  badField(await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { limit: 0 } }), 'limit');

  // A filter and a cursor together: the cursor applies within the filter.
  const q1 = conforms(await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { site_id: F.siteB.id, limit: 1 } }), 'GET', '/api/v1/conversations');
  assert.deepEqual(
    q1.data.map((c) => c.id),
    [F.c6],
  );
  const q2 = conforms(
    await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { site_id: F.siteB.id, limit: 1, cursor: q1.next } }),
    'GET',
    '/api/v1/conversations',
  );
  assert.deepEqual(
    q2.data.map((c) => c.id),
    [F.c4],
  );
  const q3 = conforms(
    await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { site_id: F.siteB.id, limit: 2, cursor: q2.next } }),
    'GET',
    '/api/v1/conversations',
  );
  assert.deepEqual(
    q3.data.map((c) => c.id),
    [F.c3],
  );
  assert.equal(q3.next, null);
});

test('GET /api/v1/conversations: malformed parameters -> 400 naming the parameter', async () => {
  const cases = [
    ['status', 'open'],
    ['status', 'QUEUED'],
    ['site_id', '0'],
    ['site_id', 'x'],
    ['team_id', '-1'],
    ['assignee_id', '1.5'],
    ['visitor_id', '1e3'],
    ['cursor', '0'],
    ['cursor', ''],
    ['limit', 'abc'],
    ['limit', ''],
    ['limit', '101'],
    ['created_after', 'yesterday'],
    ['created_before', '2026-1-1'],
    ['closed_after', '2026-11-30T12'],
    ['closed_before', '2026-11-30T12:00:00+0200'],
    ['closed_before', '2026-11-30T12:00:00 02:00'],
    ['created_after', '1700000000'],
    ['q', '\u0001'],
    ['q', 'x'.repeat(256)],
  ];
  for (const [field, value] of cases) {
    const res = await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { [field]: value } });
    assert.equal(res.status, 400, `${field}=${JSON.stringify(value).slice(0, 40)}: ${res.status} ${res.body.slice(0, 200)}`);
    badField(res, field);
  }
});

test('time parameters out of range (month 13, 30 February) -> 400 naming the parameter, not 503', async () => {
  // Once a bug: the time check looked at the shape only; PostgreSQL then
  // refused the value and the handler answered 503 "the database is not reachable".
  const cases = [
    ['/api/v1/conversations', 'created_after', '2026-13-45'],
    ['/api/v1/conversations', 'closed_before', '2026-02-30T10:00:00Z'],
    ['/api/v1/conversations', 'created_before', '2026-11-30T25:61:00Z'],
    ['/api/v1/transcripts', 'closed_after', '2026-13-45'],
  ];
  const failures = [];
  for (const [p, field, value] of cases) {
    const res = await api(fx.srv, T.admin, 'GET', p, { query: { [field]: value } });
    const f = res.json && res.json.errors && res.json.errors[0] && res.json.errors[0].field;
    if (res.status !== 400 || f !== field) failures.push(`${p}?${field}=${value}: ${res.status} ${res.body.slice(0, 160)}`);
  }
  assert.deepEqual(failures, [], 'each should be 400 invalid_request with errors[0].field naming the parameter');
});

test('over-long query parameter values (1 KiB and more) -> 400 "is too long", not silently ignored', async () => {
  // Once a bug: mg_get_var()'s -2 (value longer than its 1024-byte buffer)
  // was taken for an absent parameter and the filter was dropped.
  const failures = [];
  for (const [field, value] of [
    ['q', 'pineapple '.repeat(120)],
    ['limit', '1'.repeat(1100)],
    ['status', 'closed'.repeat(200)],
  ]) {
    const res = await api(fx.srv, T.read, 'GET', '/api/v1/conversations', { query: { [field]: value } });
    const f = res.json && res.json.errors && res.json.errors[0] && res.json.errors[0].field;
    if (res.status !== 400 || f !== field) failures.push(`${field} (${value.length} chars): ${res.status} ${res.body.slice(0, 100)}`);
  }
  assert.deepEqual(failures, [], 'each should be 400 invalid_request naming the parameter');
});

test('integers beyond 64 bits -> 400 naming the parameter, not clamped to the largest id', async () => {
  // Once a bug: strtoll()'s ERANGE was ignored, so 99999999999999999999
  // became 9223372036854775807 and passed the range check.
  const failures = [];
  for (const [p, field] of [
    ['/api/v1/conversations', 'visitor_id'],
    ['/api/v1/conversations', 'cursor'],
    [`/api/v1/conversations/${F.c6}/messages`, 'from_seq'],
  ]) {
    const res = await api(fx.srv, T.read, 'GET', p, { query: { [field]: '99999999999999999999' } });
    const f = res.json && res.json.errors && res.json.errors[0] && res.json.errors[0].field;
    if (res.status !== 400 || f !== field) failures.push(`${p}?${field}=99999999999999999999: ${res.status} ${res.body.slice(0, 80)}`);
  }
  assert.deepEqual(failures, [], 'each should be 400 invalid_request naming the parameter');
});

// ---- one conversation, messages --------------------------------------------

test('GET /api/v1/conversations/{id}: found, and 404 for a missing or malformed id', async () => {
  const c = conforms(await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${F.c2}`), 'GET', '/api/v1/conversations/{id}');
  assert.equal(c.id, F.c2);
  assert.equal(c.status, 'assigned');
  assert.deepEqual(c.assignee, { id: F.ann.id, name: 'Ann Read' });
  for (const id of ['999999999', '0', '-3', 'abc', '1e3', '12345678901234567890']) {
    assertProblem(await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${id}`), 404, 'not_found');
  }
});

async function walkMessages(conv, { direction, limit, notes, tok = T.read, from }) {
  const seen = [];
  let fromSeq = from;
  for (let page = 0; page < 50; page++) {
    const res = await api(fx.srv, tok, 'GET', `/api/v1/conversations/${conv}/messages`, {
      query: { direction, limit, from_seq: fromSeq, include_notes: notes ? 'true' : undefined },
    });
    const body = conforms(res, 'GET', '/api/v1/conversations/{id}/messages');
    assert.ok(body.data.length <= limit);
    seen.push(...body.data.map((m) => m.seq));
    if (body.next === null) return seen;
    assert.equal(body.data.length, limit, 'only a full page has a next');
    assert.equal(body.next, String(body.data[body.data.length - 1].seq), 'next is the last seq of the page');
    fromSeq = body.next;
  }
  throw new Error('next never became null');
}

test('GET /api/v1/conversations/{id}/messages: forward and backward pages by seq; notes only for admin', async () => {
  const c6 = F.c6;
  const def = conforms(await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${c6}/messages`), 'GET', '/api/v1/conversations/{id}/messages');
  assert.deepEqual(
    def.data.map((m) => m.seq),
    [1, 2, 3, 5, 6, 7],
    'forward by default; the note (seq 4) left out',
  );
  assert.deepEqual(
    def.data.map((m) => m.body),
    ['m1', 'm2', 'm3', 'm5', 'm6', 'm7'],
  );
  assert.equal(def.next, null);
  const m1 = def.data[0];
  assert.deepEqual(m1.author, { kind: 'visitor', id: F.vB, name: 'Bert' });
  assert.equal(m1.kind, 'message');
  assert.equal(m1.conversation_id, c6);
  assert.deepEqual(def.data[1].author, { kind: 'agent', id: F.ann.id, name: 'Ann Read' });

  for (const limit of [1, 2, 5, 6, 100]) {
    assert.deepEqual(await walkMessages(c6, { direction: 'forward', limit }), [1, 2, 3, 5, 6, 7], `forward limit=${limit}`);
    assert.deepEqual(await walkMessages(c6, { direction: 'backward', limit }), [7, 6, 5, 3, 2, 1], `backward limit=${limit}`);
    assert.deepEqual(
      await walkMessages(c6, { direction: 'forward', limit, notes: true, tok: T.admin }),
      [1, 2, 3, 4, 5, 6, 7],
      `forward limit=${limit} with notes`,
    );
    assert.deepEqual(
      await walkMessages(c6, { direction: 'backward', limit, notes: true, tok: T.admin }),
      [7, 6, 5, 4, 3, 2, 1],
      `backward limit=${limit} with notes`,
    );
  }
  assert.deepEqual(await walkMessages(c6, { direction: 'forward', limit: 2, from: 3 }), [5, 6, 7], 'forward from_seq=3: seq > 3');
  assert.deepEqual(await walkMessages(c6, { direction: 'backward', limit: 2, from: 5 }), [3, 2, 1], 'backward from_seq=5: seq < 5');
  assert.deepEqual(await walkMessages(c6, { direction: 'forward', limit: 2, from: 7 }), [], 'past the end');
  assert.deepEqual(await walkMessages(c6, { direction: 'backward', limit: 2, from: 1 }), [], 'before the start');
  assert.deepEqual(await walkMessages(c6, { direction: 'forward', limit: 3, from: 0 }), [1, 2, 3, 5, 6, 7], 'from_seq=0');

  const withNotes = conforms(
    await api(fx.srv, T.admin, 'GET', `/api/v1/conversations/${c6}/messages`, { query: { include_notes: 'true' } }),
    'GET',
    '/api/v1/conversations/{id}/messages',
  );
  const note = withNotes.data.find((m) => m.seq === 4);
  assert.equal(note.kind, 'note');
  assert.equal(note.body, 'm4 note');
  // include_notes=true needs admin; false is fine for anyone.
  const denied = assertProblem(
    await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${c6}/messages`, { query: { include_notes: 'true' } }),
    403,
    'insufficient_scope',
  );
  assert.match(denied.detail, /admin/);
  conforms(
    await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${c6}/messages`, { query: { include_notes: 'false' } }),
    'GET',
    '/api/v1/conversations/{id}/messages',
  );

  // Event lines carry meta.
  const ev = conforms(await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${F.c3}/messages`), 'GET', '/api/v1/conversations/{id}/messages');
  assert.deepEqual(ev.data[1].meta, { event: 'closed', by: 'agent' });
  assert.deepEqual(ev.data[1].author, { kind: 'system' });

  // An empty conversation.
  const empty = conforms(await api(fx.srv, T.read, 'GET', `/api/v1/conversations/${F.c5}/messages`), 'GET', '/api/v1/conversations/{id}/messages');
  assert.deepEqual(empty, { data: [], next: null });
});

test('GET /api/v1/conversations/{id}/messages: 404 and 400s', async () => {
  assertProblem(await api(fx.srv, T.read, 'GET', '/api/v1/conversations/999999999/messages'), 404, 'not_found');
  assertProblem(await api(fx.srv, T.read, 'GET', '/api/v1/conversations/x/messages'), 404, 'not_found');
  const p = `/api/v1/conversations/${F.c6}/messages`;
  for (const [field, value] of [
    ['limit', '0'],
    ['limit', '101'],
    ['limit', 'ten'],
    ['from_seq', '-1'],
    ['from_seq', 'first'],
    ['direction', 'sideways'],
    ['direction', 'Forward'],
    ['direction', 'x'.repeat(40)],
    ['include_notes', 'yes'],
    ['include_notes', '1'],
    ['include_notes', ''],
  ]) {
    badField(await api(fx.srv, T.admin, 'GET', p, { query: { [field]: value } }), field);
  }
  conforms(await api(fx.srv, T.read, 'GET', p, { query: { limit: 100 } }), 'GET', '/api/v1/conversations/{id}/messages');
});

// ---- visitors, agents, teams, sites -----------------------------------------

test('GET /api/v1/visitors/{id}: the visitor and their conversations, newest first; 404s', async () => {
  const v = conforms(await api(fx.srv, T.read, 'GET', `/api/v1/visitors/${F.vA}`), 'GET', '/api/v1/visitors/{id}');
  assert.equal(v.id, F.vA);
  assert.equal(v.site_id, F.siteA.id);
  assert.equal(v.name, 'Alma');
  assert.equal(v.email, null);
  assert.equal(v.verified, false);
  const expected = (await fx.pg.query('SELECT id FROM conversations WHERE visitor_id = $1 ORDER BY id DESC', [F.vA])).rows.map((r) => Number(r.id));
  assert.deepEqual(v.conversation_ids, expected);
  assert.ok(expected.includes(F.c1) && expected.includes(F.c5));
  for (const id of ['999999999', '0', 'abc']) {
    const p = assertProblem(await api(fx.srv, T.read, 'GET', `/api/v1/visitors/${id}`), 404, 'not_found');
    assert.equal(p.detail, 'no such visitor', `detail for /api/v1/visitors/${id}`);
  }
});

test('GET /api/v1/agents, /teams, /sites: every one, by id; no identity secret', async () => {
  const agents = conforms(await api(fx.srv, T.read, 'GET', '/api/v1/agents'), 'GET', '/api/v1/agents');
  const dbAgents = (await fx.pg.query('SELECT id FROM agents ORDER BY id')).rows.map((r) => Number(r.id));
  assert.deepEqual(
    agents.data.map((a) => a.id),
    dbAgents,
  );
  const ann = agents.data.find((a) => a.id === F.ann.id);
  assert.equal(ann.name, 'Ann Read');
  assert.equal(ann.email, F.ann.email);
  assert.equal(ann.role, 'agent');
  assert.deepEqual(ann.team_ids, [F.teamA]);
  assert.equal(ann.open_chats, 2);
  assert.equal(ann.connected, false);

  const teams = conforms(await api(fx.srv, T.read, 'GET', '/api/v1/teams'), 'GET', '/api/v1/teams');
  const dbTeams = (await fx.pg.query('SELECT id FROM teams ORDER BY id')).rows.map((r) => Number(r.id));
  assert.deepEqual(
    teams.data.map((t) => t.id),
    dbTeams,
  );
  const alpha = teams.data.find((t) => t.id === F.teamA);
  assert.equal(alpha.name, 'Alpha team');
  assert.deepEqual(alpha.member_ids, [F.ann.id]);

  const res = await api(fx.srv, T.read, 'GET', '/api/v1/sites');
  const sites = conforms(res, 'GET', '/api/v1/sites');
  const dbSites = (await fx.pg.query('SELECT id FROM sites ORDER BY id')).rows.map((r) => Number(r.id));
  assert.deepEqual(
    sites.data.map((s) => s.id),
    dbSites,
  );
  const a = sites.data.find((s) => s.id === F.siteA.id);
  assert.equal(a.public_key, F.siteA.key);
  assert.deepEqual(a.allowed_origins, F.siteA.origins);
  assert.equal(a.default_team_id, F.teamA);
  assert.ok(!res.body.includes(F.secret), 'the identity secret must never be sent');
  assert.equal(a.identity_secret, undefined);
});

// ---- transcripts ------------------------------------------------------------

const NASTY_NAME = 'Eve "<script>alert(1)</script>" & Co';
const NASTY_EMAIL = 'eve&"<script>alert(1)</script>"@example.com';
const NASTY_BODIES = ['<script>alert(1)</script>', 'Tom & Jerry say "hi" & \'bye\'', '<img src=x onerror="alert(2)">', 'line one\nline two & <b>three</b>'];
const NOTE_BODY = 'internal: customer seems <b>angry</b> & "loud"';

/** A real conversation through the sockets: a hostile visitor, an agent, a note; closed. */
async function transcriptFixture() {
  if (F.tx) return F.tx;
  const team = await createTeam(fx.pg, `Gamma <team> & "co" ${process.pid}`);
  const tia = await createAgent(fx.pg, { name: 'Tia', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, tia, { status: 'online' });
  const { token, visitor } = await visitorToken(fx.srv, site);
  await fx.pg.query('UPDATE visitors SET name = $2, email = $3 WHERE id = $1', [visitor.id, NASTY_NAME, NASTY_EMAIL]);
  const v = await connectVisitor(fx.srv, site, { token });
  const cid = await startConversation(v);
  await a.next(convUpdated(cid, 'assigned'), 5000, 'auto-assignment to Tia');
  for (const b of NASTY_BODIES) {
    await sendMessage(v, cid, b);
    await a.next(
      msgCreated(cid, (m) => m.body === b),
      5000,
      'the visitor message at the agent',
    );
  }
  await sendMessage(a, cid, 'Hello Eve, how can I help?');
  await sendMessage(a, cid, NOTE_BODY, { type: 'note.send' });
  const close = await api(fx.srv, T.admin, 'POST', `/api/v1/conversations/${cid}/close`);
  assert.equal(close.status, 200, close.body);
  await a.close();
  await v.close();
  F.tx = { cid, visitorId: visitor.id, tia, team };
  return F.tx;
}

function authorLabel(author) {
  if (!author || author.kind === 'system') return 'System';
  return `${author.name || author.kind} (${author.kind})`;
}

test('transcript json: every message in seq order with its author; notes only with include_notes + admin', async () => {
  const { cid, visitorId, tia } = await transcriptFixture();
  const p = `/api/v1/conversations/${cid}/transcript`;
  const doc = conforms(await api(fx.srv, T.transcripts, 'GET', p), 'GET', '/api/v1/conversations/{id}/transcript');
  assert.equal(doc.conversation.id, cid);
  assert.equal(doc.conversation.status, 'closed');
  assert.equal(doc.conversation.visitor.name, NASTY_NAME);
  assert.equal(doc.conversation.visitor.email, NASTY_EMAIL);

  const all = (await fx.pg.query('SELECT seq, kind, author_kind, body FROM messages WHERE conversation_id = $1 ORDER BY seq', [cid])).rows;
  const visible = all.filter((m) => m.kind !== 'note');
  assert.deepEqual(
    doc.messages.map((m) => m.seq),
    visible.map((m) => Number(m.seq)),
    'every message but the note, in seq order',
  );
  assert.deepEqual(
    doc.messages.map((m) => m.body),
    visible.map((m) => m.body),
  );
  for (const m of doc.messages) {
    if (m.author.kind === 'visitor') assert.deepEqual(m.author, { kind: 'visitor', id: visitorId, name: NASTY_NAME });
    if (m.author.kind === 'agent') assert.deepEqual(m.author, { kind: 'agent', id: tia.id, name: 'Tia' });
  }
  for (const b of NASTY_BODIES)
    assert.equal(doc.messages.filter((m) => m.body === b && m.author.kind === 'visitor').length, 1, `visitor message ${JSON.stringify(b)}`);
  assert.ok(doc.messages.some((m) => m.kind === 'event' && m.body === 'Tia joined the conversation'));
  assert.ok(doc.messages.some((m) => m.kind === 'event' && m.body === 'Conversation closed'));
  assert.ok(!doc.messages.some((m) => m.kind === 'note'), 'no note by default');
  assert.ok(!JSON.stringify(doc).includes('angry'), 'nothing of the note by default');
  const kinds = doc.participants.map((x) => `${x.kind}:${x.name}`).sort();
  assert.deepEqual(kinds, ['agent:Tia', `visitor:${NASTY_NAME}`]);

  const admin = conforms(await api(fx.srv, T.admin, 'GET', p, { query: { include_notes: 'true' } }), 'GET', '/api/v1/conversations/{id}/transcript');
  assert.deepEqual(
    admin.messages.map((m) => m.seq),
    all.map((m) => Number(m.seq)),
    'with notes: every seq',
  );
  const note = admin.messages.find((m) => m.kind === 'note');
  assert.equal(note.body, NOTE_BODY);
  assert.deepEqual(note.author, { kind: 'agent', id: tia.id, name: 'Tia' });

  assertProblem(await api(fx.srv, T.transcripts, 'GET', p, { query: { include_notes: 'true' } }), 403, 'insufficient_scope');
  const explicitFalse = conforms(
    await api(fx.srv, T.transcripts, 'GET', p, { query: { include_notes: 'false', format: 'json' } }),
    'GET',
    '/api/v1/conversations/{id}/transcript',
  );
  assert.deepEqual(explicitFalse, doc);
});

test('transcript txt: the header and every message in order, "[time] Name (kind): body", notes only for admin', async () => {
  const { cid } = await transcriptFixture();
  const p = `/api/v1/conversations/${cid}/transcript`;
  for (const [tok, notes] of [
    [T.transcripts, false],
    [T.admin, true],
  ]) {
    const doc = assertJson(await api(fx.srv, tok, 'GET', p, { query: { include_notes: notes ? 'true' : undefined } }), 200);
    const res = await api(fx.srv, tok, 'GET', p, { query: { format: 'txt', include_notes: notes ? 'true' : undefined } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    const c = doc.conversation;
    let want =
      `Conversation #${c.id} (${c.status})\nTeam: ${c.team}\nVisitor: ${c.visitor.name} <${c.visitor.email}>\n` +
      `Started: ${c.created_at}\nClosed: ${c.closed_at}\nParticipants: ${doc.participants.map(authorLabel).join(', ')}\n\n`;
    for (const m of doc.messages) {
      if (m.kind === 'event') want += `[${m.created_at}] -- ${m.body} --\n`;
      else want += `[${m.created_at}] ${authorLabel(m.author)}${m.kind === 'note' ? ' [internal note]: ' : ': '}${m.body.replace(/\n/g, '\n    ')}\n`;
    }
    assert.equal(res.body, want, `txt transcript (notes: ${notes})`);
    assert.equal(res.body.includes('angry'), notes, 'the note appears exactly when asked for by an admin');
    assert.ok(res.body.includes(`${NASTY_NAME} (visitor): <script>alert(1)</script>\n`), 'plain text is not escaped');
    assert.ok(res.body.includes('line one\n    line two'), 'continuation lines are indented');
  }
  assertProblem(await api(fx.srv, T.transcripts, 'GET', p, { query: { format: 'txt', include_notes: 'true' } }), 403, 'insufficient_scope');
});

const ALLOWED_TAGS = new Set(['!doctype', 'html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'dl', 'dt', 'dd', 'ol', 'li', 'div', 'bdi']);

/** The author in the html transcript: the name isolated in <bdi>. */
function authorHtml(author) {
  if (!author || author.kind === 'system') return 'System';
  return `<bdi>${escapeHtml(author.name || author.kind)}</bdi> (${author.kind})`;
}

test("transcript html: every visitor string escaped, only the template's tags, every message in order, strict CSP", async () => {
  const { cid } = await transcriptFixture();
  const p = `/api/v1/conversations/${cid}/transcript`;
  for (const [tok, notes] of [
    [T.transcripts, false],
    [T.admin, true],
  ]) {
    const doc = assertJson(await api(fx.srv, tok, 'GET', p, { query: { include_notes: notes ? 'true' : undefined } }), 200);
    const res = await api(fx.srv, tok, 'GET', p, { query: { format: 'html', include_notes: notes ? 'true' : undefined } });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');

    // A static document: nothing may run, load or frame it.
    const csp = String(res.headers['content-security-policy'] || '');
    const directives = Object.fromEntries(
      csp
        .split(';')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => [d.split(/\s+/)[0], d.split(/\s+/).slice(1).join(' ')]),
    );
    assert.equal(directives['default-src'], "'none'", `CSP: ${csp}`);
    assert.equal(directives['frame-ancestors'], "'none'", `CSP: ${csp}`);
    assert.equal(directives['base-uri'], "'none'", `CSP: ${csp}`);
    assert.equal(directives['form-action'], "'none'", `CSP: ${csp}`);
    assert.equal(directives['script-src'], undefined, `CSP must not allow scripts: ${csp}`);
    assert.ok(!/unsafe-eval|\*|https?:|data:/.test(csp), `CSP: ${csp}`);
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.equal(res.headers['content-security-policy'].split(',').length, 1, 'one CSP only');

    const html = res.body;
    // Only the template's own tags: nothing from the conversation became markup.
    const tags = new Set([...html.matchAll(/<\/?\s*([!a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1].toLowerCase()));
    for (const t of tags) assert.ok(ALLOWED_TAGS.has(t), `unexpected tag <${t}> in the html transcript`);
    assert.ok(!/<script|<img/i.test(html), 'no script or img element');
    // Each hostile string appears only escaped.
    for (const s of [NASTY_NAME, NASTY_EMAIL, ...NASTY_BODIES, doc.conversation.team]) {
      assert.ok(html.includes(escapeHtml(s)), `escaped ${JSON.stringify(s)} present`);
      assert.ok(!html.includes(s), `raw ${JSON.stringify(s)} absent`);
    }
    for (const raw of ['<script>', '"<script>', '& Co', ' & Jerry', '"hi"', "'bye'"]) assert.ok(!html.includes(raw), `raw ${JSON.stringify(raw)} absent`);
    assert.ok(
      html.includes(`<dd><bdi>${escapeHtml(NASTY_NAME)}</bdi> &lt;<bdi>${escapeHtml(NASTY_EMAIL)}</bdi>&gt;</dd>`),
      'visitor name and email in the header',
    );

    // Every message, in order, with its author.
    const items = [
      ...html.matchAll(/<li class="([a-z]+)"><div class="meta">((?:[^<]|<\/?bdi>)*)<\/div><div class="body" dir="auto">([^<]*)<\/div><\/li>/g),
    ].map((m) => ({ cls: m[1], meta: m[2], body: m[3] }));
    assert.equal(items.length, doc.messages.length, 'one <li> per message');
    doc.messages.forEach((m, i) => {
      const it = items[i];
      const cls = m.kind === 'note' ? 'note' : m.kind === 'event' ? 'event' : m.author.kind === 'visitor' ? 'visitor' : 'agent';
      assert.equal(it.cls, cls, `message ${m.seq} class`);
      assert.equal(it.body, escapeHtml(m.body), `message ${m.seq} body`);
      let meta = escapeHtml(m.created_at);
      if (m.kind !== 'event') meta += ` &middot; ${authorHtml(m.author)}${m.kind === 'note' ? ' &middot; internal note' : ''}`;
      assert.equal(it.meta, meta, `message ${m.seq} meta`);
    });
    assert.equal(html.includes('angry'), notes, 'the note appears exactly when asked for by an admin');
  }
  assertProblem(await api(fx.srv, T.transcripts, 'GET', p, { query: { format: 'html', include_notes: 'true' } }), 403, 'insufficient_scope');
});

test('transcript: 404 for a missing conversation in every format; 400 naming format or include_notes', async () => {
  for (const format of ['json', 'txt', 'html']) {
    const res = await api(fx.srv, T.transcripts, 'GET', '/api/v1/conversations/999999999/transcript', { query: { format } });
    assertProblem(res, 404, 'not_found');
  }
  assertProblem(await api(fx.srv, T.transcripts, 'GET', '/api/v1/conversations/nope/transcript'), 404, 'not_found');
  const p = `/api/v1/conversations/${F.c1}/transcript`;
  for (const [field, value] of [
    ['format', 'pdf'],
    ['format', 'JSON'],
    ['format', ''],
    ['format', 'x'.repeat(30)],
    ['include_notes', 'TRUE'],
  ]) {
    badField(await api(fx.srv, T.admin, 'GET', p, { query: { [field]: value } }), field);
  }
  // An open conversation has a transcript too.
  const open = conforms(await api(fx.srv, T.transcripts, 'GET', p), 'GET', '/api/v1/conversations/{id}/transcript');
  assert.equal(open.conversation.status, 'queued');
  assert.deepEqual(
    open.messages.map((m) => m.body),
    ['The pineapple arrived broken', 'Sorry to hear that'],
  );
  const txt = await api(fx.srv, T.transcripts, 'GET', p, { query: { format: 'txt' } });
  assert.match(txt.body, /\nClosed: -\n/);
  assert.equal(mediaType(txt), 'text/plain');
});

test('transcript txt/html: a long non-ASCII name (200 x "é", as the schema allows) stays whole and valid UTF-8', async () => {
  // The author label is written straight into the answer (it once went
  // through a fixed buffer that cut a 400-byte name mid-character).
  const name = 'é'.repeat(200);
  const v = Number((await fx.pg.query('INSERT INTO visitors (site_id, name) VALUES ($1, $2) RETURNING id', [F.siteA.id, name])).rows[0].id);
  const c = await insertConv({ site: F.siteA.id, visitor: v, team: F.teamA, status: 'queued', created: '2026-03-01T00:00:00Z' });
  await insertMsgs(c, [{ ak: 'visitor', ai: v, body: 'hi' }]);
  const txt = await api(fx.srv, T.transcripts, 'GET', `/api/v1/conversations/${c}/transcript`, { query: { format: 'txt' } });
  const html = await api(fx.srv, T.transcripts, 'GET', `/api/v1/conversations/${c}/transcript`, { query: { format: 'html' } });
  const problems = [];
  if (txt.body.includes('\uFFFD')) problems.push('txt is not valid UTF-8');
  if (!txt.body.includes(`${name} (visitor): hi\n`)) problems.push('txt lacks "<name> (visitor): hi"');
  if (html.body.includes('\uFFFD')) problems.push('html is not valid UTF-8');
  if (!html.body.includes(`&middot; <bdi>${name}</bdi> (visitor)</div>`)) problems.push('html lacks "<name> (visitor)"');
  assert.deepEqual(problems, []);
});
