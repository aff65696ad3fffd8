'use strict';
// Agent bots in the console, against the real server and a real bot server
// on loopback (tests/helpers/hookrecv.js: it hears the bot's events and
// answers visitor messages through the REST API with the bot's token). An
// admin creates a bot in Admin → Bots for a site (the form's checks and the
// server's SSRF guard first), sees its signing secret and API token once
// (the token the test then hands to the bot server is the one the dialog
// showed), follows the bot to its delivery log; a visitor writes, the bot
// answers under its name, then hands off with a summary; an online agent
// gets the conversation and sees the bot's messages with their badge, the
// handoff summary and "handled first by bot"; an admin sees a conversation
// the bot still handles; the admin edits, disables and deletes the bot.
// Screenshots of every view, 1280×800 and 390×844, in English and Chinese,
// go to test-results/screenshots/.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { createAgent, createTeam, createSite, connectAgent, connectVisitor, sendMessage, msgCreated, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, convItem, screenshotPairs } = require('../helpers/browser');
const { addToken, api } = require('../helpers/api');
const { startReceiver, verifyWebhook } = require('../helpers/hookrecv');

const fx = suite({
  browser: 'console',
  env: { PARLEY_WEBHOOK_ALLOW_HTTP: '1', PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8' },
});
const { test } = fx;
const F = {};

/** What the bot says: a person is asked for, or anything else. */
const REPLIES = {
  greet: 'Hi, I am Sunny, the shop assistant. I can track parcels and explain returns.',
  human: 'Of course: a person from our team takes it from here.',
};
const wantsHuman = (text) => /person|human|人工/i.test(text);

/**
 * A bot server: it answers every visitor message with the token tokens[path]
 * (the bot's, known once it is created), handing off when a person is asked
 * for, with a summary that quotes the visitor.
 */
async function botServer(tokens) {
  const replies = [];
  const r = await startReceiver({
    respond: (req) => {
      const ev = JSON.parse(req.body);
      const token = tokens[req.path];
      if (token && ev.type === 'message.created' && ev.data.author.kind === 'visitor') {
        const human = wantsHuman(ev.data.body);
        setImmediate(async () => {
          const res = await api(fx.srv, token, 'POST', `/api/v1/conversations/${ev.data.conversation_id}/messages`, {
            json: {
              body: human ? REPLIES.human : REPLIES.greet,
              idempotency_key: `re-${ev.data.id}`,
              ...(human ? { handoff: { summary: `Asks for a person about: "${ev.data.body}". Order A-1042, parcel late.` } } : {}),
            },
          });
          replies.push(res);
        });
      }
      return { status: 204 };
    },
  });
  r.replies = replies;
  return r;
}

fx.setup(async () => {
  F.admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
  F.team = await createTeam(fx.pg, 'Front desk');
  F.otherTeam = await createTeam(fx.pg, 'Returns');
  F.site = await createSite(fx.pg, { teamId: F.team, name: 'Northwind shop' });
  F.otherSite = await createSite(fx.pg, { teamId: F.otherTeam, name: 'Northwind outlet' });
  F.hana = await createAgent(fx.pg, { name: 'Hana Human', teams: [F.team], maxChats: 20 });
  F.tokens = {};
  F.bots = await botServer(F.tokens);
});

fx.teardown(async () => {
  await F.bots.close();
});

/** The console's REST API as the admin (session cookie + CSRF header). */
async function adminApi() {
  const s = await login(fx.srv, F.admin.email, F.admin.password);
  return (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
}

/** What a locator shows, without the isolating marks around names (FSI … PDI), no-break spaces as spaces. */
const text = async (loc) =>
  (await loc.innerText())
    .replace(/[\u2066-\u2069]/g, '')
    .replace(/\u00a0/g, ' ')
    .trim();
const row = (page, id) => page.locator(`[data-testid=bot-row][data-id="${id}"]`);
const status = async (id) => (await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [id])).rows[0].status;

/** Nothing of the view is outside the window: the page does not scroll sideways, an open dialog fits. */
async function fits(page, what) {
  const { w, h, pageWide, modal } = await page.evaluate(() => {
    const m = document.querySelector('.modal');
    const r = m && m.getBoundingClientRect();
    return {
      w: window.innerWidth,
      h: window.innerHeight,
      pageWide: document.documentElement.scrollWidth > window.innerWidth,
      modal: r && { x: r.x, y: r.y, right: r.right, bottom: r.bottom, scroll: m.scrollWidth > m.clientWidth + 1 },
    };
  });
  assert.equal(pageWide, false, `${what}: the page is wider than ${w}px`);
  if (modal) {
    assert.ok(modal.x >= 0 && modal.y >= 0 && modal.right <= w && modal.bottom <= h, `${what}: the dialog does not fit ${w}×${h}: ${JSON.stringify(modal)}`);
    assert.equal(modal.scroll, false, `${what}: the dialog scrolls sideways`);
  }
}

test(
  'an admin creates a bot; it answers a visitor and hands off to an agent, who sees its messages and summary; the admin edits, disables and deletes it',
  { timeout: 180000 },
  async () => {
    const adm = await adminApi();
    const A = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = A.page;
    await A.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: fx.srv.origin });
    await loginUI(page, F.admin);
    await page.click('[data-testid=nav-admin-bots]');
    await page.locator('.admin .empty:has-text("No bots yet")').waitFor();

    // --- Create: the form's own checks, then the server's SSRF guard at the URL field.
    await page.click('[data-testid=new-bot]');
    const form = page.locator('[data-testid=bot-form]');
    assert.equal(await page.locator('[data-testid=bot-timeout]').inputValue(), '60', 'the default timeout');
    await page.fill('[data-testid=bot-timeout]', '3');
    await page.click('[data-testid=bot-save]');
    const errors = await form.locator('.field-error').allInnerTexts();
    assert.deepEqual(errors, ['Enter the bot’s name.', 'Enter a whole number of seconds from 5 to 86400.', 'Enter the URL the events go to.']);
    await page.fill('[data-testid=bot-name]', 'Sunny');
    await page.fill('[data-testid=bot-timeout]', '45');
    await page.fill('[data-testid=bot-url]', 'http://10.20.30.40/bot');
    await page.click('[data-testid=bot-save]');
    await form.locator('.field.has-error .field-error:has-text("private network")').waitFor();
    assert.equal(
      await text(form.locator('.field.has-error .field-error')),
      'This URL leads to a private network address, where this server may not send anything.',
      'the SSRF guard refusal, next to the URL field',
    );
    // The sites and teams to take: the shop only.
    const sitePick = page.locator(`[data-testid=bot-sites-item][data-id="${F.site.id}"]`);
    assert.match(await text(sitePick), /Northwind shop/);
    await sitePick.locator('input').check();
    await page.fill('[data-testid=bot-url]', F.bots.url('/sunny'));
    await page.click('[data-testid=bot-save]');

    // --- The secret and the token, once, with copy buttons.
    const dialog = page.locator('[data-testid=bot-secrets-dialog]');
    await dialog.waitFor();
    const secret = await text(page.locator('[data-testid=bot-secret]'));
    const token = await text(page.locator('[data-testid=bot-token]'));
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.match(token, /^prl_[A-Za-z0-9_-]{43}$/);
    assert.equal(await text(page.locator('[data-testid=bot-secrets-once]')), 'You will not see these again. Copy both before you close this.');
    assert.match(
      await text(page.locator('[data-testid=bot-how-answer]')),
      /^POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/conversations\/\{id\}\/messages\nAuthorization: Bearer prl_…/,
    );
    assert.equal(await text(page.locator('[data-testid=bot-how-handoff]')), '{"body": "…", "handoff": {"summary": "…"}}');
    await page.click('[data-testid=bot-secret-copy]');
    await page.locator('[data-testid=bot-secret-copy]:has-text("Copied!")').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await page.click('[data-testid=bot-token-copy]');
    await page.locator('[data-testid=bot-token-copy]:has-text("Copied!")').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await page.click('[data-testid=bot-secrets-done]');
    await dialog.waitFor({ state: 'detached' });
    const body = await page.locator('body').innerText();
    assert.ok(!body.includes(secret) && !body.includes(token), 'neither is shown again');
    // The bot server answers with the token the dialog showed.
    F.tokens['/sunny'] = token;

    const [bot] = (await adm('GET', '/api/bots')).json.data;
    assert.equal(bot.name, 'Sunny');
    assert.equal(bot.url, F.bots.url('/sunny'));
    assert.equal(bot.timeout_seconds, 45);
    assert.deepEqual(bot.site_ids, [F.site.id]);
    assert.deepEqual(bot.team_ids, []);
    const r = row(page, bot.id);
    await r.waitFor();
    assert.equal(await r.locator('[data-testid=bot-state]').getAttribute('data-state'), 'enabled');
    assert.equal(await text(r.locator('[data-testid=bot-takes]')), 'Northwind shop');
    assert.equal(await text(r.locator('[data-testid=bot-handling]')), '0');
    assert.equal(await text(r.locator('[data-testid=bot-timeout-cell]')), '45 seconds');
    assert.equal(await text(r.locator('[data-testid=bot-token-used]')), 'never');
    assert.equal(await r.locator('[data-testid=bot-log]').getAttribute('href'), `#/admin/webhooks/${bot.endpoint_id}`);

    // --- Its delivery log on the Webhooks page, which links back to the bot (its edit form).
    await r.locator('[data-testid=bot-log]').click();
    await page.locator(`[data-testid=webhook-page][data-id="${bot.endpoint_id}"]`).waitFor();
    await page.locator('[data-testid=webhook-page] [data-testid=webhook-bot]').waitFor();
    await page.click('[data-testid=webhook-bot-open]');
    await page.locator('[data-testid=bot-form]').waitFor();
    assert.equal(await page.locator('[data-testid=bot-name]').inputValue(), 'Sunny');
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=bot-form]').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => location.hash), '#/admin/bots');

    // --- Hana, online in her console.
    const H = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const ph = H.page;
    await loginUI(ph, F.hana);
    await ph.click('.status-opt.status-online');
    await waitFor(async () => (await fx.pg.query('SELECT status FROM agents WHERE id = $1', [F.hana.id])).rows[0].status === 'online', {
      what: 'Hana online',
    });

    // --- A visitor writes; the bot hears it (signed with the secret shown) and answers under its name.
    const v = await connectVisitor(fx.srv, F.site);
    const start = await v.ack({ type: 'conversation.start', prechat: { name: 'Vera Visitor' } });
    const cid = start.conversation.id;
    assert.equal(start.conversation.status, 'bot');
    assert.equal(start.conversation.bot.name, 'Sunny');
    await sendMessage(v, cid, 'Hello, where is my parcel?');
    const answer = await v.next(
      msgCreated(cid, (m) => m.author.kind === 'bot'),
      15000,
      'the bot’s answer',
    );
    assert.equal(answer.message.author.name, 'Sunny');
    assert.equal(answer.message.body, REPLIES.greet);
    const created = F.bots.requests.find((q) => JSON.parse(q.body).type === 'conversation.created');
    assert.equal(verifyWebhook(secret, created.headers, created.body).data.id, cid);
    assert.equal(await status(cid), 'bot');

    // The admin's list: one conversation handled now, the token just used.
    await page.reload();
    await row(page, bot.id).waitFor();
    assert.equal(await text(row(page, bot.id).locator('[data-testid=bot-handling]')), '1');
    assert.match(await text(row(page, bot.id).locator('[data-testid=bot-token-used]')), /now|sec/);

    // An admin sees the conversation the bot handles (All open): the bot answers, notes only.
    await page.click('[data-testid=nav-all]');
    await convItem(page, cid).click();
    const adminConv = page.locator(`[data-testid=conversation][data-id="${cid}"]`);
    await adminConv.locator('[data-testid=message][data-author=bot]').waitFor();
    assert.equal(await text(adminConv.locator('[data-testid=conv-status]')), 'Bot', 'the pill capitalises, as for every status');
    assert.equal(await text(page.locator('[data-testid=visitor-bot]')), 'Bot Sunny is answering');
    await adminConv.locator('[data-testid=bot-banner]').waitFor();
    assert.equal(await adminConv.locator('[data-testid=accept]').count(), 0);
    assert.equal(await adminConv.locator('[data-testid=mode-reply]').isDisabled(), true, 'no replies into a bot’s conversation');
    assert.equal(await adminConv.locator('[data-testid=mode-note]').isDisabled(), false, 'notes, which the bot never hears');

    // --- Asking for a person: the bot replies with the handoff action; Hana gets the conversation.
    await sendMessage(v, cid, 'Can I talk to a person, please?');
    await v.next(
      msgCreated(cid, (m) => m.author.kind === 'bot' && m.body === REPLIES.human),
      15000,
      'the handoff reply',
    );
    await waitFor(async () => (await status(cid)) === 'assigned', { timeoutMs: 15000, what: 'assigned to Hana after the handoff' });
    await ph.waitForSelector('[data-testid=nav-mine] .count:text("1")', { timeout: 15000 });
    const item = convItem(ph, cid);
    await item.waitFor();
    await item.click();
    const conv = ph.locator(`[data-testid=conversation][data-id="${cid}"]`);
    const note = conv.locator('[data-testid=note][data-author=bot]');
    await note.waitFor();

    // The bot's messages: its name and badge, on the side of those who answer, never as the visitor's.
    const botMsgs = conv.locator('[data-testid=message][data-author=bot]');
    assert.equal(await botMsgs.count(), 2);
    const first = botMsgs.first();
    assert.match(await first.getAttribute('class'), /\bmsg-us\b/);
    assert.match(await first.getAttribute('class'), /\bmsg-bot\b/);
    assert.equal(await text(first.locator('.msg-author')), 'Sunny');
    assert.equal(await text(first.locator('[data-testid=author-badge]')), 'Bot');
    assert.equal(await text(first.locator('.bubble')), REPLIES.greet);
    assert.equal(await first.locator('.avatar').count(), 0, 'no visitor avatar');
    const visitorMsgs = conv.locator('[data-testid=message][data-author=visitor]');
    assert.equal(await visitorMsgs.count(), 2);
    assert.match(await visitorMsgs.first().getAttribute('class'), /\bmsg-them\b/);
    assert.equal(await text(visitorMsgs.first().locator('.msg-author')), 'Vera Visitor');
    // The handoff summary: the bot's note, labelled as such.
    assert.equal(await text(note.locator('[data-testid=handoff-label]')), 'Handoff summary');
    assert.equal(await text(note.locator('.msg-author')), 'Sunny');
    assert.equal(await text(note.locator('[data-testid=author-badge]')), 'Bot');
    assert.equal(await text(note.locator('.handoff-text')), 'Asks for a person about: "Can I talk to a person, please?". Order A-1042, parcel late.');
    assert.equal(await note.locator('.note-label').count(), 0, 'one label: the summary’s title');
    // In the thread: the bot's reply, then its summary, in order.
    const kinds = await conv.locator('.thread [data-seq]').evaluateAll((els) => els.map((e) => `${e.dataset.kind}:${e.dataset.author || ''}`));
    assert.deepEqual(kinds.slice(0, 5), ['message:visitor', 'message:bot', 'message:visitor', 'message:bot', 'note:bot']);
    // The header and the list say a bot handled it first.
    assert.equal(await text(conv.locator('[data-testid=conv-status]')), 'Assigned');
    // The visitor panel says so; with the panel closed, the header does.
    assert.equal(await text(ph.locator('[data-testid=visitor-bot]')), 'Handled first by bot Sunny');
    assert.equal(await conv.locator('[data-testid=conv-bot]').isVisible(), false, 'said once');
    await ph.click('[aria-label="Visitor details"]');
    await ph.locator('[data-testid=visitor-panel]').waitFor({ state: 'detached' });
    assert.equal(await text(conv.locator('[data-testid=conv-bot] .conv-bot-text')), 'handled first by bot Sunny');
    await ph.click('[aria-label="Visitor details"]');
    assert.equal(await text(item.locator('[data-testid=conv-item-bot]')), 'Sunny');
    assert.match(await text(item.locator('.conv-preview')), /^Handoff: Asks for a person/);
    // Hana answers; the visitor sees her.
    const input = ph.locator('[data-testid=composer-input]');
    await input.click();
    await input.type('Hi Vera, Hana here. Let me look at order A-1042.');
    await input.press('Enter');
    await v.next(
      msgCreated(cid, (m) => m.author.kind === 'agent'),
      10000,
      'Hana’s reply',
    );
    // The bot heard nothing of it.
    assert.ok(!F.bots.requests.some((q) => /Hana here/.test(q.body)));

    // --- Edit: a longer timeout, the outlet's team too.
    await page.click('[data-testid=nav-admin-bots]');
    await row(page, bot.id).locator('[data-testid=bot-edit]').click();
    assert.equal(await page.evaluate(() => location.hash), `#/admin/bots/${bot.id}`);
    assert.equal(await page.locator('[data-testid=bot-timeout]').inputValue(), '45');
    assert.equal(await page.locator(`[data-testid=bot-sites-item][data-id="${F.site.id}"] input`).isChecked(), true);
    assert.equal(await page.locator('[data-testid=bot-enabled]').isChecked(), true);
    await page.fill('[data-testid=bot-timeout]', '120');
    await page.locator(`[data-testid=bot-teams-item][data-id="${F.otherTeam}"] input`).check();
    await page.click('[data-testid=bot-save]');
    await page.locator('[data-testid=bot-form]').waitFor({ state: 'detached' });
    await waitFor(async () => (await text(row(page, bot.id).locator('[data-testid=bot-timeout-cell]'))) === '2 minutes', { what: 'the new timeout listed' });
    assert.deepEqual(await row(page, bot.id).locator('.bot-chip').allInnerTexts(), ['Returns', 'Northwind shop']);
    let now = (await adm('GET', `/api/bots/${bot.id}`)).json;
    assert.equal(now.timeout_seconds, 120);
    assert.deepEqual(now.team_ids, [F.otherTeam]);
    assert.deepEqual(now.site_ids, [F.site.id], 'fields not edited are as they were');
    assert.equal(now.enabled, true);

    // --- Disable: new conversations of the site go straight to the queue.
    await row(page, bot.id).locator('[data-testid=bot-edit]').click();
    await page.click('[data-testid=bot-enabled]');
    assert.match(await text(page.locator('[data-testid=bot-form] .wh-toggle')), /new chats go straight to the queue/);
    await page.click('[data-testid=bot-save]');
    await row(page, bot.id).locator('[data-testid=bot-state][data-state=admin]').waitFor();
    assert.equal(await text(row(page, bot.id).locator('[data-testid=bot-state]')), 'Disabled by an admin');
    now = (await adm('GET', `/api/bots/${bot.id}`)).json;
    assert.equal(now.enabled, false);
    assert.equal(now.disabled_reason, 'admin');
    assert.equal(now.timeout_seconds, 120);
    const v2 = await connectVisitor(fx.srv, F.site);
    const next = await v2.ack({ type: 'conversation.start' });
    assert.notEqual(next.conversation.status, 'bot', 'a switched-off bot takes nothing');

    // --- Delete, after confirming: its conversations go to their queues.
    await row(page, bot.id).locator('[data-testid=bot-delete]').click();
    const confirm = page.locator('.modal .confirm-text');
    await confirm.waitFor();
    assert.match(await text(confirm), /^The chats it handles go to their teams’ queues\. Its token stops working/);
    await page.click('.modal .btn.danger');
    await page.locator('.admin .empty:has-text("No bots yet")').waitFor();
    assert.equal((await adm('GET', `/api/bots/${bot.id}`)).status, 404);
    // Its token is revoked; its messages keep its name.
    assert.equal((await api(fx.srv, token, 'GET', `/api/v1/conversations/${cid}`)).status, 401);
    await conv.locator('[data-testid=message][data-author=bot] .msg-author').first().waitFor();
    assert.equal(await text(conv.locator('[data-testid=message][data-author=bot] .msg-author').first()), 'Sunny');

    assert.deepEqual(await A.problems(), []);
    assert.deepEqual(await H.problems(), []);
    await A.context.close();
    await H.context.close();
  },
);

