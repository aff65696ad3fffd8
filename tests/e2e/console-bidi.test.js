'use strict';
// Bidi controls and right-to-left names in the console, checked on the real
// layout: an agent and a visitor whose names were stored before the text
// policy (a stray PDI, then U+202E: "exe.png" when it leaks), and an agent
// with an Arabic name. Wherever a name or a body is shown among other text
// (the list's preview, the "joined" event, the typing line, the bubble) the
// text after it must still be drawn after it; names sit in <bdi>, bodies in
// isolating blocks, and desktop notifications carry no unpaired control.
// Screenshots of the conversation view at 1280x800 and 390x844, with an en
// and a zh-CN browser, go to build/screenshots/ (not committed).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT } = require('../helpers/common');
const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectAgent, connectVisitor, startConversation, sendMessage, convUpdated } = require('../helpers/fixtures');
const { openConsole, loginUI, convItem } = require('../helpers/browser');
const { RLO, HOSTILE, ARABIC_NAME, assertDrawnAfter, assertIsolated } = require('../helpers/bidi');

const SHOTS = path.join(REPO_ROOT, 'build', 'screenshots');

const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: '86400' }, browser: 'console' });
const { test } = fx;

fx.setup(
  async () => {
    await fixtures();
  },
  { timeout: 90000 },
);

/** A visitor socket whose stored name is `name` (written as an old row would be). */
async function namedVisitor(site, name) {
  const v = await connectVisitor(fx.srv, site);
  await fx.pg.query('UPDATE visitors SET name = $2 WHERE id = $1', [v.visitor.id, name]);
  return v;
}

const F = {};

/** Two conversations and a site whose chats stay queued, made before the browser looks. */
async function fixtures() {
  const teamH = await createTeam(fx.pg);
  const teamA = await createTeam(fx.pg);
  const teamQ = await createTeam(fx.pg); // nobody: its chats stay queued
  F.vera = await createAgent(fx.pg, { name: 'Vera Viewer', role: 'supervisor' });
  const hal = await createAgent(fx.pg, { name: 'Hal', teams: [teamH] });
  await fx.pg.query('UPDATE agents SET name = $2 WHERE id = $1', [hal.id, HOSTILE]);
  const ian = await createAgent(fx.pg, { name: ARABIC_NAME, email: `ian.${process.pid}@example.com`, teams: [teamA] });
  const aH = await connectAgent(fx.srv, hal, { status: 'online' });
  const aA = await connectAgent(fx.srv, ian, { status: 'online' });

  // 1: a hostile visitor with the hostile agent, an override in a body.
  F.v = await namedVisitor(await createSite(fx.pg, { teamId: teamH }), HOSTILE);
  F.cid = await startConversation(F.v);
  await aH.next(convUpdated(F.cid, 'assigned'), 5000, 'assignment to Hal');
  await sendMessage(F.v, F.cid, `${RLO}gnp.exe is the file`);
  await sendMessage(F.v, F.cid, 'مرحبا، الطلب 42');
  await sendMessage(aH, F.cid, 'hello there');
  // 2: the Arabic-named agent answers with a number first.
  const v2 = await connectVisitor(fx.srv, await createSite(fx.pg, { teamId: teamA }));
  F.cid2 = await startConversation(v2);
  await aA.next(convUpdated(F.cid2, 'assigned'), 5000, `assignment to ${ARABIC_NAME}`);
  await sendMessage(aA, F.cid2, '42 items are on their way');
  F.siteQ = await createSite(fx.pg, { teamId: teamQ });
}

