// socket: the agent's connection to /ws/agent, one per session: a ChatSocket
// (ui-shared/socket.js) that authenticates with the CSRF token (the browser
// sends the session cookie). session.js opens it and says what happens on
// each (re)authentication, event and close (events.js, session.js); every
// other module sends through the functions here. Owns S.conn.

import { ChatSocket, SocketError } from '../../../ui-shared/socket.js';
import { S, changed } from './state.js';

export { SocketError };

let sock = null;

/** Opens the session's socket. handlers: {onOpen(ack), onEvent(frame), onClose(close)} (see ChatSocket). */
export function openSocket({ onOpen, onEvent, onClose }) {
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
}

export function closeSocket() {
  if (sock) sock.stop();
  sock = null;
}

export function reconnectNow() {
  if (sock) sock.retryNow();
}

/** The socket itself (for the outbox), or null outside a session. */
export const currentSocket = () => sock;

export const isOpen = () => !!sock && sock.isOpen;

const notConnected = () => Promise.reject(new SocketError('disconnected', 'not connected'));

/** A request; resolves with its ack, rejects with a SocketError. */
export const request = (frame, opts) => (sock ? sock.request(frame, opts) : notConnected());

/** A frame that wants no reply (typing). */
export const sendFrame = (frame) => sock && sock.send(frame);

/** Pages through `sync` (ChatSocket.sync). */
export const syncPages = (id, afterSeq, opts) => (sock ? sock.sync(id, afterSeq, opts) : notConnected());
