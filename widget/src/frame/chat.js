// The chat frame's state and its connection to /ws/visitor.
//
// One module-level store (S) that the UI renders; changes go through
// update(), which schedules a render. The socket authenticates with the
// visitor token as its first frame, resumes with conversations.list + sync
// after every (re)connect, and resends unacknowledged messages with their
// original client_msg_id (the server deduplicates on it). Messages are
// de-duplicated here by id, so two tabs, a sync overlapping events, or a
// resend never show a message twice.

import { setLanguage } from './i18n.js';

const params = new URLSearchParams(location.search);
export const SITE = /^[A-Za-z0-9_-]{8,64}$/.test(params.get('site') || '') ? params.get('site') : null;
export const HOST = validOrigin(params.get('host'));

function validOrigin(o) {
  try {
    return o && /^https?:\/\//.test(o) && new URL(o).origin === o ? o : null;
  } catch (e) {
    return null;
  }
}

const str = (v, max) => (typeof v === 'string' && v.length <= max ? v : '');
const int = (v) => (Number.isInteger(v) && v >= 0 ? v : 0);

export const S = {
  fatal: !SITE || !HOST || window.parent === window ? 'unavailable' : null,
  inited: false,
  token: null,
  settings: validSettings({}),
  siteName: '',
  online: true,
  open: false,
  conn: 'idle', // idle | connecting | up | down
  everUp: false,
  convId: null,
  conv: null,
  msgs: [], // visible messages in seq order
  lastSeq: 0,
  outbox: [], // {cmid, body, at, failed?, sending?}
  start: null, // a conversation.start waiting for the socket: {prechat, offline}
  typing: null, // agent typing: {name}
  queue: null, // {position, wait}
  profile: { name: '', email: '' },
  attrs: {},
  page: '',
  ref: '',
  loaded: false, // the first sync of this conversation is done
  rated: false,
};

// ---- rendering ----
let renderFn = () => {};
let scheduled = false;
export function onRender(fn) {
  renderFn = fn;
}
export function update(patch) {
  if (patch) Object.assign(S, patch);
  if (scheduled) return;
  scheduled = true;
  Promise.resolve().then(() => {
    scheduled = false;
    renderFn();
    afterRender();
  });
}

// ---- settings ----
export function validSettings(s) {
  s = s && typeof s === 'object' ? s : {};
  const fields = [];
  if (Array.isArray(s.prechat_fields)) {
    for (const f of s.prechat_fields.slice(0, 10)) {
      if (!f || typeof f !== 'object' || !/^[A-Za-z0-9_.-]{1,64}$/.test(f.name || '')) continue;
      if (fields.some((x) => x.name === f.name)) continue;
      fields.push({
        name: f.name,
        label: str(f.label, 100).trim(),
        type: f.type === 'email' ? 'email' : 'text',
        required: f.required === true,
      });
    }
  }
  return {
    color: /^#[0-9a-fA-F]{6}$/.test(s.color) ? s.color : '#4f46e5',
    position: s.position === 'left' ? 'left' : 'right',
    greeting: str(s.greeting, 500).trim(),
    launcher_text: str(s.launcher_text, 40).trim(),
    prechat_fields: fields,
    language: s.language === 'en' || s.language === 'zh-CN' ? s.language : 'auto',
  };
}

function applyBrand(color) {
  const n = parseInt(color.slice(1), 16);
  const lum = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  const root = document.documentElement.style;
  root.setProperty('--brand', color);
  root.setProperty('--on-brand', lum > 0.62 ? '#111827' : '#ffffff');
}

