// visitors: who is on the sites right now and what they did there.
//  - the Visitors online view (#/visitors): GET /api/visitors/online, read
//    every 5 s while the view is shown, at once when the window gets the
//    focus back or a filter changes; an answer to a request older than the
//    latest one is dropped (a slow read must not undo a newer filter);
//  - invitations: POST /api/visitors/{id}/invitations, and the inviting
//    agent's invitation.updated events (the row's state; a toast with a
//    link to the conversation when the visitor accepts);
//  - each visitor's context (GET /api/visitors/{id}/context: the visitor,
//    their visits and pages) for the visitor panel, and the geolocation
//    database's attribution (GET /api/geo, read once).
// There is no visitors.changed event (contract): polling is the design.
// Owns S.online, S.onlineFilter, S.visitorCtx, S.geo.

import { h } from 'preact';

import { balance } from '../../../ui-shared/bidi.js';
import { get, post } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { visitorLabel } from '../lib/visitors.js';
import { S, changed, isPrivileged } from './state.js';
import { navigate, toast } from './view.js';

export const POLL_MS = 5000;
const CONTEXT_FRESH_MS = 15000;

// ---------------------------------------------------------------- the online view

let watching = 0;
let poll = null;
let asked = 0; // the number of the latest request
let qTimer = null;

function query() {
  const f = S.onlineFilter;
  const p = new URLSearchParams();
  if (f.site) p.set('site_id', f.site);
  if (f.country) p.set('country', f.country);
  if (f.chatting) p.set('chatting', f.chatting);
  if (f.returning) p.set('returning', f.returning);
  if (f.q.trim()) p.set('q', f.q.trim());
  p.set('limit', '200');
  return `/api/visitors/online?${p}`;
}

/** Reads the list now; the answer applies only if no newer request went out meanwhile. */
export async function refreshOnline() {
  if (!watching) return;
  const mine = ++asked;
  try {
    const r = await get(query());
    if (mine !== asked) return;
    const rows = Array.isArray(r.visitors) ? r.visitors : [];
    // Sites and countries offered by the filters: every one seen in this
    // session, so that picking one does not take the others away.
    for (const v of rows) {
      if (v.site_id) S.online.sites.set(v.site_id, v.site_name || `#${v.site_id}`);
      if (v.location && v.location.country) S.online.countries.add(v.location.country);
    }
    S.online = { ...S.online, rows, total: Number(r.total) || rows.length, now: r.now || null, receivedAt: Date.now(), error: null };
  } catch (e) {
    if (mine !== asked) return;
    S.online = { ...S.online, error: e.text || e.message };
  }
  changed();
}

const onFocus = () => refreshOnline();
const onVisible = () => {
  if (document.visibilityState === 'visible') refreshOnline();
};

/** The view is shown: read now, every 5 s and on focus; returns the function that stops. */
export function watchOnline() {
  watching += 1;
  if (watching === 1) {
    poll = setInterval(() => {
      if (document.visibilityState !== 'hidden') refreshOnline();
    }, POLL_MS);
    window.addEventListener('focus', onFocus);
    document.addEventListener('visibilitychange', onVisible);
  }
  refreshOnline();
  return () => {
    watching -= 1;
    if (watching > 0) return;
    clearInterval(poll);
    poll = null;
    clearTimeout(qTimer);
    window.removeEventListener('focus', onFocus);
    document.removeEventListener('visibilitychange', onVisible);
    asked++; // an answer still on its way is not wanted any more
  };
}

/** Changes the filters and reads at once (the search text after a short pause while typing). */
export function setOnlineFilter(f) {
  S.onlineFilter = { ...S.onlineFilter, ...f };
  changed();
  clearTimeout(qTimer);
  if ('q' in f && Object.keys(f).length === 1) qTimer = setTimeout(refreshOnline, 250);
  else refreshOnline();
}

export const onlineFilterActive = () => Object.values(S.onlineFilter).some((v) => String(v).trim() !== '');

