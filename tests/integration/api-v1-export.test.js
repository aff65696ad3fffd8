'use strict';
// REST API v1, bulk export: GET /api/v1/transcripts streams every closed
// conversation as one NDJSON line, oldest closing first. 10,000 closed
// conversations (made in bulk with SQL) come out as exactly 10,000 parseable
// lines with the right ids in closed_at order, and the parleyd process's
// resident memory stays bounded while a body several times the bound goes
// through (VmRSS sampled before, during and after). The closed_after /
// closed_before window (exclusive / inclusive), notes for admins only, and
// the 400/403 answers.

const assert = require('node:assert/strict');
const fs = require('node:fs');

const { suite, SETUP_TIMEOUT_MS } = require('../helpers/suite');
const { assertProblem } = require('../helpers/assert');
const { request } = require('../helpers/http');
const { createTeam, createSite, createAgent, waitFor } = require('../helpers/fixtures');
const { addToken, api, loadSpec, checkSchema, streamLines, rssKiB } = require('../helpers/api');

const N = 10000;
const WINDOW = 12; // conversations with an internal note, the first to close
const RSS_BOUND_KIB = 16 * 1024; // parleyd RSS growth allowed while exporting (~10x what it needs)
const BODY_CHARS = 1664; // per visitor / agent message: the export is ~45 MB, over twice the bound

/** Is the process an AddressSanitizer build? */
function underAsan(pid) {
  try {
    return (
      /libasan|libclang_rt\.asan/.test(fs.readFileSync(`/proc/${pid}/maps`, 'utf8')) ||
      /__asan_init/.test(fs.readFileSync(`/proc/${pid}/exe`).toString('latin1'))
    );
  } catch {
    return Boolean(process.env.ASAN_OPTIONS);
  }
}

let spec;
const T = {};
const F = {};
// The data set-up takes a while: twice the usual time for the before hook.
const fx = suite({ setupTimeoutMs: 2 * SETUP_TIMEOUT_MS });
const { test } = fx;

fx.setup(async () => {
  spec = loadSpec();
  T.transcripts = await addToken(fx.pg, { scopes: ['transcripts:read'] });
  T.read = await addToken(fx.pg, { scopes: ['conversations:read'] });
  T.admin = await addToken(fx.pg, { scopes: ['admin'] });

  F.team = await createTeam(fx.pg, 'Export team');
  F.ann = await createAgent(fx.pg, { name: 'Ann Export', teams: [F.team] });
  F.site = await createSite(fx.pg, { teamId: F.team });
  F.visitor = Number((await fx.pg.query("INSERT INTO visitors (site_id, name) VALUES ($1, 'Vic Export') RETURNING id", [F.site.id])).rows[0].id);

  const t0 = Date.now();
  // 10,000 closed conversations; closed_at is a permutation of
  // 2025-01-01T00:00:00Z + 0..9999 s, so closing order differs from id order.
  // The first WINDOW by closing time also have an internal note.
  await fx.pg.query(
    `INSERT INTO conversations (site_id, visitor_id, team_id, status, assignee_id, created_at, assigned_at, closed_at, closed_by_kind, last_seq)
     SELECT $1, $2, $3, 'closed', $4, timestamptz '2024-12-01T00:00:00Z' + g * interval '1 second',
            timestamptz '2024-12-01T00:00:00Z' + g * interval '1 second',
            timestamptz '2025-01-01T00:00:00Z' + ((g * 7919) % ${N}) * interval '1 second', 'agent',
            CASE WHEN (g * 7919) % ${N} < ${WINDOW} THEN 4 ELSE 3 END
     FROM generate_series(1, ${N}) g ORDER BY g`,
    [F.site.id, F.visitor, F.team, F.ann.id],
  );
  // A visitor question and an agent answer (few, long words: cheap to index),
  // the internal note where there is one, and the close event last.
  const words = (expr) => `repeat(md5(${expr}), ${Math.floor(BODY_CHARS / 64)}) || ' ' || repeat(md5(${expr} || 'b'), ${Math.floor(BODY_CHARS / 64)})`;
  await fx.pg.query(
    `INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, meta, created_at)
     SELECT c.id, s.seq, CASE s.seq WHEN 1 THEN 'visitor' ELSE 'agent' END, CASE s.seq WHEN 1 THEN $1::bigint ELSE $2::bigint END, 'message',
            CASE s.seq WHEN 1 THEN 'Question ' || c.id || ': ' || ${words('c.id::text')}
                       ELSE 'Answer ' || c.id || ': ' || ${words('(-c.id)::text')} END,
            '{}'::jsonb, c.closed_at - (5 - s.seq) * interval '1 second'
     FROM conversations c CROSS JOIN generate_series(1, 2) AS s(seq) WHERE c.site_id = $3;
     `,
    [F.visitor, F.ann.id, F.site.id],
  );
  await fx.pg.query(
    `INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, created_at)
     SELECT c.id, 3, 'agent', $1, 'note', 'secret note ' || c.id, c.closed_at - interval '2 seconds'
     FROM conversations c WHERE c.site_id = $2 AND c.last_seq = 4`,
    [F.ann.id, F.site.id],
  );
  await fx.pg.query(
    `INSERT INTO messages (conversation_id, seq, author_kind, kind, body, meta, created_at)
     SELECT c.id, c.last_seq, 'system', 'event', 'Conversation closed by the agent', '{"event": "closed", "by": "agent"}', c.closed_at
     FROM conversations c WHERE c.site_id = $1`,
    [F.site.id],
  );
  // Open conversations (and a reopened one) are never exported.
  for (const status of ['queued', 'queued', 'assigned']) {
    await fx.pg.query(
      `INSERT INTO conversations (site_id, visitor_id, team_id, status, assignee_id, queued_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'assigned' THEN $5::bigint END, now())`,
      [F.site.id, F.visitor, F.team, status, F.ann.id],
    );
  }
  await fx.pg.query('ANALYZE conversations; ANALYZE messages');
  F.setupMs = Date.now() - t0;
  F.expected = (await fx.pg.query("SELECT id FROM conversations WHERE status = 'closed' ORDER BY closed_at, id")).rows.map((r) => Number(r.id));
  assert.equal(F.expected.length, N);
});

