'use strict';
// A loopback TCP proxy that can simulate a network failure, for the browser
// tests of the widget's reconnect logic.
//
//   const proxy = await startTcpProxy();          // listens at once
//   proxy.setTarget(srv.port);                     // forward to parleyd
//   proxy.down();   // every open connection is reset; new ones are refused
//   proxy.up();     // connections are accepted and forwarded again
//   const text = await proxy.cutAfterClientFrame((t) => t.includes('"message.send"'));
//                   // the next WebSocket text frame from a client that
//                   // matches reaches the server, but nothing the server
//                   // answers reaches the client: the connection is cut
//                   // and the proxy stays down until up()
//   await proxy.close();
//
// The target can be set after start so that the server can be told the
// proxy's URL as its public URL before it starts.

const net = require('node:net');

const { onExit } = require('./common');

function startTcpProxy({ host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    let targetPort = null;
    let isDown = false;
    const sockets = new Set();

    let cut = null; // { predicate, resolve }

    // The text payloads of the complete client->server WebSocket frames in
    // buf (masked, as clients send them); returns [texts, rest].
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

    const server = net.createServer((client) => {
      if (isDown || !targetPort) {
        client.resetAndDestroy();
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      sockets.add(client);
      sockets.add(upstream);
      const forget = () => {
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('close', () => {
        upstream.destroy();
        forget();
      });
      upstream.on('close', () => {
        client.destroy();
        forget();
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      let ws = null; // null: not known yet; false: plain HTTP; true: WebSocket frames follow
      let pending = Buffer.alloc(0);
      client.on('data', (chunk) => {
        if (ws === null) {
          ws = /^upgrade:\s*websocket/im.test(chunk.toString('latin1'));
          upstream.write(chunk);
          return;
        }
        if (ws && cut) {
          let texts;
          [texts, pending] = parseFrames(Buffer.concat([pending, chunk]));
          const hit = texts.find((t) => cut.predicate(t));
          if (hit !== undefined) {
            const c = cut;
            cut = null;
            // The server gets the frame; its answers never reach the client.
            upstream.unpipe(client);
            upstream.on('data', () => {});
            isDown = true;
            upstream.write(chunk, () => {
              setTimeout(() => {
                for (const s of sockets) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
                sockets.clear();
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
      upstream.pipe(client);
    });
    server.on('error', reject);
    server.listen({ host, port: 0 }, () => {
      const { port } = server.address();
      const unregister = onExit(() => server.close());
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
          for (const s of sockets) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
          sockets.clear();
        },
        up() {
          isDown = false;
        },
        cutAfterClientFrame(predicate) {
          return new Promise((resolve) => {
            cut = { predicate, resolve };
          });
        },
        get isDown() {
          return isDown;
        },
        openConnections() {
          return sockets.size / 2;
        },
        close() {
          unregister();
          for (const s of sockets) s.destroy();
          sockets.clear();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

module.exports = { startTcpProxy };
