'use strict';
// Files in the widget, end to end in Chromium against a real parleyd (issue
// 11): attaching by the button, by drag and drop and by pasting an image;
// upload progress and cancel; image previews sized before they load; file
// cards that download; files refused before uploading (too big, refused
// type) and by the server; the attach button hidden when the site turns
// visitor uploads off; the agent receiving the attachments; and screenshots
// of every new view in English and Chinese, desktop and phone.

const assert = require('node:assert/strict');
const fs = require('node:fs');

const { createAgent, connectAgent, agentSession, waitFor } = require('../helpers/fixtures');
const { request, login } = require('../helpers/http');
const { upload, pngBytes } = require('../helpers/files');
const { widgetSuite, openWidget, screenshot, cspViolations } = require('../helpers/widget');

const stack = widgetSuite({ settings: { color: '#0f766e' } });
const { test } = stack;

let ann;
let agent;
let asAdmin;
let defaults; // the site's files settings before any test changed them

stack.setup(async () => {
  ann = await createAgent(stack.pg, { name: 'Ann Lee', teams: [stack.team], maxChats: 50 });
  agent = await connectAgent(stack.srv, ann, { status: 'online' });
  const admin = await createAgent(stack.pg, { name: 'Ada Admin', role: 'admin' });
  const s = await login(stack.srv, admin.email, admin.password);
  assert.equal(s.res.status, 200, s.res.body);
  asAdmin = (method, path, json) => request(stack.srv, { method, path, json, jar: s.jar, origin: stack.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
  defaults = await siteFiles({});
});

/** PATCH the site's files settings (admin API); resolves the site's files settings. */
async function siteFiles(files) {
  const r = await asAdmin('PATCH', `/api/sites/${stack.site.id}`, { files });
  assert.equal(r.status, 200, `PATCH /api/sites/${stack.site.id}: ${r.body}`);
  return r.json.site.files;
}

const restoreFiles = () => siteFiles({ max_bytes: defaults.max_bytes, types: defaults.types, visitor_uploads: true, retention_days: null });

// ---- test files ----
/** A w×h PNG: a sky-to-grass gradient (something to look at in the screenshots). */
const png = (w, h) =>
  pngBytes(w, h, (x, y) => {
    const t = y / h;
    return t < 0.62 ? [90 + 100 * t, 160 + 60 * t, 235] : [70, 140 - 40 * t, 60];
  });

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

// ---- helpers ----
let chats = 0;

/**
 * A visitor on the host page who started a conversation (the agent got its
 * first message). Options: locale, viewport. Resolves { page, frame, cid }.
 */
async function chat({ locale = 'en-US', viewport } = {}) {
  const ctx = await stack.newContext({ locale, ...(viewport ? { viewport } : {}) });
  const page = await stack.newPage({}, { ctx });
  const frame = await openWidget(page);
  const first = `Hello, a question about my order (${++chats})`;
  await frame.locator('#pw-first').fill(first);
  await frame.locator('.pw-form button[type=submit]').click();
  const ev = await agent.next((m) => m.type === 'message.created' && m.message.body === first, 15000, `the first message of chat ${chats}`);
  await frame.locator('#pw-text').waitFor();
  return { page, frame, cid: ev.message.conversation_id };
}

/** The message.created at the agent that carries a file named name in conversation cid. */
function agentGetsFile(cid, name) {
  return agent.next(
    (m) => m.type === 'message.created' && m.message.conversation_id === cid && (m.message.attachments || []).some((a) => a.name === name),
    20000,
    `${name} at the agent`,
  );
}

/** Every upload request (POST /api/files) the pages of a context make. */
function watchUploads(page) {
  const seen = [];
  page.context().on('request', (r) => {
    if (r.method() === 'POST' && /\/api\/files\?/.test(r.url())) seen.push(r.url());
  });
  return seen;
}

/**
 * Slows the frame's uploads down to bytesPerSecond (DevTools network
 * emulation on the frame's own target when it runs out of process).
 * Resolves a function that lifts the limit.
 */
async function throttleUploads(page, frame, bytesPerSecond) {
  let cdp;
  try {
    cdp = await page.context().newCDPSession(frame);
  } catch {
    cdp = await page.context().newCDPSession(page);
  }
  await cdp.send('Network.enable');
  const set = (up) => cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: up });
  await set(bytesPerSecond);
  return async () => {
    await set(-1);
    await cdp.detach().catch(() => {});
  };
}

