// The console's state and everything that changes it: the session, the
// socket protocol (conversations, messages, typing, read receipts,
// presence), the outbox of unsent messages, drafts, notifications and the
// view. Components read `S` and call the actions; every change calls
// changed(), which re-renders the app once per tick.

import { api, get, post, setCsrf, setSessionEndedHandler, ApiError } from './lib/api.js';
import { h } from 'preact';
import { balance } from '../../ui-shared/bidi.js';
import { Outbox } from '../../ui-shared/outbox.js';
import { ChatSocket, SocketError } from '../../ui-shared/socket.js';
import { ts } from '../../ui-shared/time.js';
import { visitorName } from './lib/util.js';

export const S = {
  phase: 'boot', // boot | login | app
  loginNotice: null,
  me: null,
  csrf: null,
  myTeams: [],
  conn: { state: 'idle', attempt: 0, retryAt: 0 },
  everOpen: false,
  listed: false, // the socket's conversation list has arrived
  status: 'offline',
  agents: new Map(),
  teams: [],
  canned: [],
  convs: new Map(),
  msgs: new Map(), // id -> { bySeq: Map, list: [], contig: 0, loading, error, rev }
  drafts: new Map(), // id -> {text, note}
  typing: new Map(), // id -> until (ms)
  localRead: new Map(), // id -> seq seen here
  seen: new Set(), // queued conversations opened at least once
  details: new Map(), // id -> {earlier, loading, error}
  missing: new Set(), // conversations the server would not show
  view: { area: 'inbox', list: 'mine', selected: null, admin: 'agents' },
  closed: { q: '', items: [], next: null, loading: false, error: null, loaded: false },
  notify: { sound: true, permission: typeof Notification === 'undefined' ? 'unsupported' : Notification.permission },
  toasts: [],
  help: false,
  dialog: null, // {type: 'transfer', id} | {type: 'confirm', ...}
  focus: { composer: 0, note: false, canned: false },
};

// ---------------------------------------------------------------- changes

const listeners = new Set();
let scheduled = false;
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
export function changed() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const fn of listeners) fn();
  });
}

let sock = null;
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

// ---------------------------------------------------------------- roles

export const isPrivileged = () => !!S.me && S.me.role !== 'agent';
export const isAdmin = () => !!S.me && S.me.role === 'admin';

// ---------------------------------------------------------------- storage

const store = {
  key: (what) => `parley:${what}:${S.me ? S.me.id : 0}`,
  load(what) {
    try {
      return JSON.parse(localStorage.getItem(this.key(what)) || 'null');
    } catch {
      return null;
    }
  },
  save(what, value) {
    try {
      if (value == null) localStorage.removeItem(this.key(what));
      else localStorage.setItem(this.key(what), JSON.stringify(value));
    } catch {
      /* storage full or disabled: memory only */
    }
  },
};

let persistTimer = null;
function persistSoon() {
  clearTimeout(persistTimer);
  persistTimer = setTimeout(persistNow, 300);
}
function persistNow() {
  clearTimeout(persistTimer);
  if (!S.me) return;
  const drafts = {};
  for (const [id, d] of S.drafts) if (d.text) drafts[id] = d;
  store.save('drafts', drafts);
  const unsent = {};
  for (const { conv, cmid, body, kind, at, state } of outbox.items) {
    if (state !== 'failed') (unsent[conv] = unsent[conv] || []).push({ cmid, body, kind, at });
  }
  store.save('outbox', unsent);
}
window.addEventListener('pagehide', persistNow);

