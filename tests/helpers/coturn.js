'use strict';
// A throw-away coturn (Debian's /usr/bin/turnserver, 4.6.1, installed by
// scripts/install-deps) for the call tests.
//
//   const { startCoturn } = require('../helpers/coturn');
//   const turn = await startCoturn();
//   turn.host, turn.port, turn.secret, turn.realm, turn.url ('turn:127.0.0.1:PORT'),
//   turn.logs(), await turn.stop()
//
// It listens on 127.0.0.1 only (UDP and TCP, one free port), relays on
// 127.0.0.1, authenticates with the TURN REST API (use-auth-secret and a
// random static-auth-secret, which the test hands to parleyd as
// PARLEY_TURN_SECRET), and lets the relay reach loopback peers (coturn
// refuses 127.0.0.0/8 and ::1 as peers unless --allow-loopback-peers), so a
// test can send through the relay to a socket of its own. No configuration
// file is read (-n: /etc/turnserver.conf plays no part), no TLS/DTLS, no CLI,
// no web admin; the log, the pid file and coturn's SQLite user database (which
// it opens even when the REST API is all it uses) live in a temp directory
// under <repo>/var/tmp, removed by stop() or at process exit. Ready means: it
// answered a STUN Binding request over UDP. Set PARLEY_TEST_LOGS=1 to stream
// its log to stderr at stop().
//
// startCoturn({ config: 'docker/turnserver.conf' }) runs a configuration file
// instead (-c): only where it listens and keeps its files is set here
// (127.0.0.1, a free port, the secret, the temp directory); its policy (peers,
// quotas, realm) is the file's own. coturn then logs to its standard output
// when the file says log-file=stdout (the command line does not override it).

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const dgram = require('node:dgram');
const fs = require('node:fs');
const path = require('node:path');

const { makeTempDir, freePort, sleep, sweepStale, writeOwner, superviseChild } = require('./common');
const { stunPing } = require('./turn');

const TURNSERVER = process.env.PARLEY_TURNSERVER || '/usr/bin/turnserver';
const MAX_LOG_BYTES = 4 << 20;

function tail(s, lines = 80) {
  const a = s.split('\n');
  return a.length > lines ? `[... ${a.length - lines} earlier lines]\n${a.slice(-lines).join('\n')}` : s;
}

