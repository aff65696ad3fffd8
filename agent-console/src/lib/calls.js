// Calls in words (issue 17; docs/protocol.md section 16): a call's
// length in the console's language, the server's refusals (error codes of
// call.start/accept/...), the browser's media errors (getUserMedia,
// getDisplayMedia), why a call ended and the connection quality. Plain
// text, never HTML. The store (store/calls.js) and the views use these; the
// event lines use callDuration (lib/eventlines.js).

import { DURATION_UNITS, fmtDuration } from '../../../ui-shared/time.js';
import { lang, t } from './i18n.js';

/** A call's length from seconds: "3m 05s" ("3分05秒"). */
export function callDuration(sec) {
  const u = lang() === 'en' ? DURATION_UNITS : { s: t('callUnitS'), m: t('callUnitM'), h: t('callUnitH'), d: t('callUnitD'), sep: t('callUnitSep') };
  return fmtDuration(Math.max(0, Number(sec) || 0) * 1000, u);
}

/** The running timer of a call: "0:42", "12:05", "1:02:09" (the same in both languages). */
export function callClock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** A refusal of a call.* request (a SocketError's code) in words; type: the request's (call.accept is refused once answered elsewhere). */
export function callErrorText(e, type) {
  const code = e && e.code;
  if (type === 'call.accept' && (code === 'invalid_state' || code === 'not_found')) return t('callErrAnswered');
  if (code === 'calls_disabled') return t('callErrDisabled');
  if (code === 'call_in_progress') return t('callErrBusy');
  if (code === 'invalid_state' || code === 'forbidden') return t('callErrState');
  if (code === 'not_found') return t('callErrGone');
  if (code === 'rate_limited') return t('callErrRate');
  if (code === 'disconnected' || code === 'timeout') return t('errDropped');
  return t('callErrGeneric', { message: (e && e.message) || code || '?' });
}

/** A getUserMedia failure (a DOMException, or its name as CallPeer.start gives it) in words. */
export function mediaErrorText(err) {
  const name = typeof err === 'string' ? err : err && err.name;
  if (typeof window !== 'undefined' && window.isSecureContext === false) return t('callErrInsecure');
  if (name === 'NotAllowedError' || name === 'SecurityError') return t('callErrDenied');
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return t('callErrNoDevice');
  if (name === 'NotReadableError' || name === 'AbortError') return t('callErrInUse');
  return t('callErrMedia', { error: (err && err.message) || name || '?' });
}

/**
 * Why a call this console was in ended, for a toast, or null when the agent
 * ended it (nothing to tell) or the words are already on screen.
 */
export function endedText(call) {
  if (!call) return null;
  const r = call.end_reason;
  if (call.ended_by === 'agent') return null;
  if (r === 'declined') return t('callEndedDeclined');
  if (r === 'missed') return call.caller === 'agent' ? t('callEndedMissed') : null;
  if (r === 'cancelled') return t('callEndedCancelled');
  if (r === 'hangup') return t('callEndedHangup');
  if (r === 'lost') return t('callEndedLost');
  if (r === 'closed') return t('callEndedClosed');
  if (r === 'failed') return t('callEndedFailed');
  return null;
}

const QUALITY = { good: 'callQualityGood', fair: 'callQualityFair', poor: 'callQualityPoor' };

/** The connection quality from CallPeer.stats() in words. */
export const qualityText = (q) => t(QUALITY[q] || 'callQualityUnknown');

/** Its numbers ("Round trip 84 ms · 0.5% lost"; rtt in ms, packetLoss 0..1), or '' when stats() has none yet. */
export function qualityDetail(st) {
  if (!st || typeof st.rtt !== 'number') return '';
  const loss = typeof st.packetLoss === 'number' ? Math.round(st.packetLoss * 1000) / 10 : 0;
  return t('callQualityDetail', { rtt: Math.round(st.rtt), loss });
}