function restoreLocal() {
  S.drafts = new Map();
  const drafts = store.load('drafts') || {};
  for (const [id, d] of Object.entries(drafts)) {
    if (d && typeof d.text === 'string') S.drafts.set(Number(id), { text: d.text, note: !!d.note });
  }
  const unsent = [];
  for (const [id, items] of Object.entries(store.load('outbox') || {})) {
    if (!Array.isArray(items)) continue;
    for (const i of items) {
      if (i && typeof i.cmid === 'string' && typeof i.body === 'string')
        unsent.push({ conv: Number(id), cmid: i.cmid, body: i.body, kind: i.kind === 'note' ? 'note' : 'message', at: i.at || Date.now() });
    }
  }
  outbox.restore(unsent);
  const prefs = store.load('prefs') || {};
  S.notify.sound = prefs.sound !== false;
}

// ---------------------------------------------------------------- session

export async function boot() {
  setSessionEndedHandler(() => sessionEnded('session_ended'));
  parseRoute();
  window.addEventListener('hashchange', route);
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
  S.closed = { q: '', items: [], next: null, loading: false, error: null, loaded: false };
  S.everOpen = false;
  S.listed = false;
  announced.clear();
  restoreLocal();
  S.phase = 'app';
  if (S.view.area === 'admin' && !canSeeAdmin(S.view.admin)) navigate({ area: 'inbox', list: 'mine', selected: null });
  changed();
  loadWorkspace();
  sock = new ChatSocket({
    path: '/ws/agent',
    auth: () => ({ csrf_token: S.csrf || '' }),
    onOpen,
    onEvent,
    onState: (c) => {
      S.conn = c;
      changed();
    },
    onClose,
  });
  sock.start();
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
  // Logged out on purpose: what was left unsent is dropped with the session.
  store.save('drafts', null);
  store.save('outbox', null);
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
  if (sock) sock.stop();
  sock = null;
  setCsrf(null);
  S.phase = 'login';
  S.loginNotice = FATAL_TEXT[reason] || FATAL_TEXT.session_ended;
  S.me = null;
  S.csrf = null;
  S.dialog = null;
  S.help = false;
  S.convs = new Map();
  S.msgs = new Map();
  S.drafts = new Map();
  outbox.restore([]);
  S.conn = { state: 'idle', attempt: 0, retryAt: 0 };
  document.title = 'Parley';
  changed();
}

export function reconnectNow() {
  if (sock) sock.retryNow();
}

// ---------------------------------------------------------------- workspace (REST)

export async function loadWorkspace() {
  const t0 = Date.now();
  const [agents, teams, canned] = await Promise.allSettled([get('/api/agents'), get('/api/teams'), get('/api/canned')]);
  if (agents.status === 'fulfilled') setAgents(agents.value.agents, t0);
  if (teams.status === 'fulfilled') S.teams = teams.value.teams;
  if (canned.status === 'fulfilled') S.canned = canned.value.canned;
  changed();
}

// Presence heard on the socket, newer than a REST answer that was asked
// for before it arrived.
const presenceSeen = new Map(); // agent id -> {status, connected, at}

export function setAgents(list, askedAt = 0) {
  S.agents = new Map(
    list.map((a) => {
      const p = presenceSeen.get(a.id);
      return [a.id, p && p.at >= askedAt ? { ...a, status: p.status, connected: p.connected } : a];
    }),
  );
  const mine = S.agents.get(S.me && S.me.id);
  if (mine && S.me) {
    S.me = { ...S.me, max_chats: mine.max_chats, name: mine.name, role: mine.role };
  }
}

export async function refreshAgents() {
  const t0 = Date.now();
  try {
    setAgents((await get('/api/agents')).agents, t0);
    changed();
  } catch {
    /* keep what we have */
  }
}
export async function refreshTeams() {
  try {
    S.teams = (await get('/api/teams')).teams;
    changed();
  } catch {
    /* keep */
  }
}
export async function refreshCanned() {
  try {
    S.canned = (await get('/api/canned')).canned;
    changed();
  } catch {
    /* keep */
  }
}

// ---------------------------------------------------------------- conversations

