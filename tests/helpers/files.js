'use strict';
// Files for the upload tests: real PNG bytes of a given size, and uploads
// as the widget, the console and the REST API send them (the raw body).

const zlib = require('node:zlib');

const { request } = require('./http');

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * A valid PNG of width x height (8-bit RGB). colour: one [r, g, b] for the
 * whole image, or a function (x, y) -> [r, g, b] (values clamped to 0..255)
 * for something to look at in screenshots.
 */
function pngBytes(width, height, colour = [31, 111, 235]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const at = typeof colour === 'function' ? colour : () => colour;
  const raw = Buffer.alloc((1 + width * 3) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x++) for (const v of at(x, y)) raw[o++] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PDF-looking file of about n bytes (the magic number is what counts). */
function pdfBytes(n = 2000) {
  const head = Buffer.from('%PDF-1.4\n% Parley test\n');
  return Buffer.concat([head, Buffer.alloc(Math.max(0, n - head.length), 0x20)]);
}

/**
 * POST /api/files as a visitor (token) or an agent (session {cookie, csrf}),
 * or POST /api/v1/conversations/{id}/files with an API token (apiToken).
 * Resolves the response.
 */
function upload(srv, { token, session, apiToken, conversationId, name = 'file.bin', body, headers = {}, timeoutMs } = {}) {
  const h = { 'Content-Type': 'application/octet-stream', ...headers };
  let path = `/api/files?conversation_id=${conversationId}&name=${encodeURIComponent(name)}`;
  if (token) h.Authorization = `Bearer ${token}`;
  if (apiToken) {
    h.Authorization = `Bearer ${apiToken.token || apiToken}`;
    path = `/api/v1/conversations/${conversationId}/files?name=${encodeURIComponent(name)}`;
  }
  if (session) {
    h.Cookie = `parley_session=${session.cookie}`;
    h['X-CSRF-Token'] = session.csrf;
    h.Origin = srv.origin;
  }
  return request(srv, { method: 'POST', path, headers: h, body, timeoutMs });
}

/** GET a file's path with a visitor/API token or an agent session (or nothing). */
function download(srv, path, { token, session } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token.token || token}`;
  if (session) headers.Cookie = `parley_session=${session.cookie}`;
  return request(srv, { method: 'GET', path, headers });
}

module.exports = { pngBytes, pdfBytes, upload, download };
