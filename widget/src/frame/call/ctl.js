// call/ctl.js: the visitor's side of one call, from the ring to the hang-up
// (issue 17; the protocol: docs/protocol.md, section 16). Part of the lazily loaded call chunk.
//
// It owns the state the call UI renders (C), the CallPeer (ui-shared/call.js)
// and the `call.*` frames this tab sends. chat.js keeps the server's view of
// the call (S.call) and hands every `call.updated` (onCall) and `call.signal`
// (onSignal) here once the chunk is loaded.
//
// Order of things, and why:
// - Accepting first gets the microphone (and camera) and only then sends
//   call.accept: the agent sees the call answered when the visitor can
//   actually talk. Asking for a call sends call.start first, then gets the
//   media while it rings: the server hands out ICE servers (TURN
//   credentials) only to the parties of a live call.
// - The peer exists before the call is active, so its first offer is made
//   early; signals wait in outQ until this tab is the call's end and the
//   call is active (the server relays nothing before), and again while the
//   socket is down until call.rejoin is answered.
// - The `call.updated` that says active can arrive before the ack of our own
//   call.accept/call.start: `pending` says that a call (or any call we start,
//   -1) is ours, so that it is not mistaken for one answered in another tab.

import { CallPeer } from '../../../../ui-shared/call.js';
import { S, applyCall, sock, update } from '../chat.js';

export const C = {
  phase: null, // null | ask | incoming | outgoing | connecting | active | elsewhere | ended
  call: null, // the call (S.call's shape) this UI is about
  media: 'audio', // what we asked for or accepted
  peer: null,
  local: null, // our MediaStream (preview)
  remote: { camera: null, screen: null, audio: false, video: false },
  conn: 'new', // the peer connection's state
  quality: 'unknown',
  muted: false,
  camOn: false,
  shareAsk: false, // false | 'ask' | 'unsupported': the agent asked for the screen
  expanded: true, // the video area is shown
  devices: null, // the device panel: {audio: [MediaDeviceInfo], video: [...]}
  since: 0, // when the call became active here (ms)
  note: '', // a strings.js key: what went wrong (mic, camera, a refused start)
  endText: null, // phase ended: [key, name]
  pending: 0, // a call id being accepted here, or -1 while our call.start is on its way
  end: 0, // the id of the call this tab is an end of (it sent call.start/accept/rejoin)
};

let gen = 0; // bumped by every teardown: an older await's result is dropped
let outQ = []; // signals not sent yet
let inQ = []; // signals that came before the peer
let needRejoin = false;
let timers = [];
let ring = null;
let endTimer = 0;
const deviceIds = {};

/** Who the call is with: the call's agent, else the conversation's assignee. */
export const agentName = () => (C.call && C.call.agent) || (S.conv && S.conv.assignee && S.conv.assignee.name) || '';

/** Busy: the header's "Request a call" is not offered. */
export const busy = () => !!C.phase && C.phase !== 'ended';

// ---- signalling ----
function ready() {
  const c = C.call;
  return c && c.state === 'active' && C.end === c.id && sock.isOpen && !needRejoin;
}

function signal(sig) {
  if (!ready()) {
    if (C.call && C.call.state === 'active' && !sock.isOpen) needRejoin = true;
    if (outQ.length < 500) outQ.push(sig);
    return;
  }
  sock.send({ type: 'call.signal', call_id: C.call.id, ...sig });
}

function flushSignals() {
  if (!ready()) return;
  const q = outQ;
  outQ = [];
  q.forEach(signal);
}

export function onSignal(m) {
  if (!C.call || m.call_id !== C.call.id) return;
  if (C.peer) C.peer.handleSignal(m);
  else if (inQ.length < 500) inQ.push(m);
}

