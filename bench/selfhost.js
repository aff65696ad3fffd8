'use strict';
// bench/selfhost: what the WebSocket benchmarks (chatload, idlesockets) share:
// a throw-away PostgreSQL with one or more parleyd nodes on it, sized for a
// number of sockets from 127.0.0.1 (tests/helpers); agents in the team
// Support; small HTTP and statistics helpers; /proc readings of a server.
//
//   const self = await startSelf(o, progress);   // o: visitors, agents, rate, nodes, ...
//   ... self.nodes[i].url / .pid, self.siteKey, self.emails, self.password
//   const stopped = await stopSelf(self, { serverLog });
//
// Every target is on loopback; every wait is bounded.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const REPO_ROOT = path.resolve(__dirname, '..');
const MiB = 1024 * 1024;
const SELF_PASSWORD = 'chatload correct horse battery';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function round(v) {
  return v === null || v === undefined || Number.isNaN(v) ? v : Math.round(v * 100) / 100;
}

function mib(bytes) {
  return bytes ? Math.round((bytes / MiB) * 10) / 10 : null;
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

/** Refuse anything that is not a loopback address. */
function checkLoopback(urlString) {
  const u = new URL(urlString);
  if (u.protocol !== 'http:') throw new Error(`--url: only http:// is supported (got ${u.protocol})`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host))) {
    throw new Error(`--url: the benchmarks only target loopback (127.0.0.0/8, ::1, localhost), not ${host}`);
  }
  return u;
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

/** POST /api/auth/login: { cookie, csrf, id }; throws with the status otherwise. */
async function agentLogin(base, origin, email, password) {
  const r = await httpRequest(base, { method: 'POST', path: '/api/auth/login', headers: { Origin: origin }, json: { email, password }, timeoutMs: 60000 });
  if (r.status !== 200) throw new Error(`login ${email}: HTTP ${r.status} ${r.body.slice(0, 200)}`);
  const cookie = []
    .concat(r.headers['set-cookie'] || [])
    .map((c) => c.split(';')[0])
    .find((c) => c.startsWith('parley_session='));
  if (!cookie || !r.json || !r.json.csrf_token) throw new Error(`login ${email}: no session cookie or csrf token`);
  return { cookie, csrf: r.json.csrf_token, id: r.json.agent && r.json.agent.id };
}

/** POST /api/widget/session: the new visitor's token; the error has .code session_http_<status>. */
async function widgetSession(base, origin, siteKey) {
  const r = await httpRequest(base, { method: 'POST', path: '/api/widget/session', headers: { Origin: origin }, json: { site_key: siteKey } });
  if (r.status !== 200 || !r.json || !r.json.visitor_token) {
    const hint = r.status === 429 ? ' (the server limits widget sessions per client IP: raise PARLEY_SESSION_RATE_PER_MINUTE)' : '';
    throw Object.assign(new Error(`widget session: HTTP ${r.status} ${r.body.slice(0, 200)}${hint}`), { code: `session_http_${r.status}` });
  }
  return r.json.visitor_token;
}

/** VmRSS, VmHWM (bytes) and the thread count of a process, or null. */
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

function parleydVersion(bin) {
  try {
    const v = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const st = fs.statSync(bin);
    return `${v} (${bin}, built ${st.mtime.toISOString()})`;
  } catch (e) {
    return `unknown (${bin}: ${e.message.split('\n')[0]})`;
  }
}

// ---- self-hosted servers ---------------------------------------------------------------

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

/**
 * The environment that lets one parleyd node hold `visitors + agents` sockets
 * from 127.0.0.1 at `rate` visitor messages per second in all: a worker thread
 * per socket (what civetweb needs today), the per-address limits raised, the
 * visitor rate limiter left on with room for twice each visitor's rate.
 * o: visitors, agents (this node's share), rate, totalVisitors, threads,
 * connectConcurrency, serverEnv (overrides).
 */
function serverEnv(o) {
  const windowSeconds = 10;
  const perVisitorRate = o.rate / Math.max(1, o.totalVisitors || o.visitors);
  const sockets = o.visitors + o.agents;
  const threads = o.threads || Math.min(30000, sockets + 64);
  const reserved = Math.max(1, Math.min(32, Math.floor(threads / 8)));
  return {
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
    PARLEY_SESSION_RATE_PER_MINUTE: Math.min(1000000, 2 * (o.totalVisitors || o.visitors) + 100),
    ...o.serverEnv,
  };
}

/**
 * Starts a throw-away PostgreSQL (tests/helpers/pg.js) and o.nodes (1) parleyd
 * processes on it, creates o.agents agents bench1@load.test ... in the site's
 * team with max_chats for o.conversations (default o.visitors) conversations.
 * o: visitors, agents, rate (the highest), nodes, threads, serverEnv,
 * connectConcurrency, parleyd, pgStats, pgDurable.
 * Every node gets its own port and data directory; they share the database
 * URL, hence the helper's one secret key file per database, and one public
 * URL (the first node's), as nodes behind one load balancer would.
 */
