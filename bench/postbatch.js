'use strict';
// bench/postbatch: what PostgreSQL's CPU costs per batch and per message when
// post_messages stores batches of a given size -- the message path's
// database side alone, without parleyd, sockets or a load generator sharing
// the cores (docs/performance.md, "Where PostgreSQL's time goes").
//
// A throw-away cluster (tests/helpers/pg.js), fsync on unless --no-fsync,
// migrated by the parleyd under test; -c conversations of their own
// visitors, assigned to one agent. For each batch size, one connection calls
// post_messages (a prepared statement, as parleyd's committer does) with
// visitor messages spread over the conversations, for -d seconds after a
// warm-up, and the backend's CPU time (/proc/<pid>/stat) is divided by calls
// and messages. --floor also times a plain multi-row INSERT of the same rows
// into messages (its indexes, foreign key and checks, nothing else): what
// storing the rows costs at that batch size. --stats adds the statements'
// times inside post_messages (pg_stat_statements, track = all).

const path = require('node:path');

const { procCpu } = require('./proc');
const { eachOption, num, REPO_ROOT, makeDurable, sleep } = require('./selfhost');

const HELP = `usage: bench/postbatch [options]
  -b, --batches LIST     batch sizes, comma-separated                    [1,8,16,32,100]
  -d, --duration S       seconds measured per batch size                  [3]
  -h, --help
  -c, --conversations N  conversations the messages are spread over       [500]
  --body-bytes N         bytes per message body                           [64]
  --floor                also a plain INSERT of the same rows per batch size
  --stats                the statements inside post_messages (pg_stat_statements)
  --no-fsync             PostgreSQL with fsync off (the tests' setting)
  --parleyd PATH         the build whose schema and functions are measured [backend/parleyd]
  --json                 the results as JSON on stdout
`;

