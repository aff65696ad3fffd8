'use strict';
// Reports (docs/reports.md). Two kinds of test:
//  - real flows through the sockets and the REST API write the record
//    (conversation_events, agent_activity) with the right kinds, agents and
//    order, and the reports count them;
//  - conversations seeded with known timelines (the record written by hand,
//    triggers off, then rebuilt) give exact numbers, medians and 90th
//    percentiles per filter, computed here independently; time zones,
//    business hours, the drill-down, the CSV and the access rules.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { assertJson, assertProblem } = require('../helpers/assert');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  startConversation,
  sendMessage,
  agentSession,
  convUpdated,
  waitFor,
} = require('../helpers/fixtures');
const { addToken, api, loadSpec, checkSchema, responseSchema } = require('../helpers/api');
const { request } = require('../helpers/http');

const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;

/** GET a console report as an agent (session cookie). */
async function sessionGet(agent, path, query = {}) {
  const s = await agentSession(fx.srv, agent);
  return request(fx.srv, { method: 'GET', path: `${path}?${new URLSearchParams(query)}`, headers: { Cookie: `parley_session=${s.cookie}` } });
}

const kinds = async (cid) =>
  (await fx.pg.query('SELECT kind, agent_id FROM conversation_events WHERE conversation_id = $1 ORDER BY id', [cid])).rows.map((r) =>
    r.agent_id === null ? r.kind : `${r.kind}:${r.agent_id}`,
  );

test('real flows write the record: start, queue, assignment, first human reply, transfer, close, rating, missed', async () => {
  const team = await createTeam(fx.pg);
  const other = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const ana = await createAgent(fx.pg, { name: 'Ana Report', teams: [team], maxChats: 5 });
  const ben = await createAgent(fx.pg, { name: 'Ben Report', teams: [team, other], maxChats: 5 });
  const tok = await addToken(fx.pg, { scopes: ['reports:read', 'conversations:write'] });

  // Nobody online: the visitor waits and leaves: missed.
  const v1 = await connectVisitor(fx.srv, site, { label: 'v1' });
  const missed = await startConversation(v1);
  await v1.ack({ type: 'conversation.close', conversation_id: missed });
  assert.deepEqual(await kinds(missed), ['started', 'queued', 'closed', 'missed']);

  // Ana online: assigned, answers, transfers to Ben, who closes; rated.
  const a = await connectAgent(fx.srv, ana, { status: 'online', label: 'ana' });
  const v2 = await connectVisitor(fx.srv, site, { label: 'v2' });
  const cid = await startConversation(v2);
  await v2.next(convUpdated(cid, 'assigned'), 5000, 'Ana is assigned');
  await sendMessage(v2, cid, 'hello');
  await sendMessage(a, cid, 'hi, how can I help?');
  await sendMessage(a, cid, 'one more');
  const b = await connectAgent(fx.srv, ben, { status: 'online', label: 'ben' });
  await a.ack({ type: 'conversation.transfer', conversation_id: cid, to_agent_id: ben.id });
  await b.ack({ type: 'conversation.close', conversation_id: cid });
  await v2.ack({ type: 'conversation.rate', conversation_id: cid, rating: 'good', comment: 'quick' });
  assert.deepEqual(await kinds(cid), ['started', 'queued', `assigned:${ana.id}`, `first_reply:${ana.id}`, `transferred:${ben.id}`, 'closed', 'rated']);

  // An escalation to a team: a transfer to its queue and an escalation; its agent takes it.
  await b.ack({ type: 'status.set', status: 'away' });
  const v3 = await connectVisitor(fx.srv, site, { label: 'v3' });
  const esc = await startConversation(v3);
  await v3.next(convUpdated(esc, 'assigned'), 5000, 'Ana is assigned');
  await a.ack({ type: 'conversation.escalate', conversation_id: esc, to_team_id: other, reason: 'billing' });
  await b.ack({ type: 'status.set', status: 'online' });
  await waitFor(async () => (await kinds(esc)).length >= 6, { what: 'the new team assigns it' });
  assert.deepEqual(await kinds(esc), ['started', 'queued', `assigned:${ana.id}`, 'transferred', 'escalated', `assigned:${ben.id}`]);
  const benStates = (await fx.pg.query('SELECT state FROM agent_activity WHERE agent_id = $1 ORDER BY id', [ben.id])).rows.map((r) => r.state);
  assert.deepEqual(benStates.slice(-2), ['away', 'online'], 'status changes are recorded');

  // The record is append-only.
  await assert.rejects(fx.pg.query("UPDATE conversation_events SET kind = 'closed' WHERE conversation_id = $1", [cid]), /append-only/);

  // The agents' states: online while connected.
  const states = (await fx.pg.query('SELECT state FROM agent_activity WHERE agent_id = $1 ORDER BY id', [ana.id])).rows.map((r) => r.state);
  assert.equal(states[states.length - 1], 'online');

  // The report counts them (the catch-up runs before it reads).
  const today = (await fx.pg.query("SELECT (now() AT TIME ZONE 'UTC')::date::text AS d")).rows[0].d;
  const q = { from: today, to: today, team_id: String(team) };
  const sum = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/summary', { query: q }), 200);
  const cur = sum.current;
  assert.equal(cur.started, 2);
  assert.equal(cur.answered, 1);
  assert.equal(cur.missed, 1);
  assert.equal(cur.transfers, 1);
  assert.deepEqual(cur.csat, { ratings: 1, good: 1, bad: 0, good_share: 1, comments: 1 });
  assert.equal(cur.messages.total, 3);
  assert.equal(cur.messages.visitor, 1);
  assert.equal(cur.messages.agent, 2);
  assert.equal(cur.first_response.count, 1);
  const row = (await fx.pg.query('SELECT agent_id, outcome, first_reply_at FROM report_conversations WHERE conversation_id = $1', [cid])).rows[0];
  assert.equal(Number(row.agent_id), ana.id, 'credited to the agent who answered first');
  assert.equal(row.outcome, 'answered');
  assert.ok(row.first_reply_at);
  const first = (await fx.pg.query("SELECT min(created_at) AS t FROM messages WHERE conversation_id = $1 AND author_kind = 'agent'", [cid])).rows[0].t;
  assert.equal(row.first_reply_at.getTime(), first.getTime());
});