/** Drag files (built in the page from [{name, type, text}]) over the chat, then drop them (unless drop is false). */
async function dragFiles(frame, files, { drop = true } = {}) {
  await frame.evaluate(
    ({ files: list, drop: andDrop }) => {
      const dt = new DataTransfer();
      for (const f of list) dt.items.add(new File([f.text], f.name, { type: f.type }));
      const target = document.querySelector('.pw-list');
      const fire = (type) => target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      fire('dragenter');
      fire('dragover');
      window.__drop = () => fire('drop');
      if (andDrop) window.__drop();
    },
    { files, drop },
  );
}

/** Paste an image file (PNG bytes) into the message box, as a screenshot paste does. */
async function pasteImage(frame, bytes, name = 'image.png') {
  await frame.evaluate(
    ({ b64, n }) => {
      const bin = atob(b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([arr], n, { type: 'image/png' }));
      const box = document.getElementById('pw-text');
      box.focus();
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    },
    { b64: bytes.toString('base64'), n: name },
  );
}

/** An upload by the agent (session cookie + CSRF), then a message carrying it; resolves the message. */
async function agentSendsFile(cid, name, bytes, body) {
  const r = await upload(stack.srv, { session: await agentSession(stack.srv, ann), conversationId: cid, name, body: bytes });
  assert.equal(r.status, 201, `agent upload: ${r.body}`);
  const ack = await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: `ann-${r.json.file.id}`, body, attachments: [r.json.file.id] });
  return ack.message;
}

// ---- the tests ----

test('attach by the button: the image reaches the agent; its preview has its box (stored size, scaled) before it loads, and opens full size', async () => {
  const { page, frame, cid } = await chat();
  const button = frame.getByRole('button', { name: 'Attach files' });
  assert.ok(await button.isVisible(), 'the composer has an attach button');
  assert.equal(await button.getAttribute('title'), 'Attach files');

  // The image itself (its signed link) is held until the box is measured.
  let release;
  const held = new Promise((r) => {
    release = r;
  });
  const IMAGE = /\/api\/files\/[0-9a-f]{32}\?/;
  await page.context().route(IMAGE, async (route) => {
    await held;
    await route.continue();
  });

  await frame.locator('#pw-file').setInputFiles({ name: 'trail map.png', mimeType: 'image/png', buffer: png(640, 480) });
  const ev = await agentGetsFile(cid, 'trail map.png');
  assert.equal(ev.message.body, '');
  const f = ev.message.attachments[0];
  assert.match(f.id, /^[0-9a-f]{32}$/);
  assert.equal(f.type, 'image/png');
  assert.equal(f.width, 640);
  assert.equal(f.height, 480);

  const img = frame.locator('.pw-mine .pw-img img');
  await waitFor(async () => (await img.count()) === 1 && (await img.getAttribute('src')), { what: 'the preview with its signed src', timeoutMs: 15000 });
  assert.match(await img.getAttribute('src'), /^\/api\/files\/[0-9a-f]{32}\?/);
  const measure = () =>
    img.evaluate((i) => {
      const r = i.getBoundingClientRect();
      return { w: Math.round(r.width), h: Math.round(r.height), natural: i.naturalWidth, done: i.complete };
    });
  const before = await measure();
  assert.deepEqual(before, { w: 240, h: 180, natural: 0, done: false }, 'not loaded yet, already 240×180 (640×480 scaled)');
  assert.equal(await img.getAttribute('alt'), 'trail map.png');

  release();
  await waitFor(async () => (await measure()).natural === 640, { what: 'the image to load', timeoutMs: 15000 });
  const after = await measure();
  assert.equal(after.w, 240);
  assert.equal(after.h, 180, 'no jump when it loads');
  await page.context().unroute(IMAGE);

  // The pending row went: the stored message replaced it.
  assert.equal(await frame.locator('.pw-pending').count(), 0);
  assert.equal(await frame.locator('.pw-up').count(), 0);

  // Clicking the preview opens the full image (signed link) in a new tab.
  const [popup] = await Promise.all([page.context().waitForEvent('page'), frame.locator('.pw-img').click()]);
  await popup.waitForLoadState();
  assert.match(popup.url(), /\/api\/files\/[0-9a-f]{32}\?/);
  const natural = await popup.evaluate(() => document.images[0] && document.images[0].naturalWidth);
  assert.equal(natural, 640);
  await popup.close();
  assert.deepEqual(cspViolations(page), []);
});