function parseArgs(argv) {
  const o = { batches: [1, 8, 16, 32, 100], duration: 3, conversations: 500, bodyBytes: 64, floor: false, stats: false, fsync: true, parleyd: '', json: false };
  eachOption(argv, (arg, value) => {
    switch (arg) {
      case '-b':
      case '--batches':
        o.batches = value()
          .split(',')
          .map((x) => num(arg, x, 1, 256));
        return;
      case '-d':
      case '--duration':
        o.duration = num(arg, value(), 0.5, 600, false);
        return;
      case '-c':
      case '--conversations':
        o.conversations = num(arg, value(), 1, 100000);
        return;
      case '--body-bytes':
        o.bodyBytes = num(arg, value(), 1, 65536);
        return;
      case '--floor':
        o.floor = true;
        return;
      case '--stats':
        o.stats = true;
        return;
      case '--no-fsync':
        o.fsync = false;
        return;
      case '--parleyd':
        o.parleyd = value();
        return;
      case '--json':
        o.json = true;
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

/** CPU time (user + system) of a process, in µs. */
function cpuMicros(pid) {
  const seconds = procCpu(pid);
  if (seconds === null) throw new Error(`no /proc/${pid}/stat: the backend is gone`);
  return seconds * 1e6;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.parleyd) process.env.PARLEYD = path.resolve(o.parleyd);
  const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
  const { startParleyd } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
  const { Client } = require(path.join(REPO_ROOT, 'node_modules', 'pg'));
  const log = (s) => process.stderr.write(`postbatch: ${s}\n`);

  const pg = await startCluster({ database: 'postbatch' });
  const client = new Client({ connectionString: pg.url });
  const results = [];
  try {
    log('migrating with parleyd');
    const srv = await startParleyd({ databaseUrl: pg.url, env: {} });
    await srv.stop();
    if (o.stats) {
      await pg.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
      await pg.restart();
    }
    if (o.fsync) await makeDurable(pg);
    if (o.stats) {
      await pg.query('CREATE EXTENSION pg_stat_statements');
      await pg.query("ALTER SYSTEM SET pg_stat_statements.track = 'all'");
      await pg.query('SELECT pg_reload_conf()');
    }
    await client.connect();
    const site = (await client.query('SELECT id, default_team_id FROM sites ORDER BY id LIMIT 1')).rows[0];
    const agent = (
      await client.query(
        `INSERT INTO agents (email, name, role, password_hash, max_chats) VALUES ('postbatch@load.test', 'Bench', 'agent', 'x', 100)
         RETURNING id`,
      )
    ).rows[0].id;
    await client.query(`INSERT INTO visitors (site_id, name) SELECT $1, 'Visitor ' || g FROM generate_series(1, $2::int) g`, [site.id, o.conversations]);
    await client.query(
      `INSERT INTO conversations (site_id, visitor_id, team_id, assignee_id, status, assigned_at)
       SELECT $1, v.id, $2, $3, 'assigned', now() FROM visitors v ORDER BY v.id`,
      [site.id, site.default_team_id, agent],
    );
    const convs = (await client.query('SELECT id, visitor_id FROM conversations ORDER BY id')).rows.map((r) => ({
      c: Number(r.id),
      ai: Number(r.visitor_id),
    }));
    const pid = (await client.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const body = 'x'.repeat(o.bodyBytes);
    let key = 0;
    let next = 0;
    const items = (n) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const cv = convs[next++ % convs.length];
        out.push({ c: cv.c, ak: 'visitor', ai: cv.ai, k: 'message', b: body, cm: `pb-${key++}` });
      }
      return out.sort((a, b) => a.c - b.c);
    };
    const post = { name: 'postbatch_post', text: 'SELECT idx, status, message FROM post_messages($1::jsonb)' };
    const plain = {
      name: 'postbatch_floor',
      text: `INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body, client_msg_id)
             SELECT (e->>'c')::bigint, (e->>'s')::bigint, 'visitor', (e->>'ai')::bigint, 'message', e->>'b', e->>'cm'
               FROM jsonb_array_elements($1::jsonb) e`,
    };
    // The floor's rows take seqs far above post_messages' own.
    let floorSeq = 1e12;
    const run = async (what, n, seconds) => {
      const t0 = Date.now();
      const c0 = cpuMicros(pid);
      let calls = 0;
      while (Date.now() - t0 < seconds * 1000) {
        if (what === 'floor') {
          const rows = items(n).map((x) => ({ ...x, s: ++floorSeq }));
          await client.query({ ...plain, values: [JSON.stringify(rows)] });
        } else {
          const r = await client.query({ ...post, values: [JSON.stringify(items(n))] });
          if (r.rows.some((x) => x.status !== 'ok')) throw new Error(`post_messages refused: ${JSON.stringify(r.rows[0])}`);
        }
        calls++;
      }
      const cpu = cpuMicros(pid) - c0;
      return { calls, messages: calls * n, cpu_us_per_call: cpu / calls, cpu_us_per_message: cpu / (calls * n), wall_ms: Date.now() - t0 };
    };
    for (const n of o.batches) {
      const row = { batch: n };
      await run('post', n, Math.min(1, o.duration / 3));
      if (o.stats) await client.query('SELECT pg_stat_statements_reset()');
      row.post = await run('post', n, o.duration);
      if (o.stats) {
        const st = await client.query(
          `SELECT calls, total_exec_time / calls * 1000 AS us_per_call, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS statement
             FROM pg_stat_statements WHERE calls >= $1 AND query NOT LIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC LIMIT 8`,
          [row.post.calls],
        );
        row.statements = st.rows.map((r) => ({ calls: Number(r.calls), us_per_call: Number(r.us_per_call), statement: r.statement }));
      }
      if (o.floor) {
        await run('floor', n, Math.min(1, o.duration / 3));
        row.floor = await run('floor', n, o.duration);
      }
      results.push(row);
      log(
        `batch ${n}: post_messages ${row.post.cpu_us_per_call.toFixed(0)} µs/call, ${row.post.cpu_us_per_message.toFixed(1)} µs/message` +
          (row.floor ? `; plain INSERT ${row.floor.cpu_us_per_call.toFixed(0)} µs/call, ${row.floor.cpu_us_per_message.toFixed(1)} µs/message` : ''),
      );
      await sleep(100);
    }
  } finally {
    await client.end().catch(() => {});
    await pg.stop();
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ fsync: o.fsync, conversations: o.conversations, body_bytes: o.bodyBytes, results }, null, 2)}\n`);
    return;
  }
  const lines = [
    `post_messages, one connection, ${o.conversations} conversations, ${o.bodyBytes}-byte bodies, fsync ${o.fsync ? 'on' : 'off'}; CPU of the backend`,
    'batch  calls  µs/call  µs/message' + (o.floor ? '  floor µs/call  floor µs/message' : ''),
  ];
  for (const r of results) {
    lines.push(
      `${String(r.batch).padStart(5)}  ${String(r.post.calls).padStart(5)}  ${r.post.cpu_us_per_call.toFixed(0).padStart(7)}  ${r.post.cpu_us_per_message
        .toFixed(1)
        .padStart(10)}` + (r.floor ? `  ${r.floor.cpu_us_per_call.toFixed(0).padStart(13)}  ${r.floor.cpu_us_per_message.toFixed(1).padStart(16)}` : ''),
    );
    for (const s of r.statements || []) lines.push(`         ${String(s.calls).padStart(6)} × ${s.us_per_call.toFixed(0).padStart(5)} µs  ${s.statement}`);
  }
  if (results.length >= 2) {
    // Least squares over the batch sizes: CPU per call = fixed + n × per message.
    const xs = results.map((r) => r.batch);
    const ys = results.map((r) => r.post.cpu_us_per_call);
    const mx = xs.reduce((a, b) => a + b) / xs.length;
    const my = ys.reduce((a, b) => a + b) / ys.length;
    const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    lines.push(`fit: ~${(my - slope * mx).toFixed(0)} µs per call + ~${slope.toFixed(1)} µs per message`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

module.exports = { main };
