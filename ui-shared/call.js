// call: the WebRTC engine of a voice/video call (issue 17), used by the widget's
// call chunk (visitor) and the agent console (agent). It owns one
// RTCPeerConnection, the local media, screen sharing, and the reading of
// getStats; the app owns the `call.*` frames (docs/protocol.md, section 16).
//
//   const peer = new CallPeer({
//     polite,              // true for the visitor, false for the agent
//     iceServers,          // RTCConfiguration.iceServers (GET …/calls/ice-servers)
//     iceTransportPolicy,  // optional: 'all' (default) | 'relay' (tests: TURN only)
//     send(signal),        // {description} | {candidate} | {control}: wrap it in a
//                          //   call.signal frame ({type:'call.signal', call_id, ...signal})
//     onRemoteStreams({camera, screen, audio, video}),
//                          // what to show: camera = MediaStream (the remote's mic and
//                          //   camera) | null, screen = MediaStream (their shared screen)
//                          //   | null; audio/video = their mic/camera is on (their last
//                          //   `media` control, and a live track)
//     onState(state),      // pc.connectionState: new | connecting | connected |
//                          //   disconnected | failed | closed
//     onControl(control),  // every valid control received: {kind:'media', audio, video,
//                          //   screen} | {kind:'screen_request'}
//   });
//   peer.handleSignal(msg)        // an incoming call.signal frame (or its
//                                 //   {description|candidate|control}); invalid ones are dropped
//   await peer.start({audio, video, deviceIds: {audio, video}})
//                                 // getUserMedia + addTrack; resolves {audio, video, error}:
//                                 //   what it got, and the DOMException name when the camera
//                                 //   or the mic could not be had (the call goes on without)
//   peer.localStream              // MediaStream of the mic and camera (preview)
//   peer.setMuted(bool), peer.setCamera(bool)   // enable/disable + tell the other side
//   await peer.switchDevice('audio'|'video', deviceId)   // replaceTrack, no renegotiation
//   await peer.shareScreen()      // getDisplayMedia, a second video track (renegotiates);
//                                 //   stops by itself when the browser's "Stop sharing" ends it
//   peer.stopScreen()
//   peer.requestScreen()          // agent: ask the visitor to share ({kind:'screen_request'})
//   await peer.stats()            // {bytesSent:{audio,video}, bytesReceived:{audio,video},
//                                 //   rtt (ms | null), packetLoss (0..1 | null), quality}
//   peer.close()                  // stops every local track and the pc; idempotent
//   peer.pc                       // the RTCPeerConnection (tests read getStats on it)
//
// Negotiation is the W3C "perfect negotiation" example as written
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example):
// `negotiationneeded` makes every offer, the polite peer rolls back on a
// collision and the impolite one ignores the other's offer. Both ends may
// therefore add tracks whenever they like (at start, camera turned on later,
// a screen share). A failed connection restarts ICE (both ends may; the glare
// is handled the same way).
//
// Which remote video is the camera and which the screen. Transceiver order
// alone is not enough: addTrack() reuses a transceiver the other side created
// and we never sent on, so a visitor who accepted audio only and then shares
// the screen sends it on the m-line the agent's camera offered. So each end
// sends its mic and camera under one stream id (localStream) and a screen under
// a stream of its own (addTrack's msid); the receiver calls the video that
// shares a stream with the remote's audio the camera and a video in another
// stream the screen. Without remote audio (no mic) it falls back to the order
// the streams appeared in, and for a single video to the last `media` control
// (screen && !video → it is the screen). The UI gets MediaStreams of our own
// (camera: audio + camera video; screen: the screen video), rebuilt only when
// their tracks change, so a <video>'s srcObject does not flicker.

const SDP_MAX = 32768;
const CANDIDATE_MAX = 1024;
const MID_MAX = 64;
const UFRAG_MAX = 256;

