'use strict';
/* global window -- (functions handed to page.evaluate run in the page) */
// One end of a call driven from node, for the call tests of each front end:
// ui-shared/call.js (the real engine, a real RTCPeerConnection) in a Chromium
// page with the browser's fake camera and microphone (launch with browser.js
// MEDIA_ARGS), its signals carried over a /ws/agent or /ws/visitor socket of
// the tests. The widget's tests put the agent here (agentPeer: impolite), the
// console's the visitor (visitorPeer: polite); each front end's own UI is
// tested against it, and against the other front end in
// console-widget-call.test.js.
//
//   const vp = await visitorPeer(fx.browser, fx.srv, v, callId);   // once the call is active
//                 // (options: iceServers, iceTransportPolicy: what the widget would get)
//   await vp.start({ audio: true, video: true });
//   await vp.waitState('connected');
//   await vp.run(() => window.peer.shareScreen());
//   const st = await vp.stats();                                    // CallPeer.stats()
//   await vp.waitControl((c) => c.kind === 'screen_request');
//   await vp.waitRemote((r) => r.screen);                           // what the other end sends
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

/** side: 'agent' or 'visitor'; ws: that side's test socket. */
async function callPeer(side, browser, srv, ws, callId, { iceServers = [], iceTransportPolicy } = {}) {
  const other = side === 'agent' ? 'visitor' : 'agent';
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A page of parleyd's own origin: loopback is a secure context, which
  // getUserMedia needs. Its CSP does not apply to what the test evaluates.
  await page.goto(`${srv.origin}/healthz`);
  await page.exposeFunction('__sendSignal', (signal) => {
    if (ws.isOpen) ws.send({ type: 'call.signal', call_id: callId, ...signal });
  });
  await page.evaluate(engineScript());
  await page.evaluate(
    ({ ice, policy, polite }) => {
      window.controls = [];
      window.states = [];
      window.remote = null;
      window.peer = new window.CallPeer({
        polite,
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
    { ice: iceServers, policy: iceTransportPolicy, polite: side === 'visitor' },
  );

  // The other end's signals, from this side's socket into the page, in order.
  let stopped = false;
  const pump = (async () => {
    while (!stopped && ws.isOpen) {
      let m;
      try {
        m = await ws.next((f) => f.type === 'call.signal' && f.call_id === callId, 500, 'call.signal');
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
    remote,
    waitState: (state, timeoutMs = 15000) =>
      waitFor(async () => (await page.evaluate(() => window.peer.pc.connectionState)) === state, { timeoutMs, what: `${side} peer ${state}` }),
    waitRemote: (pred, what = `the ${other} media`, timeoutMs = 15000) => waitFor(async () => pred(await remote()), { timeoutMs, intervalMs: 100, what }),
    waitControl: (pred, timeoutMs = 10000) =>
      waitFor(async () => (await page.evaluate(() => window.controls)).some(pred), { timeoutMs, what: `a control from the ${other}` }),
    /** Resolves once the other end's media has reached this one (bytes of each kind). */
    waitReceiving: (kinds = ['audio'], timeoutMs = 15000) =>
      waitFor(
        async () => {
          const st = await page.evaluate(() => window.peer.stats());
          return kinds.every((k) => st.bytesReceived[k] > 0);
        },
        { timeoutMs, intervalMs: 250, what: `${side} receiving ${kinds.join(' and ')}` },
      ),
    async close() {
      stopped = true;
      await page.evaluate(() => window.peer && window.peer.close()).catch(() => {});
      await pump;
      await context.close().catch(() => {});
    },
  };
}

module.exports = {
  agentPeer: (...args) => callPeer('agent', ...args),
  visitorPeer: (...args) => callPeer('visitor', ...args),
};
