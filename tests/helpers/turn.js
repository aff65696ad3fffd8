'use strict';
// A minimal STUN/TURN client over UDP (node:dgram, no npm package) for the
// call tests: enough of RFC 8489 (STUN) and RFC 8656 (TURN) to ask a real
// TURN server (coturn, tests/helpers/coturn.js) whether it takes the
// credentials parleyd hands out, and to push a datagram through a relay.
//
//   const c = await turnClient({ host: '127.0.0.1', port });
//   await c.binding()                           -> { ok, mapped: { address, port } }
//   const r = await c.allocate({ username, password })
//        r.ok, r.code (error code, e.g. 401), r.reason, r.relayed { address, port },
//        r.mapped, r.lifetime, r.realm, r.nonce, r.integrity (the answer's
//        MESSAGE-INTEGRITY checked with our key: true, false, or null when absent)
//   await c.createPermission(peer)              after a successful allocate
//   c.sendIndication(peer, buf); await c.nextData() -> { peer, data }
//   await c.refresh(0)                          deallocate
//   c.close()
//   restCredentials(secret, { id, ttl, expiry }) -> { username, password, expiry }
//       coturn's TURN REST API credentials (use-auth-secret): username
//       "<unix expiry>:<id>", password base64(HMAC-SHA1(secret, username))
//
// Each request is retransmitted (every 250 ms) until an answer with its
// transaction id arrives or `timeoutMs` passes. The long-term credential key
// is MD5(username ":" realm ":" password) (no SASLprep: the tests use ASCII).

const crypto = require('node:crypto');
const dgram = require('node:dgram');
const net = require('node:net');

const MAGIC = 0x2112a442;
const HEADER = 20;

const METHOD = { binding: 0x001, allocate: 0x003, refresh: 0x004, send: 0x006, data: 0x007, createPermission: 0x008 };
const CLASS = { request: 0x0000, indication: 0x0010, success: 0x0100, error: 0x0110 };

const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  LIFETIME: 0x000d,
  XOR_PEER_ADDRESS: 0x0012,
  DATA: 0x0013,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  REQUESTED_TRANSPORT: 0x0019,
  XOR_MAPPED_ADDRESS: 0x0020,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
};

// ---- CRC-32 (for FINGERPRINT) --------------------------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- encoding ----------------------------------------------------------------
const pad4 = (n) => (n + 3) & ~3;