test('a file that is not an image is a card (name, type, size) that downloads when clicked', async () => {
  const { page, frame, cid } = await chat();
  await frame.locator('#pw-file').setInputFiles({ name: 'invoice 1042.pdf', mimeType: 'application/pdf', buffer: PDF });
  const ev = await agentGetsFile(cid, 'invoice 1042.pdf');
  assert.equal(ev.message.attachments[0].type, 'application/pdf');
  assert.equal(ev.message.attachments[0].size, PDF.length);

  const card = frame.locator('.pw-mine button.pw-file', { hasText: 'invoice 1042.pdf' });
  await card.waitFor();
  assert.equal(await card.locator('.pw-file-meta').textContent(), `PDF · ${PDF.length} B`);
  assert.equal(await card.locator('bdi').getAttribute('dir'), 'auto');
  assert.equal(await card.getAttribute('title'), 'Download');

  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), card.click()]);
  assert.equal(download.suggestedFilename(), 'invoice 1042.pdf');
  assert.match(download.url(), /\/api\/files\/[0-9a-f]{32}\?/);
  assert.deepEqual(fs.readFileSync(await download.path()), PDF, 'the downloaded bytes are the uploaded ones');
});

test('drag and drop: an overlay shows while files are over the chat; dropped files are sent, each as its own message', async () => {
  const { frame, cid } = await chat();
  await dragFiles(
    frame,
    [
      { name: 'notes.txt', type: 'text/plain', text: 'Size 42, colour blue.\n' },
      { name: 'order.csv', type: 'text/csv', text: 'sku,qty\nTR-2,1\n' },
    ],
    { drop: false },
  );
  const overlay = frame.locator('.pw-drop');
  await overlay.waitFor();
  assert.equal(await overlay.textContent(), 'Drop files here to send them');
  await frame.evaluate(() => window.__drop());
  await overlay.waitFor({ state: 'detached' });

  const a = await agentGetsFile(cid, 'notes.txt');
  const b = await agentGetsFile(cid, 'order.csv');
  assert.equal(a.message.attachments.length, 1);
  assert.equal(b.message.attachments.length, 1);
  assert.notEqual(a.message.id, b.message.id);
  assert.equal(a.message.attachments[0].type, 'text/plain');
  await frame.locator('.pw-mine .pw-file', { hasText: 'notes.txt' }).waitFor();
  await frame.locator('.pw-mine .pw-file', { hasText: 'order.csv' }).waitFor();
});

test('paste an image into the message box: it is sent as pasted-image.png; pasted text stays text', async () => {
  const { frame, cid } = await chat();
  await pasteImage(frame, png(320, 200));
  const ev = await agentGetsFile(cid, 'pasted-image.png');
  assert.equal(ev.message.attachments[0].width, 320);
  await frame.locator('.pw-mine .pw-img img[width="240"][height="150"]').waitFor();
  assert.equal(await frame.locator('#pw-text').inputValue(), '', 'the box did not get the image as text');

  // Text with a picture beside it (what spreadsheets copy) is pasted as text.
  const uploads = watchUploads(frame.page());
  await frame.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData('text/plain', 'A1 B1');
    dt.items.add(new File(['x'], 'image.png', { type: 'image/png' }));
    const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
    document.getElementById('pw-text').dispatchEvent(ev);
    window.__pasteDefaultPrevented = ev.defaultPrevented;
  });
  assert.equal(await frame.evaluate(() => window.__pasteDefaultPrevented), false);
  assert.equal(await frame.locator('.pw-up').count(), 0);
  assert.deepEqual(uploads, []);
});