export async function loadSite() {
  try {
    const r = await fetch(`/api/widget/sites/${SITE}`, { credentials: 'omit', cache: 'no-store' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const j = await r.json();
    const settings = validSettings(j && j.settings);
    setLanguage(settings.language);
    applyBrand(settings.color);
    update({ settings, siteName: str(j.name, 100), online: j.online !== false, siteLoaded: true });
  } catch (e) {
    setLanguage('auto');
    applyBrand(S.settings.color);
    update({ siteLoaded: true });
  }
}

// ---- the host page ----
export function toHost(m) {
  if (!HOST || window.parent === window) return;
  m.parley = 1;
  window.parent.postMessage(m, HOST);
}

function persist() {
  toHost({
    type: 'state',
    conv: S.convId,
    active: !!S.start || !!(S.convId && (!S.conv || S.conv.status !== 'closed')),
    outbox: S.outbox.map(({ cmid, body, at }) => ({ cmid, body, at })),
    start: S.start,
  });
}

function cleanProfile(p) {
  p = p && typeof p === 'object' ? p : {};
  return { name: str(p.name, 200), email: str(p.email, 254) };
}

function cleanAttrs(a) {
  const out = {};
  if (a && typeof a === 'object')
    for (const k of Object.keys(a).slice(0, 50)) {
      const v = a[k];
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(k)) continue;
      // eslint-disable-next-line no-control-regex -- control characters are what is removed
      if (typeof v === 'string') out[k] = v.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 500);
      else if (v === null || typeof v === 'boolean' || (typeof v === 'number' && isFinite(v))) out[k] = v;
    }
  return out;
}

function cleanPrechat(p) {
  const out = {};
  if (p && typeof p === 'object')
    for (const k of Object.keys(p).slice(0, 20)) if (/^[A-Za-z0-9_.-]{1,64}$/.test(k) && typeof p[k] === 'string') out[k] = p[k].slice(0, 1000);
  return out;
}

