// calls: voice and video calls between the agent and a conversation's
// visitor (issue 17; docs/protocol.md section 16: the call.* frames, the
// call object, GET /api/calls/ice-servers; docs/calls.md). The media flows
// browser to browser through ui-shared/call.js's CallPeer; this module keeps
// the calls the server told this tab about (call.updated), the one call this
// tab is an end of, and relays that call's signalling over the agent's
// socket.
//
// Only the tab whose socket sent call.start or call.accept (or, after a
// reconnect, call.rejoin) is the call's end: the server relays signals to
// that socket alone. Other tabs of the same agent see the call in
// S.calls and say "in a call in another tab".
//
// Owns S.calls (live calls by id: ringing or active), S.myCall (this tab's
// call) and S.siteCalls (what each site's widget_settings.calls allows, as
// far as the console can know it).

import { CallPeer } from '../../../ui-shared/call.js';
import { get } from '../lib/api.js';
import { callErrorText, endedText, mediaErrorText } from '../lib/calls.js';
import { t } from '../lib/i18n.js';
import { visitorName } from '../lib/util.js';
import { alertSilently } from './notify.js';
import { isParticipant } from './participants.js';
import { isOpen, request, sendFrame } from './socket.js';
import { S, changed } from './state.js';
import { toast } from './view.js';
import { syncConv } from './messages.js';

const STATS_EVERY_MS = 2000;
// A connection the engine reports failed gets this long to recover (an
// ICE restart, the network coming back) before the agent's end hangs up.
const FAILED_GRACE_MS = 15000;

// ------------------------------------------------------------------ the calls

/** The live call of a conversation the server told this tab about, or null. */
export function liveCall(convId) {
  for (const call of S.calls.values()) if (call.conversation_id === convId) return call;
  return null;
}

/** This agent's live call (any tab), or null: an agent has at most one. */
function myLiveCall() {
  if (!S.me) return null;
  for (const call of S.calls.values()) if (call.agent && call.agent.id === S.me.id) return call;
  return null;
}

/** The call of a conversation is this agent's but another tab is its end. */
export function callElsewhere(convId) {
  const call = liveCall(convId);
  if (!call || !S.me || !call.agent || call.agent.id !== S.me.id) return null;
  if (S.myCall && (S.myCall.id === call.id || (!S.myCall.id && S.myCall.conversation_id === convId))) return null;
  // A visitor's call still ringing is answered from the ringing card, here or in any tab.
  if (call.state === 'ringing' && call.caller === 'visitor') return null;
  return call;
}

/** Visitors' calls ringing for this agent that this tab may answer. */
export function ringingCalls() {
  if (!S.me) return [];
  return [...S.calls.values()].filter(
    (call) => call.state === 'ringing' && call.caller === 'visitor' && call.agent && call.agent.id === S.me.id && !(S.myCall && S.myCall.id === call.id),
  );
}

// ------------------------------------------------------------- the site setting

/**
 * The site's widget_settings.calls for a conversation: 'off' | 'agent' |
 * 'visitor'. Every agent's conversation carries it (site_calls); what an
 * admin saved since, or a calls_disabled refusal, counts over it.
 */
export function siteCalls(c) {
  if (!c) return 'off';
  return S.siteCalls.get(c.site_id) || c.site_calls || 'agent';
}

/** A site as the admin pages read or saved it: its calls setting. */
export function noteSiteCalls(site) {
  if (!site || !site.id) return;
  const v = (site.widget_settings || {}).calls;
  S.siteCalls.set(site.id, v === 'off' || v === 'visitor' ? v : 'agent');
  changed();
}

/** Whether the header offers to call: an open chat of mine, calls allowed, no live call. */
export function canCall(c) {
  if (!c || !S.me || c.status !== 'assigned') return false;
  const mine = (c.assignee && c.assignee.id === S.me.id) || isParticipant(c);
  return mine && siteCalls(c) !== 'off' && !liveCall(c.id) && !S.myCall && !myLiveCall();
}

// -------------------------------------------------------------- ICE servers