test('progress and cancel: a big upload shows a bar and a percentage; cancel aborts it, removes it, and nothing is posted', async () => {
  const { page, frame, cid } = await chat();
  const uploads = watchUploads(page);
  const unthrottle = await throttleUploads(page, frame, 256 * 1024);
  try {
    await frame.locator('#pw-file').setInputFiles({ name: 'big log.txt', mimeType: 'text/plain', buffer: Buffer.alloc(6 * 1024 * 1024, 'log line\n') });
    const row = frame.locator('.pw-up[data-state=uploading]');
    await row.waitFor();
    await waitFor(
      async () => {
        const v = Number(await row.locator('progress').getAttribute('value'));
        return v > 0 && v < 100;
      },
      { what: 'upload progress between 0 and 100 %', timeoutMs: 20000 },
    );
    const meta = await row.locator('.pw-file-meta').textContent();
    assert.match(meta, /^6 MB · ([1-9]|[1-9]\d)%$/);
    await row.getByRole('button', { name: 'Cancel upload' }).click();
    await row.waitFor({ state: 'detached' });
  } finally {
    await unthrottle();
  }
  assert.equal(uploads.length, 1, 'one upload was started');
  // The server keeps nothing of it, and no message carries it.
  await waitFor(
    async () => (await stack.pg.query("SELECT count(*)::int AS n FROM files WHERE conversation_id = $1 AND state <> 'pending'", [cid])).rows[0].n === 0,
    {
      what: 'no stored file',
    },
  );
  await frame.locator('#pw-text').fill('still there?');
  await frame.locator('#pw-text').press('Enter');
  await agent.next((m) => m.type === 'message.created' && m.message.body === 'still there?', 15000, 'the text after the cancel');
  assert.ok(!agent.log.some((m) => m.type === 'message.created' && m.message.conversation_id === cid && m.message.attachments), 'no attachment was posted');
  await waitFor(async () => (await stack.pg.query('SELECT count(*)::int AS n FROM files WHERE conversation_id = $1', [cid])).rows[0].n === 0, {
    what: 'the partial upload deleted',
    timeoutMs: 15000,
  });
});

test('a file message still in the outbox (uploaded, not acknowledged) survives a reload and is sent with its attachment', async () => {
  const { page, cid } = await chat();
  const key = `parley:${stack.site.key}`;
  const token = await page.evaluate((k) => JSON.parse(localStorage.getItem(k)).t, key);
  const r = await upload(stack.srv, { token, conversationId: cid, name: 'kept.pdf', body: PDF });
  assert.equal(r.status, 201, r.body);
  // As if the page went away between the upload and the message's ack:
  // the outbox the widget keeps in the page's storage holds the message.
  const ctx = page.context();
  await page.close();
  const item = { cmid: 'w-kept-0001', body: '', at: Date.now(), files: [r.json.file] };
  await ctx.addInitScript(
    ({ k, it, origin }) => {
      if (location.origin !== origin) return;
      const st = JSON.parse(localStorage.getItem(k));
      localStorage.setItem(k, JSON.stringify({ ...st, o: [it] }));
    },
    { k: key, it: item, origin: stack.host.origin },
  );
  const again = await stack.newPage({}, { ctx });
  const ev = await agentGetsFile(cid, 'kept.pdf');
  assert.equal(ev.message.client_msg_id, item.cmid);
  assert.equal(ev.message.attachments[0].id, r.json.file.id);
  const f = await openWidget(again);
  await f.locator('.pw-mine button.pw-file', { hasText: 'kept.pdf' }).waitFor();
  assert.equal(await f.locator('.pw-pending').count(), 0);
});

