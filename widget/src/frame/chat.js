// The chat frame's state and its connection to /ws/visitor.
//
// One module-level store (S) that the UI renders; changes go through
// update(), which schedules a render. The socket (ui-shared/socket.js)
// authenticates with the visitor token as its first frame; after every
// (re)connect this module resumes with conversations.list + sync and then
// resends the outbox (ui-shared/outbox.js): unacknowledged messages, with
// their original client_msg_id (the server deduplicates on it). Messages are
// de-duplicated here by id, so two tabs, a sync overlapping events, or a
// resend never show a message twice.
//
// Files (issue 11): attach() checks each file against the site's limits,
// uploads it (raw body, Bearer token, progress, cancel) once the
// conversation exists, then queues a message carrying it through the
// outbox, which resends it like any message. Images and downloads use
// short-lived signed links (fileLink), cached until they expire.
//
// Calls (issue 17): the call UI and the WebRTC engine are a chunk of their
// own (./call/), imported only when a call rings for this visitor or the
// visitor asks for one (loadCall). Until then this module keeps the last
// `call.updated` of the conversation in S.call (and the live calls a
// conversations.list answers after every (re)connect: a tab opened while a
// call rings learns of it) and the `call.signal` frames in
// callHooks.signals; the chunk takes over both when it arrives, and is
// told of every reconnect (it sends `call.rejoin` when this tab is in the
// call).

import { ChatSocket } from '../../../ui-shared/socket.js';
import { Outbox } from '../../../ui-shared/outbox.js';
import { precheck, upload, uploadUrl } from '../../../ui-shared/files.js';
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
  backAt: null, // when the team opens again (outside business hours)
  open: false,
  conn: 'idle', // idle | connecting | up | down
  everUp: false,
  convId: null,
  conv: null,
  msgs: [], // visible messages in seq order
  lastSeq: 0,
  start: null, // a conversation.start waiting for the socket: {prechat, offline}
  typing: null, // agent typing: {name}
  queue: null, // {position, wait}
  profile: { name: '', email: '' },
  attrs: {},
  page: '',
  ref: '',
  loaded: false, // the first sync of this conversation is done
  rated: false,
  files: { up: false }, // the site's upload limits: {up, max_bytes, types}
  uploads: [], // files being checked or uploaded: {key, file, sent, total, error, max, x}
  invite: null, // an invitation shown before any conversation: {id, message, sender, agent, at}
  call: null, // the conversation's last call (docs/protocol.md, section 16), validated by cleanCall
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
    calls: s.calls === 'off' || s.calls === 'visitor' ? s.calls : 'agent',
  };
}

function validFiles(f) {
  f = f && typeof f === 'object' ? f : {};
  return {
    up: f.visitor_uploads === true,
    max_bytes: Number.isInteger(f.max_bytes) && f.max_bytes > 0 ? f.max_bytes : undefined,
    types: Array.isArray(f.types) ? f.types.filter((x) => typeof x === 'string') : undefined,
  };
}