/** chat.js: the socket (re)authenticated. A tab in the active call rejoins it. */
export function onResume() {
  const c = C.call;
  if (!c || c.state !== 'active' || C.end !== c.id || !C.peer) return;
  needRejoin = true;
  sock.request({ type: 'call.rejoin', call_id: c.id }).then(
    (r) => {
      needRejoin = false;
      applyCall(r.call);
      flushSignals();
      // Media between browsers may have survived the socket; if not, new candidates.
      const pc = C.peer && C.peer.pc;
      if (pc && pc.connectionState !== 'connected') pc.restartIce();
    },
    (e) => {
      if (e && (e.code === 'disconnected' || e.code === 'timeout')) return; // the next resume tries again
      // The call ended meanwhile (or is not ours any more).
      if (C.call && C.call.id === c.id) onCall({ ...c, state: 'ended', end_reason: 'lost' });
    },
  );
}

/** The ICE configuration for a call: {servers (RTCConfiguration.iceServers), policy ('all' or,
 * when the server keeps the parties' addresses from each other, 'relay')}; no servers when the
 * server has none or cannot say. */
async function iceConfig() {
  try {
    const r = await fetch('/api/widget/calls/ice-servers', { headers: { Authorization: `Bearer ${S.token}` }, credentials: 'omit', cache: 'no-store' });
    const j = r.ok ? await r.json() : null;
    return {
      servers: j && Array.isArray(j.ice_servers) ? j.ice_servers : [],
      policy: j && j.ice_transport_policy === 'relay' ? 'relay' : 'all',
    };
  } catch (e) {
    return { servers: [], policy: 'all' };
  }
}

// ---- the server's view ----
export function onCall(call) {
  if (!call) return teardown(null);
  if (C.call && call.id !== C.call.id && busy() && call.state === 'ended') return; // an older call's news
  if (C.call && call.id !== C.call.id && C.phase === 'ended') {
    clearTimeout(endTimer);
    C.phase = null;
  }
  C.call = call;
  const ours = C.end === call.id || C.pending === call.id || (C.pending === -1 && call.caller === 'visitor');
  if (call.state === 'ringing') {
    if (call.caller === 'agent') {
      if (C.phase !== 'incoming' && C.phase !== 'connecting') {
        C.phase = 'incoming';
        C.note = '';
        startRing();
      }
    } else if (ours) C.phase = 'outgoing';
    else if (!C.peer) C.phase = 'elsewhere';
  } else if (call.state === 'active') {
    stopRing();
    if (C.end === call.id && C.peer) {
      if (C.phase !== 'active') {
        C.phase = 'active';
        C.since = Date.now();
        startTimers();
      }
      flushSignals();
    } else if (!ours) {
      // Answered in another tab (or this tab has no media for it).
      closePeer();
      C.phase = 'elsewhere';
    }
  } else finish(call);
  update();
}

// ---- actions ----
export function ask() {
  if (busy()) return;
  clearTimeout(endTimer);
  C.phase = 'ask';
  C.note = '';
  update();
}

export function cancelAsk() {
  if (C.phase === 'ask') C.phase = null;
  update();
}

/** The visitor asks for a call (site setting `calls: visitor`). */
export async function request(media) {
  if (!S.convId || (C.phase && C.phase !== 'ask' && C.phase !== 'ended')) return;
  C.phase = 'outgoing';
  C.call = null;
  C.media = media;
  C.pending = -1;
  C.expanded = true;
  update();
  const g = gen;
  let r;
  try {
    r = await sock.request({ type: 'call.start', conversation_id: S.convId, media });
  } catch (e) {
    if (g !== gen) return;
    const code = e && e.code;
    teardown(code === 'call_in_progress' ? 'errBusy' : code === 'calls_disabled' || code === 'invalid_state' ? 'errOff' : 'errFail');
    return;
  }
  if (g !== gen) {
    // Cancelled while the start was on its way.
    if (r.call) sock.request({ type: 'call.hangup', call_id: r.call.id }).catch(() => {});
    return;
  }
  C.end = r.call && r.call.id;
  C.pending = 0;
  if (!applyCall(r.call)) return teardown('errFail');
  // The media only now: the server gives ICE servers to the parties of a
  // live call. The agent may answer meanwhile; our signals wait.
  if ((await makePeer(media)) && C.call) onCall(C.call);
}

