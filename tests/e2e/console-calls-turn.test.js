'use strict';
// A console call whose media must go through TURN (PARLEY_CALL_RELAY_ONLY):
// the console takes the ICE servers and the relay policy parleyd gives it
// (GET /api/calls/ice-servers) and the media still flows, through a real
// coturn on loopback (tests/helpers/coturn.js). The visitor's end
// (tests/helpers/call-peer.js) asks for its own servers as the widget does,
// and sees only relay candidates on both sides of the pair in use: the
// console offered no address of its own.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectAgent, waitFor } = require('../helpers/fixtures');
const { request } = require('../helpers/http');
const { openConsole, loginUI, MEDIA_ARGS } = require('../helpers/browser');
const { visitorWithAgent } = require('../helpers/visitors');
const { visitorPeer } = require('../helpers/call-peer');
const { startCoturn } = require('../helpers/coturn');

let turn;
const fx = suite({
  browser: 'console',
  browserArgs: MEDIA_ARGS,
  env: async () => {
    turn = await startCoturn();
    return {
      PARLEY_TURN_SECRET: turn.secret,
      PARLEY_TURN_URLS: `${turn.url}?transport=udp`,
      PARLEY_CALL_RELAY_ONLY: '1',
      PARLEY_AGENT_GRACE_SECONDS: '86400',
    };
  },
});
const { test } = fx;

fx.teardown(async () => {
  if (turn) await turn.stop();
});

test('relay only: the console calls through TURN and no host address is used', { timeout: 120000 }, async () => {
  const team = await createTeam(fx.pg);
  const agent = await createAgent(fx.pg, { name: 'Rhea Relay', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://shop.example'] });
  const v = await visitorWithAgent(fx.srv, site);
  const cid = (await v.ack({ type: 'conversation.start', prechat: { name: 'Tess Turn' } })).conversation.id;
  const ws = await connectAgent(fx.srv, agent);
  await ws.ack({ type: 'conversation.accept', conversation_id: cid });
  await ws.close();

  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  const page = C.page;
  await loginUI(page, agent);
  await page.goto(`${fx.srv.origin}/console/#/mine/${cid}`);
  await page.click('[data-testid=call-voice]');
  const ring = await v.nextType('call.updated', (m) => m.call.state === 'ringing', 10000);
  await v.ack({ type: 'call.accept', call_id: ring.call.id });

  // The visitor's servers, as the widget asks for them.
  const res = await request(fx.srv, { path: '/api/widget/calls/ice-servers', headers: { Authorization: `Bearer ${v.token}` } });
  assert.equal(res.status, 200);
  assert.equal(res.json.ice_transport_policy, 'relay');
  const vp = await visitorPeer(fx.browser, fx.srv, v, ring.call.id, { iceServers: res.json.ice_servers, iceTransportPolicy: 'relay' });
  await vp.start({ audio: true, video: false });
  await page.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 30000 });
  await vp.waitReceiving(['audio'], 20000);
  const pair = await waitFor(() => vp.pairTypes(), { timeoutMs: 10000, what: 'the candidate pair in use' });
  assert.deepEqual(pair, { local: 'relay', remote: 'relay' });

  await page.click('[data-testid=call-hangup]');
  await v.nextType('call.updated', (m) => m.call.id === ring.call.id && m.call.state === 'ended', 10000);
  await vp.close();
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});
