// participants: several agents in one conversation. Who is in it and with
// which role (owner, collaborator, supervisor, escalation) and what the
// agent may do about it (invite, escalate, join, take over, leave); who has
// it open right now (conversation.view / conversation.viewers, typing a
// reply or a note, expired after 8 s like the server's flag); priority and
// labels (the workspace's labels over /api/labels, the editors' requests,
// the list filter). Owns S.viewers, S.labels, S.listFilter.

import { isolate } from '../../../ui-shared/bidi.js';
import { get } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { convStamp, loadClosed, upsertConv } from './conversations.js';
import { syncConv } from './messages.js';
import { isOpen, request } from './socket.js';
import { S, changed, isPrivileged } from './state.js';
import { toast } from './view.js';

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'];
const PRIORITY_WORD = { low: 'prLow', normal: 'prNormal', high: 'prHigh', urgent: 'prUrgent' };

/** A priority in words ("Urgent", "紧急"). */
export const priorityText = (p) => t(PRIORITY_WORD[p] || 'prNormal');

// ------------------------------------------------------------------- who is in

/** My place in c: 'owner', a participant's role, or null. */
export function myRole(c) {
  if (!c || !S.me) return null;
  if (c.assignee && c.assignee.id === S.me.id) return 'owner';
  const p = (c.participants || []).find((x) => x.id === S.me.id);
  return p ? p.role : null;
}

export const isParticipant = (c) => {
  const r = myRole(c);
  return !!r && r !== 'owner';
};

/**
 * What the agent may do about the people in c, as the server would allow
 * it (docs/protocol.md, "Several agents in one conversation").
 */
export function peopleActions(c) {
  const open = !!c && c.status !== 'closed' && c.status !== 'bot';
  const role = myRole(c);
  const priv = isPrivileged();
  const full = ((c && c.participants) || []).length >= 8;
  const mayAct = !!role || priv;
  return {
    invite: open && mayAct && !full,
    escalate: open && mayAct,
    join: open && priv && !role,
    take: open && role !== 'owner' && (priv || !!role),
    leave: open && !!role && role !== 'owner',
  };
}

/** A privileged agent reading along in a chat someone else owns, not in it. */
export const watching = (c) => !!c && isPrivileged() && !myRole(c) && c.status === 'assigned';

// Conversations this agent is a participant of, as far as this page knows
// (seeded from each conversations.list, so that a reload does not take the
// chats the agent was in already for new invitations).
let joined = new Set();

/** Notes whether I am a participant of c now (after every update of it); true when I just became one. */
export function trackJoined(c) {
  if (!c || !S.me) return false;
  const inIt = c.status !== 'closed' && isParticipant(c);
  if (inIt === joined.has(c.id)) return false;
  if (inIt) joined.add(c.id);
  else joined.delete(c.id);
  return inIt;
}

/** What to tell an agent someone else brought into c (invited, escalated to), or null. */
export function broughtInText(c) {
  const r = myRole(c);
  if (r === 'collaborator') return t('invitedYou');
  if (r === 'escalation') return t('escalatedToYou');
  return null;
}

/** A new session: forget the previous agent's. */
export function resetParticipants() {
  joined = new Set();
  viewing.clear();
  S.viewers = new Map();
}

// --------------------------------------------------------------------- actions

function errorText(type, e) {
  const code = e && e.code;
  if (code === 'disconnected' || code === 'timeout') return t('errDropped');
  if (code === 'forbidden') return t('errForbidden');
  if (code === 'not_found') return t('errNotFound');
  if (code === 'agent_unavailable') return t('errAgentUnavailable');
  if (code === 'limit_reached') return t('errLimit');
  if (code === 'invalid_state') return type === 'conversation.escalate' ? t('errInvalidStateQueued') : t('errInvalidState');
  return t('errGeneric', { message: (e && e.message) || code || '?' });
}

/** One request whose ack carries the conversation; the error in words (a toast) or null. */
async function act(frame, okText) {
  if (!isOpen()) {
    toast(t('errNotConnected'), 'error');
    return null;
  }
  try {
    const since = convStamp();
    const ack = await request(frame);
    const c = upsertConv(ack.conversation, since);
    trackJoined(c);
    if (okText) toast(okText, 'success', 2500);
    changed();
    return c;
  } catch (e) {
    toast(errorText(frame.type, e), 'error');
    return null;
  }
}

export async function inviteAgent(id, agentId) {
  const a = S.agents.get(agentId);
  const c = await act({ type: 'conversation.invite', conversation_id: id, agent_id: agentId }, t('invited', { name: a ? isolate(a.name) : '' }));
  return !!c;
}

export async function escalateConv(id, target, reason, priority) {
  const frame = { type: 'conversation.escalate', conversation_id: id, ...target };
  if (reason) frame.reason = reason;
  if (priority) frame.priority = priority;
  const c = await act(frame, t('escalated'));
  if (c) syncConv(id);
  return !!c;
}

export async function joinConv(id) {
  const c = await act({ type: 'conversation.join', conversation_id: id }, t('joined'));
  if (c) syncConv(id);
  return !!c;
}

export async function takeConv(id) {
  const c = await act({ type: 'conversation.take', conversation_id: id }, t('took'));
  if (c) syncConv(id);
  return !!c;
}

export async function leaveConv(id) {
  const c = await act({ type: 'conversation.leave', conversation_id: id }, t('left'));
  return !!c;
}

export async function setPriority(id, priority) {
  const c = S.convs.get(id);
  if (c && c.priority === priority) return true;
  return !!(await act({ type: 'conversation.set_priority', conversation_id: id, priority }, t('prioritySet', { p: priorityText(priority) })));
}