function upsertConv(c) {
  if (!c || !c.id) return null;
  const old = S.convs.get(c.id);
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

function msgState(id) {
  let m = S.msgs.get(id);
  if (!m) {
    m = { bySeq: new Map(), list: [], contig: 0, loading: false, error: null, rev: 0 };
    S.msgs.set(id, m);
  }
  return m;
}

function addMessages(id, messages) {
  if (!messages || !messages.length) return;
  const st = msgState(id);
  let added = false;
  for (const m of messages) {
    if (!m || typeof m.seq !== 'number') continue;
    if (!st.bySeq.has(m.seq)) added = true;
    st.bySeq.set(m.seq, m);
    // Its own echo confirms an unsent message.
    if (m.client_msg_id) outbox.remove(m.client_msg_id);
  }
  if (!added) return;
  st.list = [...st.bySeq.values()].sort((a, b) => a.seq - b.seq);
  while (st.bySeq.has(st.contig + 1)) st.contig += 1;
  st.rev += 1;
  const c = S.convs.get(id);
  const last = st.list[st.list.length - 1];
  if (c && last) {
    if (last.seq > (c.last_seq || 0)) c.last_seq = last.seq;
    c._activity = Math.max(c._activity || 0, ts(last.created_at));
  }
}

/** Fills the history of a conversation from what we hold (seq is gap-free for agents). */
async function syncConv(id, { preview = false } = {}) {
  const st = msgState(id);
  if (st.loading) return st.loading;
  const run = async () => {
    const c = S.convs.get(id);
    let after = st.contig;
    if (preview && c && c.last_seq > after + 3) after = c.last_seq - 3;
    await sock.sync(id, after, {
      limit: preview ? 4 : 200,
      pages: preview ? 1 : 50,
      onPage: (ack) => {
        upsertConv(ack.conversation);
        addMessages(id, ack.messages);
        st.error = null;
      },
    });
  };
  st.loading = run()
    .catch((e) => {
      if (e instanceof SocketError && e.code === 'not_found') {
        S.missing.add(id);
        const c = S.convs.get(id);
        if (c && c.status !== 'closed') S.convs.delete(id);
      } else if (!(e instanceof SocketError && (e.code === 'disconnected' || e.code === 'stopped'))) {
        st.error = e.message;
      }
    })
    .finally(() => {
      st.loading = false;
      changed();
    });
  changed();
  return st.loading;
}

/** Everything to do once the socket is (re)authenticated. */
async function onOpen(ack) {
  const first = !S.everOpen;
  S.everOpen = true;
  if (ack.agent) {
    S.me = { ...S.me, ...ack.agent };
    S.status = ack.agent.status;
    // After a role change (close 4004) leave the views the new role does
    // not have; conversations no longer visible drop out below (sync
    // answers not_found).
    if (S.view.area === 'admin' && !canSeeAdmin(S.view.admin)) navigate({ area: 'inbox', list: 'mine', selected: null });
    else if (S.view.area === 'inbox' && S.view.list === 'all' && !isPrivileged()) openList('mine');
  }
  if (Array.isArray(ack.teams)) S.myTeams = ack.teams;
  changed();
  let list;
  try {
    list = (await sock.request({ type: 'queue.subscribe' })).conversations;
  } catch {
    return; // the connection dropped again; the next open retries
  }
  const listed = new Set(list.map((c) => c.id));
  for (const c of list) announced.set(c.id, roleOf(upsertConv(c)));
  // Conversations we held as open that the list no longer has: closed,
  // transferred away or assigned to someone else while we were away.
  const stale = [...S.convs.values()].filter((c) => c.status !== 'closed' && !listed.has(c.id)).map((c) => c.id);
  changed();
  S.listed = true;
  outbox.flush();
  if (!first) loadWorkspace();
  const jobs = [];
  for (const c of list) {
    const mine = c.assignee && c.assignee.id === S.me.id;
    const held = S.msgs.has(c.id) && S.msgs.get(c.id).list.length;
    if (mine || held || S.view.selected === c.id) jobs.push(() => syncConv(c.id));
    else if (c.last_seq) jobs.push(() => syncConv(c.id, { preview: true }));
  }
  for (const id of stale) jobs.push(() => syncConv(id));
  if (S.view.selected && !listed.has(S.view.selected) && !stale.includes(S.view.selected)) jobs.push(() => syncConv(S.view.selected));
  // A few at a time: a long queue should not flood the socket.
  const workers = Array.from({ length: 4 }, async () => {
    while (jobs.length) await jobs.shift()();
  });
  await Promise.all(workers);
}

function resync() {
  if (sock && sock.isOpen) onOpen({});
}

function onEvent(m) {
  switch (m.type) {
    case 'message.created':
      return onMessage(m.message);
    case 'conversation.updated':
      return onConvUpdated(m.change, m.conversation);
    case 'typing':
      if (m.side === 'visitor') {
        if (m.on) S.typing.set(m.conversation_id, Date.now() + 7000);
        else S.typing.delete(m.conversation_id);
        scheduleTypingSweep();
        changed();
      }
      return;
    case 'read': {
      const c = S.convs.get(m.conversation_id);
      if (!c) return;
      if (m.side === 'visitor') c.visitor_last_read_seq = Math.max(c.visitor_last_read_seq || 0, m.last_read_seq);
      else c.agent_last_read_seq = Math.max(c.agent_last_read_seq || 0, m.last_read_seq);
      changed();
      return;
    }
    case 'agent.presence': {
      presenceSeen.set(m.agent_id, { status: m.status, connected: m.connected, at: Date.now() });
      const a = S.agents.get(m.agent_id);
      if (a) S.agents.set(m.agent_id, { ...a, status: m.status, connected: m.connected });
      else refreshAgents();
      if (S.me && m.agent_id === S.me.id) S.status = m.status;
      changed();
      return;
    }
    case 'resync':
      resync();
      return;
    default:
  }
}

let typingTimer = null;
function scheduleTypingSweep() {
  clearTimeout(typingTimer);
  if (!S.typing.size) return;
  const next = Math.min(...S.typing.values());
  typingTimer = setTimeout(
    () => {
      const now = Date.now();
      for (const [id, until] of S.typing) if (until <= now) S.typing.delete(id);
      changed();
      scheduleTypingSweep();
    },
    Math.max(50, next - Date.now() + 20),
  );
}

function onMessage(msg) {
  if (!msg) return;
  const id = msg.conversation_id;
  addMessages(id, [msg]);
  if (msg.author && msg.author.kind === 'visitor') S.typing.delete(id);
  const c = S.convs.get(id);
  if (!c) {
    // A conversation we did not know about (a supervisor watching).
    if (sock && sock.isOpen) syncConv(id, { preview: true });
  }
  changed();
  if (msg.kind === 'message' && msg.author && msg.author.kind === 'visitor' && c && concernsMe(c)) {
    const inView = S.view.area === 'inbox' && S.view.selected === id && pageActive();
    if (!inView) alertUser(`${visitorName(c)}`, msg.body, id);
  }
}

function concernsMe(c) {
  if (!S.me) return false;
  if (c.status === 'assigned') return !!c.assignee && c.assignee.id === S.me.id;
  if (c.status === 'queued') return isPrivileged() || S.myTeams.includes(c.team_id);
  return false;
}

// What each conversation was last announced as ('mine', 'queue' or
// 'other'): alerts fire on a change, whatever path (event, sync, list)
// brought the conversation in first.
const announced = new Map();
function roleOf(c) {
  if (c.status === 'assigned' && c.assignee && S.me && c.assignee.id === S.me.id) return 'mine';
  if (c.status === 'queued' && concernsMe(c)) return 'queue';
  return 'other';
}
function onConvUpdated(change, conv) {
  if (!conv) return;
  const c = upsertConv(conv);
  changed();
  if (!c || !S.me) return;
  const was = announced.get(c.id) || 'other';
  const now = roleOf(c);
  announced.set(c.id, now);
  const mineBefore = was === 'mine';
  const mineNow = now === 'mine';
  if (now !== was && !acting.has(c.id)) {
    if (now === 'mine') {
      alertUser(change === 'transferred' ? 'Chat transferred to you' : 'New chat assigned to you', visitorName(c), c.id);
      syncConv(c.id);
    } else if (now === 'queue') {
      const what = change === 'transferred' ? 'Chat transferred to your team' : change === 'requeued' ? 'Chat back in the queue' : 'New chat waiting';
      alertUser(what, visitorName(c), c.id);
    }
  }
  if (mineBefore && !mineNow && c.status !== 'closed' && !acting.has(c.id) && change !== 'transferred') {
    // Toast texts are text or an array of text and <bdi> names.
    toast([h('bdi', null, balance(visitorName(c))), ' is no longer assigned to you.'], 'info');
  }
}

// Conversations we are changing ourselves (no alerts for our own actions).
const acting = new Set();
async function act(id, frame, okText) {
  if (!sock || !sock.isOpen) {
    toast('Not connected — try again when the connection is back.', 'error');
    return null;
  }
  acting.add(id);
  try {
    const ack = await sock.request(frame);
    const c = upsertConv(ack.conversation);
    if (okText) toast(okText, 'success', 2500);
    changed();
    return c;
  } catch (e) {
    toast(actionError(frame.type, e), 'error');
    return null;
  } finally {
    setTimeout(() => acting.delete(id), 1500);
  }
}

function actionError(type, e) {
  const code = e && e.code;
  if (code === 'at_capacity') return `You are at your limit of ${S.me.max_chats} open chats. Close one first.`;
  if (code === 'invalid_state') {
    if (type === 'conversation.accept') return 'This chat is no longer waiting — someone else took it.';
    if (type === 'conversation.transfer') return 'Transfer not possible: the agent must be connected and not already assigned, and the chat must be open.';
    if (type === 'conversation.reopen') return 'This chat is already open.';
    if (type === 'conversation.close') return 'This chat is already closed.';
  }
  if (code === 'forbidden') return 'You are not allowed to do that in this conversation.';
  if (code === 'not_found') return 'That conversation (or the transfer target) no longer exists for you.';
  if (code === 'disconnected' || code === 'timeout') return 'The connection dropped before the server answered. Check the conversation and try again.';
  return (e && e.message) || 'Something went wrong.';
}

export async function accept(id) {
  const c = await act(id, { type: 'conversation.accept', conversation_id: id }, 'Chat accepted');
  if (c) {
    S.seen.add(id);
    navigate({ area: 'inbox', list: 'mine', selected: id });
    syncConv(id);
    S.focus = { ...S.focus, composer: S.focus.composer + 1, note: false };
  }
}

export async function closeConv(id) {
  const c = await act(id, { type: 'conversation.close', conversation_id: id }, 'Conversation closed');
  if (c) {
    S.typing.delete(id);
    if (S.closed.loaded) loadClosed();
  }
}

export async function reopen(id) {
  const c = await act(id, { type: 'conversation.reopen', conversation_id: id }, 'Conversation reopened');
  if (c) {
    navigate({ area: 'inbox', list: 'mine', selected: id });
    syncConv(id);
  }
}

export async function transfer(id, target, reason) {
  const frame = { type: 'conversation.transfer', conversation_id: id, ...target };
  if (reason) frame.reason = reason;
  const to = target.to_agent_id ? (S.agents.get(target.to_agent_id) || {}).name : (S.teams.find((t) => t.id === target.to_team_id) || {}).name;
  const c = await act(id, frame, ['Transferred to ', to ? h('bdi', null, balance(to)) : 'the new owner']);
  if (c) {
    S.dialog = null;
    syncConv(id);
  }
  return !!c;
}

export function setStatus(status) {
  if (!sock || !sock.isOpen) {
    toast('Not connected — your status will be set once the connection is back.', 'error');
    return;
  }
  const prev = S.status;
  S.status = status;
  changed();
  sock.request({ type: 'status.set', status }).then(
    (ack) => {
      S.status = ack.status;
      changed();
    },
    (e) => {
      S.status = prev;
      toast(`Could not change your status: ${e.message}`, 'error');
      changed();
    },
  );
}

// ---------------------------------------------------------------- opening conversations

export async function openConversation(id) {
  if (!id) return;
  S.seen.add(id);
  const c = S.convs.get(id);
  if (!c) {
    try {
      const r = await get(`/api/conversations/${id}`);
      upsertConv(r.conversation);
      S.details.set(id, { earlier: r.earlier, loading: false });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) S.missing.add(id);
      changed();
      return;
    }
  }
  const st = msgState(id);
  const conv = S.convs.get(id);
  if (sock && sock.isOpen && (!conv || st.contig < (conv.last_seq || 0) || !st.list.length)) syncConv(id);
  loadDetails(id);
  changed();
}

