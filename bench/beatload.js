'use strict';
// bench/beatload: the widget loader's heartbeats (POST /api/widget/beat) on one node.
//
//   bench/beatload [-n 10000] [-c 64] [-d 20] [-w 60] [-b 15] [--only capacity|steady] [--json]
//
// Starts a throw-away PostgreSQL and one parleyd (tests/helpers), creates a
// team, a site and an admin agent, then N visitors through
// POST /api/widget/session (each from its own X-Forwarded-For address
// through PARLEY_TRUSTED_PROXIES=127.0.0.1, so they are placed by the
// geolocation database) and keeps their beat tickets. Two phases:
//
//   capacity  every visitor sends a page view, then beats go as fast as
//             -c keep-alive connections allow for -d seconds, round-robin
//             over the visitors; then: did the writer keep up (every
//             visitor's visitors_online.last_beat_at at or after its last
//             answered beat, within a few seconds)?
//   steady    every visitor beats every -b seconds (spread evenly) and
//             makes a page view about once a minute, for -w seconds, while
//             an admin reads GET /api/visitors/online (plain, ?q=, ?country=).
//
// For each: beats per second answered, latency, errors by status, parleyd's
// CPU and RSS, PostgreSQL's CPU (postmaster and children, from /proc), the
// writer's statement parley_beats_flush (calls and time, from
// pg_stat_user_functions with track_functions = pl) and table sizes.
// Beats go over raw keep-alive sockets (a request string out, status and
// Content-Length in) so that the client's own cost stays small: it shares
// the machine with parleyd and PostgreSQL, and its CPU is in the report.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const REPO_ROOT = path.join(__dirname, '..');
const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
const { startParleyd, runParleyd } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
const { createTeam, createSite, createAgent } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'fixtures'));
const { login } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'http'));

const { CLK_TCK, procCpu, treeCpu, machineCpu } = require('./proc');
const { addServerEnv } = require('./selfhost');
const ORIGIN = 'https://shop.example';
const HELP = `bench/beatload [options]
  -n N               visitors (widget sessions)                           [10000]
  -c C               keep-alive connections sending beats                 [64]
  -d D               capacity phase: seconds of beats as fast as C allow  [20]
  -w W               steady phase: seconds                                [60]
  -b B               steady phase: seconds between a visitor's beats      [15]
  --only PHASE       capacity or steady (default: both, capacity first); or writer:
                     parley_beats_flush called directly with batches of plain beats
                     of the N online visitors (0.1 to 4 per visitor), each timed twice,
                     and which of several beats of one visitor in a batch it keeps
  --parleyd PATH     the parleyd binary                                   [$PARLEYD, backend/parleyd]
  --server-env K=V   extra environment for parleyd (repeatable)
  --json             print the report as JSON after the text
`;