let ice = null; // {servers, policy, until}

/**
 * The RTCConfiguration the server gives: {servers, policy} (iceServers and
 * iceTransportPolicy: 'relay' when the server wants the media through TURN
 * only, so that neither party learns the other's address), kept for half
 * the credential's TTL.
 */
async function iceConfig() {
  if (ice && Date.now() < ice.until) return ice;
  try {
    // Answered only while this agent has a live call (409 no_call otherwise).
    const r = await get('/api/calls/ice-servers');
    const ttl = Number(r.ttl) > 0 ? Number(r.ttl) : 600;
    ice = {
      servers: Array.isArray(r.ice_servers) ? r.ice_servers : [],
      policy: r.ice_transport_policy === 'relay' ? 'relay' : 'all',
      until: Date.now() + (ttl * 1000) / 2,
    };
    return ice;
  } catch {
    // Without them the call still works where host candidates reach (one network).
    return ice || { servers: [], policy: 'all' };
  }
}

// ------------------------------------------------------------------ this tab's call

let peer = null;
let ready = false; // the peer has its local media: incoming signals go straight to it
let inbox = []; // signals for this call that arrived before its peer was ready
let outbox = []; // signals the peer produced while they cannot be relayed
let joined = false; // this socket is the call's end (ack of start, accept or rejoin)
let statsTimer = null;
let failedTimer = null;
let devicesWatched = false;

function blankCall(fields) {
  return {
    id: null,
    conversation_id: null,
    media: 'audio',
    caller: 'agent',
    phase: 'starting', // starting | ringing | accepting | connecting | connected | reconnecting
    since: 0, // when it became active here (the timer counts from it)
    local: { audio: true, video: false, screen: false },
    streams: { local: null, camera: null, screen: null, localScreen: null },
    stats: null,
    devices: { audio: [], video: [] },
    deviceIds: { audio: '', video: '' },
    collapsed: false,
    ...fields,
    // Until the visitor's engine says what it sends: what the call was made for.
    remote: { audio: true, video: fields.media === 'video', screen: false },
  };
}

/** The call object's state as the server last said it, for this tab's call. */
const serverState = () => (S.myCall && S.myCall.id && S.calls.get(S.myCall.id) ? S.calls.get(S.myCall.id).state : null);

/** Whether signals may go out now: the call is active, this socket is its end. */
const canRelay = () => !!S.myCall && joined && isOpen() && serverState() === 'active';

function relay(signal) {
  const frame = { type: 'call.signal', call_id: S.myCall.id };
  for (const k of ['description', 'candidate', 'control']) if (k in signal) frame[k] = signal[k];
  if ('candidate' in signal) {
    // Many and small: no ack wanted.
    sendFrame(frame);
    return;
  }
  request(frame).catch((e) => {
    if (e && e.code === 'rate_limited') toast(t('callErrRate'), 'error');
  });
}

function flushOutbox() {
  while (outbox.length && canRelay()) relay(outbox.shift());
}

/** CallPeer's send: relayed now or kept until the call is active and this socket its end. */
function onPeerSignal(signal) {
  if (!S.myCall) return;
  // What this end sends is what it shows: the engine's own media control
  // (it also says when the browser's own "Stop sharing" ended the share).
  if (signal.control && signal.control.kind === 'media') {
    S.myCall.local = { audio: !!signal.control.audio, video: !!signal.control.video, screen: !!signal.control.screen };
    S.myCall.streams = { ...S.myCall.streams, localScreen: (peer && peer.screenStream) || null };
    changed();
  }
  if (canRelay()) relay(signal);
  else outbox.push(signal);
}

/** What the visitor sends, as the engine sorted it: camera (with their sound), screen, mic and camera on. */
function onPeerStreams({ camera, screen, audio, video }) {
  if (!S.myCall) return;
  S.myCall.streams = { ...S.myCall.streams, camera: camera || null, screen: screen || null };
  S.myCall.remote = { audio: !!audio, video: !!video, screen: !!screen };
  changed();
}

