'use strict';
// Login throttling per account and per client IP.
// parleyd runs with PARLEY_LOGIN_ACCOUNT_LIMIT=3, PARLEY_LOGIN_IP_LIMIT=6,
// PARLEY_LOGIN_WINDOW_SECONDS=900. Each test talks from its own 127/8
// address (any of them reaches the loopback listener), so that their per-IP
// counters are independent. The parallel tests send every guess at once:
// an attempt is reserved before its password is verified, so N parallel
// guesses are limited exactly like N sequential ones, also across two nodes
// on one database.

const assert = require('node:assert/strict');

const { addAgent } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');
const { login } = require('../helpers/http');
const { assertProblem, assertStatus, show } = require('../helpers/assert');

const PASSWORD = 'correct horse battery staple';
const A = 'alpha@example.com';
const B = 'bravo@example.com';
const C = 'charlie@example.com';
const WINDOW = 900;

const D = 'delta@example.com';
const E = 'echo@example.com';
const F = 'foxtrot@example.com';
const ACCOUNT_LIMIT = 3;
const IP_LIMIT = 6;

const fx = suite({
  fastHashes: false,
  nodes: 2,
  env: {
    PARLEY_LOGIN_ACCOUNT_LIMIT: String(ACCOUNT_LIMIT),
    PARLEY_LOGIN_IP_LIMIT: String(IP_LIMIT),
    PARLEY_LOGIN_WINDOW_SECONDS: String(WINDOW),
    // Every guess of a burst must reach the throttle: the limit on requests
    // in flight per address (16 by default, attack-flood.test.js) would
    // otherwise answer some of them itself.
    PARLEY_HTTP_MAX_PER_IP: '64',
  },
});
const { test } = fx;

fx.setup(async () => {
  for (const email of [A, B, C, D, E, F]) await addAgent(fx.pg.url, { email, name: email.split('@')[0], role: 'agent', password: PASSWORD });
});

/** Tallies the answers of a burst: 200, 401 and 429 counts (anything else fails). */
function tally(results) {
  const n = { 200: 0, 401: 0, 429: 0 };
  for (const { res } of results) {
    assert.ok(res.status in n, `unexpected answer in a burst: ${show(res)}`);
    n[res.status] += 1;
    if (res.status === 401) assertProblem(res, 401, 'invalid_credentials');
    if (res.status === 429) assertThrottled(res);
  }
  return n;
}

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
    assertProblem((await login(fx.srv, A, `wrong password ${i}`, from)).res, 401, 'invalid_credentials');
  }
  // Fourth attempt for A, even with the right password: throttled.
  const fourth = await login(fx.srv, A, PASSWORD, from);
  assertThrottled(fourth.res);
  assert.equal(fourth.cookie, undefined, 'a throttled login must not create a session');

  // Another account from the same IP still works.
  assertStatus((await login(fx.srv, B, PASSWORD, from)).res, 200);

  // Failures with unknown emails (each a different one) count towards the IP limit.
  assertProblem((await login(fx.srv, 'ghost1@example.com', 'whatever-1', from)).res, 401, 'invalid_credentials'); // 4
  assertProblem((await login(fx.srv, 'ghost2@example.com', 'whatever-2', from)).res, 401, 'invalid_credentials'); // 5
  // The 6th failure: 401, or already 429 if the server also counted the throttled attempt above.
  const sixth = await login(fx.srv, 'ghost3@example.com', 'whatever-3', from);
  assert.ok([401, 429].includes(sixth.res.status), show(sixth.res));

  // Six failures from this IP: any login is now refused, right password or not, known account or not.
  assertThrottled((await login(fx.srv, C, PASSWORD, from)).res);
  assertThrottled((await login(fx.srv, B, PASSWORD, from)).res);
  assertThrottled((await login(fx.srv, 'ghost4@example.com', 'whatever-4', from)).res);
});

test('unknown emails are throttled exactly like known ones (127.0.0.2)', async () => {
  const from = { localAddress: '127.0.0.2' };
  // Three failures for an email that has no account: 401s, then the 4th is throttled.
  const unknown = [];
  for (let i = 1; i <= 3; i++) unknown.push((await login(fx.srv, 'nobody@example.com', `guess ${i}`, from)).res);
  for (const res of unknown) assertProblem(res, 401, 'invalid_credentials');
  assertThrottled((await login(fx.srv, 'nobody@example.com', PASSWORD, from)).res);

  // A known account's failures from the same IP (still under the IP limit of 6) look the same.
  const known = [];
  known.push((await login(fx.srv, C, 'wrong 1', from)).res);
  known.push((await login(fx.srv, C, 'wrong 2', from)).res);
  for (const res of known) assertProblem(res, 401, 'invalid_credentials');
  assert.equal(known[0].json.title, unknown[0].json.title);
  assert.equal(known[0].json.detail, unknown[0].json.detail);
});

test('30 parallel wrong guesses on one account: exactly the account limit is verified, the rest 429 (127.0.0.3)', async () => {
  const from = { localAddress: '127.0.0.3' };
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => login(fx.srv, D, `parallel guess ${i}`, from)));
  const n = tally(results);
  assert.deepEqual(n, { 200: 0, 401: ACCOUNT_LIMIT, 429: 30 - ACCOUNT_LIMIT }, 'parallel guesses must be limited like sequential ones');
  // And the account stays closed to the right password for the window.
  assertThrottled((await login(fx.srv, D, PASSWORD, from)).res);
});

test('30 parallel guesses with the right password among them: no more verifications than sequential guesses get (127.0.0.4)', async () => {
  const from = { localAddress: '127.0.0.4' };
  const guesses = Array.from({ length: 30 }, (_, i) => (i === 17 ? PASSWORD : `parallel guess ${i}`));
  const results = await Promise.all(guesses.map((pw) => login(fx.srv, E, pw, from)));
  const n = tally(results);
  // Every answer that is not 429 was a verification: exactly the limit of
  // them, whichever got there first. The right password got through only
  // if it was among them (then its session is real).
  assert.equal(n[200] + n[401], ACCOUNT_LIMIT, `verified ${n[200] + n[401]} guesses: ${JSON.stringify(n)}`);
  assert.equal(n[429], 30 - ACCOUNT_LIMIT);
  assert.ok(n[200] <= 1);
  const right = results[17];
  if (right.res.status === 200) assert.ok(right.cookie, 'a successful login sets the session cookie');
  else assertThrottled(right.res);
});

test('30 parallel guesses on 30 unknown accounts from one IP: exactly the IP limit is verified (127.0.0.5)', async () => {
  const from = { localAddress: '127.0.0.5' };
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => login(fx.srv, `ghost-${i}@example.com`, `guess ${i}`, from)));
  assert.deepEqual(tally(results), { 200: 0, 401: IP_LIMIT, 429: 30 - IP_LIMIT });
});

test('parallel guesses split over two nodes share one limit (127.0.0.6)', async () => {
  const from = { localAddress: '127.0.0.6' };
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 ? fx.nodes[1] : fx.srv, F, `two-node guess ${i}`, from)));
  assert.deepEqual(tally(results), { 200: 0, 401: ACCOUNT_LIMIT, 429: 20 - ACCOUNT_LIMIT });
  assertThrottled((await login(fx.nodes[1], F, PASSWORD, from)).res);
});
