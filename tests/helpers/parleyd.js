'use strict';
// Start and drive the parleyd binary for the integration tests.
//
//   const srv = await startParleyd({ databaseUrl: pg.url, env: { ... } });
//   srv.url, srv.port, srv.origin, srv.logs(), await srv.stop() -> exit code
//   const r = await runParleyd(['migrate'], { env: { DATABASE_URL: pg.url } });
//
// The binary is <repo>/backend/parleyd unless $PARLEYD names another one
// (relative paths are taken from the repo root). Set PARLEY_TEST_LOGS=1 to
// stream the servers' output to stderr while the tests run.

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const test = require('node:test');

const https = require('node:https');

const { REPO_ROOT, makeTempDir, freePort, sleep, onExit, rmrf, sweepStale, writeOwner, selfSignedCert, trustedCa, superviseChild } = require('./common');

const MAX_LOG_BYTES = 8 << 20;

function parleydPath() {
  const p = process.env.PARLEYD ? path.resolve(REPO_ROOT, process.env.PARLEYD) : path.join(REPO_ROOT, 'backend', 'parleyd');
  try {
    fs.accessSync(p, fs.constants.X_OK);
  } catch {
    throw new Error(`parleyd binary not found or not executable at ${p} (build it with \`make\`, or set PARLEYD)`);
  }
  return p;
}

/** The test process's environment without any PARLEY_* / DATABASE_URL leaking in. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PARLEY') || k === 'DATABASE_URL' || k.startsWith('PG')) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

function tail(s, lines = 120) {
  const a = s.split('\n');
  return a.length > lines ? `[... ${a.length - lines} earlier lines]\n${a.slice(-lines).join('\n')}` : s;
}

// Under make asan / make tsan parleyd runs several times slower: start and
// stop get more time (what the tests check does not change).
const SANITIZED = Boolean(process.env.ASAN_OPTIONS || process.env.TSAN_OPTIONS);

function getStatus(port, urlPath, timeoutMs, tls) {
  return new Promise((resolve) => {
    const get = tls ? https.get : http.get;
    const opts = { host: '127.0.0.1', port, path: urlPath, agent: false, timeout: timeoutMs, ...(tls ? { ca: trustedCa() } : {}) };
    const req = get(opts, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

let swept = false;

/**
 * Start `parleyd serve`. Options:
 *   databaseUrl  DATABASE_URL for the server (required unless env has it)
 *   env          extra/overriding environment variables (null/undefined deletes)
 *   timeoutMs    how long to wait for GET /healthz to answer 200 (15 s)
 *   tls          serve HTTPS with a self-signed certificate (srv.url is https://,
 *                the helpers trust it)
 */
async function startParleyd({ databaseUrl, env = {}, timeoutMs = SANITIZED ? 60000 : 15000, args = ['serve'], tls = false } = {}) {
  const bin = parleydPath();
  if (!swept) {
    swept = true;
    sweepStale('parleyd-');
  }
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(bin, port, { databaseUrl, env, timeoutMs, args, tls });
    } catch (e) {
      lastError = e;
      // Retry only when the port was taken between freePort() and bind().
      if (!e.portInUse) throw e;
    }
  }
  throw lastError;
}

// Nodes of one database must seal webhook secrets with one key (parleyd
// refuses to start with another): one key file per database URL, in a
// directory of this test process.
let keyDir = null;
function secretKeyFile(databaseUrl) {
  if (!keyDir) {
    keyDir = makeTempDir('parley-keys-');
    onExit(() => rmrf(keyDir));
  }
  return path.join(keyDir, `${crypto.createHash('sha256').update(String(databaseUrl)).digest('hex').slice(0, 16)}.key`);
}

