// events: the session's life on the socket. After every (re)authentication:
// the new rights, queue.subscribe (the open conversations this agent may
// see), the outbox resent, then the histories caught up a few at a time.
// Server events go to the module that owns what they change; new messages
// and assignment changes that concern the agent raise an alert (notify.js),
// except for the agent's own actions. A call in progress asks to be relayed
// to the new socket (calls.js).

import { h } from 'preact';

import { balance } from '../../../ui-shared/bidi.js';
import { messageSummary } from '../lib/filetypes.js';
import { visitorName } from '../lib/util.js';
import { isActing } from './actions.js';
import { convEvent, convStamp, onRead, upsertConv } from './conversations.js';
import { addMessages, flushOutbox, syncConv } from './messages.js';
import { alertUser } from './notify.js';
import { broughtInText, isParticipant, onAgentTyping, onViewers, resumeViewing, trackJoined } from './participants.js';
import { onVisitorTyping } from './reading.js';
import { isOpen, request } from './socket.js';
import { S, changed, isPrivileged } from './state.js';
import { canSeeAdmin, navigate, openList, pageActive, toast } from './view.js';
import { loadWorkspace, onPresence } from './workspace.js';
import { boardEvent } from './board.js';
import { slaSawMessage } from './sla.js';
import { onInvitationUpdated } from './visitors.js';
import { callStamp, onCallSignal, onCallUpdated, resumeCall, setLiveCalls } from './calls.js';

/** Everything to do once the socket is (re)authenticated: list, resend, catch up. */
export async function onOpen(ack) {
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
  // First: a call in progress has PARLEY_CALL_LOST_SECONDS to find its end again.
  resumeCall();
  let list;
  const since = convStamp();
  const callsSince = callStamp();
  try {
    const reply = await request({ type: 'queue.subscribe' });
    list = reply.conversations;
    // The calls that rang or went on while this tab did not listen.
    setLiveCalls(reply.calls, callsSince);
  } catch {
    return; // the connection dropped again; the next open retries
  }
  const listed = new Set(list.map((c) => c.id));
  for (const c of list) announced.set(c.id, roleOf(upsertConv(c, since)));
  // Conversations we held as open that the list no longer has: closed,
  // transferred away or assigned to someone else while we were away.
  const stale = [...S.convs.values()].filter((c) => c.status !== 'closed' && !listed.has(c.id)).map((c) => c.id);
  changed();
  S.listed = true;
  flushOutbox();
  resumeViewing();
  if (!first) loadWorkspace();
  const jobs = [];
  for (const c of list) {
    const mine = (c.assignee && c.assignee.id === S.me.id) || trackJoined(c) || isParticipant(c);
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
  if (isOpen()) onOpen({});
}

/** A frame from the server that is not a reply: to the module that owns it. */
export function onEvent(m) {
  if (m.type === 'message.created') slaSawMessage(m.message);
  boardEvent(m);
  switch (m.type) {
    case 'message.created':
      return onMessage(m.message);
    case 'conversation.updated':
      return onConvUpdated(m.change, m.conversation);
    case 'typing':
      onAgentTyping(m);
      return onVisitorTyping(m);
    case 'conversation.viewers':
      return onViewers(m);
    case 'read':
      return onRead(m);
    case 'agent.presence':
      return onPresence(m);
    case 'resync':
      return resync();
    case 'invitation.updated':
      return onInvitationUpdated(m);
    case 'call.updated':
      return onCallUpdated(m.call);
    case 'call.signal':
      return onCallSignal(m);
    default:
  }
}

function onMessage(msg) {
  if (!msg) return;
  const id = msg.conversation_id;
  addMessages(id, [msg]);
  if (msg.author && msg.author.kind === 'visitor') S.typing.delete(id);
  const c = S.convs.get(id);
  if (!c) {
    // A conversation we did not know about (a supervisor watching).
    if (isOpen()) syncConv(id, { preview: true });
  }
  changed();
  if (msg.kind === 'message' && msg.author && msg.author.kind === 'visitor' && c && (concernsMe(c) || isParticipant(c))) {
    const inView = S.view.area === 'inbox' && S.view.selected === id && pageActive();
    if (!inView) alertUser(`${visitorName(c)}`, messageSummary(msg), id);
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

/** A new session: nothing announced yet. */
export function resetAnnounced() {
  announced.clear();
}

function onConvUpdated(change, conv) {
  if (!conv) return;
  const c = convEvent(conv);
  const brought = trackJoined(c) && broughtInText(c);
  changed();
  if (!c || !S.me) return;
  if (brought) {
    // Invited in or escalated to by someone else (participants.js).
    alertUser(brought, visitorName(c), c.id);
    syncConv(c.id);
  }
  const was = announced.get(c.id) || 'other';
  const now = roleOf(c);
  announced.set(c.id, now);
  const mineBefore = was === 'mine';
  const mineNow = now === 'mine';
  if (now !== was && !isActing(c.id)) {
    if (now === 'mine') {
      alertUser(change === 'transferred' ? 'Chat transferred to you' : 'New chat assigned to you', visitorName(c), c.id);
      syncConv(c.id);
    } else if (now === 'queue') {
      const what = change === 'transferred' ? 'Chat transferred to your team' : change === 'requeued' ? 'Chat back in the queue' : 'New chat waiting';
      alertUser(what, visitorName(c), c.id);
    }
  }
  if (mineBefore && !mineNow && c.status !== 'closed' && !isActing(c.id) && change !== 'transferred') {
    // Toast texts are text or an array of text and <bdi> names.
    toast([h('bdi', null, balance(visitorName(c))), ' is no longer assigned to you.'], 'info');
  }
}
