'use strict';
// Voice and video calls in the console (issue 17), end to end: Chromium with
// its fake camera and microphone runs the console; the visitor is a socket
// driven from here plus ui-shared/call.js in a page of its own
// (tests/helpers/call-peer.js), so that real media flows both ways
// through parleyd's signalling. An agent calls and the visitor answers and
// shares the screen; a visitor's request rings over another view, is
// answered in one tab while the other says so, survives a dropped socket
// (call.rejoin) and is hung up by the visitor; declines, cancels and missed
// calls leave their event lines; Admin → Sites turns calls off. Screenshots
// of each view at both sizes in both languages (PARLEY_SCREENSHOTS=all).

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectAgent, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, waitConnectedUI, screenshotPairs, SIZES, LOCALES, MEDIA_ARGS, ONLY_MAKE_SCREENSHOTS } = require('../helpers/browser');
const { visitorWithAgent, UA } = require('../helpers/visitors');
const { visitorPeer } = require('../helpers/call-peer');
const { startTcpProxy } = require('../helpers/tcp-proxy');

let proxy;
const fx = suite({ browser: 'console', browserArgs: MEDIA_ARGS, env: { PARLEY_CALL_RING_SECONDS: '5', PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;

fx.setup(async () => {
  proxy = await startTcpProxy({ target: fx.srv.port });
});

fx.teardown(async () => {
  if (proxy) await proxy.close();
});

/** A team, an admin agent in it and a site whose visitors may ask for calls. */
async function workspace(name) {
  const team = await createTeam(fx.pg);
  const agent = await createAgent(fx.pg, { name, role: 'admin', teams: [team] });
  const site = await createSite(fx.pg, { name: `${name}’s shop`, teamId: team, origins: ['https://shop.example'] });
  await fx.pg.query(`UPDATE sites SET widget_settings = widget_settings || '{"calls":"visitor"}' WHERE id = $1`, [site.id]);
  return { team, agent, site };
}

/** A visitor's conversation, assigned to the agent (accepted over a socket of theirs). */
async function assignedChat(site, agent, visitorName, firstMessage) {
  const v = await visitorWithAgent(fx.srv, site, { userAgent: UA.macSafari });
  const cid = (await v.ack({ type: 'conversation.start', prechat: { name: visitorName } })).conversation.id;
  await v.ack({ type: 'message.send', conversation_id: cid, body: firstMessage, client_msg_id: `m-${cid}` });
  const ws = await connectAgent(fx.srv, agent);
  await ws.ack({ type: 'conversation.accept', conversation_id: cid });
  await ws.close();
  return { v, cid };
}

/** The visitor told of the agent's call ringing (their own requests ring too: not those). */
const ringing = (v) => v.nextType('call.updated', (m) => m.call.state === 'ringing' && m.call.caller === 'agent', 10000);
const ended = (v, id) => v.nextType('call.updated', (m) => m.call.id === id && m.call.state === 'ended', 15000);

/** The console's remote <video> in a tile shows frames. */
const tilePlaying = (page, testid) =>
  page.waitForFunction(
    (sel) => {
      const el = document.querySelector(`[data-testid=${sel}] video`);
      return !!el && el.videoWidth > 0 && el.readyState >= 2;
    },
    testid,
    { timeout: 20000 },
  );

const eventLine = (page, code) => page.locator(`[data-testid=conversation] [data-testid=event][data-event=${code}]`).last();

test('the agent calls with video: the visitor answers, shares the screen; mute, camera, ask for the screen, chat, hang up', { timeout: 150000 }, async () => {
  const { agent, site } = await workspace('Ada Voss');
  const { v, cid } = await assignedChat(site, agent, 'Vera Caller', 'Can you show me where the setting is?');

  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  const page = C.page;
  await loginUI(page, agent);
  await page.goto(`${fx.srv.origin}/console/#/mine/${cid}`);
  await page.waitForSelector('[data-testid=message]:has-text("setting is")');

  // The header offers both kinds of call.
  await page.waitForSelector('[data-testid=call-voice]');
  await page.click('[data-testid=call-video]');
  await page.waitForSelector('[data-testid=call-panel][data-phase=ringing]');
  await page.waitForSelector('[data-testid=call-cancel]');
  assert.equal(await page.locator('[data-testid=call-voice]').count(), 0, 'no second call while one rings');
  const ring = await ringing(v);
  assert.equal(ring.call.caller, 'agent');
  assert.equal(ring.call.media, 'video');
  assert.equal(ring.call.agent.name, 'Ada Voss');
  const callId = ring.call.id;
  await eventLine(page, 'call_offered').waitFor();
  assert.equal(await eventLine(page, 'call_offered').locator('.event-text').innerText(), 'Ada Voss started a video call');

  // The visitor answers with camera and microphone.
  await v.ack({ type: 'call.accept', call_id: callId });
  const vp = await visitorPeer(fx.browser, fx.srv, v, callId);
  const got = await vp.start({ audio: true, video: true });
  assert.deepEqual([got.audio, got.video], [true, true]);
  await page.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 20000 });
  await vp.waitState('connected');
  // Media both ways: the visitor receives the agent's sound and picture...
  await vp.waitReceiving(['audio', 'video']);
  // ...and the console shows the visitor's, with the sound playing from the shell.
  await tilePlaying(page, 'call-remote-video');
  await page.waitForSelector('[data-testid=call-local-video] video');
  assert.ok(
    await page.evaluate(() => [...document.querySelectorAll('[data-testid=call-audio]')].some((a) => a.srcObject && a.srcObject.getAudioTracks().length > 0)),
  );
  await page.waitForSelector('[data-testid=call-timer]');
  await page.waitForSelector('[data-testid=call-quality]:not([data-quality=unknown])', { timeout: 15000 });

  // Ask the visitor for their screen; the visitor shares it.
  await page.click('[data-testid=call-ask-screen]');
  await vp.waitControl((c) => c.kind === 'screen_request');
  assert.equal(await vp.run(() => window.peer.shareScreen()), true);
  await tilePlaying(page, 'call-remote-screen');
  // The visitor's camera moves aside; the ask button goes while they share.
  await page.waitForSelector('[data-testid=call-remote-video].call-side');
  assert.equal(await page.locator('[data-testid=call-ask-screen]').count(), 0);

  // Mute and camera: the visitor's engine hears of both.
  await page.click('[data-testid=call-mute]');
  await waitFor(async () => (await vp.remote()).audio === false, { what: 'the visitor sees the agent muted' });
  await page.click('[data-testid=call-mute]');
  await waitFor(async () => (await vp.remote()).audio === true, { what: 'the visitor hears the agent again' });
  await page.click('[data-testid=call-camera]');
  await waitFor(async () => (await vp.remote()).video === false, { what: 'the agent’s camera off' });
  assert.equal(await page.locator('[data-testid=call-local-video]').count(), 0);
  await page.click('[data-testid=call-camera]');
  await waitFor(async () => (await vp.remote()).video === true, { what: 'the agent’s camera on' });

  // The agent shares a screen too, then stops.
  await page.click('[data-testid=call-share]');
  await page.waitForSelector('[data-testid=call-local-screen]');
  await waitFor(async () => (await vp.remote()).screen === true, { what: 'the visitor receives the agent’s screen' });
  await page.click('[data-testid=call-share]');
  await waitFor(async () => (await vp.remote()).screen === false, { what: 'the agent’s screen gone' });

  // Devices: the menu lists the fake microphone and camera.
  await page.click('[data-testid=call-devices]');
  await page.waitForSelector('[data-testid=call-devices-menu]');
  assert.ok((await page.locator('[data-testid=call-device-audio] option').count()) >= 1);
  assert.ok((await page.locator('[data-testid=call-device-video] option').count()) >= 1);
  await page.keyboard.press('Escape');

  // The chat goes on during the call.
  const input = page.locator('[data-testid=composer-input]');
  assert.ok(await input.isVisible());
  await input.fill('I can see your screen now.');
  await input.press('Enter');
  await v.nextType('message.created', (m) => m.message.body === 'I can see your screen now.', 10000);

  // Elsewhere in the console the strip leads back; the sound keeps playing.
  await page.click('[data-testid=nav-queue]');
  await page.waitForSelector('[data-testid=call-strip]');
  assert.equal((await page.locator('[data-testid=call-audio]').count()) >= 1, true);
  await page.click('[data-testid=call-back]');
  await page.waitForSelector('[data-testid=call-panel][data-phase=connected]');

  // The timer counts from the connection.
  assert.match(await page.locator('[data-testid=call-timer]').innerText(), /^0:(0[1-9]|[1-5]\d)$/);

  // Hang up: both ends are told; the thread says how long it lasted.
  await page.click('[data-testid=call-hangup]');
  const end = await ended(v, callId);
  assert.equal(end.call.end_reason, 'hangup');
  assert.equal(end.call.ended_by, 'agent');
  await page.waitForSelector('[data-testid=call-panel]', { state: 'detached' });
  await eventLine(page, 'call_ended').waitFor();
  assert.match(await eventLine(page, 'call_ended').locator('.event-text').innerText(), /^Video call ended · \d+s$/);
  await page.waitForSelector('[data-testid=call-video]');
  await vp.close();
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test(
  'a visitor asks for a voice call: it rings over another view, is answered in one tab, survives a dropped socket; the visitor hangs up',
  { timeout: 150000 },
  async () => {
    const { agent, site } = await workspace('Bo Lindqvist');
    const { v, cid } = await assignedChat(site, agent, 'Milo Request', 'Could you call me?');

    // Tab 1 reaches parleyd through the proxy (to cut its socket); tab 2 directly.
    const A = await openConsole(fx.browser, fx.srv, { origin: proxy.origin, viewport: { width: 1280, height: 800 } });
    const pa = A.page;
    await loginUI(pa, agent);
    await pa.goto(`${proxy.origin}/console/#/visitors`);
    await waitConnectedUI(pa);
    const B = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
    const pb = B.page;
    await loginUI(pb, agent);
    await pb.goto(`${fx.srv.origin}/console/#/mine/${cid}`);
    await pb.waitForSelector('[data-testid=message]:has-text("call me")');

    const start = await v.ack({ type: 'call.start', conversation_id: cid, media: 'audio' });
    const callId = start.call.id;
    // Both tabs ring, without a sound: a card over whatever is on screen, and the title.
    for (const p of [pa, pb]) await p.waitForSelector(`[data-testid=ring-card][data-call="${callId}"]`);
    assert.match(await pa.locator('[data-testid=ring-card]').innerText(), /Incoming voice call[\s\S]*Milo Request/i);
    await waitFor(async () => /Milo Request is calling/.test(await pa.title()), { what: 'the ringing title' });

    // Tab 1 answers: it opens the conversation; tab 2's card goes and its header says where the call is.
    await pa.click('[data-testid=ring-accept]');
    await pa.waitForSelector(`[data-testid=conversation][data-id="${cid}"] [data-testid=call-panel][data-media=audio]`);
    await v.nextType('call.updated', (m) => m.call.id === callId && m.call.state === 'active');
    const vp = await visitorPeer(fx.browser, fx.srv, v, callId);
    await vp.start({ audio: true, video: false });
    await pa.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 20000 });
    await vp.waitReceiving(['audio']);
    await pb.waitForSelector('[data-testid=ring-card]', { state: 'detached' });
    await pb.waitForSelector('[data-testid=call-elsewhere]');
    assert.equal(await pb.locator('[data-testid=call-voice]').count(), 0);
    assert.doesNotMatch(await pa.title(), /calling/);
    await eventLine(pa, 'call_requested').waitFor();
    assert.equal(await eventLine(pa, 'call_requested').locator('.event-text').innerText(), 'The visitor requested a voice call');
    assert.equal(await eventLine(pa, 'call_accepted').locator('.event-text').innerText(), 'Bo Lindqvist answered the call');

    // Tab 1's socket drops; the media goes on; the new socket rejoins the call,
    // so its signals reach the visitor again (mute is a control signal).
    proxy.setDown(true);
    proxy.dropAll();
    await pa.waitForSelector('[data-testid=connection]:not([data-state=open])');
    await new Promise((r) => setTimeout(r, 1500));
    proxy.setDown(false);
    await waitConnectedUI(pa, 20000);
    await pa.waitForSelector('[data-testid=call-panel]');
    await pa.click('[data-testid=call-mute]');
    await waitFor(async () => (await vp.remote()).audio === false, { timeoutMs: 10000, what: 'a control after the rejoin' });
    assert.equal(await vp.run(() => window.peer.pc.connectionState), 'connected');

    // The visitor hangs up: the panel goes with a word.
    await v.ack({ type: 'call.hangup', call_id: callId });
    await pa.waitForSelector('[data-testid=call-panel]', { state: 'detached' });
    await pa.waitForSelector('.toast:has-text("The visitor hung up.")');
    await pb.waitForSelector('[data-testid=call-elsewhere]', { state: 'detached' });
    await pb.waitForSelector('[data-testid=call-voice]');
    await vp.close();
    assert.deepEqual(await A.problems(), []);
    assert.deepEqual(await B.problems(), []);
    await A.context.close();
    await B.context.close();
  },
);

test('declined, cancelled and missed calls: words for the agent and event lines', { timeout: 150000 }, async () => {
  const { agent, site } = await workspace('Cy Okafor');
  const { v, cid } = await assignedChat(site, agent, 'Nia Nocall', 'Hello');
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  const page = C.page;
  await loginUI(page, agent);
  await page.goto(`${fx.srv.origin}/console/#/mine/${cid}`);
  await page.waitForSelector('[data-testid=call-voice]');

  // The visitor declines the agent's call.
  await page.click('[data-testid=call-voice]');
  let r = await ringing(v);
  await v.ack({ type: 'call.decline', call_id: r.call.id });
  await page.waitForSelector('.toast:has-text("The visitor declined the call.")');
  await page.waitForSelector('[data-testid=call-panel]', { state: 'detached' });
  await eventLine(page, 'call_declined').waitFor();
  assert.equal(await eventLine(page, 'call_declined').locator('.event-text').innerText(), 'The visitor declined the call');

  // The agent cancels while it rings.
  await page.click('[data-testid=call-voice]');
  r = await ringing(v);
  await page.click('[data-testid=call-cancel]');
  assert.equal((await ended(v, r.call.id)).call.end_reason, 'cancelled');
  await eventLine(page, 'call_cancelled').waitFor();
  assert.equal(await eventLine(page, 'call_cancelled').locator('.event-text').innerText(), 'Cy Okafor cancelled the call');

  // The agent declines the visitor's request from the card, which a reload
  // finds again (the live calls come with the conversation list).
  let req = await v.ack({ type: 'call.start', conversation_id: cid, media: 'video' });
  await page.waitForSelector('[data-testid=ring-card]');
  await page.reload();
  await waitConnectedUI(page);
  await page.waitForSelector(`[data-testid=ring-card][data-call="${req.call.id}"][data-media=video]`);
  await page.click('[data-testid=ring-decline]');
  assert.equal((await ended(v, req.call.id)).call.end_reason, 'declined');
  await page.waitForSelector('[data-testid=ring-card]', { state: 'detached' });
  await waitFor(async () => (await eventLine(page, 'call_declined').locator('.event-text').innerText()) === 'Cy Okafor declined the call', {
    what: 'the agent’s decline line',
  });

  // Nobody answers the agent (5 s ring here): missed.
  await page.click('[data-testid=call-voice]');
  r = await ringing(v);
  assert.equal((await ended(v, r.call.id)).call.end_reason, 'missed');
  await page.waitForSelector('.toast:has-text("The visitor did not answer.")', { timeout: 20000 });
  await eventLine(page, 'call_missed').waitFor();
  assert.equal(await eventLine(page, 'call_missed').locator('.event-text').innerText(), 'Missed voice call');

  // Nobody answers the visitor: the card goes, the agent is told.
  req = await v.ack({ type: 'call.start', conversation_id: cid, media: 'audio' });
  await page.waitForSelector('[data-testid=ring-card]');
  await page.waitForSelector('.toast:has-text("Missed call from Nia Nocall")', { timeout: 20000 });
  await page.waitForSelector('[data-testid=ring-card]', { state: 'detached' });
  assert.equal((await ended(v, req.call.id)).call.end_reason, 'missed');
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('Admin → Sites → Calls: off takes the call buttons away, for every agent (the conversation says what its site allows)', { timeout: 90000 }, async () => {
  const { team, agent, site } = await workspace('Dee Admin');
  const { cid } = await assignedChat(site, agent, 'Otto Offsite', 'Hi');
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  const page = C.page;
  await loginUI(page, agent);
  await page.goto(`${fx.srv.origin}/console/#/admin/sites`);
  await page.locator('[data-testid=site-item]', { hasText: 'Dee Admin’s shop' }).click();
  const select = page.locator('[data-testid=ws-calls]');
  assert.equal(await select.inputValue(), 'visitor');
  assert.deepEqual(await select.locator('option').allInnerTexts(), ['Off', 'Agents can call', 'Visitors can also request a call']);
  // What the server gives every site, read-only: here no TURN server, and its timeouts.
  await page.locator('[data-testid=calls-server]').waitFor();
  assert.match(await page.locator('[data-testid=calls-turn]').innerText(), /^None: calls connect directly/);
  assert.equal(await page.locator('[data-testid=calls-stun]').innerText(), 'None');
  assert.equal(
    await page.locator('[data-testid=calls-rules]').innerText(),
    'A call rings for 5 s, ends 20 s after one side is gone, and lasts at most 240 min.',
  );
  await select.selectOption('off');
  await page.click('[data-testid=site-save]');
  await waitFor(async () => (await fx.pg.query('SELECT widget_settings->>$2 AS v FROM sites WHERE id = $1', [site.id, 'calls'])).rows[0].v === 'off', {
    what: 'calls off in the database',
  });
  await page.goto(`${fx.srv.origin}/console/#/mine/${cid}`);
  await page.waitForSelector('[data-testid=message]:has-text("Hi")');
  await page.waitForSelector('[data-testid=close]');
  assert.equal(await page.locator('[data-testid=call-voice]').count(), 0);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();

  // An agent who may not read sites is not offered the call either, and nothing rings.
  const eli = await createAgent(fx.pg, { name: 'Eli Plain', teams: [team] });
  const { v, cid: cid2 } = await assignedChat(site, eli, 'Pia Plain', 'Hello there');
  const E = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  await loginUI(E.page, eli);
  await E.page.goto(`${fx.srv.origin}/console/#/mine/${cid2}`);
  await E.page.waitForSelector('[data-testid=message]:has-text("Hello there")');
  await E.page.waitForSelector('[data-testid=close]');
  assert.equal(await E.page.locator('[data-testid=call-voice], [data-testid=call-menu]').count(), 0);
  assert.equal(v.seen((f) => f.type === 'call.updated').length, 0);
  assert.deepEqual(await E.problems(), []);
  await E.context.close();
});

test(
  'screenshots: call buttons, ringing card, calling out, in-call audio, in-call video with a shared screen, the admin setting',
  { timeout: 300000, ...ONLY_MAKE_SCREENSHOTS },
  async () => {
    const { agent, site } = await workspace('Alex Morgan');
    for (const [[size, viewport], [tag, locale]] of screenshotPairs(SIZES, LOCALES)) {
      const { v, cid } = await assignedChat(site, agent, 'Maria Garcia', 'Hi! The grinder makes a strange noise, can I show you?');
      const { cid: other } = await assignedChat(site, agent, 'Tom Becker', 'Which beans for espresso?');
      const C = await openConsole(fx.browser, fx.srv, { viewport, locale });
      const page = C.page;
      await loginUI(page, agent);
      const name = (view) => `console-call-${view}-${size}-${tag}`;
      await page.goto(`${fx.srv.origin}/console/#/mine/${cid}`);
      await page.waitForSelector('[data-testid=message]:has-text("strange noise")');
      await page.locator('[data-testid=call-video]:visible, [data-testid=call-menu]:visible').first().waitFor();
      await shot(page, name('buttons'));

      // Calling out (video: the agent's preview while it rings). A phone has
      // one call button with a menu.
      if (await page.locator('[data-testid=call-video]').isVisible()) await page.click('[data-testid=call-video]');
      else {
        await page.click('[data-testid=call-menu]');
        await page.waitForSelector('[data-testid=call-menu-list]');
        await shot(page, name('menu'));
        await page.click('[data-testid=call-menu-video]');
      }
      const r = await ringing(v);
      await page.waitForSelector('[data-testid=call-local-video] video');
      await page.waitForTimeout(300);
      await shot(page, name('calling'));

      // Answered, with the visitor's camera and screen.
      await v.ack({ type: 'call.accept', call_id: r.call.id });
      let vp = await visitorPeer(fx.browser, fx.srv, v, r.call.id);
      await vp.start({ audio: true, video: true });
      await page.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 20000 });
      await vp.run(() => window.peer.shareScreen());
      await tilePlaying(page, 'call-remote-screen');
      await tilePlaying(page, 'call-remote-video');
      await page.waitForSelector('[data-testid=call-quality]:not([data-quality=unknown])', { timeout: 15000 });
      await shot(page, name('video-screen'));
      await page.click('[data-testid=call-hangup]');
      await ended(v, r.call.id);
      await vp.close();

      // The visitor asks for a voice call while the agent reads another chat.
      await page.goto(`${fx.srv.origin}/console/#/mine/${other}`);
      await page.waitForSelector('[data-testid=message]:has-text("espresso")');
      const req = await v.ack({ type: 'call.start', conversation_id: cid, media: 'audio' });
      await page.waitForSelector('[data-testid=ring-card]');
      await shot(page, name('ringing'));
      await page.click('[data-testid=ring-accept]');
      vp = await visitorPeer(fx.browser, fx.srv, v, req.call.id);
      await vp.start({ audio: true, video: false });
      await page.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 20000 });
      await page.waitForSelector('[data-testid=call-quality]:not([data-quality=unknown])', { timeout: 15000 });
      await shot(page, name('audio'));
      await page.click('[data-testid=call-hangup]');
      await ended(v, req.call.id);
      await vp.close();
      await page.waitForSelector('[data-testid=event][data-event=call_ended]');
      await shot(page, name('lines'));

      // The admin setting.
      await page.goto(`${fx.srv.origin}/console/#/admin/sites`);
      await page.locator('[data-testid=site-item]', { hasText: 'Alex Morgan’s shop' }).click();
      await page.locator('[data-testid=site-calls]').scrollIntoViewIfNeeded();
      await shot(page, name('admin'));
      assert.deepEqual(await C.problems(), [], `${size} ${tag}`);
      await C.context.close();
      await v.close();
    }
  },
);
