'use strict';
// chatload: a load generator for parleyd's WebSocket chat path.
//
// Opens N visitor and M agent connections, has every visitor start a
// conversation and waits until the router has assigned them all to the
// agents, then sends visitor messages at a steady total rate R for D seconds
// (optionally the agents answer a fraction of them), and reports throughput,
// latency (visitor send -> agent receive, matched by client_msg_id; send ->
// ack), errors by code and the server's memory and CPU.
//
// `bench/chatload --help` lists the options; bench/README.md explains them.
// Every target must be on loopback; every loop is bounded in count and time.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { performance, monitorEventLoopDelay } = require('node:perf_hooks');

const REPO_ROOT = path.resolve(__dirname, '..');
const WebSocket = require(path.join(REPO_ROOT, 'node_modules', 'ws'));

const MiB = 1024 * 1024;
const { CLK_TCK, procCpu, treeCpu, machineCpu } = require('./proc');

// ---- options -----------------------------------------------------------------

const HELP = `Usage: bench/chatload [options]

Against a running server (remote mode, the default):
  --url URL              server base URL, loopback only     [$CHATLOAD_URL, http://127.0.0.1:8080]
  --origin ORIGIN        Origin header sent by visitors and agents
                                                            [$CHATLOAD_ORIGIN, origin of --url]
  --site-key KEY         the site's public key              [$CHATLOAD_SITE_KEY]
  --agent-email LIST     agent logins: a pattern with {n} (1..M), e.g. bench{n}@load.test,
                         or a comma-separated list           [$CHATLOAD_AGENT_EMAIL]
  --agent-password PW    the agents' password               [$CHATLOAD_AGENT_PASSWORD]
  --database-url URL     optional: before the run, raise the agents' max_chats to fit and
                         put them in the site's team         [$CHATLOAD_DATABASE_URL]
  --pid PID              parleyd's pid for RSS/CPU (default: found by port with ss -ltnp)

Self-hosted (one command):
  --self                 start a throw-away PostgreSQL and parleyd (tests/helpers), create
                         M agents in team Support, raise the limits the run needs, run, stop
  --threads N            PARLEY_HTTP_THREADS for the server  [visitors + agents + 64]
  --server-env K=V       extra environment for parleyd (repeatable; overrides chatload's)
  --pg-durable           restart the throw-away PostgreSQL with fsync on (the test helper
                         starts it with fsync=off)
  --server-log FILE      write parleyd's output there at the end
  --parleyd PATH         the parleyd binary to run                            [$PARLEYD, backend/parleyd]
  --pg-stats             load pg_stat_statements (track = all) and report the statements
                         that took PostgreSQL's time during the load

Load:
  -n, --visitors N       visitor connections, one conversation each          [50]
  -m, --agents M         agent connections (distinct agents)                  [5]
  -r, --rate R           total messages per second (visitor sends + replies)  [200]
  -d, --duration D       measured seconds                                     [20]
  --warmup S             seconds of load before the measured window           [3]
  --reply P              fraction 0..1 of visitor messages an agent answers   [0]
  --body-bytes B         message body size                                    [64]
  --connect-concurrency C  connections being set up at once                   [32]
  --setup-timeout S      give up setting up after this long                   [180]
  --drain S              after the window, wait this long for late acks and
                         deliveries                                           [15]
  --no-subscribe         agents do not send queue.subscribe
  --no-close             leave the conversations open at the end

Output:
  --json                 print the report as JSON (after the text, or alone with --quiet)
  --quiet                no progress lines, no text report

Shared machines:
  --wait-idle S          before the run, wait up to S seconds for the machine to be quiet
                         (other processes below 25% of one core for 3 s); the report shows
                         how much CPU other processes used during the window either way
  -h, --help
`;

function parseArgs(argv) {
  const env = process.env;
  const o = {
    self: false,
    url: env.CHATLOAD_URL || 'http://127.0.0.1:8080',
    origin: env.CHATLOAD_ORIGIN || '',
    siteKey: env.CHATLOAD_SITE_KEY || '',
    agentEmail: env.CHATLOAD_AGENT_EMAIL || '',
    agentPassword: env.CHATLOAD_AGENT_PASSWORD || '',
    databaseUrl: env.CHATLOAD_DATABASE_URL || '',
    pid: 0,
    threads: 0,
    serverEnv: {},
    pgDurable: false,
    pgStats: false,
    parleyd: '',
    waitIdle: 0,
    serverLog: '',
    visitors: 50,
    agents: 5,
    rate: 200,
    duration: 20,
    warmup: 3,
    reply: 0,
    bodyBytes: 64,
    connectConcurrency: 32,
    setupTimeout: 180,
    drain: 15,
    subscribe: true,
    close: true,
    json: false,
    quiet: false,
  };
  const num = (name, v, lo, hi, int = true) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < lo || n > hi || (int && !Number.isInteger(n))) {
      throw new Error(`${name}: expected ${int ? 'an integer' : 'a number'} from ${lo} to ${hi}, got ${v}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      val = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const next = () => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
        break;
      case '--self':
        o.self = true;
        break;
      case '--url':
        o.url = next();
        break;
      case '--origin':
        o.origin = next();
        break;
      case '--site-key':
        o.siteKey = next();
        break;
      case '--agent-email':
        o.agentEmail = next();
        break;
      case '--agent-password':
        o.agentPassword = next();
        break;
      case '--database-url':
        o.databaseUrl = next();
        break;
      case '--pid':
        o.pid = num(a, next(), 1, 1 << 30);
        break;
      case '--threads':
        o.threads = num(a, next(), 4, 30000);
        break;
      case '--server-env': {
        const kv = next();
        const k = kv.indexOf('=');
        if (k <= 0) throw new Error(`--server-env: expected KEY=VALUE, got ${kv}`);
        o.serverEnv[kv.slice(0, k)] = kv.slice(k + 1);
        break;
      }
      case '--pg-durable':
        o.pgDurable = true;
        break;
      case '--server-log':
        o.serverLog = next();
        break;
      case '--parleyd':
        o.parleyd = next();
        break;
      case '--wait-idle':
        o.waitIdle = num(a, next(), 0, 3600, false);
        break;
      case '--pg-stats':
        o.pgStats = true;
        break;
      case '-n':
      case '--visitors':
        o.visitors = num(a, next(), 1, 20000);
        break;
      case '-m':
      case '--agents':
        o.agents = num(a, next(), 1, 2000);
        break;
      case '-r':
      case '--rate':
        o.rate = num(a, next(), 0.1, 100000, false);
        break;
      case '-d':
      case '--duration':
        o.duration = num(a, next(), 1, 3600, false);
        break;
      case '--warmup':
        o.warmup = num(a, next(), 0, 600, false);
        break;
      case '--reply':
        o.reply = num(a, next(), 0, 1, false);
        break;
      case '--body-bytes':
        o.bodyBytes = num(a, next(), 1, 16000);
        break;
      case '--connect-concurrency':
        o.connectConcurrency = num(a, next(), 1, 1000);
        break;
      case '--setup-timeout':
        o.setupTimeout = num(a, next(), 5, 3600, false);
        break;
      case '--drain':
        o.drain = num(a, next(), 0, 600, false);
        break;
      case '--no-subscribe':
        o.subscribe = false;
        break;
      case '--no-close':
        o.close = false;
        break;
      case '--json':
        o.json = true;
        break;
      case '--quiet':
        o.quiet = true;
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  return o;
}

/** Refuse anything that is not a loopback address. */
function checkLoopback(urlString) {
  const u = new URL(urlString);
  if (u.protocol !== 'http:') throw new Error(`--url: only http:// is supported (got ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`--url: chatload only targets loopback (127.0.0.0/8, ::1, localhost), not ${host}`);
  }
  return u;
}