async function startSelf(o, progress = () => {}) {
  if (o.parleyd) process.env.PARLEYD = path.resolve(o.parleyd);
  const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
  const { startParleyd, addAgent, parleydPath } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
  const nodeCount = o.nodes || 1;
  progress('self-hosted: starting a throw-away PostgreSQL');
  const pg = await startCluster({ database: 'chatload' });
  const self = { pg, nodes: [], srvs: [] };
  try {
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
    const env = serverEnv({
      visitors: Math.ceil(o.visitors / nodeCount),
      agents: Math.ceil(o.agents / nodeCount),
      totalVisitors: o.visitors,
      rate: o.rate,
      threads: o.threads,
      connectConcurrency: o.connectConcurrency,
      serverEnv: o.serverEnv,
    });
    progress(
      `self-hosted: starting ${nodeCount > 1 ? `${nodeCount} parleyd nodes` : 'parleyd'} (${Object.entries(env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')})`,
    );
    for (let i = 0; i < nodeCount; i++) {
      const more = i > 0 && !('PARLEY_PUBLIC_URL' in env) ? { PARLEY_PUBLIC_URL: self.srvs[0].origin } : {};
      const srv = await startParleyd({ databaseUrl: pg.url, env: { ...env, ...more }, timeoutMs: 30000 });
      self.srvs.push(srv);
      self.nodes.push({ url: srv.url, pid: srv.pid });
    }
    self.env = env;
    self.origin = self.srvs[0].origin;
    self.url = self.srvs[0].url;
    self.pid = self.srvs[0].pid;
    self.version = parleydVersion(parleydPath());

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
    self.emails = Array.from({ length: o.agents }, (_, i) => email(i + 1));
    self.maxChats = await raiseCapacity(pg.query, self.emails, site.default_team_id, o.conversations ?? o.visitors, progress);
    self.siteKey = site.public_key;
    self.password = SELF_PASSWORD;
    self.pgPid = () => {
      try {
        return Number(fs.readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return 0;
      }
    };
    return self;
  } catch (e) {
    await stopSelf(self).catch(() => {});
    throw e;
  }
}

/** max_chats so that every conversation finds an agent; team membership. */
async function raiseCapacity(query, emails, teamId, conversations, progress = () => {}) {
  const distinct = new Set(emails.map((e) => e.toLowerCase())).size;
  const need = Math.ceil(conversations / distinct) + 2;
  if (need > 100) throw new Error(`${conversations} visitors need ${need} chats per agent; the schema allows 100: use more agents`);
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

/**
 * Stops every node (SIGTERM, then the helper's SIGKILL) and the cluster.
 * Resolves { exit_code (first node), exit_codes, log_warnings, log_warning_samples };
 * writes the nodes' output to serverLog if given.
 */
async function stopSelf(self, { serverLog = '' } = {}) {
  const out = { exit_codes: [] };
  const logs = [];
  for (const srv of self.srvs || []) {
    try {
      out.exit_codes.push(await srv.stop({ timeoutMs: 20000 }));
    } catch (e) {
      out.exit_codes.push(`did not stop: ${e.message.split('\n')[0]}`);
    }
    logs.push(srv.logs());
  }
  out.exit_code = out.exit_codes[0];
  const lines = logs.join('\n').split('\n');
  const warn = lines.filter((l) => /level=(warn|error)/.test(l));
  out.log_warnings = warn.length;
  out.log_warning_samples = [...new Set(warn.map((l) => l.replace(/^ts=\S+ /, '')))].slice(0, 5);
  if (serverLog) fs.writeFileSync(serverLog, logs.length > 1 ? logs.map((l, i) => `=== node ${i + 1} ===\n${l}`).join('\n') : logs[0] || '');
  if (self.pg) await self.pg.stop();
  return out;
}

/**
 * Walks the command line: handle(option, value) for each option, where
 * value() takes its value (`--k=v`, or the next argument).
 */
function eachOption(argv, handle) {
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      val = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = () => {
      if (val !== undefined) return val;
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    handle(a, value);
  }
}

/** `--server-env KEY=VALUE` into env. */
function addServerEnv(env, kv) {
  const k = String(kv || '').indexOf('=');
  if (k <= 0) throw new Error(`--server-env: expected KEY=VALUE, got ${kv}`);
  env[kv.slice(0, k)] = kv.slice(k + 1);
}

/** Counts by code (errors, refusals), with the first detail of each as a sample. */
class Tally {
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

/** An option's number, checked: an integer (or any number) from lo to hi. */
function num(name, v, lo, hi, int = true) {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < lo || n > hi || (int && !Number.isInteger(n))) {
    throw new Error(`${name}: expected ${int ? 'an integer' : 'a number'} from ${lo} to ${hi}, got ${v}`);
  }
  return n;
}

module.exports = {
  eachOption,
  num,
  addServerEnv,
  Tally,
  REPO_ROOT,
  MiB,
  sleep,
  round,
  mib,
  pool,
  percentile,
  summarize,
  checkLoopback,
  httpRequest,
  agentLogin,
  widgetSession,
  procStatus,
  parleydVersion,
  makeDurable,
  serverEnv,
  startSelf,
  raiseCapacity,
  stopSelf,
};
