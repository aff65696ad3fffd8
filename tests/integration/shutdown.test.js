'use strict';
// Graceful shutdown: SIGTERM lets an in-flight request finish, then parleyd
// exits 0 and stops listening.

const assert = require('node:assert/strict');
const net = require('node:net');

const { addAgent } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');
const { login, request } = require('../helpers/http');
const { assertJson } = require('../helpers/assert');
const { waitFor } = require('../helpers/fixtures');

const PASSWORD = 'correct horse battery staple';
const EMAIL = 'shutdown@example.com';

const fx = suite({ fastHashes: false });
const { test } = fx;

fx.setup(async () => {
  await addAgent(fx.pg.url, { email: EMAIL, name: 'Shutdown', role: 'agent', password: PASSWORD });
});

/** parley_http_requests_in_flight, counting the /metrics request itself. */
async function inFlight() {
  const res = await request(fx.srv, { path: '/metrics' });
  const m = /^parley_http_requests_in_flight (\d+)$/m.exec(res.body);
  return m ? Number(m[1]) : 0;
}

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
  const pending = login(fx.srv, EMAIL, PASSWORD, { onSent: () => sent() }).then((r) => {
    answered = true;
    return r;
  });
  // A login spends a few hundred ms in scrypt: wait until the server has
  // taken the request (a second request in flight besides /metrics itself).
  await sentP;
  await waitFor(async () => answered || (await inFlight()) >= 2, { intervalMs: 5, what: 'the login in flight' });
  assert.equal(answered, false, 'the login answered before SIGTERM could be sent: nothing was in flight');
  fx.srv.proc.kill('SIGTERM');

  const { res, cookie } = await pending;
  const body = assertJson(res, 200);
  assert.equal(body.agent.email, EMAIL);
  assert.ok(cookie, 'no session cookie');

  let timer;
  const exit = await Promise.race([fx.srv.exited, new Promise((r) => (timer = setTimeout(() => r(null), 10000)))]);
  clearTimeout(timer);
  assert.ok(exit, 'parleyd still running 10 s after SIGTERM with nothing in flight');
  assert.equal(exit.code, 0, `exit code ${exit.code}, signal ${exit.signal}`);

  assert.equal(await connectOutcome(fx.srv.port), 'ECONNREFUSED', 'the port still accepts connections after exit');
});
