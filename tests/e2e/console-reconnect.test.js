'use strict';
// The console through connection trouble. The browser reaches parleyd
// through a TCP proxy (tests/helpers/tcp-proxy.js), so the test can cut the
// connection, swallow the server's replies, and restart parleyd on the same
// database behind the same address. Each draft survives, messages sent
// while offline go out once the socket is back (with their client_msg_id,
// so a resend after a lost ack is not stored twice), and what the visitor
// wrote meanwhile appears: nothing lost, nothing doubled.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectVisitor, sendMessage, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, convItem, waitConnectedUI, shot } = require('../helpers/browser');
const { startTcpProxy } = require('../helpers/tcp-proxy');

let srv2;
let proxy;
const fx = suite({ browser: 'console' });
const { test } = fx;

fx.setup(async () => {
  proxy = await startTcpProxy({ target: fx.srv.port });
});

fx.teardown(async () => {
  if (proxy) await proxy.close();
});

const count = (log, body) => log.filter((m) => m.type === 'message.created' && m.message.body === body).length;
const bubbles = (page, text) => page.locator('[data-testid=conversation] [data-testid=message]', { hasText: text }).count();

test('drafts, unsent messages and the visitor’s messages survive drops and a server restart', { timeout: 150000 }, async () => {
  const team = await createTeam(fx.pg);
  const ann = await createAgent(fx.pg, { name: 'Rita Resilient', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://shop.example'] });

  const C = await openConsole(fx.browser, fx.srv, { origin: proxy.origin });
  const page = C.page;
  await loginUI(page, ann);
  await page.click('.status-opt.status-online');

  // Two visitors; both chats are assigned to Rita (she is online).
  const v1 = await connectVisitor(fx.srv, site);
  const c1 = (await v1.ack({ type: 'conversation.start', prechat: { name: 'Olga One' } })).conversation.id;
  await sendMessage(v1, c1, 'first question');
  const v2 = await connectVisitor(fx.srv, site);
  const c2 = (await v2.ack({ type: 'conversation.start', prechat: { name: 'Tim Two' } })).conversation.id;
  await sendMessage(v2, c2, 'second question');
  await page.waitForSelector('[data-testid=nav-mine] .count:text("2")');

  // A draft in each conversation; switching keeps each one.
  await page.click('[data-testid=nav-mine]');
  const input = page.locator('[data-testid=composer-input]');
  await convItem(page, c1).click();
  await input.fill('draft for Olga');
  await convItem(page, c2).click();
  await page.waitForSelector('[data-testid=message]:has-text("second question")');
  assert.equal(await input.inputValue(), '');
  await input.fill('draft for Tim');
  await convItem(page, c1).click();
  assert.equal(await input.inputValue(), 'draft for Olga');
  assert.match(await convItem(page, c2).textContent(), /Draft: draft for Tim/);
  // Unread marker: a message in the chat not in view.
  await sendMessage(v2, c2, 'are you there?');
  await convItem(page, c2).locator('[data-testid=unread]').waitFor();
  assert.equal((await convItem(page, c2).locator('[data-testid=unread]').textContent()).trim(), '1');
  await page.waitForFunction(() => /^\(1\) Parley$/.test(document.title));
  // k/j move through the list (Tim's chat is on top now: latest activity).
  await input.press('Escape');
  await page.keyboard.press('k');
  await page.waitForSelector(`[data-testid=conversation][data-id="${c2}"]`);
  assert.equal(await input.inputValue(), 'draft for Tim');
  await page.waitForFunction(() => document.title === 'Parley');
  await page.keyboard.press('j');
  await page.waitForSelector(`[data-testid=conversation][data-id="${c1}"]`);
  assert.equal(await input.inputValue(), 'draft for Olga');

  // --- 1. The network drops. The visitor writes meanwhile; Rita sends a reply.
  proxy.setDown(true);
  proxy.dropAll();
  await page.waitForSelector('[data-testid=connection]:not([data-state=open])');
  await page.waitForSelector('.banner-warn:has-text("offline")');
  await sendMessage(v1, c1, 'written while you were offline');
  await input.fill('');
  await input.type('reply typed while offline');
  await input.press('Enter');
  await page.waitForSelector('[data-testid=pending]:has-text("reply typed while offline")');
  assert.match(await page.locator('[data-testid=pending]').textContent(), /Waiting for connection/);
  await shot(page, '30-offline');
  proxy.setDown(false);
  await waitConnectedUI(page, 20000);
  await page.waitForSelector('[data-testid=message]:has-text("written while you were offline")');
  await page.waitForSelector('[data-testid=message]:has-text("reply typed while offline")');
  await page.waitForSelector('[data-testid=pending]', { state: 'detached' });
  await v1.next((m) => m.type === 'message.created' && m.message.body === 'reply typed while offline', 5000, 'the reply sent after reconnecting');

  // --- 2. The ack is lost: the server stores the message, its answer never arrives.
  proxy.muteReplies(true);
  await input.type('reply whose ack was lost');
  await input.press('Enter');
  await v1.next((m) => m.type === 'message.created' && m.message.body === 'reply whose ack was lost', 5000, 'the stored reply');
  await page.waitForSelector('[data-testid=pending]:has-text("reply whose ack was lost")');
  proxy.dropAll();
  proxy.muteReplies(false);
  await waitConnectedUI(page, 20000);
  await page.waitForSelector('[data-testid=pending]', { state: 'detached' });
  assert.equal(await bubbles(page, 'reply whose ack was lost'), 1);
  const stored = await fx.pg.query('SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND body = $2', [c1, 'reply whose ack was lost']);
  assert.equal(stored.rows[0].n, 1, 'the resent message was not stored twice');

  // --- 3. parleyd restarts on the same database, behind the same address.
  await fx.srv.stop();
  await page.waitForSelector('[data-testid=connection]:not([data-state=open])');
  await input.type('reply during the restart');
  await input.press('Enter');
  srv2 = await fx.startNode();
  proxy.setTarget(srv2.port);
  const v1b = await connectVisitor(srv2, site, { token: v1.token, label: 'visitor again' });
  await sendMessage(v1b, c1, 'written after the restart');
  await page.click('.conn .link-btn').catch(() => {}); // "Retry now", if it is waiting
  await waitConnectedUI(page, 30000);
  await page.waitForSelector('[data-testid=message]:has-text("written after the restart")');
  await page.waitForSelector('[data-testid=message]:has-text("reply during the restart")');
  await v1b.next((m) => m.type === 'message.created' && m.message.body === 'reply during the restart', 5000, 'the reply sent during the restart');

  // Nothing lost, nothing doubled, in the console and for the visitor.
  for (const body of [
    'first question',
    'written while you were offline',
    'reply typed while offline',
    'reply whose ack was lost',
    'written after the restart',
    'reply during the restart',
  ]) {
    assert.equal(await bubbles(page, body), 1, `"${body}" shown once`);
  }
  const all = [...v1.log, ...v1b.log];
  for (const body of ['reply typed while offline', 'reply whose ack was lost', 'reply during the restart']) {
    assert.equal(count(all, body), 1, `the visitor got "${body}" once`);
  }
  const seqs = await fx.pg.query('SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq', [c1]);
  const shown = await page.$$eval('[data-testid=conversation] [data-seq]', (els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(
    shown,
    seqs.rows.map((r) => Number(r.seq)),
    'the thread holds every message, in order',
  );
  // Tim's draft is still there.
  await convItem(page, c2).click();
  assert.equal(await input.inputValue(), 'draft for Tim');
  await waitFor(async () => (await page.locator('[data-testid=message]:has-text("are you there?")').count()) === 1, { what: "Tim's message" });
  assert.deepEqual(await C.problems(), []);
  await C.context.close();
});
