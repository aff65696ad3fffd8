// webhooks: the admins' notice of webhook endpoints the server disabled by
// itself (the receiver answered 410, or deliveries failed for days). Loaded
// when an admin's console starts and refreshed by every answer the webhook
// pages get; the notice can be hidden in the inbox until another endpoint
// is disabled (remembered per agent), never in the admin area. Owns
// S.hookAlerts, S.hookHidden.

import { get } from '../lib/api.js';
import { serverDisabled } from '../lib/webhooks.js';
import { S, changed, isAdmin, saved } from './state.js';

const pick = (ep) => ({ id: ep.id, url: ep.url, reason: ep.disabled_reason, disabled_at: ep.disabled_at, failing_since: ep.failing_since });

/** What the notice shows, as one key: hiding it hides these, not the next one. */
const alertsKey = (list) =>
  list
    .map((a) => `${a.id}@${a.disabled_at || ''}`)
    .sort()
    .join(',');

export function resetHooks() {
  S.hookAlerts = [];
  S.hookHidden = saved.load('hook-notice');
}

/** On console start (admins only): which endpoints the server has disabled. */
export async function loadHookAlerts() {
  if (!isAdmin()) return;
  try {
    noteEndpoints((await get('/api/webhooks')).data || []);
  } catch {
    /* no notice until the webhook pages are opened */
  }
}

/** The whole list of endpoints, as GET /api/webhooks answered. */
export function noteEndpoints(list) {
  S.hookAlerts = list.filter(serverDisabled).map(pick);
  changed();
}

/** One endpoint as the server answered it (read, saved, enabled again). */
export function noteEndpoint(ep) {
  const rest = S.hookAlerts.filter((a) => a.id !== ep.id);
  S.hookAlerts = serverDisabled(ep) ? [...rest, pick(ep)].sort((a, b) => b.id - a.id) : rest;
  changed();
}

export function forgetEndpoint(id) {
  S.hookAlerts = S.hookAlerts.filter((a) => a.id !== id);
  changed();
}

/** The inbox's notice was hidden for these alerts. */
export const hookNoticeHidden = () => !!S.hookAlerts.length && S.hookHidden === alertsKey(S.hookAlerts);

export function hideHookNotice() {
  S.hookHidden = alertsKey(S.hookAlerts);
  saved.save('hook-notice', S.hookHidden);
  changed();
}