test('names and bodies with bidi controls or right-to-left letters do not reorder the text around them', { timeout: 90000 }, async () => {
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  const page = C.page;
  await loginUI(page, F.vera);
  await page.click('[data-testid=nav-all]');

  // Open conversation 2, then 1: both previews then come from loaded messages ("Name: text").
  await convItem(page, F.cid2).click();
  await page.waitForSelector('[data-testid=message]:has-text("42 items")');
  await convItem(page, F.cid).click();
  await page.waitForSelector('[data-testid=message]:has-text("hello there")');

  // The list: "إيان: 42 items" keeps the number after the name; the
  // hostile agent's name cannot reverse ": hello there".
  const item = (id) => `[data-testid=conv-item][data-id="${id}"] .conv-preview`;
  await assertDrawnAfter(page, item(F.cid2), ARABIC_NAME, '42 items', 'preview after an Arabic name');
  await assertDrawnAfter(page, item(F.cid), 'gnp.exe', 'hello there', 'preview after a hostile name');

  // The thread: the server's event, the visitor's bubble, the typing line.
  const thread = '[data-testid=conversation]';
  await assertDrawnAfter(page, `${thread} .event:has-text("joined")`, 'gnp.exe', 'joined the conversation', 'event line');
  await assertDrawnAfter(page, `${thread} [data-testid=message]:has-text("is the file") .bubble`, 'gnp', '.exe is the file', 'body with an override');
  F.v.send({ type: 'typing', conversation_id: F.cid, on: true });
  await page.waitForSelector('[data-testid=typing]');
  await assertDrawnAfter(page, '[data-testid=typing]', 'gnp.exe', 'is typing', 'typing line');

  // Every name and body sits in an isolating element; an Arabic body reads right to left.
  await assertIsolated(page.locator(`${thread} .msg-author`), 'message author');
  await assertIsolated(page.locator(`${thread} .bubble`), 'message body');
  await assertIsolated(page.locator(`${thread} .event bdi`), 'event text');
  await assertIsolated(page.locator('[data-testid=conv-title] bdi'), 'conversation title');
  await assertIsolated(page.locator('[data-testid=visitor-name] bdi'), 'visitor panel name');
  await assertIsolated(page.locator('[data-testid=conv-item] .conv-name'), 'list name');
  const arabic = page.locator(`${thread} [data-testid=message]:has-text("مرحبا") .bubble`);
  assert.equal(await arabic.evaluate((el) => getComputedStyle(el).direction), 'rtl', 'an Arabic body reads right to left');
  // What is shown carries no unpaired control: the title is the visible name.
  assert.equal((await page.locator('[data-testid=conv-title]').textContent()).trim(), 'gnp.exe');

  // A desktop notification about a hostile visitor: title and body balanced.
  const vq = await namedVisitor(F.siteQ, HOSTILE);
  const cq = await startConversation(vq);
  await sendMessage(vq, cq, 'anyone there?');
  await page.waitForFunction(() => (window.__notifications || []).some((n) => n.body === 'anyone there?'));
  const notes = await page.evaluate(() => window.__notifications);
  for (const n of notes) {
    assert.ok(!/[\u202A-\u202E\u2066-\u2069]/.test(`${n.title}${n.body}`), `notification ${JSON.stringify(n)} carries an unpaired bidi control`);
  }
  assert.ok(
    notes.some((n) => n.title === 'gnp.exe' && n.body === 'anyone there?'),
    JSON.stringify(notes),
  );

  await convItem(page, F.cid).click();
  await page.waitForSelector('[data-testid=message]:has-text("hello there")');
  assert.deepEqual(await C.problems(), [], 'no page errors and no CSP violations');
  await C.context.close();
});

test('screenshots: the conversation view with a hostile name and body, 1280x800 and 390x844, en and zh-CN', { timeout: 90000 }, async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const locale of ['en-US', 'zh-CN']) {
    const lang = locale === 'en-US' ? 'en' : 'zh-CN';
    const context = await fx.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, locale, reducedMotion: 'reduce' });
    const page = await context.newPage();
    await page.goto(`${fx.srv.origin}/console/`);
    await loginUI(page, F.vera);
    await page.click('[data-testid=nav-all]');
    await convItem(page, F.cid).click();
    await page.waitForSelector('[data-testid=message]:has-text("hello there")');
    // What the screenshot shows is in reading order, whatever the browser's language.
    await assertDrawnAfter(page, `[data-testid=conv-item][data-id="${F.cid}"] .conv-preview`, 'gnp.exe', 'hello there', `preview (${lang})`);
    // Event lines are worded in the console's language (lib/eventlines.js).
    const joined = lang === 'en' ? 'joined' : '加入了会话';
    await assertDrawnAfter(page, '[data-testid=conversation] .event[data-event=assigned]', 'gnp.exe', joined, `event line (${lang})`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SHOTS, `console-bidi-${lang}-1280x800.png`) });
    // The console has no phone layout yet: at 390 px the conversation view
    // gets no width (see the report); the screenshot records that.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SHOTS, `console-bidi-${lang}-390x844.png`) });
    await context.close();
  }
});
