// call/callui.jsx: the call UI, the entry of the lazily loaded call chunk
// (issue 17). chat.js imports it when a call rings for this visitor or the
// visitor asks for one; importing it registers the handlers in callHooks and
// main.jsx renders its View between the chat header and the messages.
//
// Views: the request card (voice or video), the incoming-call card, the
// call itself (a compact bar, always; a collapsible video area above it;
// panels for a screen-share request and for devices), a line for a call
// answered in another window, and a short "call ended" line. The messages
// and the composer stay below, so the chat goes on during a call.
//
// Text from people (the agent's name) is rendered as text in a <bdi>.

import { useEffect, useRef } from 'preact/hooks';

import { S, callHooks, update } from '../chat.js';
import { clock } from '../i18n.js';
import { ct, ctName } from './strings.js';
import {
  C,
  accept,
  agentName,
  ask,
  busy,
  cancelAsk,
  chooseDevice,
  currentDevice,
  decline,
  dismissNote,
  dismissShareAsk,
  hangup,
  onCall,
  onResume,
  onSignal,
  request,
  share,
  sharing,
  stopShare,
  toggleCamera,
  toggleDevices,
  toggleExpanded,
  toggleMute,
} from './ctl.js';

export { ask };

// The chunk's stylesheet: loaded beside it (the frame's CSP allows 'self').
const css = document.createElement('link');
css.rel = 'stylesheet';
css.href = 'call.css';
document.head.appendChild(css);

// ---- icons (static SVG, Material Design paths, Apache License 2.0) ----
const Svg = ({ d, size = 20 }) => (
  <svg viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false">
    <path fill="currentColor" d={d} />
  </svg>
);
const PHONE =
  'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z';
const HANG =
  'M12 9c-1.6 0-3.15.25-4.6.72v3.1c0 .39-.23.74-.56.9-.98.49-1.87 1.12-2.66 1.85-.18.18-.43.28-.7.28-.28 0-.53-.11-.71-.29L.29 13.08a.96.96 0 0 1-.29-.7c0-.28.11-.53.29-.71C3.34 8.78 7.46 7 12 7s8.66 1.78 11.71 4.67c.18.18.29.43.29.71 0 .28-.11.53-.29.71l-2.48 2.48c-.18.18-.43.29-.71.29-.27 0-.52-.11-.7-.28a11.3 11.3 0 0 0-2.67-1.85.99.99 0 0 1-.56-.9v-3.1A15.4 15.4 0 0 0 12 9z';
const CAM = 'M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z';
const CAM_OFF =
  'M21 6.5l-4 4V7a1 1 0 0 0-1-1H9.82L21 17.18V6.5zM3.27 2 2 3.27 4.73 6H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12c.21 0 .39-.08.54-.18L19.73 21 21 19.73 3.27 2z';
const MIC =
  'M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5.3-3a5.3 5.3 0 0 1-10.6 0H5c0 3.41 2.72 6.23 6 6.72V21h2v-3.28c3.28-.49 6-3.31 6-6.72h-1.7z';
const MIC_OFF =
  'M19 11h-1.7c0 .74-.16 1.43-.43 2.05l1.23 1.23c.56-.98.9-2.09.9-3.28zm-4.02.17c0-.06.02-.11.02-.17V5a3 3 0 0 0-6 0v.18l5.98 5.99zM4.27 3 3 4.27l6.01 6.01V11a3 3 0 0 0 3 3c.22 0 .44-.03.65-.08l1.66 1.66c-.71.33-1.5.52-2.31.52a5.3 5.3 0 0 1-5.3-5.1H5c0 3.41 2.72 6.23 6 6.72V21h2v-3.28a7.1 7.1 0 0 0 2.54-.9L19.73 21 21 19.73 4.27 3z';
const SCREEN =
  'M20 18a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2H0v2h24v-2h-4zM13 14.5V12.3c-2.78 0-4.6.85-6 2.7.56-2.64 2.1-5.27 6-5.82V7l4 3.73-4 3.77z';
