'use strict';
// bench/idlesockets: what idle visitor WebSockets cost parleyd.
//
//   bench/idlesockets [-n 5000] [--idle 30] [--parleyd PATH] [--json] [--quiet]
//
// Self-hosted like `chatload --self` (bench/selfhost.js): a throw-away
// PostgreSQL and one parleyd sized for the sockets. One agent comes online
// and one "liveness" visitor starts a conversation that is assigned to it.
// Then N visitors, each its own widget session (POST /api/widget/session),
// open /ws/visitor and authenticate, and stay idle. parleyd's RSS (VmRSS)
// and thread count are read before and after they open: RSS and threads per
// idle socket. Then, with all of them open, parleyd's and PostgreSQL's CPU
// over --idle seconds, during which the liveness visitor sends one message a
// second and the agent must receive each (send -> receipt p50/max): an idle
// server still works. Every target is on loopback; every wait is bounded.

const path = require('node:path');
const os = require('node:os');
const { performance } = require('node:perf_hooks');

const { CLK_TCK, procCpu, treeCpu, machineCpu } = require('./proc');
const {
  REPO_ROOT,
  sleep,
  round,
  mib,
  pool,
  summarize,
  checkLoopback,
  agentLogin,
  widgetSession,
  procStatus,
  startSelf,
  stopSelf,
  eachOption,
  num,
  addServerEnv,
  Tally,
} = require('./selfhost');

const WebSocket = require(path.join(REPO_ROOT, 'node_modules', 'ws'));

const HELP = `Usage: bench/idlesockets [options]

Starts a throw-away PostgreSQL and parleyd, one agent and one visitor with a
conversation, then opens N authenticated visitor WebSockets that stay idle, and
reports parleyd's RSS and threads per idle socket and the CPU of an idle period
(while the one visitor sends a message a second that the agent must receive).

  -n, --sockets N          idle visitor sockets (each its own widget session)   [5000]
  --idle S                 seconds of the idle period                            [30]
  --settle S               seconds to wait after the sockets opened before
                           reading RSS and threads                               [3]
  --connect-concurrency C  sockets being set up at once                          [64]
  --parleyd PATH           the parleyd binary to run                  [$PARLEYD, backend/parleyd]
  --threads N              PARLEY_HTTP_THREADS                       [N + 2 + 64]
  --server-env K=V         extra environment for parleyd (repeatable; overrides ours)
  --server-log FILE        write parleyd's output there at the end
  --json                   print the report as JSON (after the text, or alone with --quiet)
  --quiet                  no progress lines, no text report
  -h, --help
`;

function parseArgs(argv) {
  const o = {
    sockets: 5000,
    idle: 30,
    settle: 3,
    connectConcurrency: 64,
    parleyd: '',
    threads: 0,
    serverEnv: {},
    serverLog: '',
    json: false,
    quiet: false,
  };
  eachOption(argv, (a, next) => {
    switch (a) {
      case '-h':
      case '--help':
        process.stdout.write(HELP);
        process.exit(0);
        break;
      case '-n':
      case '--sockets':
        o.sockets = num(a, next(), 1, 25000);
        break;
      case '--idle':
        o.idle = num(a, next(), 1, 3600, false);
        break;
      case '--settle':
        o.settle = num(a, next(), 0, 60, false);
        break;
      case '--connect-concurrency':
        o.connectConcurrency = num(a, next(), 1, 1000);
        break;
      case '--parleyd':
        o.parleyd = next();
        break;
      case '--threads':
        o.threads = num(a, next(), 4, 30000);
        break;
      case '--server-env':
        addServerEnv(o.serverEnv, next());
        break;
      case '--server-log':
        o.serverLog = next();
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
  });
  return o;
}

const now = () => performance.now();
let quiet = false;
function progress(msg) {
  if (!quiet) process.stderr.write(`idlesockets: ${msg}\n`);
}

/** Opens a WebSocket, sends `first` on open and resolves with the socket once `done(frame)` is true. */
function openSocket(url, headers, first, done, onFrame, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false, handshakeTimeout: 20000 });
    let settled = false;
    const timer = setTimeout(() => fail(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'setup_timeout' })), timeoutMs);
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    ws.on('unexpected-response', (req, res) => {
      fail(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { code: `ws_upgrade_${res.statusCode}` }));
      res.resume();
      req.destroy();
    });
    ws.on('error', (e) => fail(Object.assign(e, { code: e.code || 'ws_error' })));
    ws.on('close', (code, reason) => fail(Object.assign(new Error(`closed during set-up: ${code} ${reason}`), { code: `ws_closed_${code}` })));
    ws.on('open', () => ws.send(JSON.stringify(first)));
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (!settled) {
        if (m.type === 'error') return fail(Object.assign(new Error(`${m.code} ${m.message}`), { code: `setup_${m.code}` }));
        if (done(m)) {
          settled = true;
          clearTimeout(timer);
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          resolve(ws);
        }
        return;
      }
      if (onFrame) onFrame(m);
    });
  });
}

