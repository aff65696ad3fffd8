'use strict';
// More files for the attachment tests (beside files.js): PNG images that
// show something in screenshots (a gradient and a disc, any size), uploads
// that resolve the File object, and a loopback listener that records every
// request it gets (proof that a script in a served file ran, or did not).
//
//   const img = png(640, 480);                                // Buffer
//   const f = await uploadAs(srv, { token: v.token }, cid, 'photo.png', img);   // the File object
//   const f = await uploadAs(srv, { session: await agentSession(srv, ann) }, cid, 'a.pdf', buf);
//   const spy = await startListener();  spy.url('/x'), spy.hits (paths), await spy.close()

const http = require('node:http');

const { upload, pngBytes } = require('./files');
const { onExit } = require('./common');

/**
 * A PNG of width x height (8-bit RGB): a soft diagonal gradient between two
 * colours with a lighter disc in the middle, so that screenshots show
 * something and the sizes are real.
 */
function png(width, height, { from = [15, 118, 110], to = [79, 70, 229] } = {}) {
  const cx = width / 2;
  const cy = height / 2;
  const r2 = (Math.min(width, height) / 4) ** 2;
  return pngBytes(width, height, (x, y) => {
    const k = (x / width + y / height) / 2;
    const disc = (x - cx) ** 2 + (y - cy) ** 2 < r2 ? 60 : 0;
    return from.map((f, i) => Math.min(255, Math.round(f + (to[i] - f) * k) + disc));
  });
}

/** POST /api/files (tests/helpers/files.js upload) as a visitor ({token}) or an agent ({session}); resolves the File, throws unless 201. */
async function uploadAs(srv, who, conversationId, name, body) {
  const res = await upload(srv, { ...who, conversationId, name, body });
  if (res.status !== 201 || !res.json || !res.json.file) throw new Error(`upload of ${name} answered ${res.status}: ${res.body}`);
  return res.json.file;
}

/**
 * An HTTP listener on 127.0.0.1 that answers 204 to everything and keeps
 * the path of every request in .hits; .serve(path, type, body) makes it
 * answer one path with a document (a control page).
 */
async function startListener() {
  const hits = [];
  const docs = new Map();
  const server = http.createServer((req, res) => {
    hits.push(req.url);
    const doc = docs.get(req.url.split('?')[0]);
    if (doc) {
      res.writeHead(200, { 'Content-Type': doc.type, 'Cache-Control': 'no-store' });
      res.end(doc.body);
      return;
    }
    res.writeHead(204, { 'Access-Control-Allow-Origin': '*' });
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const unregister = onExit(() => server.close());
  return {
    port,
    hits,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    serve(p, type, body) {
      docs.set(p, { type, body });
    },
    close: () =>
      new Promise((resolve) => {
        unregister();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

module.exports = { png, uploadAs, startListener };
