'use strict';
// Throw-away PostgreSQL clusters for the integration tests.
//
//   const { startCluster } = require('../helpers/pg');
//   const pg = await startCluster();          // { port, url, query, restart, stop, ... }
//
// One initdb'd template directory per PostgreSQL version is cached in
// <repo>/var/tmp/pg-template-<version>; every cluster is a `cp -a` copy of it
// in its own <repo>/var/tmp/pg-run-XXXXXX directory, removed by stop() or at
// process exit. PostgreSQL refuses to run as root, so when the tests run as
// root (CI does) the server programs run as the `postgres` user (or `nobody`)
// through setpriv(1).

const { execFile, execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const pg = require('pg');

const { VAR_TMP, ensureVarTmp, makeTempDir, freePort, onExit, rmrf, sweepStale, writeOwner } = require('./common');

const execFileP = promisify(execFile);
const FALLBACK_BINDIR = '/usr/lib/postgresql/15/bin';
const DEFAULT_DB = 'parley_test';
const SUPERUSER = 'parley';

let info; // cached { bindir, version, runAs }

function pgInfo() {
  if (info) return info;
  let bindir = process.env.PG_BINDIR || '';
  if (!bindir) {
    try {
      bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      bindir = '';
    }
  }
  if (!bindir || !fs.existsSync(path.join(bindir, 'pg_ctl'))) bindir = FALLBACK_BINDIR;
  for (const prog of ['initdb', 'pg_ctl', 'postgres']) {
    if (!fs.existsSync(path.join(bindir, prog))) {
      throw new Error(`PostgreSQL server program ${prog} not found in ${bindir} (install postgresql-15)`);
    }
  }
  const out = execFileSync(path.join(bindir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const m = /(\d+(?:\.\d+)?)/.exec(out);
  if (!m) throw new Error(`cannot parse PostgreSQL version from ${JSON.stringify(out)}`);

  let runAs = null;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    runAs = { uid: 65534, gid: 65534 };
    try {
      const uid = parseInt(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 10);
      const gid = parseInt(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 10);
      if (Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0) runAs = { uid, gid };
    } catch {
      /* no postgres user: use nobody */
    }
  }
  info = { bindir, version: m[1], runAs };
  return info;
}

/** argv for running a PostgreSQL program, dropping root privileges if needed. */
function pgCommand(prog, args) {
  const { bindir, runAs } = pgInfo();
  const exe = path.join(bindir, prog);
  if (!runAs) return [exe, args];
  return ['setpriv', ['--reuid', String(runAs.uid), '--regid', String(runAs.gid), '--clear-groups', '--', exe, ...args]];
}

function chownForPg(p) {
  const { runAs } = pgInfo();
  if (runAs) fs.chownSync(p, runAs.uid, runAs.gid);
}

async function runPg(prog, args, opts = {}) {
  const [cmd, argv] = pgCommand(prog, args);
  try {
    return await execFileP(cmd, argv, { encoding: 'utf8', timeout: opts.timeout || 60000, env: pgEnv() });
  } catch (e) {
    const msg = `${prog} ${args.join(' ')} failed (${e.code ?? e.signal}):\n${e.stdout || ''}${e.stderr || ''}`;
    const err = new Error(opts.logFile ? `${msg}\n--- server log ---\n${readTail(opts.logFile)}` : msg);
    err.cause = e;
    throw err;
  }
}

function runPgSync(prog, args) {
  const [cmd, argv] = pgCommand(prog, args);
  return spawnSync(cmd, argv, { encoding: 'utf8', timeout: 30000, env: pgEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

function pgEnv() {
  // Keep the user's PG* variables away from the server programs.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  env.LC_ALL = 'C';
  return env;
}

function readTail(file, max = 8000) {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.length > max ? s.slice(-max) : s;
  } catch {
    return '(no log)';
  }
}

// ---- template -------------------------------------------------------------

let templatePromise;

function templateDir() {
  return path.join(VAR_TMP, `pg-template-${pgInfo().version}`);
}

function ensureTemplate() {
  if (!templatePromise) templatePromise = buildTemplate();
  return templatePromise;
}

async function buildTemplate() {
  ensureVarTmp();
  const final = templateDir();
  if (fs.existsSync(path.join(final, 'PG_VERSION'))) return final;

  sweepStale('pg-template-build-');
  const work = makeTempDir('pg-template-build-');
  writeOwner(work);
  const unregister = onExit(() => rmrf(work));
  try {
    chownForPg(work);
    const data = path.join(work, 'data');
    const base = ['-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions'];
    try {
      await runPg('initdb', [...base, '--locale=C.UTF-8']);
    } catch {
      rmrf(data);
      await runPg('initdb', [...base, '--locale=C']);
    }
    try {
      // Atomic publish: fails if a sibling test process got there first.
      fs.renameSync(data, final);
    } catch (e) {
      if (!['ENOTEMPTY', 'EEXIST'].includes(e.code)) throw e;
    }
  } finally {
    rmrf(work);
    unregister();
  }
  if (!fs.existsSync(path.join(final, 'PG_VERSION'))) throw new Error(`template ${final} missing after initdb`);
  return final;
}

// ---- clusters ---------------------------------------------------------------

let swept = false;

function stopStaleCluster(dir) {
  const data = path.join(dir, 'data');
  if (fs.existsSync(path.join(data, 'postmaster.pid'))) runPgSync('pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', data]);
}

function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/**
 * Start a throw-away cluster and create `database` in it.
 * Returns { port, url, database, dataDir, dir, query(sql, params), restart(),
 *           stop(), createDatabase(name), urlFor(name), logs() }.
 */
async function startCluster({ database = DEFAULT_DB } = {}) {
  const template = await ensureTemplate();
  if (!swept) {
    swept = true;
    sweepStale('pg-run-', stopStaleCluster);
  }

  const dir = makeTempDir('pg-run-');
  writeOwner(dir);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  let sockDir = path.join(dir, 's');
  let sockTmp = null;
  // A unix socket path must fit in sun_path (108 bytes incl. NUL).
  if (Buffer.byteLength(path.join(sockDir, '.s.PGSQL.65535')) > 100) {
    sockTmp = fs.mkdtempSync('/tmp/parley-pgs-');
    sockDir = sockTmp;
  } else {
    fs.mkdirSync(sockDir);
  }

  let stopped = false;
  const cleanupSync = () => {
    if (fs.existsSync(path.join(dataDir, 'postmaster.pid'))) runPgSync('pg_ctl', ['stop', '-m', 'immediate', '-w', '-D', dataDir]);
    rmrf(dir);
    if (sockTmp) rmrf(sockTmp);
  };
  const unregister = onExit(cleanupSync);

  let port;
  let options;
  try {
    await execFileP('cp', ['-a', template, dataDir]);
    chownForPg(dir);
    chownForPg(sockDir);
    fs.writeFileSync(logFile, '');
    chownForPg(logFile);

    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      options = `-p ${port} -k ${shellQuote(sockDir)} -c listen_addresses=127.0.0.1 -c fsync=off`;
      try {
        await runPg('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', logFile, '-o', options], { logFile });
        break;
      } catch (e) {
        // Most likely somebody grabbed the port in between: try another.
        if (attempt >= 3) throw e;
      }
    }
  } catch (e) {
    cleanupSync();
    unregister();
    throw e;
  }

  const urlFor = (db) => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${db}`;

  async function query(sql, params, { database: db = database } = {}) {
    const client = new pg.Client({ connectionString: urlFor(db), connectionTimeoutMillis: 10000 });
    client.on('error', () => {}); // a server restart kills idle clients
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end().catch(() => {});
    }
  }

  async function createDatabase(name) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    await query(`CREATE DATABASE ${name}`, undefined, { database: 'postgres' });
    return urlFor(name);
  }

  const cluster = {
    port,
    database,
    url: urlFor(database),
    dir,
    dataDir,
    urlFor,
    query,
    createDatabase,
    logs: () => readTail(logFile, 1 << 20),
    async restart() {
      if (stopped) throw new Error('cluster already stopped');
      await runPg('pg_ctl', ['restart', '-m', 'fast', '-w', '-t', '60', '-D', dataDir, '-l', logFile, '-o', options], { logFile });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await runPg('pg_ctl', ['stop', '-m', 'immediate', '-w', '-t', '60', '-D', dataDir]);
      } catch {
        /* already down */
      }
      rmrf(dir);
      if (sockTmp) rmrf(sockTmp);
      unregister();
    },
  };

  try {
    await createDatabase(database);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/**
 * A TCP proxy in front of a cluster that holds the first `parties` client
 * connections until all of them have arrived (or `timeoutMs` passed), then
 * lets them through at the same moment. Used to make two processes hit the
 * database truly concurrently. Later connections pass straight through.
 * Resolves { port, urlFor(db), close() }.
 */
async function startBarrierProxy(targetPort, { parties = 2, timeoutMs = 5000 } = {}) {
  const net = require('node:net');
  const waiting = [];
  const sockets = new Set();
  let released = false;
  let timer = null;
  const pipe = (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };
  const release = () => {
    if (released) return;
    released = true;
    clearTimeout(timer);
    for (const c of waiting.splice(0)) pipe(c);
  };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (released) return pipe(client);
    client.pause();
    waiting.push(client);
    if (waiting.length === 1) timer = setTimeout(release, timeoutMs);
    if (waiting.length >= parties) release();
  });
  const port = await freePort();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port,
    urlFor: (db) => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${db}`,
    get released() {
      return released;
    },
    close() {
      clearTimeout(timer);
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

module.exports = { startCluster, startBarrierProxy, pgInfo, templateDir };