function applyBrand(color) {
  const n = parseInt(color.slice(1), 16);
  const lum = (0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
  const root = document.documentElement.style;
  root.setProperty('--brand', color);
  root.setProperty('--on-brand', lum > 0.62 ? '#111827' : '#ffffff');
}

async function siteJson() {
  const r = await fetch(`/api/widget/sites/${SITE}`, { credentials: 'omit', cache: 'no-store' });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

export async function loadSite() {
  try {
    const j = await siteJson();
    const settings = validSettings(j && j.settings);
    setLanguage(settings.language);
    applyBrand(settings.color);
    update({
      settings,
      files: validFiles(j.files),
      siteName: str(j.name, 100),
      online: j.online !== false,
      backAt: typeof j.back_at === 'string' ? j.back_at : null,
      siteLoaded: true,
    });
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
    outbox: outbox.items.map(({ cmid, body, at, files }) => (files ? { cmid, body, at, files } : { cmid, body, at })),
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

// A conversation.start waiting for the socket, as kept by the loader.
function cleanStart(s) {
  const start = { prechat: cleanPrechat(s.prechat), offline: s.offline === true };
  if (Number.isInteger(s.inv) && s.inv > 0) start.inv = s.inv;
  return start;
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
    outbox.restore(
      (Array.isArray(m.outbox) ? m.outbox : [])
        .filter((x) => x && /^[\x21-\x7e]{1,64}$/.test(x.cmid) && typeof x.body === 'string' && x.body.length <= 16000)
        .map((x) => fileFields({ cmid: x.cmid, body: x.body, at: int(x.at) }, cleanFiles(x.files))),
    );
    let start = null;
    if (m.start && typeof m.start === 'object') start = cleanStart(m.start);
    update({
      inited: true,
      token: str(m.token, 128) || null,
      convId: Number.isInteger(m.conv) && m.conv > 0 ? m.conv : null,
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
    sock.start();
  } else if (m.type === 'open') {
    update({ open: true });
    if (S.siteLoaded && !S.convId && !S.start) loadSite();
    getInvitation();
    focusSoon();
  } else if (m.type === 'invite') {
    // The loader heard of an invitation (and opened the widget).
    getInvitation();
  } else if (m.type === 'close') {
    update({ open: false });
    dismissInvitation();
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
  if (!sock.isOpen || !Object.keys(pendingVisitor).length) return;
  const sent = pendingVisitor;
  pendingVisitor = {};
  try {
    await sock.request({ type: 'visitor.update', ...sent });
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
  outbox.restore([]);
  update({ token, start: null });
  persist();
  sock.restart();
}

export function boot() {
  if (S.fatal) return update();
  window.addEventListener('message', onHostMessage);
  toHost({ type: 'hello' });
  loadSite();
  document.addEventListener('visibilitychange', () => update());
}

// ---- the socket ----
export const sock = new ChatSocket({
  path: '/ws/visitor',
  auth: () => (S.token && !S.fatal ? { token: S.token } : null),
  requestTimeoutMs: 15000,
  onOpen: () => resume(),
  onEvent: (m) => onEvent(m),
  onState: ({ state }) => {
    if (state === 'open') update({ conn: 'up', everUp: true });
    else if (state === 'connecting' || state === 'idle') update({ conn: state });
    else update({ conn: 'down', typing: null });
  },
  onClose: ({ error }) => {
    if (error === 'auth_failed' || error === 'identity_required') {
      // The token is not valid (any more), or the site now requires a
      // verified identity it does not have: the loader asks for a new
      // session (verified if the page identified the visitor).
      update({ token: null });
      toHost({ type: 'expired' });
      return 'stop';
    }
    if (error === 'origin_forbidden') {
      update({ fatal: 'unavailable' });
      return 'stop';
    }
    return error === 'too_many_sockets' ? 'slow' : 'retry';
  },
});

// Messages written and not yet acknowledged: they go to the current
// conversation once it exists (a conversation.start may be on its way).
export const outbox = new Outbox({
  socket: () => sock,
  prefix: () => 'w',
  timeoutMs: 15000,
  frame: (item) =>
    S.convId && !(S.conv && S.conv.status === 'closed')
      ? { type: 'message.send', conversation_id: S.convId, ...(item.attachments ? { attachments: item.attachments } : {}) }
      : null,
  onSent: (item, ack) => {
    if (ack.message) addMsg(ack.message, false);
  },
  onChange: (stored) => {
    update();
    if (stored) persist();
  },
});

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
    // Also when the conversation is known: the reply lists the live calls.
    const r = await sock.request({ type: 'conversations.list' });
    if (!S.convId && !S.start) {
      const open = (r.conversations || []).find((c) => c && c.status !== 'closed');
      if (open) {
        S.invite = null;
        adopt(open);
      } else getInvitation();
    }
    liveCalls(r.calls);
    flushVisitor();
    // A tab in a call rejoins it (the chunk is loaded: it made this tab an end).
    if (callHooks.ui) callHooks.ui.onResume();
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
  const done = await sock.sync(id, S.lastSeq, {
    pages: 100,
    onPage: (r) => {
      if (id !== S.convId) return false;
      applyConv(r.conversation);
      const live = S.loaded;
      for (const m of r.messages || []) addMsg(m, live);
    },
  });
  if (!done) return;
  update({ loaded: true });
  persist();
}

function adopt(conv) {
  if (!conv || !Number.isInteger(conv.id)) return;
  if (conv.id !== S.convId) forgetConversation();
  S.convId = conv.id;
  applyConv(conv);
  pumpUploads();
  if (earlyQueue && earlyQueue.conversation_id === conv.id) applyQueue(earlyQueue);
  persist();
}

function forgetConversation() {
  readInFlight = 0;
  for (const u of S.uploads) if (u.x) u.x.abort();
  S.uploads = [];
  update({ convId: null, conv: null, msgs: [], lastSeq: 0, typing: null, queue: null, loaded: false, rated: false, call: null });
  if (callHooks.ui) callHooks.ui.onCall(null);
  sendUnread();
}

let starting = false;
let startErrors = 0;
export async function flush() {
  if (!sock.isOpen) return;
  if (S.start && !S.convId) {
    if (starting) return;
    const start = S.start;
    const frame = { type: 'conversation.start', prechat: start.prechat };
    if (start.inv) frame.invitation_id = start.inv;
    if (S.page) frame.page_url = S.page;
    if (S.ref) frame.referrer = S.ref;
    if (start.offline) frame.offline = true;
    let r;
    starting = true;
    try {
      r = await sock.request(frame);
    } catch (e) {
      const code = e && e.code;
      if (code !== 'disconnected' && code !== 'timeout' && ++startErrors < 5) {
        // A refused field (should not happen: the form is validated):
        // try once more without the optional page details.
        if (code === 'invalid_field') S.page = S.ref = '';
        // The invitation was taken back or answered in another tab: a plain start.
        if (code === 'invitation_not_found' || code === 'invitation_used') delete start.inv;
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
    // The invitation is the conversation's first message now.
    update({ invite: null });
  }
  outbox.flush();
}

// ---- invitations (an agent, or a rule of the site, wrote first) ----
let inviteAsked = false;
async function getInvitation() {
  if (!sock.isOpen || !S.open || S.convId || S.start || S.invite || inviteAsked) return;
  inviteAsked = true;
  try {
    const r = await sock.request({ type: 'invitation.get' });
    const i = r.invitation;
    if (!i || !Number.isInteger(i.id) || typeof i.message !== 'string' || S.convId || S.start) return;
    update({
      invite: {
        id: i.id,
        message: i.message.slice(0, 1000),
        sender: str(i.sender_name, 200) || (i.agent && str(i.agent.name, 200)) || S.siteName,
        agent: !!i.agent,
        at: str(i.created_at, 40),
      },
    });
    focusSoon();
  } catch (e) {
    /* none for now: the next open or beat asks again */
  } finally {
    inviteAsked = false;
  }
}

// The visitor closed the widget without answering: the invitation counts as ignored.
function dismissInvitation() {
  const inv = S.invite;
  if (!inv || S.convId || S.start) return;
  update({ invite: null });
  sock.request({ type: 'invitation.dismiss', invitation_id: inv.id }).catch(() => {});
}

// ---- actions from the UI ----
export function send(body) {
  body = body.replace(/\s+$/, '');
  if (!body.trim()) return;
  // The answer to an invitation starts the conversation.
  if (S.invite && !S.convId && !S.start) return startConversation({}, body.trim(), !S.online, S.invite.id);
  stopTyping();
  outbox.add({ body });
  flush();
}

// ---- files ----
const HEX_ID = /^[0-9a-f]{32}$/;

/** The attachments of a message as we show them ([] when none or malformed). */
function cleanFiles(list) {
  const out = [];
  if (Array.isArray(list))
    for (const f of list.slice(0, 10)) {
      if (!f || !HEX_ID.test(f.id)) continue;
      const c = { id: f.id, name: str(f.name, 255) || 'file' };
      if (f.removed === true) c.removed = true;
      else {
        c.size = int(f.size);
        c.type = str(f.type, 200);
        if (int(f.width) && int(f.height)) {
          c.width = f.width;
          c.height = f.height;
        }
      }
      out.push(c);
    }
  return out;
}

// An outbox item carrying files: `files` to show, `attachments` (their ids) to send.
const fileFields = (item, files) => (files.length ? { ...item, files, attachments: files.map((f) => f.id) } : item);

export const MAX_FILES = 5;
let uploadKey = 0;

/** Files the visitor picked, dropped or pasted: checked, then uploaded once the conversation exists. */
export function attach(files) {
  if (!S.files.up || !files.length) return;
  for (const file of files.slice(0, MAX_FILES)) {
    const bad = precheck(file, S.files);
    const u = { key: ++uploadKey, file, sent: 0, total: file.size, error: null, max: 0, x: null };
    if (bad) {
      u.error = bad.code === 'too_big' ? 'file_too_large' : 'file_type_refused';
      u.max = bad.max;
    }
    S.uploads = [...S.uploads, u];
  }
  // A file can be the first thing sent: start the conversation as a first message does.
  if (!S.convId && !S.start) {
    S.start = { prechat: {}, offline: !S.online };
    if (S.invite) {
      S.start.inv = S.invite.id;
      inviteFrom = S.invite.sender;
    }
    persist();
    flush();
  }
  update();
  pumpUploads();
}

function pumpUploads() {
  const cid = S.convId;
  if (!cid || !S.token) return;
  for (const u of S.uploads) {
    if (u.error || u.x) continue;
    u.x = upload(uploadUrl('/api/files', cid, u.file.name), u.file, {
      headers: { Authorization: `Bearer ${S.token}` },
      onProgress: (sent, total) => {
        u.sent = sent;
        u.total = total;
        update();
      },
    });
    u.x.done.then(
      (file) => {
        u.x = null;
        dropUpload(u.key);
        if (cid !== S.convId) return;
        outbox.add(fileFields({ body: '' }, cleanFiles([file])));
        flush();
      },
      async (e) => {
        if (e.slug === 'cancelled') return;
        // The site's limits changed since the page loaded: learn the new ones.
        if (['file_too_large', 'file_type_refused', 'uploads_disabled'].includes(e.slug))
          await siteJson().then(
            (j) => (S.files = validFiles(j.files)),
            () => {},
          );
        u.x = null;
        u.error = e.slug;
        u.max = int(e.problem.max_bytes) || S.files.max_bytes;
        update();
      },
    );
  }
  update();
}

/** Cancels (aborts) or dismisses an upload. */
export function dropUpload(key) {
  const u = S.uploads.find((x) => x.key === key);
  if (!u) return;
  if (u.x) u.x.abort();
  update({ uploads: S.uploads.filter((x) => x !== u) });
}

/** Tries a failed upload again (network, rate limit, server unavailable). */
export function retryUpload(key) {
  const u = S.uploads.find((x) => x.key === key);
  if (!u) return;
  u.error = null;
  u.sent = 0;
  pumpUploads();
}

// Signed links (10 minutes): one request per file until it expires.
const links = new Map();

/** A signed URL for a file (resolves to a same-origin path), for <img src> and downloads. */
export function fileLink(id) {
  const c = links.get(id);
  if (c && c.exp > Date.now() + 30000) return c.p;
  const p = fetch(`/api/files/${id}/link`, { headers: { Authorization: `Bearer ${S.token}` }, credentials: 'omit', cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then((j) => {
      if (typeof j.url !== 'string' || !j.url.startsWith(`/api/files/${id}`)) throw new Error('bad link');
      links.set(id, { p, exp: Date.parse(j.expires_at) || Date.now() + 300000, url: j.url });
      return j.url;
    });
  p.catch(() => links.delete(id));
  links.set(id, { p, exp: Date.now() + 60000 });
  return p;
}

/** The signed URL of a file when one is at hand (no request). */
export function linkNow(id) {
  const c = links.get(id);
  return c && c.url && c.exp > Date.now() + 30000 ? c.url : null;
}

export function retry(cmid) {
  outbox.retry(cmid);
}

export function discard(cmid) {
  outbox.remove(cmid);
}

export function startConversation(prechat, firstMessage, offline, inv) {
  forgetConversation();
  S.start = { prechat: cleanPrechat(prechat), offline: !!offline };
  if (inv) {
    S.start.inv = inv;
    inviteFrom = S.invite ? S.invite.sender : '';
  }
  outbox.add({ body: firstMessage });
  if (prechat.name || prechat.email) S.profile = { name: prechat.name || S.profile.name, email: prechat.email || S.profile.email };
  update({ loaded: true });
  persist();
  flush();
}

export async function endConversation() {
  if (!S.convId) return;
  try {
    const r = await sock.request({ type: 'conversation.close', conversation_id: S.convId });
    applyConv(r.conversation);
    persist();
  } catch (e) {
    /* shown by the connection state; the visitor can try again */
  }
}

export async function rate(rating, comment) {
  const frame = { type: 'conversation.rate', conversation_id: S.convId, rating };
  if (comment) frame.comment = comment.slice(0, 2000);
  await sock.request(frame);
  update({ rated: true, conv: { ...S.conv, rating } });
}

export function newConversation() {
  S.invite = null;
  forgetConversation();
  persist();
}

let typingOn = 0;
let typingIdle = 0;
export function typing() {
  if (!sock.isOpen || !S.convId || !S.conv || S.conv.status === 'closed') return;
  const now = Date.now();
  if (now - typingOn > 2500) {
    typingOn = now;
    sock.send({ type: 'typing', conversation_id: S.convId, on: true });
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, 4000);
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (!typingOn) return;
  typingOn = 0;
  if (S.convId) sock.send({ type: 'typing', conversation_id: S.convId, on: false });
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
        S.invite = null;
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
    case 'call.updated':
      applyCall(m.call);
      break;
    case 'call.signal':
      if (!S.call || m.call_id !== S.call.id) return;
      if (callHooks.ui) callHooks.ui.onSignal(m);
      else if (callHooks.signals.length < 500) callHooks.signals.push(m);
      break;
  }
}

// ---- calls (issue 17): the state here, the UI in the lazily loaded chunk ----
export const callHooks = {
  ui: null, // the chunk's {onCall(call), onSignal(frame), onResume(), busy(), View}, once loaded
  signals: [], // call.signal frames that came before the chunk
};

let callChunk = null;
/** Loads the call chunk (once); resolves its module. */
export function loadCall() {
  if (!callChunk)
    callChunk = import('./call/callui.jsx').catch((e) => {
      callChunk = null;
      throw e;
    });
  return callChunk;
}

const CALL_STATES = ['ringing', 'active', 'ended'];
function cleanCall(c) {
  if (!c || !Number.isInteger(c.id) || !CALL_STATES.includes(c.state)) return null;
  return {
    id: c.id,
    conversation_id: c.conversation_id,
    state: c.state,
    media: c.media === 'video' ? 'video' : 'audio',
    caller: c.caller === 'visitor' ? 'visitor' : 'agent',
    agent: str(c.agent && c.agent.name, 200),
    end_reason: str(c.end_reason, 20),
    ended_by: str(c.ended_by, 10),
    duration: int(c.duration),
  };
}

/** A call object from an event or an ack: kept in S, handed to the chunk (loaded first when it rings). */
export function applyCall(raw) {
  const call = cleanCall(raw);
  if (!call || call.conversation_id !== S.convId) return null;
  // An older call's late news does not replace a newer one.
  if (S.call && call.id < S.call.id) return null;
  update({ call });
  const rings = call.state === 'ringing' && call.caller === 'agent';
  // The agent rings: the widget opens (the loader) and the call UI loads.
  if (rings) toHost({ type: 'ring' });
  if (callHooks.ui) callHooks.ui.onCall(call);
  else if (call.state !== 'ended') loadCall().catch(() => {});
  return call;
}

/** The live calls of a conversations.list reply: what rang or went on while this socket was away. */
function liveCalls(list) {
  const live = (Array.isArray(list) ? list : []).map(applyCall).filter(Boolean);
  // One we knew of that is not live any more ended meanwhile.
  const c = S.call;
  if (c && c.state !== 'ended' && !live.some((x) => x.id === c.id)) applyCall({ ...c, agent: { name: c.agent }, state: 'ended' });
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
    status: ['bot', 'queued', 'assigned', 'closed'].includes(c.status) ? c.status : 'queued',
    assignee: c.assignee && typeof c.assignee.name === 'string' ? { name: c.assignee.name.slice(0, 200) } : null,
    // A bot answers first: its name heads the chat until it hands over.
    bot: c.bot && typeof c.bot.name === 'string' ? { name: c.bot.name.slice(0, 200) } : null,
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

// An automatic invitation's message is the system's and comes without a
// name: it keeps the sender name it was shown with (the site's name after a
// reload, which is what a rule without its own sender name says anyway).
let inviteFrom = '';
const systemName = (m) => (m.kind === 'message' && m.author.kind === 'system' ? inviteFrom || S.siteName : '');

function addMsg(m, live) {
  if (!validMsg(m) || m.conversation_id !== S.convId) return;
  if (m.client_msg_id) outbox.remove(m.client_msg_id);
  if (S.msgs.some((x) => x.id === m.id)) return;
  const msg = {
    id: m.id,
    seq: m.seq,
    kind: m.kind,
    body: m.body,
    author: { kind: m.author.kind, name: str(m.author.name, 200) || systemName(m) },
    created_at: str(m.created_at, 40),
    client_msg_id: m.client_msg_id,
    files: cleanFiles(m.attachments),
    // event lines: a stable code and who, worded by eventText()
    event: str(m.event, 20),
    event_agent: str(m.event_agent, 200),
    event_by: str(m.event_by, 10),
    event_call:
      m.event_call && typeof m.event_call === 'object'
        ? { id: int(m.event_call.id), media: m.event_call.media === 'video' ? 'video' : 'audio', duration: int(m.event_call.duration) }
        : null,
  };
  const msgs = [...S.msgs, msg].sort((a, b) => a.seq - b.seq);
  const patch = { msgs, lastSeq: Math.max(S.lastSeq, m.seq) };
  if (msg.author.kind === 'agent') patch.typing = null;
  update(patch);
  if (live && msg.author.kind === 'agent' && msg.kind === 'message')
    toHost({ type: 'message', message: { body: msg.body || msg.files.map((f) => f.name).join(', '), author: msg.author.name, created_at: msg.created_at } });
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
  if (!S.open || document.visibilityState !== 'visible' || !sock.isOpen || !S.conv || !S.loaded) return;
  const seen = S.conv.visitor_last_read_seq || 0;
  if (S.lastSeq <= seen || readInFlight >= S.lastSeq) return;
  readInFlight = S.lastSeq;
  sock.request({ type: 'read', conversation_id: S.convId, seq: S.lastSeq }).then(
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