// ------------------------------------------------------------------ invitations

function patchRow(visitorId, fn) {
  if (!S.online.rows) return;
  let hit = false;
  const rows = S.online.rows.map((r) => {
    if (r.visitor_id !== visitorId) return r;
    hit = true;
    return fn(r);
  });
  if (hit) S.online = { ...S.online, rows };
}

// Invitations this console sent: id -> the visitor's name (for the toast).
const sent = new Map();

/** Sends an invitation; resolves with it, rejects with the ApiError (inviteProblemText). */
export async function inviteVisitor(visitor, message) {
  const r = await post(`/api/visitors/${visitor.visitor_id}/invitations`, { message });
  const inv = r && r.invitation ? r.invitation : { status: 'pending' };
  sent.set(inv.id, visitorLabel(visitor));
  patchRow(visitor.visitor_id, (row) => ({ ...row, invitation: { id: inv.id, status: inv.status || 'pending' } }));
  changed();
  return inv;
}

/** A conversation opened from the visitors: in the list it is in. */
export function openVisitorConv(id) {
  const c = S.convs.get(id);
  let list = isPrivileged() ? 'all' : 'mine';
  if (c && c.status === 'queued') list = 'queue';
  else if (c && c.assignee && S.me && c.assignee.id === S.me.id) list = 'mine';
  navigate({ area: 'inbox', list, selected: id });
}

/** invitation.updated: one of my invitations was shown, accepted or ignored. */
export function onInvitationUpdated(m) {
  const inv = m && m.invitation;
  if (!inv) return;
  const done = inv.status === 'accepted' || inv.status === 'ignored';
  patchRow(inv.visitor_id, (row) => ({
    ...row,
    invitation: done ? null : { id: inv.id, status: inv.status },
    chatting: inv.status === 'accepted' && inv.conversation_id ? inv.conversation_id : row.chatting,
  }));
  changed();
  if (inv.status === 'accepted') {
    const name = sent.get(inv.id);
    // The name in a <bdi> inside the translated sentence ("{name} accepted …").
    const [before, after = ''] = t('invAcceptedName').split('{name}');
    const parts = name ? [before, h('bdi', null, balance(name)), after] : [t('invAccepted')];
    const link = inv.conversation_id
      ? [
          ' ',
          h(
            'button',
            { type: 'button', class: 'link-btn toast-link', 'data-testid': 'invitation-open', onClick: () => openVisitorConv(inv.conversation_id) },
            t('invOpen'),
          ),
        ]
      : [];
    toast([...parts, ...link], 'success', 15000);
    if (inv.conversation_id) loadVisitorContext(inv.visitor_id, true);
  } else if (inv.status === 'ignored') {
    toast(t('invIgnored'), 'info', 5000);
  }
  if (done) sent.delete(inv.id);
}

// ------------------------------------------------------------ a visitor's context

/** Reads GET /api/visitors/{id}/context (again when older than 15 s, or forced). */
export async function loadVisitorContext(id, force = false) {
  if (!id) return;
  const old = S.visitorCtx.get(id);
  if (old && old.loading) return;
  if (old && old.data && !force && Date.now() - old.at < CONTEXT_FRESH_MS) return;
  S.visitorCtx.set(id, { ...(old || {}), loading: true });
  changed();
  try {
    const r = await get(`/api/visitors/${id}/context`);
    S.visitorCtx.set(id, { data: r, loading: false, error: null, at: Date.now() });
  } catch (e) {
    S.visitorCtx.set(id, { data: old && old.data, loading: false, error: e.text || e.message, at: Date.now() });
  }
  changed();
}

let geoAsked = false;

/** The geolocation database's attribution, read once per session. */
export async function loadGeo() {
  if (geoAsked) return;
  geoAsked = true;
  try {
    S.geo = await get('/api/geo');
  } catch {
    S.geo = { attribution: null };
    geoAsked = false; // try again next time
  }
  changed();
}
