'use strict';
// Calls in the widget (issue 17) end to end in Chromium with its fake camera
// and microphone: the agent's end is ui-shared/call.js in a page of its own
// (tests/helpers/call-peer.js) signalling over /ws/agent from node; the
// visitor's end is the widget. Covers: the call chunk loads only when a call
// rings; the incoming card (a minimised widget opens); accepting with the
// camera; media both ways; mute and camera reach the agent; the agent's
// screen-share request, sharing and stopping; chatting during the call;
// hanging up and the event lines; declining (a tab opened while it rings
// shows it too); an audio call; the visitor
// asking for a call (site setting `calls: visitor`); a socket that drops
// mid-call rejoins it; and screenshots of every view (PARLEY_SCREENSHOTS=all:
// en and zh-CN at 1280×800 and 390×844).

const assert = require('node:assert/strict');

const { createAgent, connectAgent, waitFor } = require('../helpers/fixtures');
const { MEDIA_ARGS, LOCALES, SIZES, screenshotPairs, ONLY_MAKE_SCREENSHOTS } = require('../helpers/browser');
const { agentPeer } = require('../helpers/call-peer');
const { widgetSuite, widgetFrame, openWidget, launcher, screenshot, setSettings, cspViolations } = require('../helpers/widget');

const SETTINGS = { color: '#0f766e', calls: 'agent' };
const stack = widgetSuite({ settings: SETTINGS, browserArgs: MEDIA_ARGS, proxy: true });
const { test } = stack;

let ann;
let agent;

stack.setup(async () => {
  ann = await createAgent(stack.pg, { name: 'Ana Souza', teams: [stack.team] });
  agent = await connectAgent(stack.srv, ann, { status: 'online' });
});

/** A visitor with an open widget and a conversation assigned to Ana. */
async function visitorChat({ locale = 'en-US', viewport = { width: 1280, height: 800 }, text = 'Hello, can we talk?' } = {}) {
  const page = await stack.newPage({ locale, viewport });
  const chunks = [];
  page.on('request', (r) => {
    if (/\/widget\/callui-/.test(r.url())) chunks.push(r.url());
  });
  const frame = await openWidget(page);
  await frame.locator('#pw-first').fill(text);
  await frame.locator('.pw-form button[type=submit]').click();
  const m = await agent.next((f) => f.type === 'message.created' && f.message.body === text, 10000, 'the visitor message');
  const cid = m.message.conversation_id;
  await frame.locator('.pw-title', { hasText: 'Ana Souza' }).waitFor();
  return { page, frame, cid, chunks };
}

const updated = (id, state) => (f) => f.type === 'call.updated' && f.call.id === id && f.call.state === state;

/** Ana rings the visitor; resolves the call. */
async function ring(cid, media) {
  const r = await agent.ack({ type: 'call.start', conversation_id: cid, media });
  return r.call;
}

/** Once the visitor accepted: Ana's end, with her media, connected. */
async function answerAsAgent(call, media) {
  await agent.next(updated(call.id, 'active'), 15000, 'the call active at the agent');
  const ap = await agentPeer(stack.browser, stack.srv, agent, call.id);
  await ap.start({ audio: true, video: media === 'video' });
  await ap.waitState('connected', 20000);
  return ap;
}

const callEvents = async (cid) =>
  (await stack.pg.query("SELECT meta->>'event' AS e FROM messages WHERE conversation_id = $1 AND meta->>'event' LIKE 'call_%' ORDER BY seq", [cid])).rows.map(
    (r) => r.e,
  );