export async function loadDetails(id, force = false) {
  const d = S.details.get(id);
  if (d && !force && (d.loading || d.earlier)) return;
  S.details.set(id, { ...(d || {}), loading: true });
  try {
    const r = await get(`/api/conversations/${id}`);
    upsertConv(r.conversation);
    S.details.set(id, { earlier: r.earlier, loading: false });
  } catch (e) {
    S.details.set(id, { earlier: d && d.earlier, loading: false, error: e.text });
  }
  changed();
}

// ---------------------------------------------------------------- messages out

// Messages and notes written and not yet acknowledged (ui-shared/outbox.js),
// each with the conversation it goes to.
const outbox = new Outbox({
  socket: () => sock,
  prefix: () => `a${S.me ? S.me.id : 0}`,
  timeoutMs: 30000,
  frame: (item) => ({ type: item.kind === 'note' ? 'note.send' : 'message.send', conversation_id: item.conv }),
  onSent: (item, ack) => {
    addMessages(item.conv, [ack.message]);
    changed();
  },
  onChange: (stored) => {
    if (stored) persistSoon();
    changed();
  },
});

/** The unsent messages of a conversation, oldest first. */
export function pendingFor(id) {
  return outbox.items.filter((i) => i.conv === id);
}

const SEND_ERRORS = {
  invalid_state: 'The conversation is closed.',
  forbidden: 'You can no longer write in this conversation.',
  message_too_long: 'The message is too long.',
};