function onPeerState(state) {
  const call = S.myCall;
  if (!call) return;
  clearTimeout(failedTimer);
  if (state === 'connected') {
    call.phase = 'connected';
    if (!call.since) call.since = Date.now();
  } else if (state === 'disconnected' || state === 'failed') {
    if (call.phase === 'connected') call.phase = 'reconnecting';
    if (state === 'failed') {
      failedTimer = setTimeout(() => {
        if (S.myCall === call && call.phase !== 'connected') {
          toast(t('callEndedFailed'), 'error');
          hangUp();
        }
      }, FAILED_GRACE_MS);
    }
  }
  changed();
}

/** A control from the visitor: what they send is onPeerStreams' (the engine weighs it with the tracks); a screen_request is the agent's to send. */
function onPeerControl() {}

/**
 * Creates this tab's peer and opens the microphone (and camera). Resolves
 * what CallPeer.start got: {audio, video, error} (error: the DOMException's
 * name when a device could not be had; the call may go on without it).
 */
async function makePeer(media) {
  const call = S.myCall;
  const config = await iceConfig();
  // Ended while the servers were asked for: no peer (nothing to complain about either).
  if (S.myCall !== call || !call) return { audio: true, video: true, error: null };
  peer = new CallPeer({
    polite: false, // the agent is the impolite peer (perfect negotiation)
    iceServers: config.servers,
    iceTransportPolicy: config.policy,
    send: onPeerSignal,
    onRemoteStreams: onPeerStreams,
    onState: onPeerState,
    onControl: onPeerControl,
  });
  const ids = call.deviceIds;
  const deviceIds = {};
  if (ids.audio) deviceIds.audio = ids.audio;
  if (ids.video) deviceIds.video = ids.video;
  const got = await peer.start({ audio: true, video: media === 'video', deviceIds });
  if (S.myCall !== call || !peer) return { ...got, audio: true, video: true };
  ready = true;
  call.streams = { ...call.streams, local: peer.localStream };
  call.local = { audio: !!got.audio, video: !!got.video, screen: false };
  // Signals that came in while the media was being opened.
  const waiting = inbox;
  inbox = [];
  for (const m of waiting) feed(m);
  watchDevices();
  startStats();
  changed();
  return got;
}

function feed(m) {
  const msg = {};
  for (const k of ['description', 'candidate', 'control']) if (k in m) msg[k] = m[k];
  try {
    const r = peer.handleSignal(msg);
    if (r && r.catch) r.catch(() => {});
  } catch {
    /* a signal the engine refused (a stale answer): perfect negotiation recovers */
  }
}

function startStats() {
  clearInterval(statsTimer);
  statsTimer = setInterval(async () => {
    if (!peer || !S.myCall) return;
    try {
      const st = await peer.stats();
      if (S.myCall) {
        S.myCall.stats = st;
        changed();
      }
    } catch {
      /* closed meanwhile */
    }
  }, STATS_EVERY_MS);
}

/** Ends this tab's part of the call (the server's state is the server's). */
function teardown() {
  clearInterval(statsTimer);
  clearTimeout(failedTimer);
  if (peer) {
    try {
      peer.close();
    } catch {
      /* closed already */
    }
  }
  peer = null;
  ready = false;
  inbox = [];
  outbox = [];
  joined = false;
  S.myCall = null;
  changed();
}

// -------------------------------------------------------------------- actions

/** Calls the visitor of conversation convId; media 'audio' | 'video'. */
/**
 * Whether the microphone (and camera) can be had, before anything rings:
 * {audio, video, error}. The tracks are let go at once; CallPeer.start opens
 * them again once the call exists (the server hands out ICE servers only to
 * the parties of a live call, and the peer needs them).
 */
async function probeMedia(media) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return { audio: false, video: false, error: 'NotSupportedError' };
  const tries = media === 'video' ? [{ audio: true, video: true }, { audio: true }] : [{ audio: true }];
  let error = null;
  for (const c of tries) {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(c);
      const got = { audio: stream.getAudioTracks().length > 0, video: stream.getVideoTracks().length > 0 };
      stream.getTracks().forEach((tr) => tr.stop());
      return { ...got, error };
    } catch (e) {
      error = error || e;
    }
  }
  return { audio: false, video: false, error };
}

