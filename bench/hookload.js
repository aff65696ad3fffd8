#!/usr/bin/env node
'use strict';
// bench/hookload: webhook delivery throughput, and how a backlog drains.
//
//   bench/hookload.js [-n 20000] [-e 1] [--nodes 1] [--latency 0] [--concurrency 32]
//
// Starts a throw-away PostgreSQL, parleyd node(s) (tests/helpers) and a fast
// local receiver (node:http, keep-alive, 204 at once or after --latency ms),
// creates -e endpoints subscribed to message.created, then writes -n events
// in one transaction (a backlog, through the outbox function the triggers
// use, one conversation each so that per-conversation order holds nothing
// back), and measures from that commit until the receiver got them all:
// deliveries per second, the backlog (pending deliveries) every 500 ms, and
// parleyd's CPU. Every request is checked to carry the three signature
// headers; duplicates are counted.

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const REPO_ROOT = path.join(__dirname, '..');
const { startCluster } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'pg'));
const { startParleyd } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'parleyd'));
const { addToken, api } = require(path.join(REPO_ROOT, 'tests', 'helpers', 'api'));

function args() {
  const o = { events: 20000, endpoints: 1, nodes: 1, latency: 0, concurrency: 32 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '-n') o.events = Number(a[++i]);
    else if (a[i] === '-e') o.endpoints = Number(a[++i]);
    else if (a[i] === '--nodes') o.nodes = Number(a[++i]);
    else if (a[i] === '--latency') o.latency = Number(a[++i]);
    else if (a[i] === '--concurrency') o.concurrency = Number(a[++i]);
    else {
      console.log('bench/hookload.js [-n events (20000)] [-e endpoints (1)] [--nodes N (1)] [--latency receiver ms (0)] [--concurrency per node (32)]');
      process.exit(a[i] === '-h' || a[i] === '--help' ? 0 : 2);
    }
  }
  return o;
}

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

async function main() {
  const o = args();
  const pg = await startCluster();
  const env = {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
    PARLEY_WEBHOOK_CONCURRENCY: String(o.concurrency),
    PARLEY_LOG_LEVEL: 'warn',
  };
  const nodes = [];
  for (let i = 0; i < o.nodes; i++) nodes.push(await startParleyd({ databaseUrl: pg.url, env }));
  const seen = new Set();
  let got = 0;
  let dup = 0;
  let unsigned = 0;
  let doneAt = 0;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  const total = o.events * o.endpoints;
  const receiver = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const id = `${req.url}|${req.headers['webhook-id']}`;
      if (!req.headers['webhook-id'] || !req.headers['webhook-timestamp'] || !/^v1,/.test(req.headers['webhook-signature'] || '')) unsigned += 1;
      if (seen.has(id)) dup += 1;
      else {
        seen.add(id);
        got += 1;
        if (got === total) {
          doneAt = Date.now();
          resolveAll();
        }
      }
      const answer = () => {
        res.writeHead(204);
        res.end();
      };
      if (o.latency > 0) setTimeout(answer, o.latency);
      else answer();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const port = receiver.address().port;
  const admin = await addToken(pg, { scopes: ['admin'] });
  for (let i = 0; i < o.endpoints; i++) {
    const r = await api(nodes[0], admin, 'POST', '/api/v1/webhooks', { json: { url: `http://127.0.0.1:${port}/e${i}`, events: ['message.created'] } });
    if (r.status !== 201) throw new Error(`endpoint: ${r.status} ${r.body}`);
  }

  // The backlog: n events in one transaction, each of its own conversation id.
  const cpu0 = nodes.map((n) => cpuSeconds(n.pid));
  const t0 = Date.now();
  await pg.query(
    `SELECT count(parley_hook_emit('message.created', g, jsonb_build_object('id', g, 'conversation_id', g, 'body', 'bench event ' || g)))
       FROM generate_series(1, $1::int) g`,
    [o.events],
  );
  const committed = Date.now();
  const samples = [];
  const poll = setInterval(async () => {
    const r = await pg.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'");
    samples.push([((Date.now() - committed) / 1000).toFixed(1), r.rows[0].n, got]);
  }, 500);
  await all;
  clearInterval(poll);
  const cpu = nodes.map((n, i) => cpuSeconds(n.pid) - cpu0[i]);
  const secs = (doneAt - committed) / 1000;
  console.log(
    `hookload: ${o.events} events x ${o.endpoints} endpoint(s), ${o.nodes} node(s), receiver latency ${o.latency} ms, ${o.concurrency} in flight per node`,
  );
  console.log(`written   ${o.events} events + ${total} deliveries in one transaction: ${((committed - t0) / 1000).toFixed(2)} s`);
  console.log(`delivered ${got} in ${secs.toFixed(2)} s after the commit: ${(got / secs).toFixed(0)} deliveries/s; duplicates ${dup}, unsigned ${unsigned}`);
  console.log(`CPU       parleyd ${cpu.map((c) => `${((100 * c) / secs).toFixed(1)}%`).join(' + ')} of one core`);
  console.log('backlog   t(s) pending received');
  for (const s of samples) console.log(`          ${s[0].padStart(5)} ${String(s[1]).padStart(7)} ${String(s[2]).padStart(8)}`);
  for (const n of nodes) await n.stop();
  receiver.closeAllConnections();
  receiver.close();
  await pg.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