/** Why a failed message was not sent, for the agent. */
export const sendErrorText = (item) => SEND_ERRORS[item.error] || item.message;

export function sendMessage(id, body, kind = 'message') {
  const text = body.replace(/\s+$/, '');
  if (!text.trim()) return false;
  outbox.add({ conv: id, body: text, kind });
  persistNow();
  return true;
}

export function retrySend(id, cmid) {
  outbox.retry(cmid);
}

export function discardSend(id, cmid) {
  outbox.remove(cmid);
}

// ---------------------------------------------------------------- drafts, typing, read

export function getDraft(id) {
  return S.drafts.get(id) || { text: '', note: false };
}

/** Stores a draft; re-renders only when "has a draft" changes (list marker). */
export function setDraft(id, draft) {
  const had = !!getDraft(id).text;
  if (draft.text || draft.note) S.drafts.set(id, draft);
  else S.drafts.delete(id);
  persistSoon();
  if (had !== !!draft.text) changed();
}

const typingState = new Map(); // id -> {sentAt, stopTimer}
export function typing(id, on) {
  if (!sock || !sock.isOpen) return;
  const t = typingState.get(id) || { sentAt: 0, stopTimer: null };
  typingState.set(id, t);
  clearTimeout(t.stopTimer);
  if (on) {
    if (Date.now() - t.sentAt > 2500) {
      t.sentAt = Date.now();
      sock.send({ type: 'typing', conversation_id: id, on: true });
    }
    t.stopTimer = setTimeout(() => typing(id, false), 4000);
  } else if (t.sentAt) {
    t.sentAt = 0;
    sock.send({ type: 'typing', conversation_id: id, on: false });
  }
}

