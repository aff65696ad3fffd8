'use strict';
// Calls between the two real front ends (issue 17): the agent console and the
// widget on a host page, in one Chromium with its fake camera and microphone,
// through parleyd. The console's and the widget's own call tests each drive
// the other end from node (tests/helpers/call-peer.js);
// this one checks that the two UIs understand each other: the console rings
// with video and the widget answers with its camera, the console asks for the
// visitor's screen and the widget shares it, the visitor's mute shows in the
// console; the visitor asks for a voice call, the console answers from its
// ringing card and the visitor hangs up. The console is on another parleyd
// node than the widget (the signalling crosses nodes through PostgreSQL),
// and both browsers' own RTCPeerConnection stats show sound and picture
// flowing both ways, and the shared screen arriving as a second video
// stream after the renegotiation.

const assert = require('node:assert/strict');

const { createAgent, connectAgent, waitFor } = require('../helpers/fixtures');
const { MEDIA_ARGS, openConsole, loginUI, ensureConsoleBuilt, recordPeerConnections, rtpBytes } = require('../helpers/browser');
const { widgetSuite, openWidget } = require('../helpers/widget');

const stack = widgetSuite({ settings: { calls: 'visitor' }, browserArgs: MEDIA_ARGS, nodes: 2 });
const { test } = stack;

stack.setup(async () => {
  await ensureConsoleBuilt();
});

/** The console's <video> in a tile shows frames. */
const tilePlaying = (page, testid) =>
  page.waitForFunction(
    (sel) => {
      const el = document.querySelector(`[data-testid=${sel}] video`);
      return !!el && el.videoWidth > 0;
    },
    testid,
    { timeout: 20000 },
  );

test('the console calls the widget and the widget calls the console', { timeout: 180000 }, async () => {
  const ana = await createAgent(stack.pg, { name: 'Ana Souza', teams: [stack.team] });
  // Online, so that the visitor's chat is assigned to Ana at once.
  const ws = await connectAgent(stack.srv, ana, { status: 'online' });
  const ctx = await stack.newContext();
  await recordPeerConnections(ctx);
  const page = await stack.newPage({}, { ctx });
  const frame = await openWidget(page);
  await frame.locator('#pw-first').fill('Hello, can we talk?');
  await frame.locator('.pw-form button[type=submit]').click();
  const m = await ws.next((f) => f.type === 'message.created' && f.message.body === 'Hello, can we talk?', 10000, 'the visitor message');
  const cid = m.message.conversation_id;
  await ws.close();

  // The agent on the other node.
  const nodeB = stack.nodes[1];
  assert.notEqual(nodeB.port, stack.srv.port);
  const C = await openConsole(stack.browser, nodeB, { viewport: { width: 1280, height: 800 }, recordPeers: true });
  const pc = C.page;
  await loginUI(pc, ana);
  await pc.goto(`${nodeB.origin}/console/#/mine/${cid}`);
  await pc.waitForSelector('[data-testid=message]:has-text("can we talk")');

  // The console rings with video; the widget answers with its camera.
  await pc.click('[data-testid=call-video]');
  await pc.waitForSelector('[data-testid=call-panel][data-phase=ringing]');
  await frame.locator('[data-testid=call-accept-video]').click({ timeout: 15000 });
  await pc.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 20000 });
  await frame.locator('[data-testid=call-view][data-phase=active]').waitFor({ timeout: 15000 });
  await tilePlaying(pc, 'call-remote-video');
  await frame.locator('[data-testid=call-stage] video').first().waitFor();
  // Sound and picture, both ways, by each browser's own connection.
  const flowing = (s) => s.sent.audio > 0 && s.sent.video > 0 && s.received.audio > 0 && s.received.video > 0;
  for (const [who, target] of [
    ['console', pc],
    ['widget', frame],
  ]) {
    const first = await waitFor(
      async () => {
        const s = await rtpBytes(target);
        return flowing(s) && s;
      },
      { timeoutMs: 15000, what: `audio and video bytes both ways in the ${who}` },
    );
    // ...and still growing.
    await waitFor(
      async () => {
        const s = await rtpBytes(target);
        return s.received.video > first.received.video && s.received.audio > first.received.audio;
      },
      { timeoutMs: 10000, what: `media still arriving in the ${who}` },
    );
  }

  // The console asks for the screen; the widget offers it and the visitor shares.
  await pc.click('[data-testid=call-ask-screen]');
  await frame.locator('[data-testid=call-share-ask]').waitFor({ timeout: 10000 });
  await frame.locator('[data-testid=call-share]').click();
  await tilePlaying(pc, 'call-remote-screen');
  // The renegotiation added a video stream: the console now receives two.
  await waitFor(async () => (await rtpBytes(pc)).inboundVideoStreams === 2, { timeoutMs: 15000, what: 'camera and screen arriving in the console' });

  // The visitor mutes: the console says so.
  await frame.locator('[data-testid=call-mute]').click();
  await pc.waitForSelector('[data-testid=call-remote-video] .muted-tag', { timeout: 10000 });

  // The agent hangs up: the widget says the call ended.
  await pc.click('[data-testid=call-hangup]');
  await pc.waitForSelector('[data-testid=call-panel]', { state: 'detached' });
  await frame.locator('[data-testid=call-ended]').waitFor({ timeout: 10000 });

  // The visitor asks for a voice call; the console answers from its card.
  await frame.getByRole('button', { name: 'Request a call' }).click();
  await frame.locator('[data-testid=call-ask-audio]').click();
  await pc.waitForSelector('[data-testid=ring-card][data-media=audio]', { timeout: 10000 });
  await pc.click('[data-testid=ring-accept]');
  await pc.waitForSelector('[data-testid=call-panel][data-phase=connected]', { timeout: 20000 });
  await frame.locator('[data-testid=call-view][data-phase=active]').waitFor({ timeout: 15000 });
  await pc.waitForSelector('[data-testid=call-quality]:not([data-quality=unknown])', { timeout: 15000 });

  // The visitor hangs up.
  await frame.locator('[data-testid=call-hangup]').click();
  await pc.waitForSelector('.toast:has-text("The visitor hung up.")', { timeout: 10000 });
  await pc.waitForSelector('[data-testid=event][data-event=call_ended]');
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});