test('a non-admin neither sees the page nor gets the list', async () => {
  const sup = await createAgent(fx.pg, { name: 'Sam Supervisor', role: 'supervisor' });
  const C = await openConsole(fx.browser, fx.srv, { viewport: { width: 1280, height: 800 } });
  await loginUI(C.page, sup);
  assert.equal(await C.page.locator('[data-testid=nav-admin-bots]').count(), 0);
  await C.page.evaluate(() => {
    location.hash = '#/admin/bots';
  });
  await C.page.locator('.admin .empty:has-text("Admins only")').waitFor();
  const s = await login(fx.srv, sup.email, sup.password);
  assert.equal((await request(fx.srv, { path: '/api/bots', jar: s.jar })).status, 403);
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});

// ---------------------------------------------------------------- screenshots

/** Views to look at: every new one, both languages, desktop and phone. */
test('screenshots of the bot views, in English and Chinese, 1280×800 and 390×844', { timeout: 300000 }, async () => {
  const adm = await adminApi();
  const v1admin = await addToken(fx.pg, { scopes: ['admin'] });
  // Sunny takes the shop; a second bot, switched off by its receiver (410), the outlet's team.
  const made = await api(fx.srv, v1admin, 'POST', '/api/v1/bots', {
    json: { name: 'Sunny', url: F.bots.url('/shots/sunny'), site_ids: [F.site.id], timeout_seconds: 90 },
  });
  assert.equal(made.status, 201, made.body);
  const sunny = JSON.parse(made.body);
  F.tokens['/shots/sunny'] = sunny.token;
  const other = JSON.parse(
    (
      await api(fx.srv, v1admin, 'POST', '/api/v1/bots', {
        json: { name: 'Returns helper (after-sales)', url: 'https://bots.example.net/returns/parley/incoming', team_ids: [F.otherTeam], timeout_seconds: 3600 },
      })
    ).body,
  );
  await fx.pg.query("UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'gone', disabled_at = now() - interval '1 hour' WHERE id = $1", [
    other.endpoint_id,
  ]);

  // A conversation Sunny answered and handed to Hana, with its summary.
  const hana = await connectAgent(fx.srv, F.hana, { status: 'online' });
  const v = await connectVisitor(fx.srv, F.site);
  const cid = (await v.ack({ type: 'conversation.start', prechat: { name: 'Vera Visitor', email: 'vera@example.com' } })).conversation.id;
  await sendMessage(v, cid, 'Hello, my parcel for order A-1042 has not arrived yet.');
  await v.next(
    msgCreated(cid, (m) => m.author.kind === 'bot'),
    15000,
    'Sunny’s answer',
  );
  await sendMessage(v, cid, 'It was due last week. I would like to talk to a person.');
  await hana.next((m) => m.type === 'conversation.updated' && m.conversation.id === cid && m.change === 'assigned', 15000, 'the handoff');
  await hana.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'hana-shot-1', body: 'Hi Vera, Hana here. I am looking at order A-1042 now.' });
  await hana.ack({ type: 'status.set', status: 'away' });
  // And one Sunny is still answering (its timeout is 90 s).
  const w = await connectVisitor(fx.srv, F.site);
  const live = (await w.ack({ type: 'conversation.start', prechat: { name: 'Walt Waiting' } })).conversation.id;
  await sendMessage(w, live, 'Do you ship to Canada?');
  await w.next(
    msgCreated(live, (m) => m.author.kind === 'bot'),
    15000,
    'Sunny’s answer to Walt',
  );
  await waitFor(async () => (await adm('GET', '/api/webhooks')).json.data.every((e) => e.stats.pending === 0), { timeoutMs: 10000, what: 'nothing pending' });

  for (const [locale, [w, h]] of screenshotPairs(
    ['en', 'zh-CN'],
    [
      [1280, 800],
      [390, 844],
    ],
  )) {
    const tag = `bots-${locale}-${w}x${h}`;
    const C = await openConsole(fx.browser, fx.srv, { viewport: { width: w, height: h }, locale });
    const page = C.page;
    await loginUI(page, F.admin);
    await page.evaluate(() => {
      location.hash = '#/admin/bots';
    });
    await row(page, sunny.id).waitFor();
    await row(page, other.id).locator('[data-testid=bot-state][data-state=gone]').waitFor();
    await fits(page, `${tag}-list`);
    await shot(page, `${tag}-list`);

    // The create dialog, with the form's refusals and a team another bot has.
    await page.click('[data-testid=new-bot]');
    await page.fill('[data-testid=bot-name]', locale === 'en' ? 'Night shift' : '夜班助手');
    await page.fill('[data-testid=bot-url]', 'http://192.168.1.20/bot');
    await page.fill('[data-testid=bot-timeout]', '2');
    await page.click('[data-testid=bot-save]');
    await page.locator('.modal .field.has-error').first().waitFor();
    assert.match(
      await text(page.locator(`.modal [data-testid=bot-teams-item][data-id="${F.otherTeam}"]`)),
      locale === 'en'
        ? /^Returns\s+now with Returns helper \(after-sales\); moves to this bot$/
        : /^Returns\s+当前由 Returns helper \(after-sales\) 接待；将改由此机器人接待$/,
    );
    await fits(page, `${tag}-create`);
    await shot(page, `${tag}-create`);

    // The secrets dialog, after creating one for real.
    await page.fill('[data-testid=bot-timeout]', '60');
    await page.fill('[data-testid=bot-url]', F.bots.url(`/shots/${locale}/${w}`));
    await page.click('[data-testid=bot-save]');
    await page.locator('[data-testid=bot-secrets-dialog]').waitFor();
    await fits(page, `${tag}-secrets`);
    await shot(page, `${tag}-secrets`);
    await page.locator('[data-testid=bot-how-handoff]').scrollIntoViewIfNeeded();
    await shot(page, `${tag}-secrets-end`);
    await page.click('[data-testid=bot-secrets-done]');
    const mine = (await adm('GET', '/api/bots')).json.data.find((b) => b.url === F.bots.url(`/shots/${locale}/${w}`));
    await adm('DELETE', `/api/bots/${mine.id}`);

    // Editing Sunny.
    await row(page, sunny.id).locator('[data-testid=bot-edit]').click();
    await page.locator('[data-testid=bot-form]').waitFor();
    await fits(page, `${tag}-edit`);
    await shot(page, `${tag}-edit`);
    await page.locator('[data-testid=bot-enabled]').scrollIntoViewIfNeeded();
    await shot(page, `${tag}-edit-end`);
    await page.keyboard.press('Escape');

    // Deleting: the confirmation.
    await row(page, other.id).locator('[data-testid=bot-delete]').click();
    await page.locator('.modal .confirm-text').waitFor();
    await fits(page, `${tag}-delete`);
    await shot(page, `${tag}-delete`);
    await page.keyboard.press('Escape');

    // Its delivery log, whose notice links back to the bot.
    await row(page, sunny.id).locator('[data-testid=bot-log]').click();
    await page.locator('[data-testid=webhook-bot-open]').waitFor();
    await page.locator('[data-testid=delivery-row]').first().waitFor();
    await fits(page, `${tag}-log`);
    await shot(page, `${tag}-log`);

    // A conversation Sunny still answers, as an admin sees it (All open).
    await page.evaluate((id) => {
      location.hash = `#/all/${id}`;
    }, live);
    await page.locator(`[data-testid=conversation][data-id="${live}"] [data-testid=bot-banner]`).waitFor();
    await page.locator(`[data-testid=conversation][data-id="${live}"] [data-testid=message][data-author=bot]`).waitFor();
    await fits(page, `${tag}-answering`);
    await shot(page, `${tag}-answering`);
    await C.context.close();

    // Hana's view of the conversation: Sunny's messages, its summary, "handled first by bot".
    const HC = await openConsole(fx.browser, fx.srv, { viewport: { width: w, height: h }, locale });
    const ph = HC.page;
    await loginUI(ph, F.hana);
    await ph.evaluate((id) => {
      location.hash = `#/mine/${id}`;
    }, cid);
    const conv = ph.locator(`[data-testid=conversation][data-id="${cid}"]`);
    await conv.locator('[data-testid=note][data-author=bot]').waitFor();
    await conv.locator('[data-testid=message][data-author=agent]').waitFor();
    assert.equal(
      await text(conv.locator('[data-testid=note][data-author=bot] [data-testid=handoff-label]')),
      locale === 'en' ? 'Handoff summary' : '转人工摘要',
    );
    assert.equal(await text(conv.locator('[data-testid=message][data-author=bot] [data-testid=author-badge]').first()), locale === 'en' ? 'Bot' : '机器人');
    await fits(ph, `${tag}-conversation`);
    await shot(ph, `${tag}-conversation`);
    if (w > 1000) {
      await ph.click('[data-testid=nav-mine]');
      await convItem(ph, cid).waitFor();
    } else {
      await ph.click('.back-btn');
      await convItem(ph, cid).waitFor();
      await fits(ph, `${tag}-inbox`);
      await shot(ph, `${tag}-inbox`);
    }
    assert.deepEqual(await C.problems(), []);
    assert.deepEqual(await HC.problems(), []);
    await HC.context.close();
  }
  await hana.ack({ type: 'status.set', status: 'offline' });
  for (const b of [sunny, other]) await adm('DELETE', `/api/bots/${b.id}`);
});
