'use strict';
// Login throttling per account and per client IP.
// parleyd runs with PARLEY_LOGIN_ACCOUNT_LIMIT=3, PARLEY_LOGIN_IP_LIMIT=6,
// PARLEY_LOGIN_WINDOW_SECONDS=900. The first test talks from 127.0.0.1, the
// second from 127.0.0.2 (any 127/8 address reaches the loopback listener), so
// that their per-IP counters are independent.

const { before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startCluster } = require('../helpers/pg');
const { startParleyd, stopChecked, addAgent, testWithLogs } = require('../helpers/parleyd');
const { login } = require('../helpers/http');
const { assertProblem, assertStatus, show } = require('../helpers/assert');

const PASSWORD = 'correct horse battery staple';
const A = 'alpha@example.com';
const B = 'bravo@example.com';
const C = 'charlie@example.com';
const WINDOW = 900;

let pg;
let srv;
const test = testWithLogs(() => [srv]);

before(async () => {
  pg = await startCluster();
  srv = await startParleyd({
    databaseUrl: pg.url,
    env: { PARLEY_LOGIN_ACCOUNT_LIMIT: '3', PARLEY_LOGIN_IP_LIMIT: '6', PARLEY_LOGIN_WINDOW_SECONDS: String(WINDOW) },
  });
  for (const email of [A, B, C]) await addAgent(pg.url, { email, name: email.split('@')[0], role: 'agent', password: PASSWORD });
}, { timeout: 60000 });

after(async () => {
  try {
    await stopChecked(srv);
  } finally {
    if (pg) await pg.stop();
  }
});

function assertThrottled(res) {
  assertProblem(res, 429, 'too_many_attempts');
  const ra = res.headers['retry-after'];
  assert.match(String(ra), /^[1-9][0-9]*$/, `Retry-After must be a positive integer, got ${JSON.stringify(ra)}\n${show(res)}`);
  assert.ok(Number(ra) <= WINDOW, `Retry-After ${ra} is longer than the ${WINDOW} s window`);
}

test('account limit, then IP limit (127.0.0.1)', async () => {
  const from = { localAddress: '127.0.0.1' };
  // Three wrong passwords for A: plain 401s.            (IP failures: 3)
  for (let i = 1; i <= 3; i++) {
    assertProblem((await login(srv, A, `wrong password ${i}`, from)).res, 401, 'invalid_credentials');
  }
  // Fourth attempt for A, even with the right password: throttled.
  const fourth = await login(srv, A, PASSWORD, from);
  assertThrottled(fourth.res);
  assert.equal(fourth.cookie, undefined, 'a throttled login must not create a session');

  // Another account from the same IP still works.
  assertStatus((await login(srv, B, PASSWORD, from)).res, 200);

  // Failures with unknown emails (each a different one) count towards the IP limit.
  assertProblem((await login(srv, 'ghost1@example.com', 'whatever-1', from)).res, 401, 'invalid_credentials'); // 4
  assertProblem((await login(srv, 'ghost2@example.com', 'whatever-2', from)).res, 401, 'invalid_credentials'); // 5
  // The 6th failure: 401, or already 429 if the server also counted the throttled attempt above.
  const sixth = await login(srv, 'ghost3@example.com', 'whatever-3', from);
  assert.ok([401, 429].includes(sixth.res.status), show(sixth.res));

  // Six failures from this IP: any login is now refused, right password or not, known account or not.
  assertThrottled((await login(srv, C, PASSWORD, from)).res);
  assertThrottled((await login(srv, B, PASSWORD, from)).res);
  assertThrottled((await login(srv, 'ghost4@example.com', 'whatever-4', from)).res);
});

test('unknown emails are throttled exactly like known ones (127.0.0.2)', async () => {
  const from = { localAddress: '127.0.0.2' };
  // Three failures for an email that has no account: 401s, then the 4th is throttled.
  const unknown = [];
  for (let i = 1; i <= 3; i++) unknown.push((await login(srv, 'nobody@example.com', `guess ${i}`, from)).res);
  for (const res of unknown) assertProblem(res, 401, 'invalid_credentials');
  assertThrottled((await login(srv, 'nobody@example.com', PASSWORD, from)).res);

  // A known account's failures from the same IP (still under the IP limit of 6) look the same.
  const known = [];
  known.push((await login(srv, C, 'wrong 1', from)).res);
  known.push((await login(srv, C, 'wrong 2', from)).res);
  for (const res of known) assertProblem(res, 401, 'invalid_credentials');
  assert.equal(known[0].json.title, unknown[0].json.title);
  assert.equal(known[0].json.detail, unknown[0].json.detail);
});
