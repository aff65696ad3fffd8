'use strict';
// Shared bits of the integration harness: repo paths, free ports, temp dirs
// under <repo>/var/tmp, and clean-up of everything we started when the test
// process exits (normally, by exception, or by SIGINT/SIGTERM/SIGHUP).

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const VAR_TMP = path.join(REPO_ROOT, 'var', 'tmp');

function ensureVarTmp() {
  fs.mkdirSync(VAR_TMP, { recursive: true });
  return VAR_TMP;
}

/** Make a fresh, uniquely named directory under <repo>/var/tmp. */
function makeTempDir(prefix) {
  ensureVarTmp();
  return fs.mkdtempSync(path.join(VAR_TMP, prefix));
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost (made once per test
 * process with the openssl command): { certFile, keyFile, pem }. Clients
 * trust it through trustedCa().
 */
let testCert = null;
function selfSignedCert() {
  if (testCert) return testCert;
  const { execFileSync } = require('node:child_process');
  const dir = makeTempDir('tls-');
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  testCert = { certFile, keyFile, pem: fs.readFileSync(certFile, 'utf8') };
  onExit(() => rmrf(dir));
  return testCert;
}

/** The CA clients must trust for https/wss test servers (undefined: none made). */
function trustedCa() {
  return testCert ? testCert.pem : undefined;
}

/** Ask the kernel for a free loopback TCP port (bind port 0, close, reuse). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  try {
    // A zombie (killed, not yet reaped) is not alive.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch (e) {
    return e.code !== 'ENOENT';
  }
}

// ---- synchronous clean-up at process exit -------------------------------
// Each entry is a synchronous function; it must never throw.
const exitCleanups = new Set();
let hooksInstalled = false;

function runExitCleanups() {
  for (const fn of [...exitCleanups]) {
    exitCleanups.delete(fn);
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', runExitCleanups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      runExitCleanups();
      // Re-raise with the default disposition so the exit status is right.
      process.kill(process.pid, sig);
    });
  }
}

/** Register a synchronous clean-up; returns a function that unregisters it. */
function onExit(fn) {
  installHooks();
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

function rmrf(p) {
  try {
    fs.rmSync(p, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  } catch {
    /* best effort */
  }
}

/**
 * Directories under var/tmp that we create carry an `owner.pid` file with
 * the pid of the node process that owns them. Remove such directories whose
 * owner is gone (left behind by a SIGKILLed run). `beforeRemove(dir)` may
 * stop a server that still uses the directory.
 */
function sweepStale(prefix, beforeRemove) {
  let names;
  try {
    names = fs.readdirSync(VAR_TMP);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(VAR_TMP, name);
    let owner = NaN;
    try {
      owner = parseInt(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8'), 10);
    } catch {
      // No owner file: only sweep if it is older than an hour (it may be
      // being created right now by a sibling test process).
      try {
        if (Date.now() - fs.statSync(dir).mtimeMs < 3600e3) continue;
      } catch {
        continue;
      }
    }
    if (pidAlive(owner)) continue;
    try {
      if (beforeRemove) beforeRemove(dir);
    } catch {
      /* best effort */
    }
    rmrf(dir);
  }
}

function writeOwner(dir) {
  fs.writeFileSync(path.join(dir, 'owner.pid'), `${process.pid}\n`);
}

/**
 * Watches a spawned child for the tests: its exit, and its removal (SIGKILL)
 * with its directory if the test process ends first.
 *   const w = superviseChild(proc, dir);
 *   w.exited      resolves { code, signal[, error] } once it is gone ('close':
 *                 all its output read)
 *   w.exitInfo()  that, or null while it runs
 *   w.cleanup()   removes dir and forgets the exit hook (once it has exited)
 */
function superviseChild(proc, dir) {
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('error', (err) => {
      exitInfo = exitInfo || { code: null, signal: null, error: err };
      resolve(exitInfo);
    });
    proc.on('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const unregister = onExit(() => {
    if (!exitInfo) {
      try {
        proc.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmrf(dir);
  });
  return {
    exited,
    exitInfo: () => exitInfo,
    cleanup: () => {
      rmrf(dir);
      unregister();
    },
  };
}

module.exports = {
  superviseChild,
  selfSignedCert,
  trustedCa,
  REPO_ROOT,
  VAR_TMP,
  ensureVarTmp,
  makeTempDir,
  freePort,
  sleep,
  pidAlive,
  onExit,
  rmrf,
  sweepStale,
  writeOwner,
};