/** Accepts the ringing call, with the camera or audio only. */
export async function accept(video) {
  const call = C.call;
  if (!call || C.phase !== 'incoming') return;
  stopRing();
  C.phase = 'connecting';
  C.media = video ? 'video' : 'audio';
  C.pending = call.id;
  C.expanded = true;
  update();
  const g = gen;
  const peer = await makePeer(C.media);
  if (g !== gen || !peer) return;
  let r;
  try {
    r = await sock.request({ type: 'call.accept', call_id: call.id });
  } catch (e) {
    if (g !== gen) return;
    const code = e && e.code;
    teardown(code === 'invalid_state' || code === 'not_found' ? 'errGone' : 'errFail');
    return;
  }
  if (g !== gen) return;
  C.end = call.id;
  C.pending = 0;
  applyCall(r.call);
}

export function decline() {
  const call = C.call;
  stopRing();
  if (call) sock.request({ type: 'call.decline', call_id: call.id }).catch(() => {});
  teardown(null);
}

/** Hangs up (or cancels our ringing call). */
export function hangup() {
  const call = C.call;
  if (call && call.state !== 'ended') sock.request({ type: 'call.hangup', call_id: call.id }).catch(() => {});
  if (call && C.phase === 'active') finish({ ...call, state: 'ended', end_reason: 'hangup', duration: Math.round((Date.now() - C.since) / 1000) });
  else teardown(null);
  update();
}

export function toggleMute() {
  if (!C.peer) return;
  C.muted = !C.muted;
  C.peer.setMuted(C.muted);
  update();
}

export async function toggleCamera() {
  const peer = C.peer;
  if (!peer) return;
  const want = !C.camOn;
  const ok = await peer.setCamera(want);
  if (peer !== C.peer) return;
  C.camOn = peer.cameraOn;
  C.note = want && !ok ? 'camFail' : C.note === 'camFail' ? '' : C.note;
  if (want) C.expanded = true;
  update();
}

export async function share() {
  const peer = C.peer;
  C.shareAsk = false;
  update();
  if (!peer || !(await peer.shareScreen()) || peer !== C.peer) return;
  // The browser's own "Stop sharing" ends the track: the engine stops, we redraw.
  const t = peer.screenStream && peer.screenStream.getVideoTracks()[0];
  if (t) t.addEventListener('ended', () => update());
  update();
}

export function stopShare() {
  if (C.peer) C.peer.stopScreen();
  update();
}

export const sharing = () => !!(C.peer && C.peer.screenSender);

export function dismissShareAsk() {
  C.shareAsk = false;
  update();
}

export function toggleExpanded() {
  C.expanded = !C.expanded;
  update();
}

export async function toggleDevices() {
  if (C.devices) {
    C.devices = null;
    return update();
  }
  try {
    const all = await navigator.mediaDevices.enumerateDevices();
    C.devices = { audio: all.filter((d) => d.kind === 'audioinput'), video: all.filter((d) => d.kind === 'videoinput') };
  } catch (e) {
    C.devices = { audio: [], video: [] };
  }
  update();
}

/** The device a local track uses now ('' when unknown). */
export function currentDevice(kind) {
  const s = C.local && (kind === 'audio' ? C.local.getAudioTracks() : C.local.getVideoTracks())[0];
  return (s && s.getSettings && s.getSettings().deviceId) || deviceIds[kind] || '';
}

export async function chooseDevice(kind, id) {
  deviceIds[kind] = id;
  if (!C.peer) return;
  try {
    await C.peer.switchDevice(kind, id);
  } catch (e) {
    C.note = kind === 'audio' ? 'micOff' : 'camFail';
  }
  update();
}

export function dismissNote() {
  C.note = '';
  update();
}