/** Calls the visitor of conversation convId; media 'audio' | 'video'. */
export async function startCall(convId, media) {
  if (S.myCall) return;
  if (!isOpen()) {
    toast(t('errNotConnected'), 'error');
    return;
  }
  S.myCall = blankCall({ conversation_id: convId, media, caller: 'agent', phase: 'starting' });
  changed();
  // The microphone (and camera) first: without a microphone nothing rings.
  const probe = await probeMedia(media);
  if (!S.myCall) return;
  if (!probe.audio) {
    teardown();
    toast(mediaErrorText(probe.error), 'error', 8000);
    return;
  }
  if (media === 'video' && !probe.video) toast(mediaErrorText(probe.error), 'error', 8000);
  let ack;
  try {
    ack = await request({ type: 'call.start', conversation_id: convId, media });
  } catch (e) {
    teardown();
    if (e && e.code === 'calls_disabled') {
      const c = S.convs.get(convId);
      if (c) S.siteCalls.set(c.site_id, 'off');
    }
    toast(callErrorText(e), 'error');
    return;
  }
  if (!S.myCall) {
    // Hung up while it was being placed.
    sendFrame({ type: 'call.hangup', call_id: ack.call.id });
    return;
  }
  joined = true;
  S.myCall.id = ack.call.id;
  upsert(ack.call);
  // call.updated may have come first (even its end, while this tab did not know the id yet).
  if (ended.has(ack.call.id)) {
    teardown();
    return;
  }
  if (serverState() === 'active') becameActive();
  else S.myCall.phase = 'ringing';
  changed();
  // The peer while it rings: its offer waits in the outbox and goes the
  // moment the visitor answers.
  let got;
  try {
    got = await makePeer(media);
  } catch (e) {
    got = { audio: false, error: e };
  }
  if (S.myCall && S.myCall.id === ack.call.id && !got.audio) {
    toast(mediaErrorText(got.error), 'error', 8000);
    hangUp();
  }
}

/** Answers a visitor's call: this tab becomes its end. */
export async function acceptCall(callId) {
  const call = S.calls.get(callId);
  if (!call || S.myCall) return;
  if (!isOpen()) {
    toast(t('errNotConnected'), 'error');
    return;
  }
  S.myCall = blankCall({ id: callId, conversation_id: call.conversation_id, media: call.media, caller: 'visitor', phase: 'accepting' });
  changed();
  try {
    const ack = await request({ type: 'call.accept', call_id: callId });
    if (!S.myCall || S.myCall.id !== callId) return;
    joined = true;
    upsert(ack.call);
  } catch (e) {
    teardown();
    toast(callErrorText(e, 'call.accept'), 'error');
    return;
  }
  if (!S.myCall) return;
  becameActive();
  let got;
  try {
    got = await makePeer(call.media);
  } catch (e) {
    // No peer at all (no WebRTC in this browser): nothing to answer with.
    toast(mediaErrorText(e), 'error', 8000);
    hangUp();
    return;
  }
  // Without a microphone (or camera) the call goes on: the agent still hears, sees and can type.
  if (got && S.myCall && (!got.audio || (call.media === 'video' && !got.video))) toast(mediaErrorText(got.error), 'error', 8000);
}

export function declineCall(callId) {
  request({ type: 'call.decline', call_id: callId }).catch(() => {});
  // The card goes at once; call.updated confirms.
  const call = S.calls.get(callId);
  if (call) S.calls.delete(callId);
  changed();
}

/** Cancels the call ringing out, or hangs up the call in progress. */
export function hangUp() {
  const call = S.myCall;
  if (!call) return;
  if (call.id) request({ type: 'call.hangup', call_id: call.id }).catch(() => {});
  if (call.id) S.calls.delete(call.id);
  teardown();
}

