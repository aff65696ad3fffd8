'use strict';
// Files: upload as a raw body (visitor, agent, REST), attach through the
// durable message path, download only by who may read the message, signed
// links for <img>, types from the bytes, safe serving headers, names
// cleaned, the size limit mid-stream, and the limits and settings per site.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { assertProblem } = require('../helpers/assert');
const {
  createTeam,
  createAgent,
  createSite,
  connectVisitor,
  connectAgent,
  agentSession,
  startConversation,
  msgCreated,
  waitFor,
} = require('../helpers/fixtures');
const { addToken, api } = require('../helpers/api');
const { pngBytes, pdfBytes, upload, download } = require('../helpers/files');

const fx = suite({
  env: {
    PARLEY_AGENT_GRACE_SECONDS: '86400',
    PARLEY_UPLOAD_MAX_BYTES: String(3 * 1024 * 1024),
    // The sweeper every second, and a dead node noticed after 10 s.
    PARLEY_FILES_SWEEP_SECONDS: '1',
    PARLEY_NODE_TIMEOUT_SECONDS: '10',
  },
});
const { test } = fx;
const F = {};
let counter = 0;
const key = () => `f-${process.pid}-${++counter}`;

fx.setup(async () => {
  F.team = await createTeam(fx.pg, 'Files team');
  F.ann = await createAgent(fx.pg, { name: 'Ann Files', teams: [F.team] });
  F.admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
  F.outsider = await createAgent(fx.pg, { name: 'Olga Other', teams: [await createTeam(fx.pg, 'Other team')] });
  F.site = await createSite(fx.pg, { teamId: F.team });
  F.otherSite = await createSite(fx.pg, { teamId: F.team });
  F.annWs = await connectAgent(fx.srv, F.ann, { status: 'online' });
  F.annSession = await agentSession(fx.srv, F.ann);
  F.adminSession = await agentSession(fx.srv, F.admin);
  F.outsiderSession = await agentSession(fx.srv, F.outsider);
  F.read = await addToken(fx.pg, { name: 'Reader', scopes: ['transcripts:read'] });
  F.write = await addToken(fx.pg, { name: 'Bot', scopes: ['conversations:write'] });
});

/** A visitor with an open conversation (assigned to Ann, who is online). */
async function visitorChat(site = F.site) {
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  return { v, cid };
}

function sendWithFiles(c, cid, ids, body = '', type = 'message.send') {
  return c.ack({ type, conversation_id: cid, client_msg_id: key(), body, attachments: ids });
}

function patchSite(site, files) {
  return request(fx.srv, {
    method: 'PATCH',
    path: `/api/sites/${site.id}`,
    headers: { Cookie: `parley_session=${F.adminSession.cookie}`, 'X-CSRF-Token': F.adminSession.csrf, Origin: fx.srv.origin },
    json: { files },
  });
}

