'use strict';
// Files that carry script are served so that it never runs on the server's
// origin. An SVG with <script> and an onload handler, and an HTML page
// uploaded under a harmless name, are opened in Chromium every way a
// browser can meet them: navigated to directly (with the agent's cookie,
// and through a visitor's signed link), framed in an <iframe> and shown in
// an <img> on a same-origin page. Their scripts would call a loopback
// listener and set a marker; neither ever happens (while the same SVG
// served plainly by the listener does run: the payload works). The
// response headers say why: nosniff, a sandboxing CSP, attachment.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectAgent, agentSession } = require('../helpers/fixtures');
const { request } = require('../helpers/http');
const { visitorWithAgent } = require('../helpers/visitors');
const { png, uploadAs, startListener } = require('../helpers/attachments');

const fx = suite({ browser: true });
const { test } = fx;

let spy;
let agentCookie;
let files; // name -> File
let visitorToken;

function svgPayload(url) {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" onload="fetch('${url('/svg-onload')}');document.title='pwned'">` +
    '<rect width="120" height="80" fill="#0f766e"/>' +
    `<script>fetch('${url('/svg-script')}');document.title='pwned';parent.postMessage('pwned','*')</script>` +
    '</svg>\n'
  );
}

function htmlPayload(url) {
  return (
    '<!doctype html><html><head><title>safe</title></head><body><h1>Invoice</h1>' +
    `<script>fetch('${url('/html-script')}');document.title='pwned';parent.postMessage('pwned','*')</script>` +
    `<img src="x" onerror="fetch('${url('/html-onerror')}')">` +
    '</body></html>\n'
  );
}

fx.setup(async () => {
  spy = await startListener();
  const team = await createTeam(fx.pg, 'Serving');
  const admin = await createAgent(fx.pg, { name: 'Sid Admin', role: 'admin', teams: [team], maxChats: 20 });
  const site = await createSite(fx.pg, { name: 'Serving Shop', teamId: team, origins: ['https://serving.example'] });
  const session = await agentSession(fx.srv, admin);
  agentCookie = session.cookie;

  // The site accepts SVG and any other file, so that these uploads go through.
  const got = await request(fx.srv, { path: '/api/sites', headers: { Cookie: `parley_session=${agentCookie}` } });
  const types = got.json.sites.find((s) => s.id === site.id).files.types;
  const res = await request(fx.srv, {
    method: 'PATCH',
    path: `/api/sites/${site.id}`,
    headers: { Cookie: `parley_session=${agentCookie}`, 'X-CSRF-Token': session.csrf, Origin: fx.srv.origin },
    json: { files: { types: [...new Set([...types, 'image/svg+xml', 'application/octet-stream'])] } },
  });
  assert.equal(res.status, 200, res.body);

  const v = await visitorWithAgent(fx.srv, site);
  visitorToken = v.token;
  const cid = (await v.ack({ type: 'conversation.start' })).conversation.id;
  const ws = await connectAgent(fx.srv, admin, { status: 'away' });
  await ws.ack({ type: 'conversation.accept', conversation_id: cid });

  files = {};
  files.svg = await uploadAs(fx.srv, { token: v.token }, cid, 'logo.svg', Buffer.from(svgPayload(spy.url)));
  files.html = await uploadAs(fx.srv, { token: v.token }, cid, 'invoice.txt', Buffer.from(htmlPayload(spy.url)));
  files.png = await uploadAs(fx.srv, { token: v.token }, cid, 'photo.png', png(60, 40));
  await v.ack({
    type: 'message.send',
    conversation_id: cid,
    client_msg_id: 'serving-1',
    body: 'files',
    attachments: [files.svg.id, files.html.id, files.png.id],
  });
  // The control: the same SVG from the listener's own origin runs.
  spy.serve('/control.svg', 'image/svg+xml', svgPayload(spy.url));
  spy.serve('/blank', 'text/html', '<!doctype html><title>blank</title>');
  spy.serve(
    '/control-frame.html',
    'text/html',
    '<!doctype html><title>control</title><script>addEventListener("message", (e) => { document.title = "got " + e.data; });</script>' +
      '<iframe src="/control.svg"></iframe>',
  );
  fx.teardown(() => spy.close());
});

/** A browser context with the agent's session cookie. */
async function agentContext(browser) {
  const context = await browser.newContext();
  await context.addCookies([{ name: 'parley_session', value: agentCookie, url: fx.srv.origin }]);
  return context;
}

/** Navigates to a file's address: resolves { download } (null when the page rendered instead). */
async function navigate(page, url) {
  const downloading = page.waitForEvent('download', { timeout: 10000 }).catch(() => null);
  const failed = await page.goto(url).then(
    () => null,
    (e) => e,
  );
  return { download: failed ? await downloading : null };
}

test('the payload works where nothing protects it (control)', async () => {
  const context = await fx.browser.newContext();
  const page = await context.newPage();
  const before = spy.hits.length;
  await page.goto(spy.url('/control.svg'));
  await page.waitForFunction(() => document.title === 'pwned');
  await waitHits((h) => h.slice(before).includes('/svg-script'));
  await context.close();
});

