// outbox: messages written but not yet acknowledged by the server, for both
// front ends, sent through a ChatSocket (socket.js).
//
// An item keeps its client_msg_id for life. It is sent while the socket is
// open, kept when the connection drops or the reply does not come, and sent
// again with the same id once the owner calls flush() after the reconnect
// (after its sync): the server stores a (conversation, client_msg_id) once,
// so a resend after a lost ack is never a second message. An item leaves
// when its ack arrives, or its own echo (a message carrying its
// client_msg_id: the owner calls remove()), or the person discards it.
//
// What a failed send does, by error code:
//   disconnected, stopped, timeout      kept; resent by the next flush()
//   unavailable, internal (3 s), rate_limited (4 s)   resent after a pause
//   invalid_field on client_msg_id      the id is someone else's: a new id, resent at once
//   anything else                       state 'failed' (error = the code): shown, with retry() and remove()
//
// The owner renders `items` (each {cmid, body, at, state: queued | sending |
// failed, error, message} plus the fields it added) and stores them: onChange
// (stored) follows every change, stored = true when what is worth keeping
// across a reload changed.

const RETRY_AFTER_MS = { unavailable: 3000, internal: 3000, rate_limited: 4000 };
const RESEND_AFTER_RECONNECT = ['disconnected', 'stopped', 'timeout'];

/** A new client_msg_id: the prefix, a dash and 96 random bits in hex. */
export function clientMsgId(prefix) {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return `${prefix}-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export class Outbox {
  /**
   * opts:
   *   socket()           the ChatSocket to send through (or null)
   *   frame(item)        the item's send frame without client_msg_id and body
   *                      ({type: 'message.send', conversation_id}), or null while
   *                      it cannot be sent (no conversation yet): it waits
   *   onSent(item, ack)  the ack (its `message` is the stored message)
   *   onChange(stored)
   *   prefix()           the client_msg_id prefix
   *   timeoutMs          how long a send may wait for its ack
   */
  constructor(opts) {
    this.opts = { timeoutMs: 20000, onChange() {}, onSent() {}, ...opts };
    this.items = [];
  }

  /** Queues a message ({body, ...the owner's fields}) and sends it if it can. */
  add(fields) {
    const item = { cmid: clientMsgId(this.opts.prefix()), at: Date.now(), ...fields, state: 'queued', error: null, message: '' };
    this.items = [...this.items, item];
    this.opts.onChange(true);
    this._send(item);
    return item;
  }

  /** Replaces the items with ones kept from before ({cmid, body, at, ...}), all queued. */
  restore(list) {
    this.items = list.map((i) => ({ ...i, state: 'queued', error: null, message: '' }));
  }

  get(cmid) {
    return this.items.find((i) => i.cmid === cmid);
  }

  /** Removes an item: acknowledged, echoed or discarded. True when it was there. */
  remove(cmid) {
    const n = this.items.length;
    this.items = this.items.filter((i) => i.cmid !== cmid);
    if (this.items.length === n) return false;
    this.opts.onChange(true);
    return true;
  }

  /** Sends every queued item that can go. */
  flush() {
    for (const item of this.items) this._send(item);
  }

  /** A failed item, queued and sent again. */
  retry(cmid) {
    const item = this.get(cmid);
    if (!item || item.state !== 'failed') return;
    item.state = 'queued';
    item.error = null;
    this.opts.onChange(true);
    this._send(item);
  }

  _send(item) {
    const sock = this.opts.socket();
    if (item.state !== 'queued' || !sock || !sock.isOpen || !this.items.includes(item)) return;
    const frame = this.opts.frame(item);
    if (!frame) return;
    item.state = 'sending';
    this.opts.onChange(false);
    sock.request({ ...frame, client_msg_id: item.cmid, body: item.body }, { timeoutMs: this.opts.timeoutMs }).then(
      (ack) => {
        this.remove(item.cmid);
        this.opts.onSent(item, ack);
      },
      (e) => this._failed(item, e),
    );
  }

  _failed(item, e) {
    if (!this.items.includes(item)) return; // its echo came, or it was discarded
    const code = (e && e.code) || 'internal';
    item.state = 'queued';
    if (code === 'invalid_field' && e.field === 'client_msg_id') {
      item.cmid = clientMsgId(this.opts.prefix());
      setTimeout(() => this._send(item), 0);
    } else if (RETRY_AFTER_MS[code]) {
      setTimeout(() => this._send(item), RETRY_AFTER_MS[code]);
    } else if (!RESEND_AFTER_RECONNECT.includes(code)) {
      item.state = 'failed';
      item.error = code;
      item.message = (e && e.message) || code;
    }
    this.opts.onChange(true);
  }
}
