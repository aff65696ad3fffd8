// actions: what the agent does to a conversation (accept, close, reopen,
// transfer), each one request whose ack carries the new state, with the
// toast that reports it. The conversations being acted on are remembered
// for a moment so that their own events raise no alert (events.js).

import { h } from 'preact';

import { balance } from '../../../ui-shared/bidi.js';
import { convStamp, loadClosed, upsertConv } from './conversations.js';
import { syncConv } from './messages.js';
import { isOpen, request } from './socket.js';
import { S, changed } from './state.js';
import { navigate, toast } from './view.js';

// Conversations we are changing ourselves (no alerts for our own actions).
const acting = new Set();

async function act(id, frame, okText) {
  if (!isOpen()) {
    toast('Not connected — try again when the connection is back.', 'error');
    return null;
  }
  acting.add(id);
  try {
    const since = convStamp();
    const ack = await request(frame);
    const c = upsertConv(ack.conversation, since);
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

/** A change to this conversation is ours (no alert for it). */
export const isActing = (id) => acting.has(id);

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
