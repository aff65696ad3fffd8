// reading: who is typing and what has been read. The agent's typing
// indicator (a reply or a note; sent at most every 2.5 s, off after 4 s idle), the visitor's
// (shown 7 s at most), read markers (local at once, on the server shortly
// after) and the unread counts built on them. Owns S.typing, S.localRead.

import { lists } from './conversations.js';
import { isOpen, request, sendFrame } from './socket.js';
import { S, changed, isPrivileged } from './state.js';

const typingState = new Map(); // id -> {sentAt, stopTimer}

/** The agent types (on) or stopped; note: what they type is a note or a whisper (the visitor is not told). */
export function typing(id, on, note = false) {
  if (!isOpen()) return;
  const t = typingState.get(id) || { sentAt: 0, note: false, stopTimer: null };
  typingState.set(id, t);
  clearTimeout(t.stopTimer);
  if (on) {
    if (Date.now() - t.sentAt > 2500 || t.note !== note) {
      t.sentAt = Date.now();
      t.note = note;
      sendFrame({ type: 'typing', conversation_id: id, on: true, ...(note ? { note: true } : {}) });
    }
    t.stopTimer = setTimeout(() => typing(id, false), 4000);
  } else if (t.sentAt) {
    t.sentAt = 0;
    sendFrame({ type: 'typing', conversation_id: id, on: false });
  }
}

/** typing: the visitor started or stopped typing. */
export function onVisitorTyping(m) {
  if (m.side !== 'visitor') return;
  if (m.on) S.typing.set(m.conversation_id, Date.now() + 7000);
  else S.typing.delete(m.conversation_id);
  scheduleTypingSweep();
  changed();
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

// ---------------------------------------------------------------- read markers

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

const readTimers = new Map(); // id -> the timer of the read request to send

/** Marks what is on screen as read (locally at once; on the server shortly after). */
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
      if (!isOpen() || !c) return;
      const allowed = isPrivileged() || (c.assignee && c.assignee.id === S.me.id) || S.myTeams.includes(c.team_id);
      if (!allowed) return;
      request({ type: 'read', conversation_id: id, seq: top }).then(
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

/** Unread for the tab title: unread visitor messages in my chats, plus waiting chats not opened yet. */
export function totalUnread() {
  const l = lists();
  let n = 0;
  for (const c of l.mine) n += unreadCount(c.id);
  for (const c of l.queue) n += Math.max(S.seen.has(c.id) ? 0 : 1, unreadCount(c.id));
  return n;
}