/** Valid signal (the contract's shapes and limits) → a clean copy; anything else → null. */
export function validSignal(msg) {
  if (!msg || typeof msg !== 'object') return null;
  const keys = ['description', 'candidate', 'control'].filter((k) => k in msg && msg[k] !== undefined);
  if (keys.length !== 1) return null;
  const k = keys[0];
  const v = msg[k];
  if (k === 'description') {
    if (!v || typeof v !== 'object' || (v.type !== 'offer' && v.type !== 'answer')) return null;
    if (typeof v.sdp !== 'string' || v.sdp.length > SDP_MAX) return null;
    return { description: { type: v.type, sdp: v.sdp } };
  }
  if (k === 'candidate') {
    if (v === null) return { candidate: null };
    if (typeof v !== 'object' || typeof v.candidate !== 'string' || v.candidate.length > CANDIDATE_MAX) return null;
    const mid = v.sdpMid == null ? null : v.sdpMid;
    const line = v.sdpMLineIndex == null ? null : v.sdpMLineIndex;
    const ufrag = v.usernameFragment == null ? null : v.usernameFragment;
    if (mid !== null && (typeof mid !== 'string' || mid.length > MID_MAX)) return null;
    if (line !== null && (!Number.isInteger(line) || line < 0 || line > 64)) return null;
    if (ufrag !== null && (typeof ufrag !== 'string' || ufrag.length > UFRAG_MAX)) return null;
    return { candidate: { candidate: v.candidate, sdpMid: mid, sdpMLineIndex: line, usernameFragment: ufrag } };
  }
  if (!v || typeof v !== 'object') return null;
  if (v.kind === 'screen_request') return { control: { kind: 'screen_request' } };
  if (v.kind === 'media') {
    const { audio, video, screen } = v;
    if (typeof audio !== 'boolean' || typeof video !== 'boolean' || typeof screen !== 'boolean') return null;
    return { control: { kind: 'media', audio, video, screen } };
  }
  return null;
}

// Round trip (ms) and loss (fraction) above which a call is fair or poor:
// ~150 ms is where talking over each other starts, 400 ms where a
// conversation breaks down; Opus hides ~2 % loss, video freezes past ~8 %.
export const QUALITY = { fairRtt: 250, poorRtt: 400, fairLoss: 0.02, poorLoss: 0.08 };

/** 'good' | 'fair' | 'poor' | 'unknown' (nothing measured yet). */
export function qualityOf({ rtt, packetLoss }) {
  const hasRtt = typeof rtt === 'number' && isFinite(rtt);
  const hasLoss = typeof packetLoss === 'number' && isFinite(packetLoss);
  if (!hasRtt && !hasLoss) return 'unknown';
  if ((hasRtt && rtt >= QUALITY.poorRtt) || (hasLoss && packetLoss >= QUALITY.poorLoss)) return 'poor';
  if ((hasRtt && rtt >= QUALITY.fairRtt) || (hasLoss && packetLoss >= QUALITY.fairLoss)) return 'fair';
  return 'good';
}

/**
 * Reads an RTCStatsReport (anything with forEach or an iterable of [id, stat]
 * or of stats). `prev` is the `counters` of the previous summary: packet
 * loss is then over the interval between the two (a call that was bad five
 * minutes ago is not bad now); without it, since the start.
 * Returns {bytesSent, bytesReceived, rtt, packetLoss, quality, counters}.
 */
export function summarizeStats(report, prev) {
  const all = [];
  if (report && typeof report.forEach === 'function') report.forEach((s) => all.push(s));
  else for (const e of report || []) all.push(Array.isArray(e) ? e[1] : e);
  const byId = new Map(all.map((s) => [s.id, s]));
  const out = { bytesSent: { audio: 0, video: 0 }, bytesReceived: { audio: 0, video: 0 }, rtt: null, packetLoss: null };
  const kindOf = (s) => s.kind || s.mediaType;
  let lost = 0;
  let received = 0;
  let remoteRtt = null;
  let remoteLoss = null;
  let pair = null;
  for (const s of all) {
    const kind = kindOf(s);
    if (s.type === 'outbound-rtp' && (kind === 'audio' || kind === 'video')) out.bytesSent[kind] += s.bytesSent || 0;
    else if (s.type === 'inbound-rtp' && (kind === 'audio' || kind === 'video')) {
      out.bytesReceived[kind] += s.bytesReceived || 0;
      lost += Math.max(0, s.packetsLost || 0);
      received += s.packetsReceived || 0;
    } else if (s.type === 'remote-inbound-rtp') {
      if (typeof s.roundTripTime === 'number') remoteRtt = Math.max(remoteRtt || 0, s.roundTripTime * 1000);
      if (typeof s.fractionLost === 'number') remoteLoss = Math.max(remoteLoss || 0, s.fractionLost);
    } else if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId) || pair;
  }
  if (!pair) pair = all.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated || s.selected));
  if (pair && typeof pair.currentRoundTripTime === 'number') out.rtt = Math.round(pair.currentRoundTripTime * 1000);
  else if (remoteRtt !== null) out.rtt = Math.round(remoteRtt);
  const counters = { lost, received };
  const dLost = lost - (prev ? prev.lost : 0);
  const dRecv = received - (prev ? prev.received : 0);
  // What we receive (inbound counters) and what the other side reports of
  // what we send (remote-inbound fractionLost): the worse of the two.
  let loss = null;
  if (dLost + dRecv > 0 && dLost >= 0) loss = dLost / (dLost + dRecv);
  if (remoteLoss !== null) loss = Math.max(loss || 0, remoteLoss);
  out.packetLoss = loss === null ? null : Math.round(loss * 1000) / 1000;
  out.quality = qualityOf(out);
  out.counters = counters;
  return out;
}

