'use strict';
// Graceful shutdown: SIGTERM lets an in-flight request finish, then parleyd
// exits 0 and stops listening.

const { before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');

const { startCluster } = require('../helpers/pg');
const { startParleyd, addAgent, testWithLogs } = require('../helpers/parleyd');
const { login } = require('../helpers/http');
const { assertJson } = require('../helpers/assert');
const { sleep } = require('../helpers/common');

const PASSWORD = 'correct horse battery staple';
const EMAIL = 'shutdown@example.com';

let pg;
let srv;
const test = testWithLogs(() => [srv]);

before(async () => {
  pg = await startCluster();
  srv = await startParleyd({ databaseUrl: pg.url });
  await addAgent(pg.url, { email: EMAIL, name: 'Shutdown', role: 'agent', password: PASSWORD });
}, { timeout: 60000 });

after(async () => {
  try {
    if (srv) await srv.kill9();
  } finally {
    if (pg) await pg.stop();
  }
});

function connectOutcome(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(3000);
    s.on('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('timeout', () => {
      s.destroy();
      resolve('timeout');
    });
    s.on('error', (e) => resolve(e.code || e.message));
  });
}

test('SIGTERM during a login: the login completes, then the process exits 0', async () => {
  let answered = false;
  let sent;
  const sentP = new Promise((r) => {
    sent = r;
  });
  const pending = login(srv, EMAIL, PASSWORD, { onSent: () => sent() }).then((r) => {
    answered = true;
    return r;
  });
  // A login spends a few hundred ms in scrypt; give the server a moment to read the request.
  await sentP;
  await sleep(50);
  assert.equal(answered, false, 'the login answered before SIGTERM could be sent: nothing was in flight');
  srv.proc.kill('SIGTERM');

  const { res, cookie } = await pending;
  const body = assertJson(res, 200);
  assert.equal(body.agent.email, EMAIL);
  assert.ok(cookie, 'no session cookie');

  let timer;
  const exit = await Promise.race([srv.exited, new Promise((r) => (timer = setTimeout(() => r(null), 10000)))]);
  clearTimeout(timer);
  assert.ok(exit, 'parleyd still running 10 s after SIGTERM with nothing in flight');
  assert.equal(exit.code, 0, `exit code ${exit.code}, signal ${exit.signal}`);

  assert.equal(await connectOutcome(srv.port), 'ECONNREFUSED', 'the port still accepts connections after exit');
});
