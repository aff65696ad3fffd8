'use strict';
// New widget visitor sessions are rate limited per client address: each
// one may create a visitor row, so one address cannot create them without
// bound. Reusing an existing token counts too (it is the same endpoint),
// and another address is not affected.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { assertProblem } = require('../helpers/assert');

let siteKey;
const fx = suite({ env: { PARLEY_SESSION_RATE_PER_MINUTE: '3' }, fastHashes: false });
const { test } = fx;

fx.setup(async () => {
  siteKey = (await fx.pg.query('SELECT public_key FROM sites ORDER BY id LIMIT 1')).rows[0].public_key;
});

const session = (localAddress) =>
  request(fx.srv, { method: 'POST', path: '/api/widget/session', headers: { Origin: fx.srv.origin }, json: { site_key: siteKey }, localAddress });

test('the fourth session in a minute from one address is refused with Retry-After; others go on', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await session('127.0.0.5')).status, 200);
  const refused = await session('127.0.0.5');
  assertProblem(refused, 429, 'rate_limited');
  assert.match(String(refused.headers['retry-after']), /^[1-9][0-9]*$/);
  assert.ok(Number(refused.headers['retry-after']) <= 60);
  const before = (await fx.pg.query('SELECT count(*)::int AS n FROM visitors')).rows[0].n;
  assert.equal(before, 3, 'the refused request created no visitor');
  assert.equal((await session('127.0.0.6')).status, 200, 'another address is not affected');
});