/**
 * Which remote tracks are the camera and the screen (the rule in the header).
 * tracks: [{track, streamId, order}] of what is live now (order = when that
 * stream first appeared); media: the remote's last `media` control or null.
 * Returns {audio: [tracks], camera: track|null, screen: track|null}.
 */
export function classifyRemote(tracks, media) {
  const audio = tracks.filter((t) => t.track.kind === 'audio');
  const video = tracks.filter((t) => t.track.kind === 'video').sort((a, b) => a.order - b.order);
  const voiced = new Set(audio.map((t) => t.streamId));
  let camera = null;
  let screen = null;
  if (voiced.size) {
    camera = video.find((t) => voiced.has(t.streamId)) || null;
    screen = video.find((t) => t !== camera && !voiced.has(t.streamId)) || null;
  } else if (video.length >= 2) {
    [camera, screen] = video;
  } else if (video.length === 1) {
    if (media && media.screen && !media.video) screen = video[0];
    else camera = video[0];
  }
  return { audio: audio.map((t) => t.track), camera: camera && camera.track, screen: screen && screen.track };
}

function sameTracks(stream, tracks) {
  if (!stream) return tracks.length === 0;
  const have = stream.getTracks();
  return have.length === tracks.length && tracks.every((t) => have.includes(t));
}

