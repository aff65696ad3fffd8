'use strict';
/* global window -- (functions handed to page.evaluate run in the page) */
// The agent's end of a call, for the widget's call tests: ui-shared/call.js
// (an impolite CallPeer) in a Chromium page with the browser's fake camera
// and microphone (launch with browser.js MEDIA_ARGS), its signals carried
// over the agent's /ws/agent socket driven from node. The console's own call
// UI has tests of its own; here the agent is only what the widget talks to.
// (The mirror of tests/helpers/call-visitor.js.)
//
//   const ap = await agentPeer(stack.browser, stack.srv, agentWs, callId);   // once the call is active
//   await ap.start({ audio: true, video: true });
//   await ap.waitState('connected');
//   await ap.run(() => window.peer.requestScreen());
//   await ap.waitRemote((r) => r.screen);
//   await ap.close();

const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT } = require('./common');
const { waitFor } = require('./fixtures');

/** The engine as a classic script: its exports become page globals. */
function engineScript() {
  const src = fs.readFileSync(path.join(REPO_ROOT, 'ui-shared', 'call.js'), 'utf8');
  return `${src.replace(/^export /gm, '')}\nwindow.CallPeer = CallPeer;`;
}

async function agentPeer(browser, srv, a, callId, { iceServers = [] } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A page of parleyd's own origin: loopback is a secure context, which
  // getUserMedia needs. Its CSP does not apply to what the test evaluates.
  await page.goto(`${srv.origin}/healthz`);
  await page.exposeFunction('__sendSignal', (signal) => {
    if (a.isOpen) a.send({ type: 'call.signal', call_id: callId, ...signal });
  });
  await page.evaluate(engineScript());
  await page.evaluate((ice) => {
    window.controls = [];
    window.remote = null;
    window.peer = new window.CallPeer({
      polite: false,
      iceServers: ice,
      send: (s) => window.__sendSignal(s),
      onRemoteStreams: (r) => {
        window.remote = r;
      },
      onState: () => {},
      onControl: (c) => window.controls.push(c),
    });
  }, iceServers);

  // The visitor's signals, from the agent's socket into the page, in order.
  let stopped = false;
  const pump = (async () => {
    while (!stopped && a.isOpen) {
      let m;
      try {
        m = await a.next((f) => f.type === 'call.signal' && f.call_id === callId, 500, 'call.signal');
      } catch {
        continue;
      }
      await page.evaluate((f) => window.peer.handleSignal(f), m).catch(() => {});
    }
  })();

  const remote = () =>
    page.evaluate(() => {
      const r = window.remote;
      return r ? { camera: !!r.camera, screen: !!r.screen, audio: r.audio, video: r.video } : { camera: false, screen: false, audio: false, video: false };
    });
  return {
    page,
    context,
    errors,
    run: (fn, arg) => page.evaluate(fn, arg),
    start: (media) => page.evaluate((m) => window.peer.start(m), media),
    stats: () => page.evaluate(() => window.peer.stats()),
    controls: () => page.evaluate(() => window.controls),
    remote,
    waitState: (state, timeoutMs = 15000) =>
      waitFor(async () => (await page.evaluate(() => window.peer.pc.connectionState)) === state, { timeoutMs, what: `agent peer ${state}` }),
    waitRemote: (pred, what = 'the visitor media', timeoutMs = 15000) => waitFor(async () => pred(await remote()), { timeoutMs, intervalMs: 100, what }),
    waitControl: (pred, timeoutMs = 10000) =>
      waitFor(async () => (await page.evaluate(() => window.controls)).some(pred), { timeoutMs, what: 'a control from the visitor' }),
    /** Resolves once the visitor's media has reached the agent (bytes of each kind). */
    waitReceiving: (kinds = ['audio'], timeoutMs = 15000) =>
      waitFor(
        async () => {
          const st = await page.evaluate(() => window.peer.stats());
          return kinds.every((k) => st.bytesReceived[k] > 0);
        },
        { timeoutMs, intervalMs: 250, what: `agent receiving ${kinds.join(' and ')}` },
      ),
    async close() {
      stopped = true;
      await page.evaluate(() => window.peer && window.peer.close()).catch(() => {});
      await pump;
      await context.close().catch(() => {});
    },
  };
}

module.exports = { agentPeer };