test(
  'an agent rings: the chunk loads, the minimised widget opens, accept with camera, media both ways, controls, screen share, chat, hang-up',
  { timeout: 120000 },
  async () => {
    const { page, frame, cid, chunks } = await visitorChat();
    // Nothing of the call UI before a call.
    await page.waitForTimeout(300);
    assert.deepEqual(chunks, [], 'the call chunk must not load before a call');
    assert.equal(await frame.locator('[data-testid=call-incoming]').count(), 0);

    // Minimised: the ring opens it.
    await launcher(page).click();
    await page.waitForFunction(() => getComputedStyle(document.getElementById('parley-widget').shadowRoot.querySelector('iframe')).visibility === 'hidden');
    const call = await ring(cid, 'video');
    const card = frame.locator('[data-testid=call-incoming]');
    await card.waitFor({ timeout: 10000 });
    assert.equal(chunks.length, 1, 'the chunk loads when the call rings');
    await page.waitForFunction(() => getComputedStyle(document.getElementById('parley-widget').shadowRoot.querySelector('iframe')).visibility === 'visible');
    assert.match(await card.textContent(), /Ana Souza is calling/);
    assert.match(await card.textContent(), /Video call/);
    await card.getByRole('button', { name: 'Accept audio only' }).waitFor();
    await card.getByRole('button', { name: 'Decline' }).waitFor();
    // The composer is still there under the card.
    await frame.locator('#pw-text').waitFor();

    await card.getByRole('button', { name: 'Accept with camera' }).click();
    const ap = await answerAsAgent(call, 'video');
    const view = frame.locator('[data-testid=call-view][data-phase=active]');
    await view.waitFor({ timeout: 15000 });
    // Media both ways: the agent gets the visitor's mic and camera; the widget shows Ana's video and the preview.
    await ap.waitReceiving(['audio', 'video']);
    await ap.waitRemote((r) => r.camera && r.audio && r.video, 'the visitor camera at the agent');
    await frame.locator('[data-testid=call-stage] video').first().waitFor();
    await frame.locator('[data-testid=call-preview] video').waitFor();
    await waitFor(
      () =>
        frame
          .locator('[data-testid=call-stage] .pc-video')
          .first()
          .evaluate((v) => v.srcObject && v.srcObject.getVideoTracks().length === 1 && v.videoWidth > 0),
      { timeoutMs: 10000, what: "Ana's video playing in the widget" },
    );
    await waitFor(async () => /^\d+:\d\d/.test(await frame.locator('[data-testid=call-status]').textContent()), { what: 'the call timer' });
    // The engine's stats from the widget's own pc.
    const st = await frame.evaluate(() => window.__callStats && window.__callStats());
    assert.equal(st, undefined, 'no test hooks in the widget');

    // Mute and camera reach the agent as controls.
    await frame.locator('[data-testid=call-mute]').click();
    await ap.waitControl((c) => c.kind === 'media' && c.audio === false && c.video === true);
    await ap.waitRemote((r) => !r.audio, 'the visitor muted at the agent');
    await frame.locator('[data-testid=call-mute]').click();
    await frame.locator('[data-testid=call-camera]').click();
    await ap.waitControl((c) => c.kind === 'media' && c.audio === true && c.video === false);
    await ap.waitRemote((r) => r.audio && !r.video, 'the visitor camera off at the agent');
    await frame.locator('[data-testid=call-preview]').waitFor({ state: 'detached' });
    await frame.locator('[data-testid=call-camera]').click();
    await ap.waitRemote((r) => r.video, 'the camera back on');

    // Ana asks for the screen; "Not now" and then "Share".
    await ap.run(() => window.peer.requestScreen());
    const askCard = frame.locator('[data-testid=call-share-ask]');
    await askCard.waitFor();
    assert.match(await askCard.textContent(), /Ana Souza asks you to share your screen/);
    await askCard.getByRole('button', { name: 'Not now' }).click();
    await askCard.waitFor({ state: 'detached' });
    await ap.run(() => window.peer.requestScreen());
    await askCard.getByRole('button', { name: 'Share' }).click();
    await ap.waitRemote((r) => r.screen && r.camera && r.video, 'the screen beside the camera at the agent');
    await ap.waitControl((c) => c.kind === 'media' && c.screen === true);
    await frame.locator('.pc-badge', { hasText: 'You are sharing your screen' }).waitFor();
    await frame.locator('[data-testid=call-stop-share]').click();
    await ap.waitRemote((r) => !r.screen && r.camera, 'the screen gone at the agent');

    // The agent shares hers: the widget shows it (contain), her camera as a thumbnail.
    await ap.run(() => window.peer.shareScreen());
    await frame.locator('[data-testid=call-stage] .pc-fit').waitFor();
    await frame.locator('.pc-thumb-l video').waitFor();
    await ap.run(() => window.peer.stopScreen());
    await frame.locator('[data-testid=call-stage] .pc-fit').waitFor({ state: 'detached' });

    // Chat goes on during the call.
    await frame.locator('#pw-text').fill('I can see you!');
    await frame.locator('#pw-text').press('Enter');
    await agent.next((f) => f.type === 'message.created' && f.message.body === 'I can see you!', 10000, 'a message during the call');

    // Collapse and expand the video.
    await frame.locator('[data-testid=call-expand]').click();
    await frame.locator('[data-testid=call-stage]').waitFor({ state: 'detached' });
    await frame.locator('[data-testid=call-expand]').click();
    await frame.locator('[data-testid=call-stage]').waitFor();

    // Devices: the fake mic and camera are listed; choosing one keeps the call going.
    await frame.locator('[data-testid=call-devices-btn]').click();
    const mics = frame.locator('[data-testid=call-dev-audio] option');
    await mics.first().waitFor({ state: 'attached' });
    assert.ok((await mics.count()) >= 1);
    const second = await frame.locator('[data-testid=call-dev-video] option').last().getAttribute('value');
    await frame.locator('[data-testid=call-dev-video]').selectOption(second);
    await frame.locator('[data-testid=call-devices-btn]').click();

    // Hang up: the agent sees it; the event lines say what happened.
    await page.waitForTimeout(1200);
    await frame.locator('[data-testid=call-hangup]').click();
    const ended = await agent.next(updated(call.id, 'ended'), 10000, 'the hang-up at the agent');
    assert.equal(ended.call.end_reason, 'hangup');
    assert.equal(ended.call.ended_by, 'visitor');
    await frame.locator('[data-testid=call-ended]').waitFor();
    await frame.locator('.pw-event[data-event=call_ended]', { hasText: /^Video call · \d+:\d\d$/ }).waitFor();
    await frame.locator('.pw-event[data-event=call_offered]', { hasText: 'Incoming video call' }).waitFor();
    await frame.locator('.pw-event[data-event=call_accepted]', { hasText: 'Call started' }).waitFor();
    assert.deepEqual(await callEvents(cid), ['call_offered', 'call_accepted', 'call_ended']);
    // Everything local stopped: no live track left in the frame.
    await waitFor(
      () =>
        frame.evaluate(() =>
          [...document.querySelectorAll('video,audio')].every((v) => !v.srcObject || v.srcObject.getTracks().every((t) => t.readyState === 'ended')),
        ),
      {
        what: 'the local media stopped',
      },
    );
    await ap.close();
    assert.deepEqual(ap.errors, []);
    assert.deepEqual(cspViolations(page), []);
  },
);

