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
// -r takes a list (1000,2000,4000): one set-up, then one measured window per
// rate, each with its own warm-up and drain: a curve. Self-hosted, --nodes 2
// splits the sockets over two parleyd processes on one PostgreSQL, and
// --compare BINARY measures a second build the same way, rounds alternating
// between the two builds, each on a fresh PostgreSQL and server.
//
// `bench/chatload --help` lists the options; bench/README.md explains them.
// Every target must be on loopback; every loop is bounded in count and time.

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { performance, monitorEventLoopDelay } = require('node:perf_hooks');

const { CLK_TCK, procCpu, treeCpu, machineCpu } = require('./proc');
const {
  REPO_ROOT,
  round,
  mib,
  pool,
  summarize,
  percentile,
  checkLoopback,
  agentLogin,
  widgetSession,
  procStatus,
  startSelf,
  stopSelf,
  raiseCapacity,
  eachOption,
  num,
  addServerEnv,
  Tally,
  sleep,
} = require('./selfhost');

const WebSocket = require(path.join(REPO_ROOT, 'node_modules', 'ws'));

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
  --nodes K              1 or 2 parleyd processes on the one PostgreSQL; visitors and agents
                         alternate between them                               [1]
  --compare BINARY       measure --parleyd (A) and BINARY (B) with the same options, each
                         run on a fresh PostgreSQL and server, and print them side by side
  --rounds K             with --compare: A, B, A, B ... K times each; medians      [1]

Load:
  -n, --visitors N       visitor connections, one conversation each          [50]
  -m, --agents M         agent connections (distinct agents)                  [5]
  -r, --rate R[,R...]    total messages per second (visitor sends + replies)  [200]
                         a list measures one window per rate, in order, on the same
                         server and connections (a curve)
  -d, --duration D       measured seconds (per rate)                          [20]
  --warmup S             seconds of load before each measured window          [3]
  --reply P              fraction 0..1 of visitor messages an agent answers   [0]
  --body-bytes B         message body size                                    [64]
  --connect-concurrency C  connections being set up at once                   [32]
  --setup-timeout S      give up setting up after this long                   [180]
  --drain S              after each window, wait this long for late acks and
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
    rates: [200],
    nodes: 1,
    compare: '',
    rounds: 1,
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
  eachOption(argv, (a, next) => {
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
      case '--server-env':
        addServerEnv(o.serverEnv, next());
        break;
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
      case '--rate': {
        const v = next();
        o.rates = String(v)
          .split(',')
          .map((x) => num(a, x.trim(), 0.1, 100000, false));
        if (o.rates.length > 20) throw new Error(`${a}: at most 20 rates`);
        o.rate = Math.max(...o.rates);
        break;
      }
      case '--nodes':
        o.nodes = num(a, next(), 1, 2);
        break;
      case '--compare':
        o.compare = next();
        break;
      case '--rounds':
        o.rounds = num(a, next(), 1, 20);
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
  });
  if (o.nodes > 1 && !o.self) throw new Error('--nodes: only with --self');
  if (o.compare && !o.self) throw new Error('--compare: only with --self');
  if (o.rounds > 1 && !o.compare) throw new Error('--rounds: only with --compare');
  return o;
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

const now = () => performance.now();

let quiet = false;
function progress(msg) {
  if (!quiet) process.stderr.write(`chatload: ${msg}\n`);
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

// ---- self-hosted mode -------------------------------------------------------------------

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
  return raiseCapacity(query, emails, site ? site.default_team_id : 0, o.visitors, progress);
}

// ---- the run --------------------------------------------------------------------------------

async function run(o) {
  quiet = o.quiet;
  const steps = o.rates.length;
  const hardDeadlineMs = (o.waitIdle + o.setupTimeout + steps * (o.warmup + o.duration + o.drain + 5) + 180) * 1000;
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
  let nodes;
  const report = { config: {}, setup: {}, load: {}, server: {}, client: {} };

  try {
    if (o.waitIdle) {
      const w = await waitIdle(o.waitIdle);
      report.machine_before = w;
      if (!w.waited) progress(`warning: the machine did not become quiet (busy ${w.busy_pct}% of one core); running anyway`);
    }
    if (o.self) {
      self = await startSelf(o, progress);
      base = checkLoopback(self.url);
      origin = self.origin;
      siteKey = self.siteKey;
      emails = self.emails;
      password = self.password;
      pid = self.pid;
      maxChats = self.maxChats;
      nodes = self.nodes.map((n) => ({ base: checkLoopback(n.url), pid: n.pid }));
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
      nodes = [{ base, pid }];
    }
    report.config = {
      mode: o.self ? 'self' : 'remote',
      url: base.origin,
      visitors: o.visitors,
      agents: o.agents,
      rate: steps === 1 ? o.rates[0] : o.rates,
      duration_s: o.duration,
      warmup_s: o.warmup,
      reply: o.reply,
      body_bytes: o.bodyBytes,
      subscribe: o.subscribe,
      max_chats: maxChats,
      server_pid: pid || null,
      nodes: nodes.length > 1 ? nodes.map((n) => ({ url: n.base.origin, pid: n.pid })) : undefined,
      server_env: self ? self.env : undefined,
      parleyd: self ? self.version : undefined,
      pg_fsync: self ? (o.pgDurable ? 'on' : 'off') : undefined,
      cpus: require('node:os').cpus().length,
      node: process.version,
    };
    await load(o, { nodes, origin, siteKey, emails, password, self }, report);
  } finally {
    if (self) {
      progress(`self-hosted: stopping parleyd${self.srvs.length > 1 ? ` (${self.srvs.length} nodes)` : ''} and PostgreSQL`);
      const stopped = await stopSelf(self, { serverLog: o.serverLog });
      report.server = report.server || {};
      report.server.exit_code = stopped.exit_code;
      if (stopped.exit_codes.length > 1) report.server.exit_codes = stopped.exit_codes;
      report.server.log_warnings = stopped.log_warnings;
      report.server.log_warning_samples = stopped.log_warning_samples;
    }
    clearTimeout(watchdog);
  }
  return report;
}

