'use strict';
// Files for the attachment tests: real PNG images of a chosen size (made
// here, no image library), uploads as a visitor (Bearer token) or as an
// agent (session cookie + CSRF header) through POST /api/files, and a
// loopback listener that records every request it gets (proof that a
// script in a served file ran, or did not).
//
//   const img = png(640, 480);                                // Buffer
//   const f = await uploadAs(srv, { token: v.token }, cid, 'photo.png', img);   // the File object
//   const f = await uploadAs(srv, { session: await agentSession(srv, ann) }, cid, 'a.pdf', buf);
//   const spy = await startListener();  spy.url('/x'), spy.hits (paths), await spy.close()

const http = require('node:http');
const zlib = require('node:zlib');

const { request } = require('./http');
const { onExit } = require('./common');

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(buf) {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A PNG of width x height (8-bit RGB): a soft diagonal gradient between two
 * colours with a lighter disc in the middle, so that screenshots show
 * something and the sizes are real.
 */
function png(width, height, { from = [15, 118, 110], to = [79, 70, 229] } = {}) {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  const cx = width / 2;
  const cy = height / 2;
  const r2 = (Math.min(width, height) / 4) ** 2;
  let o = 0;
  for (let y = 0; y < height; y++) {
    rows[o++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const k = (x / width + y / height) / 2;
      const disc = (x - cx) ** 2 + (y - cy) ** 2 < r2 ? 60 : 0;
      for (let i = 0; i < 3; i++) rows[o++] = Math.min(255, Math.round(from[i] + (to[i] - from[i]) * k) + disc);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A small but real PDF (one empty page) of about `size` bytes (padded with a comment). */
function pdf(size = 2000) {
  const head =
    '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n' +
    '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\ntrailer << /Root 1 0 R >>\n';
  const pad = Math.max(0, size - head.length - 6);
  return Buffer.from(`${head}%${'x'.repeat(pad)}\n%%EOF`, 'latin1');
}

/**
 * POST /api/files as a visitor ({token}) or an agent ({session: {cookie,
 * csrf}}). Resolves the whole response (status, json ...); uploadAs() below
 * throws unless it is 201.
 */
function uploadRaw(srv, who, conversationId, name, body) {
  const headers = { 'Content-Type': 'application/octet-stream' };
  if (who.token) headers.Authorization = `Bearer ${who.token}`;
  if (who.session) {
    headers.Cookie = `parley_session=${who.session.cookie}`;
    headers['X-CSRF-Token'] = who.session.csrf;
    headers.Origin = srv.origin;
  }
  const path = `/api/files?conversation_id=${encodeURIComponent(conversationId)}&name=${encodeURIComponent(name)}`;
  return request(srv, { method: 'POST', path, headers, body });
}

async function uploadAs(srv, who, conversationId, name, body) {
  const res = await uploadRaw(srv, who, conversationId, name, body);
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

module.exports = { png, pdf, crc32, uploadRaw, uploadAs, startListener };