/** Is the UDP port free on 127.0.0.1 too (freePort() tests TCP only)? */
function udpFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A coturn left running by a test process that was SIGKILLed: stop it. */
function stopStale(dir) {
  let pid;
  try {
    pid = parseInt(fs.readFileSync(path.join(dir, 'turnserver.pid'), 'utf8'), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    // Only a turnserver started on this very directory.
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('turnserver') || !cmdline.includes(dir)) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

let swept = false;

/**
 * Start coturn. Options:
 *   secret     the static auth secret (random by default)
 *   realm      'parley.test'
 *   realm      'parley.test' (with `config`: the file's, unless given)
 *   config     a turnserver.conf to run instead of the test policy (above)
 *   args       more turnserver arguments
 *   timeoutMs  how long to wait for it to answer a STUN Binding (10 s)
 */
async function startCoturn({ secret = crypto.randomBytes(24).toString('base64url'), realm, config, args = [], timeoutMs = 10000 } = {}) {
  try {
    fs.accessSync(TURNSERVER, fs.constants.X_OK);
  } catch {
    throw new Error(`${TURNSERVER} not found: install Debian's coturn package (scripts/install-deps)`);
  }
  if (!swept) {
    swept = true;
    sweepStale('coturn-', stopStale);
  }
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    if (!(await udpFree(port))) continue;
    try {
      return await startOnce(port, { secret, realm, config, args, timeoutMs });
    } catch (e) {
      lastError = e;
      // Retry only when the port was taken between freePort() and bind().
      if (!e.portInUse) throw e;
    }
  }
  throw lastError || new Error('no free UDP and TCP port for coturn');
}

async function startOnce(port, { secret, realm, config, args, timeoutMs }) {
  const dir = makeTempDir('coturn-');
  writeOwner(dir);
  const logFile = path.join(dir, 'turnserver.log');
  const host = '127.0.0.1';
  if (config && realm === undefined) {
    const m = /^realm=(.*)$/m.exec(fs.readFileSync(config, 'utf8'));
    realm = m ? m[1].trim() : undefined;
  }
  if (realm === undefined) realm = 'parley.test';
  // Where it listens and keeps its files (also over a configuration file).
  const place = [
    `--listening-ip=${host}`,
    `--listening-port=${port}`,
    `--relay-ip=${host}`,
    `--static-auth-secret=${secret}`,
    `--realm=${realm}`,
    '--relay-threads=1',
    `--log-file=${logFile}`,
    '--simple-log',
    `--pidfile=${path.join(dir, 'turnserver.pid')}`,
    `--db=${path.join(dir, 'turndb')}`,
  ];
  // The test policy: REST API auth, no TLS, no CLI, loopback peers allowed.
  const policy = [
    '--use-auth-secret',
    '--fingerprint',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--no-rfc5780',
    '--allow-loopback-peers',
    '--no-multicast-peers',
    '--verbose',
    '--no-stdout-log',
  ];
  // -n: no configuration file (not even /etc/turnserver.conf): every option is here.
  const argv = config ? ['-c', path.resolve(config), ...place, ...args] : ['-n', ...place, ...policy, ...args];

  const chunks = [];
  let outBytes = 0;
  const proc = spawn(TURNSERVER, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const record = (buf) => {
    if (outBytes < MAX_LOG_BYTES) {
      chunks.push(buf);
      outBytes += buf.length;
    }
  };
  proc.stdout.on('data', record);
  proc.stderr.on('data', record);
  const logs = () => {
    let file = '';
    try {
      file = fs.readFileSync(logFile, 'utf8');
    } catch {
      /* not written yet */
    }
    const out = Buffer.concat(chunks).toString('utf8');
    return out ? `${file}\n--- turnserver stdout/stderr ---\n${out}` : file;
  };

  const { exited, cleanup } = superviseChild(proc, dir);
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });
  const kill = async () => {
    if (!exitInfo) proc.kill('SIGKILL');
    await exited;
    cleanup();
  };

  // Ready once it answers a STUN Binding on its UDP port. coturn does not
  // exit when it cannot bind its port: it keeps trying and says so.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitInfo) {
      await exited;
      const text = logs();
      cleanup();
      const how = exitInfo.error ? `failed to start: ${exitInfo.error.message}` : `exited early (code ${exitInfo.code}, signal ${exitInfo.signal})`;
      throw new Error(`turnserver ${how}\n--- turnserver output ---\n${tail(text)}`);
    }
    if (/Address already in use/.test(Buffer.concat(chunks).toString('utf8'))) {
      const text = logs();
      await kill();
      const err = new Error(`turnserver could not bind 127.0.0.1:${port}\n--- turnserver output ---\n${tail(text)}`);
      err.portInUse = true;
      throw err;
    }
    const answer = await stunPing({ host, port, timeoutMs: 300 });
    if (answer && answer.ok && answer.mapped) break;
    if (Date.now() > deadline) {
      const text = logs();
      await kill();
      throw new Error(`turnserver did not answer a STUN Binding on ${host}:${port} within ${timeoutMs} ms\n--- turnserver output ---\n${tail(text)}`);
    }
    await sleep(50);
  }

  return {
    host,
    port,
    secret,
    realm,
    url: `turn:${host}:${port}`,
    proc,
    pid: proc.pid,
    dir,
    logs,
    get exitInfo() {
      return exitInfo;
    },
    /** SIGTERM (SIGKILL after 5 s), wait, remove the temp directory. */
    async stop() {
      if (process.env.PARLEY_TEST_LOGS === '1') process.stderr.write(`--- turnserver :${port} ---\n${logs()}\n`);
      if (!exitInfo) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!exitInfo) proc.kill('SIGKILL');
        }, 5000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
      return exitInfo.code ?? exitInfo.signal;
    },
  };
}

module.exports = { startCoturn };