test('refused before uploading (too big, refused type) and by the server (413, 415), with the reason shown', async () => {
  try {
    // The page loads with a 1 MB limit, then the site lowers it to 1 KB: the
    // browser lets a 5 KB file go, the server refuses it.
    await siteFiles({ max_bytes: 1024 * 1024 });
    const one = await chat();
    await siteFiles({ max_bytes: 1024, types: ['image/png', 'application/pdf'] });
    await one.frame.locator('#pw-file').setInputFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([PDF, Buffer.alloc(5000, 32)]) });
    const err = one.frame.locator('.pw-up[data-state=error]', { hasText: 'scan.pdf' });
    await err.waitFor({ timeout: 15000 });
    assert.equal(await err.locator('[role=alert]').textContent(), 'Too large: files can be up to 1 KB');
    // A text file: the browser cannot tell, the server sniffs it and refuses the type.
    await one.frame.locator('#pw-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    const err2 = one.frame.locator('.pw-up[data-state=error]', { hasText: 'notes.txt' });
    await err2.waitFor({ timeout: 15000 });
    assert.equal(await err2.locator('[role=alert]').textContent(), 'This type of file cannot be sent');
    // Dismissed, they go.
    await err.getByRole('button', { name: 'Dismiss' }).click();
    await err.waitFor({ state: 'detached' });

    // A page that knows the limits refuses before uploading anything.
    const two = await chat();
    const uploads = watchUploads(two.page);
    await two.frame.locator('#pw-file').setInputFiles([
      { name: 'photo.png', mimeType: 'image/png', buffer: Buffer.concat([png(20, 20), Buffer.alloc(2000)]) },
      { name: 'page.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') },
    ]);
    const big = two.frame.locator('.pw-up[data-state=error]', { hasText: 'photo.png' });
    await big.waitFor();
    assert.equal(await big.locator('[role=alert]').textContent(), 'Too large: files can be up to 1 KB');
    const type = two.frame.locator('.pw-up[data-state=error]', { hasText: 'page.gif' });
    assert.equal(await type.locator('[role=alert]').textContent(), 'This type of file cannot be sent');
    assert.deepEqual(uploads, [], 'nothing was uploaded');
  } finally {
    await restoreFiles();
  }
});

test('visitor uploads off: no attach button, drops and pastes are ignored', async () => {
  try {
    await siteFiles({ visitor_uploads: false });
    const { page, frame } = await chat();
    const uploads = watchUploads(page);
    assert.equal(await frame.getByRole('button', { name: 'Attach files' }).count(), 0);
    assert.equal(await frame.locator('input[type=file]').count(), 0);
    await dragFiles(frame, [{ name: 'notes.txt', type: 'text/plain', text: 'x' }]);
    await pasteImage(frame, png(10, 10));
    assert.equal(await frame.locator('.pw-drop').count(), 0);
    assert.equal(await frame.locator('.pw-up').count(), 0);
    assert.deepEqual(uploads, []);
    // The frame was not replaced by the dropped file.
    assert.match(frame.url(), /\/widget\/frame\.html/);
  } finally {
    await restoreFiles();
  }
});

// The new views, in both languages, desktop (1280×800) and phone (390×844):
// an image and a file card from the visitor, an image with text from the
// agent, a removed file, a file refused before uploading and one uploading.
const VIEWS = [
  { locale: 'en-US', lang: 'en', viewport: { width: 1280, height: 800 }, name: 'desktop' },
  { locale: 'en-US', lang: 'en', viewport: { width: 390, height: 844 }, name: 'phone' },
  { locale: 'zh-CN', lang: 'zh-CN', viewport: { width: 1280, height: 800 }, name: 'desktop' },
  { locale: 'zh-CN', lang: 'zh-CN', viewport: { width: 390, height: 844 }, name: 'phone' },
];
const TEXT = {
  en: { removed: 'File removed', tooBig: 'Too large: files can be up to 5 MB', drop: 'Drop files here to send them', attach: 'Attach files' },
  'zh-CN': { removed: '文件已删除', tooBig: '文件太大：上限为 5 MB', drop: '将文件拖放到此处即可发送', attach: '发送文件' },
};