async function run(o) {
  quiet = o.quiet;
  const limit = Number(process.env.IDLESOCKETS_NOFILE || 0);
  if (limit && limit < o.sockets + 256) {
    progress(`warning: this process may open ${limit} files; ${o.sockets} sockets need about ${o.sockets + 256} (raise ulimit -n)`);
  }
  const hardDeadlineMs = (600 + o.sockets / 20 + o.idle + 120) * 1000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`idlesockets: giving up after ${Math.round(hardDeadlineMs / 1000)} s (watchdog)\n`);
    process.exit(3);
  }, hardDeadlineMs);

  const report = { config: {}, sockets: {}, server: {}, idle: {}, liveness: {} };
  const self = await startSelf(
    {
      visitors: o.sockets + 1,
      agents: 1,
      conversations: 1,
      rate: 1,
      nodes: 1,
      threads: o.threads,
      serverEnv: o.serverEnv,
      connectConcurrency: o.connectConcurrency,
      parleyd: o.parleyd,
    },
    progress,
  );
  const idle = [];
  let agentWs = null;
  let liveWs = null;
  try {
    const base = checkLoopback(self.url);
    const wsBase = `ws://${base.host}`;
    const origin = self.origin;
    const pid = self.pid;
    const pgPid = self.pgPid();
    report.config = {
      url: base.origin,
      sockets: o.sockets,
      idle_s: o.idle,
      settle_s: o.settle,
      connect_concurrency: o.connectConcurrency,
      parleyd: self.version,
      server_pid: pid,
      server_env: self.env,
      pg_fsync: 'off',
      cpus: os.cpus().length,
      node: process.version,
    };
    const statusAt = (label) => {
      const s = procStatus(pid);
      return s ? { label, rss_mib: mib(s.rss), rss: s.rss, threads: s.threads } : null;
    };
    const started = statusAt('started');

    // ---- the agent and the liveness visitor ----
    const live = { sent: 0, delivered: 0, acked: 0, ledger: new Map(), delivery: [], ack: [], errors: new Tally() };
    let measuring = false;
    progress('one agent online, one visitor with a conversation assigned to it');
    const login = await agentLogin(base, origin, self.emails[0], self.password);
    agentWs = await openSocket(
      `${wsBase}/ws/agent`,
      { Origin: origin, Cookie: login.cookie },
      { type: 'auth', id: 'auth', csrf_token: login.csrf },
      (m) => m.type === 'ack' && m.id === 'auth',
    );
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('agent: status.set online not acknowledged within 20 s')), 20000);
      agentWs.on('message', (data) => {
        const m = JSON.parse(data);
        if (m.type === 'ack' && m.id === 'online') {
          clearTimeout(t);
          resolve();
        }
      });
      agentWs.send(JSON.stringify({ type: 'status.set', id: 'online', status: 'online' }));
    });
    agentWs.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'message.created' && m.message && m.message.author && m.message.author.kind === 'visitor') {
        const rec = live.ledger.get(m.message.client_msg_id);
        if (rec && !rec.deliveredAt) {
          rec.deliveredAt = now();
          live.delivered++;
          live.delivery.push(rec.deliveredAt - rec.sentAt);
        }
      } else if (m.type === 'error') live.errors.add(`agent_${m.code}`, m.message);
    });
    agentWs.on('close', (code, reason) => live.errors.add(`agent_ws_closed_${code}`, String(reason)));

    let conv = 0;
    let assigned = false;
    const liveToken = await widgetSession(base, origin, self.siteKey);
    liveWs = await openSocket(
      `${wsBase}/ws/visitor`,
      { Origin: origin },
      { type: 'auth', id: 'auth', token: liveToken },
      (m) => m.type === 'ack' && m.id === 'auth',
    );
    liveWs.on('message', (data) => {
      const m = JSON.parse(data);
      if (m.type === 'ack' && m.id === 'start') {
        conv = m.conversation.id;
        if (m.conversation.status === 'assigned') assigned = true;
      } else if (m.type === 'conversation.updated' && m.conversation && m.conversation.status === 'assigned') {
        assigned = true;
      } else if (m.type === 'ack') {
        const rec = live.ledger.get(m.id);
        if (rec && !rec.ackedAt) {
          rec.ackedAt = now();
          live.acked++;
          live.ack.push(rec.ackedAt - rec.sentAt);
        }
      } else if (m.type === 'error') {
        live.errors.add(m.code || 'unknown', m.message);
        const rec = live.ledger.get(m.id);
        if (rec) rec.failed = m.code;
      }
    });
    liveWs.on('close', (code, reason) => {
      if (measuring) live.errors.add(`visitor_ws_closed_${code}`, String(reason));
    });
    liveWs.send(JSON.stringify({ type: 'conversation.start', id: 'start', prechat: { name: 'Liveness visitor' }, page_url: 'https://load.test/idle' }));
    const assignDeadline = Date.now() + 30000;
    while (!(conv && assigned) && Date.now() < assignDeadline) await sleep(50);
    if (!conv || !assigned) throw new Error(`the liveness visitor's conversation was not assigned within 30 s (conversation ${conv || 'not started'})`);

    // ---- before ----
    await sleep(o.settle * 1000);
    const before = statusAt('before');

    // ---- the idle sockets ----
    const failures = new Tally();
    const closedLater = new Tally();
    const idleFrames = new Map();
    let pings = 0;
    let phase = 'open';
    progress(`opening ${o.sockets} visitor sockets (${o.connectConcurrency} at a time)`);
    const openStart = now();
    let lastProgress = openStart;
    let peakRss = before ? before.rss : 0;
    const sampler = setInterval(() => {
      const s = procStatus(pid);
      if (s && s.rss > peakRss) peakRss = s.rss;
    }, 1000);
    await pool(
      Array.from({ length: o.sockets }, (_, i) => i),
      o.connectConcurrency,
      async (i) => {
        try {
          const token = await widgetSession(base, origin, self.siteKey);
          const ws = await openSocket(
            `${wsBase}/ws/visitor`,
            { Origin: origin },
            { type: 'auth', id: 'auth', token },
            (m) => m.type === 'ack' && m.id === 'auth',
            (m) => idleFrames.set(m.type, (idleFrames.get(m.type) || 0) + 1),
          );
          idle[i] = ws;
          ws.on('ping', () => pings++);
          ws.on('error', (e) => {
            if (phase !== 'closing') closedLater.add('ws_error', e.message);
          });
          ws.on('close', (code, reason) => {
            if (phase !== 'closing') closedLater.add(`closed_${code}`, String(reason));
          });
        } catch (e) {
          failures.add(e.code || 'setup', e.message);
        }
        const t = now();
        if (t - lastProgress >= 5000) {
          lastProgress = t;
          progress(`  ${idle.filter(Boolean).length} open, ${failures.total()} failed after ${round((t - openStart) / 1000)} s`);
        }
      },
    );
    const openSeconds = (now() - openStart) / 1000;
    const opened = idle.filter(Boolean).length;
    progress(`${opened}/${o.sockets} sockets open in ${round(openSeconds)} s${failures.total() ? `; failures: ${JSON.stringify(failures.toJSON())}` : ''}`);
    await sleep(o.settle * 1000);
    const after = statusAt('after');
    const openAtIdleStart = idle.filter((ws) => ws && ws.readyState === WebSocket.OPEN).length;

    // ---- the idle period, with one message a second through the liveness conversation ----
    progress(`idle for ${o.idle} s with ${openAtIdleStart} sockets open (one liveness message a second)`);
    idleFrames.clear();
    pings = 0;
    phase = 'idle';
    measuring = true;
    const cpu0 = procCpu(pid);
    const pg0 = treeCpu(pgPid);
    const client0 = process.cpuUsage();
    const machine0 = machineCpu();
    const idleStart = now();
    let n = 0;
    const sendLive = () => {
      if (liveWs.readyState !== WebSocket.OPEN) return;
      const cm = `live.${n++}`;
      live.ledger.set(cm, { sentAt: now(), ackedAt: 0, deliveredAt: 0 });
      live.sent++;
      liveWs.send(JSON.stringify({ type: 'message.send', id: cm, conversation_id: conv, client_msg_id: cm, body: `still there? ${cm}` }));
    };
    sendLive();
    const ticker = setInterval(sendLive, 1000);
    await sleep(o.idle * 1000);
    clearInterval(ticker);
    const idleSeconds = (now() - idleStart) / 1000;
    const cpu1 = procCpu(pid);
    const pg1 = treeCpu(pgPid);
    const client = process.cpuUsage(client0);
    const machine1 = machineCpu();
    const end = statusAt('end');
    clearInterval(sampler);
    const openAtIdleEnd = idle.filter((ws) => ws && ws.readyState === WebSocket.OPEN).length;
    // late liveness answers
    const lateDeadline = Date.now() + 5000;
    while ((live.delivered < live.sent || live.acked < live.sent) && Date.now() < lateDeadline) await sleep(50);
    measuring = false;

    // ---- numbers ----
    const perSocket = (a, b, scale) => (a !== null && b !== null && opened ? round((b - a) / opened / scale) : null);
    report.sockets = {
      requested: o.sockets,
      opened,
      failed: failures.toJSON(),
      failure_samples: Object.fromEntries(failures.samples),
      open_s: round(openSeconds),
      opened_per_s: round(opened / openSeconds),
      open_at_idle_start: openAtIdleStart,
      open_at_idle_end: openAtIdleEnd,
      closed_or_failed_after_open: closedLater.toJSON(),
      closed_samples: Object.fromEntries(closedLater.samples),
      frames_received_while_idle: Object.fromEntries([...idleFrames].sort()),
      pings_received_while_idle: pings,
    };
    report.server = {
      pid,
      started,
      before,
      after,
      end,
      peak_rss_mib: mib(peakRss),
      // the cost of one more idle socket: the growth from before to after, per socket
      rss_kib_per_socket: before && after ? perSocket(before.rss, after.rss, 1024) : null,
      threads_per_socket: before && after ? perSocket(before.threads, after.threads, 1) : null,
      // the whole process divided by the sockets (an upper bound: includes the server's base)
      rss_kib_per_socket_whole_process: after && opened ? round(after.rss / 1024 / opened) : null,
      threads_per_socket_whole_process: after && opened ? round(after.threads / opened) : null,
    };
    for (const k of ['started', 'before', 'after', 'end']) if (report.server[k]) delete report.server[k].rss;
    const cpuS = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
    const pgS = pg0 !== null && pg1 !== null ? pg1 - pg0 : null;
    const clientS = (client.user + client.system) / 1e6;
    report.idle = {
      seconds: round(idleSeconds),
      sockets_open: openAtIdleEnd,
      parleyd_cpu_s: cpuS === null ? null : round(cpuS),
      parleyd_cpu_pct: cpuS === null ? null : round((100 * cpuS) / idleSeconds),
      parleyd_cpu_ms_per_s: cpuS === null ? null : round((1000 * cpuS) / idleSeconds),
      parleyd_cpu_us_per_socket_per_s: cpuS === null || !openAtIdleEnd ? null : round((1e6 * cpuS) / idleSeconds / openAtIdleEnd),
      postgres_cpu_s: pgS === null ? null : round(pgS),
      postgres_cpu_pct: pgS === null ? null : round((100 * pgS) / idleSeconds),
      client_cpu_pct: round((100 * clientS) / idleSeconds),
    };
    if (machine0 && machine1) {
      const busy = (machine1.busy - machine0.busy) / CLK_TCK;
      const cores = os.cpus().length;
      report.idle.machine_busy_pct_of_all_cores = round((100 * busy) / (cores * idleSeconds));
      report.idle.other_cpu_pct_of_one_core = round((100 * (busy - (cpuS || 0) - (pgS || 0) - clientS)) / idleSeconds);
    }
    let undelivered = 0;
    let unacked = 0;
    let refused = 0;
    for (const rec of live.ledger.values()) {
      if (rec.failed) refused++;
      else {
        if (!rec.deliveredAt) undelivered++;
        if (!rec.ackedAt) unacked++;
      }
    }
    report.liveness = {
      conversation_id: conv,
      sent: live.sent,
      delivered: live.delivered,
      acked: live.acked,
      undelivered,
      unacked,
      refused,
      delivery_ms: summarize(live.delivery),
      ack_ms: summarize(live.ack),
      errors: live.errors.toJSON(),
      error_samples: Object.fromEntries(live.errors.samples),
    };

    // ---- clean up ----
    phase = 'closing';
    progress(`closing ${opened + 2} sockets`);
    for (const ws of idle) if (ws) ws.close(1000);
    liveWs.close(1000);
    agentWs.close(1000);
    const closeDeadline = Date.now() + 10000;
    while (Date.now() < closeDeadline && idle.some((ws) => ws && ws.readyState !== WebSocket.CLOSED)) await sleep(100);
  } finally {
    for (const ws of [...idle, liveWs, agentWs]) if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
    progress('stopping parleyd and PostgreSQL');
    const stopped = await stopSelf(self, { serverLog: o.serverLog });
    report.server.exit_code = stopped.exit_code;
    report.server.log_warnings = stopped.log_warnings;
    report.server.log_warning_samples = stopped.log_warning_samples;
    clearTimeout(watchdog);
  }
  return report;
}