export function toggleMute() {
  const call = S.myCall;
  if (!call || !peer) return;
  const muted = call.local.audio;
  peer.setMuted(muted);
  call.local = { ...call.local, audio: !muted };
  changed();
}

/** Camera off or on (the engine's media control updates S.myCall.local). */
export async function toggleCamera() {
  const call = S.myCall;
  if (!call || !peer) return;
  const on = !call.local.video;
  const ok = await peer.setCamera(on);
  if (!ok && on) toast(t('callErrNoDevice'), 'error');
  changed();
}

/** Shares the screen, or stops (the engine's media control updates S.myCall.local). */
export async function toggleScreen() {
  const call = S.myCall;
  if (!call || !peer) return;
  if (call.local.screen) peer.stopScreen();
  // false: the agent closed the browser's picker, or it failed (the engine logs why).
  else await peer.shareScreen();
  changed();
}

/** Asks the visitor's widget to offer sharing their screen. */
export function askScreen() {
  if (!S.myCall || !peer || serverState() !== 'active') return;
  peer.requestScreen();
  toast(t('callAskedScreen'), 'success', 3000);
}

/** Uses another microphone ('audio') or camera ('video'). */
export async function switchDevice(kind, deviceId) {
  const call = S.myCall;
  if (!call) return;
  call.deviceIds = { ...call.deviceIds, [kind]: deviceId };
  changed();
  if (!peer) return;
  try {
    await peer.switchDevice(kind, deviceId);
    // The same MediaStream with another track: the preview is given it anew.
    if (S.myCall && peer) S.myCall.streams = { ...S.myCall.streams, local: new MediaStream(peer.localStream.getTracks()) };
  } catch (e) {
    toast(mediaErrorText(e), 'error');
  }
  changed();
}

export function setCallCollapsed(on) {
  if (!S.myCall) return;
  S.myCall.collapsed = on;
  changed();
}