for (const v of VIEWS) {
  test(`screenshots (${v.lang}, ${v.viewport.width}×${v.viewport.height}): images, file cards, a removed file, refused and uploading files, the drop overlay`, async () => {
    await siteFiles({ max_bytes: 5 * 1024 * 1024 });
    try {
      const { page, frame, cid } = await chat({ locale: v.locale, viewport: v.viewport });
      const tx = TEXT[v.lang];
      await frame.getByRole('button', { name: tx.attach }).waitFor();

      // An old receipt whose file the retention period removed.
      await frame.locator('#pw-file').setInputFiles({ name: 'receipt-2023-11.pdf', mimeType: 'application/pdf', buffer: PDF });
      const old = await agentGetsFile(cid, 'receipt-2023-11.pdf');
      // (sent 400 days ago; the site keeps files for a year; the sweeper's expiry runs)
      await siteFiles({ retention_days: 365 });
      await stack.pg.query("UPDATE files SET attached_at = now() - interval '400 days' WHERE id = $1", [old.message.attachments[0].id]);
      await stack.pg.query('SELECT * FROM parley_files_expire(10)');
      await frame.locator('#pw-file').setInputFiles({ name: 'boots-on-the-trail.png', mimeType: 'image/png', buffer: png(640, 480) });
      await agentGetsFile(cid, 'boots-on-the-trail.png');
      await frame.locator('#pw-file').setInputFiles({ name: 'Order confirmation A-1042 (signed copy).pdf', mimeType: 'application/pdf', buffer: PDF });
      await agentGetsFile(cid, 'Order confirmation A-1042 (signed copy).pdf');
      await agentSendsFile(cid, 'size-chart.png', png(480, 640), 'Here is our size chart: the Trail Runner 2 fits half a size small.');

      // Reload: the history comes from the server (the removed file as such).
      await page.reload();
      const f = await openWidget(page);
      await f.locator('.pw-gone', { hasText: tx.removed }).waitFor({ timeout: 15000 });
      await f.locator('.pw-theirs .pw-img img').waitFor();
      await waitFor(() => f.evaluate(() => Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)), {
        what: 'the previews loaded',
        timeoutMs: 15000,
      });

      // Refused before uploading, and one on its way (slowed down).
      await f.locator('#pw-file').setInputFiles({ name: 'holiday video.mov', mimeType: 'video/quicktime', buffer: Buffer.alloc(5 * 1024 * 1024 + 1) });
      await f.locator('.pw-up[data-state=error]', { hasText: tx.tooBig }).waitFor();
      const unthrottle = await throttleUploads(page, f, 200 * 1024);
      try {
        await f.locator('#pw-file').setInputFiles({
          name: 'photos.zip',
          mimeType: 'application/zip',
          buffer: Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(3 * 1000 * 1000)]),
        });
        const up = f.locator('.pw-up[data-state=uploading]');
        await waitFor(async () => Number(await up.locator('progress').getAttribute('value')) >= 5, { what: 'some progress', timeoutMs: 20000 });
        await f.locator('.pw-list').evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
        await screenshot(page, `files-chat-${v.name}-${v.lang}`);
        await up.getByRole('button').click();
      } finally {
        await unthrottle();
      }
      await f.locator('.pw-list').evaluate((el) => {
        el.scrollTop = 0;
      });
      await screenshot(page, `files-history-${v.name}-${v.lang}`);

      await dragFiles(f, [{ name: 'a.txt', type: 'text/plain', text: 'a' }], { drop: false });
      await f.locator('.pw-drop', { hasText: tx.drop }).waitFor();
      await screenshot(page, `files-drop-${v.name}-${v.lang}`);
      assert.deepEqual(cspViolations(page), []);
      await page.context().close();
    } finally {
      await restoreFiles();
    }
  });
}