test('a visitor uploads an image, sends it, and both sides see it; the file is served only to them', async () => {
  const { v, cid } = await visitorChat();
  const png = pngBytes(64, 48);
  const up = await upload(fx.srv, { token: v.token, conversationId: cid, name: 'cat photo.png', body: png });
  assert.equal(up.status, 201, up.body);
  const file = up.json.file;
  assert.match(file.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(
    { name: file.name, size: file.size, type: file.type, width: file.width, height: file.height, url: file.url },
    { name: 'cat photo.png', size: png.length, type: 'image/png', width: 64, height: 48, url: `/api/files/${file.id}` },
  );
  const row = (await fx.pg.query('SELECT state, encode(sha256, $2) AS sha FROM files WHERE id = $1', [file.id, 'hex'])).rows[0];
  assert.equal(row.state, 'ready');
  assert.equal(row.sha, require('node:crypto').createHash('sha256').update(png).digest('hex'));

  // Before it is sent, only its uploader may fetch it.
  assert.equal((await download(fx.srv, file.url, { token: v.token })).status, 200);
  assert.equal((await download(fx.srv, file.url, { session: F.annSession })).status, 404);

  const ack = await sendWithFiles(v, cid, [file.id]);
  assert.equal(ack.message.body, '');
  assert.deepEqual(ack.message.attachments, [file]);
  const live = await F.annWs.next(
    msgCreated(cid, (m) => m.id === ack.message.id),
    5000,
    'the agent gets the message',
  );
  assert.deepEqual(live.message.attachments, [file]);

  // Served: the exact bytes, inline (a raster image), with the sandbox.
  for (const who of [{ token: v.token }, { session: F.annSession }, { session: F.adminSession }, { token: F.read }]) {
    const got = await download(fx.srv, file.url, who);
    assert.equal(got.status, 200, JSON.stringify(who));
    assert.ok(got.bytes.equals(png));
    assert.equal(got.headers['content-type'], 'image/png');
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
    assert.equal(got.headers['content-security-policy'], "sandbox; default-src 'none'");
    assert.match(got.headers['content-disposition'], /^inline; filename="cat photo.png"; filename\*=UTF-8''cat%20photo.png$/);
  }
  const forced = await download(fx.srv, `${file.url}?download=true`, { token: v.token });
  assert.match(forced.headers['content-disposition'], /^attachment;/);

  // Anyone else: 404, exactly as for a file that does not exist.
  const stranger = await connectVisitor(fx.srv, F.site);
  const foreign = await connectVisitor(fx.srv, F.otherSite);
  const missing = await download(fx.srv, `/api/files/${'0'.repeat(32)}`, { token: v.token });
  assertProblem(missing, 404, 'not_found');
  for (const who of [{ token: stranger.token }, { token: foreign.token }, { session: F.outsiderSession }, {}, { token: F.write }]) {
    const got = await download(fx.srv, file.url, who);
    assertProblem(got, 404, 'not_found');
    assert.equal(got.json.detail, missing.json.detail);
  }
  // Sequential or malformed ids are no address at all.
  assertProblem(await download(fx.srv, '/api/files/1', { token: v.token }), 404, 'not_found');
});

test('signed links serve an image without credentials until they expire; tampered links are refused', async () => {
  const { v, cid } = await visitorChat();
  const png = pngBytes(10, 10);
  const file = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'a.png', body: png })).json.file;
  await sendWithFiles(v, cid, [file.id]);
  const link = await download(fx.srv, `${file.url}/link`, { token: v.token });
  assert.equal(link.status, 200, link.body);
  const url = new URL(link.json.url, fx.srv.origin);
  assert.equal(url.pathname, file.url);
  const expires = Number(url.searchParams.get('expires'));
  assert.ok(expires * 1000 > Date.now() && expires * 1000 <= Date.now() + 11 * 60 * 1000, 'minutes, not days');
  assert.equal(new Date(link.json.expires_at).getTime(), expires * 1000);
  const ok = await download(fx.srv, `${url.pathname}${url.search}`);
  assert.equal(ok.status, 200);
  assert.ok(ok.bytes.equals(png));

  const sig = url.searchParams.get('sig');
  const flip = (s) => (s[0] === 'a' ? 'b' : 'a') + s.slice(1);
  const other = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'b.png', body: pngBytes(3, 3) })).json.file;
  for (const bad of [
    `${file.url}?expires=${expires}&sig=${flip(sig)}`, // tampered signature
    `${file.url}?expires=${expires + 60}&sig=${sig}`, // longer life, same signature
    `${other.url}?expires=${expires}&sig=${sig}`, // another file
    `${file.url}?expires=${Math.floor(Date.now() / 1000) - 5}&sig=${sig}`, // expired
    `${file.url}?expires=${expires}`, // no signature
  ]) {
    assertProblem(await download(fx.srv, bad), 404, 'not_found');
  }
  // An expired link with a valid signature for that time: still refused.
  const past = Math.floor(Date.now() / 1000) - 60;
  const mac = require('node:crypto')
    .createHmac('sha256', (await fx.pg.query("SELECT value FROM server_secrets WHERE name = 'file_links'")).rows[0].value)
    .update(`${file.id}.${past}`)
    .digest('hex');
  assertProblem(await download(fx.srv, `${file.url}?expires=${past}&sig=${mac}`), 404, 'not_found');
  // The same key signs a fresh one: the scheme is what we think it is.
  const future = Math.floor(Date.now() / 1000) + 120;
  const good = require('node:crypto')
    .createHmac('sha256', (await fx.pg.query("SELECT value FROM server_secrets WHERE name = 'file_links'")).rows[0].value)
    .update(`${file.id}.${future}`)
    .digest('hex');
  assert.equal((await download(fx.srv, `${file.url}?expires=${future}&sig=${good}`)).status, 200);
});

