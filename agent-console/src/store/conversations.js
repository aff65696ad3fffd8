// conversations: the conversations the console knows, by id (from the
// socket's list and events, REST and sync answers), the lists built from
// them (queue, mine, all), the closed ones with their search, and each one's
// details (earlier conversations of the visitor). Owns S.convs, S.details,
// S.missing, S.closed.

import { ts } from '../../../ui-shared/time.js';
import { get } from '../lib/api.js';
import { S, changed, isPrivileged } from './state.js';
import { select } from './view.js';

// A reply (to a socket request or an HTTP read) can carry a state read
// before a conversation.updated that reaches us first: the event and the
// reply are built on different threads. Each event stamps its conversation;
// a reply to a request made before that stamp does not overwrite it (the
// event was complete, and any later change sends another).
let eventClock = 0;
const eventAt = new Map();

/** The moment a request starts: pass it to upsertConv with the reply. */
export function convStamp() {
  return eventClock;
}

/** A conversation.updated: its state is the newest there is. */
export function convEvent(c) {
  if (c && c.id) eventAt.set(c.id, ++eventClock);
  return upsertConv(c);
}

/**
 * Stores the current state of a conversation; returns the stored record.
 * since: the convStamp() taken when the request that brought c was made
 * (omitted: c is as new as anything seen).
 */
export function upsertConv(c, since = Infinity) {
  if (!c || !c.id) return null;
  const old = S.convs.get(c.id);
  if (old && (eventAt.get(c.id) || 0) > since) return old;
  // A conversation object is always the complete current state.
  const next = old ? { ...c, _activity: Math.max(old._activity || 0, activityOf(c)) } : { ...c, _activity: activityOf(c) };
  if (old && old.last_message && !next.last_message) next.last_message = old.last_message;
  S.convs.set(c.id, next);
  S.missing.delete(c.id);
  return next;
}

function activityOf(c) {
  return Math.max(ts(c.created_at), ts(c.assigned_at), ts(c.queued_at), ts(c.closed_at));
}

/** read: the visitor or an agent read up to a seq. */
export function onRead(m) {
  const c = S.convs.get(m.conversation_id);
  if (!c) return;
  if (m.side === 'visitor') c.visitor_last_read_seq = Math.max(c.visitor_last_read_seq || 0, m.last_read_seq);
  else c.agent_last_read_seq = Math.max(c.agent_last_read_seq || 0, m.last_read_seq);
  changed();
}

// ----------------------------------------------------------------------- lists

export function lists() {
  const me = S.me ? S.me.id : 0;
  const queue = [];
  const mine = [];
  const all = [];
  for (const c of S.convs.values()) {
    if (c.status === 'closed') continue;
    if (c.status === 'queued' && (isPrivileged() || S.myTeams.includes(c.team_id))) queue.push(c);
    if (c.status === 'assigned' && c.assignee && c.assignee.id === me) mine.push(c);
    // One I was invited into, joined or escalated to (participants.js).
    else if (Array.isArray(c.participants) && c.participants.some((p) => p.id === me)) mine.push(c);
    all.push(c);
  }
  queue.sort((a, b) => ts(a.queued_at || a.created_at) - ts(b.queued_at || b.created_at) || a.id - b.id);
  const byActivity = (a, b) => (b._activity || 0) - (a._activity || 0) || b.id - a.id;
  mine.sort(byActivity);
  all.sort(byActivity);
  return { queue, mine, all: isPrivileged() ? all : [] };
}

export function currentList() {
  const l = lists();
  if (S.view.list === 'closed') return S.closed.items.map((c) => S.convs.get(c.id) || c);
  return l[S.view.list] || [];
}

/** Open chats assigned to me and my limit: live once the socket listed them, else from GET /api/agents. */
export function capacity() {
  const row = S.me ? S.agents.get(S.me.id) : null;
  const owned = (c) => c.assignee && S.me && c.assignee.id === S.me.id;
  const open = S.listed ? lists().mine.filter(owned).length : row ? row.open_chats : 0;
  return { open, max: row ? row.max_chats : (S.me && S.me.max_chats) || 0 };
}

/** j/k: the next or previous conversation of the current list. */
export function step(delta) {
  const list = currentList();
  if (!list.length) return;
  const i = list.findIndex((c) => c.id === S.view.selected);
  const j = i < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, i + delta));
  select(list[j].id);
}

export async function loadClosed({ more = false } = {}) {
  const q = S.closed.q.trim();
  const params = new URLSearchParams({ status: 'closed', limit: '30' });
  if (q) params.set('q', q);
  const country = S.listFilter.country;
  if (country) params.set('country', country);
  if (more && S.closed.next) params.set('before', S.closed.next);
  S.closed.loading = true;
  S.closed.error = null;
  changed();
  const want = q;
  try {
    const since = convStamp();
    const r = await get(`/api/conversations?${params}`);
    if (S.closed.q.trim() !== want || S.listFilter.country !== country) return;
    for (const c of r.conversations) {
      const known = S.convs.get(c.id);
      if (!known || known.status === 'closed') upsertConv(c, since);
    }
    S.closed.items = more ? [...S.closed.items, ...r.conversations] : r.conversations;
    S.closed.next = r.next || null;
    S.closed.loaded = true;
  } catch (e) {
    S.closed.error = e.text;
  } finally {
    S.closed.loading = false;
    changed();
  }
}

let searchTimer = null;

export function searchClosed(q) {
  S.closed.q = q;
  changed();
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadClosed(), 250);
}

// --------------------------------------------------------------------- details

export async function loadDetails(id, force = false) {
  const d = S.details.get(id);
  if (d && !force && (d.loading || d.earlier)) return;
  S.details.set(id, { ...(d || {}), loading: true });
  try {
    const since = convStamp();
    const r = await get(`/api/conversations/${id}`);
    upsertConv(r.conversation, since);
    S.details.set(id, { earlier: r.earlier, loading: false });
  } catch (e) {
    S.details.set(id, { earlier: d && d.earlier, loading: false, error: e.text });
  }
  changed();
}