function expandEmails(spec, m) {
  if (!spec) return [];
  if (spec.includes('{n}')) return Array.from({ length: m }, (_, i) => spec.replaceAll('{n}', String(i + 1)));
  const list = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list;
}

// ---- small utilities ----------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

let quiet = false;
function progress(msg) {
  if (!quiet) process.stderr.write(`chatload: ${msg}\n`);
}

/** Runs fn over items with at most `limit` in flight. */
async function pool(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summarize(values) {
  const a = Float64Array.from(values).sort();
  if (!a.length) return { count: 0, p50: null, p95: null, p99: null, max: null, mean: null };
  let sum = 0;
  for (const v of a) sum += v;
  const r = (v) => Math.round(v * 100) / 100;
  return {
    count: a.length,
    p50: r(percentile(a, 50)),
    p95: r(percentile(a, 95)),
    p99: r(percentile(a, 99)),
    max: r(a[a.length - 1]),
    mean: r(sum / a.length),
  };
}

/** One HTTP request with its own connection (keep-alive would hold a server worker thread). */
function httpRequest(base, { method = 'GET', path: p = '/', headers = {}, json, timeoutMs = 20000 }) {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
    const h = { ...headers };
    if (body) {
      h['Content-Type'] = 'application/json';
      h['Content-Length'] = String(body.length);
    }
    const req = http.request({ host: base.hostname, port: Number(base.port) || 80, method, path: p, headers: h, agent: false, timeout: timeoutMs });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json: parsed });
      });
    });
    req.end(body);
  });
}

// ---- the server process: pid, RSS, CPU ---------------------------------------------

function findPidByPort(port) {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => {
      const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s);
      return m ? Number(m[1]) * 1024 : null;
    };
    const t = /^Threads:\s+(\d+)/m.exec(s);
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: t ? Number(t[1]) : null };
  } catch {
    return null;
  }
}

// ---- self-hosted mode -------------------------------------------------------------------

const SELF_PASSWORD = 'chatload correct horse battery';

/** Rewrites postmaster.opts without fsync=off and restarts the cluster from it. */
async function makeDurable(pg) {
  const { pgInfo } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
  const info = pgInfo();
  const optsFile = path.join(pg.dataDir, 'postmaster.opts');
  const opts = fs.readFileSync(optsFile, 'utf8');
  const fixed = opts.replace(/\s+"-c"\s+"fsync=off"/, '');
  if (fixed === opts) throw new Error(`--pg-durable: no fsync=off in ${optsFile}`);
  fs.writeFileSync(optsFile, fixed);
  const exe = path.join(info.bindir, 'pg_ctl');
  const args = ['restart', '-m', 'fast', '-w', '-t', '60', '-D', pg.dataDir, '-l', path.join(pg.dir, 'postgres.log')];
  const [cmd, argv] = info.runAs
    ? ['setpriv', ['--reuid', String(info.runAs.uid), '--regid', String(info.runAs.gid), '--clear-groups', '--', exe, ...args]]
    : [exe, args];
  const env = { ...process.env, LC_ALL: 'C' };
  for (const k of Object.keys(env)) if (k.startsWith('PG')) delete env[k];
  execFileSync(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 90000 });
  const r = await pg.query('SHOW fsync');
  if (r.rows[0].fsync !== 'on') throw new Error('--pg-durable: fsync is still off');
}

function parleydVersion(bin) {
  try {
    const v = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const st = fs.statSync(bin);
    return `${v} (${bin}, built ${st.mtime.toISOString()})`;
  } catch (e) {
    return `unknown (${bin}: ${e.message.split('\n')[0]})`;
  }
}

/** Waits (bounded) until the machine's busy time over 3 s is below 25% of one core. */
async function waitIdle(seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const a = machineCpu();
    await sleep(3000);
    const b = machineCpu();
    const busyPct = a && b ? (100 * (b.busy - a.busy)) / CLK_TCK / 3 : 0;
    if (busyPct < 25) return { waited: true, busy_pct: round(busyPct) };
    if (Date.now() > deadline) return { waited: false, busy_pct: round(busyPct) };
    progress(`waiting for the machine to be quiet (busy ${round(busyPct)}% of one core)`);
  }
}