async function startOnce(bin, port, { databaseUrl, env, timeoutMs, args, tls }) {
  const dataDir = makeTempDir('parleyd-');
  writeOwner(dataDir);
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const cert = tls ? selfSignedCert() : null;
  const childEnv = cleanEnv({
    PARLEY_LISTEN: `127.0.0.1:${port}`,
    DATABASE_URL: databaseUrl,
    PARLEY_PUBLIC_URL: origin,
    PARLEY_DATA_DIR: dataDir,
    PARLEY_SECRET_KEY_FILE: secretKeyFile(databaseUrl),
    PARLEY_LOG_LEVEL: 'debug',
    // Every test visitor comes from 127.0.0.1: the per-IP session limit is
    // tested on its own (sessionlimit.test.js) and out of the way elsewhere.
    PARLEY_SESSION_RATE_PER_MINUTE: '100000',
    ...(cert ? { PARLEY_TLS_CERT: cert.certFile, PARLEY_TLS_KEY: cert.keyFile } : {}),
    ...env,
  });

  const chunks = [];
  let logBytes = 0;
  const verbose = process.env.PARLEY_TEST_LOGS === '1';
  const proc = spawn(bin, args, { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const record = (stream) => (buf) => {
    if (verbose) process.stderr.write(`[parleyd:${port}:${stream}] ${buf}`);
    if (logBytes < MAX_LOG_BYTES) {
      chunks.push(buf);
      logBytes += buf.length;
    }
  };
  proc.stdout.on('data', record('out'));
  proc.stderr.on('data', record('err'));
  const logs = () => Buffer.concat(chunks).toString('utf8');

  const child = superviseChild(proc, dataDir);
  const { exited, cleanup } = child;
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });

  // Wait for /healthz.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitInfo) {
      await exited;
      cleanup();
      const how = exitInfo.error ? `failed to start: ${exitInfo.error.message}` : `exited early (code ${exitInfo.code}, signal ${exitInfo.signal})`;
      const err = new Error(`parleyd ${how}\n--- parleyd output ---\n${tail(logs())}`);
      err.portInUse = /address already in use|EADDRINUSE/i.test(logs());
      throw err;
    }
    const status = await getStatus(port, '/healthz', 1000, tls);
    if (status === 200) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      cleanup();
      throw new Error(
        `parleyd did not answer GET /healthz with 200 within ${timeoutMs} ms (last status ${status || 'no answer'})\n--- parleyd output ---\n${tail(logs())}`,
      );
    }
    await sleep(50);
  }

  async function waitExit(ms) {
    let timer;
    const timeout = new Promise((r) => {
      timer = setTimeout(() => r(null), ms);
    });
    const r = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    return r;
  }

  const srv = {
    url: origin,
    origin,
    tls,
    port,
    host: '127.0.0.1',
    proc,
    pid: proc.pid,
    dataDir,
    exited,
    logs,
    /** Has the process exited? */
    get exitInfo() {
      return exitInfo;
    },
    /** The first admin's password, if serve created one and printed it. */
    adminPassword() {
      const m = /admin password:\s*(\S+)/.exec(logs());
      return m ? m[1] : null;
    },
    /**
     * SIGTERM, wait for exit (timeoutMs, then SIGKILL), remove the data dir.
     * Resolves to the exit code, or the signal name if killed by a signal.
     */
    async stop({ timeoutMs: ms = SANITIZED ? 60000 : 15000 } = {}) {
      if (!exitInfo) {
        proc.kill('SIGTERM');
        if (!(await waitExit(ms))) {
          proc.kill('SIGKILL');
          await exited;
          cleanup();
          throw new Error(`parleyd did not exit within ${ms} ms of SIGTERM\n--- parleyd output ---\n${tail(logs())}`);
        }
      }
      await exited;
      cleanup();
      return exitInfo.code ?? exitInfo.signal;
    },
    /** SIGKILL and wait. */
    async kill9() {
      if (!exitInfo) proc.kill('SIGKILL');
      await exited;
      cleanup();
      return exitInfo.code ?? exitInfo.signal;
    },
  };
  return srv;
}

/**
 * Stop a server and fail (with its output) unless it exits with code 0.
 * Under `make asan` this is what catches leaks and sanitizer reports.
 */
async function stopChecked(srv) {
  if (!srv) return;
  const code = await srv.stop();
  if (code !== 0) throw new Error(`parleyd exited with ${code} after SIGTERM (expected 0)\n--- parleyd output ---\n${tail(srv.logs())}`);
}

/**
 * Run a parleyd subcommand to completion.
 *   runParleyd(['migrate'], { env: { DATABASE_URL: url } })
 *   runParleyd(['agent', 'add', '--email', e, '--name', n, '--role', 'admin'],
 *              { env: { DATABASE_URL: url }, input: 'password\n' })
 * Resolves { code, signal, stdout, stderr }. Options: env, input, databaseUrl
 * (shorthand for env.DATABASE_URL), timeoutMs (60 s, then SIGKILL).
 */
function runParleyd(args, { env = {}, input, databaseUrl, timeoutMs = 60000 } = {}) {
  let bin;
  try {
    bin = parleydPath();
  } catch (e) {
    return Promise.reject(e);
  }
  const childEnv = cleanEnv({ ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env });
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { cwd: REPO_ROOT, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    proc.stdout.on('data', (b) => out.push(b));
    proc.stderr.on('data', (b) => err.push(b));
    const unregister = onExit(() => {
      try {
        proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      unregister();
      reject(e);
    });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      unregister();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    proc.stdin.on('error', () => {}); // the program may not read stdin
    if (input !== undefined) proc.stdin.end(input);
    else proc.stdin.end();
  });
}

/**
 * `parleyd agent add`; throws unless it exits 0. Resolves to the new id
 * (the last non-empty line of stdout). `env` adds environment variables
 * (e.g. a cheaper PARLEY_SCRYPT_LOG2N).
 */
async function addAgent(databaseUrl, { email, name = email, role = 'agent', password, env = {} }) {
  const args = ['agent', 'add', '--email', email, '--name', name, '--role', role];
  const r = await runParleyd(args, { databaseUrl, env, input: `${password}\n` });
  if (r.code !== 0) {
    throw new Error(`parleyd ${args.join(' ')} exited ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${tail(r.stderr)}`);
  }
  const lines = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}

/**
 * node:test `test` whose failures carry the output of the servers returned
 * by getServers() (a function, since servers start in before()).
 *   const it = testWithLogs(() => [srv]);
 *   it('does things', async () => { ... });
 */
function testWithLogs(getServers) {
  return (name, opts, fn) => {
    if (typeof opts === 'function') {
      fn = opts;
      opts = {};
    }
    return test(name, { timeout: 60000, ...opts }, async (t) => {
      try {
        return await fn(t);
      } catch (e) {
        const servers = (getServers() || []).filter(Boolean);
        const text = servers.map((s) => `--- parleyd :${s.port} output ---\n${tail(s.logs(), 80)}`).join('\n');
        if (text && e && typeof e === 'object') {
          try {
            e.message = `${e.message}\n${text}`;
          } catch {
            /* read-only message */
          }
        }
        throw e;
      }
    });
  };
}

module.exports = { startParleyd, stopChecked, runParleyd, addAgent, parleydPath, cleanEnv, testWithLogs, SANITIZED };
