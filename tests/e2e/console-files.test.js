'use strict';
// Files in the agent console, end to end in Chromium against a real parleyd:
// attaching by the paperclip button, by dropping files on the conversation
// and by pasting an image, with upload progress, cancel and clear errors;
// image previews sized before they load and the zoom view; file cards that
// download; a note's file that the visitor never receives nor downloads; a
// visitor's file in the thread and in the visitor panel's Files list; an
// admin's file settings for a site; and screenshots of every new view.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectAgent, agentSession, sendMessage, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, screenshotPairs } = require('../helpers/browser');
const { request } = require('../helpers/http');
const { UA, visitorWithAgent } = require('../helpers/visitors');
const { png, uploadAs } = require('../helpers/attachments');
const { pdfBytes: pdf } = require('../helpers/files');

const fx = suite({ browser: 'console' });
const { test } = fx;

let team;
let site;
let ann; // the agent who answers
let ada; // an admin
let annWs; // Ann's socket from node: accepts the chats the tests start

fx.setup(async () => {
  team = await createTeam(fx.pg, 'Front desk');
  ann = await createAgent(fx.pg, { name: 'Ann Archer', teams: [team], maxChats: 50 });
  ada = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin', teams: [team], maxChats: 50 });
  site = await createSite(fx.pg, { name: 'Northwind Coffee', teamId: team, origins: ['https://northwind.example'] });
  annWs = await connectAgent(fx.srv, ann, { status: 'away' });
});

/** A visitor's chat, accepted by Ann: { v (the visitor's socket), cid }. */
async function chatWith(name, first = `Hello, this is ${name}.`) {
  const v = await visitorWithAgent(fx.srv, site, { userAgent: UA.macSafari });
  const cid = (await v.ack({ type: 'conversation.start', prechat: { name } })).conversation.id;
  await sendMessage(v, cid, first);
  await annWs.ack({ type: 'conversation.accept', conversation_id: cid });
  return { v, cid };
}

/** Ann's console, logged in. */
async function annConsole(opts = {}) {
  const C = await openConsole(fx.browser, fx.srv, opts);
  await loginUI(C.page, ann);
  return C;
}

/** Opens a conversation of Mine by its address and waits for its composer. */
async function openConv(page, cid) {
  await page.evaluate((id) => {
    location.hash = `#/mine/${id}`;
  }, cid);
  await page.waitForSelector(`[data-testid=conversation][data-id="${cid}"] [data-testid=composer-input]`);
}

/** A message.created frame on a visitor socket carrying a file of that name. */
const withFile = (cid, name) => (m) =>
  m.type === 'message.created' &&
  m.message &&
  m.message.conversation_id === cid &&
  Array.isArray(m.message.attachments) &&
  m.message.attachments.some((f) => f.name === name);

/** Slows the page's uploads down (Chromium's network emulation) so that progress can be seen; returns undo(). */
async function throttleUploads(page, bytesPerSecond) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return async () => {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  };
}

/** The image box fitted into 300 x 220 (agent-console/src/lib/filetypes.js fitBox). */
function fitted(w, h) {
  const s = Math.min(1, 300 / w, 220 / h);
  return { w: Math.round(w * s), h: Math.round(h * s) };
}

/** Builds a DataTransfer holding one file in the page and fires drag events with it at the thread. */
async function dragFileOver(page, { name, type, bytes }) {
  await page.evaluate(
    ({ name: n, type: t, b64 }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], n, { type: t }));
      window.__dropData = dt;
      const target = document.querySelector('[data-testid=conversation] .thread');
      target.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: dt }));
      target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
    },
    { name, type, b64: bytes.toString('base64') },
  );
}

async function dropIt(page) {
  await page.evaluate(() => {
    const target = document.querySelector('[data-testid=conversation] .thread');
    target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: window.__dropData }));
  });
}