// What the server accepts as a visitor's email in visitor.update.
const okEmail = (e) => e.length >= 3 && /@/.test(e) && !/[\s<>"']/.test(e);

const httpUrl = (u) => (typeof u === 'string' && u.length <= 2048 && /^https?:\/\//i.test(u) ? u : '');

function onHostMessage(e) {
  if (e.origin !== HOST || e.source !== window.parent) return;
  const m = e.data;
  if (!m || m.parley !== 1) return;
  if (m.type === 'init') {
    if (S.inited) return newToken(m.token);
    const outbox = (Array.isArray(m.outbox) ? m.outbox : [])
      .filter((x) => x && /^[\x21-\x7e]{1,64}$/.test(x.cmid) && typeof x.body === 'string' && x.body.length <= 16000)
      .map((x) => ({ cmid: x.cmid, body: x.body, at: int(x.at) }));
    let start = null;
    if (m.start && typeof m.start === 'object') start = { prechat: cleanPrechat(m.start.prechat), offline: m.start.offline === true };
    update({
      inited: true,
      token: str(m.token, 128) || null,
      convId: Number.isInteger(m.conv) && m.conv > 0 ? m.conv : null,
      outbox,
      start,
      profile: cleanProfile(m.profile),
      attrs: cleanAttrs(m.attrs),
      page: httpUrl(m.page),
      ref: httpUrl(m.ref),
      open: m.open === true,
    });
    const vu = {};
    if (S.page) vu.page_url = S.page;
    if (Object.keys(S.attrs).length) vu.attributes = S.attrs;
    profileUpdate(vu);
    visitorUpdate(vu);
    connect();
  } else if (m.type === 'open') {
    update({ open: true });
    if (S.siteLoaded && !S.convId && !S.start) loadSite();
    focusSoon();
  } else if (m.type === 'close') {
    update({ open: false });
  } else if (m.type === 'fail') {
    // The loader could not get a visitor session (e.g. this origin is not
    // allowed for the site, or an identity is required).
    if (!S.token) update({ fatal: 'unavailable' });
  } else if (m.type === 'token') {
    newToken(m.token);
  } else if (m.type === 'profile') {
    update({ profile: cleanProfile(m.profile) });
    const vu = {};
    profileUpdate(vu);
    visitorUpdate(vu);
  } else if (m.type === 'attrs') {
    update({ attrs: cleanAttrs(m.attrs) });
    visitorUpdate({ attributes: S.attrs });
  }
}

function profileUpdate(vu) {
  if (S.profile.name) vu.name = S.profile.name;
  if (S.profile.email && okEmail(S.profile.email)) vu.email = S.profile.email;
}

// visitor.update: the page the visitor is on, what identify() and
// set({attributes}) told us. Kept until the server has it.
let pendingVisitor = {};
function visitorUpdate(patch) {
  Object.assign(pendingVisitor, patch);
  flushVisitor();
}

async function flushVisitor() {
  if (!authed || !Object.keys(pendingVisitor).length) return;
  const sent = pendingVisitor;
  pendingVisitor = {};
  try {
    await request({ type: 'visitor.update', ...sent });
  } catch (e) {
    const code = e && e.code;
    if (['disconnected', 'timeout', 'unavailable', 'rate_limited', 'internal'].includes(code)) pendingVisitor = { ...sent, ...pendingVisitor };
  }
}

export let focusSoon = () => {};
export function setFocusHandler(fn) {
  focusSoon = fn;
}

// A new visitor (the token changed): forget the old one's conversation.
function newToken(token) {
  token = str(token, 128);
  if (!token || token === S.token) return;
  forgetConversation();
  update({ token, outbox: [], start: null });
  persist();
  drop();
  connect();
}

export function boot() {
  if (S.fatal) return update();
  window.addEventListener('message', onHostMessage);
  toHost({ type: 'hello' });
  loadSite();
  window.addEventListener('online', () => {
    if (!ws && S.token) {
      clearTimeout(retryTimer);
      connect();
    }
  });
  document.addEventListener('visibilitychange', () => update());
}

// ---- the socket ----
let ws = null;
let authed = false;
let reqN = 0;
const reqs = new Map();
let backoff = 500;
let retryTimer = 0;
let pingTimer = 0;
let pongTimer = 0;

const wsUrl = () => `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws/visitor`;

function connect() {
  if (ws || !S.token || S.fatal) return;
  clearTimeout(retryTimer);
  update({ conn: 'connecting' });
  const sock = (ws = new WebSocket(wsUrl()));
  sock.onopen = () => sock.send(JSON.stringify({ type: 'auth', id: 'auth', token: S.token }));
  sock.onmessage = (ev) => {
    if (sock !== ws) return;
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    if (m && typeof m === 'object') onFrame(m);
  };
  sock.onclose = () => {
    if (sock === ws) lost();
  };
}

// Forget the current socket at once (a dead network may take long to
// report the close) and reconnect.
function drop() {
  const sock = ws;
  if (!sock) return;
  ws = null;
  try {
    sock.close();
  } catch (e) {
    /* already closed */
  }
  lost(true);
}

let authError = null;
function lost(quiet) {
  ws = null;
  authed = false;
  clearInterval(pingTimer);
  clearTimeout(pongTimer);
  for (const [, r] of reqs) {
    clearTimeout(r.timer);
    r.reject({ code: 'disconnected' });
  }
  reqs.clear();
  for (const x of S.outbox) x.sending = false;
  const err = authError;
  authError = null;
  if (err === 'auth_failed' || err === 'identity_required') {
    // The token is not valid (any more), or the site now requires a
    // verified identity it does not have: the loader asks for a new
    // session (verified if the page identified the visitor).
    update({ conn: 'down', token: null });
    toHost({ type: 'expired' });
    return;
  }
  if (err === 'origin_forbidden') return update({ conn: 'down', fatal: 'unavailable' });
  update({ conn: 'down', typing: null });
  if (quiet === true) return;
  const delay = Math.min(backoff, 30000) * (0.75 + Math.random() * 0.5);
  backoff = Math.min(backoff * 2, 30000);
  if (err === 'too_many_sockets') backoff = 30000;
  retryTimer = setTimeout(connect, delay);
}

function onFrame(m) {
  if (m.type === 'ack' || m.type === 'error' || m.type === 'pong') {
    if (m.id === 'auth') return m.type === 'ack' ? onAuthed(m) : (authError = m.code);
    clearTimeout(pongTimer);
    const r = m.id != null && reqs.get(m.id);
    if (r) {
      reqs.delete(m.id);
      clearTimeout(r.timer);
      if (m.type === 'error') r.reject(m);
      else r.resolve(m);
    }
    return;
  }
  onEvent(m);
}

function request(frame, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    if (!ws || !authed) return reject({ code: 'disconnected' });
    const id = `r${++reqN}`;
    const timer = setTimeout(() => {
      reqs.delete(id);
      reject({ code: 'timeout' });
      drop(); // an unanswered request: treat the connection as dead
      scheduleReconnect();
    }, timeoutMs);
    reqs.set(id, { resolve, reject, timer });
    ws.send(JSON.stringify({ ...frame, id }));
  });
}