async function startSelf(o) {
  if (o.parleyd) process.env.PARLEYD = path.resolve(o.parleyd);
  const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
  const { startParleyd, addAgent } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
  progress('self-hosted: starting a throw-away PostgreSQL');
  const pg = await startCluster({ database: 'chatload' });
  if (o.pgStats) {
    progress('self-hosted: enabling pg_stat_statements');
    await pg.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await pg.restart();
    await pg.query("ALTER SYSTEM SET pg_stat_statements.track = 'all'");
    await pg.query('ALTER SYSTEM SET pg_stat_statements.track_planning = on');
    await pg.query('SELECT pg_reload_conf()');
    await pg.query('CREATE EXTENSION pg_stat_statements');
  }
  if (o.pgDurable) {
    progress('self-hosted: restarting PostgreSQL with fsync on');
    await makeDurable(pg);
  }
  const perVisitorRate = o.rate / o.visitors;
  const windowSeconds = 10;
  const threads = o.threads || Math.min(30000, o.visitors + o.agents + 64);
  const sockets = o.visitors + o.agents;
  const reserved = Math.max(1, Math.min(32, Math.floor(threads / 8)));
  const env = {
    PARLEY_LOG_LEVEL: 'info',
    PARLEY_HTTP_THREADS: threads,
    // Every socket and request of the run comes from 127.0.0.1: the
    // per-address limits (newer builds) must let one address hold them all.
    PARLEY_HTTP_RESERVED_THREADS: reserved,
    PARLEY_WS_MAX_UNAUTHENTICATED: Math.min(threads - reserved, Math.max(256, 2 * o.connectConcurrency)),
    PARLEY_WS_MAX_UNAUTHENTICATED_PER_IP: Math.max(256, 2 * o.connectConcurrency),
    PARLEY_WS_MAX_PER_IP: sockets + 64,
    PARLEY_MAX_CONNECTIONS_PER_IP: 2 * sockets + 256,
    PARLEY_HTTP_MAX_PER_IP: Math.max(64, 2 * o.connectConcurrency),
    PARLEY_VISITOR_RATE_WINDOW_SECONDS: windowSeconds,
    // Keep the limiter running, with room for twice the per-visitor rate.
    PARLEY_VISITOR_RATE_MESSAGES: Math.min(100000, Math.ceil(2 * perVisitorRate * windowSeconds) + 20),
    // Every visitor session comes from 127.0.0.1 (newer builds limit sessions per client IP).
    PARLEY_SESSION_RATE_PER_MINUTE: Math.min(1000000, 2 * o.visitors + 100),
    ...o.serverEnv,
  };
  progress(
    `self-hosted: starting parleyd (${Object.entries(env)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')})`,
  );
  const srv = await startParleyd({ databaseUrl: pg.url, env, timeoutMs: 30000 });
  const { parleydPath } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
  const version = parleydVersion(parleydPath());

  // One agent through `parleyd agent add` (scrypt hash), the others copy its hash.
  const email = (n) => `bench${n}@load.test`;
  progress(`self-hosted: creating ${o.agents} agents`);
  const first = await addAgent(pg.url, { email: email(1), name: 'Bench agent 1', role: 'agent', password: SELF_PASSWORD });
  if (o.agents > 1) {
    await pg.query(
      `INSERT INTO agents (email, name, role, password_hash)
       SELECT 'bench' || g || '@load.test', 'Bench agent ' || g, 'agent', a.password_hash
       FROM agents a, generate_series(2, $2::int) g WHERE a.id = $1::bigint`,
      [first, o.agents],
    );
  }
  const site = (await pg.query('SELECT s.public_key, s.default_team_id FROM sites s ORDER BY s.id LIMIT 1')).rows[0];
  const cap = await raiseCapacity(
    pg.query,
    Array.from({ length: o.agents }, (_, i) => email(i + 1)),
    site.default_team_id,
    o,
  );
  return {
    pg,
    srv,
    url: srv.url,
    origin: srv.origin,
    siteKey: site.public_key,
    emails: Array.from({ length: o.agents }, (_, i) => email(i + 1)),
    password: SELF_PASSWORD,
    pid: srv.pid,
    env,
    version,
    maxChats: cap,
    pgPid: () => {
      try {
        return Number(fs.readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return 0;
      }
    },
  };
}

/** max_chats so that every visitor's conversation finds an agent; team membership. */
async function raiseCapacity(query, emails, teamId, o) {
  const distinct = new Set(emails.map((e) => e.toLowerCase())).size;
  const need = Math.ceil(o.visitors / distinct) + 2;
  if (need > 100) throw new Error(`${o.visitors} visitors need ${need} chats per agent; the schema allows 100: use more agents`);
  const r = await query(`UPDATE agents SET max_chats = greatest(max_chats, $2::int) WHERE lower(email) = ANY ($1::text[]) RETURNING id`, [
    emails.map((e) => e.toLowerCase()),
    need,
  ]);
  if (teamId) {
    await query(
      `INSERT INTO team_members (team_id, agent_id) SELECT $1::bigint, id FROM agents WHERE lower(email) = ANY ($2::text[])
       ON CONFLICT DO NOTHING`,
      [teamId, emails.map((e) => e.toLowerCase())],
    );
  }
  if (r.rowCount !== distinct) progress(`warning: only ${r.rowCount} of ${distinct} agent emails exist in the database`);
  return need;
}

async function remoteCapacity(o, emails) {
  const pg = require(path.join(REPO_ROOT, 'node_modules', 'pg'));
  const query = async (sql, params) => {
    const c = new pg.Client({ connectionString: o.databaseUrl, connectionTimeoutMillis: 10000 });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end().catch(() => {});
    }
  };
  const site = (await query('SELECT default_team_id FROM sites WHERE public_key = $1', [o.siteKey])).rows[0];
  return raiseCapacity(query, emails, site ? site.default_team_id : 0, o);
}

// ---- the run --------------------------------------------------------------------------------