/** Fires a paste of one file (as a screenshot tool puts it on the clipboard) at the composer. */
async function pasteFile(page, { name, type, bytes }) {
  return page.evaluate(
    ({ name: n, type: t, b64 }) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], n, { type: t }));
      const input = document.querySelector('[data-testid=composer-input]');
      input.focus();
      const e = new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt });
      input.dispatchEvent(e);
      return e.defaultPrevented;
    },
    { name, type, b64: bytes.toString('base64') },
  );
}

const staged = (page, state) => page.locator(`[data-testid=staged-item][data-state=${state}]`);

test('attach by the paperclip: progress with cancel, then an image goes with a reply, previewed at its size and zoomed', { timeout: 150000 }, async () => {
  const { v, cid } = await chatWith('Maria Garcia');
  const C = await annConsole();
  const page = C.page;
  await openConv(page, cid);

  // The button is there, named, in reply mode.
  const button = page.locator('[data-testid=attach-button]');
  assert.equal(await button.getAttribute('aria-label'), 'Attach files to the reply');

  // A big upload, slowed down: the progress bar and percentage move; cancel stops it.
  const undo = await throttleUploads(page, 256 * 1024);
  await page.setInputFiles('[data-testid=attach-input]', { name: 'big-catalogue.pdf', mimeType: 'application/pdf', buffer: pdf(6 * 1024 * 1024) });
  const item = page.locator('[data-testid=staged-item][data-name="big-catalogue.pdf"]');
  await item.waitFor();
  assert.equal(await item.getAttribute('data-state'), 'uploading');
  await page.waitForFunction(
    () => {
      const el = document.querySelector('[data-testid=upload-progress]');
      const n = el && Number(el.getAttribute('aria-valuenow'));
      return n > 0 && n < 100;
    },
    null,
    { timeout: 30000 },
  );
  assert.match(await page.locator('[data-testid=upload-pct]').innerText(), /^\d{1,2}%$/);
  assert.equal(await page.locator('[data-testid=send]').isDisabled(), true, 'no sending while a file uploads');
  await page.click('[data-testid=upload-cancel]');
  await item.waitFor({ state: 'detached' });
  await undo();
  // The server keeps nothing of a cancelled upload.
  await waitFor(async () => Number((await fx.pg.query("SELECT count(*) FROM files WHERE name = 'big-catalogue.pdf'")).rows[0].count) === 0, {
    timeoutMs: 15000,
    what: 'the cancelled upload gone from the server',
  });

  // An image, with a line of text: the visitor gets both.
  const img = png(640, 480);
  await page.setInputFiles('[data-testid=attach-input]', { name: 'parcel-label.png', mimeType: 'image/png', buffer: img });
  await staged(page, 'done').waitFor();
  const input = page.locator('[data-testid=composer-input]');
  await input.fill('Here is the label we printed.');
  await input.press('Enter');
  const got = await v.next(withFile(cid, 'parcel-label.png'), 10000, 'the reply with the image');
  assert.equal(got.message.body, 'Here is the label we printed.');
  const file = got.message.attachments[0];
  assert.equal(file.type, 'image/png');
  assert.equal(file.width, 640);
  assert.equal(file.height, 480);
  await staged(page, 'done').waitFor({ state: 'detached' });

  // The preview's box has the image's proportions before the bytes arrive
  // (held back here), so the thread does not jump when they do.
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  await page.route(`**/api/files/${file.id}`, async (route) => {
    await held;
    await route.continue();
  });
  await page.reload();
  await page.waitForSelector('[data-testid=connection][data-state=open]');
  const preview = page.locator(`[data-testid=att-image][data-id="${file.id}"]`);
  await preview.waitFor();
  const want = fitted(640, 480);
  const before = await preview.boundingBox();
  assert.ok(Math.abs(before.width - want.w) <= 1 && Math.abs(before.height - want.h) <= 1, `box ${before.width}x${before.height}, want ${want.w}x${want.h}`);
  assert.equal(await preview.locator('img').evaluate((el) => el.naturalWidth), 0, 'the image was held back');
  release();
  await page.waitForFunction((id) => {
    const el = document.querySelector(`[data-testid=att-image][data-id="${id}"] img`);
    return el && el.complete && el.naturalWidth === 640;
  }, file.id);
  const after = await preview.boundingBox();
  assert.deepEqual([Math.round(after.width), Math.round(after.height)], [Math.round(before.width), Math.round(before.height)]);
  await page.unroute(`**/api/files/${file.id}`);
  // Its address is the file's own; the bubble's text stays text.
  assert.equal(await preview.locator('img').getAttribute('src'), file.url);

  // Click: the zoom view, with the whole image; Escape closes it and the focus comes back.
  await preview.click();
  const zoom = page.locator('[data-testid=zoom]');
  await zoom.waitFor();
  assert.equal(await zoom.getAttribute('role'), 'dialog');
  assert.equal(await zoom.getAttribute('aria-modal'), 'true');
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=zoom] img');
    return el && el.complete && el.naturalWidth === 640;
  });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-testid')), 'zoom-close');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.ok(await zoom.evaluate((el) => el.contains(document.activeElement)), 'Tab stays in the zoom view');
  await page.keyboard.press('Escape');
  await zoom.waitFor({ state: 'detached' });
  // The dialog's node leaves the page a moment before its clean-up gives the
  // focus back: wait for it (it must come back, to the preview).
  await page
    .waitForFunction(() => document.activeElement && document.activeElement.getAttribute('data-testid') === 'att-image', null, { timeout: 5000 })
    .catch(() => {});
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('data-testid')), 'att-image');
  // The conversation is still open (Escape did not reach the shortcuts).
  assert.equal(await page.locator('[data-testid=conv-status]').textContent(), 'assigned');
  // And the close button closes it too.
  await preview.click();
  await zoom.waitFor();
  await page.click('[data-testid=zoom-close]');
  await zoom.waitFor({ state: 'detached' });

  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test(
  'drop a file on the conversation in note mode: an internal note the visitor neither receives nor downloads; the card downloads',
  { timeout: 120000 },
  async () => {
    const { v, cid } = await chatWith('Tom Becker');
    const C = await annConsole();
    const page = C.page;
    await openConv(page, cid);
    await page.click('[data-testid=mode-note]');
    assert.equal(await page.locator('[data-testid=attach-button]').getAttribute('aria-label'), 'Attach files to the note');

    const text = Buffer.from('Carrier reference: DPD 0934-2211\nRefund approved by Carla.\n');
    await dragFileOver(page, { name: 'carrier-notes.txt', type: 'text/plain', bytes: text });
    const overlay = page.locator('[data-testid=drop-overlay]');
    await overlay.waitFor();
    assert.match(await overlay.innerText(), /Drop files to attach them[\s\S]*internal note: only agents see them/);
    await dropIt(page);
    await overlay.waitFor({ state: 'detached' });
    await staged(page, 'done').waitFor();
    // A note may carry only a file.
    await page.locator('[data-testid=composer-input]').press('Enter');
    const note = page.locator('[data-testid=note]', { has: page.locator('[data-testid=att-file]') });
    await note.waitFor();
    const card = note.locator('[data-testid=att-file]');
    assert.equal(await card.locator('bdi.att-name').innerText(), 'carrier-notes.txt');
    assert.match(await card.locator('.att-meta').innerText(), /^\d+ B · TXT$/);
    const fileId = await card.getAttribute('data-id');
    assert.match(fileId, /^[0-9a-f]{32}$/);
    assert.equal(await card.getAttribute('href'), `/api/files/${fileId}`);
    assert.equal(await card.getAttribute('download'), 'carrier-notes.txt');
    const row = (await fx.pg.query('SELECT m.kind FROM files f JOIN messages m ON m.id = f.message_id WHERE f.id = $1', [fileId])).rows[0];
    assert.equal(row.kind, 'note');

    // The card downloads the file, byte for byte.
    const [download] = await Promise.all([page.waitForEvent('download'), card.click()]);
    assert.equal(download.suggestedFilename(), 'carrier-notes.txt');
    const saved = await download.path();
    assert.equal(require('node:fs').readFileSync(saved, 'utf8'), text.toString());

    // The visitor: nothing live, nothing in sync, and the file is not theirs to fetch.
    await sendMessage(v, cid, 'Any news?');
    await page.waitForSelector('[data-testid=message]:has-text("Any news?")');
    assert.ok(!JSON.stringify(v.log).includes(fileId), 'the visitor socket saw the note file');
    assert.ok(!JSON.stringify(v.log).includes('carrier-notes'), 'the visitor socket saw the note file name');
    const sync = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
    assert.ok(!JSON.stringify(sync).includes(fileId), 'sync gave the visitor the note file');
    for (const path of [`/api/files/${fileId}`, `/api/files/${fileId}/link`]) {
      const res = await request(fx.srv, { path, headers: { Authorization: `Bearer ${v.token}` } });
      assert.equal(res.status, 404, `${path} with the visitor's token answered ${res.status}`);
    }

    assert.deepEqual(await C.problems(), []);
    await C.context.close();
  },
);