async function load(o, ctx, report) {
  const { nodes, origin, siteKey, emails, password, self } = ctx;
  const wsBase = (node) => `ws://${node.base.host}`;
  const setupErrors = new Tally();
  const closeErrors = new Tally();
  const frameCounts = new Map(); // the whole run, set-up included
  const body = 'x'.repeat(o.bodyBytes);
  const mem = { samples: [] };
  const pgPid = self ? self.pgPid() : 0;
  const pids = nodes.map((n) => n.pid).filter(Boolean);

  // RSS and threads of every node, and their sums.
  const sampleServer = (label) => {
    if (!pids.length) return null;
    const per = pids.map((p) => procStatus(p));
    if (per.some((x) => !x)) return null;
    const s = { rss: 0, hwm: 0, threads: 0, nodes: per };
    for (const x of per) {
      s.rss += x.rss || 0;
      s.hwm += x.hwm || 0;
      s.threads += x.threads || 0;
    }
    mem.samples.push({ t: now(), label, ...s });
    return s;
  };
  const serverCpu = () => {
    if (!pids.length) return null;
    const per = pids.map((p) => procCpu(p));
    if (per.some((x) => x === null)) return null;
    return per;
  };
  const memStart = sampleServer('start');

  // One measured window per rate: its own counts, latencies, errors, frames.
  const steps = o.rates.map((rate, index) => ({
    index,
    rate,
    errors: new Tally(),
    lat: { delivery: [], ack: [], reply: [], replyAck: [] },
    counts: { sent: 0, sentWindow: 0, repliesSent: 0, repliesWindow: 0, deliveredInWindow: 0, repliesDeliveredInWindow: 0, duplicateDeliveries: 0 },
    frames: new Map(), // frames received during the window, by type
    windowStart: 0,
    windowEnd: 0,
  }));
  let cur = steps[0];
  let errSink = cur.errors; // socket errors go to the current step; after the last drain, to the clean-up's

  // The message ledger: client_msg_id -> record.
  const ledger = new Map();
  let phase = 'setup'; // setup | warmup | window | drain | closing
  const counts = { acked: 0, delivered: 0, refused: 0 }; // the whole run, for progress lines
  const inWindow = (t) => phase === 'window' && t >= cur.windowStart && t < cur.windowEnd;
  const countFrame = (t) => {
    frameCounts.set(t, (frameCounts.get(t) || 0) + 1);
    if (inWindow(now())) cur.frames.set(t, (cur.frames.get(t) || 0) + 1);
  };

  // ---- agents ----
  const agents = [];
  const agentSetupStart = now();
  progress(`logging in ${o.agents} agents${nodes.length > 1 ? ` (alternating over ${nodes.length} nodes)` : ''}`);
  await pool(emails, Math.min(4, o.connectConcurrency), async (email, i) => {
    const a = { i, email, ws: null, ready: false, n: 0, convs: new Set(), id: null, node: nodes[i % nodes.length] };
    agents[i] = a;
    try {
      const s = await agentLogin(a.node.base, origin, email, password);
      a.id = s.id;
      await openAgent(a, s.cookie, s.csrf);
    } catch (e) {
      setupErrors.add('agent_setup', e.message);
    }
  });

  function openAgent(a, cookie, csrf) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase(a.node)}/ws/agent`, {
        headers: { Origin: origin, Cookie: cookie },
        perMessageDeflate: false,
        handshakeTimeout: 20000,
      });
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
        else errSink.add('agent_ws_error', e.message);
      });
      ws.on('close', (code, reason) => {
        if (step === 99) return;
        if (step < 4) fail(new Error(`agent socket closed during setup: ${code} ${reason}`));
        else if (phase !== 'closing') errSink.add(`agent_ws_closed_${code}`, String(reason));
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
      if (inWindow(t)) cur.counts.deliveredInWindow++;
      if (rec.deliveredAt) {
        rec.step.counts.duplicateDeliveries++;
        return;
      }
      rec.deliveredAt = t;
      counts.delivered++;
      if (rec.measured) rec.step.lat.delivery.push(t - rec.sentAt);
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
    const rec = { sentAt: t, kind: 'reply', measured: inWindow(t), step: cur, ackedAt: 0, deliveredAt: 0 };
    ledger.set(cm, rec);
    cur.counts.repliesSent++;
    if (rec.measured) cur.counts.repliesWindow++;
    a.ws.send(`{"type":"message.send","id":"${cm}","conversation_id":${convId},"client_msg_id":"${cm}","body":"${cm} ${body}"}`);
  }

  function onAck(rec, m) {
    if (rec.ackedAt) return;
    rec.ackedAt = now();
    counts.acked++;
    if (rec.measured) (rec.kind === 'reply' ? rec.step.lat.replyAck : rec.step.lat.ack).push(rec.ackedAt - rec.sentAt);
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
      const v = { i, ws: null, conv: 0, assigned: false, n: 0, open: false, node: nodes[i % nodes.length] };
      visitors[i] = v;
      if (Date.now() > setupDeadline) {
        setupErrors.add('setup_timeout');
        return;
      }
      try {
        await openVisitor(v, await widgetSession(v.node.base, origin, siteKey));
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
      const ws = new WebSocket(`${wsBase(v.node)}/ws/visitor`, { headers: { Origin: origin }, perMessageDeflate: false, handshakeTimeout: 20000 });
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
        else errSink.add('visitor_ws_error', e.message);
      });
      ws.on('close', (code, reason) => {
        v.open = false;
        if (step === 99) return;
        if (step < 2) fail(Object.assign(new Error(`visitor socket closed during setup: ${code} ${reason}`), { code: `visitor_ws_closed_${code}` }));
        else if (phase !== 'closing') errSink.add(`visitor_ws_closed_${code}`, String(reason));
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
      if (inWindow(rec.deliveredAt)) cur.counts.repliesDeliveredInWindow++;
      if (rec.measured) rec.step.lat.reply.push(rec.deliveredAt - rec.sentAt);
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
  if (nodes.length > 1) {
    let cross = 0;
    const nodeOfAgent = new Map(agents.filter((a) => a && a.ready).map((a) => [a.i, a.node]));
    for (const v of senders) for (const a of agents) if (a && a.convs.has(v.conv) && nodeOfAgent.get(a.i) !== v.node) cross++;
    report.setup.conversations_across_nodes = cross;
    progress(`${cross}/${senders.length} conversations have their visitor and their agent on different nodes`);
  }
  const memSetup = sampleServer('after_setup');
  await sleep(500); // let the assignment events settle
  const sampler = setInterval(() => sampleServer(phase), 1000);

  // ---- the load: one warm-up, window and drain per rate ----
  let rr = 0;
  let maxBuffered = 0;
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
    const measured = inWindow(t);
    ledger.set(cm, { sentAt: t, kind: 'visitor', measured, step: cur, ackedAt: 0, deliveredAt: 0 });
    cur.counts.sent++;
    if (measured) cur.counts.sentWindow++;
    v.ws.send(`{"type":"message.send","id":"${cm}","conversation_id":${v.conv},"client_msg_id":"${cm}","body":"${body}"}`);
    if (v.ws.bufferedAmount > maxBuffered) maxBuffered = v.ws.bufferedAmount;
    return true;
  };

  for (const st of steps) {
    cur = st;
    errSink = st.errors;
    maxBuffered = 0;
    if (self && o.pgStats) await self.pg.query('SELECT pg_stat_statements_reset()');
    const visitorRate = st.rate / (1 + o.reply);
    const eld = monitorEventLoopDelay({ resolution: 2 });
    const loadStart = now();
    const warmupEnd = loadStart + o.warmup * 1000;
    st.windowStart = warmupEnd;
    st.windowEnd = warmupEnd + o.duration * 1000;
    phase = o.warmup > 0 ? 'warmup' : 'window';
    progress(
      `${steps.length > 1 ? `step ${st.index + 1}/${steps.length}: ` : ''}load: ${st.rate} msg/s (${round(visitorRate)} from ${senders.length} visitors${o.reply ? `, ~${round(st.rate - visitorRate)} agent replies` : ''}) for ${o.warmup} s warm-up + ${o.duration} s`,
    );

    let serverCpuWin0 = null;
    let pgCpuWin0 = null;
    let clientCpuWin0 = null;
    let machineWin0 = null;
    let memWinStart = null;
    let started = false;
    let lastProgress = now();
    let lastDelivered = counts.delivered;
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        if (phase === 'warmup' && t >= warmupEnd) phase = 'window';
        if (phase === 'window' && !started && t >= st.windowStart) {
          started = true;
          serverCpuWin0 = serverCpu();
          pgCpuWin0 = treeCpu(pgPid);
          clientCpuWin0 = process.cpuUsage();
          machineWin0 = machineCpu();
          memWinStart = sampleServer('window_start');
          eld.reset();
          eld.enable();
        }
        if (t >= st.windowEnd) {
          clearInterval(timer);
          eld.disable();
          resolve();
          return;
        }
        const due = Math.floor(((t - loadStart) / 1000) * visitorRate);
        // at most 2 s worth of catch-up in one tick: the loop stays bounded
        let budget = Math.max(1, Math.ceil(visitorRate * 2));
        while (st.counts.sent < due && budget-- > 0) if (!sendOne()) break;
        if (t - lastProgress >= 5000) {
          const d = counts.delivered - lastDelivered;
          progress(
            `  ${round((t - loadStart) / 1000)} s: sent ${st.counts.sent}, delivered ${counts.delivered} (${round(d / ((t - lastProgress) / 1000))}/s), errors ${st.errors.total()}`,
          );
          lastProgress = t;
          lastDelivered = counts.delivered;
        }
      };
      const timer = setInterval(tick, 2);
    });
    const cpuEnd = serverCpu();
    const serverCpuPerNode = cpuEnd && serverCpuWin0 ? cpuEnd.map((c, i) => c - serverCpuWin0[i]) : null;
    const serverCpuWin = serverCpuPerNode ? serverCpuPerNode.reduce((a, b) => a + b, 0) : null;
    const pgCpuWin = pgPid && pgCpuWin0 !== null ? treeCpu(pgPid) - pgCpuWin0 : null;
    const clientCpu = process.cpuUsage(clientCpuWin0);
    const machineWin1 = machineCpu();
    const memWinEnd = sampleServer('window_end');
    if (self && o.pgStats) st.postgres_statements = await topStatements(self.pg);

    // ---- drain: this step's messages ----
    phase = 'drain';
    const drainStart = now();
    const outstanding = () => {
      let n = 0;
      for (const rec of ledger.values()) if (rec.step === st && !rec.failed && (!rec.ackedAt || !rec.deliveredAt)) n++;
      return n;
    };
    while (now() - drainStart < o.drain * 1000) {
      if (outstanding() === 0) break;
      await sleep(100);
    }
    const drainSeconds = (now() - drainStart) / 1000;

    // ---- this step's numbers ----
    let undeliveredWindow = 0;
    let unackedWindow = 0;
    let refusedWindow = 0;
    let sentTotal = 0;
    for (const rec of ledger.values()) {
      if (rec.step !== st) continue;
      if (rec.kind === 'visitor') sentTotal++;
      if (!rec.measured) continue;
      if (rec.failed) refusedWindow++;
      else {
        if (!rec.ackedAt) unackedWindow++;
        if (!rec.deliveredAt) undeliveredWindow++;
      }
    }
    const c = st.counts;
    const delivered = c.deliveredInWindow + c.repliesDeliveredInWindow;
    const perMsg = (cpuS) => (cpuS === null || !delivered ? null : round((cpuS * 1e6) / delivered));
    const loadReport = {
      window_s: o.duration,
      visitors_sending: senders.length,
      sent_total: sentTotal,
      sent_window: c.sentWindow,
      sent_per_s: round(c.sentWindow / o.duration),
      replies_sent_window: c.repliesWindow,
      delivered_per_s: round(c.deliveredInWindow / o.duration),
      delivered_total: counts.delivered,
      window_unacked: unackedWindow,
      window_undelivered: undeliveredWindow,
      window_refused: refusedWindow,
      duplicate_deliveries: c.duplicateDeliveries,
      drain_s: round(drainSeconds),
      latency_ms: {
        delivery: summarize(st.lat.delivery),
        ack: summarize(st.lat.ack),
        reply_delivery: o.reply ? summarize(st.lat.reply) : undefined,
        reply_ack: o.reply ? summarize(st.lat.replyAck) : undefined,
      },
      errors: st.errors.toJSON(),
      error_samples: Object.fromEntries(st.errors.samples),
    };
    const serverReport = {
      rss_mib: { window_start: mib(memWinStart && memWinStart.rss), window_end: mib(memWinEnd && memWinEnd.rss) },
      cpu_s_window: serverCpuWin === null ? null : round(serverCpuWin),
      cpu_pct_window: serverCpuWin === null ? null : round((100 * serverCpuWin) / o.duration),
      postgres_cpu_s_window: pgCpuWin === null ? null : round(pgCpuWin),
      postgres_cpu_pct_window: pgCpuWin === null ? null : round((100 * pgCpuWin) / o.duration),
      cpu_us_per_message: perMsg(serverCpuWin),
      postgres_cpu_us_per_message: perMsg(pgCpuWin),
      nodes:
        nodes.length > 1 && serverCpuPerNode
          ? serverCpuPerNode.map((cpu, i) => ({
              pid: pids[i],
              cpu_pct_window: round((100 * cpu) / o.duration),
              rss_mib_window_end: mib(memWinEnd && memWinEnd.nodes[i].rss),
              threads_window_end: memWinEnd ? memWinEnd.nodes[i].threads : null,
            }))
          : undefined,
    };
    let machine;
    if (machineWin0 && machineWin1) {
      const d = (k) => (machineWin1[k] - machineWin0[k]) / CLK_TCK;
      const cores = require('node:os').cpus().length;
      const busy = d('busy');
      const ours = (serverCpuWin || 0) + (pgCpuWin || 0) + (clientCpu.user + clientCpu.system) / 1e6;
      machine = {
        cores,
        busy_pct_of_all_cores: round((100 * busy) / (cores * o.duration)),
        steal_pct_of_all_cores: round((100 * d('steal')) / (cores * o.duration)),
        // CPU used by processes other than parleyd, its PostgreSQL and chatload (and by the kernel
        // for them outside their accounting); large values mean the numbers were disturbed
        other_cpu_pct_of_one_core: pgPid || !self ? round((100 * (busy - ours)) / o.duration) : null,
      };
    }
    const ch = eld.count ? eld : null;
    const clientReport = {
      cpu_s_window: round((clientCpu.user + clientCpu.system) / 1e6),
      cpu_pct_window: round((100 * (clientCpu.user + clientCpu.system)) / 1e6 / o.duration),
      event_loop_delay_ms: ch ? { p50: round(ch.percentile(50) / 1e6), p99: round(ch.percentile(99) / 1e6), max: round(ch.max / 1e6) } : null,
      max_socket_buffered_bytes: maxBuffered,
      frames_window: Object.fromEntries([...st.frames].sort()),
    };
    const d = loadReport.latency_ms;
    st.result = {
      rate: st.rate,
      // the curve's row
      summary: {
        offered: st.rate,
        delivered_per_s: loadReport.delivered_per_s,
        delivery_p50_ms: d.delivery.p50,
        delivery_p99_ms: d.delivery.p99,
        delivery_max_ms: d.delivery.max,
        ack_p50_ms: d.ack.p50,
        ack_p99_ms: d.ack.p99,
        undelivered: undeliveredWindow,
        unacked: unackedWindow,
        refused: refusedWindow,
        errors: st.errors.total(),
        parleyd_cpu_pct: serverReport.cpu_pct_window,
        postgres_cpu_pct: serverReport.postgres_cpu_pct_window,
        postgres_us_per_message: serverReport.postgres_cpu_us_per_message,
        parleyd_us_per_message: serverReport.cpu_us_per_message,
        frames_per_message: framesPerMessage(clientReport.frames_window, c.sentWindow + c.repliesWindow),
      },
      load: loadReport,
      server: serverReport,
      machine,
      client: clientReport,
      postgres_statements: st.postgres_statements,
    };
    const sm = st.result.summary;
    progress(
      `  ${st.rate} msg/s offered: ${sm.delivered_per_s}/s delivered, delivery p50 ${sm.delivery_p50_ms} p99 ${sm.delivery_p99_ms} ms, ${sm.undelivered} undelivered, ${sm.errors} errors`,
    );
  }
  clearInterval(sampler);

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

  // ---- the whole run ----
  const peakOf = (get) => mem.samples.reduce((m, s) => Math.max(m, get(s) || 0), 0);
  const results = steps.map((s) => s.result);
  report.steps = results;
  const server = {
    pid: pids[0] || null,
    rss_mib: {
      start: mib(memStart && memStart.rss),
      after_setup: mib(memSetup && memSetup.rss),
      end: mib(memEnd && memEnd.rss),
      peak: mib(peakOf((s) => s.rss)),
      hwm: mib(memEnd && memEnd.hwm),
    },
    threads_peak: peakOf((s) => s.threads) || null,
  };
  if (nodes.length > 1) {
    server.nodes = pids.map((p, i) => ({
      pid: p,
      url: nodes[i].base.origin,
      visitors: senders.filter((v) => v.node === nodes[i]).length,
      agents: agents.filter((a) => a && a.node === nodes[i] && a.ready).length,
      rss_mib: {
        start: mib(memStart && memStart.nodes[i].rss),
        after_setup: mib(memSetup && memSetup.nodes[i].rss),
        end: mib(memEnd && memEnd.nodes[i].rss),
        peak: mib(peakOf((s) => s.nodes && s.nodes[i].rss)),
      },
      threads_peak: peakOf((s) => s.nodes && s.nodes[i].threads) || null,
      cpu_pct_window: results.map((r) => (r.server.nodes ? r.server.nodes[i].cpu_pct_window : null)),
    }));
  }
  const closing = { conversations_closed: o.close ? closed : undefined, close_errors: o.close ? closeErrors.toJSON() : undefined };
  if (results.length === 1) {
    // one rate: the report's fields as they have always been
    const r = results[0];
    report.load = { ...r.load, ...closing };
    const { rss_mib: winRss, ...winServer } = r.server;
    report.server = {
      pid: server.pid,
      rss_mib: {
        start: server.rss_mib.start,
        after_setup: server.rss_mib.after_setup,
        window_start: winRss.window_start,
        window_end: winRss.window_end,
        end: server.rss_mib.end,
        peak: server.rss_mib.peak,
        hwm: server.rss_mib.hwm,
      },
      threads_peak: server.threads_peak,
      ...winServer,
    };
    if (server.nodes) report.server.nodes = server.nodes;
    if (r.machine) report.machine = r.machine;
    report.client = { ...r.client, frames_received: Object.fromEntries([...frameCounts].sort()) };
    if (r.postgres_statements) report.postgres_statements = r.postgres_statements;
  } else {
    report.load = undefined;
    report.closing = closing;
    report.server = server;
    report.client = { frames_received: Object.fromEntries([...frameCounts].sort()) };
  }
}

/** Frames received in the window per message sent in it, by type ("agent:message.created": 1). */
function framesPerMessage(frames, sent) {
  if (!sent) return {};
  const out = {};
  for (const [k, v] of Object.entries(frames)) out[k] = Math.round((v / sent) * 100) / 100;
  return out;
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

// ---- the report -----------------------------------------------------------------------------

function textReport(r) {
  const c = r.config;
  const l = r.load;
  const s = r.server;
  const lines = [];
  const latLine = (name, d) =>
    d && d.count
      ? `${name.padEnd(16)}p50 ${ms(d.p50)}  p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  max ${ms(d.max)} ms  (n=${d.count})`
      : `${name.padEnd(16)}no samples`;
  const multi = r.steps && r.steps.length > 1;
  lines.push('');
  lines.push(
    `chatload ${c.mode === 'self' ? '(self-hosted) ' : ''}${c.url}${c.nodes ? ` + ${c.nodes.length - 1} more node(s)` : ''}: ${c.visitors} visitors, ${c.agents} agents, ${multi ? c.rate.join(', ') : c.rate} msg/s for ${c.duration_s} s${multi ? ' each' : ''} (+${c.warmup_s} s warm-up)${c.reply ? `, agents answer ${Math.round(c.reply * 100)}%` : ''}`,
  );
  if (c.parleyd) lines.push(`parleyd         ${c.parleyd}`);
  if (c.server_env)
    lines.push(
      `server env      ${Object.entries(c.server_env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}; PostgreSQL fsync=${c.pg_fsync}`,
    );
  lines.push(
    `setup           ${r.setup.agents_ready}/${c.agents} agents online, ${r.setup.conversations_assigned}/${c.visitors} conversations assigned (${r.setup.visitors_seconds} s)${c.max_chats ? `, max_chats ${c.max_chats}` : ''}${r.setup.conversations_across_nodes !== undefined ? `; ${r.setup.conversations_across_nodes} with visitor and agent on different nodes` : ''}`,
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
    if (r.steps && r.steps[0]) lines.push(`frames/message (window)  ${framesLine(r.steps[0].summary.frames_per_message)}`);
  }
  if (multi) {
    lines.push('');
    lines.push(...stepsTable(r.steps));
    lines.push('');
    lines.push('frames/message (window), per rate:');
    for (const st of r.steps) lines.push(`  ${String(st.rate).padStart(6)}  ${framesLine(st.summary.frames_per_message)}`);
    for (const st of r.steps) {
      const e = st.load.errors;
      if (Object.keys(e).length) lines.push(`errors at ${st.rate}: ${fmtErrors(e)}`);
      for (const [k, v] of Object.entries(st.load.error_samples || {})) lines.push(`                ${k}: ${v}`);
      if (st.load.duplicate_deliveries) lines.push(`duplicates at ${st.rate}: ${st.load.duplicate_deliveries} deliveries of an already delivered message`);
    }
  }
  if (s && s.rss_mib) {
    const m = s.rss_mib;
    lines.push(
      multi
        ? `server RSS      ${m.start ?? '-'} MiB at start, ${m.after_setup ?? '-'} after setup, peak ${m.peak ?? '-'}, ${m.end ?? '-'} at the end (pid ${s.pid ?? '?'}${s.nodes ? ' and the other nodes, summed' : ''}, ${s.threads_peak ?? '?'} threads)`
        : `server RSS      ${m.start ?? '-'} MiB at start, ${m.after_setup ?? '-'} after setup, ${m.window_start ?? '-'} -> ${m.window_end ?? '-'} over the window, peak ${m.peak ?? '-'}, ${m.end ?? '-'} at the end (pid ${s.pid ?? '?'}${s.nodes ? ' and the other nodes, summed' : ''}, ${s.threads_peak ?? '?'} threads)`,
    );
    if (!multi)
      lines.push(
        `CPU (window)    parleyd ${s.cpu_pct_window ?? '-'}%, postgres ${s.postgres_cpu_pct_window ?? '-'}%, chatload ${r.client.cpu_pct_window}% of one core; client event-loop delay p99 ${r.client.event_loop_delay_ms ? r.client.event_loop_delay_ms.p99 : '-'} ms`,
      );
    if (!multi && s.cpu_us_per_message !== undefined)
      lines.push(
        `CPU/message     parleyd ${fmtUs(s.cpu_us_per_message)} µs, postgres ${fmtUs(s.postgres_cpu_us_per_message)} µs per message delivered in the window`,
      );
    for (const [i, n] of (s.nodes || []).entries()) {
      lines.push(
        `node ${i + 1}          pid ${n.pid} ${n.url}: ${n.visitors} visitors, ${n.agents} agents; CPU ${n.cpu_pct_window.map((x) => `${x ?? '-'}%`).join(' / ')} of one core${multi ? ' per rate' : ''}; RSS ${n.rss_mib.after_setup ?? '-'} MiB after setup, peak ${n.rss_mib.peak ?? '-'}; ${n.threads_peak ?? '?'} threads`,
      );
    }
  }
  if (multi) {
    lines.push(
      `client          chatload CPU ${r.steps.map((st) => `${st.client.cpu_pct_window}%`).join(' / ')} of one core, event-loop delay p99 ${r.steps.map((st) => (st.client.event_loop_delay_ms ? st.client.event_loop_delay_ms.p99 : '-')).join(' / ')} ms per rate`,
    );
    if (r.steps.every((st) => st.machine))
      lines.push(
        `machine         ${r.steps[0].machine.cores} cores; other processes ${r.steps.map((st) => `${st.machine.other_cpu_pct_of_one_core ?? '-'}%`).join(' / ')} of one core per rate${c.mode === 'self' ? '' : ' (includes PostgreSQL)'}`,
      );
  } else if (r.machine) {
    lines.push(
      `machine         ${r.machine.cores} cores ${r.machine.busy_pct_of_all_cores}% busy, steal ${r.machine.steal_pct_of_all_cores}%${r.machine.other_cpu_pct_of_one_core !== null ? `; other processes ${r.machine.other_cpu_pct_of_one_core}% of one core${c.mode === 'self' ? '' : ' (includes PostgreSQL)'}` : ''}`,
    );
  }
  const statements = multi ? r.steps.map((st) => [st.rate, st.postgres_statements]) : [[null, r.postgres_statements]];
  for (const [rate, list] of statements) {
    if (!list) continue;
    lines.push(
      `PostgreSQL time during warm-up + window${rate ? ` at ${rate} msg/s` : ''} (pg_stat_statements; nested statements also count inside their callers):`,
    );
    lines.push('   exec%    calls  exec ms  plan ms  statement');
    for (const q of list)
      lines.push(
        `  ${String(q.pct).padStart(6)}  ${String(q.calls).padStart(7)}  ${ms(q.mean_ms).padStart(7)}  ${ms(q.plan_mean_ms).padStart(7)}  ${q.query.slice(0, 100)}`,
      );
  }
  const closeErrors = (l && l.close_errors) || (r.closing && r.closing.close_errors);
  if (closeErrors && Object.keys(closeErrors).length) lines.push(`close errors    ${fmtErrors(closeErrors)}`);
  if (s && s.exit_code !== undefined)
    lines.push(`server exit     ${s.exit_codes ? s.exit_codes.join(', ') : s.exit_code}; ${s.log_warnings} warn/error log lines`);
  for (const w of (s && s.log_warning_samples) || []) lines.push(`                ${w.slice(0, 200)}`);
  lines.push('');
  return lines.join('\n');
}

function fmtUs(x) {
  return x === null || x === undefined ? '-' : String(Math.round(x));
}

function ms(x) {
  return x === null || x === undefined ? '-' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

/** "agent message.created 1.00, visitor message.created 1.00, conversation.updated 0.00, ..." */
function framesLine(f) {
  if (!f) return '-';
  const always = ['agent:message.created', 'visitor:message.created', 'agent:conversation.updated', 'visitor:conversation.updated'];
  const keys = [
    ...always,
    ...Object.keys(f)
      .filter((k) => !always.includes(k))
      .sort((a, b) => f[b] - f[a]),
  ];
  return keys.map((k) => `${k.replace(':', ' ')} ${(f[k] || 0).toFixed(2)}`).join(', ');
}

// The curve's columns: [heading, summary field, formatter].
const CURVE = [
  ['offered', 'offered', (x) => String(x)],
  ['deliv/s', 'delivered_per_s', (x) => (x === null || x === undefined ? '-' : String(Math.round(x)))],
  ['p50 ms', 'delivery_p50_ms', ms],
  ['p99 ms', 'delivery_p99_ms', ms],
  ['max ms', 'delivery_max_ms', ms],
  ['ack p50', 'ack_p50_ms', ms],
  ['ack p99', 'ack_p99_ms', ms],
  ['undeliv', 'undelivered', (x) => String(x ?? '-')],
  ['refused', 'refused', (x) => String(x ?? '-')],
  ['parleyd%', 'parleyd_cpu_pct', (x) => (x === null || x === undefined ? '-' : x.toFixed(0))],
  ['pg%', 'postgres_cpu_pct', (x) => (x === null || x === undefined ? '-' : x.toFixed(0))],
  ['pg µs/msg', 'postgres_us_per_message', (x) => (x === null || x === undefined ? '-' : x.toFixed(0))],
  ['parleyd µs/msg', 'parleyd_us_per_message', (x) => (x === null || x === undefined ? '-' : x.toFixed(0))],
];

function stepsTable(steps) {
  const rows = [CURVE.map((c) => c[0])];
  for (const st of steps) rows.push(CURVE.map(([, k, f]) => f(st.summary[k])));
  const w = CURVE.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = rows.map((r) => r.map((x, i) => x.padStart(w[i])).join('  '));
  out.splice(1, 0, w.map((n) => '-'.repeat(n)).join('  '));
  out.push('deliv/s: received by agents during the window; p50/p99/max: visitor send -> agent receive; ack: send -> ack;');
  out.push('undeliv/refused: window messages never delivered by the end of the drain / refused with an error;');
  out.push('%: CPU in % of one core over the window; µs/msg: CPU per message delivered in the window');
  return out;
}

function fmtErrors(e) {
  return Object.entries(e)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
}

/** A report whose messages were not all delivered and acked, or that had errors. */
function badReport(report) {
  const steps = report.steps || [];
  return steps.some((s) => Object.keys(s.load.errors).length || s.load.window_undelivered || s.load.window_unacked);
}

// ---- --compare: two builds side by side ------------------------------------------------

function median(values) {
  const a = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return null;
  const m = a.length >> 1;
  return round(a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2);
}

/** Per rate, the median of every summary field over the reports of one build. */
function medianSteps(reports, rates) {
  return rates.map((rate, i) => {
    const rows = reports.map((r) => r.steps && r.steps[i] && r.steps[i].summary).filter(Boolean);
    const out = { offered: rate, runs: rows.length };
    for (const [, k] of CURVE) if (k !== 'offered') out[k] = median(rows.map((x) => x[k]));
    for (const k of ['unacked', 'errors']) out[k] = median(rows.map((x) => x[k]));
    const fk = new Set(rows.flatMap((x) => Object.keys(x.frames_per_message || {})));
    out.frames_per_message = Object.fromEntries([...fk].sort().map((k) => [k, median(rows.map((x) => (x.frames_per_message || {})[k] || 0))]));
    return out;
  });
}

function defaultParleyd() {
  return process.env.PARLEYD ? path.resolve(REPO_ROOT, process.env.PARLEYD) : path.join(REPO_ROOT, 'backend', 'parleyd');
}

async function runCompare(o) {
  quiet = o.quiet;
  const bins = { a: o.parleyd ? path.resolve(o.parleyd) : defaultParleyd(), b: path.resolve(o.compare) };
  for (const [k, bin] of Object.entries(bins)) {
    try {
      fs.accessSync(bin, fs.constants.X_OK);
    } catch {
      throw new Error(`${k === 'a' ? '--parleyd' : '--compare'}: ${bin} is not an executable file`);
    }
  }
  const rounds = [];
  for (let k = 1; k <= o.rounds; k++) {
    for (const build of ['a', 'b']) {
      progress(`=== round ${k}/${o.rounds}, build ${build.toUpperCase()}: ${bins[build]}`);
      const entry = { round: k, build, parleyd: bins[build] };
      try {
        entry.report = await run({ ...o, parleyd: bins[build], compare: '', serverLog: o.serverLog ? `${o.serverLog}.${build}${k}` : '' });
      } catch (e) {
        entry.error = e.message;
        progress(`round ${k} build ${build.toUpperCase()} failed: ${e.message}`);
      }
      rounds.push(entry);
    }
  }
  const side = (build) => {
    const ok = rounds.filter((r) => r.build === build && r.report);
    return {
      binary: bins[build],
      parleyd: ok.length ? ok[0].report.config.parleyd : null,
      runs: ok.length,
      failed_runs: rounds.filter((r) => r.build === build && r.error).length,
      steps: medianSteps(
        ok.map((r) => r.report),
        o.rates,
      ),
    };
  };
  return { compare: { a: side('a'), b: side('b'), rounds } };
}

function compareText(cmp, o) {
  const { a, b, rounds } = cmp;
  const lines = [''];
  const first = rounds.find((r) => r.report);
  const c = first ? first.report.config : null;
  lines.push(
    `chatload --compare: ${o.visitors} visitors, ${o.agents} agents${o.nodes > 1 ? `, ${o.nodes} nodes` : ''}, ${o.rates.join(', ')} msg/s for ${o.duration} s each (+${o.warmup} s warm-up); ${o.rounds} round(s), A then B, each on a fresh PostgreSQL${c ? ` (fsync=${c.pg_fsync})` : ''} and server${o.rounds > 1 ? '; medians over the rounds' : ''}`,
  );
  lines.push(`A  ${a.parleyd || a.binary}${a.failed_runs ? ` (${a.failed_runs} run(s) failed)` : ''}`);
  lines.push(`B  ${b.parleyd || b.binary}${b.failed_runs ? ` (${b.failed_runs} run(s) failed)` : ''}`);
  const rows = [
    ['delivered/s', 'delivered_per_s', (x) => (x === null ? '-' : String(Math.round(x)))],
    ['delivery p50 ms', 'delivery_p50_ms', ms],
    ['delivery p99 ms', 'delivery_p99_ms', ms],
    ['delivery max ms', 'delivery_max_ms', ms],
    ['ack p50 ms', 'ack_p50_ms', ms],
    ['ack p99 ms', 'ack_p99_ms', ms],
    ['undelivered', 'undelivered', (x) => String(x ?? '-')],
    ['refused', 'refused', (x) => String(x ?? '-')],
    ['errors', 'errors', (x) => String(x ?? '-')],
    ['parleyd CPU %', 'parleyd_cpu_pct', (x) => (x === null ? '-' : x.toFixed(1))],
    ['postgres CPU %', 'postgres_cpu_pct', (x) => (x === null ? '-' : x.toFixed(1))],
    ['postgres µs/msg', 'postgres_us_per_message', (x) => (x === null ? '-' : x.toFixed(0))],
    ['parleyd µs/msg', 'parleyd_us_per_message', (x) => (x === null ? '-' : x.toFixed(0))],
  ];
  const ratio = (x, y) => (typeof x === 'number' && typeof y === 'number' && x !== 0 ? (y / x).toFixed(2) : '-');
  for (let i = 0; i < o.rates.length; i++) {
    const sa = a.steps[i];
    const sb = b.steps[i];
    lines.push('');
    lines.push(`${`offered ${o.rates[i]} msg/s`.padEnd(42)}${'A'.padStart(10)}${'B'.padStart(10)}${'B/A'.padStart(8)}`);
    for (const [name, k, f] of rows) lines.push(`  ${name.padEnd(40)}${f(sa[k]).padStart(10)}${f(sb[k]).padStart(10)}${ratio(sa[k], sb[k]).padStart(8)}`);
    const always = ['agent:message.created', 'visitor:message.created', 'agent:conversation.updated', 'visitor:conversation.updated'];
    const fk = [...new Set([...always, ...Object.keys(sa.frames_per_message), ...Object.keys(sb.frames_per_message)])];
    for (const k of fk) {
      const x = sa.frames_per_message[k] ?? 0;
      const y = sb.frames_per_message[k] ?? 0;
      lines.push(`  ${`frames/msg ${k.replace(':', ' ')}`.padEnd(40)}${x.toFixed(2).padStart(10)}${y.toFixed(2).padStart(10)}${ratio(x, y).padStart(8)}`);
    }
  }
  if (o.rounds > 1) {
    lines.push('');
    lines.push('each run: delivered/s and delivery p99 ms per rate');
    for (const r of rounds)
      lines.push(
        `  round ${r.round} ${r.build.toUpperCase()}  ${r.report ? r.report.steps.map((st) => `${Math.round(st.summary.delivered_per_s)}/s ${ms(st.summary.delivery_p99_ms)}`).join('   ') : `failed: ${r.error}`}`,
      );
  }
  lines.push('');
  return lines.join('\n');
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`chatload: ${e.message}\n`);
    process.exit(2);
  }
  if (o.compare) {
    let out;
    try {
      out = await runCompare(o);
    } catch (e) {
      process.stderr.write(`chatload: ${process.env.CHATLOAD_DEBUG ? e.stack : e.message}\n`);
      process.exit(1);
    }
    if (!o.quiet) process.stdout.write(compareText(out.compare, o) + '\n');
    if (o.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    const rs = out.compare.rounds;
    process.exit(rs.some((r) => r.error) ? 1 : rs.some((r) => badReport(r.report)) ? 4 : 0);
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
  process.exit(badReport(report) ? 4 : 0);
}

module.exports = { main, parseArgs, summarize, percentile };

if (require.main === module) main();