async function waitHits(pred) {
  const deadline = Date.now() + 10000;
  while (!pred(spy.hits)) {
    if (Date.now() > deadline) throw new Error(`listener hits: ${JSON.stringify(spy.hits)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Since spy.hits[since]: after the browser has done everything it will do with a page (a request
 * to the listener sent last, after the page's own work, arrives after
 * anything the page's scripts would have sent), no script request arrived.
 */
async function assertNoScriptRan(page, what, since) {
  const mark = `/barrier-${Date.now()}-${Math.random().toString(16).slice(2)}`;
  // The barrier goes through the same browser (its network service), after
  // everything the page did.
  const other = await page.context().newPage();
  await other.goto(spy.url('/blank'));
  await other.evaluate((m) => fetch(m), mark);
  await other.close();
  await waitHits((h) => h.includes(mark));
  const ran = spy.hits.slice(since).filter((h) => /^\/(svg-onload|svg-script|html-script|html-onerror)/.test(h));
  assert.deepEqual(ran, [], `${what}: script ran`);
  if (page) assert.notEqual(await page.title().catch(() => ''), 'pwned', `${what}: the marker was set`);
}

test('served SVG and HTML-ish files carry nosniff, a sandboxing CSP and attachment', async () => {
  for (const key of ['svg', 'html']) {
    const res = await request(fx.srv, { path: files[key].url, headers: { Cookie: `parley_session=${agentCookie}` } });
    assert.equal(res.status, 200, `${key}: ${res.status}`);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', key);
    const csp = String(res.headers['content-security-policy'] || '');
    assert.match(csp, /(^|;)\s*sandbox\b/, `${key}: CSP ${csp}`);
    assert.match(String(res.headers['content-disposition'] || ''), /^attachment\b/, key);
    assert.equal(res.headers['content-type'], 'application/octet-stream', `${key}: served as bytes, not markup`);
  }
  assert.equal(files.svg.type, 'image/svg+xml');
  // A raster image is inline, still nosniff.
  const img = await request(fx.srv, { path: files.png.url, headers: { Cookie: `parley_session=${agentCookie}` } });
  assert.equal(img.status, 200);
  assert.equal(img.headers['x-content-type-options'], 'nosniff');
  assert.doesNotMatch(String(img.headers['content-disposition'] || ''), /^attachment/);
  // ?download=true makes an image an attachment too.
  const dl = await request(fx.srv, { path: `${files.png.url}?download=true`, headers: { Cookie: `parley_session=${agentCookie}` } });
  assert.equal(dl.status, 200);
  assert.match(String(dl.headers['content-disposition'] || ''), /^attachment\b/);
});

test('navigating to the files (cookie, and a visitor signed link) runs no script', { timeout: 60000 }, async () => {
  const context = await agentContext(fx.browser);
  const page = await context.newPage();
  for (const key of ['svg', 'html']) {
    const since = spy.hits.length;
    const r = await navigate(page, `${fx.srv.origin}${files[key].url}`);
    assert.ok(r.download, `${key}: navigating to it downloads it`);
    await assertNoScriptRan(page, `navigate to ${key}`, since);
  }
  await context.close();

  // A visitor's signed link, opened by anyone with no credentials.
  const anon = await fx.browser.newContext();
  const p2 = await anon.newPage();
  for (const key of ['svg', 'html']) {
    const res = await request(fx.srv, { path: `${files[key].url}/link`, headers: { Authorization: `Bearer ${visitorToken}` } });
    assert.equal(res.status, 200, res.body);
    assert.match(res.json.url, /^\/api\/files\/[0-9a-f]{32}\?/);
    const since = spy.hits.length;
    const r = await navigate(p2, `${fx.srv.origin}${res.json.url}`);
    assert.ok(r.download, `${key} link: downloads`);
    await assertNoScriptRan(p2, `navigate to ${key} signed link`, since);
  }
  await anon.close();
});

test('framing the files in an <iframe> and showing them in an <img> on a same-origin page runs no script', { timeout: 60000 }, async () => {
  // Control: the same SVG, framed by a page of the listener's own origin, runs and posts to its parent.
  const control = await fx.browser.newContext();
  const cp = await control.newPage();
  await cp.goto(spy.url('/control-frame.html'));
  await cp.waitForFunction(() => document.title === 'got pwned');
  await control.close();

  const context = await agentContext(fx.browser);
  const page = await context.newPage();
  // A same-origin page of the server (the console's), then our frames in it.
  await page.goto(`${fx.srv.origin}/console/`);
  await page.evaluate(() => {
    window.__messages = [];
    window.addEventListener('message', (e) => window.__messages.push(String(e.data)));
  });
  const since = spy.hits.length;
  const loaded = await page.evaluate(
    (urls) =>
      Promise.all(
        urls.flatMap((u) => [
          new Promise((resolve) => {
            const f = document.createElement('iframe');
            f.src = u;
            f.onload = () => resolve(`iframe ${u} load`);
            f.onerror = () => resolve(`iframe ${u} error`);
            setTimeout(() => resolve(`iframe ${u} no event`), 3000);
            document.body.appendChild(f);
          }),
          new Promise((resolve) => {
            const i = new Image();
            i.onload = () => resolve(`img ${u} load ${i.naturalWidth}`);
            i.onerror = () => resolve(`img ${u} error`);
            i.src = u;
            document.body.appendChild(i);
          }),
        ]),
      ),
    [files.svg.url, files.html.url, `${files.svg.url}?download=true`],
  );
  assert.equal(loaded.length, 6);
  // Served as bytes (application/octet-stream, nosniff), the SVG is not even a picture.
  assert.ok(
    loaded.some((l) => l === `img ${files.svg.url} error`),
    loaded.join('\n'),
  );
  await assertNoScriptRan(page, 'iframe and img', since);
  assert.deepEqual(await page.evaluate(() => window.__messages), [], 'a frame posted a message');
  await context.close();
});
