'use strict';
// Screenshots of the console's main views, for review, saved into
// test-results/screenshots/: login, queue, a conversation with the visitor
// panel, the composer with canned responses, transfer, shortcuts help, and
// the admin pages. The workspace is seeded with realistic data first.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { closeAll } = require('../helpers/ws');
const { createTeam, createAgent, createSite, connectAgent, sendMessage, addToTeam } = require('../helpers/fixtures');
const { openConsole, loginUI, shot, convItem } = require('../helpers/browser');
const { UA, visitorWithAgent } = require('../helpers/visitors');

const fx = suite({ browser: 'console' });
const { test } = fx;

fx.setup(async () => {}, { timeout: 90000 });

test('screenshots of the main views', { timeout: 120000 }, async () => {
  const support = await createTeam(fx.pg, 'Support EU');
  const billing = await createTeam(fx.pg, 'Billing');
  const alex = await createAgent(fx.pg, { name: 'Alex Morgan', role: 'admin', teams: [support, billing] });
  await createAgent(fx.pg, { name: 'Sam Rivera', teams: [support] });
  await createAgent(fx.pg, { name: 'Priya Patel', role: 'supervisor', teams: [support, billing], maxChats: 8 });
  const site = await createSite(fx.pg, {
    name: 'Northwind Coffee',
    teamId: support,
    origins: ['https://northwind.example'],
    identitySecret: 'n0rthw1nd-secret-for-tests',
  });
  await fx.pg.query('UPDATE sites SET widget_settings = $2 WHERE id = $1', [
    site.id,
    {
      color: '#0f766e',
      position: 'right',
      greeting: 'Hi! Questions about your order? We reply in minutes.',
      launcher_text: 'Chat with us',
      language: 'auto',
      prechat_fields: [
        { name: 'name', label: 'Your name', type: 'text', required: true },
        { name: 'email', label: 'Email', type: 'email', required: true },
        { name: 'order', label: 'Order number', type: 'text', required: false },
      ],
    },
  ]);
  for (const [shortcut, body] of [
    ['hello', 'Hi there! Thanks for reaching out to Northwind Coffee. How can I help?'],
    ['shipping', 'Orders ship within 24 hours from our Portland roastery. You get a tracking link by email as soon as the parcel leaves.'],
    ['refund', 'I have issued a full refund. It shows on your statement within 3–5 business days.'],
    ['thanks', 'Thanks for your patience — anything else I can do for you?'],
  ]) {
    await fx.pg.query('INSERT INTO canned_responses (shortcut, body) VALUES ($1, $2)', [shortcut, body]);
  }

  // Alex works from node first: takes two chats and talks in them.
  const ws = await connectAgent(fx.srv, alex, { status: 'away' });

  // Maria: verified, with attributes and an earlier closed conversation.
  const maria = await visitorWithAgent(fx.srv, site, {
    userAgent: UA.macSafari,
    identity: { id: 'cust-4821', name: 'Maria Garcia', email: 'maria.garcia@example.com' },
  });
  await maria.ack({ type: 'visitor.update', attributes: { plan: 'Subscription – monthly', lifetime_orders: 14, newsletter: true } });
  const old = (await maria.ack({ type: 'conversation.start', page_url: 'https://northwind.example/faq' })).conversation.id;
  await sendMessage(maria, old, 'Do you ship to Canada?');
  await ws.ack({ type: 'conversation.accept', conversation_id: old });
  await sendMessage(ws, old, 'We do! Shipping to Canada takes 4–6 business days.');
  await ws.ack({ type: 'conversation.close', conversation_id: old });
  const m1 = (
    await maria.ack({
      type: 'conversation.start',
      page_url: 'https://northwind.example/account/orders/NW-20931',
      referrer: 'https://mail.example.com/',
      prechat: { order: 'NW-20931' },
    })
  ).conversation.id;
  await sendMessage(maria, m1, 'Hi! My subscription box was supposed to arrive on Tuesday, but the tracking has not moved since last week.');
  await ws.ack({ type: 'conversation.accept', conversation_id: m1 });
  await sendMessage(ws, m1, 'Hi Maria, sorry about the wait! Let me look up order NW-20931 for you.');
  await sendMessage(ws, m1, 'Carrier confirms it is stuck at the depot — checking options.', { type: 'note.send' });
  await sendMessage(maria, m1, 'Thank you. It is the Ethiopia Guji, I was really looking forward to it 😅');
  await sendMessage(ws, m1, 'I can send a replacement today with express shipping, at no cost. The tracking page is https://northwind.example/track/NW-20931');
  const last = await sendMessage(maria, m1, 'That would be amazing, yes please!');
  await maria.ack({ type: 'read', conversation_id: m1, seq: last.message.seq });

  // Tom: another of Alex's chats, unread.
  const tom = await visitorWithAgent(fx.srv, site, { userAgent: UA.winChrome });
  const t1 = (
    await tom.ack({
      type: 'conversation.start',
      prechat: { name: 'Tom Becker', email: 'tom@becker.example' },
      page_url: 'https://northwind.example/shop/grinders',
    })
  ).conversation.id;
  await sendMessage(tom, t1, 'Which grinder would you recommend for pour-over?');
  await ws.ack({ type: 'conversation.accept', conversation_id: t1 });
  await sendMessage(tom, t1, 'Budget is around $150.');

  // Two visitors waiting in the queue.
  const lee = await visitorWithAgent(fx.srv, site, { userAgent: UA.iphone });
  const l1 = (
    await lee.ack({ type: 'conversation.start', prechat: { name: 'Lee Chen', email: 'lee.chen@example.org' }, page_url: 'https://northwind.example/checkout' })
  ).conversation.id;
  await sendMessage(lee, l1, 'My card keeps getting declined at checkout. Can you help?');
  // Lee has waited a little longer than the next visitor (backdated rather
  // than waited for).
  await fx.pg.query("UPDATE conversations SET queued_at = queued_at - interval '1.2 seconds' WHERE id = $1", [l1]);
  const anon = await visitorWithAgent(fx.srv, site, { userAgent: UA.androidFirefox });
  const a1 = (await anon.ack({ type: 'conversation.start', page_url: 'https://northwind.example/' })).conversation.id;
  await sendMessage(anon, a1, 'hello? is anyone there');
  await ws.close();

  const C = await openConsole(fx.browser, fx.srv);
  const page = C.page;
  await page.waitForSelector('#login-email');
  await shot(page, '01-login');
  await loginUI(page, alex);

  // Mine, with Maria's conversation and the visitor panel.
  await page.click('[data-testid=nav-mine]');
  await convItem(page, m1).click();
  await page.waitForSelector('[data-testid=message]:has-text("That would be amazing")');
  await page.waitForSelector('[data-testid=earlier] .earlier-item');
  await maria.request({ type: 'typing', conversation_id: m1, on: true });
  await page.waitForSelector('[data-testid=typing]');
  await shot(page, '02-conversation-visitor-panel');

  // The queue, with waiting times.
  await page.click('[data-testid=nav-queue]');
  await convItem(page, l1).click();
  await page.waitForSelector('[data-testid=message]:has-text("card keeps getting declined")');
  await shot(page, '03-queue');

  // Composer: a draft note and the canned picker.
  await page.click('[data-testid=nav-mine]');
  await convItem(page, t1).click();
  await page.waitForSelector('[data-testid=message]:has-text("Budget is around")');
  const input = page.locator('[data-testid=composer-input]');
  await input.click();
  await input.type('/');
  await page.waitForSelector('[data-testid=canned-picker]');
  await shot(page, '04-canned-picker');
  await input.press('Escape');
  await input.fill('');

  // Transfer dialog.
  await page.click('[data-testid=transfer]');
  await page.waitForSelector('.modal');
  await shot(page, '05-transfer');
  await page.keyboard.press('Escape');

  // Shortcut help.
  await page.click('[data-testid=conversation] .thread');
  await page.keyboard.press('?');
  await page.waitForSelector('[data-testid=help]');
  await shot(page, '06-shortcuts');
  await page.keyboard.press('Escape');

  // Closed, with search.
  await page.click('[data-testid=nav-closed]');
  await convItem(page, old).click();
  await page.waitForSelector('[data-testid=conversation][data-status=closed]');
  await shot(page, '07-closed');

  // All open (admin).
  await page.click('[data-testid=nav-all]');
  await convItem(page, a1).waitFor();
  await shot(page, '08-all-open');

  // Admin pages.
  await page.click('[data-testid=nav-admin-agents]');
  await page.waitForSelector('[data-testid=agents-table]');
  await shot(page, '10-admin-agents');
  await page.click('[data-testid=invite-agent]');
  await page.waitForSelector('.modal');
  await shot(page, '11-admin-invite');
  await page.keyboard.press('Escape');
  await page.click('[data-testid=nav-admin-teams]');
  await page.waitForSelector('[data-testid=team-card]');
  await shot(page, '12-admin-teams');
  await page.click('[data-testid=nav-admin-sites]');
  await page.waitForSelector('[data-testid=site-item]:has-text("Northwind Coffee")');
  await page.click('[data-testid=site-item]:has-text("Northwind Coffee")');
  await page.waitForSelector('[data-testid=snippet]');
  await shot(page, '13-admin-sites');
  await page.setViewportSize({ width: 1440, height: 1900 });
  await shot(page, '14-admin-sites-full');
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('[data-testid=nav-admin-canned]');
  await page.waitForSelector('[data-testid=canned-table]');
  await shot(page, '15-admin-canned');
  await page.click('[data-testid=nav-admin-tokens]');
  await page.click('[data-testid=new-token]');
  await page.fill('[data-testid=token-name]', 'Helpdesk sync');
  await page.click('[data-testid=scope-transcripts\\:read]');
  await page.click('[data-testid=token-create]');
  await page.waitForSelector('[data-testid=token-secret]');
  await shot(page, '16-admin-token-created');
  await page.click('.modal-foot .btn.primary');
  await page.waitForSelector('[data-testid=token-row]');
  await shot(page, '17-admin-tokens');

  assert.deepEqual(await C.problems(), []);
  await C.context.close();
  await closeAll();
  void addToTeam;
});
