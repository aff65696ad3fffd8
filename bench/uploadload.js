#!/usr/bin/env node
'use strict';
// bench/uploadload: memory and throughput of file uploads and downloads.
//
//   bench/uploadload.js [-c 20] [-s 25] [--storage pg|disk]
//
// Starts a throw-away PostgreSQL and parleyd (tests/helpers), opens one
// visitor conversation per upload, then sends -c uploads of -s MiB each at
// once (raw bodies, as the widget does), then downloads them all at once,
// sampling parleyd's resident memory (/proc/PID/status VmRSS) every 50 ms.
// Prints the RSS before, the peak during each phase, and the throughput.
// Memory should stay flat: each transfer holds one 256 KiB chunk, never the
// file.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');

const REPO_ROOT = path.join(__dirname, '..');
const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
const { startParleyd } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
const { connectVisitor, startConversation, closeAll } = (() => {
  const f = require(path.join(REPO_ROOT, 'tests', 'helpers', 'fixtures'));
  return { ...f, closeAll: require(path.join(REPO_ROOT, 'tests', 'helpers', 'ws')).closeAll };
})();

function args() {
  const o = { count: 20, mib: 25, storage: 'pg' };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '-c') o.count = Number(a[++i]);
    else if (a[i] === '-s') o.mib = Number(a[++i]);
    else if (a[i] === '--storage') o.storage = a[++i];
    else if (a[i] === '-h' || a[i] === '--help') {
      console.log('bench/uploadload.js [-c uploads at once (20)] [-s MiB each (25)] [--storage pg|disk]');
      process.exit(0);
    }
  }
  return o;
}

function rssMiB(pid) {
  const m = /^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** Samples RSS until stop(); resolves {peak}. */
function sampler(pid) {
  let peak = 0;
  const t = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 50);
  return () => {
    clearInterval(t);
    return Math.max(peak, rssMiB(pid));
  };
}

function send(srv, opts, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, agent: false, ...opts }, (res) => {
      let n = 0;
      const chunks = [];
      res.on('data', (c) => {
        n += c.length;
        if (n < 65536) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes: n, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (!body) return req.end();
    // Written in 1 MiB pieces, as a browser streams a File.
    let off = 0;
    const next = () => {
      while (off < body.length) {
        const piece = body.subarray(off, off + 1024 * 1024);
        off += piece.length;
        if (!req.write(piece)) return req.once('drain', next);
      }
      req.end();
    };
    next();
  });
}

async function main() {
  const o = args();
  const size = o.mib * 1024 * 1024;
  const pg = await startCluster({ database: 'uploadload' });
  const env = {
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_UPLOAD_STORAGE: o.storage,
    PARLEY_UPLOAD_MAX_BYTES: String(Math.max(size, 1024 * 1024)),
    PARLEY_UPLOAD_CONCURRENCY: String(o.count + 4),
    PARLEY_HTTP_MAX_PER_IP: String(4 * o.count + 16),
    PARLEY_SESSION_RATE_PER_MINUTE: String(4 * o.count + 16),
    PARLEY_DB_POOL_SIZE: '8',
  };
  const srv = await startParleyd({ databaseUrl: pg.url, env, timeoutMs: 30000 });
  try {
    const site = (await pg.query('SELECT id, public_key FROM sites ORDER BY id LIMIT 1')).rows[0];
    await pg.query("UPDATE sites SET allowed_origins = ARRAY['http://bench.test'] WHERE id = $1", [site.id]);
    const siteFx = { id: site.id, key: site.public_key, origin: 'http://bench.test' };
    const visitors = [];
    for (let i = 0; i < o.count; i++) {
      const v = await connectVisitor(srv, siteFx);
      visitors.push({ v, cid: await startConversation(v) });
    }
    // One random body, the PDF magic number first (an allowed type).
    const body = crypto.randomBytes(size);
    body.write('%PDF-1.7\n', 0, 'latin1');
    const idle = rssMiB(srv.pid);

    let stop = sampler(srv.pid);
    let t0 = process.hrtime.bigint();
    const ups = await Promise.all(
      visitors.map(({ v, cid }) =>
        send(
          srv,
          {
            method: 'POST',
            path: `/api/files?conversation_id=${cid}&name=bench.pdf`,
            headers: { Authorization: `Bearer ${v.token}`, 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
          },
          body,
        ),
      ),
    );
    const upSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const upPeak = stop();
    const bad = ups.filter((r) => r.status !== 201);
    if (bad.length) throw new Error(`${bad.length} uploads failed: ${bad[0].status} ${bad[0].text}`);
    const ids = ups.map((r) => JSON.parse(r.text).file.id);

    stop = sampler(srv.pid);
    t0 = process.hrtime.bigint();
    const downs = await Promise.all(
      visitors.map(({ v }, i) => send(srv, { method: 'GET', path: `/api/files/${ids[i]}`, headers: { Authorization: `Bearer ${v.token}` } })),
    );
    const downSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const downPeak = stop();
    if (downs.some((r) => r.status !== 200 || r.bytes !== size)) throw new Error('a download failed or was short');

    const total = (o.count * size) / (1024 * 1024);
    const f = (x) => x.toFixed(1);
    console.log(`uploadload: ${o.count} x ${o.mib} MiB at once, storage ${o.storage}, parleyd ${srv.url}`);
    console.log(`  parleyd RSS idle (after set-up)        ${f(idle)} MiB`);
    console.log(`  uploads:   ${f(total)} MiB in ${f(upSeconds)} s (${f(total / upSeconds)} MiB/s); RSS peak ${f(upPeak)} MiB (+${f(upPeak - idle)})`);
    console.log(`  downloads: ${f(total)} MiB in ${f(downSeconds)} s (${f(total / downSeconds)} MiB/s); RSS peak ${f(downPeak)} MiB (+${f(downPeak - idle)})`);
  } finally {
    closeAll();
    await srv.stop();
    await pg.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
