'use strict';
// parleyd survives a PostgreSQL restart: the first requests after it succeed
// without any retry on the client side.

const assert = require('node:assert/strict');

const { addAgent } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { assertJson, assertStatus } = require('../helpers/assert');

const PASSWORD = 'correct horse battery staple';
const EMAIL = 'restart@example.com';

const fx = suite({ fastHashes: false });
const { test } = fx;

fx.setup(async () => {
  await addAgent(fx.pg.url, { email: EMAIL, name: 'Restart', role: 'agent', password: PASSWORD });
});

test('readyz, an old session and a new login all work right after a database restart', async () => {
  const first = await login(fx.srv, EMAIL, PASSWORD);
  assertStatus(first.res, 200);
  // Use the pool a little so that it holds connections that the restart will kill.
  await Promise.all([1, 2, 3, 4].map(() => request(fx.srv, { path: '/api/auth/me', jar: first.jar })));
  assertStatus(await request(fx.srv, { path: '/readyz' }), 200);

  const pid = (await fx.pg.query('SELECT pg_postmaster_start_time()::text AS t')).rows[0].t;
  await fx.pg.restart();
  const pid2 = (await fx.pg.query('SELECT pg_postmaster_start_time()::text AS t')).rows[0].t;
  assert.notEqual(pid2, pid, 'PostgreSQL did not restart');

  // One try each: no client-side retries.
  const ready = assertJson(await request(fx.srv, { path: '/readyz' }), 200);
  assert.equal(ready.status, 'ready');
  const me = assertJson(await request(fx.srv, { path: '/api/auth/me', jar: first.jar }), 200);
  assert.equal(me.agent.email, EMAIL);
  const again = await login(fx.srv, EMAIL, PASSWORD);
  assertStatus(again.res, 200);
  assert.ok(again.cookie && again.cookie !== first.cookie);
});
