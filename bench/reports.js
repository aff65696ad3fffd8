'use strict';
// bench/reports: how long reports take over a large history
// (docs/performance.md, "Reports over a million conversations").
//
// A throw-away cluster (tests/helpers/pg.js), migrated by the parleyd under
// test; -n conversations spread over the last --days days (more in the
// working hours), with their record written set-based as the triggers would
// (started, queued or bot, assigned, first reply, transfers, close, missed,
// reopen, rating), labels, and every agent's states each day. Then the
// report rows are rebuilt from the record (parley_report_rebuild, in
// batches: the catch-up's throughput), ANALYZE, and each report is timed as
// parleyd calls it (the same SQL functions), the median of -r runs.

const path = require('node:path');

const { eachOption, num, REPO_ROOT, summarize } = require('./selfhost');

const HELP = `usage: bench/reports [options]
  -n, --conversations N  conversations in the history                   [1000000]
  --days N               days the history covers, up to today            [365]
  -r, --runs N           runs per report (the median is printed)         [5]
  --batch N              conversations per rebuild call                  [50000]
  --plans                print the plan of the typical report (EXPLAIN ANALYZE)
  --parleyd PATH         the build whose schema and functions are measured [backend/parleyd]
  --json                 the results as JSON on stdout
  --keep                 leave the cluster running at the end (its URL on stderr) until Ctrl-C
  -h, --help
`;

function parseArgs(argv) {
  const o = { conversations: 1000000, days: 365, runs: 5, batch: 50000, plans: false, parleyd: '', json: false, keep: false };
  eachOption(argv, (arg, value) => {
    switch (arg) {
      case '-n':
      case '--conversations':
        o.conversations = num(arg, value(), 100, 20000000);
        return;
      case '--days':
        o.days = num(arg, value(), 30, 3650);
        return;
      case '-r':
      case '--runs':
        o.runs = num(arg, value(), 1, 100);
        return;
      case '--batch':
        o.batch = num(arg, value(), 100, 1000000);
        return;
      case '--plans':
        o.plans = true;
        return;
      case '--parleyd':
        o.parleyd = value();
        return;
      case '--json':
        o.json = true;
        return;
      case '--keep':
        o.keep = true;
        return;
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
        return;
      default:
        throw new Error(`unknown option ${arg} (see --help)`);
    }
  });
  return o;
}

const TEAMS = 5;
const AGENTS = 40;
const SITES = 3;
const LABELS = 10;

