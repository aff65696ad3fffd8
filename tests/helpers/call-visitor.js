'use strict';
/* global window -- (functions handed to page.evaluate run in the page) */
// The visitor's end of a call, for the console's call tests: ui-shared/call.js
// (a polite CallPeer) in a Chromium page with the browser's fake camera and
// microphone (launch with browser.js MEDIA_ARGS), its signals carried over
// the visitor's /ws/visitor socket driven from node. The widget's own call
// UI has tests of its own; here the visitor is only what the console talks to.
//
//   const vp = await visitorPeer(fx.browser, fx.srv, v, callId);   // once the call is active
//                 // (options: iceServers, iceTransportPolicy: what the widget would get)
//   await vp.start({ audio: true, video: true });
//   await vp.waitState('connected');
//   await vp.run(() => window.peer.shareScreen());
//   const st = await vp.stats();                                    // CallPeer.stats()
//   await vp.waitControl((c) => c.kind === 'screen_request');
//   await vp.close();

const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT } = require('./common');
const { waitFor } = require('./fixtures');

/** The engine as a classic script: its exports become page globals. */
function engineScript() {
  const src = fs.readFileSync(path.join(REPO_ROOT, 'ui-shared', 'call.js'), 'utf8');
  return `${src.replace(/^export /gm, '')}\nwindow.CallPeer = CallPeer;`;
}

async function visitorPeer(browser, srv, v, callId, { iceServers = [], iceTransportPolicy } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A page of parleyd's own origin: loopback is a secure context, which
  // getUserMedia needs. Its CSP does not apply to what the test evaluates.
  await page.goto(`${srv.origin}/healthz`);
  await page.exposeFunction('__sendSignal', (signal) => {
    if (v.isOpen) v.send({ type: 'call.signal', call_id: callId, ...signal });
  });
  await page.evaluate(engineScript());
  await page.evaluate(
    ({ ice, policy }) => {
      window.controls = [];
      window.states = [];
      window.remote = null;
      window.peer = new window.CallPeer({
        polite: true,
        iceServers: ice,
        iceTransportPolicy: policy,
        send: (s) => window.__sendSignal(s),
        onRemoteStreams: (r) => {
          window.remote = r;
        },
        onState: (s) => window.states.push(s),
        onControl: (c) => window.controls.push(c),
      });
    },
    { ice: iceServers, policy: iceTransportPolicy },
  );

  // The agent's signals, from the visitor's socket into the page, in order.
  let stopped = false;
  const pump = (async () => {
    while (!stopped && v.isOpen) {
      let m;
      try {
        m = await v.next((f) => f.type === 'call.signal' && f.call_id === callId, 500, 'call.signal');
      } catch {
        continue;
      }
      await page.evaluate((f) => window.peer.handleSignal(f), m).catch(() => {});
    }
  })();

  const vp = {
    page,
    context,
    errors,
    run: (fn, arg) => page.evaluate(fn, arg),
    start: (media) => page.evaluate((m) => window.peer.start(m), media),
    stats: () => page.evaluate(() => window.peer.stats()),
    controls: () => page.evaluate(() => window.controls),
    /** The candidate types of the pair in use: {local, remote} ('host', 'srflx', 'relay', 'prflx'). */
    pairTypes: () =>
      page.evaluate(async () => {
        const stats = await window.peer.pc.getStats();
        let pair = null;
        stats.forEach((s) => {
          if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
        });
        if (!pair) stats.forEach((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded' && (pair = s));
        if (!pair) return null;
        return { local: stats.get(pair.localCandidateId).candidateType, remote: stats.get(pair.remoteCandidateId).candidateType };
      }),
    remote: () =>
      page.evaluate(() => {
        const r = window.remote;
        return r && { camera: !!r.camera, screen: !!r.screen, audio: r.audio, video: r.video };
      }),
    waitState: (state, timeoutMs = 15000) =>
      waitFor(async () => (await page.evaluate(() => window.peer.pc.connectionState)) === state, { timeoutMs, what: `visitor peer ${state}` }),
    waitControl: (pred, timeoutMs = 10000) =>
      waitFor(async () => (await page.evaluate(() => window.controls)).some(pred), { timeoutMs, what: 'a control from the agent' }),
    /** Resolves once the agent's media has reached the visitor (bytes of each kind). */
    waitReceiving: (kinds = ['audio'], timeoutMs = 15000) =>
      waitFor(
        async () => {
          const st = await page.evaluate(() => window.peer.stats());
          return kinds.every((k) => st.bytesReceived[k] > 0);
        },
        { timeoutMs, intervalMs: 250, what: `visitor receiving ${kinds.join(' and ')}` },
      ),
    async close() {
      stopped = true;
      await page.evaluate(() => window.peer && window.peer.close()).catch(() => {});
      await pump;
      await context.close().catch(() => {});
    },
  };
  return vp;
}

module.exports = { visitorPeer };