function scheduleReconnect() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(connect, 300);
}

function onAuthed() {
  authed = true;
  backoff = 500;
  update({ conn: 'up', everUp: true });
  // Application-level heartbeat: a silent network is noticed within ~35 s.
  clearInterval(pingTimer);
  pingTimer = setInterval(() => {
    if (!ws || !authed) return;
    ws.send(JSON.stringify({ type: 'ping', id: `p${++reqN}` }));
    clearTimeout(pongTimer);
    pongTimer = setTimeout(() => {
      drop();
      scheduleReconnect();
    }, 10000);
  }, 25000);
  resume();
}

let resuming = null;
function resume() {
  if (!resuming)
    resuming = doResume().finally(() => {
      resuming = null;
    });
  return resuming;
}

async function doResume() {
  try {
    if (!S.convId && !S.start) {
      const r = await request({ type: 'conversations.list' });
      const open = (r.conversations || []).find((c) => c && c.status !== 'closed');
      if (open) adopt(open);
    }
    flushVisitor();
    if (S.convId) await syncNow();
    await flush();
  } catch (e) {
    if (e && e.code === 'not_found') {
      // Not this visitor's conversation (any more).
      forgetConversation();
      persist();
    }
  }
}

async function syncNow() {
  const id = S.convId;
  for (let i = 0; i < 100; i++) {
    const r = await request({ type: 'sync', conversation_id: id, after_seq: S.lastSeq });
    if (id !== S.convId) return;
    applyConv(r.conversation);
    const live = S.loaded;
    for (const m of r.messages || []) addMsg(m, live);
    if (!r.more) break;
  }
  update({ loaded: true });
  persist();
}

function adopt(conv) {
  if (!conv || !Number.isInteger(conv.id)) return;
  if (conv.id !== S.convId) forgetConversation();
  S.convId = conv.id;
  applyConv(conv);
  if (earlyQueue && earlyQueue.conversation_id === conv.id) applyQueue(earlyQueue);
  persist();
}

function forgetConversation() {
  readInFlight = 0;
  update({ convId: null, conv: null, msgs: [], lastSeq: 0, typing: null, queue: null, loaded: false, rated: false });
  sendUnread();
}

let starting = false;
let startErrors = 0;
export async function flush() {
  if (!authed) return;
  if (S.start && !S.convId) {
    if (starting) return;
    const start = S.start;
    const frame = { type: 'conversation.start', prechat: start.prechat };
    if (S.page) frame.page_url = S.page;
    if (S.ref) frame.referrer = S.ref;
    if (start.offline) frame.offline = true;
    let r;
    starting = true;
    try {
      r = await request(frame);
    } catch (e) {
      const code = e && e.code;
      if (code !== 'disconnected' && code !== 'timeout' && ++startErrors < 5) {
        // A refused field (should not happen: the form is validated):
        // try once more without the optional page details.
        if (code === 'invalid_field') S.page = S.ref = '';
        setTimeout(flush, 1000 * startErrors);
      }
      return;
    } finally {
      starting = false;
    }
    startErrors = 0;
    S.start = null;
    adopt(r.conversation);
    update({ loaded: true });
    // Load what is already there: the history of an existing conversation,
    // or what happened before we knew the id (an assignment right at the
    // start emits its events before this ack arrives).
    try {
      await syncNow();
    } catch (e) {
      /* the next resume fills it in */
    }
  }
  if (!S.convId || (S.conv && S.conv.status === 'closed')) return;
  for (const item of S.outbox) if (!item.sending && !item.failed) sendItem(item);
}

const FATAL_SEND = ['message_too_long', 'invalid_field', 'forbidden', 'invalid_state', 'not_found'];