/** The history, set-based: one statement per table. */
async function generate(client, o, log) {
  const t0 = Date.now();
  await client.query('SET session_replication_role = replica');
  const team0 = Number((await client.query(`INSERT INTO teams (name) SELECT 'Bench team ' || g FROM generate_series(1, ${TEAMS}) g RETURNING id`)).rows[0].id);
  const agent0 = Number(
    (
      await client.query(
        `INSERT INTO agents (email, name, role, password_hash)
         SELECT 'bench' || g || '@example.com', 'Bench agent ' || g, 'agent', 'x' FROM generate_series(1, ${AGENTS}) g RETURNING id`,
      )
    ).rows[0].id,
  );
  await client.query(`INSERT INTO team_members (team_id, agent_id)
                      SELECT ${team0} + (g - 1) % ${TEAMS}, ${agent0} + g - 1 FROM generate_series(1, ${AGENTS}) g`);
  const site0 = Number(
    (
      await client.query(
        `INSERT INTO sites (name, public_key, default_team_id)
         SELECT 'Bench site ' || g, 'benchsite' || g || md5(random()::text), ${team0} FROM generate_series(1, ${SITES}) g RETURNING id`,
      )
    ).rows[0].id,
  );
  const label0 = Number((await client.query(`INSERT INTO labels (name) SELECT 'bench-' || g FROM generate_series(1, ${LABELS}) g RETURNING id`)).rows[0].id);
  const visitors = Math.max(1, Math.floor(o.conversations / 10));
  const visitor0 = Number((await client.query(`INSERT INTO visitors (site_id) SELECT ${site0} FROM generate_series(1, ${visitors}) RETURNING id`)).rows[0].id);
  const conv0 = Number((await client.query('SELECT coalesce(max(id), 0) + 1 AS id FROM conversations')).rows[0].id);
  log(`workspace: ${TEAMS} teams, ${AGENTS} agents, ${SITES} sites, ${LABELS} labels, ${visitors} visitors`);

  // Each conversation's timeline, drawn once: a start (a uniform day, an
  // hour weighted to the working day), what happens and after how long.
  // Numbered in start order, as conversations are created: the table's
  // rows lie in time order, as they do in a real history.
  await client.query(`CREATE TEMP TABLE gen AS
    SELECT ${conv0} + row_number() OVER (ORDER BY x.started) - 1 AS id, x.*,
           x.started + make_interval(secs => x.wait) AS assigned_at,
           x.started + make_interval(secs => x.wait + x.reply) AS replied_at,
           x.started + make_interval(secs => x.wait + x.reply + x.handle) AS closed_at
      FROM generate_series(1, ${o.conversations}) g,
           LATERAL (SELECT date_trunc('day', now()) - make_interval(days => (random() * ${o.days - 1})::int)
                           + make_interval(hours => CASE WHEN random() < 0.85 THEN 8 + (random() * 10)::int
                                                         ELSE (random() * 23)::int END,
                                           secs => random() * 3599) AS started,
                           ${team0} + (g % ${TEAMS}) AS team_id, ${site0} + (g % ${SITES}) AS site_id,
                           ${agent0} + (g * 7 % ${AGENTS}) AS agent_id, ${agent0} + ((g * 7 + 1) % ${AGENTS}) AS agent2,
                           ${visitor0} + (g % ${visitors}) AS visitor_id,
                           random() AS r_kind, random() < 0.05 AS transfer, random() < 0.02 AS reopen,
                           random() < 0.3 AS rated, random() < 0.85 AS good, random() < 0.2 AS labelled,
                           -ln(1 - random()) * 45 AS wait, -ln(1 - random()) * 60 AS reply,
                           60 + -ln(1 - random()) * 900 AS handle, g % 50 = 0 AS api) x`);
  // r_kind: offline < 0.03, bot alone < 0.08, missed < 0.16, bot then person < 0.26, else answered
  await client.query(`INSERT INTO conversations (id, site_id, visitor_id, team_id, status, offline, channel, rating,
                                                 created_at, closed_at, closed_by_kind, first_response_at)
    OVERRIDING SYSTEM VALUE
    SELECT id, site_id, visitor_id, team_id, 'closed', r_kind < 0.03, CASE WHEN api THEN 'api' ELSE 'widget' END,
           CASE WHEN rated AND r_kind >= 0.16 THEN CASE WHEN good THEN 'good' ELSE 'bad' END END,
           started, closed_at, CASE WHEN r_kind >= 0.08 AND r_kind < 0.16 THEN 'visitor' ELSE 'agent' END,
           CASE WHEN r_kind >= 0.16 OR r_kind < 0.03 THEN replied_at END
      FROM gen ORDER BY id`);
  await client.query(`SELECT setval(pg_get_serial_sequence('conversations', 'id'), (SELECT max(id) FROM conversations))`);
  await client.query(`INSERT INTO conversation_events (conversation_id, at, kind, agent_id, team_id, data)
    SELECT e.conversation_id, e.at, e.kind, e.agent_id, e.team_id, e.data FROM (
      SELECT id AS conversation_id, started AS at, 1 AS ord, 'started' AS kind, NULL::bigint AS agent_id, team_id,
             jsonb_build_object('channel', CASE WHEN api THEN 'api' ELSE 'widget' END, 'offline', r_kind < 0.03) AS data
        FROM gen
      UNION ALL SELECT id, started, 2, 'offline', NULL, team_id, NULL FROM gen WHERE r_kind < 0.03
      UNION ALL SELECT id, started, 3, 'bot', NULL, NULL, NULL FROM gen WHERE r_kind >= 0.03 AND r_kind < 0.08 OR r_kind >= 0.16 AND r_kind < 0.26
      UNION ALL SELECT id, CASE WHEN r_kind >= 0.16 AND r_kind < 0.26 THEN started + interval '30 seconds' ELSE started END, 4,
                       'queued', NULL, team_id, NULL FROM gen WHERE NOT (r_kind >= 0.03 AND r_kind < 0.08)
      UNION ALL SELECT id, assigned_at, 5, 'assigned', agent_id, team_id, NULL FROM gen WHERE r_kind >= 0.16 OR r_kind < 0.03
      UNION ALL SELECT id, replied_at, 6, 'first_reply', agent_id, team_id, NULL FROM gen WHERE r_kind >= 0.16 OR r_kind < 0.03
      UNION ALL SELECT id, replied_at + interval '2 minutes', 7, 'transferred', agent2, team_id, NULL FROM gen
                 WHERE transfer AND (r_kind >= 0.16 OR r_kind < 0.03)
      UNION ALL SELECT id, closed_at, 8, 'closed', NULL, team_id,
                       jsonb_build_object('by', CASE WHEN r_kind >= 0.08 AND r_kind < 0.16 THEN 'visitor' ELSE 'agent' END)
                  FROM gen
      UNION ALL SELECT id, closed_at, 9, 'missed', NULL, team_id, NULL FROM gen WHERE r_kind >= 0.08 AND r_kind < 0.16
      UNION ALL SELECT id, closed_at + interval '30 minutes', 10, 'reopened', NULL, team_id, NULL FROM gen WHERE reopen AND r_kind >= 0.16
      UNION ALL SELECT id, closed_at + interval '30 minutes', 11, 'assigned', agent_id, team_id, NULL FROM gen WHERE reopen AND r_kind >= 0.16
      UNION ALL SELECT id, closed_at + interval '40 minutes', 12, 'closed', NULL, team_id, jsonb_build_object('by', 'agent')
                  FROM gen WHERE reopen AND r_kind >= 0.16
      UNION ALL SELECT id, closed_at + interval '41 minutes', 13, 'rated', NULL, team_id,
                       jsonb_build_object('rating', CASE WHEN good THEN 'good' ELSE 'bad' END, 'comment', random() < 0.3)
                  FROM gen WHERE rated AND r_kind >= 0.16) e
    ORDER BY e.conversation_id, e.at, e.ord`);
  await client.query(`INSERT INTO conversation_labels (conversation_id, label_id)
                      SELECT id, ${label0} + id % ${LABELS} FROM gen WHERE labelled`);
  // Each agent's day: online from about 08:00, away for lunch, offline at about 17:00.
  await client.query(`INSERT INTO agent_activity (agent_id, at, state)
    SELECT a, d + make_interval(hours => h.h, secs => random() * 1800), h.state
      FROM generate_series(${agent0}, ${agent0 + AGENTS - 1}) a,
           generate_series(date_trunc('day', now()) - make_interval(days => ${o.days - 1}), date_trunc('day', now()), interval '1 day') d,
           (VALUES (8, 'online'), (12, 'away'), (13, 'online'), (17, 'offline')) h(h, state)
     ORDER BY 2`);
  await client.query('SET session_replication_role = DEFAULT');
  const events = Number((await client.query('SELECT count(*) AS n FROM conversation_events')).rows[0].n);
  log(`history: ${o.conversations} conversations, ${events} events in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { team: team0, agent: agent0, site: site0, label: label0, events };
}

/** report_conversations from the record, in batches: the catch-up's throughput. */
async function rebuild(client, o, log) {
  const t0 = Date.now();
  const ids = (await client.query('SELECT min(id) AS lo, max(id) AS hi FROM conversations')).rows[0];
  const lo = Number(ids.lo);
  const hi = Number(ids.hi);
  for (let a = lo; a <= hi; a += o.batch) {
    await client.query('SELECT parley_report_rebuild(ARRAY(SELECT generate_series($1::bigint, $2::bigint)))', [a, Math.min(hi, a + o.batch - 1)]);
  }
  const seconds = (Date.now() - t0) / 1000;
  await client.query('ANALYZE');
  log(`rebuilt ${o.conversations} report rows in ${seconds.toFixed(1)} s (${Math.round(o.conversations / seconds)} rows/s)`);
  return { seconds, rows_per_second: o.conversations / seconds };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.parleyd) process.env.PARLEYD = path.resolve(o.parleyd);
  const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
  const { startParleyd } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
  const { Client } = require(path.join(REPO_ROOT, 'node_modules', 'pg'));
  const log = (s) => process.stderr.write(`reports: ${s}\n`);

  const pg = await startCluster({ database: 'reports' });
  const client = new Client({ connectionString: pg.url });
  const results = { conversations: o.conversations, days: o.days, reports: [] };
  try {
    await client.connect();
    // parleyd migrates and applies the functions, then leaves.
    const srv = await startParleyd({ databaseUrl: pg.url, env: {} });
    await srv.stop();
    // As parleyd's sessions (backend/src/main.c): no JIT.
    await client.query('SET jit = off');
    const w = await generate(client, o, log);
    results.events = w.events;
    results.rebuild = await rebuild(client, o, log);
    const today = (await client.query("SELECT (now() AT TIME ZONE 'UTC')::date AS d")).rows[0].d;
    const day = (n) => new Date(today.getTime() - n * 86400000).toISOString().slice(0, 10);
    const to = day(0);
    const m30 = day(29);
    const m7 = day(6);
    const year = day(Math.min(o.days, 366) - 1);
    const F = (from, { team = null, agent = null, site = null, label = null, tz = 'Europe/Paris' } = {}) => [from, to, tz, team, agent, site, label, null];
    const reports = [
      ['summary, 30 days (typical)', 'SELECT parley_report_summary($1, $2, $3, $4, $5, $6, $7, $8)', F(m30)],
      ['summary, 7 days', 'SELECT parley_report_summary($1, $2, $3, $4, $5, $6, $7, $8)', F(m7)],
      ['summary, 30 days, one team', 'SELECT parley_report_summary($1, $2, $3, $4, $5, $6, $7, $8)', F(m30, { team: w.team })],
      ['summary, 30 days, one agent', 'SELECT parley_report_summary($1, $2, $3, $4, $5, $6, $7, $8)', F(m30, { agent: w.agent })],
      ['summary, 30 days, one label', 'SELECT parley_report_summary($1, $2, $3, $4, $5, $6, $7, $8)', F(m30, { label: w.label })],
      ['time series by day, 30 days', "SELECT parley_report_timeseries($1, $2, $3, 'day', $4, $5, $6, $7, $8)", F(m30)],
      ['per agent, 30 days', 'SELECT parley_report_agents($1, $2, $3, $4, $5, $6, $7, $8)', F(m30)],
      ['heatmap, 30 days', 'SELECT parley_report_heatmap($1, $2, $3, $4, $5, $6, $7, $8)', F(m30)],
      ['activity, 30 days', 'SELECT parley_report_activity($1, $2, $3, $4, $5)', F(m30).slice(0, 5)],
      [
        'drill-down page, 30 days, one day',
        `SELECT count(*) FROM parley_report_list($1, $2, $3, $4, $5, $6, $7, $8, $2, NULL, NULL, NULL, NULL, NULL, NULL, 51)`,
        F(m30),
      ],
      ['summary, a year', 'SELECT parley_report_summary($1, $2, $3, $4, $5, $6, $7, $8)', F(year)],
      ['time series by week, a year', "SELECT parley_report_timeseries($1, $2, $3, 'week', $4, $5, $6, $7, $8)", F(year)],
      [
        'CSV rows, 30 days (all)',
        `SELECT count(parley_csv_line(parley_report_row(r), false)) FROM parley_report_list($1, $2, $3, $4, $5, $6, $7, $8,
                 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL) r`,
        F(m30),
        true,
      ],
    ];
    for (const [name, sql, params, once] of reports) {
      await client.query(sql, params); // warm
      const ms = [];
      for (let i = 0; i < (once ? 1 : o.runs); i++) {
        const t0 = process.hrtime.bigint();
        await client.query(sql, params);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const s = summarize(ms);
      results.reports.push({ report: name, median_ms: s.p50, max_ms: s.max });
      log(`${name.padEnd(38)} median ${s.p50.toFixed(1).padStart(8)} ms   max ${s.max.toFixed(1).padStart(8)} ms`);
    }
    const inPeriod = Number((await client.query('SELECT count(*) AS n FROM report_conversations WHERE started_at >= $1::date', [m30])).rows[0].n);
    results.conversations_in_30_days = inPeriod;
    log(`(30 days hold ${inPeriod} conversations)`);
    if (o.plans) {
      const plan = await client.query(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM parley_report_metrics('all', 'Europe/Paris',
           $1::date::timestamp AT TIME ZONE 'Europe/Paris', ($2::date + 1)::timestamp AT TIME ZONE 'Europe/Paris',
           NULL, NULL, NULL, NULL, NULL)`,
        [m30, to],
      );
      process.stderr.write(plan.rows.map((r) => r['QUERY PLAN']).join('\n') + '\n');
    }
    if (o.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    if (o.keep) {
      log(`kept: ${pg.url} (Ctrl-C ends it)`);
      await new Promise((resolve) => process.once('SIGINT', resolve));
    }
  } finally {
    await client.end().catch(() => {});
    await pg.stop();
  }
}

module.exports = { main };
