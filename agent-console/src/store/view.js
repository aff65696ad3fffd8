// view: what the agent looks at. The route (#/queue, #/mine/12,
// #/admin/sites, #/admin/webhooks/3, #/visitors, #/reports ...) and S.view, toasts, dialogs, the shortcut help and
// requests to focus the composer. Owns S.view, S.toasts, S.dialog, S.help,
// S.focus.

import { S, changed, isAdmin, isPrivileged } from './state.js';

// ------------------------------------------------------------ view and routing

let onRoute = () => {};

function route() {
  parseRoute();
  onRoute();
  S.help = false;
  changed();
}

/** Follows the URL's hash from now on; apply() opens what it names (session.js). */
export function startRouting(apply) {
  onRoute = apply;
  parseRoute();
  window.addEventListener('hashchange', route);
}

/** The areas that are one page, without a list or an item (#/board). */
const PAGES = ['board', 'visitors', 'reports'];

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (PAGES.includes(parts[0])) {
    S.view = { ...S.view, area: parts[0], admin: '', item: null };
  } else if (parts[0] === 'admin') {
    S.view = { ...S.view, area: 'admin', admin: parts[1] || 'agents', item: Number(parts[2]) || null };
  } else {
    const list = ['queue', 'mine', 'all', 'closed'].includes(parts[0]) ? parts[0] : 'mine';
    const selected = parts[1] ? Number(parts[1]) || null : null;
    S.view = { ...S.view, area: 'inbox', list, selected };
  }
}

/** Goes to a view; an admin page named without an item is its list (#/admin/webhooks, not .../3). */
export function navigate(v) {
  const next = { ...S.view, ...v };
  if (v.admin !== undefined && v.item === undefined) next.item = null;
  let hash = next.area === 'admin' ? `#/admin/${next.admin}${next.item ? `/${next.item}` : ''}` : `#/${next.list}${next.selected ? `/${next.selected}` : ''}`;
  if (PAGES.includes(next.area)) hash = `#/${next.area}`;
  if (location.hash !== hash) location.hash = hash;
  else route();
}

export function canSeeAdmin(tab) {
  if (tab === 'canned' || tab === 'invitations') return isPrivileged();
  return isAdmin();
}

export function openList(list) {
  navigate({ area: 'inbox', list, selected: S.view.list === list ? S.view.selected : null });
}

export function select(id) {
  navigate({ area: 'inbox', selected: id });
}

/** The page is in front of the agent (visible and focused). */
export function pageActive() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

// ---------------------------------------------------------------------- toasts

let toastSeq = 0;

export function toast(text, kind = 'info', ms = 4500) {
  const id = ++toastSeq;
  S.toasts = [...S.toasts, { id, text, kind }];
  changed();
  if (ms) setTimeout(() => dismissToast(id), ms);
}

export function dismissToast(id) {
  S.toasts = S.toasts.filter((t) => t.id !== id);
  changed();
}

// --------------------------------------------------------------------- dialogs

export function openDialog(d) {
  S.dialog = d;
  changed();
}

export function closeDialog() {
  if (S.dialog && S.dialog.resolve) S.dialog.resolve(false);
  S.dialog = null;
  changed();
}

/**
 * A confirmation dialog; resolves true when confirmed. title may be JSX, with
 * label its text. A translated page passes its words for cancel and close,
 * and its language (lang).
 */
export function confirmDialog({ title, label, body, confirm = 'Confirm', danger = false, cancel, close, lang }) {
  return new Promise((resolve) => {
    if (S.dialog && S.dialog.resolve) S.dialog.resolve(false);
    S.dialog = { type: 'confirm', title, label, body, confirm, danger, cancel, close, lang, resolve };
    changed();
  });
}

export function resolveConfirm(ok) {
  const d = S.dialog;
  S.dialog = null;
  if (d && d.resolve) d.resolve(ok);
  changed();
}

export function setHelp(on) {
  S.help = on;
  changed();
}

export function focusComposer({ note = false, canned = false } = {}) {
  S.focus = { composer: S.focus.composer + 1, note, canned };
  changed();
}