export async function setLabels(id, labelIds) {
  return !!(await act({ type: 'conversation.set_labels', conversation_id: id, label_ids: labelIds }));
}

// -------------------------------------------------------------- who is viewing

const TYPING_MS = 8000;
const viewing = new Set(); // the conversations this console shows

/** The console shows (on) or stops showing conversation id. */
export function showConv(id, on) {
  if (on) viewing.add(id);
  else viewing.delete(id);
  if (!on) S.viewers.delete(id);
  if (isOpen()) sendView(id, on);
}

function sendView(id, on) {
  request({ type: 'conversation.view', conversation_id: id, on }).then(
    (ack) => {
      if (on && viewing.has(id) && Array.isArray(ack.viewers)) setViewers(id, ack.viewers);
    },
    () => {},
  );
}

/** After each (re)connect: the server forgot what this socket showed. */
export function resumeViewing() {
  for (const id of viewing) sendView(id, true);
}

function setViewers(id, list) {
  const old = new Map((S.viewers.get(id) || []).map((v) => [v.id, v]));
  const now = Date.now();
  S.viewers.set(
    id,
    list.map((v) => {
      const was = old.get(v.id);
      // A flag that did not change keeps its time (the server says nothing on a renewal).
      const until = v.typing ? (was && was.typing && was.note === v.note ? was.until : now + TYPING_MS) : 0;
      return { id: v.id, name: v.name, typing: !!v.typing, note: !!v.note, until };
    }),
  );
  sweepSoon();
  changed();
}

/** conversation.viewers. */
export function onViewers(m) {
  if (!viewing.has(m.conversation_id) || !Array.isArray(m.viewers)) return;
  setViewers(m.conversation_id, m.viewers);
}

/**
 * typing from an agent: the server renews a viewer's flag silently, so its
 * typing events (agent_id: which colleague) renew it here.
 */
export function onAgentTyping(m) {
  if (m.side !== 'agent' || !m.agent_id) return;
  const list = S.viewers.get(m.conversation_id);
  if (!list) return;
  for (const v of list) {
    if (v.id !== m.agent_id || (S.me && v.id === S.me.id)) continue;
    if (m.on && v.typing) v.until = Date.now() + TYPING_MS;
    else if (!m.on && v.typing) {
      v.typing = false;
      v.until = 0;
      changed();
    }
  }
  sweepSoon();
}

let sweepTimer = null;

function sweepSoon() {
  clearTimeout(sweepTimer);
  let next = Infinity;
  for (const list of S.viewers.values()) for (const v of list) if (v.typing) next = Math.min(next, v.until);
  if (next === Infinity) return;
  sweepTimer = setTimeout(
    () => {
      const now = Date.now();
      for (const list of S.viewers.values())
        for (const v of list)
          if (v.typing && v.until <= now) {
            v.typing = false;
            changed();
          }
      sweepSoon();
    },
    Math.max(50, next - Date.now() + 20),
  );
}

/** The others with the conversation open: [{id, name, typing, note}]. */
export function othersViewing(id) {
  return (S.viewers.get(id) || []).filter((v) => !S.me || v.id !== S.me.id);
}

// ------------------------------------------------------------------- labels

let labelsLoading = null;

/** The workspace's labels (every agent may read them). */
export function loadLabels(force = false) {
  if (labelsLoading && !force) return labelsLoading;
  labelsLoading = get('/api/labels').then(
    (r) => {
      S.labels = r.labels || [];
      changed();
    },
    () => {
      labelsLoading = null;
    },
  );
  return labelsLoading;
}

let labelsAskedAt = 0;

/**
 * A label's current name and colour (the workspace's list is newer than a
 * conversation's copy: renaming a label announces nothing to conversations).
 * One the list does not know yet was made since it was read: read it again,
 * at most every 10 s.
 */
/** Names for event lines, which carry ids: an agent's and a label's, or undefined when the lists do not know them. */
export const agentName = (id) => (S.agents.get(id) || {}).name;
export const labelName = (id) => (S.labels.find((x) => x.id === id) || {}).name;

export function labelOf(l) {
  const cur = S.labels.find((x) => x.id === l.id);
  if (!cur && Date.now() - labelsAskedAt > 10000) {
    labelsAskedAt = Date.now();
    setTimeout(() => loadLabels(true), 0);
  }
  return cur || l;
}

// --------------------------------------------------------------- list filter

export function setListFilter(f) {
  const country = S.listFilter.country;
  S.listFilter = { ...S.listFilter, ...f };
  changed();
  // The closed list is the server's (GET /api/conversations?country=); the open ones are filtered here.
  if (S.listFilter.country !== country && S.view.list === 'closed') loadClosed();
}

export const filterActive = () => !!(S.listFilter.priority || S.listFilter.label || S.listFilter.country);

/** The country of a conversation's visitor ("DE"), or ''. */
export const countryOf = (c) => (c && c.visitor && c.visitor.location && c.visitor.location.country) || '';

/** The countries of the conversations the console knows (and the one filtered by), sorted. */
export function listCountries() {
  const set = new Set();
  for (const c of S.convs.values()) if (countryOf(c)) set.add(countryOf(c));
  if (S.listFilter.country) set.add(S.listFilter.country);
  return [...set].sort();
}

/** The conversations of a list that pass the filter. */
export function filterConvs(items) {
  const { priority, label, country } = S.listFilter;
  if (!priority && !label && !country) return items;
  return items.filter(
    (c) =>
      (!priority || (c.priority || 'normal') === priority) &&
      (!label || (Array.isArray(c.labels) && c.labels.some((l) => l.id === label))) &&
      (!country || countryOf(c) === country),
  );
}
