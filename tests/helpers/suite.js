'use strict';
// The one fixture of the integration and browser tests: a throw-away
// PostgreSQL cluster, one or more parleyd nodes on it, optionally a browser.
//
//   const { suite } = require('../helpers/suite');
//   const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
//   const { test } = fx;                 // node:test `test` whose failures carry the nodes' output
//   test('...', async () => { await request(fx.srv, ...); await fx.pg.query(...); });
//
// suite() registers the before/after hooks and returns an object whose
// fields are filled in `before`:
//   fx.pg        the cluster (tests/helpers/pg.js)
//   fx.nodes[]   the parleyd nodes, started one after the other on fx.pg
//   fx.srv       fx.nodes[0] (assignable, e.g. after a restart)
//   fx.browser   Chromium (browser: true, or 'console' to build the console first)
//   fx.env       the environment every node got (FAST_ENV + options.env)
// and offers:
//   fx.test(name, [opts], fn)      see testWithLogs in parleyd.js
//   fx.setup(async () => {...})    more set-up, run (in order) once the nodes are
//                                  up, inside suite's before hook: under Node 20 a
//                                  second top-level before() would NOT wait for
//                                  the first, so files must not use their own
//   fx.teardown(async () => {...}) run at the end before the browser, sockets and
//                                  nodes are closed (e.g. destroy raw attack sockets)
//   await fx.startNode({ env })    one more node on fx.pg with fx.env + env, tracked:
//   fx.track(srv)                  its output goes with failures and it is
//                                  stopped (checked) at the end if still running
//   await fx.teamWithSite({ agents: [{ name }], site: {} })
//                                  -> { team, site, agents: [...] }
//
// Options:
//   env         extra parleyd environment, over FAST_ENV (cheap password hashes);
//               or a (sync or async) function returning it, called at the start
//               of the before hook (e.g. to make a directory the nodes need)
//   fastHashes  false: no FAST_ENV (the servers hash passwords at full cost)
//   nodes       how many nodes (1; 0: the cluster alone), or one options object
//               per node ({ env, tls })
//   tls         serve HTTPS (every node)
//   browser     true: launch Chromium; 'console': also build the console
//   browserArgs more Chromium switches (browser.js MEDIA_ARGS: a fake camera and microphone)
//   setupTimeoutMs  time for the whole before hook (60 s, 180 s when sanitized;
//                   30 s more with a browser)
//
// At the end: the teardown functions, the browser, every WebSocket client (closeAll),
// then all nodes stop concurrently (each must exit 0), then the cluster.

const path = require('node:path');
const { before, after } = require('node:test');

const { makeTempDir, rmrf } = require('./common');

const { startCluster } = require('./pg');
const { startParleyd, stopChecked, testWithLogs, SANITIZED } = require('./parleyd');
const { closeAll } = require('./ws');
const { FAST_ENV, createTeam, createSite, createAgent } = require('./fixtures');

/** Time for a before hook: ThreadSanitizer takes ~11 s to start each node. */
const SETUP_TIMEOUT_MS = SANITIZED ? 180000 : 60000;

/** Stop servers concurrently; every one is tried, the first failure is thrown. */
async function stopAll(servers, { checked = true } = {}) {
  const results = await Promise.allSettled(servers.filter(Boolean).map((s) => (checked ? stopChecked(s) : s.stop())));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function suite(options = {}) {
  const { env = {}, fastHashes = true, nodes = 1, tls = false, browser = false, browserArgs = [] } = options;
  // Building the console and starting Chromium take their time too.
  const { setupTimeoutMs = SETUP_TIMEOUT_MS + (browser ? 30000 : 0) } = options;
  const nodeOpts = Array.isArray(nodes) ? nodes : Array.from({ length: nodes }, () => ({}));
  const extra = [];
  let keyDir = null;
  const setups = [];
  const teardowns = [];
  const fx = {
    pg: null,
    nodes: [],
    browser: null,
    env: null,
    get srv() {
      return fx.nodes[0];
    },
    set srv(s) {
      fx.nodes[0] = s;
    },
    /** Servers whose output goes with a failure: the nodes and the extra ones. */
    servers() {
      return [...new Set([...fx.nodes, ...extra])].filter(Boolean);
    },
    /** Show a server's output with failures; stop it (checked) at the end if still running. */
    track(s) {
      if (s && !extra.includes(s)) extra.push(s);
      return s;
    },
    test: testWithLogs(() => fx.servers()),
    setup(fn) {
      setups.push(fn);
    },
    teardown(fn) {
      teardowns.push(fn);
    },
    async startNode({ env: more = {}, ...rest } = {}) {
      return fx.track(await startParleyd({ databaseUrl: fx.pg.url, tls, ...rest, env: { ...fx.env, ...more } }));
    },
    async teamWithSite({ agents = [], site = {} } = {}) {
      const team = await createTeam(fx.pg);
      const made = await createSite(fx.pg, { teamId: team, ...site });
      const people = [];
      for (const a of agents) people.push(await createAgent(fx.pg, { teams: [team], ...a }));
      return { team, site: made, agents: people };
    },
  };

  before(
    async () => {
      const started = [];
      // One webhook-secret key for every node of the suite, whatever URL a
      // node reaches the cluster by (parleyd refuses a key the others lack).
      keyDir = makeTempDir('parley-suite-key-');
      fx.env = {
        PARLEY_SECRET_KEY_FILE: path.join(keyDir, 'secret.key'),
        ...(fastHashes ? FAST_ENV : {}),
        ...(typeof env === 'function' ? await env() : env),
      };
      if (browser === 'console') await require('./browser').ensureConsoleBuilt();
      fx.pg = await startCluster();
      for (const o of nodeOpts) {
        started.push(await startParleyd({ databaseUrl: fx.pg.url, tls, ...o, env: { ...fx.env, ...(o.env || {}) } }));
        fx.nodes = [...started];
      }
      if (browser) fx.browser = await require('./browser').launchBrowser({ args: browserArgs });
      for (const fn of setups) await fn(fx);
    },
    { timeout: setupTimeoutMs },
  );

  after(
    async () => {
      try {
        for (const fn of teardowns) await fn(fx);
      } finally {
        try {
          if (fx.browser) await fx.browser.close();
          await closeAll();
          await stopAll(fx.servers().filter((s) => fx.nodes.includes(s) || !s.exitInfo));
        } finally {
          if (fx.pg) await fx.pg.stop();
          if (keyDir) rmrf(keyDir);
        }
      }
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  return fx;
}

module.exports = { suite, stopAll, SETUP_TIMEOUT_MS };