test('types come from the bytes: HTML or SVG posing as PNG is refused; SVG allowed by a site is a sandboxed download', async () => {
  const { v, cid } = await visitorChat();
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>');
  const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
  for (const [name, body, type] of [
    ['cute.png', svg, 'image/svg+xml'],
    ['cute.png', html, 'text/html'],
    ['tool.exe', Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]), 'application/octet-stream'],
  ]) {
    const res = await upload(fx.srv, { token: v.token, conversationId: cid, name, body });
    const p = assertProblem(res, 415, 'file_type_refused');
    assert.ok(p.detail.includes(type), p.detail);
    assert.equal(p.file_type, type);
  }
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM files WHERE conversation_id = $1', [cid])).rows[0].n, 0);

  // The client's Content-Type counts for nothing either way.
  const pdf = await upload(fx.srv, { token: v.token, conversationId: cid, name: 'invoice.png', body: pdfBytes(), headers: { 'Content-Type': 'image/png' } });
  assert.equal(pdf.json.file.type, 'application/pdf');

  // A site that allows SVG and anything else gets them, served as downloads in a sandbox.
  const site = await createSite(fx.pg, { teamId: F.team });
  assert.equal((await patchSite(site, { types: ['image/png', 'image/svg+xml', 'application/octet-stream'] })).status, 200);
  const w = await visitorChat(site);
  for (const [name, body, type] of [
    ['logo.png', svg, 'image/svg+xml'],
    ['page.html', html, 'text/html'],
  ]) {
    const up = await upload(fx.srv, { token: w.v.token, conversationId: w.cid, name, body });
    assert.equal(up.status, 201, up.body);
    assert.equal(up.json.file.width, undefined);
    const got = await download(fx.srv, up.json.file.url, { token: w.v.token });
    assert.equal(got.status, 200);
    assert.equal(up.json.file.type, type, 'recorded as what it is');
    assert.equal(got.headers['content-type'], 'application/octet-stream', 'served as bytes, never as markup');
    assert.match(got.headers['content-disposition'], /^attachment; /);
    assert.equal(got.headers['content-security-policy'], "sandbox; default-src 'none'");
    assert.equal(got.headers['x-content-type-options'], 'nosniff');
  }
});

test('names are cleaned of paths, NUL, control characters and bidi overrides; Content-Disposition encodes the rest', async () => {
  const { v, cid } = await visitorChat();
  const cases = [
    ['../../etc/passwd', '_.._etc_passwd'],
    ['a\u0000b.pdf', 'ab.pdf'],
    ['..\\..\\boot.ini', '_.._boot.ini'],
    ['invoice_\u202Efdp.exe', 'invoice_fdp.exe'],
    ['\u0007bell\r\n.pdf', 'bell.pdf'],
    ['报告 "final".pdf', '报告 "final".pdf'],
  ];
  for (const [name, stored] of cases) {
    const up = await upload(fx.srv, { token: v.token, conversationId: cid, name, body: pdfBytes() });
    assert.equal(up.status, 201, `${JSON.stringify(name)}: ${up.body}`);
    assert.equal(up.json.file.name, stored);
    const got = await download(fx.srv, up.json.file.url, { token: v.token });
    const cd = got.headers['content-disposition'];
    assert.ok(cd.startsWith('attachment; filename="'), cd);
    assert.ok(![...cd].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), cd);
    const star = decodeURIComponent(cd.split("filename*=UTF-8''")[1]);
    assert.equal(star, stored);
  }
  // Not UTF-8 at all: refused with a clear error.
  const bad = await request(fx.srv, {
    method: 'POST',
    path: `/api/files?conversation_id=${cid}&name=%FF%FE.txt`,
    headers: { Authorization: `Bearer ${v.token}` },
    body: pdfBytes(),
  });
  assert.equal(assertProblem(bad, 400, 'invalid_request').errors[0].field, 'name');
});

/** Sends the head of an HTTP request and body bytes by hand; resolves the raw answer once the server closes. */
function rawUpload(srv, head, bodyChunks, { endAfter = true } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => {
      answer += d.toString('latin1');
    });
    s.on('error', () => resolve({ answer, reset: true }));
    s.on('close', () => resolve({ answer }));
    s.on('connect', async () => {
      s.write(head);
      for (const c of bodyChunks) {
        if (s.destroyed) break;
        await new Promise((r) => s.write(c, r));
      }
      if (endAfter && !s.destroyed) s.end();
    });
    s.setTimeout(20000, () => {
      s.destroy();
      reject(new Error('no answer'));
    });
  });
}