function args() {
  const o = { visitors: 10000, conns: 64, capacity: 20, steady: 60, beat: 15, only: '', parleyd: '', json: false, serverEnv: {} };
  const a = process.argv.slice(2);
  const num = (name, v, lo, hi) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new Error(`${name}: expected a number from ${lo} to ${hi}, got ${v}`);
    return n;
  };
  for (let i = 0; i < a.length; i++) {
    const k = a[i];
    if (k === '-n') o.visitors = Math.round(num(k, a[++i], 1, 200000));
    else if (k === '-c') o.conns = Math.round(num(k, a[++i], 1, 1000));
    else if (k === '-d') o.capacity = num(k, a[++i], 1, 3600);
    else if (k === '-w') o.steady = num(k, a[++i], 1, 3600);
    else if (k === '-b') o.beat = num(k, a[++i], 2, 300);
    else if (k === '--only') {
      o.only = a[++i];
      if (!['capacity', 'steady', 'writer'].includes(o.only)) throw new Error('--only: capacity, steady or writer');
    } else if (k === '--parleyd') o.parleyd = a[++i];
    else if (k === '--server-env') addServerEnv(o.serverEnv, a[++i]);
    else if (k === '--json') o.json = true;
    else if (k === '-h' || k === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    } else {
      process.stderr.write(`unknown option ${k}\n${HELP}`);
      process.exit(2);
    }
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const progress = (m) => process.stderr.write(`beatload: ${m}\n`);
const r1 = (v) => (v === null || v === undefined ? null : Math.round(v * 10) / 10);
const r2 = (v) => (v === null || v === undefined ? null : Math.round(v * 100) / 100);

// ---- /proc ------------------------------------------------------------------

function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU meters over a window: parleyd, PostgreSQL, this process, the machine. */
function meter(srvPid, pgPid) {
  const t0 = now();
  const a = { srv: procCpu(srvPid), pg: treeCpu(pgPid), self: process.cpuUsage(), m: machineCpu() };
  return () => {
    const secs = (now() - t0) / 1000;
    const self = process.cpuUsage(a.self);
    const m = machineCpu();
    const srv = procCpu(srvPid) - a.srv;
    const pg = treeCpu(pgPid) - a.pg;
    const client = (self.user + self.system) / 1e6;
    const busy = (m.busy - a.m.busy) / CLK_TCK;
    return {
      other_pct: r1((100 * (busy - srv - pg - client)) / secs),
      seconds: r2(secs),
      parleyd_cpu_s: r2(srv),
      pg_cpu_s: r2(pg),
      client_cpu_s: r2(client),
      parleyd_pct: r1((100 * srv) / secs),
      pg_pct: r1((100 * pg) / secs),
      client_pct: r1((100 * client) / secs),
      machine_busy_pct: r1((100 * (m.busy - a.m.busy)) / Math.max(1, m.total - a.m.total)),
    };
  };
}

/** RSS every second until stopped: { start, end, peak } MiB. */
function rssSampler(pid) {
  const start = rssMiB(pid);
  let peak = start;
  const t = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid) || 0);
  }, 1000);
  return () => {
    clearInterval(t);
    const end = rssMiB(pid);
    return { start: r1(start), end: r1(end), peak: r1(Math.max(peak, end || 0)), growth: r1(end - start) };
  };
}

function summarize(values) {
  const a = Float64Array.from(values).sort();
  if (!a.length) return { count: 0, p50: null, p99: null, max: null };
  const pct = (p) => a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))];
  return { count: a.length, p50: r2(pct(50)), p90: r2(pct(90)), p99: r2(pct(99)), max: r2(a[a.length - 1]) };
}

// ---- a minimal keep-alive HTTP/1.1 client ----------------------------------------

/**
 * One connection, one request at a time. send(head, body) resolves
 * { status, body } (body a string). The server answers with Content-Length
 * (or 204/304 without a body); "Connection: close" reconnects next time.
 */
class Conn {
  constructor(port) {
    this.port = port;
    this.sock = null;
    this.pending = null;
    this.buf = Buffer.alloc(0);
  }

  open() {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: this.port }, () => {
        s.setNoDelay(true);
        resolve();
      });
      s.on('error', (e) => {
        if (this.pending) this.fail(e);
        else reject(e);
      });
      s.on('close', () => {
        if (this.sock === s) this.sock = null;
        if (this.pending) this.fail(new Error('connection closed before the answer'));
      });
      s.on('data', (d) => this.onData(d));
      this.sock = s;
      this.buf = Buffer.alloc(0);
    });
  }

  fail(e) {
    const p = this.pending;
    this.pending = null;
    if (this.sock) this.sock.destroy();
    this.sock = null;
    p.reject(e);
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.pending) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m && /\r\ntransfer-encoding:\s*chunked/i.test(head)) return this.fail(new Error('chunked answers are not supported'));
    const len = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + len) return;
    const body = this.buf.toString('utf8', end + 4, end + 4 + len);
    this.buf = this.buf.subarray(end + 4 + len);
    const p = this.pending;
    this.pending = null;
    if (/\r\nconnection:\s*close/i.test(head)) {
      this.sock.end();
      this.sock = null;
    }
    p.resolve({ status, body });
  }

  async send(head, body) {
    if (!this.sock) await this.open();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.sock.write(body ? head + body : head);
    });
  }

  close() {
    if (this.sock) this.sock.destroy();
    this.sock = null;
  }
}

/** A public-looking IPv4 address for visitor i (not private, loopback or reserved). */
function addressOf(i) {
  let x = (Math.imul(i + 1, 2654435761) >>> 0) ^ 0x5bd1e995;
  for (;;) {
    const a = x >>> 24;
    const b = (x >>> 16) & 255;
    const ok =
      a >= 1 &&
      a <= 223 &&
      a !== 10 &&
      a !== 127 &&
      !(a === 100 && b >= 64 && b < 128) &&
      !(a === 169 && b === 254) &&
      !(a === 172 && b >= 16 && b < 32) &&
      !(a === 192 && b === 168) &&
      a !== 0;
    if (ok) return `${a}.${b}.${(x >>> 8) & 255}.${x & 255 || 1}`;
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  }
}