test('decline (a tab opened while it rings learns of the call), a cancelled ring, and an audio call the agent ends', { timeout: 90000 }, async () => {
  const { page, frame, cid } = await visitorChat({ text: 'Audio please' });
  let call = await ring(cid, 'audio');
  const card = frame.locator('[data-testid=call-incoming]');
  await card.waitFor({ timeout: 10000 });
  assert.match(await card.textContent(), /Voice call/);
  assert.equal(await card.getByRole('button', { name: 'Accept with camera' }).count(), 0);
  // A second tab of the same visitor, opened while it rings: conversations.list tells it.
  const page2 = await stack.newPage({}, { ctx: page.context() });
  const frame2 = await widgetFrame(page2);
  const card2 = frame2.locator('[data-testid=call-incoming]');
  await card2.waitFor({ timeout: 10000 });
  await card.getByRole('button', { name: 'Decline' }).click();
  const d = await agent.next(updated(call.id, 'ended'), 10000, 'the decline');
  assert.equal(d.call.end_reason, 'declined');
  await card.waitFor({ state: 'detached' });
  await card2.waitFor({ state: 'detached' });
  await page2.close();
  await frame.locator('.pw-event[data-event=call_declined]', { hasText: 'Call declined' }).waitFor();

  // The agent cancels a ring: the card goes.
  call = await ring(cid, 'video');
  await card.waitFor();
  await agent.ack({ type: 'call.hangup', call_id: call.id });
  await card.waitFor({ state: 'detached' });
  await frame.locator('.pw-event[data-event=call_cancelled]', { hasText: 'Call cancelled' }).waitFor();

  // Audio: accept; no video area; the agent hangs up.
  call = await ring(cid, 'audio');
  await card.getByRole('button', { name: 'Accept' }).click();
  const ap = await answerAsAgent(call, 'audio');
  await frame.locator('[data-testid=call-view][data-phase=active]').waitFor();
  assert.equal(await frame.locator('[data-testid=call-stage]').count(), 0, 'an audio call has no video area');
  await ap.waitReceiving(['audio']);
  await waitFor(() => frame.locator('.pc-call audio').evaluate((a) => !!a.srcObject && a.srcObject.getAudioTracks().length === 1), {
    what: 'the agent audio playing',
  });
  await agent.ack({ type: 'call.hangup', call_id: call.id });
  await frame.locator('[data-testid=call-ended]', { hasText: 'Call ended' }).waitFor();
  await frame.locator('.pw-event[data-event=call_ended]', { hasText: /^Voice call · \d:\d\d$/ }).waitFor();
  await ap.close();
});

