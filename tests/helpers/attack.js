'use strict';
// Raw sockets for the hardening tests: what an attacker with the API
// documents can send, byte for byte, from any loopback address.
//
//   const s = await tcpConnect(srv, { localAddress: '127.0.0.2' });   // idle TCP
//   const loris = await slowloris(srv, 50, { localAddress: '127.0.0.3' });
//   const ws = await rawWebSocket(srv, '/ws/visitor', { origin });     // after the 101
//   ws.socket.write(frameHeader(0x1, 2 ** 31 - 65536));               // announce 2 GiB
//   await socketClosed(ws.socket, 3000);
//
// Every socket made here is destroyed by destroyAll() (call it in after()).

const crypto = require('node:crypto');
const net = require('node:net');
const tls = require('node:tls');

const { trustedCa } = require('./common');

const sockets = new Set();

function track(s) {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
  s.on('error', () => {});
  return s;
}

/** A TCP (or TLS, for a TLS server) connection; resolves once connected. */
function tcpConnect(srv, { localAddress, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port: srv.port, localAddress };
    const s = srv.tls ? tls.connect({ ...opts, ca: trustedCa(), servername: 'localhost' }) : net.connect(opts);
    track(s);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to :${srv.port} from ${localAddress || 'default'} timed out`));
    }, timeoutMs);
    s.once(srv.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * Resolves when the socket is closed (by the peer or locally), with
 * { closedAfterMs, gotBytes }; rejects after timeoutMs.
 */
function socketClosed(s, timeoutMs) {
  const started = Date.now();
  let got = 0;
  s.on('data', (b) => {
    got += b.length;
  });
  if (s.destroyed || s.readyState === 'closed') return Promise.resolve({ closedAfterMs: 0, gotBytes: got });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve({ closedAfterMs: Date.now() - started, gotBytes: got });
    };
    s.once('close', done);
    s.once('end', done);
  });
}

/**
 * n connections that send the start of a request head and then one header
 * byte every intervalMs, never finishing it (slowloris). Resolves the
 * sockets once all are connected; stop() ends the drip.
 */
async function slowloris(srv, n, { localAddress, intervalMs = 500 } = {}) {
  const list = [];
  for (let i = 0; i < n; i++) {
    const s = await tcpConnect(srv, { localAddress }).catch(() => null);
    if (!s) continue;
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ');
    list.push(s);
  }
  const timer = setInterval(() => {
    for (const s of list) if (!s.destroyed) s.write('a');
  }, intervalMs);
  timer.unref(); // a failed test must not keep the test process alive
  return { sockets: list, stop: () => clearInterval(timer) };
}

/**
 * A WebSocket handshake done by hand. Resolves { socket, status, headers,
 * rest (bytes after the response head) } once the server answered; the
 * socket stays open for raw frames.
 */
async function rawWebSocket(srv, path, { origin, localAddress, headers = {} } = {}) {
  const s = await tcpConnect(srv, { localAddress });
  const key = crypto.randomBytes(16).toString('base64');
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${srv.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (origin) lines.push(`Origin: ${origin}`);
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  s.write(`${lines.join('\r\n')}\r\n\r\n`);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error('no handshake answer within 5 s')), 5000);
    const onData = (b) => {
      buf = Buffer.concat([buf, b]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      s.off('data', onData);
      const head = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const hdrs = {};
      for (const l of head.slice(1)) {
        const i = l.indexOf(':');
        hdrs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ socket: s, status, headers: hdrs, rest: buf.subarray(end + 4) });
    };
    s.on('data', onData);
    s.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed during the handshake'));
    });
  });
}

/** A client frame header (FIN set, masked) announcing `length` payload bytes. */
function frameHeader(opcode, length, mask = crypto.randomBytes(4)) {
  let head;
  if (length < 126) {
    head = Buffer.from([0x80 | opcode, 0x80 | length]);
  } else if (length < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([head, mask]);
}

/** A whole masked client text frame. */
function textFrame(text) {
  const payload = Buffer.from(text, 'utf8');
  const mask = crypto.randomBytes(4);
  const out = Buffer.concat([frameHeader(0x1, payload.length, mask), payload]);
  const off = out.length - payload.length;
  for (let i = 0; i < payload.length; i++) out[off + i] ^= mask[i & 3];
  return out;
}

/** JSON text nested `depth` levels deep: arrays or objects. */
function deepJson(depth, kind = 'array') {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function destroyAll() {
  for (const s of sockets) s.destroy();
  sockets.clear();
}

module.exports = { tcpConnect, socketClosed, slowloris, rawWebSocket, frameHeader, textFrame, deepJson, destroyAll };