function postHead(port, p, contentType, body, extra = '') {
  return `POST ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${ORIGIN}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n`;
}

/** Runs fn(i) for i in [0, n) over `conns` connections, at most one request each at a time. */
async function overConns(conns, n, fn) {
  let next = 0;
  await Promise.all(
    conns.map(async (c) => {
      while (next < n) await fn(c, next++);
    }),
  );
}

// ---- the run ---------------------------------------------------------------------

async function main() {
  const o = args();
  const N = o.visitors;
  const t00 = now();
  progress('starting PostgreSQL');
  const pg = await startCluster();
  // pg_stat_statements (default track = top: parleyd's statements as sent) counts the
  // writer's flushes and their time as they finish.
  await pg.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
  await pg.restart();
  await pg.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const pgPid = Number(fs.readFileSync(path.join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (o.parleyd) process.env.PARLEYD = path.resolve(o.parleyd);
  const env = {
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_TRUSTED_PROXIES: '127.0.0.1',
    PARLEY_HTTP_THREADS: String(Math.max(256, 2 * o.conns + 64)),
    PARLEY_HTTP_MAX_PER_IP: String(4 * o.conns + 100),
    PARLEY_MAX_CONNECTIONS_PER_IP: String(4 * o.conns + 100),
    PARLEY_SESSION_RATE_PER_MINUTE: String(2 * N + 100),
    ...o.serverEnv,
  };
  progress('starting parleyd');
  const srv = await startParleyd({ databaseUrl: pg.url, env });
  let version = '';
  try {
    version = (await runParleyd(['--version'], { databaseUrl: pg.url })).stdout.trim();
  } catch {
    /* older builds */
  }
  const team = await createTeam(pg, 'Beat bench');
  const site = await createSite(pg, { name: 'Shop', teamId: team, origins: [ORIGIN], key: 'site_beatload_bench' });
  const admin = await createAgent(pg, { name: 'Bench Admin', email: 'admin@beatload.test', role: 'admin', teams: [team] });
  const adm = await login(srv, admin.email, admin.password);
  if (adm.res.status !== 200) throw new Error(`admin login: ${adm.res.status} ${adm.res.body}`);
  const adminHeaders = `Origin: ${srv.origin}\r\nCookie: ${adm.jar.header()}\r\nX-CSRF-Token: ${adm.csrf}\r\n`;

  const conns = Array.from({ length: o.conns }, () => new Conn(srv.port));

  // Visitors: a widget session each, from its own address.
  progress(`creating ${N} visitors (POST /api/widget/session)`);
  const ids = new Float64Array(N);
  const tickets = new Array(N);
  const tSessions = now();
  const sessionBody = JSON.stringify({ site_key: site.key });
  const sessionErrors = {};
  const sessionConns = conns.slice(0, Math.min(16, conns.length));
  await overConns(sessionConns, N, async (c, i) => {
    const head = postHead(srv.port, '/api/widget/session', 'application/json', sessionBody, `X-Forwarded-For: ${addressOf(i)}\r\n`);
    const res = await c.send(head, sessionBody);
    if (res.status !== 200) {
      sessionErrors[res.status] = (sessionErrors[res.status] || 0) + 1;
      throw new Error(`POST /api/widget/session answered ${res.status}: ${res.body}`);
    }
    const j = JSON.parse(res.body);
    ids[i] = j.visitor.id;
    tickets[i] = j.beat.ticket;
  });
  const sessionSecs = (now() - tSessions) / 1000;
  progress(`${N} sessions in ${sessionSecs.toFixed(1)} s (${(N / sessionSecs).toFixed(0)}/s)`);

  // Requests, prepared once per visitor.
  const TYPE = 'text/plain;charset=UTF-8';
  const pageOf = (i, k) => `https://shop.example/p/${(i * 7 + k * 13) % 500}?utm_source=bench`;
  const beatBodies = new Array(N);
  const beatHeads = new Array(N);
  const pages = new Int32Array(N); // page views made so far per visitor
  const setBeat = (i) => {
    const b = JSON.stringify({ b: tickets[i], u: pageOf(i, pages[i]), n: `Product ${(i * 7 + pages[i] * 13) % 500}` });
    beatBodies[i] = b;
    beatHeads[i] = postHead(srv.port, '/api/widget/beat', TYPE, b);
  };
  const viewRequest = (i) => {
    pages[i] += 1;
    setBeat(i);
    const b = JSON.stringify({
      b: tickets[i],
      v: 1,
      u: pageOf(i, pages[i]),
      n: `Product ${(i * 7 + pages[i] * 13) % 500}`,
      r: pages[i] === 1 ? 'https://www.google.com/' : '',
      s: '1280x800',
      l: 'en-US',
    });
    return [
      postHead(
        srv.port,
        '/api/widget/beat',
        TYPE,
        b,
        `X-Forwarded-For: ${addressOf(i)}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36\r\n`,
      ),
      b,
    ];
  };

  const lastSent = new Float64Array(N); // epoch ms of each visitor's last beat answered 200 (its send time)
  const flushStats = async () => {
    const r = await pg.query(
      "SELECT coalesce(sum(calls), 0)::bigint AS calls, coalesce(sum(total_exec_time), 0) AS ms FROM pg_stat_statements WHERE query LIKE '%parley_beats_flush(%'",
    );
    return { calls: Number(r.rows[0].calls), ms: Number(r.rows[0].ms) };
  };
  const flushDelta = (a, b, beats) => ({
    calls: b.calls - a.calls,
    mean_ms: b.calls > a.calls ? r1((b.ms - a.ms) / (b.calls - a.calls)) : null,
    total_s: r2((b.ms - a.ms) / 1000),
    beats_per_call: b.calls > a.calls ? Math.round(beats / (b.calls - a.calls)) : null,
  });
  /**
   * Visitors whose visitors_online row is missing, or more than a second
   * (one write) older than their last answered beat's send time; and, of
   * the others, how many are older at all and by how much at most.
   */
  const lagging = async () => {
    const r = await pg.query(
      `SELECT count(*) FILTER (WHERE o.last_beat_at IS NULL OR o.last_beat_at < to_timestamp(u.t / 1000.0) - interval '1 second')::int AS n,
              count(*) FILTER (WHERE o.last_beat_at < to_timestamp(u.t / 1000.0))::int AS older,
              coalesce(max(1000 * extract(epoch FROM to_timestamp(u.t / 1000.0) - o.last_beat_at)), 0)::float8 AS behind_ms
         FROM unnest($1::bigint[], $2::float8[]) u(id, t)
         LEFT JOIN visitors_online o ON o.visitor_id = u.id
        WHERE u.t > 0`,
      [Array.from(ids), Array.from(lastSent, (t) => (t > 0 ? t - 2 : 0))],
    );
    return r.rows[0];
  };
  const caughtUp = async (maxMs) => {
    const t0 = now();
    let x = null;
    while (now() - t0 < maxMs) {
      x = await lagging();
      if (x.n === 0) break;
      await sleep(200);
    }
    const after = x.n === 0 ? r2((now() - t0) / 1000) : null;
    // One more write: rows older than their last beat by now were written from an earlier beat of the same batch.
    await sleep(1500);
    x = await lagging();
    return { lagging: x.n, after_s: after, older_than_last_beat: x.older, max_behind_ms: Math.round(x.behind_ms) };
  };
  const sizes = async () => {
    const r = await pg.query(`SELECT
        (SELECT count(*) FROM visitors_online)::int AS online_rows,
        pg_total_relation_size('visitors_online') AS online_bytes,
        (SELECT count(*) FROM page_views)::int AS page_view_rows,
        (SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'page_views'::regclass) AS page_view_bytes,
        (SELECT count(*) FROM visits)::int AS visit_rows,
        pg_total_relation_size('visits') AS visit_bytes,
        pg_total_relation_size('visitors') AS visitor_bytes`);
    const x = r.rows[0];
    const mib = (b) => r2(Number(b) / 1048576);
    return {
      visitors_online: { rows: x.online_rows, mib: mib(x.online_bytes) },
      page_views: { rows: x.page_view_rows, mib: mib(x.page_view_bytes) },
      visits: { rows: x.visit_rows, mib: mib(x.visit_bytes) },
      visitors: { mib: mib(x.visitor_bytes) },
    };
  };
  const warnings = () => (srv.logs().match(/visitor beats not written[^\n]*/g) || []).length;

  /** One beat or page view of visitor i over c; books the answer. */
  const book = { lat: [], status: {}, errors: {}, ok: 0, views: 0 };
  const send = async (c, i, view) => {
    const [head, body] = view ? viewRequest(i) : [beatHeads[i], beatBodies[i]];
    const sentAt = Date.now();
    const t = now();
    let res;
    try {
      res = await c.send(head, body);
    } catch (e) {
      book.errors[e.message] = (book.errors[e.message] || 0) + 1;
      return;
    }
    book.lat.push(now() - t);
    if (res.status === 200) {
      book.ok += 1;
      if (view) book.views += 1;
      lastSent[i] = sentAt;
    } else {
      book.status[res.status] = (book.status[res.status] || 0) + 1;
      if (!book.sample) book.sample = `${res.status} ${res.body.slice(0, 200)}`;
    }
  };
  const resetBook = () => {
    book.lat = [];
    book.status = {};
    book.errors = {};
    book.ok = 0;
    book.views = 0;
    book.sample = undefined;
  };

  const report = {
    tool: 'beatload',
    parleyd: version,
    visitors: N,
    connections: o.conns,
    sessions: { seconds: r2(sessionSecs), per_s: Math.round(N / sessionSecs) },
    env,
  };

  // ---- the writer alone ----
  if (o.only === 'writer') {
    progress('writer: a page view for each visitor, then parley_beats_flush called directly');
    await overConns(conns, N, (c, i) => send(c, i, true));
    await caughtUp(120000);
    const batches = [];
    const flushOnce = async (beats) => {
      const text = JSON.stringify(beats);
      const t = now();
      await pg.query('SELECT count(*) FROM parley_beats_flush($1::jsonb)', [text]);
      return r1(now() - t);
    };
    const plain = (i, at) => ({ v: ids[i], s: site.id, at, k: 'b', u: pageOf(i, pages[i]), n: 'Product', c: false });
    for (const per of [0.1, 0.5, 1, 2, 4]) {
      const beats = [];
      const at = Date.now();
      const count = Math.round(per * N);
      for (let j = 0; j < count; j++) beats.push(plain(j % N, at + Math.floor(j / N)));
      const ms = [await flushOnce(beats), await flushOnce(beats)];
      batches.push({ beats: count, per_visitor: per, ms });
      progress(`writer: ${count} beats: ${ms.join(', ')} ms`);
    }
    // Four beats of each of (up to) 1,000 visitors, 1 s apart, in one batch.
    const k = Math.min(N, 1000);
    const base = Date.now() + 1000; // later than every beat so far: greatest() keeps the one the UPDATE picks
    const four = [];
    for (let j = 1; j <= 4; j++) for (let i = 0; i < k; i++) four.push(plain(i, base + j * 1000));
    await flushOnce(four);
    const kept = await pg.query(
      `SELECT round(extract(epoch FROM o.last_beat_at - to_timestamp($2 / 1000.0)))::int AS s, count(*)::int AS n
         FROM visitors_online o WHERE o.visitor_id = ANY ($1::bigint[]) GROUP BY 1 ORDER BY 1`,
      [Array.from(ids.subarray(0, k)), base],
    );
    report.writer = { batches, four_beats_each: { visitors: k, last_beat_at_seconds_after_base: Object.fromEntries(kept.rows.map((x) => [`+${x.s}`, x.n])) } };
  }

  // ---- phase 1: capacity ----
  if (o.only !== 'steady' && o.only !== 'writer') {
    progress(`capacity: a page view for each visitor, then ${o.capacity} s of beats over ${o.conns} connections`);
    resetBook();
    const fvBefore = await flushStats();
    const tv = now();
    await overConns(conns, N, (c, i) => send(c, i, true));
    const viewSecs = (now() - tv) / 1000;
    const viewsOk = book.ok;
    const viewStatus = { ...book.status };
    const viewLat = summarize(book.lat);
    const viewsCaught = await caughtUp(120000);
    const viewsWriter = flushDelta(fvBefore, await flushStats(), N);
    resetBook();
    lastSent.fill(0);
    const f0 = await flushStats();
    const stopRss = rssSampler(srv.pid);
    const stopCpu = meter(srv.pid, pgPid);
    const deadline = now() + o.capacity * 1000;
    let k = 0;
    await Promise.all(
      conns.map(async (c) => {
        while (now() < deadline) await send(c, k++ % N, false);
      }),
    );
    const cpu = stopCpu();
    const rss = stopRss();
    const f1 = await flushStats();
    const caught = await caughtUp(10000);
    const f2 = await flushStats();
    report.capacity = {
      page_views: {
        sent: N,
        ok: viewsOk,
        seconds: r2(viewSecs),
        per_s: Math.round(N / viewSecs),
        latency_ms: viewLat,
        status: viewStatus,
        written_after_s: viewsCaught.after_s,
        lagging: viewsCaught.lagging,
        writer: viewsWriter,
      },
      seconds: cpu.seconds,
      beats_ok: book.ok,
      beats_per_s: Math.round(book.ok / cpu.seconds),
      latency_ms: summarize(book.lat),
      errors_by_status: book.status,
      errors: book.errors,
      error_sample: book.sample,
      cpu,
      rss_mib: rss,
      writer: {
        ...flushDelta(f0, f1, book.ok),
        caught_up_after_s: caught.after_s,
        lagging: caught.lagging,
        older_than_last_beat: caught.older_than_last_beat,
        max_behind_ms: caught.max_behind_ms,
        after_window: flushDelta(f1, f2, 0),
      },
      pg_cpu_us_per_beat: r1((cpu.pg_cpu_s * 1e6) / book.ok),
      parleyd_cpu_us_per_beat: r1((cpu.parleyd_cpu_s * 1e6) / book.ok),
      warnings_not_written: warnings(),
      tables: await sizes(),
    };
    progress(`capacity: ${report.capacity.beats_per_s} beats/s`);
  }

  // ---- phase 2: steady state ----
  if (o.only !== 'capacity' && o.only !== 'writer') {
    const B = o.beat;
    const P = Math.max(1, Math.round(60 / B)); // every P-th beat of a visitor is a page view
    progress(`steady: ${N} visitors beating every ${B} s, a page view every ~${P * B} s, for ${o.steady} s`);
    if (o.only === 'steady') {
      // Every visitor online first, as the capacity phase leaves them.
      await overConns(conns, N, (c, i) => send(c, i, true));
      await caughtUp(10000);
    }
    resetBook();
    const f0 = await flushStats();
    const stopRss = rssSampler(srv.pid);
    const stopCpu = meter(srv.pid, pgPid);
    const stopQuietCpu = meter(srv.pid, pgPid);
    const t0 = now();
    const end = t0 + o.steady * 1000;
    let scheduled = 0;
    let queued = 0;
    let maxBacklog = 0;
    const queue = [];
    const idle = [...conns];
    const pump = () => {
      while (idle.length && queue.length) {
        const c = idle.pop();
        const slot = queue.shift();
        const i = slot % N;
        const round = Math.floor(slot / N);
        send(c, i, round > 0 && (round + i) % P === 0).then(() => {
          idle.push(c);
          pump();
        });
      }
    };
    // Slot s is visitor s % N's beat number floor(s / N), due at s * B / N seconds.
    const pacer = setInterval(() => {
      const t = Math.min(now(), end);
      const due = Math.floor((((t - t0) / 1000) * N) / B);
      while (scheduled < due) {
        queue.push(scheduled++);
        queued += 1;
      }
      maxBacklog = Math.max(maxBacklog, queue.length);
      pump();
    }, 10);
    // The admin's reads, spread over the window.
    const adminConn = new Conn(srv.port);
    const reads = { plain: [], q: [], country: [] };
    const readStatus = {};
    const readTotals = {};
    const variants = [
      ['plain', '/api/visitors/online'],
      ['q', '/api/visitors/online?q=product%2042'],
      ['country', '/api/visitors/online?country=US'],
    ];
    // First half: beats alone (their cost); second half: the reads as well.
    const half = t0 + (end - t0) / 2;
    await sleep(half - now());
    const quietCpu = stopQuietCpu();
    const quietOk = book.ok;
    const quietFlush = await flushStats();
    const READS = 20;
    for (let r = 0; r < READS && now() < end; r++) {
      const at = half + ((r + 0.5) * (end - half)) / READS;
      if (at > now()) await sleep(at - now());
      for (const [name, p] of variants) {
        const t = now();
        const res = await adminConn.send(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\n${adminHeaders}\r\n`, '');
        reads[name].push(now() - t);
        readStatus[res.status] = (readStatus[res.status] || 0) + 1;
        if (res.status === 200) {
          const j = JSON.parse(res.body);
          readTotals[name] = { total: j.total, returned: j.visitors.length };
        } else if (!readTotals.sample) readTotals.sample = `${res.status} ${res.body.slice(0, 200)}`;
      }
    }
    adminConn.close();
    while (now() < end) await sleep(20);
    clearInterval(pacer);
    const leftInQueue = queue.length;
    queue.length = 0;
    while (idle.length < conns.length) await sleep(5);
    const cpu = stopCpu();
    const rss = stopRss();
    const f1 = await flushStats();
    const caught = await caughtUp(10000);
    const secs = cpu.seconds;
    report.steady = {
      beat_seconds: B,
      page_view_every_s: P * B,
      seconds: secs,
      offered: queued,
      offered_per_s: r1(queued / secs),
      ok: book.ok,
      ok_per_s: r1(book.ok / secs),
      page_views_ok: book.views,
      not_sent_at_end: leftInQueue,
      max_backlog: maxBacklog,
      latency_ms: summarize(book.lat),
      errors_by_status: book.status,
      errors: book.errors,
      error_sample: book.sample,
      cpu,
      rss_mib: rss,
      writer: {
        ...flushDelta(f0, f1, book.ok),
        caught_up_after_s: caught.after_s,
        lagging: caught.lagging,
        older_than_last_beat: caught.older_than_last_beat,
        max_behind_ms: caught.max_behind_ms,
      },
      beats_only: {
        seconds: quietCpu.seconds,
        ok_per_s: r1(quietOk / quietCpu.seconds),
        cpu: quietCpu,
        pg_cpu_us_per_beat: r1((quietCpu.pg_cpu_s * 1e6) / quietOk),
        parleyd_cpu_us_per_beat: r1((quietCpu.parleyd_cpu_s * 1e6) / quietOk),
        writer: flushDelta(f0, quietFlush, quietOk),
      },
      online_list_ms: { plain: summarize(reads.plain), q: summarize(reads.q), country: summarize(reads.country), status: readStatus, results: readTotals },
      warnings_not_written: warnings(),
      tables: await sizes(),
    };
    progress(`steady: ${report.steady.ok_per_s} beats/s answered`);
  }

  for (const c of conns) c.close();
  report.rss_after_mib = r1(rssMiB(srv.pid));
  await srv.stop();
  await pg.stop();
  report.total_seconds = r1((now() - t00) / 1000);
  print(report, o);
  if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

function lat(s) {
  return s.count ? `p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms, max ${s.max} ms` : 'none';
}

function cpuLine(c) {
  return `parleyd ${c.parleyd_pct}%, PostgreSQL ${c.pg_pct}%, beatload ${c.client_pct}% of one core; other processes ${c.other_pct}%; machine ${c.machine_busy_pct}% busy (of all cores)`;
}

function tables(t) {
  return `visitors_online ${t.visitors_online.rows} rows ${t.visitors_online.mib} MiB, page_views ${t.page_views.rows} rows ${t.page_views.mib} MiB, visits ${t.visits.rows} rows ${t.visits.mib} MiB, visitors ${t.visitors.mib} MiB`;
}

function print(r, o) {
  const out = [];
  out.push(`beatload: ${r.visitors} visitors, ${r.connections} connections${r.parleyd ? `, ${r.parleyd}` : ''}`);
  out.push(`sessions   ${r.visitors} in ${r.sessions.seconds} s (${r.sessions.per_s}/s)`);
  if (r.writer) {
    out.push(`writer     parley_beats_flush called directly (${r.visitors} visitors online), ms per call (twice each):`);
    for (const b of r.writer.batches) out.push(`  ${String(b.beats).padStart(7)} beats (${b.per_visitor} per visitor)  ${b.ms.join(' / ')} ms`);
    const f = r.writer.four_beats_each;
    out.push(
      `  four beats each of ${f.visitors} visitors at +1..+4 s in one batch: last_beat_at became ${JSON.stringify(f.last_beat_at_seconds_after_base)} (visitors by second)`,
    );
  }
  if (r.capacity) {
    const c = r.capacity;
    out.push(`capacity   (-d ${o.capacity}: beats as fast as ${r.connections} keep-alive connections allow)`);
    out.push(
      `  page views  ${c.page_views.ok}/${c.page_views.sent} in ${c.page_views.seconds} s (${c.page_views.per_s}/s), ${lat(c.page_views.latency_ms)}; all written ${c.page_views.written_after_s === null ? `NO (${c.page_views.lagging} missing after 120 s)` : `${c.page_views.written_after_s} s after the last answer`} (${c.page_views.writer.calls} flushes, ${c.page_views.writer.total_s} s)`,
    );
    out.push(`  beats       ${c.beats_ok} answered 200 in ${c.seconds} s: ${c.beats_per_s} beats/s`);
    out.push(`  latency     ${lat(c.latency_ms)}`);
    out.push(`  errors      ${JSON.stringify(c.errors_by_status)} ${JSON.stringify(c.errors)}${c.error_sample ? ` e.g. ${c.error_sample}` : ''}`);
    out.push(`  CPU         ${cpuLine(c.cpu)}`);
    out.push(`  per beat    parleyd ${c.parleyd_cpu_us_per_beat} µs, PostgreSQL ${c.pg_cpu_us_per_beat} µs of CPU`);
    out.push(`  RSS         parleyd ${c.rss_mib.start} → ${c.rss_mib.end} MiB (peak ${c.rss_mib.peak})`);
    out.push(
      `  writer      ${c.writer.calls} flushes, ${c.writer.beats_per_call} beats and ${c.writer.mean_ms} ms each (${c.writer.total_s} s in all); every visitor's last beat written ${c.writer.caught_up_after_s === null ? `NO: ${c.writer.lagging} lagging after 10 s` : `${c.writer.caught_up_after_s} s after the window`} (${c.writer.after_window.calls} more flushes, ${c.writer.after_window.total_s} s); "visitor beats not written" warnings: ${c.warnings_not_written}`,
    );
    out.push(`  last_beat   then: ${c.writer.older_than_last_beat} visitors' last_beat_at older than their last beat, by at most ${c.writer.max_behind_ms} ms`);
    out.push(`  tables      ${tables(c.tables)}`);
  }
  if (r.steady) {
    const s = r.steady;
    out.push(`steady     (-w ${o.steady}: every visitor beats every ${s.beat_seconds} s, a page view every ${s.page_view_every_s} s)`);
    out.push(
      `  beats       offered ${s.offered} (${s.offered_per_s}/s), answered 200 ${s.ok} (${s.ok_per_s}/s) of which page views ${s.page_views_ok}; backlog max ${s.max_backlog}, unsent at the end ${s.not_sent_at_end}`,
    );
    out.push(`  latency     ${lat(s.latency_ms)}`);
    out.push(`  errors      ${JSON.stringify(s.errors_by_status)} ${JSON.stringify(s.errors)}${s.error_sample ? ` e.g. ${s.error_sample}` : ''}`);
    const q = s.beats_only;
    out.push(`  CPU         first ${q.seconds} s, beats only: ${cpuLine(q.cpu)}`);
    out.push(
      `  per beat    parleyd ${q.parleyd_cpu_us_per_beat} µs, PostgreSQL ${q.pg_cpu_us_per_beat} µs of CPU; writer ${q.writer.calls} flushes of ${q.writer.beats_per_call} beats, ${q.writer.mean_ms} ms each`,
    );
    out.push(`  CPU         whole window, with the online-list reads in the second half: ${cpuLine(s.cpu)}`);
    out.push(`  RSS         parleyd ${s.rss_mib.start} → ${s.rss_mib.end} MiB (peak ${s.rss_mib.peak}, growth ${s.rss_mib.growth})`);
    out.push(
      `  writer      ${s.writer.calls} flushes, ${s.writer.beats_per_call} beats and ${s.writer.mean_ms} ms each; every visitor's last beat written ${s.writer.caught_up_after_s === null ? `NO: ${s.writer.lagging} lagging after 10 s` : `${s.writer.caught_up_after_s} s after the window`}; warnings: ${s.warnings_not_written}`,
    );
    out.push(`  last_beat   then: ${s.writer.older_than_last_beat} visitors' last_beat_at older than their last beat, by at most ${s.writer.max_behind_ms} ms`);
    const l = s.online_list_ms;
    out.push(`  online list GET /api/visitors/online (limit 200), ${l.plain.count}× each, status ${JSON.stringify(l.status)}:`);
    out.push(`                plain      ${lat(l.plain)}  ${JSON.stringify(l.results.plain || {})}`);
    out.push(`                ?q=        ${lat(l.q)}  ${JSON.stringify(l.results.q || {})}`);
    out.push(`                ?country=  ${lat(l.country)}  ${JSON.stringify(l.results.country || {})}`);
    out.push(`  tables      ${tables(s.tables)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

module.exports = { main };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
