'use strict';
// New widget visitor sessions are rate limited per client address: each
// one may create a visitor row, so one address cannot create them without
// bound. Reusing an existing token counts too (it is the same endpoint),
// and another address is not affected.

const { before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startCluster } = require('../helpers/pg');
const { startParleyd, stopChecked, testWithLogs } = require('../helpers/parleyd');
const { request } = require('../helpers/http');
const { assertProblem } = require('../helpers/assert');

let pg;
let srv;
let siteKey;
const test = testWithLogs(() => [srv]);

before(async () => {
  pg = await startCluster();
  srv = await startParleyd({ databaseUrl: pg.url, env: { PARLEY_SESSION_RATE_PER_MINUTE: '3' } });
  siteKey = (await pg.query('SELECT public_key FROM sites ORDER BY id LIMIT 1')).rows[0].public_key;
}, { timeout: 60000 });

after(async () => {
  try {
    await stopChecked(srv);
  } finally {
    if (pg) await pg.stop();
  }
});

const session = (localAddress) =>
  request(srv, { method: 'POST', path: '/api/widget/session', headers: { Origin: srv.origin }, json: { site_key: siteKey }, localAddress });

test('the fourth session in a minute from one address is refused with Retry-After; others go on', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await session('127.0.0.5')).status, 200);
  const refused = await session('127.0.0.5');
  assertProblem(refused, 429, 'rate_limited');
  assert.match(String(refused.headers['retry-after']), /^[1-9][0-9]*$/);
  assert.ok(Number(refused.headers['retry-after']) <= 60);
  const before = (await pg.query('SELECT count(*)::int AS n FROM visitors')).rows[0].n;
  assert.equal(before, 3, 'the refused request created no visitor');
  assert.equal((await session('127.0.0.6')).status, 200, 'another address is not affected');
});