export function pageActive() {
  return document.visibilityState === 'visible' && document.hasFocus();
}

export function readMark(id) {
  const c = S.convs.get(id);
  return Math.max((c && c.agent_last_read_seq) || 0, S.localRead.get(id) || 0);
}

export function unreadCount(id) {
  const st = S.msgs.get(id);
  const mark = readMark(id);
  let n = 0;
  if (st) for (const m of st.list) if (m.seq > mark && m.kind === 'message' && m.author && m.author.kind === 'visitor') n += 1;
  return n;
}

/** Marks what is on screen as read (locally at once; on the server shortly after). */
const readTimers = new Map();
export function markRead(id) {
  const st = S.msgs.get(id);
  if (!st || !st.list.length) return;
  const top = st.list[st.list.length - 1].seq;
  if (top <= readMark(id)) return;
  S.localRead.set(id, top);
  changed();
  clearTimeout(readTimers.get(id));
  readTimers.set(
    id,
    setTimeout(() => {
      const c = S.convs.get(id);
      if (!sock || !sock.isOpen || !c) return;
      const allowed = isPrivileged() || (c.assignee && c.assignee.id === S.me.id) || S.myTeams.includes(c.team_id);
      if (!allowed) return;
      sock.request({ type: 'read', conversation_id: id, seq: top }).then(
        (ack) => {
          const cc = S.convs.get(id);
          if (cc) cc.agent_last_read_seq = Math.max(cc.agent_last_read_seq || 0, ack.last_read_seq);
          changed();
        },
        () => {},
      );
    }, 400),
  );
}

