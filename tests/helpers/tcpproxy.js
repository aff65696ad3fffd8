'use strict';
// A TCP proxy on a fixed local port in front of parleyd, so that a test can
// cut connections (as a network failure would), hold the server's answers
// back, or point the same port at a restarted server.
//
//   const proxy = await startProxy({ port: srv.port });
//   proxy.origin            http://127.0.0.1:<proxy port>
//   proxy.dropAll()         destroy every proxied connection
//   proxy.setTarget(port)   new connections go there
//   proxy.setDown(true)     refuse new connections (server "gone")
//   proxy.muteReplies(true) keep forwarding requests but drop the server's bytes
//   await proxy.close()

const net = require('node:net');
const { onExit } = require('./common');

function startProxy({ port: targetPort, host = '127.0.0.1' }) {
  let target = targetPort;
  let down = false;
  let mute = false;
  const pairs = new Set();
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host, port: target });
    const pair = { client, upstream };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (b) => upstream.write(b));
    upstream.on('data', (b) => {
      if (!mute) client.write(b);
    });
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const port = server.address().port;
      const unregister = onExit(() => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close();
      });
      resolve({
        port,
        host: '127.0.0.1',
        origin: `http://127.0.0.1:${port}`,
        url: `http://127.0.0.1:${port}`,
        get connections() {
          return pairs.size;
        },
        dropAll() {
          for (const p of [...pairs]) {
            p.client.destroy();
            p.upstream.destroy();
          }
          pairs.clear();
        },
        setTarget(p) {
          target = p;
        },
        setDown(v) {
          down = v;
        },
        muteReplies(v) {
          mute = v;
        },
        close() {
          unregister();
          for (const p of pairs) {
            p.client.destroy();
            p.upstream.destroy();
          }
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

module.exports = { startProxy };
