// board: the supervisors' live board (#/board): board.get over the socket
// (docs/protocol.md, board.get), read again, at most once a second, while
// the board is shown and an event says something changed (a privileged
// watcher hears every conversation.updated and agent.presence). Owns
// S.board ({teams, generated_at, receivedAt} or null), S.boardError.

import { isOpen, request } from './socket.js';
import { S, changed, isPrivileged } from './state.js';

const MIN_GAP_MS = 1000;
const POLL_MS = 30000;

let watching = 0;
let lastAsk = 0;
let timer = null;
let inFlight = false;
let again = false;
let poll = null;

async function load() {
  if (!isOpen() || !isPrivileged()) return;
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  lastAsk = Date.now();
  try {
    const ack = await request({ type: 'board.get' });
    S.board = { ...ack.board, receivedAt: Date.now() };
    S.boardError = null;
  } catch (e) {
    S.boardError = (e && e.message) || String(e);
  } finally {
    inFlight = false;
  }
  changed();
  if (again) {
    again = false;
    refreshBoard();
  }
}

/** Reads the board again soon: at once, or a second after the last read. */
export function refreshBoard() {
  if (!watching || timer) return;
  const wait = Math.max(0, lastAsk + MIN_GAP_MS - Date.now());
  timer = setTimeout(() => {
    timer = null;
    load();
  }, wait);
}

/** The board is shown: read it now and keep it fresh; returns the function that stops. */
export function watchBoard() {
  watching += 1;
  refreshBoard();
  if (!poll) poll = setInterval(refreshBoard, POLL_MS);
  return () => {
    watching -= 1;
    if (watching > 0) return;
    clearInterval(poll);
    poll = null;
    clearTimeout(timer);
    timer = null;
  };
}

const RELEVANT = new Set(['conversation.updated', 'agent.presence']);

/** A person's answer: it ends the visitor's wait (an at-risk row may go) without a conversation.updated. */
const isAnswer = (msg) => !!msg && msg.kind === 'message' && !!msg.author && (msg.author.kind === 'agent' || msg.author.kind === 'api');

/** A server event (events.js): the board may have changed (not on every message of a busy site). */
export function boardEvent(m) {
  if (!watching || !m) return;
  if (RELEVANT.has(m.type) || (m.type === 'message.created' && isAnswer(m.message))) refreshBoard();
}