function attr(type, value) {
  const out = Buffer.alloc(4 + pad4(value.length));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** XOR-*-ADDRESS value for an IPv4 { address, port }. */
function xorAddress({ address, port }) {
  if (!net.isIPv4(address)) throw new Error(`only IPv4 addresses here, not ${address}`);
  const v = Buffer.alloc(8);
  v[1] = 0x01;
  v.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const ip = address.split('.').reduce((a, o) => ((a << 8) | Number(o)) >>> 0, 0);
  v.writeUInt32BE((ip ^ MAGIC) >>> 0, 4);
  return v;
}

function decodeAddress(v, xor, tid) {
  const family = v[1];
  let port = v.readUInt16BE(2);
  if (xor) port ^= MAGIC >>> 16;
  if (family === 0x01) {
    let ip = v.readUInt32BE(4);
    if (xor) ip = (ip ^ MAGIC) >>> 0;
    return { family: 'IPv4', address: [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'), port };
  }
  const raw = Buffer.from(v.subarray(4, 20));
  if (xor) {
    const mask = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]);
    for (let i = 0; i < 16; i++) raw[i] ^= mask[i];
  }
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return { family: 'IPv6', address: groups.join(':'), port };
}

/**
 * Build a STUN message. attrs: [[type, Buffer], ...]. With `key` a
 * MESSAGE-INTEGRITY (HMAC-SHA1) is appended; with `fingerprint` a FINGERPRINT.
 */
function encode({ method, cls, tid, attrs = [], key, fingerprint = true }) {
  let body = Buffer.concat(attrs.map(([t, v]) => attr(t, v)));
  const header = (len) => {
    const h = Buffer.alloc(HEADER);
    h.writeUInt16BE(method | cls, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    tid.copy(h, 8);
    return h;
  };
  if (key) {
    // The HMAC covers the header (its length counting MESSAGE-INTEGRITY) and
    // every attribute before MESSAGE-INTEGRITY.
    const mac = crypto
      .createHmac('sha1', key)
      .update(Buffer.concat([header(body.length + 24), body]))
      .digest();
    body = Buffer.concat([body, attr(ATTR.MESSAGE_INTEGRITY, mac)]);
  }
  if (fingerprint) {
    const crc = (crc32(Buffer.concat([header(body.length + 8), body])) ^ 0x5354554e) >>> 0;
    const v = Buffer.alloc(4);
    v.writeUInt32BE(crc, 0);
    body = Buffer.concat([body, attr(ATTR.FINGERPRINT, v)]);
  }
  return Buffer.concat([header(body.length), body]);
}

/**
 * Parse a STUN message: { method, cls, tid, attrs: [{ type, value, offset }] }
 * or null when it is not one.
 */
function decode(buf) {
  if (buf.length < HEADER || (buf[0] & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC) return null;
  const type = buf.readUInt16BE(0);
  const len = buf.readUInt16BE(2);
  if (len % 4 !== 0 || HEADER + len > buf.length) return null;
  const msg = { method: type & 0x3eef, cls: type & 0x0110, tid: Buffer.from(buf.subarray(8, 20)), attrs: [], raw: buf.subarray(0, HEADER + len) };
  let off = HEADER;
  while (off + 4 <= HEADER + len) {
    const t = buf.readUInt16BE(off);
    const l = buf.readUInt16BE(off + 2);
    if (off + 4 + l > HEADER + len) return null;
    msg.attrs.push({ type: t, value: Buffer.from(buf.subarray(off + 4, off + 4 + l)), offset: off });
    off += 4 + pad4(l);
  }
  return msg;
}

const get = (msg, type) => {
  const a = msg.attrs.find((x) => x.type === type);
  return a ? a.value : undefined;
};

/** Check a received message's MESSAGE-INTEGRITY with `key`: true/false, null if absent. */
function checkIntegrity(msg, key) {
  const mi = msg.attrs.find((a) => a.type === ATTR.MESSAGE_INTEGRITY);
  if (!mi) return null;
  const before = Buffer.from(msg.raw.subarray(0, mi.offset));
  before.writeUInt16BE(mi.offset + 24 - HEADER, 2);
  const mac = crypto.createHmac('sha1', key).update(before).digest();
  return mac.length === mi.value.length && crypto.timingSafeEqual(mac, mi.value);
}

function describe(msg, key) {
  const out = { ok: msg.cls === CLASS.success, cls: msg.cls, msg };
  const err = get(msg, ATTR.ERROR_CODE);
  if (err) {
    out.code = (err[2] & 0x07) * 100 + err[3];
    out.reason = err.subarray(4).toString('utf8');
  }
  const realm = get(msg, ATTR.REALM);
  if (realm) out.realm = realm.toString('utf8');
  const nonce = get(msg, ATTR.NONCE);
  if (nonce) out.nonce = nonce.toString('utf8');
  const relayed = get(msg, ATTR.XOR_RELAYED_ADDRESS);
  if (relayed) out.relayed = decodeAddress(relayed, true, msg.tid);
  const mapped = get(msg, ATTR.XOR_MAPPED_ADDRESS);
  if (mapped) out.mapped = decodeAddress(mapped, true, msg.tid);
  else if (get(msg, ATTR.MAPPED_ADDRESS)) out.mapped = decodeAddress(get(msg, ATTR.MAPPED_ADDRESS), false, msg.tid);
  const lifetime = get(msg, ATTR.LIFETIME);
  if (lifetime) out.lifetime = lifetime.readUInt32BE(0);
  const software = get(msg, ATTR.SOFTWARE);
  if (software) out.software = software.toString('utf8');
  if (key) out.integrity = checkIntegrity(msg, key);
  return out;
}

/** coturn's TURN REST API credentials for `secret` (see the top of this file). */
function restCredentials(secret, { id = 'test', ttl = 3600, expiry } = {}) {
  const exp = expiry !== undefined ? expiry : Math.floor(Date.now() / 1000) + ttl;
  const username = `${exp}:${id}`;
  const password = crypto.createHmac('sha1', secret).update(username).digest('base64');
  return { username, password, expiry: exp };
}

/** The long-term credential key: MD5(username:realm:password). */
function longTermKey(username, realm, password) {
  return crypto.createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

/**
 * Parse a turn:/turns:/stun: URL (RFC 7064/7065) into
 * { scheme, host, port, transport }.
 */
function parseIceUrl(url) {
  const m = /^(stuns?|turns?):(\[[^\]]+\]|[^:?]+)(?::(\d+))?(?:\?transport=(udp|tcp))?$/.exec(url);
  if (!m) throw new Error(`not a STUN/TURN URL: ${url}`);
  const scheme = m[1];
  const secure = scheme.endsWith('s');
  return {
    scheme,
    host: m[2].replace(/^\[|\]$/g, ''),
    port: m[3] ? Number(m[3]) : secure ? 5349 : 3478,
    transport: m[4] || (secure ? 'tcp' : 'udp'),
  };
}

/** A UDP STUN/TURN client bound to a fresh port on `localAddress`. */
async function turnClient({ host = '127.0.0.1', port, localAddress = '127.0.0.1', timeoutMs = 5000 } = {}) {
  if (!port) throw new Error('turnClient: port is required');
  const sock = dgram.createSocket('udp4');
  const pending = new Map(); // tid hex -> { resolve }
  const dataQueue = [];
  const dataWaiters = [];
  let closed = false;
  sock.on('message', (buf) => {
    const msg = decode(buf);
    if (!msg) return;
    if (msg.cls === CLASS.indication && msg.method === METHOD.data) {
      const peer = get(msg, ATTR.XOR_PEER_ADDRESS);
      const item = { peer: peer && decodeAddress(peer, true, msg.tid), data: get(msg, ATTR.DATA) || Buffer.alloc(0) };
      const w = dataWaiters.shift();
      if (w) w(item);
      else dataQueue.push(item);
      return;
    }
    const p = pending.get(msg.tid.toString('hex'));
    if (p) {
      pending.delete(msg.tid.toString('hex'));
      p.resolve(msg);
    }
  });
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, localAddress, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  sock.on('error', () => {
    /* answers stop coming: the request times out */
  });

  function transact(message, tid) {
    return new Promise((resolve, reject) => {
      const key = tid.toString('hex');
      let timer;
      let resend;
      const done = (fn, v) => {
        clearTimeout(timer);
        clearInterval(resend);
        pending.delete(key);
        fn(v);
      };
      pending.set(key, { resolve: (m) => done(resolve, m), reject: (e) => done(reject, e) });
      const send = () => {
        if (!closed) sock.send(message, port, host);
      };
      send();
      resend = setInterval(send, 250);
      timer = setTimeout(() => done(reject, new Error(`no STUN answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    });
  }

  // Long-term credential state, set by allocate().
  let auth = null;

  async function request(method, attrs = [], { signed = true } = {}) {
    const tid = crypto.randomBytes(12);
    const all = [...attrs];
    let key;
    if (signed && auth) {
      all.push([ATTR.USERNAME, Buffer.from(auth.username)], [ATTR.REALM, Buffer.from(auth.realm)], [ATTR.NONCE, Buffer.from(auth.nonce)]);
      key = auth.key;
    }
    return transact(encode({ method, cls: CLASS.request, tid, attrs: all, key }), tid);
  }

  /** Send a signed request; a 438 (stale nonce) is retried once with the new nonce. */
  async function signedRequest(method, attrs) {
    let res = describe(await request(method, attrs), auth && auth.key);
    if (!res.ok && res.code === 438 && res.nonce) {
      auth.nonce = res.nonce;
      res = describe(await request(method, attrs), auth.key);
    }
    return res;
  }

  const client = {
    host,
    port,
    /** Our own { address, port }. */
    address: () => sock.address(),

    /** STUN Binding request (no credentials). */
    async binding() {
      return describe(await request(METHOD.binding, [], { signed: false }));
    },

    /**
     * TURN Allocate (UDP relay) with long-term credentials: the first request
     * unsigned (expecting 401 with REALM and NONCE), then signed. Resolves
     * the answer to the signed request (or to the first one, when that was
     * not a 401 with REALM and NONCE).
     */
    async allocate({ username, password, lifetime } = {}) {
      const attrs = [[ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0])]];
      if (lifetime !== undefined) {
        const v = Buffer.alloc(4);
        v.writeUInt32BE(lifetime, 0);
        attrs.push([ATTR.LIFETIME, v]);
      }
      const first = describe(await request(METHOD.allocate, attrs, { signed: false }));
      first.step = 'unauthenticated';
      if (first.ok || first.code !== 401 || !first.realm || !first.nonce) return first;
      auth = { username, realm: first.realm, nonce: first.nonce, key: longTermKey(username, first.realm, password) };
      const res = await signedRequest(METHOD.allocate, attrs);
      res.step = 'authenticated';
      res.challenge = { realm: first.realm, nonce: first.nonce };
      if (!res.ok) auth = null;
      else client.relayed = res.relayed;
      return res;
    },

    /** CreatePermission for a peer { address, port } (signed with the allocation's key). */
    async createPermission(peer) {
      if (!auth) throw new Error('createPermission: no allocation');
      return signedRequest(METHOD.createPermission, [[ATTR.XOR_PEER_ADDRESS, xorAddress(peer)]]);
    },

    /** Refresh the allocation (lifetime 0 deletes it). */
    async refresh(lifetime = 600) {
      if (!auth) throw new Error('refresh: no allocation');
      const v = Buffer.alloc(4);
      v.writeUInt32BE(lifetime, 0);
      const res = await signedRequest(METHOD.refresh, [[ATTR.LIFETIME, v]]);
      if (res.ok && lifetime === 0) auth = null;
      return res;
    },

    /** A Send indication: `data` to `peer` through the relay. */
    sendIndication(peer, data) {
      const tid = crypto.randomBytes(12);
      const msg = encode({
        method: METHOD.send,
        cls: CLASS.indication,
        tid,
        attrs: [
          [ATTR.XOR_PEER_ADDRESS, xorAddress(peer)],
          [ATTR.DATA, Buffer.from(data)],
        ],
      });
      sock.send(msg, port, host);
    },

    /** The next Data indication: { peer, data } (rejects after ms). */
    nextData(ms = timeoutMs) {
      if (dataQueue.length) return Promise.resolve(dataQueue.shift());
      return new Promise((resolve, reject) => {
        const w = (item) => {
          clearTimeout(timer);
          resolve(item);
        };
        const timer = setTimeout(() => {
          const i = dataWaiters.indexOf(w);
          if (i >= 0) dataWaiters.splice(i, 1);
          reject(new Error(`no Data indication within ${ms} ms`));
        }, ms);
        dataWaiters.push(w);
      });
    },

    close() {
      if (closed) return;
      closed = true;
      for (const p of [...pending.values()]) p.reject(new Error('TURN client closed'));
      try {
        sock.close();
      } catch {
        /* already closed */
      }
    },
  };
  return client;
}

/** One STUN Binding to host:port: resolves the answer, or null on timeout. */
async function stunPing({ host = '127.0.0.1', port, timeoutMs = 500 } = {}) {
  const c = await turnClient({ host, port, timeoutMs });
  try {
    return await c.binding();
  } catch {
    return null;
  } finally {
    c.close();
  }
}

module.exports = {
  turnClient,
  stunPing,
  restCredentials,
  longTermKey,
  parseIceUrl,
  encode,
  decode,
  checkIntegrity,
  crc32,
  ATTR,
  METHOD,
  CLASS,
};
