'use strict';
// A reverse proxy in front of parleyd that says where the browser is: it
// adds X-Forwarded-For (a fixed address, changeable at run time) to every
// request and WebSocket upgrade it passes on, the way a load balancer does.
// A browser cannot set that header itself, so a browser visitor gets a
// location only through such a proxy (parleyd started with
// PARLEY_TRUSTED_PROXIES=127.0.0.1 believes it).
//
//   const px = await startXffProxy(srv, { forwardedFor: '203.0.113.9' });
//   // the browser uses px.url; px.forwardedFor = '198.51.100.7' switches it
//   await px.close();
//
// The widget's frame is on parleyd's origin and its socket must come from
// PARLEY_PUBLIC_URL: start the proxy first (srv null), give parleyd its URL
// as PARLEY_PUBLIC_URL, then px.setTarget(srv.port).

const http = require('node:http');
const net = require('node:net');

const { freePort, onExit } = require('./common');

async function startXffProxy(srv, { forwardedFor = '203.0.113.9' } = {}) {
  const port = await freePort();
  const target = { host: '127.0.0.1', port: srv ? srv.port : 0 };
  const state = { forwardedFor };
  const sockets = new Set();
  const headersOf = (req) => {
    const headers = { ...req.headers, 'x-forwarded-for': state.forwardedFor };
    return headers;
  };
  const server = http.createServer((req, res) => {
    const up = http.request({ ...target, method: req.method, path: req.url, headers: headersOf(req) }, (r) => {
      res.writeHead(r.statusCode, r.rawHeaders);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  // WebSockets: the upgrade request is written again (with the header) on a
  // raw connection to parleyd, then the two sockets are piped together.
  server.on('upgrade', (req, client, head) => {
    const upstream = net.connect(target.port, target.host, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      const h = headersOf(req);
      for (const [k, v] of Object.entries(h)) for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head && head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const unregister = onExit(() => server.close());
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    origin: url,
    port,
    setTarget(p) {
      target.port = p;
    },
    get forwardedFor() {
      return state.forwardedFor;
    },
    set forwardedFor(ip) {
      state.forwardedFor = ip;
    },
    close() {
      unregister();
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

module.exports = { startXffProxy };
