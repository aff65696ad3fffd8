'use strict';
// Keep-alive on WebSockets, now that parleyd's own writer is the only one
// that writes to a socket (civetweb's ping-pong is off):
//  - a socket silent for PARLEY_WS_IDLE_TIMEOUT_MS gets a ping; a client
//    that answers (browsers do on their own) stays connected however long
//    it is idle;
//  - one that leaves three pings unanswered is closed (1001);
//  - a client's ping is answered with a pong carrying its payload.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createSite, connectVisitor } = require('../helpers/fixtures');

const fx = suite({ env: { PARLEY_WS_IDLE_TIMEOUT_MS: '1000' } });
const { test } = fx;

let site;
fx.setup(async () => {
  const team = await createTeam(fx.pg, 'Keepalive');
  site = await createSite(fx.pg, { teamId: team });
});

test('an idle socket that answers pings stays open; a client ping gets its pong', async () => {
  const v = await connectVisitor(fx.srv, site);
  let pings = 0;
  v.ws.on('ping', () => pings++);
  await new Promise((res) => setTimeout(res, 6000));
  assert.ok(pings >= 3, `pings received while idle: ${pings}`);
  assert.equal(v.closeInfo, null, 'still open');
  const pong = new Promise((res) => v.ws.once('pong', (data) => res(String(data))));
  v.ws.ping('are you there');
  assert.equal(await pong, 'are you there');
  assert.equal((await v.request({ type: 'ping' })).type, 'pong');
  v.close();
});

test('a socket that leaves three pings unanswered is closed (1001)', async () => {
  const v = await connectVisitor(fx.srv, site, { autoPong: false });
  let pings = 0;
  v.ws.on('ping', () => pings++);
  const t0 = Date.now();
  const info = await Promise.race([v.closed, new Promise((res) => setTimeout(() => res(null), 15000))]);
  assert.ok(info, 'closed within 15 s');
  assert.equal(info.code, 1001);
  assert.equal(info.reason, 'no answer to pings');
  assert.equal(pings, 3);
  assert.ok(Date.now() - t0 >= 3000, 'not before three pings had their time');
});