const GEAR =
  'M19.14 12.94a7.1 7.1 0 0 0 0-1.88l2.03-1.58a.5.5 0 0 0 .12-.61l-1.92-3.32a.5.5 0 0 0-.59-.22l-2.39.96a7 7 0 0 0-1.62-.94l-.36-2.54a.5.5 0 0 0-.5-.41h-3.84a.5.5 0 0 0-.48.41l-.36 2.54a7.4 7.4 0 0 0-1.62.94l-2.39-.96a.5.5 0 0 0-.59.22L2.71 8.87a.5.5 0 0 0 .12.61l2.03 1.58a7.3 7.3 0 0 0 0 1.88l-2.03 1.58a.5.5 0 0 0-.12.61l1.92 3.32c.12.22.37.29.59.22l2.39-.96c.5.38 1.03.7 1.62.94l.36 2.54c.05.24.24.41.48.41h3.84c.24 0 .44-.17.47-.41l.36-2.54a7.4 7.4 0 0 0 1.62-.94l2.39.96c.22.08.47 0 .59-.22l1.92-3.32a.5.5 0 0 0-.12-.61l-2.01-1.58zM12 15.6a3.6 3.6 0 1 1 0-7.2 3.6 3.6 0 0 1 0 7.2z';
const UP = 'M7.4 15.4 12 10.8l4.6 4.6L18 14l-6-6-6 6z';
const DOWN = 'M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z';

const initial = (name) => (Array.from(String(name || '').replace(/[^\p{L}\p{N}\p{S}]+/gu, ''))[0] || '?').toUpperCase();
const Avatar = ({ name, big }) => (
  <span class={big ? 'pc-av pc-av-l' : 'pc-av'} aria-hidden="true">
    {initial(name)}
  </span>
);

/**
 * A control button: an icon, and what a click does as its label (and
 * tooltip): "Unmute" while muted. (The label says the state: no
 * aria-pressed as well, which would say it twice.) `tone`: on (a state to
 * notice, e.g. muted), danger (hang up).
 */
function Ctl({ d, label, onClick, tone, testid }) {
  return (
    <button type="button" class={`pc-ctl${tone ? ` pc-${tone}` : ''}`} aria-label={label} title={label} data-testid={testid} onClick={onClick}>
      <Svg d={d} />
    </button>
  );
}

/** A <video> (or <audio>) playing a MediaStream: srcObject is a property, set from an effect. */
function Media({ stream, audio, mirror, fit, label, testid }) {
  const el = useRef(null);
  // The same stream can gain or lose tracks (a camera turned on later): the
  // element gets a fresh stream of those tracks when they change.
  const sig = stream
    ? stream
        .getTracks()
        .map((t) => t.id)
        .join()
    : '';
  useEffect(() => {
    const e = el.current;
    if (!e) return;
    e.srcObject = stream ? new MediaStream(stream.getTracks()) : null;
    if (stream) e.play().catch(() => {});
  }, [stream, sig]);
  if (audio) return <audio ref={el} autoplay />;
  return (
    <video ref={el} class={`pc-video${mirror ? ' pc-mirror' : ''}${fit ? ' pc-fit' : ''}`} autoplay playsinline muted aria-label={label} data-testid={testid} />
  );
}

// ---- the request card (the visitor asks for a call) ----
function AskCard() {
  const name = agentName();
  return (
    <section class="pc-card" aria-labelledby="pc-ask-t" data-testid="call-ask">
      <p class="pc-card-title" id="pc-ask-t">
        {name ? ctName('askTitle', name) : ct('askTeam')}
      </p>
      <div class="pc-actions">
        <button type="button" class="pc-btn pc-go" onClick={() => request('audio')} data-testid="call-ask-audio">
          <Svg d={PHONE} size={16} />
          {ct('askAudio')}
        </button>
        <button type="button" class="pc-btn pc-go" onClick={() => request('video')} data-testid="call-ask-video">
          <Svg d={CAM} size={16} />
          {ct('askVideo')}
        </button>
        <button type="button" class="pc-btn pc-plain pc-wide" onClick={cancelAsk}>
          {ct('cancel')}
        </button>
      </div>
    </section>
  );
}