export class CallPeer {
  constructor({ polite, iceServers, send, onRemoteStreams, onState, onControl, iceTransportPolicy }) {
    this.polite = !!polite;
    this.sendSignal = send;
    this.onRemoteStreams = onRemoteStreams || (() => {});
    this.onState = onState || (() => {});
    this.onControl = onControl || (() => {});
    this.localStream = new MediaStream();
    this.screenStream = null;
    this.screenSender = null;
    this.muted = false;
    this.cameraOn = false;
    this.deviceIds = {};
    this.remoteMedia = null;
    this.remote = { camera: null, screen: null, audio: false, video: false };
    this.closed = false;
    this.prevCounters = null;
    // Remote streams by id, with the order they first appeared (classifyRemote).
    this.streamOrder = new Map();
    this.trackStream = new Map();

    const config = { iceServers: iceServers || [] };
    if (iceTransportPolicy) config.iceTransportPolicy = iceTransportPolicy;
    const pc = (this.pc = new RTCPeerConnection(config));

    // Perfect negotiation (W3C example, names kept).
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.isSettingRemoteAnswerPending = false;
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this._sendDescription();
      } catch (err) {
        this._warn('offer', err);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      if (this.closed) return;
      if (!candidate) return this._send({ candidate: null });
      this._send({
        candidate: {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex,
          usernameFragment: candidate.usernameFragment,
        },
      });
    };
    let lastFailed = false;
    const failed = () => {
      const now = pc.connectionState === 'failed' || pc.iceConnectionState === 'failed';
      if (now && !lastFailed && !this.closed) pc.restartIce();
      lastFailed = now;
    };
    pc.oniceconnectionstatechange = failed;
    pc.onconnectionstatechange = () => {
      failed();
      if (pc.connectionState === 'connected') this._sendMedia();
      this.onState(pc.connectionState);
    };
    pc.ontrack = ({ track, streams }) => {
      // The first stream of the track's msid; a track without one (another
      // implementation) counts as a stream of its own.
      const id = streams && streams[0] ? streams[0].id : 'track:' + track.id;
      if (!this.streamOrder.has(id)) this.streamOrder.set(id, this.streamOrder.size);
      this.trackStream.set(track, { id, stream: streams && streams[0] });
      track.onmute = track.onunmute = track.onended = () => this._updateRemote();
      if (streams && streams[0]) streams[0].onremovetrack = () => this._updateRemote();
      this._updateRemote();
    };
    pc.onsignalingstatechange = () => this._updateRemote();
  }

  /** An incoming call.signal (or its payload). Never throws; invalid ones are dropped. */
  async handleSignal(msg) {
    const sig = validSignal(msg);
    if (!sig || this.closed) return;
    const pc = this.pc;
    try {
      if (sig.description) {
        const description = sig.description;
        const readyForOffer = !this.makingOffer && (pc.signalingState === 'stable' || this.isSettingRemoteAnswerPending);
        const offerCollision = description.type === 'offer' && !readyForOffer;
        this.ignoreOffer = !this.polite && offerCollision;
        if (this.ignoreOffer) return;
        this.isSettingRemoteAnswerPending = description.type === 'answer';
        await pc.setRemoteDescription(description);
        this.isSettingRemoteAnswerPending = false;
        if (description.type === 'offer') {
          await pc.setLocalDescription();
          this._sendDescription();
        }
      } else if ('candidate' in sig) {
        try {
          // null: end of candidates (an empty candidate says the same).
          await pc.addIceCandidate(sig.candidate || { candidate: '' });
        } catch (err) {
          if (!this.ignoreOffer) throw err;
        }
      } else if (sig.control) {
        if (sig.control.kind === 'media') {
          this.remoteMedia = sig.control;
          this._updateRemote();
        }
        this.onControl(sig.control);
      }
    } catch (err) {
      this.isSettingRemoteAnswerPending = false;
      this._warn('signal', err);
    }
  }

  /**
   * Gets the mic (and the camera when `video`) and adds them. A camera that
   * fails leaves an audio call; a mic that fails too leaves a call that only
   * listens. Resolves {audio, video, error}.
   */
  async start({ audio = true, video = false, deviceIds } = {}) {
    if (deviceIds) this.deviceIds = { ...this.deviceIds, ...deviceIds };
    let stream = null;
    let error = null;
    const tries = [];
    if (audio || video) tries.push({ audio: audio && this._constraint('audio'), video: video && this._constraint('video') });
    if (audio && video) tries.push({ audio: this._constraint('audio'), video: false });
    if (audio && video) tries.push({ audio: false, video: this._constraint('video') });
    for (const c of tries) {
      try {
        stream = await navigator.mediaDevices.getUserMedia(c);
        break;
      } catch (err) {
        error = error || (err && err.name) || 'Error';
      }
    }
    if (this.closed) {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      return { audio: false, video: false, error: 'closed' };
    }
    if (stream) for (const t of stream.getTracks()) this._addLocal(t);
    this.cameraOn = !!this._track('video');
    this._sendMedia();
    const got = { audio: !!this._track('audio'), video: this.cameraOn };
    return { ...got, error: (audio && !got.audio) || (video && !got.video) ? error : null };
  }

  setMuted(muted) {
    this.muted = !!muted;
    for (const t of this.localStream.getAudioTracks()) t.enabled = !this.muted;
    this._sendMedia();
  }

  /** Turns the camera on (getting one when the call started without) or off. Resolves false when none could be had. */
  async setCamera(on) {
    on = !!on;
    let track = this._track('video');
    if (on && !track) {
      try {
        const s = await navigator.mediaDevices.getUserMedia({ video: this._constraint('video') });
        track = s.getVideoTracks()[0];
      } catch (err) {
        this._warn('camera', err);
        return false;
      }
      if (this.closed) {
        track.stop();
        return false;
      }
      this._addLocal(track);
    }
    this.cameraOn = on && !!track;
    if (track) track.enabled = this.cameraOn;
    this._sendMedia();
    return this.cameraOn === on;
  }

  /** Another mic or camera; replaceTrack keeps the m-line (no renegotiation). */
  async switchDevice(kind, deviceId) {
    this.deviceIds = { ...this.deviceIds, [kind]: deviceId };
    const old = this._track(kind);
    if (!old) return;
    const s = await navigator.mediaDevices.getUserMedia({ [kind]: this._constraint(kind) });
    const track = kind === 'audio' ? s.getAudioTracks()[0] : s.getVideoTracks()[0];
    if (this.closed) return track.stop();
    track.enabled = old.enabled;
    const sender = this.pc.getSenders().find((x) => x.track === old);
    if (sender) await sender.replaceTrack(track);
    this.localStream.removeTrack(old);
    this.localStream.addTrack(track);
    old.stop();
  }

  /** Shares a screen (the browser asks which); resolves false when the visitor chose nothing. */
  async shareScreen() {
    if (this.screenSender) return true;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      this._warn('screen', err);
      return false;
    }
    const track = stream.getVideoTracks()[0];
    if (this.closed || !track) {
      stream.getTracks().forEach((t) => t.stop());
      return false;
    }
    if ('contentHint' in track) track.contentHint = 'detail';
    track.onended = () => this.stopScreen();
    this.screenStream = stream;
    this.screenSender = this.pc.addTrack(track, stream);
    this._sendMedia();
    return true;
  }

  stopScreen() {
    if (!this.screenSender) return;
    const sender = this.screenSender;
    this.screenSender = null;
    if (this.screenStream) this.screenStream.getTracks().forEach((t) => t.stop());
    this.screenStream = null;
    if (!this.closed) {
      try {
        this.pc.removeTrack(sender);
      } catch (err) {
        this._warn('screen', err);
      }
      this._sendMedia();
    }
  }

  requestScreen() {
    this._send({ control: { kind: 'screen_request' } });
  }

  /** What we send now, as the `media` control says it. */
  media() {
    const a = this._track('audio');
    return { kind: 'media', audio: !!a && !this.muted, video: !!this._track('video') && this.cameraOn, screen: !!this.screenSender };
  }

  async stats() {
    if (this.closed) return summarizeStats([], null);
    const s = summarizeStats(await this.pc.getStats(), this.prevCounters);
    this.prevCounters = s.counters;
    delete s.counters;
    return s;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.stopScreen();
    this.localStream.getTracks().forEach((t) => t.stop());
    const pc = this.pc;
    pc.onnegotiationneeded = pc.onicecandidate = pc.ontrack = null;
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = pc.onsignalingstatechange = null;
    pc.close();
    this.onState('closed');
  }

  // ---- inside

  _constraint(kind) {
    const id = this.deviceIds[kind];
    const c = kind === 'video' ? { width: { ideal: 1280 }, height: { ideal: 720 } } : { echoCancellation: true, noiseSuppression: true };
    return id ? { ...c, deviceId: { exact: id } } : c;
  }

  _track(kind) {
    return (kind === 'audio' ? this.localStream.getAudioTracks() : this.localStream.getVideoTracks())[0] || null;
  }

  _addLocal(track) {
    if (track.kind === 'audio') track.enabled = !this.muted;
    this.localStream.addTrack(track);
    // The mic and the camera share one stream id: the receiver's rule.
    this.pc.addTrack(track, this.localStream);
  }

  _sendDescription() {
    const d = this.pc.localDescription;
    if (d && (d.type === 'offer' || d.type === 'answer')) this._send({ description: { type: d.type, sdp: d.sdp } });
  }

  _sendMedia() {
    if (!this.closed) this._send({ control: this.media() });
  }

  _send(signal) {
    if (this.closed) return;
    // What the server would refuse (docs/protocol.md, section 16: limits) is not sent.
    const clean = validSignal(signal);
    if (!clean) return this._warn('send', new Error('invalid signal'));
    try {
      this.sendSignal(clean);
    } catch (err) {
      this._warn('send', err);
    }
  }

  _updateRemote() {
    if (this.closed) return;
    const live = [];
    for (const tr of this.pc.getTransceivers()) {
      const track = tr.receiver && tr.receiver.track;
      const info = track && this.trackStream.get(track);
      if (!info || track.readyState === 'ended') continue;
      // Not received any more: the other side removed it (its stream lost the
      // track), or the negotiated direction no longer receives.
      if (info.stream && !info.stream.getTracks().includes(track)) continue;
      const dir = tr.currentDirection;
      if (dir === 'inactive' || dir === 'sendonly' || dir === 'stopped' || tr.stopped) continue;
      live.push({ track, streamId: info.id, order: this.streamOrder.get(info.id) });
    }
    const roles = classifyRemote(live, this.remoteMedia);
    const camTracks = [...roles.audio, ...(roles.camera ? [roles.camera] : [])];
    const scrTracks = roles.screen ? [roles.screen] : [];
    const r = this.remote;
    let changed = false;
    if (!sameTracks(r.camera, camTracks)) {
      r.camera = camTracks.length ? new MediaStream(camTracks) : null;
      changed = true;
    }
    if (!sameTracks(r.screen, scrTracks)) {
      r.screen = scrTracks.length ? new MediaStream(scrTracks) : null;
      changed = true;
    }
    const m = this.remoteMedia;
    const audio = roles.audio.length > 0 && (!m || m.audio);
    // (Not the track's `muted`: Chromium can leave a remote track muted for
    // good after an implicit rollback even though its media plays.)
    const video = !!roles.camera && (!m || m.video);
    if (audio !== r.audio || video !== r.video) changed = true;
    r.audio = audio;
    r.video = video;
    if (changed) this.onRemoteStreams({ camera: r.camera, screen: r.screen, audio, video });
  }

  _warn(what, err) {
    if (typeof console !== 'undefined') console.warn('call ' + what + ':', err && err.message ? err.message : err);
  }
}