test('the visitor asks for a call (site setting calls: visitor); the agent accepts', async () => {
  await setSettings(stack, { ...SETTINGS, calls: 'visitor' });
  const { page, frame, cid, chunks } = await visitorChat({ text: 'Call me maybe' });
  const btn = frame.getByRole('button', { name: 'Request a call' });
  await btn.waitFor();
  assert.deepEqual(chunks, []);
  await btn.click();
  const askCard = frame.locator('[data-testid=call-ask]');
  await askCard.waitFor();
  assert.match(await askCard.textContent(), /Call Ana Souza/);
  await screenshot(page, 'call-ask-en-desktop');
  await askCard.getByRole('button', { name: 'Voice call' }).click();
  const ringing = await agent.next((f) => f.type === 'call.updated' && f.call.conversation_id === cid && f.call.state === 'ringing', 10000, 'the request');
  assert.equal(ringing.call.caller, 'visitor');
  assert.equal(ringing.call.media, 'audio');
  await frame.locator('[data-testid=call-view][data-phase=outgoing]', { hasText: 'Calling…' }).waitFor();
  await screenshot(page, 'call-outgoing-en-desktop');
  assert.equal(await btn.count(), 0, 'no second request while one rings');
  await agent.ack({ type: 'call.accept', call_id: ringing.call.id });
  const ap = await agentPeer(stack.browser, stack.srv, agent, ringing.call.id);
  await ap.start({ audio: true, video: false });
  await ap.waitState('connected', 20000);
  await frame.locator('[data-testid=call-view][data-phase=active]').waitFor();
  await ap.waitReceiving(['audio']);
  await frame.locator('.pw-event[data-event=call_requested]', { hasText: 'You requested a voice call' }).waitFor();

  // The socket drops mid-call: the widget rejoins and the call goes on.
  stack.proxy.dropAll();
  // Signals reach the widget again once it has rejoined (until then the server relays to the old socket).
  await waitFor(
    async () => {
      await ap.run(() => window.peer.requestScreen());
      return frame.locator('[data-testid=call-share-ask]').isVisible();
    },
    { timeoutMs: 20000, intervalMs: 500, what: 'the widget rejoining the call after a reconnect' },
  );
  assert.equal(await frame.locator('[data-testid=call-view]').getAttribute('data-phase'), 'active');
  await frame.locator('[data-testid=call-share-no]').click();
  await frame.locator('[data-testid=call-hangup]').click();
  await agent.next(updated(ringing.call.id, 'ended'), 10000, 'the hang-up');
  await ap.close();
  await setSettings(stack, SETTINGS);
});

test(
  'screenshots: incoming card, in-call audio and video, screen-share request (en, zh-CN; desktop, phone)',
  { timeout: 300000, ...ONLY_MAKE_SCREENSHOTS },
  async () => {
    for (const [[size, viewport], [tag, locale]] of screenshotPairs(SIZES, LOCALES)) {
      const zh = tag === 'zh';
      const { page, frame, cid } = await visitorChat({ locale, viewport, text: zh ? '你好，可以视频吗？' : 'Hello, can we do a video call?' });
      await agent.ack({
        type: 'message.send',
        conversation_id: cid,
        client_msg_id: `shot-${tag}-${size}`,
        body: zh ? '当然可以，我现在给你打过去。' : 'Sure, calling you now.',
      });
      let call = await ring(cid, 'video');
      const card = frame.locator('[data-testid=call-incoming]');
      await card.waitFor();
      await screenshot(page, `call-incoming-${tag}-${size}`);
      await frame.locator('[data-testid=call-accept-video]').click();
      let ap = await answerAsAgent(call, 'video');
      await frame.locator('[data-testid=call-view][data-phase=active]').waitFor();
      await waitFor(
        () =>
          frame
            .locator('[data-testid=call-stage] .pc-video')
            .first()
            .evaluate((v) => v.videoWidth > 0),
        { timeoutMs: 10000, what: 'video' },
      );
      await page.waitForTimeout(2500); // the timer and the quality hint
      await screenshot(page, `call-video-${tag}-${size}`);
      await ap.run(() => window.peer.requestScreen());
      await frame.locator('[data-testid=call-share-ask]').waitFor();
      await screenshot(page, `call-share-ask-${tag}-${size}`);
      await frame.locator('[data-testid=call-share]').click();
      await frame.locator('.pc-badge').waitFor();
      await screenshot(page, `call-sharing-${tag}-${size}`);
      await frame.locator('[data-testid=call-hangup]').click();
      await agent.next(updated(call.id, 'ended'), 10000, 'the end');
      await ap.close();

      call = await ring(cid, 'audio');
      await frame.locator('[data-testid=call-accept-audio]').click();
      ap = await answerAsAgent(call, 'audio');
      await frame.locator('[data-testid=call-view][data-phase=active]').waitFor();
      await page.waitForTimeout(2500);
      await screenshot(page, `call-audio-${tag}-${size}`);
      await agent.ack({ type: 'call.hangup', call_id: call.id });
      await frame.locator('[data-testid=call-ended]').waitFor();
      await screenshot(page, `call-ended-${tag}-${size}`);
      await ap.close();
      await page.close();
    }
  },
);
