// Event lines in the agent's language, from their stable codes (`event`,
// `event_agent`, `event_team`, `event_by` and, for agents, `meta`) rather
// than the server's English `body`: joined (invited by, as a supervisor),
// left, taken (from), escalated (to a team or an agent, by, with the
// reason, which agents alone see), assigned, transferred, reopened, closed,
// requeued, and the calls' lines (offered or requested with the media,
// answered, declined, missed, cancelled, ended with the call's length, from
// `event_call` and `event_by`). Three kinds of notes read as lines too, marked internal: the
// priority set (meta event "priority"), labels added or removed (meta event
// "labels", by id) and a missed SLA target (meta event "sla_breach"). Anything else keeps its body. Plain text, never HTML: the
// console puts each name in a <bdi>, previews isolate them with marks.

import { isolate } from '../../../ui-shared/bidi.js';
import { callDuration } from './calls.js';
import { t } from './i18n.js';

const PRIORITY_WORD = { low: 'prLow', normal: 'prNormal', high: 'prHigh', urgent: 'prUrgent' };
const SLA_WORD = { first_response: 'evSlaFirst', next_response: 'evSlaNext', resolution: 'evSlaResolution' };

const NOTE_LINES = new Set(['priority', 'labels', 'sla_breach']);

/** A note that reads as an internal event line (priority, labels, SLA missed). */
export const isNoteLine = (m) => !!m && m.kind === 'note' && !!m.meta && NOTE_LINES.has(m.meta.event);

/**
 * How to word an event message or a note line: { key, vars, reason } (a
 * words key and its raw values: names, a team, a priority in words; reason,
 * when there is one, the same for "Reason: …"), or null to show the body.
 * nameOf(id): an agent's name from the console's list (or undefined);
 * labelOf(id): a label's name (or undefined: the body, which names them, is
 * shown instead).
 */
export function eventWords(m, nameOf = () => undefined, labelOf = () => undefined) {
  const meta = m.meta || {};
  const code = m.kind === 'event' ? m.event || meta.event : meta.event;
  const agent = m.event_agent || (meta.agent_id ? nameOf(meta.agent_id) : '') || t('someone');
  const by = meta.by_agent_id ? nameOf(meta.by_agent_id) : null;
  const team = m.event_team || null;
  const w = (key, vars = {}) => ({ key, vars, reason: null });
  switch (code) {
    case 'joined':
      if (meta.role === 'supervisor') return w('evJoinedSupervisor', { agent });
      return by ? w('evJoinedBy', { agent, by }) : w('evJoined', { agent });
    case 'left':
      return w('evLeft', { agent });
    case 'taken': {
      const from = meta.from_agent_id ? nameOf(meta.from_agent_id) : null;
      return from ? w('evTakenFrom', { agent, from }) : w('evTaken', { agent });
    }
    case 'escalated': {
      let r = null;
      if (team) r = by ? w('evEscalatedTeamBy', { team, by }) : w('evEscalatedTeam', { team });
      else if (m.event_agent || meta.agent_id) r = by ? w('evEscalatedAgentBy', { agent, by }) : w('evEscalatedAgent', { agent });
      if (r && meta.reason) r.reason = { key: 'evReason', vars: { reason: meta.reason } };
      return r;
    }
    case 'assigned':
      return w('evAssigned', { agent });
    case 'transferred':
      if (team) return w('evTransferredTeam', { team });
      return m.event_agent ? w('evTransferredAgent', { agent }) : w('evTransferred');
    case 'reopened':
      return m.event_agent ? w('evReopenedBy', { agent }) : w('evReopened');
    case 'closed':
      if (meta.rule === 'visitor_idle') return w('evClosedIdle');
      if (m.event_by === 'visitor') return w('evClosedVisitor');
      if (m.event_by === 'agent') return w('evClosedAgent');
      return w('evClosed');
    case 'requeued':
      return meta.rule === 'not_answered' && m.event_agent ? w('evRequeuedLate', { agent }) : w('evRequeued');
    case 'priority': {
      const priority = t(PRIORITY_WORD[meta.priority] || 'prNormal');
      const who = m.author && m.author.kind === 'agent' && m.author.name ? m.author.name : null;
      return who ? w('evPriorityBy', { by: who, priority }) : w('evPriority', { priority });
    }
    case 'labels': {
      const names = (ids) => (Array.isArray(ids) ? ids.map(labelOf) : []);
      const added = names(meta.added);
      const removed = names(meta.removed);
      if (added.concat(removed).some((n) => !n) || (!added.length && !removed.length)) return null;
      const list = (xs) => xs.join(t('listSep'));
      if (added.length && removed.length) return w('evLabelsBoth', { added: list(added), removed: list(removed) });
      return added.length ? w('evLabelsAdded', { added: list(added) }) : w('evLabelsRemoved', { removed: list(removed) });
    }
    case 'sla_breach':
      return SLA_WORD[meta.kind] ? w(SLA_WORD[meta.kind]) : null;
    default:
      return code && code.startsWith('call_') ? callWords(m, code, w) : null;
  }
}

/** A call's event line: the media from event_call, who acted from event_by (and event_agent). */
function callWords(m, code, w) {
  const call = m.event_call || {};
  const video = call.media === 'video';
  const agent = m.event_agent || null;
  // Who did it: the agent (by name when the line has it), the visitor, or no one said.
  const byWho = (base) => {
    if (m.event_by === 'visitor') return w(`${base}Visitor`);
    if (m.event_by === 'agent') return agent ? w(`${base}Agent`, { agent }) : w(`${base}AgentAnon`);
    return w(base);
  };
  switch (code) {
    case 'call_offered':
      return agent ? w(video ? 'evCallOfferedVideo' : 'evCallOfferedVoice', { agent }) : w(video ? 'evCallOfferedVideoPlain' : 'evCallOfferedVoicePlain');
    case 'call_requested':
      return w(video ? 'evCallRequestedVideo' : 'evCallRequestedVoice');
    case 'call_accepted':
      return byWho('evCallAccepted');
    case 'call_declined':
      return byWho('evCallDeclined');
    case 'call_missed':
      return w(video ? 'evCallMissedVideo' : 'evCallMissedVoice');
    case 'call_cancelled':
      return byWho('evCallCancelled');
    case 'call_ended':
      if (call.duration == null) return w(video ? 'evCallEndedVideoPlain' : 'evCallEndedVoicePlain');
      return w(video ? 'evCallEndedVideo' : 'evCallEndedVoice', { duration: callDuration(call.duration) });
    default:
      return null;
  }
}

/** A worded key as pieces: ["text", {name: value}, "text", …] (the values to isolate). */
export function wordPieces({ key, vars }) {
  const out = [];
  t(key)
    .split(/\{(\w+)\}/)
    .forEach((piece, i) => {
      if (i % 2 === 0) {
        if (piece) out.push(piece);
      } else out.push({ value: piece in vars ? String(vars[piece]) : `{${piece}}` });
    });
  return out;
}

/** The line as plain text (names isolated with marks), for previews. */
export function eventText(m, nameOf, labelOf) {
  const w = eventWords(m, nameOf, labelOf);
  if (!w) return m.body;
  const iso = (vars) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, isolate(v)]));
  const text = t(w.key, iso(w.vars));
  return w.reason ? `${text} · ${t(w.reason.key, iso(w.reason.vars))}` : text;
}
