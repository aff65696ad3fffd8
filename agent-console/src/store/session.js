// session: signing in and out. boot() asks whether a session exists; enter()
// starts one (state reset, what this agent left in localStorage, the
// workspace, the socket, the route); the session ends on logout, on a close
// that says so (logged out elsewhere, deactivated, session expired) or on a
// 401 from the REST API. Owns S.phase, S.loginNotice, S.me, S.csrf.

import { ApiError, api, post, setCsrf, setSessionEndedHandler } from '../lib/api.js';
import { loadClosed } from './conversations.js';
import { onEvent, onOpen, resetAnnounced } from './events.js';
import { resetFiles } from './files.js';
import { dropStored, forgetLocal, openConversation, persistNow, restoreLocal } from './messages.js';
import { restorePrefs } from './notify.js';
import { closeSocket, openSocket } from './socket.js';
import { S, changed } from './state.js';
import { canSeeAdmin, navigate, startRouting, toast } from './view.js';
import { loadLabels, resetParticipants } from './participants.js';
import { loadHookAlerts, resetHooks } from './webhooks.js';
import { loadWorkspace } from './workspace.js';
import { leavingPage, resetCalls } from './calls.js';

export async function boot() {
  setSessionEndedHandler(() => sessionEnded('session_ended'));
  // A call ends with the page (its media lives in it): say so now rather
  // than leave the visitor waiting for the server's lost timeout.
  window.addEventListener('pagehide', leavingPage);
  window.addEventListener('beforeunload', (e) => {
    if (S.myCall && S.myCall.id) e.preventDefault();
  });
  startRouting(applyRoute);
  try {
    const me = await api('GET', '/api/auth/me', undefined, { auth: false });
    await enter(me);
  } catch (e) {
    S.phase = 'login';
    if (e instanceof ApiError && e.status !== 401) S.loginNotice = { kind: 'error', text: e.text };
    changed();
  }
}

export async function login(email, password) {
  const me = await api('POST', '/api/auth/login', { email, password }, { auth: false });
  S.loginNotice = null;
  await enter(me);
}

async function enter({ agent, csrf_token }) {
  S.me = agent;
  S.csrf = csrf_token;
  S.status = agent.status || 'offline';
  setCsrf(csrf_token);
  S.convs = new Map();
  S.msgs = new Map();
  S.typing = new Map();
  S.localRead = new Map();
  S.seen = new Set();
  S.details = new Map();
  S.missing = new Set();
  resetFiles();
  S.closed = { q: '', items: [], next: null, loading: false, error: null, loaded: false };
  S.everOpen = false;
  S.listed = false;
  resetAnnounced();
  restoreLocal();
  restorePrefs();
  resetHooks();
  resetParticipants();
  resetCalls();
  S.phase = 'app';
  if (S.view.area === 'admin' && !canSeeAdmin(S.view.admin)) navigate({ area: 'inbox', list: 'mine', selected: null });
  changed();
  loadWorkspace();
  loadLabels(true);
  loadHookAlerts();
  openSocket({ onOpen, onEvent, onClose });
  applyRoute();
}

/** After the socket closed: reconnect (how soon), or end the session. */
async function onClose({ code, reason }) {
  const fatal = (why) => {
    sessionEnded(why);
    return 'stop';
  };
  if (code === 4002) return fatal('logged_out');
  if (code === 4001 && reason === 'deactivated') return fatal('deactivated');
  // Role or teams changed: reconnect at once; the new authentication brings the new rights.
  if (code === 4004) return 'reset';
  // The session may have ended (expired, logged out elsewhere).
  if (code === 4003 && reason === 'auth_failed' && !(await sessionAlive())) return fatal('session_ended');
  return 'retry';
}

async function sessionAlive() {
  try {
    await api('GET', '/api/auth/me', undefined, { auth: false });
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 401);
  }
}

export async function logout() {
  persistNow();
  try {
    await post('/api/auth/logout');
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) {
      toast(`Could not log out: ${e.text}`, 'error');
      return;
    }
  }
  // Logged out on purpose: what was left unsent is dropped with the session,
  // from memory first (sessionEnded saves what memory holds) and then from
  // storage.
  forgetLocal();
  dropStored();
  sessionEnded('logout');
}

const FATAL_TEXT = {
  deactivated: { kind: 'error', text: 'Your account has been deactivated. Ask an admin if you think this is a mistake.' },
  logged_out: { kind: 'info', text: 'You were signed out (this session was ended).' },
  session_ended: { kind: 'info', text: 'Your session has ended. Please sign in again.' },
  logout: { kind: 'info', text: 'You are signed out.' },
};

function sessionEnded(reason) {
  if (S.phase !== 'app') return;
  persistNow();
  resetCalls();
  closeSocket();
  setCsrf(null);
  S.phase = 'login';
  S.loginNotice = FATAL_TEXT[reason] || FATAL_TEXT.session_ended;
  S.me = null;
  S.csrf = null;
  S.dialog = null;
  S.help = false;
  S.convs = new Map();
  S.msgs = new Map();
  forgetLocal();
  resetFiles();
  S.conn = { state: 'idle', attempt: 0, retryAt: 0 };
  document.title = 'Parley';
  changed();
}

/** Opens what the route names: a conversation, the closed list. */
function applyRoute() {
  if (S.phase !== 'app' || S.view.area !== 'inbox') return;
  if (S.view.selected) openConversation(S.view.selected);
  if (S.view.list === 'closed' && !S.closed.loaded && !S.closed.loading) loadClosed();
}