// ---- seeded timelines ------------------------------------------------------

const T = (iso) => Date.parse(iso);
const MIN = 60000;

/** percentile_cont: linear interpolation between the two nearest ranks. */
function pct(values, p) {
  if (!values.length) return null;
  const v = [...values].sort((a, b) => a - b);
  const r = p * (v.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return v[lo] + (v[hi] - v[lo]) * (r - lo);
}
const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
function dist(values) {
  const n = values.length;
  return {
    count: n,
    avg: n ? r3(values.reduce((a, b) => a + b, 0) / n) : null,
    median: r3(pct(values, 0.5)),
    p90: r3(pct(values, 0.9)),
  };
}

/** Business seconds in [from, to) for weekly hours in UTC ({1: [[9,17]], ...} by getUTCDay), minute by minute. */
function businessSeconds(hours, holidays, from, to) {
  let s = 0;
  for (let t = from; t < to; t += MIN) {
    const d = new Date(t);
    const day = d.toISOString().slice(0, 10);
    const h = d.getUTCHours() + d.getUTCMinutes() / 60;
    const open = !holidays.includes(day) && (hours[d.getUTCDay()] || []).some(([a, b]) => h >= a && h < b);
    if (open) s += Math.min(MIN, to - t) / 1000;
  }
  return s;
}

/**
 * A conversation's timeline: { at: start ISO, channel, offline, bot, steps: [[kind, minutes after
 * start, agent, data]], msgs: [[author kind, author, minutes]], labels, rating, comment }.
 * The expected figures follow docs/reports.md, computed here from the timeline alone.
 */
function expectedRow(c, biz) {
  const t0 = T(c.at);
  const at = (m) => t0 + m * MIN;
  const ev = c.steps.map(([kind, m, agent, data]) => ({ kind, t: at(m), agent, data }));
  const first = (k) => ev.find((e) => k(e));
  const queued = first((e) => e.kind === 'queued');
  const assigned = first((e) => (e.kind === 'assigned' || e.kind === 'transferred') && e.agent);
  const reply = first((e) => e.kind === 'first_reply');
  const lastState = [...ev].reverse().find((e) => e.kind === 'closed' || e.kind === 'reopened');
  const closed = lastState && lastState.kind === 'closed';
  const lastClose = closed ? lastState.t : null;
  const qAt = queued ? queued.t : assigned ? assigned.t : null;
  const lastMissed = [...ev].reverse().find((e) => e.kind === 'missed' || e.kind === 'reopened');
  let outcome = 'unanswered';
  if (c.offline) outcome = 'offline';
  else if (reply) outcome = 'answered';
  else if (closed && lastMissed && lastMissed.kind === 'missed') outcome = 'missed';
  else if (closed && c.bot && !queued) outcome = 'bot';
  // ownership spans
  let handle = 0;
  let owner = null;
  let since = 0;
  const spans = [];
  for (const e of ev) {
    if (!['bot', 'queued', 'assigned', 'transferred', 'closed', 'reopened'].includes(e.kind)) continue;
    if (owner) {
      handle += (e.t - since) / 1000;
      spans.push({ agent: owner, from: since, to: e.t });
    }
    owner = e.kind === 'assigned' || e.kind === 'transferred' ? e.agent || null : null;
    since = e.t;
  }
  if (owner) spans.push({ agent: owner, from: since, to: Infinity });
  const lastAgent = [...ev].reverse().find((e) => (e.kind === 'assigned' || e.kind === 'transferred') && e.agent);
  const wait = qAt !== null && assigned ? (assigned.t - qAt) / 1000 : null;
  const frBase = qAt !== null ? qAt : t0;
  const fr = reply && !c.offline ? (reply.t - frBase) / 1000 : null;
  const res = closed ? (lastClose - t0) / 1000 : null;
  const bs = (a, b) => (biz ? businessSeconds(biz.hours, biz.holidays || [], a, b) : (b - a) / 1000);
  return {
    started: t0,
    agent: reply && reply.agent ? reply.agent : lastAgent ? lastAgent.agent : null,
    outcome,
    closed,
    wait,
    wait_business: wait === null ? null : bs(qAt, assigned.t),
    first_response: fr,
    first_response_business: fr === null ? null : bs(frBase, reply.t),
    handle: spans.some((s) => s.to !== Infinity) ? handle : null,
    resolution: res,
    resolution_business: res === null ? null : bs(t0, lastClose),
    messages: c.msgs.length,
    visitor: c.msgs.filter((m) => m[0] === 'visitor').length,
    agentMsgs: c.msgs.filter((m) => m[0] === 'agent' || m[0] === 'api').length,
    botMsgs: c.msgs.filter((m) => m[0] === 'bot').length,
    transfers: ev.filter((e) => e.kind === 'transferred').length,
    reopens: ev.filter((e) => e.kind === 'reopened').length,
    escalations: ev.filter((e) => e.kind === 'escalated').length,
    rating: c.rating || null,
    comment: Boolean(c.comment),
    spans,
    labels: c.labels || [],
    channel: c.channel || 'widget',
  };
}

/** The metrics of docs/reports.md over expected rows. */
function expectedMetrics(rows) {
  const vals = (k) => rows.map((r) => r[k]).filter((v) => v !== null);
  const rated = rows.filter((r) => r.rating);
  const good = rated.filter((r) => r.rating === 'good').length;
  const sum = (k) => rows.reduce((a, r) => a + r[k], 0);
  return {
    started: rows.length,
    answered: rows.filter((r) => r.outcome === 'answered').length,
    missed: rows.filter((r) => r.outcome === 'missed').length,
    offline: rows.filter((r) => r.outcome === 'offline').length,
    bot: rows.filter((r) => r.outcome === 'bot').length,
    unanswered: rows.filter((r) => r.outcome === 'unanswered').length,
    wait: dist(vals('wait')),
    wait_business: dist(vals('wait_business')),
    first_response: dist(vals('first_response')),
    first_response_business: dist(vals('first_response_business')),
    handle: dist(vals('handle')),
    resolution: dist(vals('resolution')),
    resolution_business: dist(vals('resolution_business')),
    messages: {
      total: sum('messages'),
      per_conversation: rows.length ? Math.round((sum('messages') / rows.length) * 100) / 100 : null,
      visitor: sum('visitor'),
      agent: sum('agentMsgs'),
      bot: sum('botMsgs'),
    },
    transfers: sum('transfers'),
    reopens: sum('reopens'),
    escalations: sum('escalations'),
    csat: {
      ratings: rated.length,
      good,
      bad: rated.length - good,
      good_share: rated.length ? Math.round((good / rated.length) * 10000) / 10000 : null,
      comments: rated.filter((r) => r.comment).length,
    },
  };
}

const lit = (v) => (v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
const ts = (ms) => `'${new Date(ms).toISOString()}'::timestamptz`;

/**
 * Writes conversations with their record by hand (triggers off, as a restore would), then
 * rebuilds their report rows. Returns their ids, in order.
 */
async function seed(site, team, convs, { rebuild = true } = {}) {
  const ids = [];
  for (const c of convs) {
    const t0 = T(c.at);
    const at = (m) => t0 + m * MIN;
    const closedStep = [...c.steps].reverse().find((s) => s[0] === 'closed' || s[0] === 'reopened');
    const owner = [...c.steps].reverse().find((s) => (s[0] === 'assigned' || s[0] === 'transferred') && s[2]);
    const status = closedStep && closedStep[0] === 'closed' ? 'closed' : owner ? 'assigned' : 'queued';
    const sql = [];
    sql.push('SET session_replication_role = replica;');
    sql.push(`WITH v AS (INSERT INTO visitors (site_id) VALUES (${site}) RETURNING id)
      INSERT INTO conversations (site_id, visitor_id, team_id, status, assignee_id, queued_at, offline, channel, rating, rating_comment, created_at, closed_at, closed_by_kind)
      SELECT ${site}, v.id, ${team}, '${status}', ${status === 'assigned' ? lit(owner && owner[2]) : 'NULL'}, ${status === 'queued' ? ts(t0) : 'NULL'}, ${Boolean(c.offline)}, '${c.channel || 'widget'}', ${lit(c.rating)}, ${lit(c.comment)},
             ${ts(t0)}, ${status === 'closed' ? ts(at(closedStep[1])) : 'NULL'}, ${status === 'closed' ? "'agent'" : 'NULL'} FROM v;`);
    sql.push(`SELECT currval(pg_get_serial_sequence('conversations', 'id')) AS id;`);
    const res = await fx.pg.query(sql.join('\n'));
    const id = Number(res[res.length - 1].rows[0].id);
    ids.push(id);
    const ev = [
      ['started', 0, null, { channel: c.channel || 'widget', offline: Boolean(c.offline) }],
      ...(c.offline ? [['offline', 0, null, null]] : []),
      ...c.steps,
      ...(c.rating ? [['rated', c.steps[c.steps.length - 1][1], null, { rating: c.rating, comment: Boolean(c.comment) }]] : []),
    ];
    const rows = ev
      .map(([kind, m, agent, data]) => `(${id}, ${ts(at(m))}, '${kind}', ${lit(agent)}, ${team}, ${data ? lit(JSON.stringify(data)) : 'NULL'})`)
      .join(',\n');
    const msgs = c.msgs.map(([kind, author, m], i) => `(${id}, ${i + 1}, '${kind}', ${lit(author)}, 'message', 'm${i}', ${ts(at(m))})`).join(',\n');
    const more = [
      'SET session_replication_role = replica;',
      `INSERT INTO conversation_events (conversation_id, at, kind, agent_id, team_id, data) VALUES ${rows};`,
      msgs ? `INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, created_at) VALUES ${msgs};` : '',
      msgs ? `UPDATE conversations SET last_seq = ${c.msgs.length} WHERE id = ${id};` : '',
      ...(c.labels || []).map((l) => `INSERT INTO conversation_labels (conversation_id, label_id) VALUES (${id}, ${l});`),
    ];
    await fx.pg.query(more.join('\n'));
  }
  if (rebuild) await fx.pg.query(`SELECT parley_report_rebuild(ARRAY[${ids.join(',')}]::bigint[])`);
  return ids;
}

/** A metrics object from the API without invitations (compared separately). */
const withoutInvitations = (m) => {
  const { invitations: _invitations, ...rest } = m;
  return rest;
};

/** The world of the seeded tests: two teams (one with business hours), agents, a label, a bot. */
let world;
async function seededWorld() {
  if (world) return world;
  const team = await createTeam(fx.pg);
  const bizTeam = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const ana = await createAgent(fx.pg, { name: 'Ana Seed', teams: [team, bizTeam] });
  const ben = await createAgent(fx.pg, { name: 'Ben Seed', teams: [team] });
  const sup = await createAgent(fx.pg, { name: 'Sue Seed', role: 'supervisor', teams: [team] });
  const label = Number((await fx.pg.query("INSERT INTO labels (name) VALUES ('vip-seed') RETURNING id")).rows[0].id);
  const hoursDoc = {
    timezone: 'UTC',
    week: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']] },
    holidays: ['2026-11-10'],
  };
  await fx.pg.query('UPDATE teams SET business_hours = $2 WHERE id = $1', [bizTeam, JSON.stringify(hoursDoc)]);
  const biz = { hours: { 1: [[9, 17]], 2: [[9, 17]], 3: [[9, 17]], 4: [[9, 17]], 5: [[9, 17]] }, holidays: ['2026-11-10'] };
  const A = ana.id;
  const B = ben.id;
  // Seen a moment ago: the grace sweep leaves their open chats alone.
  await fx.pg.query('UPDATE agents SET last_connected_at = now() WHERE id = ANY ($1)', [[A, B]]);
  // The week of Monday 2026-11-02 (UTC), and one conversation the week before.
  const convs = [
    {
      // answered, rated good with a comment
      at: '2026-11-02T10:00:00Z',
      steps: [
        ['queued', 0],
        ['assigned', 0.5, A],
        ['first_reply', 1 + 1 / 6, A],
        ['closed', 20],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 1 + 1 / 6],
        ['visitor', null, 2],
        ['agent', A, 3],
        ['agent', A, 19],
      ],
      rating: 'good',
      comment: 'thanks!',
    },
    {
      // answered by Ben, transferred to Ana, rated bad, labelled
      at: '2026-11-02T11:00:00Z',
      steps: [
        ['queued', 0],
        ['assigned', 2, B],
        ['first_reply', 5, B],
        ['transferred', 10, A],
        ['closed', 30],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', B, 5],
        ['agent', A, 12],
      ],
      rating: 'bad',
      labels: [label],
    },
    {
      // overlaps the first: Ana holds two at once
      at: '2026-11-02T10:09:00Z',
      steps: [
        ['queued', 0],
        ['assigned', 1, A],
        ['first_reply', 4, A],
        ['closed', 31],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 4],
      ],
    },
    {
      // missed: the visitor left
      at: '2026-11-03T09:00:00Z',
      steps: [
        ['queued', 0],
        ['closed', 4],
        ['missed', 4],
      ],
      msgs: [['visitor', null, 0]],
    },
    {
      // a bot first (its answers never count), handed off, answered, closed, reopened, closed
      at: '2026-11-03T12:00:00Z',
      bot: true,
      steps: [
        ['bot', 0],
        ['queued', 3],
        ['assigned', 4, A],
        ['first_reply', 6.5, A],
        ['closed', 30],
        ['reopened', 60],
        ['assigned', 60, A],
        ['closed', 70],
      ],
      msgs: [
        ['visitor', null, 0],
        ['bot', null, 0.2],
        ['bot', null, 1],
        ['agent', A, 6.5],
      ],
    },
    {
      // an offline message, answered later
      at: '2026-11-04T08:00:00Z',
      offline: true,
      steps: [
        ['queued', 0],
        ['assigned', 60, A],
        ['first_reply', 70, A],
        ['closed', 75],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 70],
      ],
    },
    {
      // a bot alone
      at: '2026-11-04T15:00:00Z',
      bot: true,
      steps: [
        ['bot', 0],
        ['closed', 5],
      ],
      msgs: [
        ['visitor', null, 0],
        ['bot', null, 1],
      ],
    },
    {
      // closed by the agent without an answer
      at: '2026-11-05T10:00:00Z',
      steps: [
        ['queued', 0],
        ['assigned', 1, B],
        ['closed', 2],
      ],
      msgs: [['visitor', null, 0]],
    },
    {
      // from the API, still open, labelled
      at: '2026-11-05T16:00:00Z',
      channel: 'api',
      steps: [
        ['queued', 0],
        ['assigned', 1 / 6, B],
        ['first_reply', 2 / 3, B],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', B, 2 / 3],
      ],
      labels: [label],
    },
    {
      // an escalation brings Ben in
      at: '2026-11-06T10:00:00Z',
      steps: [
        ['queued', 0],
        ['assigned', 2, A],
        ['first_reply', 3, A],
        ['escalated', 5, B],
        ['closed', 15],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 3],
        ['agent', B, 8],
      ],
      rating: 'good',
      comment: '=1+1, "hi"',
    },
  ];
  const previous = [
    {
      at: '2026-10-28T10:00:00Z',
      steps: [
        ['queued', 0],
        ['assigned', 1, A],
        ['first_reply', 2, A],
        ['closed', 10],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 2],
      ],
      rating: 'good',
    },
  ];
  // Business hours (Mon-Fri 09-17 UTC, Tuesday 10 November a holiday): over a weekend and the holiday.
  const bizConvs = [
    {
      at: '2026-11-06T16:50:00Z', // Friday
      steps: [
        ['queued', 0],
        ['assigned', 60 * 64 + 15, A],
        ['first_reply', 60 * 64 + 20, A],
        ['closed', 60 * 65 + 10],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 60 * 64 + 20],
      ],
    },
    {
      at: '2026-11-09T16:30:00Z', // Monday; Tuesday is a holiday
      steps: [
        ['queued', 0],
        ['assigned', 60 * 40 + 45, A],
        ['first_reply', 60 * 40 + 50, A],
        ['closed', 60 * 41],
      ],
      msgs: [
        ['visitor', null, 0],
        ['agent', A, 60 * 40 + 50],
      ],
    },
  ];
  const ids = await seed(site.id, team, convs);
  const prevIds = await seed(site.id, team, previous);
  const bizIds = await seed(site.id, bizTeam, bizConvs);
  // Ana's states on Monday: online 09-12, away 12-13, online 13-17, then offline.
  await fx.pg.query(
    `SET session_replication_role = replica;
     INSERT INTO agent_activity (agent_id, at, state) VALUES
       (${A}, '2026-11-02T09:00:00Z', 'online'), (${A}, '2026-11-02T12:00:00Z', 'away'),
       (${A}, '2026-11-02T13:00:00Z', 'online'), (${A}, '2026-11-02T17:00:00Z', 'offline');`,
  );
  world = {
    team,
    bizTeam,
    site,
    ana,
    ben,
    sup,
    label,
    convs: convs.map((c, i) => ({ ...expectedRow(c), id: ids[i] })),
    previous: previous.map((c, i) => ({ ...expectedRow(c), id: prevIds[i] })),
    biz: bizConvs.map((c, i) => ({ ...expectedRow(c, biz), id: bizIds[i] })),
  };
  return world;
}