// ---- inside ----
async function makePeer(media) {
  const g = gen;
  const ice = await iceConfig();
  if (g !== gen) return null;
  const peer = new CallPeer({
    polite: true, // the visitor (docs/protocol.md, section 16)
    iceServers: ice.servers,
    iceTransportPolicy: ice.policy,
    send: signal,
    onRemoteStreams: (r) => {
      if (peer !== C.peer) return;
      C.remote = r;
      update();
    },
    onState: (s) => {
      if (peer !== C.peer) return;
      C.conn = s;
      update();
    },
    onControl: (c) => {
      if (peer !== C.peer || c.kind !== 'screen_request' || sharing()) return;
      C.shareAsk = navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia ? 'ask' : 'unsupported';
      update();
    },
  });
  C.peer = peer;
  C.muted = false;
  const early = [...inQ];
  inQ = [];
  for (const m of early) if (C.call && m.call_id === C.call.id) peer.handleSignal(m);
  const got = await peer.start({ audio: true, video: media === 'video', deviceIds: { ...deviceIds } });
  if (g !== gen) {
    peer.close();
    return null;
  }
  C.local = peer.localStream;
  C.camOn = got.video;
  C.note = !got.audio ? 'micOff' : media === 'video' && !got.video ? 'camFail' : '';
  update();
  return peer;
}

function startTimers() {
  stopTimers();
  // The call timer (a render a second) and the quality hint (getStats).
  timers.push(setInterval(() => update(), 1000));
  timers.push(
    setInterval(async () => {
      const peer = C.peer;
      if (!peer) return;
      try {
        const s = await peer.stats();
        if (peer === C.peer && s.quality !== C.quality) {
          C.quality = s.quality;
          update();
        }
      } catch (e) {
        /* the next reading */
      }
    }, 2000),
  );
}

function stopTimers() {
  timers.forEach(clearInterval);
  timers = [];
}

function closePeer() {
  gen++;
  stopTimers();
  stopRing();
  if (C.peer) C.peer.close();
  C.peer = null;
  C.local = null;
  C.remote = { camera: null, screen: null, audio: false, video: false };
  C.conn = 'new';
  C.quality = 'unknown';
  C.shareAsk = false;
  C.devices = null;
  C.pending = 0;
  outQ = [];
  inQ = [];
  needRejoin = false;
}

/** Back to nothing; `note` (a strings.js key) says why, for a few seconds. */
function teardown(note) {
  closePeer();
  clearTimeout(endTimer);
  if (note) {
    C.phase = 'ended';
    C.endText = [note];
    endTimer = setTimeout(() => {
      if (C.phase === 'ended') C.phase = null;
      update();
    }, 5000);
  } else C.phase = null;
  update();
}

/** The call ended: what the visitor is told, from where they stood. */
function finish(call) {
  const was = C.phase;
  if (was === 'ended' || was === null) return closePeer(); // already told (our own hang-up), or nothing shown
  const mine = call.caller === 'visitor';
  let text = null;
  if (was === 'active' || was === 'connecting') text = call.end_reason === 'lost' || call.end_reason === 'failed' ? ['lost'] : ['ended'];
  else if (was === 'outgoing' && mine) {
    if (call.end_reason === 'declined') text = ['declined', agentName()];
    else if (call.end_reason === 'missed') text = ['noAnswer'];
  }
  if (C.end === call.id) C.end = 0;
  if (text) {
    teardown(text[0]);
    C.endText = text;
  } else teardown(null);
}

function startRing() {
  stopRing();
  try {
    const ac = new (window.AudioContext || window.webkitAudioContext)();
    // Two soft beeps every 3 s; a browser that refuses sound without a
    // gesture just stays quiet (the card is what matters).
    const beep = () => {
      const t0 = ac.currentTime;
      for (const d of [0, 0.35]) {
        const o = ac.createOscillator();
        const g = ac.createGain();
        o.frequency.value = 660;
        g.gain.setValueAtTime(0.0001, t0 + d);
        g.gain.exponentialRampToValueAtTime(0.06, t0 + d + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t0 + d + 0.28);
        o.connect(g).connect(ac.destination);
        o.start(t0 + d);
        o.stop(t0 + d + 0.3);
      }
    };
    beep();
    ring = { ac, timer: setInterval(beep, 3000) };
  } catch (e) {
    ring = null;
  }
}

function stopRing() {
  if (!ring) return;
  clearInterval(ring.timer);
  ring.ac.close().catch(() => {});
  ring = null;
}

// A tab closed mid-call: say so at once rather than leaving the agent with a
// silent call until the server's lost-call timeout.
window.addEventListener('pagehide', () => {
  if (C.call && C.peer && C.call.state !== 'ended') sock.send({ type: 'call.hangup', call_id: C.call.id });
});
