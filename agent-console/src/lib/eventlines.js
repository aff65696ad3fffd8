// Event lines in the agent's language, from their stable codes (`event`,
// `event_agent`, `event_team`, `event_by` and, for agents, `meta`) rather
// than the server's English `body`: joined (invited by, as a supervisor),
// left, taken (from), escalated (to a team or an agent, by, with the
// reason, which agents alone see), assigned, transferred, reopened, closed,
// requeued. Two kinds of notes read as lines too, marked internal: the
// priority set (meta event "priority") and a missed SLA target (meta event
// "sla_breach"). Anything else keeps its body. Plain text: names are
// isolated (ui-shared/bidi.js), never HTML.

import { isolate } from '../../../ui-shared/bidi.js';
import { t } from './i18n.js';

const PRIORITY_WORD = { low: 'prLow', normal: 'prNormal', high: 'prHigh', urgent: 'prUrgent' };
const SLA_WORD = { first_response: 'evSlaFirst', next_response: 'evSlaNext', resolution: 'evSlaResolution' };

/** A note that reads as an internal event line (priority, SLA missed). */
export const isNoteLine = (m) => !!m && m.kind === 'note' && !!m.meta && (m.meta.event === 'priority' || m.meta.event === 'sla_breach');

/**
 * { text, reason } for an event message or a note line. nameOf(id): an
 * agent's name from the console's list (or undefined).
 */
export function eventLine(m, nameOf = () => undefined) {
  const meta = m.meta || {};
  const code = m.kind === 'event' ? m.event || meta.event : meta.event;
  const name = (s) => (s ? isolate(s) : t('someone'));
  const agent = name(m.event_agent || (meta.agent_id ? nameOf(meta.agent_id) : ''));
  const by = meta.by_agent_id ? nameOf(meta.by_agent_id) : null;
  const team = m.event_team ? isolate(m.event_team) : null;
  let text = null;
  let reason = null;
  switch (code) {
    case 'joined':
      if (meta.role === 'supervisor') text = t('evJoinedSupervisor', { agent });
      else if (by) text = t('evJoinedBy', { agent, by: isolate(by) });
      else text = t('evJoined', { agent });
      break;
    case 'left':
      text = t('evLeft', { agent });
      break;
    case 'taken': {
      const from = meta.from_agent_id ? nameOf(meta.from_agent_id) : null;
      text = from ? t('evTakenFrom', { agent, from: isolate(from) }) : t('evTaken', { agent });
      break;
    }
    case 'escalated':
      if (team) text = by ? t('evEscalatedTeamBy', { team, by: isolate(by) }) : t('evEscalatedTeam', { team });
      else if (m.event_agent || meta.agent_id) text = by ? t('evEscalatedAgentBy', { agent, by: isolate(by) }) : t('evEscalatedAgent', { agent });
      if (meta.reason) reason = t('evReason', { reason: meta.reason });
      break;
    case 'assigned':
      text = t('evAssigned', { agent });
      break;
    case 'transferred':
      if (team) text = t('evTransferredTeam', { team });
      else if (m.event_agent) text = t('evTransferredAgent', { agent });
      else text = t('evTransferred');
      break;
    case 'reopened':
      text = m.event_agent ? t('evReopenedBy', { agent }) : t('evReopened');
      break;
    case 'closed':
      if (meta.rule === 'visitor_idle') text = t('evClosedIdle');
      else if (m.event_by === 'visitor') text = t('evClosedVisitor');
      else if (m.event_by === 'agent') text = t('evClosedAgent');
      else text = t('evClosed');
      break;
    case 'requeued':
      text = meta.rule === 'not_answered' && m.event_agent ? t('evRequeuedLate', { agent }) : t('evRequeued');
      break;
    case 'priority': {
      const p = t(PRIORITY_WORD[meta.priority] || 'prNormal');
      const who = m.author && m.author.kind === 'agent' && m.author.name ? m.author.name : null;
      text = who ? t('evPriorityBy', { by: isolate(who), priority: p }) : t('evPriority', { priority: p });
      break;
    }
    case 'sla_breach':
      text = SLA_WORD[meta.kind] ? t(SLA_WORD[meta.kind]) : null;
      break;
    default:
  }
  return { text: text || m.body, reason };
}
