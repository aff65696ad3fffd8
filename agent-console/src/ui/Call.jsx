// Calls in the console (issue 17): the header's call buttons (voice, video)
// or the word that this agent's call is in another tab; the ringing card
// of a visitor's call, over whatever is on screen; the call panel in its
// conversation (calling out with Cancel, then the remote video or the
// visitor's avatar, the local preview, a shared screen, the controls, the
// timer and the connection's quality); the strip that brings the agent back
// to the call from anywhere else; and the remote sound, which plays from
// the shell so that leaving the conversation does not cut it.
//
// The state and every action are store/calls.js's; this file only draws.
// Remote <video> elements are muted: the sound comes from CallAudio alone.

import { useEffect, useRef, useState } from 'preact/hooks';
import {
  S,
  acceptCall,
  askScreen,
  callElsewhere,
  canCall,
  declineCall,
  hangUp,
  navigate,
  ringingCalls,
  setCallCollapsed,
  startCall,
  switchDevice,
  toggleCamera,
  toggleMute,
  toggleScreen,
} from '../store/index.js';
import { callClock, qualityDetail, qualityText } from '../lib/calls.js';
import { t } from '../lib/i18n.js';
import { visitorName } from '../lib/util.js';
import { Avatar, Bdi, useNow } from './common.jsx';
import { Icon } from './icons.jsx';

/** A <video> showing a MediaStream (srcObject is a property, not an attribute). */
function MediaVideo({ stream, class: cls = '', mirror = false, testid }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (el && el.srcObject !== stream) el.srcObject = stream || null;
  }, [stream]);
  return <video ref={ref} class={`call-video ${mirror ? 'mirror' : ''} ${cls}`} autoplay playsinline muted data-testid={testid} />;
}

/** The remote sound, for as long as this tab's call lasts, wherever the agent is in the console. */
export function CallAudio() {
  const call = S.myCall;
  const streams = call ? [call.streams.camera, call.streams.screen].filter(Boolean) : [];
  return streams.map((s) => <RemoteAudio key={s.id} stream={s} />);
}

function RemoteAudio({ stream }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = stream;
    const p = el.play();
    if (p && p.catch) p.catch(() => {});
  }, [stream]);
  return <audio ref={ref} autoplay class="call-audio" data-testid="call-audio" />;
}

// -------------------------------------------------------------------- header

/** The header's call buttons, or the word that the call is in another tab. */
export function CallButtons({ c }) {
  const other = callElsewhere(c.id);
  if (other) {
    const text = other.state === 'ringing' ? t('callOtherTabRinging') : t('callOtherTab');
    return (
      <span class="call-elsewhere" data-testid="call-elsewhere" title={text}>
        <Icon name="call" size={14} />
        <span class="call-elsewhere-text">{text}</span>
      </span>
    );
  }
  if (!canCall(c)) return null;
  // Two buttons; in a narrow conversation (a phone) one that offers both,
  // so that the visitor's name keeps its room in the header.
  return (
    <>
      <span class="call-btns">
        <button
          type="button"
          class="btn call-btn"
          onClick={() => startCall(c.id, 'audio')}
          aria-label={t('callVoice')}
          title={t('callVoiceTitle')}
          data-testid="call-voice"
        >
          <Icon name="call" size={16} />
        </button>
        <button
          type="button"
          class="btn call-btn"
          onClick={() => startCall(c.id, 'video')}
          aria-label={t('callVideo')}
          title={t('callVideoTitle')}
          data-testid="call-video"
        >
          <Icon name="video" size={17} />
        </button>
      </span>
      <CallMenu c={c} />
    </>
  );
}

function CallMenu({ c }) {
  const [open, setOpen, box] = usePopover();
  const item = (media, icon, word, testid) => (
    <button
      type="button"
      role="menuitem"
      class="call-menu-item"
      onClick={() => {
        setOpen(false);
        startCall(c.id, media);
      }}
      data-testid={testid}
    >
      <Icon name={icon} size={16} />
      {word}
    </button>
  );
  return (
    <span class="call-menu" ref={box}>
      <button
        type="button"
        class="btn call-btn"
        aria-haspopup="menu"
        aria-expanded={open ? 'true' : 'false'}
        aria-label={t('callMenu')}
        title={t('callMenu')}
        onClick={() => setOpen(!open)}
        data-testid="call-menu"
      >
        <Icon name="call" size={16} />
      </button>
      {open ? (
        <div class="call-menu-list" role="menu" data-testid="call-menu-list">
          {item('audio', 'call', t('callVoice'), 'call-menu-voice')}
          {item('video', 'video', t('callVideo'), 'call-menu-video')}
        </div>
      ) : null}
    </span>
  );
}