function sendItem(item) {
  item.sending = true;
  update();
  request({ type: 'message.send', conversation_id: S.convId, client_msg_id: item.cmid, body: item.body }).then(
    (ack) => {
      removeOutbox(item.cmid);
      if (ack.message) addMsg(ack.message, false);
    },
    (e) => {
      item.sending = false;
      const code = e && e.code;
      if (FATAL_SEND.includes(code)) item.failed = code;
      else if (authed) setTimeout(flush, code === 'rate_limited' ? 4000 : 1500);
      update();
      persist();
    },
  );
}

function removeOutbox(cmid) {
  const n = S.outbox.length;
  S.outbox = S.outbox.filter((x) => x.cmid !== cmid);
  if (S.outbox.length !== n) {
    update();
    persist();
  }
}

function newCmid() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `w-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

// ---- actions from the UI ----
export function send(body) {
  body = body.replace(/\s+$/, '');
  if (!body.trim()) return;
  S.outbox = [...S.outbox, { cmid: newCmid(), body, at: Date.now() }];
  stopTyping();
  update();
  persist();
  flush();
}

export function retry(cmid) {
  const item = S.outbox.find((x) => x.cmid === cmid);
  if (!item) return;
  item.failed = null;
  update();
  flush();
}

export function discard(cmid) {
  removeOutbox(cmid);
}

export function startConversation(prechat, firstMessage, offline) {
  forgetConversation();
  S.start = { prechat: cleanPrechat(prechat), offline: !!offline };
  S.outbox = [...S.outbox, { cmid: newCmid(), body: firstMessage, at: Date.now() }];
  if (prechat.name || prechat.email) S.profile = { name: prechat.name || S.profile.name, email: prechat.email || S.profile.email };
  update({ loaded: true });
  persist();
  flush();
}

export async function endConversation() {
  if (!S.convId) return;
  try {
    const r = await request({ type: 'conversation.close', conversation_id: S.convId });
    applyConv(r.conversation);
    persist();
  } catch (e) {
    /* shown by the connection state; the visitor can try again */
  }
}

export async function rate(rating, comment) {
  const frame = { type: 'conversation.rate', conversation_id: S.convId, rating };
  if (comment) frame.comment = comment.slice(0, 2000);
  await request(frame);
  update({ rated: true, conv: { ...S.conv, rating } });
}

export function newConversation() {
  forgetConversation();
  persist();
}

let typingOn = 0;
let typingIdle = 0;
export function typing() {
  if (!authed || !S.convId || !S.conv || S.conv.status === 'closed') return;
  const now = Date.now();
  if (now - typingOn > 2500) {
    typingOn = now;
    ws.send(JSON.stringify({ type: 'typing', conversation_id: S.convId, on: true }));
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, 4000);
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (!typingOn) return;
  typingOn = 0;
  if (authed && S.convId) ws.send(JSON.stringify({ type: 'typing', conversation_id: S.convId, on: false }));
}

// ---- server events ----
let typingTimer = 0;
function onEvent(m) {
  switch (m.type) {
    case 'message.created':
      if (m.message && m.message.conversation_id === S.convId) addMsg(m.message, true);
      break;
    case 'conversation.updated': {
      const c = m.conversation;
      if (!c || !Number.isInteger(c.id)) return;
      if (c.id === S.convId) {
        applyConv(c);
        persist();
      } else if (!S.start && c.status !== 'closed' && (!S.convId || (S.conv && S.conv.status === 'closed'))) {
        // Another tab of this visitor started a conversation.
        adopt(c);
        syncNow().catch(() => {});
      }
      break;
    }
    case 'typing':
      if (m.conversation_id !== S.convId || m.side !== 'agent') return;
      clearTimeout(typingTimer);
      if (m.on) {
        update({ typing: { name: str(m.name, 200) } });
        typingTimer = setTimeout(() => update({ typing: null }), 8000);
      } else update({ typing: null });
      break;
    case 'read':
      if (m.conversation_id !== S.convId || !S.conv) return;
      if (m.side === 'agent') S.conv.agent_last_read_seq = Math.max(int(S.conv.agent_last_read_seq), int(m.last_read_seq));
      if (m.side === 'visitor') S.conv.visitor_last_read_seq = Math.max(int(S.conv.visitor_last_read_seq), int(m.last_read_seq));
      update();
      sendUnread();
      break;
    case 'queue.position':
      // It can come before the ack of conversation.start: keep it.
      earlyQueue = m;
      if (m.conversation_id === S.convId) applyQueue(m);
      break;
    case 'resync':
      resume();
      break;
  }
}

let earlyQueue = null;
function applyQueue(m) {
  if (S.conv && S.conv.status !== 'queued') return;
  update({ queue: { position: int(m.position), wait: int(m.estimated_wait_seconds) } });
}

function applyConv(c) {
  if (!c || c.id !== S.convId) return;
  const old = S.conv || {};
  const conv = {
    id: c.id,
    status: ['queued', 'assigned', 'closed'].includes(c.status) ? c.status : 'queued',
    assignee: c.assignee && typeof c.assignee.name === 'string' ? { name: c.assignee.name.slice(0, 200) } : null,
    offline: c.offline === true,
    rating: c.rating === 'good' || c.rating === 'bad' ? c.rating : null,
    last_seq: int(c.last_seq),
    agent_last_read_seq: Math.max(int(c.agent_last_read_seq), int(old.agent_last_read_seq)),
    visitor_last_read_seq: Math.max(int(c.visitor_last_read_seq), int(old.visitor_last_read_seq)),
  };
  const patch = { conv };
  if (conv.status !== 'queued') patch.queue = null;
  if (conv.status === 'closed') patch.typing = null;
  update(patch);
  sendUnread();
}

function validMsg(m) {
  return (
    m &&
    Number.isInteger(m.id) &&
    Number.isInteger(m.seq) &&
    typeof m.body === 'string' &&
    (m.kind === 'message' || m.kind === 'event') &&
    m.author &&
    typeof m.author.kind === 'string'
  );
}

function addMsg(m, live) {
  if (!validMsg(m) || m.conversation_id !== S.convId) return;
  if (m.client_msg_id) removeOutbox(m.client_msg_id);
  if (S.msgs.some((x) => x.id === m.id)) return;
  const msg = {
    id: m.id,
    seq: m.seq,
    kind: m.kind,
    body: m.body,
    author: { kind: m.author.kind, name: str(m.author.name, 200) },
    created_at: str(m.created_at, 40),
    client_msg_id: m.client_msg_id,
    // event lines: a stable code and who, worded by eventText()
    event: str(m.event, 20),
    event_agent: str(m.event_agent, 200),
    event_by: str(m.event_by, 10),
  };
  const msgs = [...S.msgs, msg].sort((a, b) => a.seq - b.seq);
  const patch = { msgs, lastSeq: Math.max(S.lastSeq, m.seq) };
  if (msg.author.kind === 'agent') patch.typing = null;
  update(patch);
  if (live && msg.author.kind === 'agent' && msg.kind === 'message')
    toHost({ type: 'message', message: { body: msg.body, author: msg.author.name, created_at: msg.created_at } });
  sendUnread();
}

// ---- unread and read receipts ----
let lastUnread = -1;
function unreadCount() {
  if (!S.conv) return 0;
  const seen = S.conv.visitor_last_read_seq || 0;
  return S.msgs.filter((m) => m.kind === 'message' && m.author.kind === 'agent' && m.seq > seen).length;
}

function sendUnread() {
  const n = unreadCount();
  if (n === lastUnread) return;
  lastUnread = n;
  toHost({ type: 'unread', count: n });
}

let readInFlight = 0;
function afterRender() {
  // Everything visible on an open widget counts as read.
  if (!S.open || document.visibilityState !== 'visible' || !authed || !S.conv || !S.loaded) return;
  const seen = S.conv.visitor_last_read_seq || 0;
  if (S.lastSeq <= seen || readInFlight >= S.lastSeq) return;
  readInFlight = S.lastSeq;
  request({ type: 'read', conversation_id: S.convId, seq: S.lastSeq }).then(
    (r) => {
      if (S.conv && r.conversation_id === S.convId) S.conv.visitor_last_read_seq = Math.max(S.conv.visitor_last_read_seq || 0, int(r.last_read_seq));
      update();
      sendUnread();
    },
    () => {
      readInFlight = 0;
    },
  );
}
