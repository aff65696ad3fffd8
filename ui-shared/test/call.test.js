// call: what the WebRTC engine decides without a browser: which signals pass,
// the stats → quality mapping, which remote video is the camera and which the
// screen, and perfect negotiation's choices on a stand-in RTCPeerConnection.
// Real media and connections are the browser tests' (tests/e2e/widget-call*).
import test from 'node:test';
import assert from 'node:assert/strict';

import { CallPeer, QUALITY, classifyRemote, qualityOf, summarizeStats, validSignal } from '../call.js';

test('validSignal keeps the contract shapes and drops the rest', () => {
  const offer = { type: 'offer', sdp: 'v=0\r\n' };
  assert.deepEqual(validSignal({ description: offer }), { description: offer });
  assert.deepEqual(validSignal({ type: 'call.signal', call_id: 3, description: { ...offer, extra: 1 } }), { description: offer });
  assert.deepEqual(validSignal({ candidate: null }), { candidate: null });
  const cand = { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
  assert.deepEqual(validSignal({ candidate: cand }), { candidate: { ...cand, usernameFragment: null } });
  assert.deepEqual(validSignal({ control: { kind: 'screen_request', x: 1 } }), { control: { kind: 'screen_request' } });
  const media = { kind: 'media', audio: true, video: false, screen: false };
  assert.deepEqual(validSignal({ control: media }), { control: media });

  const bad = [
    null,
    'offer',
    {},
    { description: offer, candidate: null }, // exactly one
    { description: { type: 'rollback', sdp: '' } },
    { description: { type: 'offer' } },
    { description: { type: 'offer', sdp: 'x'.repeat(32769) } },
    { candidate: { candidate: 'x'.repeat(1025) } },
    { candidate: { candidate: 'c', sdpMLineIndex: 65 } },
    { candidate: { candidate: 'c', sdpMLineIndex: 1.5 } },
    { candidate: { candidate: 'c', sdpMid: 'm'.repeat(65) } },
    { candidate: { candidate: 'c', usernameFragment: 7 } },
    { candidate: 'c' },
    { control: { kind: 'media', audio: true, video: false } },
    { control: { kind: 'media', audio: 'yes', video: false, screen: false } },
    { control: { kind: 'dance' } },
    { control: null },
  ];
  for (const b of bad) assert.equal(validSignal(b), null, JSON.stringify(b));
  assert.ok(validSignal({ description: { type: 'answer', sdp: 'x'.repeat(32768) } }));
});

test('qualityOf: round trip and loss against the thresholds, unknown before anything is measured', () => {
  assert.equal(qualityOf({ rtt: null, packetLoss: null }), 'unknown');
  assert.equal(qualityOf({}), 'unknown');
  assert.equal(qualityOf({ rtt: 40, packetLoss: 0 }), 'good');
  assert.equal(qualityOf({ rtt: 40, packetLoss: null }), 'good');
  assert.equal(qualityOf({ rtt: QUALITY.fairRtt, packetLoss: 0 }), 'fair');
  assert.equal(qualityOf({ rtt: 40, packetLoss: QUALITY.fairLoss }), 'fair');
  assert.equal(qualityOf({ rtt: QUALITY.poorRtt, packetLoss: 0 }), 'poor');
  assert.equal(qualityOf({ rtt: null, packetLoss: 0.2 }), 'poor');
  assert.equal(qualityOf({ rtt: NaN, packetLoss: undefined }), 'unknown');
});

// A Chrome-like report: the selected pair through the transport.
function report({ lost = 0, received = 1000, rtt = 0.05, fractionLost } = {}) {
  const stats = [
    { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP2' },
    { id: 'CP1', type: 'candidate-pair', state: 'failed', currentRoundTripTime: 9 },
    { id: 'CP2', type: 'candidate-pair', state: 'succeeded', nominated: true, currentRoundTripTime: rtt },
    { id: 'OA', type: 'outbound-rtp', kind: 'audio', bytesSent: 1000 },
    { id: 'OV1', type: 'outbound-rtp', kind: 'video', bytesSent: 5000 },
    { id: 'OV2', type: 'outbound-rtp', kind: 'video', bytesSent: 2000 }, // a screen
    { id: 'IA', type: 'inbound-rtp', kind: 'audio', bytesReceived: 900, packetsLost: lost, packetsReceived: received },
    { id: 'IV', type: 'inbound-rtp', mediaType: 'video', bytesReceived: 4000, packetsLost: 0, packetsReceived: 0 },
  ];
  if (fractionLost !== undefined) stats.push({ id: 'RI', type: 'remote-inbound-rtp', kind: 'audio', fractionLost, roundTripTime: 0.3 });
  return new Map(stats.map((s) => [s.id, s]));
}

test('summarizeStats adds up bytes by kind and reads the selected pair', () => {
  const s = summarizeStats(report());
  assert.deepEqual(s.bytesSent, { audio: 1000, video: 7000 });
  assert.deepEqual(s.bytesReceived, { audio: 900, video: 4000 });
  assert.equal(s.rtt, 50);
  assert.equal(s.packetLoss, 0);
  assert.equal(s.quality, 'good');
  // Also from an array of stats (not a Map), with no transport: the nominated pair.
  const arr = [...report().values()].filter((x) => x.type !== 'transport');
  assert.equal(summarizeStats(arr).rtt, 50);
});

test('summarizeStats: loss over the interval since the last reading, and what the other side reports', () => {
  const first = summarizeStats(report({ lost: 100, received: 900 }));
  assert.equal(first.packetLoss, 0.1);
  assert.equal(first.quality, 'poor');
  // 1000 more packets, 1 more lost: the past does not count.
  const second = summarizeStats(report({ lost: 101, received: 1899 }), first.counters);
  assert.equal(second.packetLoss, 0.001);
  assert.equal(second.quality, 'good');
  // What we send arrives badly: the other side's fractionLost.
  const third = summarizeStats(report({ lost: 101, received: 1899, fractionLost: 0.05 }), first.counters);
  assert.equal(third.packetLoss, 0.05);
  assert.equal(third.quality, 'fair');
  // Nothing measured: unknown.
  const none = summarizeStats(new Map());
  assert.deepEqual(none.bytesSent, { audio: 0, video: 0 });
  assert.equal(none.rtt, null);
  assert.equal(none.packetLoss, null);
  assert.equal(none.quality, 'unknown');
  // Round trip from remote-inbound-rtp when no pair has one.
  const noPair = [...report({ fractionLost: 0 }).values()].filter((x) => x.type !== 'candidate-pair');
  assert.equal(summarizeStats(noPair).rtt, 300);
});

const tr = (kind, streamId, order, muted = false) => ({ track: { kind, id: kind + streamId + order, muted }, streamId, order });

test('classifyRemote: the video beside the remote audio is the camera, one in another stream the screen', () => {
  const a = tr('audio', 'S1', 0);
  const cam = tr('video', 'S1', 0);
  const scr = tr('video', 'S2', 1);
  assert.deepEqual(classifyRemote([a, cam, scr], null), { audio: [a.track], camera: cam.track, screen: scr.track });
  // Order does not matter: the screen came on the m-line an audio-only
  // visitor reused (an earlier transceiver than the camera's).
  const early = { ...scr, order: -1 };
  assert.deepEqual(classifyRemote([early, a, cam], null), { audio: [a.track], camera: cam.track, screen: early.track });
  // Audio only, then a screen.
  assert.deepEqual(classifyRemote([a, scr], { kind: 'media', audio: true, video: false, screen: true }), {
    audio: [a.track],
    camera: null,
    screen: scr.track,
  });
  // Audio and camera only.
  assert.deepEqual(classifyRemote([a, cam], null), { audio: [a.track], camera: cam.track, screen: null });
});

test('classifyRemote without remote audio: stream order, then the media control', () => {
  const v1 = tr('video', 'S1', 0);
  const v2 = tr('video', 'S2', 1);
  assert.deepEqual(classifyRemote([v2, v1], null), { audio: [], camera: v1.track, screen: v2.track });
  assert.equal(classifyRemote([v1], null).camera, v1.track);
  assert.equal(classifyRemote([v1], { kind: 'media', audio: false, video: true, screen: false }).camera, v1.track);
  assert.equal(classifyRemote([v1], { kind: 'media', audio: false, video: false, screen: true }).screen, v1.track);
  assert.deepEqual(classifyRemote([], null), { audio: [], camera: null, screen: null });
});

// ---- perfect negotiation on a stand-in RTCPeerConnection

class FakeStream {
  constructor(tracks = []) {
    this.id = 'stream' + FakeStream.n++;
    this.tracks = [...tracks];
  }
  getTracks() {
    return [...this.tracks];
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
  addTrack(t) {
    this.tracks.push(t);
  }
  removeTrack(t) {
    this.tracks = this.tracks.filter((x) => x !== t);
  }
}
FakeStream.n = 0;

class FakePC {
  constructor(config) {
    this.config = config;
    this.signalingState = 'stable';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.localDescription = null;
    this.calls = [];
    this.restarts = 0;
    this.senders = [];
    FakePC.last = this;
  }
  async setLocalDescription() {
    this.calls.push('setLocal');
    const type = this.signalingState === 'have-remote-offer' ? 'answer' : 'offer';
    this.signalingState = type === 'offer' ? 'have-local-offer' : 'stable';
    this.localDescription = { type, sdp: 'sdp-' + type };
  }
  async setRemoteDescription(d) {
    this.calls.push('setRemote:' + d.type);
    // An offer in have-local-offer rolls back implicitly (polite peer).
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate(c) {
    this.calls.push('addIce');
    if (this.failIce) throw new Error('no remote description');
  }
  addTrack(track) {
    const s = { track };
    this.senders.push(s);
    return s;
  }
  getSenders() {
    return this.senders;
  }
  getTransceivers() {
    return [];
  }
  restartIce() {
    this.restarts++;
  }
  async getStats() {
    return report();
  }
  close() {
    this.calls.push('close');
  }
}

function peer(polite, extra = {}) {
  globalThis.RTCPeerConnection = FakePC;
  globalThis.MediaStream = FakeStream;
  const sent = [];
  const controls = [];
  const states = [];
  const p = new CallPeer({
    polite,
    iceServers: [{ urls: ['stun:x'] }],
    send: (s) => sent.push(s),
    onControl: (c) => controls.push(c),
    onState: (s) => states.push(s),
    ...extra,
  });
  return { p, pc: FakePC.last, sent, controls, states };
}

test('negotiationneeded sends an offer; an answer is applied', async () => {
  const { p, pc, sent } = peer(false, { iceTransportPolicy: 'relay' });
  assert.deepEqual(pc.config, { iceServers: [{ urls: ['stun:x'] }], iceTransportPolicy: 'relay' });
  await pc.onnegotiationneeded();
  assert.deepEqual(sent, [{ description: { type: 'offer', sdp: 'sdp-offer' } }]);
  assert.equal(p.makingOffer, false);
  await p.handleSignal({ type: 'call.signal', call_id: 1, description: { type: 'answer', sdp: 'a' } });
  assert.deepEqual(pc.calls, ['setLocal', 'setRemote:answer']);
  assert.equal(pc.signalingState, 'stable');
});

test('a colliding offer: the impolite peer ignores it (and its candidates), the polite one answers', async () => {
  const imp = peer(false);
  imp.pc.signalingState = 'have-local-offer';
  await imp.p.handleSignal({ description: { type: 'offer', sdp: 'o' } });
  assert.equal(imp.p.ignoreOffer, true);
  assert.deepEqual(imp.pc.calls, []);
  imp.pc.failIce = true;
  await imp.p.handleSignal({ candidate: { candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 } });
  assert.deepEqual(imp.pc.calls, ['addIce']); // tried, the error swallowed
  assert.deepEqual(imp.sent, []);

  const pol = peer(true);
  pol.pc.signalingState = 'have-local-offer';
  await pol.p.handleSignal({ description: { type: 'offer', sdp: 'o' } });
  assert.equal(pol.p.ignoreOffer, false);
  assert.deepEqual(pol.pc.calls, ['setRemote:offer', 'setLocal']);
  assert.deepEqual(pol.sent, [{ description: { type: 'answer', sdp: 'sdp-answer' } }]);
});

test('an offer while making one is a collision too', async () => {
  const { p, pc } = peer(false);
  p.makingOffer = true;
  await p.handleSignal({ description: { type: 'offer', sdp: 'o' } });
  assert.deepEqual(pc.calls, []);
});

test('candidates: normalised out, end-of-candidates both ways, invalid signals dropped', async () => {
  const { p, pc, sent } = peer(true);
  pc.onicecandidate({ candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0, foundation: '1' } });
  pc.onicecandidate({ candidate: null });
  assert.deepEqual(sent, [{ candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: null } }, { candidate: null }]);
  await p.handleSignal({ candidate: null });
  await p.handleSignal({ candidate: 5 });
  await p.handleSignal({ description: { type: 'pranswer', sdp: '' } });
  assert.deepEqual(pc.calls, ['addIce']);
});

test('controls reach onControl; a media control is kept as the remote state', async () => {
  const { p, controls } = peer(true);
  await p.handleSignal({ control: { kind: 'screen_request' } });
  await p.handleSignal({ control: { kind: 'media', audio: true, video: false, screen: true } });
  assert.deepEqual(controls, [{ kind: 'screen_request' }, { kind: 'media', audio: true, video: false, screen: true }]);
  assert.deepEqual(p.remoteMedia, { kind: 'media', audio: true, video: false, screen: true });
});

test('a failed connection restarts ICE once per failure; connected sends the media state', () => {
  const { p, pc, sent, states } = peer(true);
  pc.connectionState = 'failed';
  pc.onconnectionstatechange();
  pc.iceConnectionState = 'failed';
  pc.oniceconnectionstatechange();
  assert.equal(pc.restarts, 1);
  pc.connectionState = 'connected';
  pc.iceConnectionState = 'connected';
  pc.onconnectionstatechange();
  assert.deepEqual(states, ['failed', 'connected']);
  assert.deepEqual(sent.at(-1), { control: { kind: 'media', audio: false, video: false, screen: false } });
  pc.connectionState = 'failed';
  pc.onconnectionstatechange();
  assert.equal(pc.restarts, 2);
  p.close();
});

test('mute and camera are told to the other side; close stops the tracks and sends nothing more', async () => {
  const { p, pc, sent, states } = peer(true);
  const stopped = [];
  const mk = (kind) => ({ kind, enabled: true, stop: () => stopped.push(kind) });
  globalThis.navigator = { mediaDevices: { getUserMedia: async () => new FakeStream([mk('audio'), mk('video')]) } };
  const got = await p.start({ audio: true, video: true });
  assert.deepEqual(got, { audio: true, video: true, error: null });
  assert.equal(pc.senders.length, 2);
  p.setMuted(true);
  assert.equal(p.localStream.getAudioTracks()[0].enabled, false);
  await p.setCamera(false);
  assert.equal(p.localStream.getVideoTracks()[0].enabled, false);
  assert.deepEqual(sent.at(-1), { control: { kind: 'media', audio: false, video: false, screen: false } });
  assert.equal((await p.stats()).quality, 'good');
  const before = sent.length;
  p.close();
  p.close();
  assert.deepEqual(stopped.sort(), ['audio', 'video']);
  assert.equal(pc.calls.at(-1), 'close');
  assert.deepEqual(states, ['closed']);
  p.setMuted(false);
  await p.handleSignal({ description: { type: 'offer', sdp: 'o' } });
  assert.equal(sent.length, before);
});

test('start without a camera: an audio call, and the camera error told', async () => {
  const { p } = peer(true);
  globalThis.navigator = {
    mediaDevices: {
      getUserMedia: async (c) => {
        if (c.video) throw Object.assign(new Error('no camera'), { name: 'NotFoundError' });
        return new FakeStream([{ kind: 'audio', enabled: true, stop() {} }]);
      },
    },
  };
  assert.deepEqual(await p.start({ audio: true, video: true }), { audio: true, video: false, error: 'NotFoundError' });
  assert.equal(p.cameraOn, false);
  p.close();
});