// ---------------------------------------------------------------- lists

export function lists() {
  const me = S.me ? S.me.id : 0;
  const queue = [];
  const mine = [];
  const all = [];
  for (const c of S.convs.values()) {
    if (c.status === 'closed') continue;
    if (c.status === 'queued' && (isPrivileged() || S.myTeams.includes(c.team_id))) queue.push(c);
    if (c.status === 'assigned' && c.assignee && c.assignee.id === me) mine.push(c);
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
  const open = S.listed ? lists().mine.length : row ? row.open_chats : 0;
  return { open, max: row ? row.max_chats : (S.me && S.me.max_chats) || 0 };
}

/** Unread for the tab title: unread visitor messages in my chats, plus waiting chats not opened yet. */
export function totalUnread() {
  const l = lists();
  let n = 0;
  for (const c of l.mine) n += unreadCount(c.id);
  for (const c of l.queue) n += Math.max(S.seen.has(c.id) ? 0 : 1, unreadCount(c.id));
  return n;
}

export async function loadClosed({ more = false } = {}) {
  const q = S.closed.q.trim();
  const params = new URLSearchParams({ status: 'closed', limit: '30' });
  if (q) params.set('q', q);
  if (more && S.closed.next) params.set('before', S.closed.next);
  S.closed.loading = true;
  S.closed.error = null;
  changed();
  const want = q;
  try {
    const r = await get(`/api/conversations?${params}`);
    if (S.closed.q.trim() !== want) return;
    for (const c of r.conversations) {
      const known = S.convs.get(c.id);
      if (!known || known.status === 'closed') upsertConv(c);
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

// ---------------------------------------------------------------- view and routing

function route() {
  parseRoute();
  applyRoute();
  S.help = false;
  changed();
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'admin') {
    S.view = { ...S.view, area: 'admin', admin: parts[1] || 'agents' };
  } else {
    const list = ['queue', 'mine', 'all', 'closed'].includes(parts[0]) ? parts[0] : 'mine';
    const selected = parts[1] ? Number(parts[1]) || null : null;
    S.view = { ...S.view, area: 'inbox', list, selected };
  }
}

function applyRoute() {
  if (S.phase !== 'app' || S.view.area !== 'inbox') return;
  if (S.view.selected) openConversation(S.view.selected);
  if (S.view.list === 'closed' && !S.closed.loaded && !S.closed.loading) loadClosed();
}

export function navigate(v) {
  const next = { ...S.view, ...v };
  const hash = next.area === 'admin' ? `#/admin/${next.admin}` : `#/${next.list}${next.selected ? `/${next.selected}` : ''}`;
  if (location.hash !== hash) location.hash = hash;
  else route();
}

export function canSeeAdmin(tab) {
  if (tab === 'canned') return isPrivileged();
  return isAdmin();
}

export function openList(list) {
  navigate({ area: 'inbox', list, selected: S.view.list === list ? S.view.selected : null });
}

export function select(id) {
  navigate({ area: 'inbox', selected: id });
}

/** j/k: the next or previous conversation of the current list. */
export function step(delta) {
  const list = currentList();
  if (!list.length) return;
  const i = list.findIndex((c) => c.id === S.view.selected);
  const j = i < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, i + delta));
  select(list[j].id);
}

// ---------------------------------------------------------------- notifications

let audio = null;
let lastSound = 0;
export function playSound() {
  if (!S.notify.sound) return;
  // One chime for a burst of events.
  if (Date.now() - lastSound < 1500) return;
  lastSound = Date.now();
  try {
    if (!audio) audio = new Audio('/console/notify.wav');
    audio.currentTime = 0;
    const p = audio.play();
    if (p && p.catch) p.catch(() => {});
  } catch {
    /* no audio */
  }
}

/**
 * A desktop notification. Its title and body are each one piece of text
 * from people (a name, a message), shown alone by the system: balanced,
 * so that an unpaired control cannot reverse them, but not wrapped in
 * FSI ... PDI, which some notification daemons draw as boxes.
 */
function alertUser(title, body, id) {
  playSound();
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (pageActive() && S.view.selected === id) return;
  try {
    const n = new Notification(balance(title), { body: balance(String(body || '').slice(0, 180)), tag: `parley-${id}`, icon: '/console/favicon.svg' });
    n.onclick = () => {
      window.focus();
      const c = S.convs.get(id);
      const list = c && c.status === 'queued' ? 'queue' : 'mine';
      navigate({ area: 'inbox', list, selected: id });
      n.close();
    };
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

export async function enableDesktop() {
  if (typeof Notification === 'undefined') return;
  try {
    S.notify.permission = await Notification.requestPermission();
  } catch {
    S.notify.permission = Notification.permission;
  }
  if (S.notify.permission === 'granted') toast('Desktop notifications are on.', 'success', 2500);
  else if (S.notify.permission === 'denied') toast('Notifications are blocked for this site in your browser settings.', 'error');
  changed();
}

export function toggleSound() {
  S.notify.sound = !S.notify.sound;
  store.save('prefs', { sound: S.notify.sound });
  if (S.notify.sound) playSound();
  changed();
}

// ---------------------------------------------------------------- dialogs

export function openDialog(d) {
  S.dialog = d;
  changed();
}
export function closeDialog() {
  if (S.dialog && S.dialog.resolve) S.dialog.resolve(false);
  S.dialog = null;
  changed();
}
/** A confirmation dialog; resolves true when confirmed. title may be JSX, with label its text. */
export function confirmDialog({ title, label, body, confirm = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    if (S.dialog && S.dialog.resolve) S.dialog.resolve(false);
    S.dialog = { type: 'confirm', title, label, body, confirm, danger, resolve };
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