test('paste an image into the composer: it is attached and sent without text; pasted text stays text', { timeout: 120000 }, async () => {
  const { v, cid } = await chatWith('Lee Chen');
  const C = await annConsole();
  const page = C.page;
  await openConv(page, cid);

  // Text pastes as text (no file on the clipboard).
  const input = page.locator('[data-testid=composer-input]');
  await input.focus();
  await page.keyboard.insertText('ok');
  assert.equal(await page.locator('[data-testid=staged-item]').count(), 0);
  await input.fill('');

  // A screenshot on the clipboard arrives as "image.png": it gets a name.
  const prevented = await pasteFile(page, { name: 'image.png', type: 'image/png', bytes: png(320, 200) });
  assert.equal(prevented, true);
  const item = page.locator('[data-testid=staged-item][data-name="pasted-image.png"]');
  await item.waitFor();
  await page.waitForSelector('[data-testid=staged-item][data-name="pasted-image.png"][data-state=done]');
  assert.equal(await page.locator('[data-testid=send]').isDisabled(), false, 'a file alone can be sent');
  await input.press('Enter');
  const got = await v.next(withFile(cid, 'pasted-image.png'), 10000, 'the pasted image');
  assert.equal(got.message.body, '');
  assert.deepEqual([got.message.attachments[0].width, got.message.attachments[0].height], [320, 200]);
  const preview = page.locator(`[data-testid=att-image][data-id="${got.message.attachments[0].id}"]`);
  await preview.waitFor();
  // No empty bubble beside a message that is only a file.
  assert.equal(await page.locator('[data-testid=message]', { has: preview }).locator('.bubble').count(), 0);

  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

test('upload errors are explained: a refused type, a file over the site limit, a network failure with retry', { timeout: 120000 }, async () => {
  const { cid } = await chatWith('Sam Rivera');
  const C = await annConsole();
  const page = C.page;
  await openConv(page, cid);

  // HTML is not in the site's types (the server sniffs it whatever its name says).
  await page.setInputFiles('[data-testid=attach-input]', {
    name: 'invoice.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('<!doctype html><html><body><script>alert(1)</script></body></html>'),
  });
  const refused = page.locator('[data-testid=staged-item][data-name="invoice.pdf"][data-state=failed]');
  await refused.waitFor();
  assert.equal(await refused.locator('[data-testid=upload-error]').innerText(), 'This type of file is not accepted on this site.');
  assert.equal(await refused.locator('[data-testid=upload-retry]').count(), 0, 'retrying cannot help');
  await refused.locator('[data-testid=staged-remove]').click();
  await refused.waitFor({ state: 'detached' });

  // Over the site's limit.
  await fx.pg.query('UPDATE sites SET upload_max_bytes = 1024 WHERE id = $1', [site.id]);
  try {
    await page.setInputFiles('[data-testid=attach-input]', { name: 'terms.pdf', mimeType: 'application/pdf', buffer: pdf(3000) });
    const big = page.locator('[data-testid=staged-item][data-name="terms.pdf"][data-state=failed]');
    await big.waitFor();
    // The limit is named when the problem carries it (max_bytes).
    assert.match(await big.locator('[data-testid=upload-error]').innerText(), /^This file is too large(: the limit is 1 KB\.| for this site\.)$/);
    await big.locator('[data-testid=staged-remove]').click();
  } finally {
    await fx.pg.query('UPDATE sites SET upload_max_bytes = NULL WHERE id = $1', [site.id]);
  }

  // The network fails: said so, and Retry uploads it once it is back.
  await page.route('**/api/files?*', (route) => route.abort('connectionrefused'));
  await page.setInputFiles('[data-testid=attach-input]', { name: 'receipt.pdf', mimeType: 'application/pdf', buffer: pdf(4000) });
  const failed = page.locator('[data-testid=staged-item][data-name="receipt.pdf"][data-state=failed]');
  await failed.waitFor();
  assert.equal(await failed.locator('[data-testid=upload-error]').innerText(), 'The upload failed: the server could not be reached.');
  await page.unroute('**/api/files?*');
  await failed.locator('[data-testid=upload-retry]').click();
  await page.waitForSelector('[data-testid=staged-item][data-name="receipt.pdf"][data-state=done]');

  assert.deepEqual(
    (await C.problems()).filter((p) => !/status of 41[35]|ERR_CONNECTION_REFUSED/.test(p)),
    [],
  );
  await C.context.close();
});

test(
  "a visitor's file shows in the thread and in the visitor panel's Files list, which follows new files; notes' files are marked internal",
  { timeout: 120000 },
  async () => {
    const { v, cid } = await chatWith('Vera Visitor');
    // Ann already left an internal file in a note (HTTP upload + note.send from node).
    const session = await agentSession(fx.srv, ann);
    const internal = await uploadAs(fx.srv, { session }, cid, 'refund-approval.pdf', pdf(5300));
    await annWs.ack({ type: 'note.send', conversation_id: cid, client_msg_id: `n-${cid}`, body: 'Approval attached', attachments: [internal.id] });

    const C = await annConsole();
    const page = C.page;
    await openConv(page, cid);
    const panel = page.locator('[data-testid=visitor-panel] [data-testid=visitor-files]');
    await panel.locator(`[data-testid=vp-file][data-id="${internal.id}"]`).waitFor();
    assert.equal(await panel.locator('[data-testid=vp-file]').count(), 1);
    const noteRow = panel.locator(`[data-testid=vp-file][data-id="${internal.id}"]`);
    assert.equal(await noteRow.getAttribute('data-kind'), 'note');
    assert.equal(await noteRow.locator('[data-testid=vp-file-internal]').innerText(), 'Internal note');
    assert.match(await noteRow.innerText(), /refund-approval\.pdf[\s\S]*5\.2 KB · Ann Archer/);

    // The visitor uploads a photo (Bearer token) and sends it.
    const photo = await uploadAs(fx.srv, { token: v.token }, cid, 'broken-grinder.png', png(900, 1200));
    assert.deepEqual([photo.width, photo.height], [900, 1200]);
    const ack = await v.ack({
      type: 'message.send',
      conversation_id: cid,
      client_msg_id: `v-${cid}-1`,
      body: 'This is how it arrived',
      attachments: [photo.id],
    });
    assert.equal(ack.message.attachments[0].id, photo.id);

    // In the thread: the text and the preview, portrait-sized.
    const msg = page.locator('[data-testid=message]', { hasText: 'This is how it arrived' });
    await msg.waitFor();
    const preview = msg.locator(`[data-testid=att-image][data-id="${photo.id}"]`);
    await preview.waitFor();
    const box = await preview.boundingBox();
    const want = fitted(900, 1200);
    assert.ok(Math.abs(box.width - want.w) <= 1 && Math.abs(box.height - want.h) <= 1, `box ${box.width}x${box.height}, want ${want.w}x${want.h}`);
    // In the panel, without a reload: the visitor's file, downloadable, by the visitor.
    const row = panel.locator(`[data-testid=vp-file][data-id="${photo.id}"]`);
    await row.waitFor();
    assert.equal(await row.getAttribute('data-kind'), 'message');
    assert.equal(await row.locator('[data-testid=vp-file-internal]').count(), 0);
    assert.match(await row.innerText(), /broken-grinder\.png[\s\S]*Vera Visitor/);
    const link = row.locator('a.vp-file-name');
    assert.equal(await link.getAttribute('href'), photo.url);
    assert.equal(await link.getAttribute('download'), 'broken-grinder.png');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'broken-grinder.png');

    // A second file from the visitor, a document this time: a card, and the list grows.
    const doc = await uploadAs(fx.srv, { token: v.token }, cid, 'order-NW-20931.pdf', pdf(48000));
    await v.ack({ type: 'message.send', conversation_id: cid, client_msg_id: `v-${cid}-2`, body: '', attachments: [doc.id] });
    await page.locator(`[data-testid=att-file][data-id="${doc.id}"]`).waitFor();
    await panel.locator(`[data-testid=vp-file][data-id="${doc.id}"]`).waitFor();
    assert.equal(await panel.locator('[data-testid=vp-file]').count(), 3);

    assert.deepEqual(await C.problems(), []);
    await C.context.close();
  },
);

test("an admin sets a site's file settings; they are checked, saved and kept", { timeout: 120000 }, async () => {
  const shop = await createSite(fx.pg, { name: 'Files Settings Shop', teamId: team, origins: ['https://settings.example'] });
  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await loginUI(page, ada);
  const openSite = async () => {
    await page.evaluate(() => {
      location.hash = '#/admin/sites';
    });
    await page.click('[data-testid=site-item]:has-text("Files Settings Shop")');
    await page.waitForSelector('[data-testid=site-files]');
  };
  await openSite();
  const session = await agentSession(fx.srv, ada);
  const siteJson = async () => {
    const res = await request(fx.srv, { path: '/api/sites', headers: { Cookie: `parley_session=${session.cookie}` } });
    assert.equal(res.status, 200);
    return res.json.sites.find((s) => s.id === shop.id);
  };
  const initial = (await siteJson()).files;
  assert.equal(initial.visitor_uploads, true);
  assert.equal(initial.retention_days ?? null, null);
  // The form shows what the server has.
  const maxMb = page.locator('[data-testid=files-max-mb]');
  assert.equal(Number(await maxMb.inputValue()), Math.floor((initial.max_bytes / (1024 * 1024)) * 100) / 100);
  assert.equal(await page.locator('[data-testid=files-retention]').inputValue(), '');
  assert.equal(await page.locator('[data-testid="files-type-image/gif"]').isChecked(), initial.types.includes('image/gif'));
  assert.equal(await page.locator('[data-testid="files-type-image/svg+xml"]').isChecked(), initial.types.includes('image/svg+xml'));
  // Readable labels, not MIME types.
  assert.match(await page.locator('[data-testid=files-types]').innerText(), /Word \(\.docx\)[\s\S]*Older Office files/);

  // Values out of bounds are refused in the form, before any request.
  await maxMb.fill(String(Math.ceil(initial.ceiling_bytes / (1024 * 1024)) + 1000));
  await page.fill('[data-testid=files-retention]', '5000');
  await page.click('[data-testid=site-save]');
  const errors = page.locator('[data-testid=site-files] .field-error');
  await errors.first().waitFor();
  assert.match(await errors.nth(0).innerText(), /^The server accepts at most [\d.]+ MB\.$/);
  assert.equal(await errors.nth(1).innerText(), 'Enter a number of days from 1 to 3650, or leave it empty.');
  assert.deepEqual((await siteJson()).files, initial);

  // 5 MB, no GIFs, SVG allowed, no visitor uploads, 30 days.
  await maxMb.fill('5');
  await page.fill('[data-testid=files-retention]', '30');
  await page.locator('[data-testid="files-type-image/gif"]').setChecked(false);
  await page.locator('[data-testid="files-type-image/svg+xml"]').setChecked(true);
  await page.locator('[data-testid=files-visitor-uploads]').setChecked(false);
  await page.click('[data-testid=site-save]');
  await page.waitForSelector('.toast:has-text("saved")');
  const saved = (await siteJson()).files;
  assert.equal(saved.max_bytes, 5 * 1024 * 1024);
  assert.equal(saved.retention_days, 30);
  assert.equal(saved.visitor_uploads, false);
  assert.ok(!saved.types.includes('image/gif'));
  assert.ok(saved.types.includes('image/svg+xml'));
  assert.deepEqual(saved.types.filter((x) => x !== 'image/svg+xml').sort(), initial.types.filter((x) => x !== 'image/gif').sort());

  // Kept: a reload shows them again; emptying the retention keeps files forever.
  await page.reload();
  await page.waitForSelector('.sidebar');
  await openSite();
  assert.equal(await maxMb.inputValue(), '5');
  assert.equal(await page.locator('[data-testid=files-retention]').inputValue(), '30');
  assert.equal(await page.locator('[data-testid="files-type-image/gif"]').isChecked(), false);
  assert.equal(await page.locator('[data-testid=files-visitor-uploads]').isChecked(), false);
  await page.fill('[data-testid=files-retention]', '');
  await page.click('[data-testid=site-save]');
  await waitFor(async () => ((await siteJson()).files.retention_days ?? null) === null, { what: 'retention back to forever' });
  assert.equal((await siteJson()).files.max_bytes, 5 * 1024 * 1024, 'a field not edited is not written back');

  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

// ---------------------------------------------------------------- screenshots

test('screenshots of the file views, in English and Chinese, wide and narrow', { timeout: 300000 }, async () => {
  const { v, cid } = await chatWith('Maria Garcia', 'Hi! My subscription box arrived damaged.');
  const session = await agentSession(fx.srv, ann);
  const photo = await uploadAs(fx.srv, { token: v.token }, cid, 'damaged-box.png', png(1200, 900, { from: [180, 120, 60], to: [90, 60, 40] }));
  await v.ack({ type: 'message.send', conversation_id: cid, client_msg_id: `s-${cid}-1`, body: 'This is how it arrived 😞', attachments: [photo.id] });
  const gone = await uploadAs(fx.srv, { token: v.token }, cid, 'old-receipt.pdf', pdf(3000));
  await v.ack({ type: 'message.send', conversation_id: cid, client_msg_id: `s-${cid}-2`, body: 'And my receipt from last year', attachments: [gone.id] });
  // Its site's retention period has passed (backdated), and the sweep's expiry ran.
  await fx.pg.query("UPDATE files SET attached_at = now() - interval '3 days' WHERE id = $1", [gone.id]);
  await fx.pg.query('UPDATE sites SET file_retention_days = 1 WHERE id = $1', [site.id]);
  await fx.pg.query('SELECT * FROM parley_files_expire(100)');
  await fx.pg.query('UPDATE sites SET file_retention_days = NULL WHERE id = $1', [site.id]);
  const label = await uploadAs(fx.srv, { session }, cid, 'Return label – Northwind NW-20931.pdf', pdf(84000));
  await annWs.ack({
    type: 'message.send',
    conversation_id: cid,
    client_msg_id: `s-${cid}-3`,
    body: 'So sorry! Here is a prepaid return label, a replacement ships today.',
    attachments: [label.id],
  });
  const memo = await uploadAs(fx.srv, { session }, cid, 'carrier-claim.pdf', pdf(21000));
  await annWs.ack({ type: 'note.send', conversation_id: cid, client_msg_id: `s-${cid}-4`, body: 'Claim filed with the carrier', attachments: [memo.id] });

  for (const [locale, [w, h]] of screenshotPairs(
    ['en', 'zh-CN'],
    [
      [1280, 800],
      [390, 844],
    ],
  )) {
    const tag = `${locale}-${w}`;
    const C = await openConsole(fx.browser, fx.srv, { viewport: { width: w, height: h }, locale });
    const page = C.page;
    await loginUI(page, ann);
    await openConv(page, cid);
    await page.waitForFunction((id) => {
      const el = document.querySelector(`[data-testid=att-image][data-id="${id}"] img`);
      return el && el.complete && el.naturalWidth > 0;
    }, photo.id);
    await page.locator('[data-testid=att-removed]').waitFor();
    await shot(page, `files-${tag}-thread`);
    // The visitor panel's Files (shown from 1000px up).
    if (w > 1000) {
      const list = page.locator('[data-testid=visitor-files]');
      await list.locator(`[data-testid=vp-file][data-id="${memo.id}"]`).waitFor();
      await list.scrollIntoViewIfNeeded();
      await shot(page, `files-${tag}-visitor-panel`);
    }

    // The composer with an upload under way.
    const undo = await throttleUploads(page, 200 * 1024);
    await page.setInputFiles('[data-testid=attach-input]', {
      name: 'Warranty – Baratza Encore (2024).pdf',
      mimeType: 'application/pdf',
      buffer: pdf(4 * 1024 * 1024),
    });
    await page.setInputFiles('[data-testid=attach-input]', { name: 'grinder-photo.png', mimeType: 'image/png', buffer: png(400, 300) });
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=upload-progress]');
      const n = el && Number(el.getAttribute('aria-valuenow'));
      return n >= 5 && n < 90;
    });
    await page.locator('[data-testid=composer-input]').fill(locale === 'en' ? 'Attaching the warranty card…' : '附上保修卡…');
    await shot(page, `files-${tag}-composer-uploading`);
    const xs = page.locator('[data-testid=upload-cancel], [data-testid=staged-remove]');
    while (await xs.count()) await xs.first().click();
    await page.locator('[data-testid=composer-input]').fill('');
    await undo();

    // The drop overlay.
    await dragFileOver(page, { name: 'photo.png', type: 'image/png', bytes: png(10, 10) });
    await page.locator('[data-testid=drop-overlay]').waitFor();
    await shot(page, `files-${tag}-drop-overlay`);
    await page.evaluate(() => {
      document
        .querySelector('[data-testid=conversation] .thread')
        .dispatchEvent(new DragEvent('dragleave', { bubbles: true, cancelable: true, dataTransfer: window.__dropData }));
    });
    await page.locator('[data-testid=drop-overlay]').waitFor({ state: 'detached' });

    // The zoom view.
    await page.click(`[data-testid=att-image][data-id="${photo.id}"]`);
    await page.waitForFunction(() => {
      const el = document.querySelector('[data-testid=zoom] img');
      return el && el.complete && el.naturalWidth > 0;
    });
    await shot(page, `files-${tag}-zoom`);
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=zoom]').waitFor({ state: 'detached' });
    await C.context.close();

    // An admin's file settings for the site.
    const A = await openConsole(fx.browser, fx.srv, { viewport: { width: w, height: h }, locale });
    await loginUI(A.page, ada);
    await A.page.evaluate(() => {
      location.hash = '#/admin/sites';
    });
    await A.page.click('[data-testid=site-item]:has-text("Northwind Coffee")');
    await A.page.locator('[data-testid=site-files]').scrollIntoViewIfNeeded();
    await shot(A.page, `files-${tag}-admin-settings`);
    assert.deepEqual(await A.problems(), []);
    assert.deepEqual(await C.problems(), []);
    await A.context.close();
  }
});