const WEEK = { from: '2026-11-02', to: '2026-11-08', tz: 'UTC' };

test('summary: exact counts, means, medians and 90th percentiles, and the previous period', async () => {
  const w = await seededWorld();
  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  const sum = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/summary', { query: { ...WEEK, team_id: w.team } }), 200);
  assert.deepEqual(sum.period, { from: '2026-11-02', to: '2026-11-08', tz: 'UTC', start: '2026-11-02T00:00:00.000000Z', end: '2026-11-09T00:00:00.000000Z' });
  assert.deepEqual(sum.previous_period.from, '2026-10-26');
  assert.deepEqual(sum.previous_period.to, '2026-11-01');
  for (const [k, v] of Object.entries(expectedMetrics(w.convs))) assert.deepEqual(sum.current[k], v, k);
  assert.deepEqual(withoutInvitations(sum.previous), expectedMetrics(w.previous));
  // a few by hand, so that the definitions above are checked too
  assert.equal(sum.current.started, 10);
  assert.equal(sum.current.missed, 1);
  assert.equal(sum.current.bot, 1);
  assert.equal(sum.current.offline, 1);
  assert.equal(sum.current.first_response.count, 6, 'answered, not offline');
  assert.equal(sum.current.messages.bot, 3, 'bot messages are counted as such');
  assert.equal(sum.current.reopens, 1);
  assert.equal(sum.current.escalations, 1);

  // per filter: the label, the channel, the credited agent, the site
  const by = async (q) => withoutInvitations(assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/summary', { query: { ...WEEK, ...q } }), 200).current);
  assert.deepEqual(await by({ label_id: w.label }), expectedMetrics(w.convs.filter((r) => r.labels.includes(w.label))));
  assert.deepEqual(await by({ team_id: w.team, channel: 'api' }), expectedMetrics(w.convs.filter((r) => r.channel === 'api')));
  assert.deepEqual(await by({ team_id: w.team, agent_id: w.ben.id }), expectedMetrics(w.convs.filter((r) => r.agent === w.ben.id)));
  assert.deepEqual(await by({ site_id: w.site.id }), expectedMetrics([...w.convs, ...w.biz.filter((r) => r.started < T('2026-11-09T00:00:00Z'))]));
});

test('business time: counted in the team hours, over a weekend and a holiday', async () => {
  const w = await seededWorld();
  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  const sum = assertJson(
    await api(fx.srv, tok, 'GET', '/api/v1/reports/summary', { query: { from: '2026-11-02', to: '2026-11-15', team_id: w.bizTeam } }),
    200,
  );
  assert.deepEqual(withoutInvitations(sum.current), expectedMetrics(w.biz));
  // Friday 16:50 to Monday 09:05: 15 business minutes; Monday 16:30 to Wednesday 09:15 over the holiday: 45.
  assert.deepEqual(
    w.biz.map((r) => r.wait_business),
    [900, 2700],
  );
  const rows = assertJson(
    await api(fx.srv, tok, 'GET', '/api/v1/reports/conversations', { query: { from: '2026-11-02', to: '2026-11-15', team_id: w.bizTeam } }),
    200,
  );
  assert.deepEqual(
    rows.data.map((r) => [r.conversation_id, r.wait, r.wait_business, r.first_response_business, r.resolution_business]).reverse(),
    w.biz.map((r) => [r.id, r.wait, r.wait_business, r.first_response_business, r.resolution_business]),
  );
});

test('per agent, the busiest hours and agent activity: exact figures', async () => {
  const w = await seededWorld();
  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  const q = { ...WEEK, team_id: w.team };
  const agents = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/agents', { query: q }), 200).agents;
  const expected = [w.ana, w.ben]
    .map((a) => ({ agent_id: a.id, name: a.name, ...expectedMetrics(w.convs.filter((r) => r.agent === a.id)) }))
    .sort((x, y) => y.started - x.started);
  assert.deepEqual(agents, expected);

  const heat = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/heatmap', { query: q }), 200);
  const started = Array.from({ length: 7 }, () => Array(24).fill(0));
  for (const r of w.convs) {
    const d = new Date(r.started);
    started[(d.getUTCDay() + 6) % 7][d.getUTCHours()] += 1;
  }
  assert.deepEqual(heat.started, started);
  // Ana online on Monday 09-12 and 13-17 (one Monday in the week), nobody else of the team.
  const online = Array.from({ length: 7 }, () => Array(24).fill(0));
  for (const h of [9, 10, 11, 13, 14, 15, 16]) online[0][h] = 1;
  assert.deepEqual(heat.agents_online, online);

  const act = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/activity', { query: q }), 200).agents;
  const end = T('2026-11-09T00:00:00Z');
  const spansOf = (id) => w.convs.flatMap((r) => r.spans.map((s) => ({ ...s, conv: r.id }))).filter((s) => s.agent === id && s.from < end);
  const figures = (a, onlineSeconds, awaySeconds) => {
    const spans = spansOf(a.id).map((s) => ({ ...s, to: Math.min(s.to, end) }));
    const owned = spans.reduce((x, s) => x + (s.to - s.from) / 1000, 0);
    let peak = 0;
    for (const s of spans) peak = Math.max(peak, spans.filter((o) => o.from <= s.from && o.to > s.from).length);
    return {
      agent_id: a.id,
      name: a.name,
      online: onlineSeconds,
      away: awaySeconds,
      chats: new Set(spans.map((s) => s.conv)).size,
      peak_concurrent: peak,
      avg_concurrent: onlineSeconds ? Math.round((owned / onlineSeconds) * 100) / 100 : null,
    };
  };
  assert.deepEqual(act, [figures(w.ana, 7 * 3600, 3600), figures(w.ben, 0, 0)]);
  assert.equal(act[0].peak_concurrent, 2, 'Ana held two chats at once on Monday');
});

test('the viewer time zone: days, hours and the busiest hours across a DST change', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const steps = [['queued', 0]];
  const ids = await seed(site.id, team, [
    { at: '2026-10-24T22:30:00Z', steps, msgs: [] }, // Paris: Sunday 25 October 00:30 (CEST)
    { at: '2026-10-25T12:00:00Z', steps, msgs: [] }, // Paris: 13:00 (CET, after the change)
    { at: '2026-10-25T23:30:00Z', steps, msgs: [] }, // Paris: Monday 26 October 00:30
  ]);
  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  const get = async (path, query) => assertJson(await api(fx.srv, tok, 'GET', `/api/v1/reports/${path}`, { query: { team_id: team, ...query } }), 200);
  const days = { from: '2026-10-24', to: '2026-10-26' };
  const paris = await get('timeseries', { ...days, tz: 'Europe/Paris' });
  assert.deepEqual(paris.period, {
    from: '2026-10-24',
    to: '2026-10-26',
    tz: 'Europe/Paris',
    start: '2026-10-23T22:00:00.000000Z',
    end: '2026-10-26T23:00:00.000000Z',
  });
  assert.deepEqual(
    paris.buckets.map((b) => [b.start, b.started]),
    [
      ['2026-10-24', 0],
      ['2026-10-25', 2],
      ['2026-10-26', 1],
    ],
  );
  const utc = await get('timeseries', days);
  assert.deepEqual(
    utc.buckets.map((b) => b.started),
    [1, 2, 0],
  );
  const hours = await get('timeseries', { from: '2026-10-25', to: '2026-10-25', tz: 'Europe/Paris', interval: 'hour' });
  assert.equal(hours.buckets.length, 24);
  assert.deepEqual(
    hours.buckets.filter((b) => b.started).map((b) => b.start),
    ['2026-10-25T00:00', '2026-10-25T13:00'],
  );
  const heat = await get('heatmap', { ...days, tz: 'Europe/Paris' });
  assert.equal(heat.started[6][0], 1, 'Sunday 00:00-01:00 in Paris');
  assert.equal(heat.started[6][13], 1);
  assert.equal(heat.started[0][0], 1, 'Monday 00:00-01:00 in Paris');
  const tokyo = await get('summary', { from: '2026-10-25', to: '2026-10-25', tz: 'Asia/Tokyo' });
  assert.equal(tokyo.current.started, 2, 'the 25th in Tokyo: 15:00Z on the 24th to 15:00Z on the 25th');
  const list = await get('conversations', { from: '2026-10-24', to: '2026-10-26', tz: 'Europe/Paris', day: '2026-10-25' });
  assert.deepEqual(
    list.data.map((r) => r.conversation_id),
    [ids[1], ids[0]],
  );
});