/** A small menu's state: [open, setOpen, ref of its box]; a click outside or Escape closes it. */
function usePopover() {
  const [open, setOpen] = useState(false);
  const box = useRef(null);
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => {
      if (box.current && !box.current.contains(e.target)) setOpen(false);
    };
    const esc = (e) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);
  return [open, setOpen, box];
}

// ----------------------------------------------------------------- ringing

/** Visitors' calls ringing for this agent, over any view (no sound: a card that draws the eye). */
export function RingingCards() {
  const calls = ringingCalls();
  if (!calls.length) return null;
  return (
    <div class="ring-cards" role="region" aria-label={t('callIncomingAll')}>
      {calls.map((call) => (
        <RingingCard key={call.id} call={call} />
      ))}
    </div>
  );
}

function RingingCard({ call }) {
  const c = S.convs.get(call.conversation_id);
  const name = c ? visitorName(c) : t('theVisitor');
  const video = call.media === 'video';
  const busy = !!S.myCall;
  const title = video ? t('callIncomingVideo') : t('callIncomingVoice');
  return (
    <div class="ring-card" role="alertdialog" aria-label={`${title}: ${name}`} data-testid="ring-card" data-call={call.id} data-media={call.media}>
      <div class="ring-avatar">
        <span class="ring-pulse" aria-hidden="true" />
        <Avatar name={name} seed={`v${c && c.visitor ? c.visitor.id : call.conversation_id}`} size={44} />
        <span class="ring-badge" aria-hidden="true">
          <Icon name={video ? 'video' : 'call'} size={12} />
        </span>
      </div>
      <div class="ring-text">
        <span class="ring-kind">{title}</span>
        <strong class="ring-name">
          <Bdi text={name} />
        </strong>
        <button
          type="button"
          class="link-btn ring-open"
          onClick={() => navigate({ area: 'inbox', list: 'mine', selected: call.conversation_id })}
          data-testid="ring-open"
        >
          {t('callOpenChat')} · #{call.conversation_id}
        </button>
      </div>
      <div class="ring-actions">
        <button type="button" class="btn ring-decline" onClick={() => declineCall(call.id)} data-testid="ring-decline">
          <Icon name="hangup" size={16} />
          <span>{t('callDecline')}</span>
        </button>
        <button
          type="button"
          class="btn ring-accept"
          disabled={busy}
          onClick={() => {
            acceptCall(call.id);
            navigate({ area: 'inbox', list: 'mine', selected: call.conversation_id });
          }}
          data-testid="ring-accept"
        >
          <Icon name={video ? 'video' : 'call'} size={16} />
          <span>{t('callAccept')}</span>
        </button>
      </div>
    </div>
  );
}

// ------------------------------------------------------------------ the panel

function CallTimer({ since }) {
  const now = useNow(1000);
  return (
    <span class="call-timer" data-testid="call-timer" aria-label={t('callTimerLabel')}>
      {callClock(since ? now - since : 0)}
    </span>
  );
}

function Quality({ stats }) {
  const q = (stats && stats.quality) || 'unknown';
  const detail = qualityDetail(stats);
  return (
    <span class={`call-quality q-${q}`} title={detail || qualityText(q)} data-testid="call-quality" data-quality={q}>
      <span class="call-quality-dot" aria-hidden="true" />
      <span class="call-quality-text">{qualityText(q)}</span>
    </span>
  );
}

/** The phase in words, or null once media flows. */
function phaseText(call) {
  switch (call.phase) {
    case 'starting':
      return t('callStarting');
    case 'ringing':
      return t('callCalling');
    case 'accepting':
      return t('callAccepting');
    case 'connecting':
      return t('callConnecting');
    case 'reconnecting':
      return t('callReconnecting');
    default:
      return null;
  }
}

function RoundBtn({ icon, label, on, danger, onClick, testid, disabled }) {
  return (
    <button
      type="button"
      class={`call-ctl ${on ? 'on' : ''} ${danger ? 'danger' : ''}`}
      onClick={onClick}
      aria-label={label}
      title={label}
      aria-pressed={on === undefined ? undefined : on ? 'true' : 'false'}
      disabled={disabled}
      data-testid={testid}
    >
      <Icon name={icon} size={18} />
    </button>
  );
}