class Errors {
  constructor() {
    this.counts = new Map();
    this.samples = new Map();
  }
  add(code, detail) {
    this.counts.set(code, (this.counts.get(code) || 0) + 1);
    if (detail && !this.samples.has(code)) this.samples.set(code, String(detail).slice(0, 300));
  }
  total() {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
  toJSON() {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
  }
}

async function run(o) {
  quiet = o.quiet;
  const hardDeadlineMs = (o.waitIdle + o.setupTimeout + o.warmup + o.duration + o.drain + 180) * 1000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`chatload: giving up after ${Math.round(hardDeadlineMs / 1000)} s (watchdog)\n`);
    process.exit(3);
  }, hardDeadlineMs);

  let self = null;
  let base;
  let origin;
  let siteKey;
  let emails;
  let password;
  let pid = o.pid;
  let maxChats = null;
  const report = { config: {}, setup: {}, load: {}, server: {}, client: {} };

  try {
    if (o.waitIdle) {
      const w = await waitIdle(o.waitIdle);
      report.machine_before = w;
      if (!w.waited) progress(`warning: the machine did not become quiet (busy ${w.busy_pct}% of one core); running anyway`);
    }
    if (o.self) {
      self = await startSelf(o);
      base = checkLoopback(self.url);
      origin = self.origin;
      siteKey = self.siteKey;
      emails = self.emails;
      password = self.password;
      pid = self.pid;
      maxChats = self.maxChats;
    } else {
      base = checkLoopback(o.url);
      origin = o.origin || base.origin;
      siteKey = o.siteKey;
      emails = expandEmails(o.agentEmail, o.agents);
      password = o.agentPassword;
      if (!siteKey) throw new Error('--site-key (or $CHATLOAD_SITE_KEY) is required without --self');
      if (!emails.length || !password) throw new Error('--agent-email and --agent-password are required without --self');
      if (emails.length < o.agents) {
        throw new Error(`--agents ${o.agents} but --agent-email names ${emails.length}; use a pattern with {n}`);
      }
      emails = emails.slice(0, o.agents);
      if (o.databaseUrl) maxChats = await remoteCapacity(o, emails);
      if (!pid) pid = findPidByPort(Number(base.port) || 80);
    }
    report.config = {
      mode: o.self ? 'self' : 'remote',
      url: base.origin,
      visitors: o.visitors,
      agents: o.agents,
      rate: o.rate,
      duration_s: o.duration,
      warmup_s: o.warmup,
      reply: o.reply,
      body_bytes: o.bodyBytes,
      subscribe: o.subscribe,
      max_chats: maxChats,
      server_pid: pid || null,
      server_env: self ? self.env : undefined,
      parleyd: self ? self.version : undefined,
      pg_fsync: self ? (o.pgDurable ? 'on' : 'off') : undefined,
      cpus: require('node:os').cpus().length,
      node: process.version,
    };
    await load(o, { base, origin, siteKey, emails, password, pid, self }, report);
  } finally {
    if (self) {
      progress('self-hosted: stopping parleyd and PostgreSQL');
      try {
        const code = await self.srv.stop({ timeoutMs: 20000 });
        report.server.exit_code = code;
      } catch (e) {
        report.server.exit_code = `did not stop: ${e.message.split('\n')[0]}`;
      }
      const logs = self.srv.logs();
      report.server.log_warnings = logs.split('\n').filter((l) => /level=(warn|error)/.test(l)).length;
      report.server.log_warning_samples = [
        ...new Set(
          logs
            .split('\n')
            .filter((l) => /level=(warn|error)/.test(l))
            .map((l) => l.replace(/^ts=\S+ /, '')),
        ),
      ].slice(0, 5);
      if (o.serverLog) fs.writeFileSync(o.serverLog, logs);
      await self.pg.stop();
    }
    clearTimeout(watchdog);
  }
  return report;
}