test('the closed_after / closed_before window (both exclusive); notes only for admin; 400 and 403', async () => {
  const get = (tok, query) => streamLines(fx.srv, tok, '/api/v1/transcripts', { query, onLine: (l) => lines.push(JSON.parse(l)) });
  let lines = [];
  let r = await get(T.transcripts, { closed_after: '2025-01-01T00:00:00Z', closed_before: '2025-01-01T00:00:09Z' });
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/x-ndjson; charset=utf-8');
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.trailing, '', 'every line ends with a newline');
  assert.equal(lines.length, 8, 'closing at +1 s .. +8 s: both bounds exclusive');
  assert.deepEqual(
    lines.map((d) => Date.parse(d.conversation.closed_at) - Date.parse('2025-01-01T00:00:00Z')),
    [1, 2, 3, 4, 5, 6, 7, 8].map((s) => s * 1000),
  );
  assert.deepEqual(
    lines.map((d) => d.conversation.id),
    F.expected.slice(1, 9),
  );
  for (const d of lines) {
    assert.deepEqual(checkSchema(spec, spec.components.schemas.Transcript, d), [], 'each line is a Transcript');
    assert.deepEqual(
      d.messages.map((m) => m.seq),
      [1, 2, 4],
      'the note (seq 3) is left out',
    );
    assert.deepEqual(d.messages[2].meta, { event: 'closed', by: 'agent' });
    assert.deepEqual(
      d.messages.map((m) => m.author.kind),
      ['visitor', 'agent', 'system'],
    );
    assert.equal(d.messages[0].author.name, 'Vic Export');
    assert.equal(d.messages[1].author.name, 'Ann Export');
    assert.ok(d.messages[0].body.startsWith(`Question ${d.conversation.id}: `));
  }

  lines = [];
  r = await get(T.admin, { closed_after: '2025-01-01T00:00:00Z', closed_before: '2025-01-01T00:00:09Z', include_notes: 'true' });
  assert.equal(r.status, 200, r.body);
  assert.equal(lines.length, 8);
  for (const d of lines) {
    assert.deepEqual(
      d.messages.map((m) => m.seq),
      [1, 2, 3, 4],
    );
    assert.equal(d.messages[2].body, `secret note ${d.conversation.id}`);
  }

  lines = [];
  r = await get(T.transcripts, { closed_after: '2030-01-01' });
  assert.equal(r.status, 200);
  assert.equal(r.bytes, 0, 'nothing closed after 2030: an empty body');

  const check = async (tok, query, status, slug, field) => {
    const res = await api(fx.srv, tok, 'GET', '/api/v1/transcripts', { query });
    const p = assertProblem(res, status, slug);
    if (field) assert.equal(p.errors[0].field, field);
  };
  await check(T.transcripts, { include_notes: 'true' }, 403, 'insufficient_scope');
  await check(T.read, {}, 403, 'insufficient_scope');
  await check(T.transcripts, { closed_after: 'last week' }, 400, 'invalid_request', 'closed_after');
  await check(T.transcripts, { closed_before: '2025-01-01T00:00:00+0100' }, 400, 'invalid_request', 'closed_before');
  await check(T.admin, { include_notes: 'on' }, 400, 'invalid_request', 'include_notes');
  await check(null, {}, 401, 'unauthenticated');
});