/** Microphone and camera pickers (enumerateDevices), in a small menu above the controls. */
function Devices({ call }) {
  const [open, setOpen, box] = usePopover();
  const pick = (kind, list, word) => (
    <label class="call-device">
      <span>{word}</span>
      <select value={call.deviceIds[kind] || ''} onChange={(e) => switchDevice(kind, e.currentTarget.value)} data-testid={`call-device-${kind}`}>
        {!call.deviceIds[kind] ? <option value="">{t('callDeviceDefault')}</option> : null}
        {list.map((d, i) => (
          <option key={d.id} value={d.id}>
            {d.label || t('callDeviceN', { kind: word, n: i + 1 })}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div class="call-devices" ref={box}>
      <RoundBtn icon="settings" label={t('callDevices')} on={open} onClick={() => setOpen(!open)} testid="call-devices" />
      {open ? (
        <div class="call-devices-menu" role="group" aria-label={t('callDevices')} data-testid="call-devices-menu">
          {pick('audio', call.devices.audio, t('callMic'))}
          {call.devices.video.length > 0 && (call.media === 'video' || call.local.video) ? pick('video', call.devices.video, t('callCamera')) : null}
        </div>
      ) : null}
    </div>
  );
}

/** The call of this tab, in its conversation: above the thread, which stays usable below it. */
export function CallPanel({ c }) {
  const call = S.myCall;
  if (!call || call.conversation_id !== c.id) return null;
  const name = visitorName(c);
  const { remote, local, streams } = call;
  // A voice call where either side turned a camera on is drawn as a video call.
  const video = call.media === 'video' || local.video || remote.video;
  const outgoing = call.phase === 'starting' || call.phase === 'ringing';
  const live = !outgoing && call.phase !== 'accepting';
  const theirScreen = live && remote.screen && streams.screen;
  const theirCamera = live && remote.video && streams.camera && streams.camera.getVideoTracks().length > 0;
  const words = phaseText(call);
  const selfTiles = [
    local.screen ? (
      <div class="call-tile call-pip screen" key="screen" data-testid="call-local-screen">
        {streams.localScreen ? <MediaVideo stream={streams.localScreen} class="contain" /> : <Icon name="screenShare" size={22} />}
        <span class="call-tag">{t('callYourScreen')}</span>
      </div>
    ) : null,
    video && local.video && streams.local ? (
      <div class="call-tile call-pip" key="camera" data-testid="call-local-video">
        <MediaVideo stream={streams.local} mirror />
        <span class="call-tag">{local.audio ? t('callYou') : t('callYouMuted')}</span>
      </div>
    ) : null,
  ];
  const cameraTile = theirCamera ? (
    <div class={`call-tile ${theirScreen ? 'call-side' : 'call-main'}`} data-testid="call-remote-video">
      <MediaVideo stream={streams.camera} />
      {!remote.audio ? (
        <span class="call-tag muted-tag">
          <Icon name="micOff" size={12} /> {t('callTheyMuted')}
        </span>
      ) : null}
    </div>
  ) : null;
  // The visitor's screen takes the stage; their camera and the agent's own
  // tiles stack in a column beside it. Otherwise the agent's tiles float
  // over the visitor's picture (or avatar).
  const stage = (
    <div class={`call-stage ${theirScreen ? 'has-screen' : ''}`} data-testid="call-stage">
      {theirScreen ? (
        <div class="call-tile call-main screen" data-testid="call-remote-screen">
          <MediaVideo stream={streams.screen} class="contain" />
          <span class="call-tag">{t('callTheirScreen')}</span>
        </div>
      ) : (
        cameraTile || (
          <div class="call-tile call-main call-avatar" data-testid="call-remote-avatar">
            <Avatar name={name} seed={`v${c.visitor ? c.visitor.id : c.id}`} size={video ? 72 : 56} />
            <div class="call-avatar-lines">
              <Bdi class="call-avatar-name" text={name} />
              {words ? (
                <span class="call-phase" data-testid="call-phase">
                  {words}
                </span>
              ) : null}
              {live && video && !remote.video ? <span class="call-sub">{t('callTheyCameraOff')}</span> : null}
              {live && !remote.audio ? (
                <span class="call-sub">
                  <Icon name="micOff" size={12} /> {t('callTheyMuted')}
                </span>
              ) : null}
              {call.phase === 'ringing' ? <span class="call-sub">{t('callCallingHint')}</span> : null}
            </div>
          </div>
        )
      )}
      {words && (theirCamera || theirScreen) ? (
        <span class="call-phase-overlay" data-testid="call-phase">
          {words}
        </span>
      ) : null}
      {theirScreen ? (
        <div class="call-column">
          {cameraTile}
          {selfTiles}
        </div>
      ) : (
        <div class="call-self">{selfTiles}</div>
      )}
    </div>
  );
  return (
    <section
      class={`call-panel ${video ? 'is-video' : 'is-audio'} ${call.collapsed ? 'collapsed' : ''}`}
      aria-label={t('callWith', { name })}
      data-testid="call-panel"
      data-phase={call.phase}
      data-media={call.media}
    >
      {call.collapsed ? null : stage}
      <div class={`call-controls ${outgoing ? '' : 'live'}`}>
        <div class="call-status">
          <span class={`call-dot phase-${call.phase}`} aria-hidden="true" />
          <span class="call-kind">{video ? t('callVideoLabel') : t('callVoiceLabel')}</span>
          {outgoing || call.phase === 'accepting' ? (
            // The stage says it already, unless it is hidden.
            call.collapsed ? (
              <span class="call-status-text">{words}</span>
            ) : null
          ) : (
            <>
              <CallTimer since={call.since} />
              <Quality stats={call.stats} />
            </>
          )}
        </div>
        {outgoing ? (
          <div class="call-buttons">
            <button type="button" class="btn call-hangup call-cancel" onClick={hangUp} data-testid="call-cancel">
              <Icon name="hangup" size={16} />
              <span>{t('callCancel')}</span>
            </button>
          </div>
        ) : (
          <div class="call-buttons">
            <RoundBtn
              icon={local.audio ? 'mic' : 'micOff'}
              label={local.audio ? t('callMute') : t('callUnmute')}
              on={!local.audio}
              onClick={toggleMute}
              testid="call-mute"
            />
            <RoundBtn
              icon={local.video ? 'video' : 'videoOff'}
              label={local.video ? t('callCameraOff') : t('callCameraOn')}
              on={call.media === 'video' && !local.video}
              onClick={toggleCamera}
              testid="call-camera"
            />
            <RoundBtn
              icon={local.screen ? 'screenStop' : 'screenShare'}
              label={local.screen ? t('callStopSharing') : t('callShareScreen')}
              on={local.screen}
              onClick={toggleScreen}
              testid="call-share"
              disabled={!live}
            />
            {!remote.screen ? (
              <button
                type="button"
                class="btn small call-ask"
                onClick={askScreen}
                disabled={!live}
                title={t('callAskScreen')}
                aria-label={t('callAskScreen')}
                data-testid="call-ask-screen"
              >
                <Icon name="monitor" size={15} />
                <span class="call-ask-text">{t('callAskScreenShort')}</span>
              </button>
            ) : null}
            <Devices call={call} />
            <RoundBtn
              icon={call.collapsed ? 'chevronDown' : 'chevronUp'}
              label={call.collapsed ? t('callShowVideo') : t('callHideVideo')}
              onClick={() => setCallCollapsed(!call.collapsed)}
              testid="call-collapse"
            />
            <button type="button" class="btn call-hangup" onClick={hangUp} data-testid="call-hangup" aria-label={t('callHangUp')} title={t('callHangUp')}>
              <Icon name="hangup" size={16} />
              <span class="call-hangup-text">{t('callHangUp')}</span>
            </button>
          </div>
        )}
      </div>
    </section>
  );
}

/** This tab's call, seen from anywhere but its conversation: a strip to return to it. */
export function CallStrip() {
  const call = S.myCall;
  if (!call) return null;
  if (S.view.area === 'inbox' && S.view.selected === call.conversation_id) return null;
  const c = S.convs.get(call.conversation_id);
  const name = c ? visitorName(c) : t('theVisitor');
  const outgoing = call.phase === 'starting' || call.phase === 'ringing' || call.phase === 'accepting';
  return (
    <div class="call-strip" role="status" data-testid="call-strip">
      <span class={`call-dot phase-${call.phase}`} aria-hidden="true" />
      <Icon name={call.media === 'video' ? 'video' : 'call'} size={15} />
      <span class="call-strip-text">
        <Bdi text={name} />
        {' · '}
        {outgoing ? phaseText(call) : <CallTimer since={call.since} />}
      </span>
      <button type="button" class="btn small" onClick={() => navigate({ area: 'inbox', list: 'mine', selected: call.conversation_id })} data-testid="call-back">
        {t('callBack')}
      </button>
      {outgoing ? null : (
        <RoundBtn
          icon={call.local.audio ? 'mic' : 'micOff'}
          label={call.local.audio ? t('callMute') : t('callUnmute')}
          on={!call.local.audio}
          onClick={toggleMute}
        />
      )}
      <button type="button" class="btn small call-hangup" onClick={hangUp} aria-label={t('callHangUp')} title={t('callHangUp')} data-testid="call-strip-hangup">
        <Icon name="hangup" size={15} />
      </button>
    </div>
  );
}