async function load(o, ctx, report) {
  const { base, origin, siteKey, emails, password, pid, self } = ctx;
  const wsBase = `ws://${base.host}`;
  const errors = new Errors();
  const closeErrors = new Errors();
  let errSink = errors; // errors after the drain are the clean-up's
  const setupErrors = new Errors();
  const frameCounts = new Map();
  const countFrame = (t) => frameCounts.set(t, (frameCounts.get(t) || 0) + 1);
  const body = 'x'.repeat(o.bodyBytes);
  const mem = { samples: [] };
  const pgPid = self ? self.pgPid() : 0;

  const sampleServer = (label) => {
    const s = pid ? procStatus(pid) : null;
    if (s) mem.samples.push({ t: now(), label, ...s });
    return s;
  };
  const memStart = sampleServer('start');

  // The message ledger: client_msg_id -> record.
  const ledger = new Map();
  const lat = { delivery: [], ack: [], reply: [], replyAck: [] };
  let phase = 'setup'; // setup | warmup | window | drain | closing
  let windowStart = 0;
  let windowEnd = 0;
  const counts = {
    sent: 0,
    sentWindow: 0,
    repliesSent: 0,
    repliesWindow: 0,
    acked: 0,
    delivered: 0,
    deliveredInWindow: 0, // receipts at agents during the window, any send time
    duplicateDeliveries: 0,
    repliesDelivered: 0,
    refused: 0,
  };

  // ---- agents ----
  const agents = [];
  const agentSetupStart = now();
  progress(`logging in ${o.agents} agents`);
  await pool(emails, Math.min(4, o.connectConcurrency), async (email, i) => {
    const a = { i, email, ws: null, ready: false, n: 0, convs: new Set(), id: null };
    agents[i] = a;
    try {
      const r = await httpRequest(base, { method: 'POST', path: '/api/auth/login', headers: { Origin: origin }, json: { email, password }, timeoutMs: 60000 });
      if (r.status !== 200) throw new Error(`login ${email}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
      const cookie = []
        .concat(r.headers['set-cookie'] || [])
        .map((c) => c.split(';')[0])
        .find((c) => c.startsWith('parley_session='));
      if (!cookie || !r.json || !r.json.csrf_token) throw new Error(`login ${email}: no session cookie or csrf token`);
      a.id = r.json.agent && r.json.agent.id;
      await openAgent(a, cookie, r.json.csrf_token);
    } catch (e) {
      setupErrors.add('agent_setup', e.message);
    }
  });

  function openAgent(a, cookie, csrf) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/ws/agent`, { headers: { Origin: origin, Cookie: cookie }, perMessageDeflate: false, handshakeTimeout: 20000 });
      a.ws = ws;
      let step = 0;
      const timer = setTimeout(() => fail(new Error('agent setup: no answer within 60 s')), 60000);
      const fail = (err) => {
        if (step < 4) {
          step = 99;
          clearTimeout(timer);
          ws.terminate();
          reject(err);
        }
      };
      ws.on('error', (e) => {
        if (step === 99) return;
        if (step < 4) fail(e);
        else errors.add('agent_ws_error', e.message);
      });
      ws.on('close', (code, reason) => {
        if (step === 99) return;
        if (step < 4) fail(new Error(`agent socket closed during setup: ${code} ${reason}`));
        else if (phase !== 'closing') errors.add(`agent_ws_closed_${code}`, String(reason));
      });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', id: 'auth', csrf_token: csrf })));
      ws.on('message', (data) => {
        const m = JSON.parse(data);
        countFrame(`agent:${m.type}`);
        if (step < 4) {
          if (m.type === 'error') return fail(new Error(`agent setup: ${m.code} ${m.message}`));
          if (m.type !== 'ack') return;
          if (m.id === 'auth') {
            step = 1;
            ws.send(JSON.stringify({ type: 'status.set', id: 'online', status: 'online' }));
          } else if (m.id === 'online') {
            step = 2;
            if (o.subscribe) ws.send(JSON.stringify({ type: 'queue.subscribe', id: 'sub' }));
            else {
              step = 4;
              clearTimeout(timer);
              a.ready = true;
              resolve();
            }
          } else if (m.id === 'sub') {
            step = 4;
            clearTimeout(timer);
            a.ready = true;
            resolve();
          }
          return;
        }
        onAgentFrame(a, m);
      });
    });
  }

  function onAgentFrame(a, m) {
    if (m.type === 'message.created') {
      const msg = m.message;
      if (!msg || !msg.author || msg.author.kind !== 'visitor') return;
      const rec = ledger.get(msg.client_msg_id);
      if (!rec) return;
      const t = now();
      if (phase === 'window' && t >= windowStart && t <= windowEnd) counts.deliveredInWindow++;
      if (rec.deliveredAt) {
        counts.duplicateDeliveries++;
        return;
      }
      rec.deliveredAt = t;
      counts.delivered++;
      if (rec.measured) lat.delivery.push(t - rec.sentAt);
      if (o.reply > 0 && (phase === 'warmup' || phase === 'window') && Math.random() < o.reply) {
        sendReply(a, msg.conversation_id);
      }
    } else if (m.type === 'ack') {
      const rec = m.id && ledger.get(m.id);
      if (rec) onAck(rec, m);
    } else if (m.type === 'error') {
      onError(m);
    } else if (m.type === 'conversation.updated' && m.conversation && m.conversation.assignee && m.conversation.assignee.id === a.id) {
      a.convs.add(m.conversation.id);
    }
  }

  function sendReply(a, convId) {
    const cm = `a${a.i}.${a.n++}`;
    const t = now();
    const rec = { sentAt: t, kind: 'reply', measured: phase === 'window', ackedAt: 0, deliveredAt: 0 };
    ledger.set(cm, rec);
    counts.repliesSent++;
    if (rec.measured) counts.repliesWindow++;
    a.ws.send(`{"type":"message.send","id":"${cm}","conversation_id":${convId},"client_msg_id":"${cm}","body":"${cm} ${body}"}`);
  }

  function onAck(rec, m) {
    if (rec.ackedAt) return;
    rec.ackedAt = now();
    counts.acked++;
    if (rec.measured) (rec.kind === 'reply' ? lat.replyAck : lat.ack).push(rec.ackedAt - rec.sentAt);
  }

  function onError(m) {
    errSink.add(m.code || 'unknown', m.message);
    const rec = m.id && ledger.get(m.id);
    if (rec && !rec.failed) {
      rec.failed = m.code;
      counts.refused++;
    }
  }

  const readyAgents = agents.filter((a) => a && a.ready).length;
  report.setup.agents_ready = readyAgents;
  report.setup.agents_seconds = round((now() - agentSetupStart) / 1000);
  progress(`${readyAgents}/${o.agents} agents online in ${report.setup.agents_seconds} s`);
  if (!readyAgents) {
    report.setup.errors = setupErrors.toJSON();
    report.setup.error_samples = Object.fromEntries(setupErrors.samples);
    throw new Error(`no agent came online: ${[...setupErrors.samples.values()].join('; ')}`);
  }

  // ---- visitors ----
  const visitors = [];
  const visitorSetupStart = now();
  let assignedCount = 0;
  progress(`opening ${o.visitors} visitor connections (${o.connectConcurrency} at a time)`);
  const setupDeadline = Date.now() + o.setupTimeout * 1000;
  await pool(
    Array.from({ length: o.visitors }, (_, i) => i),
    o.connectConcurrency,
    async (i) => {
      const v = { i, ws: null, conv: 0, assigned: false, n: 0, open: false };
      visitors[i] = v;
      if (Date.now() > setupDeadline) {
        setupErrors.add('setup_timeout');
        return;
      }
      try {
        const r = await httpRequest(base, { method: 'POST', path: '/api/widget/session', headers: { Origin: origin }, json: { site_key: siteKey } });
        if (r.status !== 200 || !r.json || !r.json.visitor_token) {
          const hint = r.status === 429 ? ' (the server limits widget sessions per client IP: raise PARLEY_SESSION_RATE_PER_MINUTE)' : '';
          throw Object.assign(new Error(`widget session: HTTP ${r.status} ${r.body.slice(0, 200)}${hint}`), { code: `session_http_${r.status}` });
        }
        await openVisitor(v, r.json.visitor_token);
      } catch (e) {
        setupErrors.add(e.code || 'visitor_setup', e.message);
      }
    },
  );

  function markAssigned(v) {
    if (!v.assigned) {
      v.assigned = true;
      assignedCount++;
    }
  }

  function openVisitor(v, token) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/ws/visitor`, { headers: { Origin: origin }, perMessageDeflate: false, handshakeTimeout: 20000 });
      v.ws = ws;
      let step = 0;
      const timer = setTimeout(() => fail(Object.assign(new Error('visitor setup: no answer within 60 s'), { code: 'setup_timeout' })), 60000);
      const fail = (err) => {
        if (step < 2) {
          step = 99;
          clearTimeout(timer);
          ws.terminate();
          reject(err);
        }
      };
      ws.on('error', (e) => {
        if (step === 99) return;
        if (step < 2) fail(Object.assign(e, { code: 'visitor_ws_error' }));
        else errors.add('visitor_ws_error', e.message);
      });
      ws.on('close', (code, reason) => {
        v.open = false;
        if (step === 99) return;
        if (step < 2) fail(Object.assign(new Error(`visitor socket closed during setup: ${code} ${reason}`), { code: `visitor_ws_closed_${code}` }));
        else if (phase !== 'closing') errors.add(`visitor_ws_closed_${code}`, String(reason));
      });
      ws.on('unexpected-response', (req, res) => {
        fail(Object.assign(new Error(`visitor upgrade refused: HTTP ${res.statusCode}`), { code: `ws_upgrade_${res.statusCode}` }));
        res.resume();
        req.destroy();
      });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', id: 'auth', token })));
      ws.on('message', (data) => {
        const m = JSON.parse(data);
        countFrame(`visitor:${m.type}`);
        if (step < 2) {
          if (m.type === 'error') return fail(Object.assign(new Error(`visitor setup: ${m.code} ${m.message}`), { code: `setup_${m.code}` }));
          if (m.type === 'ack' && m.id === 'auth') {
            step = 1;
            ws.send(JSON.stringify({ type: 'conversation.start', id: 'start', prechat: { name: `Load visitor ${v.i}` }, page_url: 'https://load.test/p' }));
          } else if (m.type === 'ack' && m.id === 'start') {
            step = 2;
            clearTimeout(timer);
            v.open = true;
            v.conv = m.conversation.id;
            if (m.conversation.status === 'assigned') markAssigned(v);
            resolve();
          } else if (m.type === 'conversation.updated' && m.conversation && m.conversation.status === 'assigned') {
            // may arrive before the start ack
            v.pendingAssigned = true;
          }
          if (step === 2 && v.pendingAssigned) markAssigned(v);
          return;
        }
        onVisitorFrame(v, m);
      });
    });
  }

  function onVisitorFrame(v, m) {
    if (m.type === 'ack') {
      const rec = m.id && ledger.get(m.id);
      if (rec) onAck(rec, m);
    } else if (m.type === 'message.created') {
      const msg = m.message;
      if (!msg || !msg.author || msg.author.kind !== 'agent') return;
      const cm = String(msg.body).split(' ', 1)[0];
      const rec = ledger.get(cm);
      if (!rec || rec.deliveredAt) return;
      rec.deliveredAt = now();
      counts.repliesDelivered++;
      if (rec.measured) lat.reply.push(rec.deliveredAt - rec.sentAt);
    } else if (m.type === 'conversation.updated') {
      if (m.conversation && m.conversation.id === v.conv && m.conversation.status === 'assigned') markAssigned(v);
    } else if (m.type === 'error') {
      onError(m);
    }
  }

  const opened = visitors.filter((v) => v && v.open).length;
  progress(`${opened}/${o.visitors} visitors connected in ${round((now() - visitorSetupStart) / 1000)} s; waiting for assignment`);
  while (assignedCount < opened && Date.now() < setupDeadline) await sleep(100);
  report.setup.visitors_connected = opened;
  report.setup.conversations_assigned = assignedCount;
  report.setup.visitors_seconds = round((now() - visitorSetupStart) / 1000);
  report.setup.errors = setupErrors.toJSON();
  report.setup.error_samples = Object.fromEntries(setupErrors.samples);
  const senders = visitors.filter((v) => v && v.open && v.assigned);
  progress(`${assignedCount}/${opened} conversations assigned after ${report.setup.visitors_seconds} s`);
  if (!senders.length) throw new Error('no conversation was assigned; nothing to measure');
  if (senders.length < o.visitors) progress(`warning: only ${senders.length} of ${o.visitors} visitors will send`);
  const memSetup = sampleServer('after_setup');
  await sleep(500); // let the assignment events settle
  if (self && o.pgStats) await self.pg.query('SELECT pg_stat_statements_reset()');

  // ---- the load ----
  const visitorRate = o.rate / (1 + o.reply);
  const eld = monitorEventLoopDelay({ resolution: 2 });
  let rr = 0;
  let due = 0; // messages owed since the start of the load
  let maxBuffered = 0;
  const loadStart = now();
  const warmupEnd = loadStart + o.warmup * 1000;
  windowStart = warmupEnd;
  windowEnd = warmupEnd + o.duration * 1000;
  phase = o.warmup > 0 ? 'warmup' : 'window';
  progress(
    `load: ${o.rate} msg/s (${round(visitorRate)} from ${senders.length} visitors${o.reply ? `, ~${round(o.rate - visitorRate)} agent replies` : ''}) for ${o.warmup} s warm-up + ${o.duration} s`,
  );

  const sendOne = () => {
    // next sender whose socket is open (bounded by one pass)
    let v = null;
    for (let k = 0; k < senders.length; k++) {
      const c = senders[rr];
      rr = (rr + 1) % senders.length;
      if (c.open) {
        v = c;
        break;
      }
    }
    if (!v) return false;
    const cm = `v${v.i}.${v.n++}`;
    const t = now();
    const measured = t >= windowStart && t < windowEnd;
    ledger.set(cm, { sentAt: t, kind: 'visitor', measured, ackedAt: 0, deliveredAt: 0 });
    counts.sent++;
    if (measured) counts.sentWindow++;
    v.ws.send(`{"type":"message.send","id":"${cm}","conversation_id":${v.conv},"client_msg_id":"${cm}","body":"${body}"}`);
    if (v.ws.bufferedAmount > maxBuffered) maxBuffered = v.ws.bufferedAmount;
    return true;
  };

  let serverCpuWin0 = null;
  let pgCpuWin0 = null;
  let clientCpuWin0 = null;
  let machineWin0 = null;
  let memWinStart = null;
  let lastProgress = now();
  let lastDelivered = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const t = now();
      if (phase === 'warmup' && t >= warmupEnd) {
        phase = 'window';
      }
      if (phase === 'window' && serverCpuWin0 === null && t >= windowStart) {
        serverCpuWin0 = pid ? procCpu(pid) : null;
        pgCpuWin0 = treeCpu(pgPid);
        clientCpuWin0 = process.cpuUsage();
        machineWin0 = machineCpu();
        memWinStart = sampleServer('window_start');
        eld.reset();
        eld.enable();
      }
      if (t >= windowEnd) {
        clearInterval(timer);
        clearInterval(sampler);
        eld.disable();
        resolve();
        return;
      }
      due = Math.floor(((t - loadStart) / 1000) * visitorRate);
      // at most 2 s worth of catch-up in one tick: the loop stays bounded
      let budget = Math.max(1, Math.ceil(visitorRate * 2));
      while (counts.sent < due && budget-- > 0) if (!sendOne()) break;
      if (t - lastProgress >= 5000) {
        const d = counts.delivered - lastDelivered;
        progress(
          `  ${round((t - loadStart) / 1000)} s: sent ${counts.sent}, delivered ${counts.delivered} (${round(d / ((t - lastProgress) / 1000))}/s), errors ${errors.total()}`,
        );
        lastProgress = t;
        lastDelivered = counts.delivered;
      }
    };
    const timer = setInterval(tick, 2);
    const sampler = setInterval(() => sampleServer(phase), 1000);
  });
  const serverCpuWin = pid && serverCpuWin0 !== null ? procCpu(pid) - serverCpuWin0 : null;
  const pgCpuWin = pgPid && pgCpuWin0 !== null ? treeCpu(pgPid) - pgCpuWin0 : null;
  const clientCpu = process.cpuUsage(clientCpuWin0);
  const machineWin1 = machineCpu();
  const memWinEnd = sampleServer('window_end');
  if (self && o.pgStats) report.postgres_statements = await topStatements(self.pg);

  // ---- drain ----
  phase = 'drain';
  const drainStart = now();
  const outstanding = () => {
    let n = 0;
    for (const rec of ledger.values()) if (!rec.failed && (!rec.ackedAt || !rec.deliveredAt)) n++;
    return n;
  };
  while (now() - drainStart < o.drain * 1000) {
    if (outstanding() === 0) break;
    await sleep(100);
  }
  const drainSeconds = (now() - drainStart) / 1000;

  // ---- clean up: close the conversations, then the sockets ----
  phase = 'closing';
  errSink = closeErrors;
  let closed = 0;
  if (o.close) {
    const open = visitors.filter((v) => v && v.open && v.conv);
    progress(`closing ${open.length} conversations`);
    await pool(
      open,
      o.connectConcurrency,
      (v) =>
        new Promise((resolve) => {
          const to = setTimeout(resolve, 10000);
          v.ws.on('message', (data) => {
            const m = JSON.parse(data);
            if (m.id === 'close') {
              clearTimeout(to);
              if (m.type === 'ack') closed++;
              resolve();
            }
          });
          v.ws.send(JSON.stringify({ type: 'conversation.close', id: 'close', conversation_id: v.conv }));
        }),
    );
  }
  const memEnd = sampleServer('end');
  for (const v of visitors) if (v && v.ws) v.ws.close(1000);
  for (const a of agents) if (a && a.ws) a.ws.close(1000);
  await sleep(500);
  for (const v of visitors) if (v && v.ws && v.ws.readyState !== WebSocket.CLOSED) v.ws.terminate();
  for (const a of agents) if (a && a.ws && a.ws.readyState !== WebSocket.CLOSED) a.ws.terminate();

  // ---- numbers ----
  let undeliveredWindow = 0;
  let unackedWindow = 0;
  let refusedWindow = 0;
  for (const rec of ledger.values()) {
    if (!rec.measured) continue;
    if (rec.failed) refusedWindow++;
    else {
      if (!rec.ackedAt) unackedWindow++;
      if (!rec.deliveredAt) undeliveredWindow++;
    }
  }
  const peak = mem.samples.reduce((m, s) => Math.max(m, s.rss || 0), 0);
  const threads = mem.samples.reduce((m, s) => Math.max(m, s.threads || 0), 0);
  report.load = {
    window_s: o.duration,
    visitors_sending: senders.length,
    sent_total: counts.sent,
    sent_window: counts.sentWindow,
    sent_per_s: round(counts.sentWindow / o.duration),
    replies_sent_window: counts.repliesWindow,
    delivered_per_s: round(counts.deliveredInWindow / o.duration),
    delivered_total: counts.delivered,
    window_unacked: unackedWindow,
    window_undelivered: undeliveredWindow,
    window_refused: refusedWindow,
    duplicate_deliveries: counts.duplicateDeliveries,
    drain_s: round(drainSeconds),
    latency_ms: {
      delivery: summarize(lat.delivery),
      ack: summarize(lat.ack),
      reply_delivery: o.reply ? summarize(lat.reply) : undefined,
      reply_ack: o.reply ? summarize(lat.replyAck) : undefined,
    },
    errors: errors.toJSON(),
    error_samples: Object.fromEntries(errors.samples),
    conversations_closed: o.close ? closed : undefined,
    close_errors: o.close ? closeErrors.toJSON() : undefined,
  };
  report.server = {
    pid: pid || null,
    rss_mib: {
      start: mib(memStart && memStart.rss),
      after_setup: mib(memSetup && memSetup.rss),
      window_start: mib(memWinStart && memWinStart.rss),
      window_end: mib(memWinEnd && memWinEnd.rss),
      end: mib(memEnd && memEnd.rss),
      peak: mib(peak),
      hwm: mib(memEnd && memEnd.hwm),
    },
    threads_peak: threads || null,
    cpu_s_window: serverCpuWin === null ? null : round(serverCpuWin),
    cpu_pct_window: serverCpuWin === null ? null : round((100 * serverCpuWin) / o.duration),
    postgres_cpu_s_window: pgCpuWin === null ? null : round(pgCpuWin),
    postgres_cpu_pct_window: pgCpuWin === null ? null : round((100 * pgCpuWin) / o.duration),
  };
  if (machineWin0 && machineWin1) {
    const d = (k) => (machineWin1[k] - machineWin0[k]) / CLK_TCK;
    const cores = require('node:os').cpus().length;
    const busy = d('busy');
    const ours = (serverCpuWin || 0) + (pgCpuWin || 0) + (clientCpu.user + clientCpu.system) / 1e6;
    report.machine = {
      cores,
      busy_pct_of_all_cores: round((100 * busy) / (cores * o.duration)),
      steal_pct_of_all_cores: round((100 * d('steal')) / (cores * o.duration)),
      // CPU used by processes other than parleyd, its PostgreSQL and chatload (and by the kernel
      // for them outside their accounting); large values mean the numbers were disturbed
      other_cpu_pct_of_one_core: pgPid || !self ? round((100 * (busy - ours)) / o.duration) : null,
    };
  }
  const ch = eld.count ? eld : null;
  report.client = {
    cpu_s_window: round((clientCpu.user + clientCpu.system) / 1e6),
    cpu_pct_window: round((100 * (clientCpu.user + clientCpu.system)) / 1e6 / o.duration),
    event_loop_delay_ms: ch ? { p50: round(ch.percentile(50) / 1e6), p99: round(ch.percentile(99) / 1e6), max: round(ch.max / 1e6) } : null,
    max_socket_buffered_bytes: maxBuffered,
    frames_received: Object.fromEntries([...frameCounts].sort()),
  };
}

/** The statements that took PostgreSQL's time since the reset (top 12). */
async function topStatements(pg) {
  const r = await pg.query(
    `SELECT regexp_replace(query, '\\s+', ' ', 'g') AS query, calls, total_exec_time, total_plan_time, rows,
            sum(total_exec_time) OVER () AS all_exec
     FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
     ORDER BY total_exec_time DESC LIMIT 12`,
  );
  return r.rows.map((x) => ({
    query: x.query.slice(0, 160),
    calls: Number(x.calls),
    total_ms: round(x.total_exec_time),
    mean_ms: round(x.total_exec_time / Math.max(1, Number(x.calls))),
    plan_mean_ms: round(x.total_plan_time / Math.max(1, Number(x.calls))),
    rows: Number(x.rows),
    pct: round((100 * x.total_exec_time) / x.all_exec),
  }));
}

function round(v) {
  return v === null || v === undefined || Number.isNaN(v) ? v : Math.round(v * 100) / 100;
}

function mib(bytes) {
  return bytes ? Math.round((bytes / MiB) * 10) / 10 : null;
}

// ---- the report -----------------------------------------------------------------------------

function textReport(r) {
  const c = r.config;
  const l = r.load;
  const s = r.server;
  const lines = [];
  const ms = (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
  const latLine = (name, d) =>
    d && d.count
      ? `${name.padEnd(16)}p50 ${ms(d.p50)}  p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  max ${ms(d.max)} ms  (n=${d.count})`
      : `${name.padEnd(16)}no samples`;
  lines.push('');
  lines.push(
    `chatload ${c.mode === 'self' ? '(self-hosted) ' : ''}${c.url}: ${c.visitors} visitors, ${c.agents} agents, ${c.rate} msg/s for ${c.duration_s} s (+${c.warmup_s} s warm-up)${c.reply ? `, agents answer ${Math.round(c.reply * 100)}%` : ''}`,
  );
  if (c.parleyd) lines.push(`parleyd         ${c.parleyd}`);
  if (c.server_env)
    lines.push(
      `server env      ${Object.entries(c.server_env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}; PostgreSQL fsync=${c.pg_fsync}`,
    );
  lines.push(
    `setup           ${r.setup.agents_ready}/${c.agents} agents online, ${r.setup.conversations_assigned}/${c.visitors} conversations assigned (${r.setup.visitors_seconds} s)${c.max_chats ? `, max_chats ${c.max_chats}` : ''}`,
  );
  if (r.setup.errors && Object.keys(r.setup.errors).length) lines.push(`setup errors    ${fmtErrors(r.setup.errors)}`);
  if (l) {
    lines.push(
      `sent            ${l.sent_window} in the window (${l.sent_per_s}/s)${c.reply ? ` by visitors, plus ${l.replies_sent_window} agent replies` : ''}; ${l.sent_total} in all`,
    );
    lines.push(
      `delivered       ${l.delivered_per_s}/s to agents during the window; of the window's messages ${l.window_undelivered} undelivered, ${l.window_unacked} unacked, ${l.window_refused} refused (after ${l.drain_s} s drain)`,
    );
    lines.push(latLine('delivery', l.latency_ms.delivery) + '  visitor send -> agent receive');
    lines.push(latLine('ack', l.latency_ms.ack) + '  visitor send -> ack');
    if (l.latency_ms.reply_delivery) lines.push(latLine('reply delivery', l.latency_ms.reply_delivery) + '  agent send -> visitor receive');
    lines.push(`errors          ${Object.keys(l.errors).length ? fmtErrors(l.errors) : 'none'}`);
    for (const [k, v] of Object.entries(l.error_samples || {})) lines.push(`                ${k}: ${v}`);
    if (l.duplicate_deliveries) lines.push(`duplicates      ${l.duplicate_deliveries} deliveries of an already delivered message`);
  }
  if (s && s.rss_mib) {
    const m = s.rss_mib;
    lines.push(
      `server RSS      ${m.start ?? '-'} MiB at start, ${m.after_setup ?? '-'} after setup, ${m.window_start ?? '-'} -> ${m.window_end ?? '-'} over the window, peak ${m.peak ?? '-'}, ${m.end ?? '-'} at the end (pid ${s.pid ?? '?'}, ${s.threads_peak ?? '?'} threads)`,
    );
    lines.push(
      `CPU (window)    parleyd ${s.cpu_pct_window ?? '-'}%, postgres ${s.postgres_cpu_pct_window ?? '-'}%, chatload ${r.client.cpu_pct_window}% of one core; client event-loop delay p99 ${r.client.event_loop_delay_ms ? r.client.event_loop_delay_ms.p99 : '-'} ms`,
    );
  }
  if (r.machine) {
    lines.push(
      `machine         ${r.machine.cores} cores ${r.machine.busy_pct_of_all_cores}% busy, steal ${r.machine.steal_pct_of_all_cores}%${r.machine.other_cpu_pct_of_one_core !== null ? `; other processes ${r.machine.other_cpu_pct_of_one_core}% of one core${c.mode === 'self' ? '' : ' (includes PostgreSQL)'}` : ''}`,
    );
  }
  if (r.postgres_statements) {
    lines.push('PostgreSQL time during warm-up + window (pg_stat_statements; nested statements also count inside their callers):');
    lines.push('   exec%    calls  exec ms  plan ms  statement');
    for (const q of r.postgres_statements)
      lines.push(
        `  ${String(q.pct).padStart(6)}  ${String(q.calls).padStart(7)}  ${ms(q.mean_ms).padStart(7)}  ${ms(q.plan_mean_ms).padStart(7)}  ${q.query.slice(0, 100)}`,
      );
  }
  if (l && l.close_errors && Object.keys(l.close_errors).length) lines.push(`close errors    ${fmtErrors(l.close_errors)}`);
  if (s && s.exit_code !== undefined) lines.push(`server exit     ${s.exit_code}; ${s.log_warnings} warn/error log lines`);
  for (const w of (s && s.log_warning_samples) || []) lines.push(`                ${w.slice(0, 200)}`);
  lines.push('');
  return lines.join('\n');
}

function fmtErrors(e) {
  return Object.entries(e)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`chatload: ${e.message}\n`);
    process.exit(2);
  }
  let report;
  try {
    report = await run(o);
  } catch (e) {
    process.stderr.write(`chatload: ${process.env.CHATLOAD_DEBUG ? e.stack : e.message}\n`);
    process.exit(1);
  }
  if (!o.quiet) process.stdout.write(textReport(report) + '\n');
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  const bad = report.load && (Object.keys(report.load.errors).length || report.load.window_undelivered || report.load.window_unacked);
  process.exit(bad ? 4 : 0);
}

module.exports = { main, parseArgs, summarize, percentile };

if (require.main === module) main();