function textReport(r) {
  const c = r.config;
  const s = r.sockets;
  const v = r.server;
  const i = r.idle;
  const l = r.liveness;
  const ms = (x) => (x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));
  const fmt = (e) =>
    Object.entries(e)
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ') || 'none';
  const workers = Number(c.server_env.PARLEY_HTTP_THREADS) || 0;
  const lines = [''];
  lines.push(`idlesockets (self-hosted) ${c.url}: ${c.sockets} idle visitor sockets, ${c.idle_s} s idle`);
  lines.push(`parleyd         ${c.parleyd}`);
  lines.push(
    `server env      ${Object.entries(c.server_env)
      .map(([k, x]) => `${k}=${x}`)
      .join(' ')}; PostgreSQL fsync=${c.pg_fsync}`,
  );
  lines.push(`sockets         ${s.opened}/${s.requested} open in ${s.open_s} s (${s.opened_per_s}/s); failed: ${fmt(s.failed)}`);
  for (const [k, x] of Object.entries(s.failure_samples || {})) lines.push(`                ${k}: ${x}`);
  if (v.before && v.after) {
    lines.push(
      `RSS             ${v.before.rss_mib} MiB before, ${v.after.rss_mib} MiB with the sockets open: ${v.rss_kib_per_socket} KiB per idle socket (growth); whole process ${v.rss_kib_per_socket_whole_process} KiB per socket; peak ${v.peak_rss_mib} MiB, ${v.end ? v.end.rss_mib : '-'} at the end of the idle period`,
    );
    lines.push(
      `threads         ${v.before.threads} before, ${v.after.threads} with the sockets open: ${v.threads_per_socket} per idle socket (growth); whole process ${v.threads_per_socket_whole_process} per socket${workers && v.before.threads >= workers ? ` ("before" already holds the ${workers} PARLEY_HTTP_THREADS workers, started with the server)` : ''}`,
    );
  }
  lines.push(
    `idle CPU        parleyd ${i.parleyd_cpu_pct ?? '-'}% of one core (${i.parleyd_cpu_ms_per_s ?? '-'} ms/s, ${i.parleyd_cpu_us_per_socket_per_s ?? '-'} µs/s per socket), postgres ${i.postgres_cpu_pct ?? '-'}%, idlesockets ${i.client_cpu_pct}% over ${i.seconds} s${i.other_cpu_pct_of_one_core !== undefined ? `; other processes ${i.other_cpu_pct_of_one_core}% of one core` : ''}`,
  );
  lines.push(
    `while idle      ${s.open_at_idle_start} -> ${s.open_at_idle_end} sockets open; closed or failed after opening: ${fmt(s.closed_or_failed_after_open)}; frames to idle sockets: ${fmt(s.frames_received_while_idle)}; pings ${s.pings_received_while_idle}`,
  );
  for (const [k, x] of Object.entries(s.closed_samples || {})) lines.push(`                ${k}: ${x}`);
  lines.push(
    `liveness        ${l.sent} sent (1/s), ${l.delivered} delivered, ${l.acked} acked, ${l.refused} refused; delivery p50 ${ms(l.delivery_ms.p50)} max ${ms(l.delivery_ms.max)} ms (visitor send -> agent receive); ack p50 ${ms(l.ack_ms.p50)} max ${ms(l.ack_ms.max)} ms`,
  );
  if (Object.keys(l.errors).length) lines.push(`liveness errors ${fmt(l.errors)}`);
  for (const [k, x] of Object.entries(l.error_samples || {})) lines.push(`                ${k}: ${x}`);
  if (v.exit_code !== undefined) lines.push(`server exit     ${v.exit_code}; ${v.log_warnings} warn/error log lines`);
  for (const w of v.log_warning_samples || []) lines.push(`                ${w.slice(0, 200)}`);
  lines.push('');
  return lines.join('\n');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`idlesockets: ${e.message}\n`);
    process.exit(2);
  }
  let report;
  try {
    report = await run(o);
  } catch (e) {
    process.stderr.write(`idlesockets: ${process.env.IDLESOCKETS_DEBUG ? e.stack : e.message}\n`);
    process.exit(1);
  }
  if (!o.quiet) process.stdout.write(textReport(report) + '\n');
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  const l = report.liveness;
  const s = report.sockets;
  const bad = s.opened < s.requested || Object.keys(s.closed_or_failed_after_open).length || l.undelivered || l.unacked || l.refused || !l.sent;
  process.exit(bad ? 4 : 0);
}

module.exports = { main, parseArgs };

if (require.main === module) main();