/** RFC 4180 lines into arrays of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  assert.equal(field, '', 'the CSV ends with a line break');
  return rows;
}

test('the conversations behind a number, and the CSV: the same rows and numbers', async () => {
  const w = await seededWorld();
  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  const list = async (q) => assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/conversations', { query: { ...WEEK, team_id: w.team, ...q } }), 200);
  const ids = (rows) => rows.map((r) => r.id);
  const newest = (rows) => [...rows].sort((a, b) => b.started - a.started || b.id - a.id);
  const c = w.convs;
  assert.deepEqual(
    (await list({ day: '2026-11-02' })).data.map((r) => r.conversation_id),
    ids(newest(c.filter((r) => r.started < T('2026-11-03T00:00:00Z')))),
  );
  assert.deepEqual(
    (await list({ agent_id: w.ben.id })).data.map((r) => r.conversation_id),
    ids(newest(c.filter((r) => r.agent === w.ben.id))),
  );
  assert.deepEqual(
    (await list({ hour_of_week: '0:10' })).data.map((r) => r.conversation_id),
    ids(newest(c.filter((r) => new Date(r.started).getUTCDay() === 1 && new Date(r.started).getUTCHours() === 10))),
  );
  assert.deepEqual(
    (await list({ outcome: 'missed' })).data.map((r) => r.conversation_id),
    ids(c.filter((r) => r.outcome === 'missed')),
  );
  assert.deepEqual(
    (await list({ rating: 'bad' })).data.map((r) => r.conversation_id),
    ids(c.filter((r) => r.rating === 'bad')),
  );

  // pages of 3 cover the week once, newest first
  const seen = [];
  let after;
  do {
    const page = await list({ limit: 3, ...(after ? { after } : {}) });
    assert.ok(page.data.length <= 3);
    seen.push(...page.data.map((r) => r.conversation_id));
    after = page.next;
  } while (after);
  assert.deepEqual(seen, ids(newest(c)));

  // the CSV: a header, then the same rows, column for column
  const all = (await list({ limit: 200 })).data;
  const res = await api(fx.srv, tok, 'GET', '/api/v1/reports/export', { query: { ...WEEK, team_id: w.team } });
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8/);
  assert.match(res.headers['content-disposition'], /attachment; filename="parley-report-2026-11-02-2026-11-08.csv"/);
  const rows = parseCsv(res.body);
  assert.deepEqual(rows[0], Object.keys(all[0]));
  assert.equal(rows.length - 1, all.length);
  for (let i = 0; i < all.length; i++) {
    const api1 = all[i];
    const csv = Object.fromEntries(rows[0].map((k, j) => [k, rows[i + 1][j]]));
    for (const [k, v] of Object.entries(api1)) {
      if (typeof v === 'number') {
        assert.equal(Number(csv[k]), v, `row ${api1.conversation_id}, column ${k}`);
        continue;
      }
      let want = v === null ? '' : String(v);
      if (typeof v === 'string' && /^[=+\-@\t\r]/.test(v)) want = `'${v}`;
      assert.equal(csv[k], want, `row ${api1.conversation_id}, column ${k}`);
    }
  }
  const esc = all.find((r) => r.escalations === 1);
  assert.equal(esc.rating_comment, '=1+1, "hi"');
  assert.ok(res.body.includes(`"'=1+1, ""hi"""`), 'quoted, and never a formula');
  // the numbers are the summary's: the sum of a column is the total
  const sum = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/summary', { query: { ...WEEK, team_id: w.team } }), 200).current;
  const col = (k) => rows.slice(1).map((r) => r[rows[0].indexOf(k)]);
  assert.equal(
    col('messages').reduce((a, v) => a + Number(v), 0),
    sum.messages.total,
  );
  const fr = col('first_response')
    .filter((v) => v !== '')
    .map(Number);
  assert.deepEqual(dist(fr), sum.first_response);
});

test('who sees what: an agent their own figures, supervisors all, tokens with reports:read; bad input is named', async () => {
  const w = await seededWorld();
  const q = { ...WEEK, team_id: String(w.team) };
  // Ben asks for Ana's figures and gets his own.
  const ben = assertJson(await sessionGet(w.ben, '/api/reports/summary', { ...q, agent_id: String(w.ana.id) }), 200);
  assert.deepEqual(withoutInvitations(ben.current), expectedMetrics(w.convs.filter((r) => r.agent === w.ben.id)));
  const benList = assertJson(await sessionGet(w.ben, '/api/reports/conversations', q), 200);
  assert.ok(benList.data.every((r) => r.agent_id === w.ben.id));
  const benAct = assertJson(await sessionGet(w.ben, '/api/reports/activity', q), 200);
  assert.deepEqual(
    benAct.agents.map((a) => a.agent_id),
    [w.ben.id],
  );
  // Sue, a supervisor, sees Ana's.
  const sue = assertJson(await sessionGet(w.sup, '/api/reports/summary', { ...q, agent_id: String(w.ana.id) }), 200);
  assert.deepEqual(withoutInvitations(sue.current), expectedMetrics(w.convs.filter((r) => r.agent === w.ana.id)));
  // No session, no report.
  assertProblem(await request(fx.srv, { method: 'GET', path: '/api/reports/summary' }), 401, 'unauthenticated');
  // Tokens: reports:read or admin.
  const read = await addToken(fx.pg, { scopes: ['conversations:read'] });
  assertProblem(await api(fx.srv, read, 'GET', '/api/v1/reports/summary', { query: q }), 403, 'insufficient_scope');
  const admin = await addToken(fx.pg, { scopes: ['admin'] });
  assertJson(await api(fx.srv, admin, 'GET', '/api/v1/reports/summary', { query: q }), 200);

  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  // A console page asks for several at once: past the two that run, they wait their turn.
  const many = await Promise.all(
    ['summary', 'timeseries', 'agents', 'heatmap', 'activity', 'conversations', 'summary', 'agents'].map((p) =>
      api(fx.srv, tok, 'GET', `/api/v1/reports/${p}`, { query: q }),
    ),
  );
  assert.deepEqual(
    many.map((r) => r.status),
    Array(8).fill(200),
  );
  const bad = async (path, query, field) => {
    const p = assertProblem(await api(fx.srv, tok, 'GET', `/api/v1/reports/${path}`, { query }), 400, 'invalid_request');
    assert.equal(p.errors[0].field, field, JSON.stringify(p));
  };
  await bad('summary', { tz: 'Mars/Olympus_Mons' }, 'tz');
  await bad('summary', { tz: '../../etc/passwd' }, 'tz');
  await bad('summary', { from: '2026-11-09', to: '2026-11-02' }, 'from');
  await bad('summary', { from: '2025-01-01', to: '2026-11-02' }, 'from');
  await bad('summary', { from: '2026-02-30' }, 'from');
  await bad('summary', { team_id: 'x' }, 'team_id');
  await bad('summary', { channel: 'email' }, 'channel');
  await bad('timeseries', { from: '2026-09-01', to: '2026-11-02', interval: 'hour' }, 'interval');
  await bad('timeseries', { interval: 'minute' }, 'interval');
  await bad('conversations', { outcome: 'lost' }, 'outcome');
  await bad('conversations', { hour_of_week: '7:00' }, 'hour_of_week');
  await bad('conversations', { limit: '0' }, 'limit');
  await bad('conversations', { limit: '201' }, 'limit');
  await bad('conversations', { after: "2026-11-02T10:00:00.000000Z,1' OR 1=1" }, 'after');
  await bad('export', { rating: 'meh' }, 'rating');
  // No dates: the last seven days, today included, in the zone asked for.
  const today = (await fx.pg.query("SELECT (now() AT TIME ZONE 'Asia/Tokyo')::date::text AS d, ((now() AT TIME ZONE 'Asia/Tokyo')::date - 6)::text AS f"))
    .rows[0];
  const dflt = assertJson(await api(fx.srv, tok, 'GET', '/api/v1/reports/summary', { query: { tz: 'Asia/Tokyo' } }), 200);
  assert.equal(dflt.period.to, today.d);
  assert.equal(dflt.period.from, today.f);
});

test('the answers of /api/v1/reports match their schemas in docs/openapi.yaml', async () => {
  const w = await seededWorld();
  const spec = loadSpec();
  const tok = await addToken(fx.pg, { scopes: ['reports:read'] });
  for (const name of ['summary', 'timeseries', 'agents', 'heatmap', 'activity', 'conversations']) {
    const pattern = `/api/v1/reports/${name}`;
    const body = assertJson(await api(fx.srv, tok, 'GET', pattern, { query: { ...WEEK, team_id: w.team } }), 200);
    const schema = responseSchema(spec, 'GET', pattern, 200, 'application/json');
    assert.ok(schema, `docs/openapi.yaml has no application/json schema for GET ${pattern} 200`);
    const rows = body.buckets || body.agents || body.data;
    if (rows) assert.ok(rows.length > 0, `GET ${pattern}: rows to check`);
    assert.deepEqual(checkSchema(spec, schema, body, { strict: true }), [], `GET ${pattern} answer does not match docs/openapi.yaml`);
  }
});