// ---- the incoming call ----
function Incoming() {
  const name = agentName();
  const video = C.call && C.call.media === 'video';
  return (
    <section class="pc-card pc-incoming" role="alertdialog" aria-labelledby="pc-in-t" aria-describedby="pc-in-m" data-testid="call-incoming">
      <div class="pc-who">
        <span class="pc-ringav">
          <Avatar name={name} big />
        </span>
        <div class="pc-who-text">
          <p class="pc-card-title" id="pc-in-t">
            {ctName('calling', name || ct('you'))}
          </p>
          <p class="pc-sub" id="pc-in-m">
            <Svg d={video ? CAM : PHONE} size={14} />
            {ct(video ? 'video' : 'audio')}
          </p>
        </div>
      </div>
      <div class="pc-actions pc-answer">
        {video && (
          <button type="button" class="pc-btn pc-go pc-wide" onClick={() => accept(true)} data-testid="call-accept-video">
            <Svg d={CAM} size={16} />
            {ct('acceptVideo')}
          </button>
        )}
        <button type="button" class={`pc-btn ${video ? 'pc-alt' : 'pc-go'}`} onClick={() => accept(false)} data-testid="call-accept-audio">
          <Svg d={PHONE} size={16} />
          {video ? ct('acceptAudio') : ct('accept')}
        </button>
        <button type="button" class="pc-btn pc-stop" onClick={decline} data-testid="call-decline">
          <Svg d={HANG} size={16} />
          {ct('decline')}
        </button>
      </div>
    </section>
  );
}

// ---- the call ----
function status() {
  // (The name is on the line above: the status does not repeat it.)
  if (C.phase === 'outgoing') return ct('ringing');
  if (C.phase === 'connecting' || (C.phase === 'active' && C.conn !== 'connected' && C.conn !== 'disconnected' && C.conn !== 'failed' && !C.remote.camera))
    return ct('connecting');
  if (C.conn === 'disconnected' || C.conn === 'failed') return ct('reconnecting');
  return clock((Date.now() - C.since) / 1000);
}

function Stage() {
  const r = C.remote;
  const name = agentName();
  const localVideo = C.camOn && C.local && C.local.getVideoTracks().length > 0;
  const screen = r.screen;
  return (
    <div class="pc-stage" data-testid="call-stage">
      {screen ? (
        <Media stream={screen} fit label={ctName('screenOf', name).join('')} />
      ) : r.video ? (
        <Media stream={r.camera} label={name} testid="call-remote" />
      ) : (
        <div class="pc-novideo">
          <Avatar name={name} big />
        </div>
      )}
      {screen && r.video && (
        <div class="pc-thumb pc-thumb-l">
          <Media stream={r.camera} label={name} />
        </div>
      )}
      {localVideo && (
        <div class="pc-thumb" data-testid="call-preview">
          <Media stream={C.local} mirror label={ct('you')} />
        </div>
      )}
      {sharing() && (
        <p class="pc-badge" role="status">
          <span>{ct('sharing')}</span>
          <button type="button" onClick={stopShare} data-testid="call-stop-share">
            {ct('stopShare')}
          </button>
        </p>
      )}
    </div>
  );
}

function Devices() {
  const d = C.devices;
  const select = (kind, list, label) =>
    list.length > 0 && (
      <label class="pc-dev">
        <span>{ct(label)}</span>
        <select value={currentDevice(kind)} onChange={(e) => chooseDevice(kind, e.currentTarget.value)} data-testid={`call-dev-${kind}`}>
          {list.map((x, i) => (
            <option value={x.deviceId} key={x.deviceId || i}>
              {x.label || `${ct(label)} ${i + 1}`}
            </option>
          ))}
        </select>
      </label>
    );
  return (
    <div class="pc-panel pc-devices" data-testid="call-devices">
      {select('audio', d.audio, 'mic')}
      {select('video', d.video, 'camera')}
    </div>
  );
}