/** Wait until parleyd serves no request but the /metrics one asking. */
async function serverIdle() {
  await waitFor(
    async () => {
      const m = /^parley_http_requests_in_flight (\d+)$/m.exec((await request(fx.srv, { path: '/metrics' })).body);
      return m && Number(m[1]) <= 1;
    },
    { intervalMs: 20, what: 'parleyd idle' },
  );
}

test(`bulk export of ${N} closed conversations: every line, right ids in closed_at order, bounded server memory`, { timeout: 120000 }, async (t) => {
  await serverIdle();
  const before = rssKiB(fx.srv.pid);
  let peak = before;
  let lastSample = 0;
  const sample = () => {
    const now = Date.now();
    if (now - lastSample < 10) return;
    lastSample = now;
    peak = Math.max(peak, rssKiB(fx.srv.pid));
  };
  const timer = setInterval(sample, 25);

  const ids = [];
  let prevClosed = '';
  let bad = 0;
  let checked = 0;
  const t0 = Date.now();
  let r;
  try {
    r = await streamLines(fx.srv, T.transcripts, '/api/v1/transcripts', {
      onTick: sample,
      onLine: (line) => {
        let d;
        try {
          d = JSON.parse(line);
        } catch {
          bad += 1;
          return;
        }
        ids.push(d.conversation.id);
        // closed_at order (then id): the ISO strings sort as times do.
        if (d.conversation.closed_at < prevClosed) bad += 1;
        prevClosed = d.conversation.closed_at;
        if (ids.length % 997 === 1) {
          checked += 1;
          assert.deepEqual(checkSchema(spec, spec.components.schemas.Transcript, d), []);
          assert.deepEqual(
            d.messages.map((m) => m.kind),
            ['message', 'message', 'event'],
            'never a note',
          );
        }
      },
    });
  } finally {
    clearInterval(timer);
  }
  const ms = Date.now() - t0;
  peak = Math.max(peak, rssKiB(fx.srv.pid));
  await serverIdle();
  const afterRss = rssKiB(fx.srv.pid);
  const growth = peak - before;
  console.log(
    `API v1 export RSS: conversations=${N} response_bytes=${r.bytes} (${(r.bytes / 1048576).toFixed(1)} MiB) ` +
      `rss_before_kib=${before} rss_peak_kib=${peak} rss_after_kib=${afterRss} growth_kib=${growth} ` +
      `export_ms=${ms} setup_ms=${F.setupMs}`,
  );

  assert.equal(r.status, 200, r.body);
  assert.equal(r.trailing, '', 'the last line ends with a newline (the export was not cut short)');
  assert.equal(bad, 0, 'every line parses and closed_at never goes backwards');
  assert.equal(r.lines, N, `exactly ${N} lines`);
  assert.equal(new Set(ids).size, N, 'no conversation twice');
  assert.deepEqual(ids, F.expected, 'the closed conversations, by closed_at then id');
  assert.ok(checked >= 10);
  // The check only means something if the body is much larger than the bound.
  assert.ok(r.bytes > 2 * RSS_BOUND_KIB * 1024, `the body (${r.bytes} bytes) is more than twice the memory bound`);
  if (underAsan(fx.srv.pid)) {
    // ASan keeps freed blocks in a quarantine (256 MiB by default): RSS says
    // nothing about leaks or buffering there.
    t.diagnostic(`AddressSanitizer build: RSS growth ${growth} KiB not checked against the bound`);
  } else {
    assert.ok(growth < RSS_BOUND_KIB, `parleyd RSS grew by ${growth} KiB while exporting (bound ${RSS_BOUND_KIB} KiB)`);
  }
  assert.equal((await api(fx.srv, T.transcripts, 'GET', '/api/v1/agents')).status, 403, 'the server still answers afterwards');
});
