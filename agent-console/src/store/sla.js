// sla: the SLA clocks of conversations (conversation.sla, docs/protocol.md
// section 8): the nearest due time still running, and whether it is missed.
// The server clears the first/next response due time when an agent answers
// but sends no conversation.updated for it, so an agent's reply seen here
// (message.created, kind message, by an agent or the API) stops those two
// clocks locally until the next conversation record says otherwise. Owns
// the replies seen (per conversation: the time of the last agent reply and
// of the last visitor message).

import { ts } from '../../../ui-shared/time.js';
import { S } from './state.js';

const replied = new Map(); // conversation id -> ms of the last answer seen
const visitorAt = new Map(); // conversation id -> ms of the last visitor message seen

const ANSWER_KINDS = new Set(['agent', 'api']);

/** Notes a message (from message.created or an ack) for the clocks. */
export function slaSawMessage(msg) {
  if (!msg || msg.kind !== 'message' || !msg.author) return;
  const id = msg.conversation_id;
  const at = ts(msg.created_at) || Date.now();
  if (ANSWER_KINDS.has(msg.author.kind)) replied.set(id, Math.max(at, replied.get(id) || 0));
  else if (msg.author.kind === 'visitor') visitorAt.set(id, Math.max(at, visitorAt.get(id) || 0));
}

/** Forgets what was seen (a new session). */
export function slaReset() {
  replied.clear();
  visitorAt.clear();
}

/** Answered after the visitor's last message, as far as this console saw. */
function answeredSince(id) {
  const r = replied.get(id);
  return !!r && r >= (visitorAt.get(id) || 0);
}

/** The history held: 'last' when an answer follows the newest visitor message, 'some' when any answer is there. */
function historyAnswer(id) {
  const st = S.msgs.get(id);
  if (!st || !st.list.length) return '';
  let found = '';
  for (let i = st.list.length - 1; i >= 0; i--) {
    const m = st.list[i];
    if (m.kind !== 'message' || !m.author) continue;
    if (m.author.kind === 'visitor' && !found) found = 'visitor';
    if (ANSWER_KINDS.has(m.author.kind)) return found ? 'some' : 'last';
  }
  return '';
}

/**
 * The clock to show for a conversation, or null: { kind ('first_response',
 * 'next_response', 'resolution'), due (ms), breached (a missed target is on
 * record or the due time passed) }. The nearest running due time wins.
 */
export function slaClock(c, now = Date.now()) {
  const sla = c && c.sla;
  if (!sla || c.status === 'closed') return null;
  const h = historyAnswer(c.id);
  const answered = answeredSince(c.id) || h === 'last';
  const due = [];
  if (sla.first_response_due_at && !sla.first_response_at && !replied.has(c.id) && !h) due.push(['first_response', sla.first_response_due_at]);
  if (sla.next_response_due_at && !answered) due.push(['next_response', sla.next_response_due_at]);
  if (sla.resolution_due_at) due.push(['resolution', sla.resolution_due_at]);
  if (!due.length) return null;
  let best = null;
  for (const [kind, iso] of due) {
    const t = ts(iso);
    if (t && (!best || t < best.due)) best = { kind, due: t };
  }
  if (!best) return null;
  const recorded = Array.isArray(sla.breaches) && sla.breaches.some((b) => b && b.kind === best.kind && ts(b.due_at) === best.due);
  best.breached = recorded || best.due <= now;
  return best;
}