test('too big: refused from the declared length, and mid-stream for a chunked body, with nothing left behind', async () => {
  const { v, cid } = await visitorChat();
  const site = await createSite(fx.pg, { teamId: F.team });
  assertProblem(await patchSite(site, { max_bytes: 4 * 1024 * 1024 }), 400, 'invalid_request'); // over the server ceiling
  assert.equal((await patchSite(site, { max_bytes: 600000 })).status, 200);
  const w = await visitorChat(site);

  const declared = await upload(fx.srv, { token: w.v.token, conversationId: w.cid, name: 'big.pdf', body: pdfBytes(600001) });
  const p = assertProblem(declared, 413, 'file_too_large');
  assert.ok(p.detail.includes('600000'), p.detail);
  assert.equal(p.max_bytes, 600000, 'the limit as a member too');
  assert.equal(declared.headers.connection, 'close');

  // Chunked: the server only learns the size as the bytes come.
  const head =
    `POST /api/files?conversation_id=${w.cid}&name=big.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: Bearer ${w.v.token}\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const piece = pdfBytes(64 * 1024);
  const chunks = [];
  for (let i = 0; i < 12; i++) chunks.push(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
  chunks.push(Buffer.from('0\r\n\r\n'));
  const r = await rawUpload(fx.srv, head, chunks);
  assert.match(r.answer, /^HTTP\/1\.1 413 /, r.answer.slice(0, 200));
  assert.match(r.answer, /file_too_large/);
  await waitFor(async () => (await fx.pg.query('SELECT count(*)::int AS n FROM files WHERE conversation_id = $1', [w.cid])).rows[0].n === 0, {
    what: 'no file row left',
  });
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks c LEFT JOIN files f ON f.id = c.file_id WHERE f.id IS NULL')).rows[0].n, 0);

  // Within the limit, chunked is fine.
  const small = [Buffer.concat([Buffer.from('400\r\n'), pdfBytes(1024), Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')];
  const ok = await rawUpload(fx.srv, head.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'), small);
  assert.match(ok.answer, /^HTTP\/1\.1 201 /, ok.answer.slice(0, 300));
  // The server's ceiling applies to a visitor of the default site too.
  const over = await upload(fx.srv, { token: v.token, conversationId: cid, name: 'x.pdf', body: pdfBytes(3 * 1024 * 1024 + 1) });
  assertProblem(over, 413, 'file_too_large');
});

test('a client that goes away mid-upload leaves nothing; an empty file and a missing length are refused', async () => {
  const { v, cid } = await visitorChat();
  const head =
    `POST /api/files?conversation_id=${cid}&name=half.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: Bearer ${v.token}\r\nContent-Length: 1000000\r\n\r\n`;
  const s = net.connect(fx.srv.port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.write(head);
  s.write(pdfBytes(300000));
  await waitFor(
    async () =>
      (await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks c JOIN files f ON f.id = c.file_id WHERE f.conversation_id = $1', [cid])).rows[0].n > 0,
    {
      what: 'the first chunk stored',
    },
  );
  const pending = (await fx.pg.query('SELECT id, state FROM files WHERE conversation_id = $1', [cid])).rows[0];
  assert.equal(pending.state, 'pending');
  assertProblem(await download(fx.srv, `/api/files/${pending.id}`, { token: v.token }), 404, 'not_found');
  s.destroy();
  await waitFor(async () => (await fx.pg.query('SELECT count(*)::int AS n FROM files WHERE conversation_id = $1', [cid])).rows[0].n === 0, {
    what: 'the half upload deleted',
  });
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1', [pending.id])).rows[0].n, 0);

  assertProblem(await upload(fx.srv, { token: v.token, conversationId: cid, name: 'empty.txt', body: Buffer.alloc(0) }), 400, 'invalid_request');
  const noLength = await rawUpload(
    fx.srv,
    `POST /api/files?conversation_id=${cid}&name=x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${v.token}\r\nConnection: close\r\n\r\n`,
    [],
  );
  assert.match(noLength.answer, /^HTTP\/1\.1 411 /);
});

test('who may upload where: own open conversations only; the site can turn visitor uploads off', async () => {
  const { v, cid } = await visitorChat();
  const other = await visitorChat();
  assertProblem(await upload(fx.srv, { token: v.token, conversationId: other.cid, name: 'a.pdf', body: pdfBytes() }), 404, 'not_found');
  assertProblem(await upload(fx.srv, { token: 'pv_nonsense', conversationId: cid, name: 'a.pdf', body: pdfBytes() }), 401, 'unauthenticated');
  // An agent outside the team cannot see it, so cannot upload into it either.
  assertProblem(await upload(fx.srv, { session: F.outsiderSession, conversationId: cid, name: 'a.pdf', body: pdfBytes() }), 404, 'not_found');
  // The console's upload is a state change: CSRF and same origin.
  const noCsrf = await request(fx.srv, {
    method: 'POST',
    path: `/api/files?conversation_id=${cid}&name=a.pdf`,
    headers: { Cookie: `parley_session=${F.annSession.cookie}`, Origin: fx.srv.origin },
    body: pdfBytes(),
  });
  assertProblem(noCsrf, 403, 'csrf_failed');

  const site = await createSite(fx.pg, { teamId: F.team });
  const w = await visitorChat(site);
  assert.equal((await patchSite(site, { visitor_uploads: false })).status, 200);
  const widgetSite = await request(fx.srv, { path: `/api/widget/sites/${site.key}`, headers: { Origin: site.origin } });
  assert.equal(widgetSite.json.files.visitor_uploads, false);
  assertProblem(await upload(fx.srv, { token: w.v.token, conversationId: w.cid, name: 'a.pdf', body: pdfBytes() }), 403, 'uploads_disabled');
  // Agents still can.
  assert.equal((await upload(fx.srv, { session: F.annSession, conversationId: w.cid, name: 'a.pdf', body: pdfBytes() })).status, 201);

  // Closed: no more uploads.
  await v.ack({ type: 'conversation.close', conversation_id: cid });
  assertProblem(await upload(fx.srv, { token: v.token, conversationId: cid, name: 'a.pdf', body: pdfBytes() }), 409, 'conflict');
});

test("attachments must be the sender's own ready uploads in that conversation, sent once", async () => {
  const { v, cid } = await visitorChat();
  const other = await visitorChat();
  const mine = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'a.pdf', body: pdfBytes() })).json.file;
  const theirs = (await upload(fx.srv, { token: other.v.token, conversationId: other.cid, name: 'b.pdf', body: pdfBytes() })).json.file;
  const agents = (await upload(fx.srv, { session: F.annSession, conversationId: cid, name: 'c.pdf', body: pdfBytes() })).json.file;
  for (const ids of [[theirs.id], [agents.id], [mine.id, theirs.id], ['f'.repeat(32)]]) {
    await assert.rejects(sendWithFiles(v, cid, ids), (e) => e.code === 'file_invalid' || /file_invalid/.test(e.message));
  }
  for (const [ids, why] of [
    [[mine.id, mine.id], 'once'],
    [['../etc'], 'file'],
    [[], '1 to 10'],
  ]) {
    await assert.rejects(
      sendWithFiles(v, cid, ids),
      (e) => (e.field === 'attachments' || /attachments/.test(e.message)) && new RegExp(why).test(JSON.stringify(e)),
    );
  }
  const ack = await sendWithFiles(v, cid, [mine.id], 'here it is');
  assert.equal(ack.message.attachments[0].id, mine.id);
  await assert.rejects(sendWithFiles(v, cid, [mine.id]), (e) => /file_invalid/.test(JSON.stringify(e)));
  // The same client_msg_id again is the same message (dedupe), not an error about the file.
  const again = await v.ack({
    type: 'message.send',
    conversation_id: cid,
    client_msg_id: ack.message.client_msg_id,
    body: 'here it is',
    attachments: [mine.id],
  });
  assert.equal(again.duplicate, true);
  assert.equal(again.message.id, ack.message.id);
});

test("a note's file is the agents' only: the visitor never receives it and cannot download it", async () => {
  // An agent of their own, online, so the conversation is assigned to them.
  const { site, agents } = await fx.teamWithSite({ agents: [{ name: 'Nora Notes' }] });
  const nora = await connectAgent(fx.srv, agents[0], { status: 'online' });
  const noraSession = await agentSession(fx.srv, agents[0]);
  const { v, cid } = await visitorChat(site);
  const up = await upload(fx.srv, { session: noraSession, conversationId: cid, name: 'internal.pdf', body: pdfBytes() });
  assert.equal(up.status, 201, up.body);
  const note = await sendWithFiles(nora, cid, [up.json.file.id], 'for the team', 'note.send');
  assert.equal(note.message.kind, 'note');
  assert.equal(note.message.attachments[0].id, up.json.file.id);
  assertProblem(await download(fx.srv, up.json.file.url, { token: v.token }), 404, 'not_found');
  assertProblem(await download(fx.srv, `${up.json.file.url}/link`, { token: v.token }), 404, 'not_found');
  assert.equal((await download(fx.srv, up.json.file.url, { session: F.adminSession })).status, 200);
  // API tokens see notes' files only with the admin scope.
  assertProblem(await download(fx.srv, up.json.file.url, { token: F.read }), 404, 'not_found');
  const admin = await addToken(fx.pg, { scopes: ['admin'] });
  assert.equal((await download(fx.srv, up.json.file.url, { token: admin })).status, 200);
  // A reply with a file after it reaches the visitor; the note never did.
  const reply = (await upload(fx.srv, { session: noraSession, conversationId: cid, name: 'public.pdf', body: pdfBytes() })).json.file;
  const sent = await sendWithFiles(nora, cid, [reply.id], 'for you');
  const got = await v.next(
    msgCreated(cid, (m) => m.id === sent.message.id),
    5000,
    'the reply',
  );
  assert.equal(got.message.attachments[0].id, reply.id);
  const sync = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  assert.ok(!JSON.stringify(sync).includes(up.json.file.id), "the note and its file are not in the visitor's history");
  assert.equal((await download(fx.srv, reply.url, { token: v.token })).status, 200);

  // The console's list of the conversation's files has both, notes marked.
  const list = await request(fx.srv, { path: `/api/conversations/${cid}/files`, headers: { Cookie: `parley_session=${noraSession.cookie}` } });
  assert.equal(list.status, 200, list.body);
  assert.deepEqual(
    list.json.files.map((f) => [f.name, f.kind]),
    [
      ['internal.pdf', 'note'],
      ['public.pdf', 'message'],
    ],
  );
  assertProblem(
    await request(fx.srv, { path: `/api/conversations/${cid}/files`, headers: { Cookie: `parley_session=${F.outsiderSession.cookie}` } }),
    404,
    'not_found',
  );
});

test('REST: a bot uploads and replies with the file, idempotently; the reply reaches the visitor', async () => {
  const { v, cid } = await visitorChat();
  const up = await upload(fx.srv, { apiToken: F.write, conversationId: cid, name: 'label.pdf', body: pdfBytes(5000) });
  assert.equal(up.status, 201, up.body);
  const post = (json, k) => api(fx.srv, F.write, 'POST', `/api/v1/conversations/${cid}/messages`, { json, headers: { 'Idempotency-Key': k } });
  const first = await post({ body: 'Your shipping label', attachments: [up.json.file.id] }, 'label-1');
  assert.equal(first.status, 201, first.body);
  assert.equal(first.json.message.attachments[0].id, up.json.file.id);
  const again = await post({ body: 'Your shipping label', attachments: [up.json.file.id] }, 'label-1');
  assert.equal(again.status, 200);
  assert.equal(again.json.duplicate, true);
  assert.deepEqual(again.json.message, first.json.message);
  const live = await v.next(
    msgCreated(cid, (m) => m.id === first.json.message.id),
    5000,
    'the bot reply',
  );
  assert.equal(live.message.attachments[0].name, 'label.pdf');
  // Only files: the body may be empty.
  const second = (await upload(fx.srv, { apiToken: F.write, conversationId: cid, name: 'b.pdf', body: pdfBytes() })).json.file;
  const bare = await post({ attachments: [second.id] }, 'label-2');
  assert.equal(bare.status, 201, bare.body);
  assert.equal(bare.json.message.body, '');
  // Another's file, or one used already: refused naming the field.
  const third = await post({ body: 'x', attachments: [up.json.file.id] }, 'label-3');
  assertProblem(third, 400, 'invalid_request');
  // Downloaded through the REST API with transcripts:read.
  const got = await download(fx.srv, `/api/v1/files/${up.json.file.id}`, { token: F.read });
  assert.equal(got.status, 200);
  assert.equal(got.bytes.length, 5000);
});

test("upload limits: a visitor's uploads per minute and a site's bytes per day, counted across nodes", async () => {
  const site = await createSite(fx.pg, { teamId: F.team });
  const w = await visitorChat(site);
  let limited = null;
  for (let i = 0; i < 12 && !limited; i++) {
    const r = await upload(fx.srv, { token: w.v.token, conversationId: w.cid, name: `n${i}.pdf`, body: pdfBytes() });
    if (r.status === 429) limited = { i, r };
    else assert.equal(r.status, 201, r.body);
  }
  assert.ok(limited, 'the 11th upload in a minute is refused');
  assert.equal(limited.i, 10);
  assertProblem(limited.r, 429, 'rate_limited');
  assert.ok(Number(limited.r.headers['retry-after']) >= 1);

  // A node whose sites may take 300 kB a day: what another node received counts.
  const small = await fx.startNode({ env: { PARLEY_UPLOAD_SITE_BYTES_PER_DAY: '300000' } });
  const site2 = await createSite(fx.pg, { teamId: F.team });
  const x = await visitorChat(site2);
  assert.equal((await upload(fx.srv, { token: x.v.token, conversationId: x.cid, name: 'a.pdf', body: pdfBytes(200000) })).status, 201);
  const refused = await upload(small, { token: x.v.token, conversationId: x.cid, name: 'b.pdf', body: pdfBytes(200000) });
  assertProblem(refused, 429, 'rate_limited');
  assert.equal((await upload(small, { token: x.v.token, conversationId: x.cid, name: 'c.pdf', body: pdfBytes(50000) })).status, 201);
});

test('transcripts list attachments: json with links, txt and html naming each file', async () => {
  const { v, cid } = await visitorChat();
  const png = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'screen<shot>.png', body: pngBytes(20, 10) })).json.file;
  const pdf = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'order.pdf', body: pdfBytes(1234) })).json.file;
  await sendWithFiles(v, cid, [png.id, pdf.id], 'two files');
  const json = await api(fx.srv, F.read, 'GET', `/api/v1/conversations/${cid}/transcript`);
  assert.equal(json.status, 200, json.body);
  const m = json.json.messages.find((x) => x.body === 'two files');
  assert.deepEqual(m.attachments, [png, pdf]);
  assert.deepEqual(
    m.attachments.map((a) => [a.name, a.size, a.type, a.width, a.height, a.url]),
    [
      ['screen<shot>.png', png.size, 'image/png', 20, 10, `/api/files/${png.id}`],
      ['order.pdf', 1234, 'application/pdf', undefined, undefined, `/api/files/${pdf.id}`],
    ],
  );
  const txt = await api(fx.srv, F.read, 'GET', `/api/v1/conversations/${cid}/transcript`, { query: { format: 'txt' } });
  assert.ok(txt.body.includes(`[file] screen<shot>.png (${png.size} bytes, image/png) ${fx.srv.origin}/api/files/${png.id}`), txt.body);
  assert.ok(txt.body.includes(`[file] order.pdf (1234 bytes, application/pdf) ${fx.srv.origin}/api/files/${pdf.id}`), txt.body);
  const html = await api(fx.srv, F.read, 'GET', `/api/v1/conversations/${cid}/transcript`, { query: { format: 'html' } });
  assert.ok(html.body.includes(`href="${fx.srv.origin}/api/files/${png.id}" dir="auto">screen&lt;shot&gt;.png</a>`), html.body);
  assert.ok(!html.body.includes('<shot>'), 'names are escaped');
  // The link in the transcript works for the token that read it.
  assert.equal((await download(fx.srv, `/api/files/${pdf.id}`, { token: F.read })).status, 200);
});

test('every node serves every file: uploaded through one node, downloaded through another (no shared disk)', async () => {
  const b = await fx.startNode();
  const { v, cid } = await visitorChat();
  const big = Buffer.concat([pdfBytes(700000), require('node:crypto').randomBytes(300000)]);
  const up = await upload(fx.srv, { token: v.token, conversationId: cid, name: 'big.pdf', body: big });
  assert.equal(up.status, 201, up.body);
  assert.ok((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1', [up.json.file.id])).rows[0].n >= 4, 'several chunks');
  await sendWithFiles(v, cid, [up.json.file.id]);
  const got = await download(b, up.json.file.url, { token: v.token });
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-length'], String(big.length));
  assert.ok(got.bytes.equals(big), 'the same bytes from the other node');
  // And a signed link made by one node is good on the other (one shared key).
  const link = await download(fx.srv, `${up.json.file.url}/link`, { token: v.token });
  assert.equal((await download(b, link.json.url)).status, 200);

  // Byte ranges (a resumed download, a PDF viewer): across a chunk boundary, a suffix, an open end.
  const ranged = (range) => request(b, { path: up.json.file.url, headers: { Authorization: `Bearer ${v.token}`, Range: range } });
  assert.equal(got.headers['accept-ranges'], 'bytes');
  for (const [range, first, last] of [
    ['bytes=262140-262150', 262140, 262150],
    ['bytes=-100', big.length - 100, big.length - 1],
    ['bytes=900000-', 900000, big.length - 1],
    ['bytes=0-0', 0, 0],
    [`bytes=10-${big.length + 50}`, 10, big.length - 1],
  ]) {
    const r = await ranged(range);
    assert.equal(r.status, 206, range);
    assert.equal(r.headers['content-range'], `bytes ${first}-${last}/${big.length}`, range);
    assert.equal(r.headers['content-length'], String(last - first + 1), range);
    assert.ok(r.bytes.equals(big.subarray(first, last + 1)), range);
  }
  const past = await ranged(`bytes=${big.length}-`);
  assertProblem(past, 416, 'range_not_satisfiable');
  assert.equal(past.headers['content-range'], `bytes */${big.length}`);
  // Several ranges, or nonsense: the whole file.
  for (const range of ['bytes=0-1,5-6', 'bytes=abc', 'lines=1-2', 'bytes=5-2']) {
    const r = await ranged(range);
    assert.equal(r.status, 200, range);
    assert.ok(r.bytes.equals(big), range);
  }
});

test('kill -9 mid-upload: the file is never visible, and the debris goes once the node is known dead', async () => {
  const b = await fx.startNode();
  const { v, cid } = await visitorChat();
  const s = net.connect(b.port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.on('error', () => {});
  s.write(
    `POST /api/files?conversation_id=${cid}&name=half.pdf HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${v.token}\r\nContent-Length: 2000000\r\n\r\n`,
  );
  s.write(pdfBytes(600000));
  const row = await waitFor(
    async () =>
      (
        await fx.pg.query(
          'SELECT f.id, f.state, (SELECT count(*)::int FROM file_chunks c WHERE c.file_id = f.id) AS chunks FROM files f WHERE f.conversation_id = $1',
          [cid],
        )
      ).rows.find((r) => r.chunks >= 2),
    { what: 'chunks of the upload stored', timeoutMs: 10000 },
  );
  await b.kill9();
  s.destroy();
  assert.equal(row.state, 'pending');
  // Not downloadable by anyone, not attachable.
  assertProblem(await download(fx.srv, `/api/files/${row.id}`, { token: v.token }), 404, 'not_found');
  await assert.rejects(sendWithFiles(v, cid, [row.id]), (e) => /file_invalid/.test(JSON.stringify(e)));
  // The surviving node's sweeper removes it once the dead node's heartbeat is stale.
  await waitFor(async () => (await fx.pg.query('SELECT count(*)::int AS n FROM files WHERE id = $1', [row.id])).rows[0].n === 0, {
    what: 'the pending file of the dead node swept',
    timeoutMs: 30000,
    intervalMs: 250,
  });
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1', [row.id])).rows[0].n, 0);
});

test('sweeps: a file never sent is deleted after a while; past the site\'s retention, bytes go and the message says "removed"', async () => {
  const site = await createSite(fx.pg, { teamId: F.team });
  const { v, cid } = await visitorChat(site);
  const unsent = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'forgot.pdf', body: pdfBytes() })).json.file;
  const kept = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'keep.pdf', body: pdfBytes() })).json.file;
  const old = (await upload(fx.srv, { token: v.token, conversationId: cid, name: 'old.pdf', body: pdfBytes() })).json.file;
  await sendWithFiles(v, cid, [kept.id, old.id], 'two');
  // As if uploaded two days ago and never sent (the default grace is a day).
  await fx.pg.query("UPDATE files SET ready_at = now() - interval '2 days' WHERE id = $1", [unsent.id]);
  await waitFor(async () => (await fx.pg.query('SELECT count(*)::int AS n FROM files WHERE id = $1', [unsent.id])).rows[0].n === 0, {
    what: 'the unsent file swept',
    timeoutMs: 10000,
  });
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1', [unsent.id])).rows[0].n, 0);

  // Retention: 30 days; one file was sent 31 days ago.
  assert.equal((await patchSite(site, { retention_days: 30 })).status, 200);
  await fx.pg.query("UPDATE files SET attached_at = now() - interval '31 days' WHERE id = $1", [old.id]);
  await waitFor(async () => (await fx.pg.query('SELECT state FROM files WHERE id = $1', [old.id])).rows[0].state === 'removed', {
    what: 'the old file removed',
    timeoutMs: 10000,
  });
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1', [old.id])).rows[0].n, 0, 'bytes deleted');
  assert.ok((await fx.pg.query('SELECT count(*)::int AS n FROM file_chunks WHERE file_id = $1', [kept.id])).rows[0].n > 0, 'the other kept');
  const gone = await download(fx.srv, old.url, { token: v.token });
  assertProblem(gone, 410, 'file_removed');
  const sync = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  const msg = sync.messages.find((m) => m.body === 'two');
  assert.deepEqual(msg.attachments, [kept, { id: old.id, name: 'old.pdf', removed: true }]);
  const txt = await api(fx.srv, F.read, 'GET', `/api/v1/conversations/${cid}/transcript`, { query: { format: 'txt' } });
  assert.ok(txt.body.includes('[file removed] old.pdf'), txt.body);
  // Retention off again: nothing else changes.
  assert.equal((await patchSite(site, { retention_days: null })).json.site.files.retention_days, undefined);
});

test('the scan hook decides before a file becomes visible; the disk backend keeps bytes under PARLEY_DATA_DIR', async () => {
  const scanned = await fx.startNode({
    env: { PARLEY_UPLOAD_SCAN_CMD: '! grep -q EICAR-STANDARD-ANTIVIRUS-TEST-FILE', PARLEY_UPLOAD_STORAGE: 'disk' },
  });
  const { v, cid } = await visitorChat();
  const clean = await upload(scanned, { token: v.token, conversationId: cid, name: 'clean.txt', body: Buffer.from('all good\n') });
  assert.equal(clean.status, 201, clean.body);
  const onDisk = path.join(scanned.dataDir, 'files', clean.json.file.id.slice(0, 2), clean.json.file.id);
  assert.equal(fs.readFileSync(onDisk, 'utf8'), 'all good\n');
  assert.equal((await download(scanned, clean.json.file.url, { token: v.token })).body, 'all good\n');

  const eicar = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n');
  const bad = await upload(scanned, { token: v.token, conversationId: cid, name: 'eicar.txt', body: eicar });
  assertProblem(bad, 422, 'file_rejected');
  const row = (await fx.pg.query("SELECT id, state FROM files WHERE conversation_id = $1 AND name = 'eicar.txt'", [cid])).rows[0];
  assert.equal(row.state, 'rejected');
  assert.ok(!fs.existsSync(path.join(scanned.dataDir, 'files', row.id.slice(0, 2), row.id)), 'its bytes are gone');
  assertProblem(await download(scanned, `/api/files/${row.id}`, { token: v.token }), 404, 'not_found');
  await assert.rejects(sendWithFiles(v, cid, [row.id]), (e) => /file_invalid/.test(JSON.stringify(e)));
});