/** The microphones and cameras, labelled once the page may use them. */
async function readDevices() {
  if (!S.myCall || !navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  try {
    const list = await navigator.mediaDevices.enumerateDevices();
    if (!S.myCall) return;
    const of = (kind) => list.filter((d) => d.kind === kind && d.deviceId).map((d) => ({ id: d.deviceId, label: d.label }));
    S.myCall.devices = { audio: of('audioinput'), video: of('videoinput') };
    // The device in use, when the agent did not pick one.
    const tracks = peer && peer.localStream ? peer.localStream.getTracks() : [];
    for (const tr of tracks) {
      const kind = tr.kind === 'audio' ? 'audio' : 'video';
      const id = tr.getSettings ? tr.getSettings().deviceId : '';
      if (id && !S.myCall.deviceIds[kind]) S.myCall.deviceIds = { ...S.myCall.deviceIds, [kind]: id };
    }
    changed();
  } catch {
    /* no list: the defaults stay */
  }
}

function watchDevices() {
  readDevices();
  if (devicesWatched || !navigator.mediaDevices || !navigator.mediaDevices.addEventListener) return;
  devicesWatched = true;
  navigator.mediaDevices.addEventListener('devicechange', readDevices);
}

// ---------------------------------------------------------------- server events

// Calls that ended: an ack read before the end (the event and the reply are
// built on different threads) must not bring one back.
const ended = new Set();
const RANK = { ringing: 0, active: 1, ended: 2 };

// Each call's last change seen here, on a clock of this module's: a list
// answered to a request made before it does not drop it (setLiveCalls).
let callClock = 0;
const seenAt = new Map();

/** The moment a request that answers the live calls is made. */
export const callStamp = () => callClock;

/** Stores the newest state of a call; false when an older one came late. */
function upsert(call) {
  if (!call || !call.id) return false;
  seenAt.set(call.id, ++callClock);
  if (ended.has(call.id)) return call.state === 'ended';
  const old = S.calls.get(call.id);
  if (old && RANK[old.state] > RANK[call.state]) return false;
  if (call.state === 'ended') {
    ended.add(call.id);
    S.calls.delete(call.id);
  } else S.calls.set(call.id, call);
  return true;
}

function becameActive() {
  const call = S.myCall;
  if (!call) return;
  if (call.phase === 'ringing' || call.phase === 'accepting' || call.phase === 'starting') call.phase = 'connecting';
  flushOutbox();
}

/** call.updated: a call of this agent's (or this tab's) changed. */
export function onCallUpdated(call) {
  if (!call || !call.id) return;
  const had = S.calls.get(call.id);
  upsert(call);
  const mine = S.myCall && S.myCall.id === call.id;
  if (mine && call.state === 'active' && joined) becameActive();
  if (mine && call.state === 'ended') {
    const text = endedText(call);
    teardown();
    if (text) toast(text, call.end_reason === 'declined' || call.end_reason === 'hangup' ? 'info' : 'error', 6000);
  } else if (!mine && call.state === 'ended' && had && had.state === 'ringing' && call.caller === 'visitor' && call.end_reason === 'missed') {
    const c = S.convs.get(call.conversation_id);
    toast(t('callMissedFrom', { name: c ? visitorName(c) : t('theVisitor') }), 'info', 8000);
  }
  if (!had && call.state === 'ringing' && call.caller === 'visitor' && S.me && call.agent && call.agent.id === S.me.id) {
    // The card shows the visitor's name: know the conversation.
    if (!S.convs.has(call.conversation_id)) syncConv(call.conversation_id, { preview: true });
    const c = S.convs.get(call.conversation_id);
    alertSilently(t(call.media === 'video' ? 'callIncomingVideo' : 'callIncomingVoice'), c ? visitorName(c) : '', call.conversation_id);
  }
  changed();
}

/**
 * The live calls of this agent as the queue.subscribe (conversations.list)
 * reply lists them: after a reload or a reconnect, the calls that rang or
 * began meanwhile, and those no longer listed gone (their end was missed
 * while the socket was down). since: callStamp() when it was asked for.
 * This tab's own call is left to resumeCall's call.rejoin.
 */
export function setLiveCalls(list, since) {
  if (!Array.isArray(list)) return;
  const listed = new Set(list.map((call) => call.id));
  for (const id of [...S.calls.keys()]) {
    if (listed.has(id) || (seenAt.get(id) || 0) > since || (S.myCall && S.myCall.id === id)) continue;
    S.calls.delete(id);
  }
  for (const call of list) upsert(call);
  changed();
}

/** call.signal: for this tab's call only (the server sends it to the end socket). */
export function onCallSignal(m) {
  if (!S.myCall || m.call_id !== S.myCall.id) return;
  if (peer && ready) feed(m);
  else inbox.push(m);
}

/**
 * After every (re)authentication of the socket: the new socket is not the
 * call's end until call.rejoin says so; the media itself never stopped.
 */
export async function resumeCall() {
  joined = false;
  const call = S.myCall;
  if (!call || !call.id) return;
  try {
    const ack = await request({ type: 'call.rejoin', call_id: call.id });
    if (S.myCall !== call) return;
    joined = true;
    upsert(ack.call);
    if (ack.call && ack.call.state === 'ended') {
      onCallUpdated(ack.call);
      return;
    }
    flushOutbox();
    changed();
  } catch (e) {
    if (S.myCall !== call) return;
    if (e && (e.code === 'disconnected' || e.code === 'timeout')) return; // the next open tries again
    // Ended while this tab was away (lost, hung up): nothing to rejoin.
    if (call.phase === 'ringing') sendFrame({ type: 'call.hangup', call_id: call.id });
    S.calls.delete(call.id);
    teardown();
    toast(t('callEndedLost'), 'error', 6000);
  }
}

/** The page is going away: hang up rather than leave the visitor waiting for the lost timeout. */
export function leavingPage() {
  if (S.myCall && S.myCall.id) sendFrame({ type: 'call.hangup', call_id: S.myCall.id });
}

/** A new session, or its end: no call survives it. */
export function resetCalls() {
  if (S.myCall) hangUp();
  teardown();
  S.calls = new Map();
  seenAt.clear();
  ended.clear();
  S.siteCalls = new Map();
  ice = null;
}
