'use strict';
// A loopback TCP proxy that simulates network failures: in front of parleyd
// (the browser tests of reconnect logic) or in front of PostgreSQL.
//
//   const proxy = await startTcpProxy({ target: srv.port });   // listens at once
//   proxy.port, proxy.url / proxy.origin (http://127.0.0.1:<port>)
//   proxy.setTarget(port)    new connections go there (the target can be set
//                            after start, so that a server can be told the
//                            proxy's URL as its public URL before it starts)
//   proxy.down()             reset every open connection and refuse new ones
//   proxy.up()               accept and forward again
//   proxy.setDown(bool)      refuse (close) new connections, or not; open ones stay
//   proxy.dropAll()          close every proxied connection (new ones still work)
//   proxy.muteReplies(bool)  keep forwarding the clients' bytes, drop the servers'
//   await proxy.cutAfterClientFrame((text) => text.includes('"message.send"'))
//                            the next WebSocket text frame from a client that
//                            matches reaches the server, but nothing the server
//                            answers reaches the client: the connection is cut
//                            and the proxy stays down until up(); resolves the text
//   await proxy.cutAfterClientBytes((latin1) => /COMMIT/.test(latin1))
//                            raw bytes (any protocol, e.g. PostgreSQL's): the next
//                            client->server chunk that matches is forwarded, then
//                            every byte the server answers on that connection is
//                            dropped, the client side is reset and the server
//                            side half-closed; resolves the chunk's latin1 text
//   proxy.connections / proxy.openConnections()   proxied connections now
//   await proxy.close()

const net = require('node:net');

const { onExit } = require('./common');

// The text payloads of the complete client->server WebSocket frames in buf
// (masked, as clients send them); returns [texts, rest].
function parseFrames(buf) {
  const texts = [];
  for (;;) {
    if (buf.length < 2) break;
    const opcode = buf[0] & 0x0f;
    let len = buf[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (buf.length < 4) break;
      len = buf.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (buf.length < 10) break;
      len = Number(buf.readBigUInt64BE(2));
      off = 10;
    }
    const masked = (buf[1] & 0x80) !== 0;
    const mask = masked ? buf.subarray(off, off + 4) : null;
    if (masked) off += 4;
    if (buf.length < off + len) break;
    const payload = Buffer.from(buf.subarray(off, off + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    if (opcode === 1) texts.push(payload.toString('utf8'));
    buf = buf.subarray(off + len);
  }
  return [texts, buf];
}

const reset = (s) => (s.resetAndDestroy ? s.resetAndDestroy() : s.destroy());

function startTcpProxy({ host = '127.0.0.1', target = null } = {}) {
  return new Promise((resolve, reject) => {
    let targetPort = target;
    let isDown = false;
    let refuseByReset = true; // down(): refused connections are reset; setDown(true): closed
    let mute = false;
    let frameCut = null; // { predicate, resolve }
    let bytesCut = null; // { predicate, resolve }
    const pairs = new Set(); // { client, upstream, muted }

    const server = net.createServer((client) => {
      if (isDown || !targetPort) {
        if (refuseByReset) reset(client);
        else client.destroy();
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      const pair = { client, upstream, muted: false, halfClosed: false };
      pairs.add(pair);
      const end = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      // After a byte cut the upstream is half-closed and may still answer:
      // that is dropped, and it goes once the server closes it.
      client.on('close', () => (pair.halfClosed ? client.destroy() : end()));
      client.on('error', () => (pair.halfClosed ? client.destroy() : end()));
      upstream.on('error', end);
      upstream.on('close', end);
      upstream.on('data', (b) => {
        if (!mute && !pair.muted && !client.destroyed) client.write(b);
      });

      let ws = null; // null: not known yet; false: plain HTTP; true: WebSocket frames follow
      let pending = Buffer.alloc(0);
      client.on('data', (chunk) => {
        if (pair.halfClosed) return;
        if (bytesCut && bytesCut.predicate(chunk.toString('latin1'))) {
          const c = bytesCut;
          bytesCut = null;
          // The server gets the bytes; its answers never reach the client.
          pair.muted = true;
          pair.halfClosed = true;
          upstream.write(chunk, () => {
            reset(client);
            upstream.end();
            c.resolve(chunk.toString('latin1'));
          });
          return;
        }
        if (ws === null) {
          ws = /^upgrade:\s*websocket/im.test(chunk.toString('latin1'));
          upstream.write(chunk);
          return;
        }
        if (ws && frameCut) {
          let texts;
          [texts, pending] = parseFrames(Buffer.concat([pending, chunk]));
          const hit = texts.find((t) => frameCut.predicate(t));
          if (hit !== undefined) {
            const c = frameCut;
            frameCut = null;
            // The server gets the frame; its answers never reach the client.
            pair.muted = true;
            isDown = true;
            upstream.write(chunk, () => {
              // Time for the server to act on the frame before the cut.
              setTimeout(() => {
                for (const p of [...pairs]) {
                  reset(p.client);
                  reset(p.upstream);
                }
                pairs.clear();
                c.resolve(hit);
              }, 300);
            });
            return;
          }
        } else if (ws) {
          pending = Buffer.alloc(0);
        }
        upstream.write(chunk);
      });
    });
    server.on('error', reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address();
      const unregister = onExit(() => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close();
      });
      resolve({
        port,
        host,
        url: `http://${host}:${port}`,
        origin: `http://${host}:${port}`,
        setTarget(p) {
          targetPort = p;
        },
        /** Reset every connection and refuse new ones: the network is gone. */
        down() {
          isDown = true;
          refuseByReset = true;
          for (const p of [...pairs]) {
            reset(p.client);
            reset(p.upstream);
          }
          pairs.clear();
        },
        up() {
          isDown = false;
        },
        /** Refuse new connections (the server is "gone"); open ones stay. */
        setDown(v) {
          isDown = Boolean(v);
          refuseByReset = false;
        },
        /** Close every proxied connection. */
        dropAll() {
          for (const p of [...pairs]) {
            p.client.destroy();
            p.upstream.destroy();
          }
          pairs.clear();
        },
        muteReplies(v) {
          mute = Boolean(v);
        },
        cutAfterClientFrame(predicate) {
          return new Promise((r) => {
            frameCut = { predicate, resolve: r };
          });
        },
        cutAfterClientBytes(predicate) {
          return new Promise((r) => {
            bytesCut = { predicate, resolve: r };
          });
        },
        get isDown() {
          return isDown;
        },
        get connections() {
          return pairs.size;
        },
        openConnections() {
          return pairs.size;
        },
        close() {
          unregister();
          for (const p of pairs) {
            p.client.destroy();
            p.upstream.destroy();
          }
          pairs.clear();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

module.exports = { startTcpProxy, parseFrames };
