// messages: each conversation's messages, held by seq (gap-free for agents,
// so `contig` says how far the history is complete) and caught up with
// `sync`; opening a conversation; what the agent writes: the outbox of
// unsent messages (ui-shared/outbox.js) and the drafts, both kept in
// localStorage per agent. Owns S.msgs, S.drafts, S.seen.

import { Outbox } from '../../../ui-shared/outbox.js';
import { ts } from '../../../ui-shared/time.js';
import { ApiError, get } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { convStamp, loadDetails, upsertConv } from './conversations.js';
import { filesChanged } from './files.js';
import { SocketError, currentSocket, isOpen, syncPages } from './socket.js';
import { S, changed, saved } from './state.js';

function msgState(id) {
  let m = S.msgs.get(id);
  if (!m) {
    m = { bySeq: new Map(), list: [], contig: 0, loading: false, error: null, rev: 0 };
    S.msgs.set(id, m);
  }
  return m;
}

export function addMessages(id, messages) {
  if (!messages || !messages.length) return;
  const st = msgState(id);
  let added = false;
  let files = false;
  for (const m of messages) {
    if (!m || typeof m.seq !== 'number') continue;
    if (!st.bySeq.has(m.seq)) {
      added = true;
      if (Array.isArray(m.attachments) && m.attachments.length) files = true;
    }
    st.bySeq.set(m.seq, m);
    // Its own echo confirms an unsent message.
    if (m.client_msg_id) outbox.remove(m.client_msg_id);
  }
  if (!added) return;
  if (files) filesChanged(id);
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
export async function syncConv(id, { preview = false } = {}) {
  const st = msgState(id);
  if (st.loading) return st.loading;
  const run = async () => {
    const c = S.convs.get(id);
    const since = convStamp();
    let after = st.contig;
    if (preview && c && c.last_seq > after + 3) after = c.last_seq - 3;
    await syncPages(id, after, {
      limit: preview ? 4 : 200,
      pages: preview ? 1 : 50,
      onPage: (ack) => {
        upsertConv(ack.conversation, since);
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

export async function openConversation(id) {
  if (!id) return;
  S.seen.add(id);
  const c = S.convs.get(id);
  if (!c) {
    try {
      const since = convStamp();
      const r = await get(`/api/conversations/${id}`);
      upsertConv(r.conversation, since);
      S.details.set(id, { earlier: r.earlier, loading: false });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) S.missing.add(id);
      changed();
      return;
    }
  }
  const st = msgState(id);
  const conv = S.convs.get(id);
  if (isOpen() && (!conv || st.contig < (conv.last_seq || 0) || !st.list.length)) syncConv(id);
  loadDetails(id);
  changed();
}

// ---------------------------------------------------------------- messages out

// Messages and notes written and not yet acknowledged (ui-shared/outbox.js),
// each with the conversation it goes to and the files it carries
// (`attachments`: the uploaded File objects; their ids go in the frame, so
// a resend carries them again).
const outbox = new Outbox({
  socket: currentSocket,
  prefix: () => `a${S.me ? S.me.id : 0}`,
  timeoutMs: 30000,
  frame: (item) => {
    const f = { type: item.kind === 'note' ? 'note.send' : 'message.send', conversation_id: item.conv };
    if (item.attachments && item.attachments.length) f.attachments = item.attachments.map((a) => a.id);
    if (item.whisper && item.kind === 'note') f.whisper = true;
    return f;
  },
  onSent: (item, ack) => {
    addMessages(item.conv, [ack.message]);
    changed();
  },
  onChange: (stored) => {
    if (stored) persistSoon();
    changed();
  },
});

/** After the socket's list: send what waits. */
export function flushOutbox() {
  outbox.flush();
}

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
export const sendErrorText = (item) => (item.error === 'file_invalid' ? t('errFileInvalid') : SEND_ERRORS[item.error] || item.message);

/** Queues a message or note (body may be empty when files go with it: attachments, uploaded File objects). */
export function sendMessage(id, body, kind = 'message', attachments = [], { whisper = false } = {}) {
  const text = body.replace(/\s+$/, '');
  if (!text.trim() && !attachments.length) return false;
  const item = { conv: id, body: text.trim() ? text : '', kind };
  if (whisper) item.whisper = true;
  if (attachments.length) item.attachments = attachments;
  outbox.add(item);
  persistNow();
  return true;
}

export function retrySend(id, cmid) {
  outbox.retry(cmid);
}

export function discardSend(id, cmid) {
  outbox.remove(cmid);
}

// ---------------------------------------------------------------------- drafts

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

// -------------------------------------------------------- kept in localStorage

let persistTimer = null;

function persistSoon() {
  clearTimeout(persistTimer);
  persistTimer = setTimeout(persistNow, 300);
}

export function persistNow() {
  clearTimeout(persistTimer);
  if (!S.me) return;
  const drafts = {};
  for (const [id, d] of S.drafts) if (d.text) drafts[id] = d;
  saved.save('drafts', drafts);
  const unsent = {};
  for (const { conv, cmid, body, kind, at, state, attachments, whisper } of outbox.items) {
    if (state !== 'failed')
      (unsent[conv] = unsent[conv] || []).push({ cmid, body, kind, at, ...(attachments ? { attachments } : {}), ...(whisper ? { whisper } : {}) });
  }
  saved.save('outbox', unsent);
}
window.addEventListener('pagehide', persistNow);

/** The drafts and unsent messages this agent left here. */
export function restoreLocal() {
  S.drafts = new Map();
  const drafts = saved.load('drafts') || {};
  for (const [id, d] of Object.entries(drafts)) {
    if (d && typeof d.text === 'string') S.drafts.set(Number(id), { text: d.text, note: !!d.note });
  }
  const unsent = [];
  for (const [id, items] of Object.entries(saved.load('outbox') || {})) {
    if (!Array.isArray(items)) continue;
    for (const i of items) {
      if (!i || typeof i.cmid !== 'string' || typeof i.body !== 'string') continue;
      const item = { conv: Number(id), cmid: i.cmid, body: i.body, kind: i.kind === 'note' ? 'note' : 'message', at: i.at || Date.now() };
      if (i.whisper === true) item.whisper = true;
      const files = Array.isArray(i.attachments) ? i.attachments.filter((f) => f && typeof f.id === 'string') : [];
      if (files.length) item.attachments = files;
      if (item.body || files.length) unsent.push(item);
    }
  }
  outbox.restore(unsent);
}

/** Removes the stored drafts and unsent messages (the agent logged out on purpose). */
export function dropStored() {
  saved.save('drafts', null);
  saved.save('outbox', null);
}

/** Forgets the drafts and unsent messages held in memory (the session is over). */
export function forgetLocal() {
  S.drafts = new Map();
  outbox.restore([]);
}