function InCall() {
  const r = C.remote;
  const name = agentName();
  const live = C.phase === 'active';
  const hasVideo = r.video || r.screen || C.camOn || C.media === 'video' || sharing();
  const q = live && C.conn === 'connected' ? C.quality : 'unknown';
  return (
    <section class="pc-call" data-phase={C.phase} data-testid="call-view" aria-label={ct(C.media === 'video' ? 'video' : 'audio')}>
      {hasVideo && C.expanded && <Stage />}
      <div class="pc-bar">
        <Avatar name={name} />
        <div class="pc-info">
          <bdi class="pc-name">{name || ct('team')}</bdi>
          <span class="pc-time" role="timer" data-testid="call-status">
            <span>{status()}</span>
            {live && q !== 'unknown' && (
              <span class={`pc-q pc-q-${q}`} title={ct(q)} data-testid="call-quality" data-q={q}>
                <i aria-hidden="true" />
                {q !== 'good' && <span class="pc-q-t">{ct(q)}</span>}
                {q === 'good' && <span class="pw-sr">{ct(q)}</span>}
              </span>
            )}
          </span>
        </div>
        <div class="pc-ctls">
          {C.peer && C.local && C.local.getAudioTracks().length > 0 && (
            <Ctl d={C.muted ? MIC_OFF : MIC} label={C.muted ? ct('unmute') : ct('mute')} tone={C.muted && 'on'} onClick={toggleMute} testid="call-mute" />
          )}
          {C.peer && <Ctl d={C.camOn ? CAM : CAM_OFF} label={C.camOn ? ct('camOff') : ct('camOn')} onClick={toggleCamera} testid="call-camera" />}
          {/* (with the video area shown, its sharing badge has the Stop button) */}
          {sharing() && !(hasVideo && C.expanded) && <Ctl d={SCREEN} label={ct('stopShare')} tone="on" onClick={stopShare} testid="call-stop-share" />}
          {C.peer && <Ctl d={GEAR} label={ct('devices')} onClick={toggleDevices} testid="call-devices-btn" />}
          {hasVideo && <Ctl d={C.expanded ? UP : DOWN} label={C.expanded ? ct('hideVideo') : ct('showVideo')} onClick={toggleExpanded} testid="call-expand" />}
          <Ctl d={HANG} label={C.phase === 'outgoing' ? ct('cancel') : ct('hangup')} tone="danger" onClick={hangup} testid="call-hangup" />
        </div>
      </div>
      {C.shareAsk === 'ask' && (
        <div class="pc-panel pc-ask" role="alertdialog" aria-labelledby="pc-share-t" data-testid="call-share-ask">
          <p id="pc-share-t">{ctName('shareAsk', name || ct('team'))}</p>
          <div class="pc-row">
            <button type="button" class="pc-btn pc-go" onClick={share} data-testid="call-share">
              <Svg d={SCREEN} size={16} />
              {ct('share')}
            </button>
            <button type="button" class="pc-btn pc-plain" onClick={dismissShareAsk} data-testid="call-share-no">
              {ct('notNow')}
            </button>
          </div>
        </div>
      )}
      {C.shareAsk === 'unsupported' && (
        <div class="pc-panel pc-ask" role="alert">
          <p>{ct('noShare')}</p>
          <button type="button" class="pc-btn pc-plain" onClick={dismissShareAsk}>
            {ct('ok')}
          </button>
        </div>
      )}
      {C.devices && <Devices />}
      {C.note && (
        <p class="pc-note" role="alert" data-testid="call-note">
          <span>{ct(C.note)}</span>
          <button type="button" class="pc-x" aria-label={ct('ok')} title={ct('ok')} onClick={dismissNote}>
            ×
          </button>
        </p>
      )}
      <Media stream={r.camera} audio />
    </section>
  );
}

function Elsewhere() {
  const live = C.call && C.call.state !== 'ended';
  return (
    <section class="pc-line" data-testid="call-elsewhere">
      <Svg d={PHONE} size={16} />
      <span>{ct('elsewhere')}</span>
      {live && (
        <button type="button" class="pc-btn pc-stop pc-small" onClick={hangup}>
          {ct('endCall')}
        </button>
      )}
    </section>
  );
}

function Ended() {
  const [key, name] = C.endText || ['ended'];
  const d = C.call && C.call.duration;
  return (
    <section class="pc-line" role="status" data-testid="call-ended">
      <Svg d={HANG} size={16} />
      <span>
        {name ? ctName(key, name) : ct(key)}
        {key === 'ended' && d ? ` · ${clock(d)}` : ''}
      </span>
    </section>
  );
}

function View() {
  // A call of another conversation (the visitor started a new one) is not shown.
  if (C.call && S.convId && C.call.conversation_id !== S.convId && C.phase !== 'ask') return null;
  switch (C.phase) {
    case 'ask':
      return <AskCard />;
    case 'incoming':
      return <Incoming />;
    case 'outgoing':
    case 'connecting':
    case 'active':
      return <InCall />;
    case 'elsewhere':
      return <Elsewhere />;
    case 'ended':
      return <Ended />;
    default:
      return null;
  }
}

// Take over from chat.js: what it kept before we were loaded.
callHooks.ui = { onCall, onSignal, onResume, busy, View };
const early = callHooks.signals.splice(0);
if (S.call) onCall(S.call);
early.forEach(onSignal);
update();
