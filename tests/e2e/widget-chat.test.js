'use strict';
// The widget end to end in Chromium: the snippet on a page of another origin
// (and another site: localhost vs 127.0.0.1), the pre-chat form, a live chat
// with an agent driven through /ws/agent (assignment, typing both ways, read
// receipts, links), the unread badge and the page events, keyboard use, the
// mobile full-screen layout, the /demo page, and screenshots for review.

const assert = require('node:assert/strict');

const { createAgent, connectAgent, addToTeam, identityHash, waitFor } = require('../helpers/fixtures');
const { widgetSuite, widgetFrame, launcher, openWidget, screenshot, bubbleTexts, cspViolations } = require('../helpers/widget');

const SETTINGS = {
  color: '#0f766e',
  position: 'right',
  greeting: 'Questions about sizing, orders or returns? We are happy to help.',
  prechat_fields: [
    { name: 'name', label: 'Your name', type: 'text', required: true },
    { name: 'email', label: 'Email', type: 'email', required: true },
    { name: 'order', label: 'Order number', type: 'text', required: false },
  ],
};

let ann;
let agent;
let page;
let frame;
let cid;
const stack = widgetSuite({ settings: SETTINGS });
const { test } = stack;

stack.setup(async () => {
  ann = await createAgent(stack.pg, { name: 'Ann Lee', teams: [stack.team] });
  agent = await connectAgent(stack.srv, ann, { status: 'online' });
});

const events = (p, name) => p.evaluate((n) => window.__parleyEvents.filter((e) => e.event === n).map((e) => e.data), name);

test('the snippet on another origin: launcher, pre-chat form, agent reply, typing both ways, read receipts', async () => {
  page = await stack.newPage();
  assert.notEqual(new URL(stack.host.url).origin, new URL(stack.parley).origin, 'the host page must be on another origin');

  await launcher(page).waitFor();
  assert.equal(await launcher(page).getAttribute('aria-label'), 'Open chat');
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');
  await waitFor(async () => (await events(page, 'ready')).length === 1, { what: 'the ready event' });
  // The brand colour from the settings; the page's hostile `button` rule does not reach it.
  assert.equal(await launcher(page).evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(15, 118, 110)');
  assert.ok(!page.frames().some((f) => f.url().includes('/widget/frame.html')), 'the frame loads only on first open');

  frame = await openWidget(page);
  assert.equal(new URL(frame.url()).searchParams.get('host'), stack.host.origin);
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'true');
  await frame.getByText(SETTINGS.greeting).waitFor();

  // Required fields and the email format are checked before anything is sent.
  await frame.getByRole('button', { name: 'Start conversation' }).click();
  assert.equal(await frame.locator('#pf-name').getAttribute('aria-invalid'), 'true');
  await frame.getByLabel('Your name').fill('Vic Visitor');
  await frame.getByLabel('Email').fill('not-an-email');
  await frame.getByLabel('Order number').fill('A-1042');
  await frame.getByLabel('How can we help?').fill('Hello, where is my order?');
  await frame.getByRole('button', { name: 'Start conversation' }).click();
  await frame.getByText('Please enter a valid email address.').waitFor();
  await frame.getByLabel('Email').fill('vic@example.com');
  await frame.getByRole('button', { name: 'Start conversation' }).click();

  const first = await agent.next(
    (m) => m.type === 'message.created' && m.message.body === 'Hello, where is my order?',
    10000,
    'the first message at the agent',
  );
  cid = first.message.conversation_id;
  const row = (
    await stack.pg.query(
      'SELECT c.status, c.assignee_id, c.prechat, c.page_url, v.name, v.email FROM conversations c JOIN visitors v ON v.id = c.visitor_id WHERE c.id = $1',
      [cid],
    )
  ).rows[0];
  assert.deepEqual(row.prechat, { name: 'Vic Visitor', email: 'vic@example.com', order: 'A-1042' });
  assert.equal(row.page_url, stack.host.url);
  assert.equal(row.name, 'Vic Visitor');
  assert.equal(row.email, 'vic@example.com');
  assert.equal(row.status, 'assigned', 'auto-assigned to the online agent');
  assert.equal(Number(row.assignee_id), ann.id);

  // The visitor sees who joined.
  await frame.locator('.pw-title', { hasText: 'Ann Lee' }).waitFor();
  await frame.getByText('Ann Lee joined the conversation').waitFor();
  await frame.locator('.pw-receipt', { hasText: 'Sent' }).waitFor();

  // Visitor typing reaches the agent.
  await frame.locator('#pw-text').pressSequentially('I ordered', { delay: 20 });
  await agent.next((m) => m.type === 'typing' && m.conversation_id === cid && m.side === 'visitor' && m.on === true, 10000, 'visitor typing');

  // Agent typing reaches the visitor.
  await agent.ack({ type: 'typing', conversation_id: cid, on: true });
  await frame.locator('.pw-typing', { hasText: 'Ann Lee is typing…' }).waitFor();

  // The agent reads and answers; the visitor sees "Seen", the reply (with a
  // safe link) and the typing indicator goes away.
  await agent.ack({ type: 'read', conversation_id: cid, seq: first.message.seq });
  await frame.locator('.pw-receipt', { hasText: 'Seen' }).waitFor();
  const reply = await agent.ack({
    type: 'message.send',
    conversation_id: cid,
    client_msg_id: 'ann-1',
    body: 'Hi Vic! It shipped yesterday, track it at https://track.example.com/A-1042.',
  });
  await frame.locator('.pw-theirs .pw-bubble', { hasText: 'It shipped yesterday' }).waitFor();
  await frame.locator('.pw-typing').waitFor({ state: 'detached' });
  const link = frame.locator('.pw-bubble a');
  assert.equal(await link.getAttribute('href'), 'https://track.example.com/A-1042');
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await link.textContent(), 'https://track.example.com/A-1042');

  // The open widget marks the reply read: the agent gets the visitor's read receipt.
  await agent.next(
    (m) => m.type === 'read' && m.conversation_id === cid && m.side === 'visitor' && m.last_read_seq >= reply.message.seq,
    10000,
    'the visitor read receipt',
  );

  // Enter sends; Shift+Enter would add a line.
  await frame.locator('#pw-text').fill('Great, thank you!');
  await frame.locator('#pw-text').press('Enter');
  await agent.next((m) => m.type === 'message.created' && m.message.body === 'Great, thank you!', 10000, 'the second visitor message');
  assert.deepEqual(await bubbleTexts(frame), [
    'Hello, where is my order?',
    'Hi Vic! It shipped yesterday, track it at https://track.example.com/A-1042.',
    'Great, thank you!',
  ]);

  // The page heard of it.
  const msgs = await events(page, 'message');
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].author, 'Ann Lee');
  assert.match(msgs[0].body, /It shipped yesterday/);
  assert.equal((await events(page, 'open')).length, 1);
  assert.deepEqual(cspViolations(page), []);
});

test('screenshots of the open widget: desktop', async () => {
  await frame.locator('.pw-bubble', { hasText: 'Great, thank you!' }).waitFor();
  // (A repeated "on" within 2 s is not forwarded: "off" first.)
  await agent.ack({ type: 'typing', conversation_id: cid, on: false });
  await agent.ack({ type: 'typing', conversation_id: cid, on: true });
  await frame.locator('.pw-typing').waitFor();
  await screenshot(page, 'desktop-chat');

  const home = await stack.newPage();
  await openWidget(home);
  await screenshot(home, 'desktop-home');
  await home.context().close();
});

test('dark colour scheme and reduced motion are respected', async () => {
  const dark = await stack.newPage({ colorScheme: 'dark', reducedMotion: 'reduce' });
  const f = await openWidget(dark);
  assert.equal(await f.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(20, 22, 27)');
  const motion = await dark.evaluate(() => {
    const host = document.getElementById('parley-widget').shadowRoot;
    return [getComputedStyle(host.querySelector('iframe')).transitionDuration, getComputedStyle(host.querySelector('button')).transitionDuration];
  });
  assert.deepEqual(motion, ['0s', '0s']);
  // A message row animates in, except with reduced motion.
  const rowAnimation = () => {
    const el = document.createElement('li');
    el.className = 'pw-row';
    document.body.appendChild(el);
    const name = getComputedStyle(el).animationName;
    el.remove();
    return name;
  };
  assert.equal(await f.evaluate(rowAnimation), 'none');
  await screenshot(dark, 'desktop-dark-home');
  await dark.context().close();
});

test('unread badge and page events while the widget is closed', async () => {
  await agent.ack({ type: 'typing', conversation_id: cid, on: false });
  await launcher(page).click();
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');
  assert.equal((await events(page, 'close')).length, 1);

  await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'ann-2', body: 'Anything else I can do?' });
  const badge = launcher(page).locator('span[aria-hidden="true"]');
  await waitFor(async () => (await badge.textContent()) === '1' && (await badge.isVisible()), { what: 'the unread badge', timeoutMs: 10000 });
  assert.equal(await launcher(page).getAttribute('aria-label'), 'Open chat (1 unread)');
  await waitFor(async () => (await events(page, 'unread')).some((d) => d.count === 1), { what: 'the unread event' });
  await screenshot(page, 'desktop-unread-badge');

  await launcher(page).click();
  await frame.locator('.pw-bubble', { hasText: 'Anything else I can do?' }).waitFor();
  await waitFor(async () => !(await badge.isVisible()), { what: 'the badge to go' });
  await waitFor(async () => (await events(page, 'unread')).slice(-1)[0].count === 0, { what: 'unread back to 0' });
});

test('keyboard: Enter opens, focus moves into the chat, Escape closes and returns focus', async () => {
  await launcher(page).click(); // close
  await launcher(page).focus();
  await page.keyboard.press('Enter');
  await waitFor(async () => (await launcher(page).getAttribute('aria-expanded')) === 'true', { what: 'open by keyboard' });
  await waitFor(() => frame.evaluate(() => document.activeElement && document.activeElement.id === 'pw-text'), { what: 'focus in the composer' });
  await page.keyboard.type('typed with the keyboard');
  await page.keyboard.press('Enter');
  await agent.next((m) => m.type === 'message.created' && m.message.body === 'typed with the keyboard', 10000, 'the keyboard message');
  await page.keyboard.press('Escape');
  await waitFor(async () => (await launcher(page).getAttribute('aria-expanded')) === 'false', { what: 'closed by Escape' });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'parley-widget', 'focus returns to the launcher');
  // The chat log is announced politely.
  assert.equal(await frame.locator('ol.pw-msgs').getAttribute('role'), 'log');
  assert.equal(await frame.locator('ol.pw-msgs').getAttribute('aria-live'), 'polite');
});

test('mobile (360 px): the open widget fills the screen', async () => {
  // A phone-sized viewport. (isMobile/deviceScaleFactor emulation is left
  // out: Playwright then mis-computes click targets inside the cross-site,
  // out-of-process chat frame.)
  const ctx = await stack.newContext({ viewport: { width: 360, height: 740 } });
  const m = await stack.newPage({}, { ctx });
  await launcher(m).waitFor();
  await screenshot(m, 'mobile-closed');
  const f = await openWidget(m);
  const box = await m.evaluate(() => {
    const r = document.getElementById('parley-widget').shadowRoot.querySelector('iframe').getBoundingClientRect();
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  });
  assert.deepEqual(box, { x: 0, y: 0, w: 360, h: 740 });
  assert.ok(!(await launcher(m).isVisible()), 'the launcher hides behind the full-screen chat');
  await f.getByText(SETTINGS.greeting).waitFor();
  await screenshot(m, 'mobile-home');
  await f.getByLabel('Your name').fill('Mo Bile');
  await f.getByLabel('Email').fill('mo@example.com');
  await f.getByLabel('How can we help?').fill('Do you ship to Norway?');
  await f.getByRole('button', { name: 'Start conversation' }).click();
  const ev = await agent.next((m2) => m2.type === 'message.created' && m2.message.body === 'Do you ship to Norway?', 10000, 'the mobile message');
  await agent.ack({
    type: 'message.send',
    conversation_id: ev.message.conversation_id,
    client_msg_id: 'ann-m1',
    body: 'We do! Shipping to Norway takes 3–5 days.',
  });
  await f.locator('.pw-bubble', { hasText: 'Shipping to Norway' }).waitFor();
  await screenshot(m, 'mobile-chat');
  // The minimise button in the frame closes it and brings the launcher back.
  await f.getByRole('button', { name: 'Minimise chat' }).click();
  await launcher(m).waitFor({ state: 'visible' });
  await ctx.close();
});

test('the /demo page shows the widget under its own strict CSP', async () => {
  // The demo site is the first site, made by parleyd on first start, with
  // the team "Support".
  const support = (await stack.pg.query("SELECT id FROM teams WHERE name = 'Support'")).rows[0];
  await addToTeam(stack.pg, ann.id, Number(support.id));
  // A change of an agent's teams closes their sockets (4004): reconnect, as the console does.
  assert.equal((await agent.waitClosed()).code, 4004);
  agent = await connectAgent(stack.srv, ann, { status: 'online' });
  const demo = await stack.newPage({}, { url: `${stack.parley}/demo` });
  await launcher(demo).waitFor();
  const css = await demo.evaluate(() => getComputedStyle(document.querySelector('header')).backgroundImage);
  assert.match(css, /gradient/, 'demo.css is served and applied');
  const f = await openWidget(demo);
  await f.locator('.pw-home').waitFor();
  await screenshot(demo, 'demo-page');
  assert.deepEqual(cspViolations(demo), [], 'the loader must work under script-src/style-src self');
  await widgetFrame(demo);
});

test('the command API: calls queued before the loader, identify with a verified hash, toggle, reset', async () => {
  const secret = 'test-identity-secret';
  await stack.pg.query('UPDATE sites SET identity_secret = $2 WHERE id = $1', [stack.site.id, secret]);
  // The hash signs every field identify() passes: the id, the name and the email.
  const hash = identityHash(secret, 'user-42', { name: 'Una Known', email: 'una@example.com' });
  stack.host.config.head = `<script>
    parley('identify', { id: 'user-42', hash: '${hash}', name: 'Una Known', email: 'una@example.com' });
    parley('open');
  </script>`;
  try {
    const p = await stack.newPage();
    // Opened by the queued call, greeted by name, the form pre-filled.
    const f = await widgetFrame(p);
    await f.getByText('Hi Una Known').waitFor();
    assert.equal(await launcher(p).getAttribute('aria-expanded'), 'true');
    assert.equal(await f.locator('#pf-name').inputValue(), 'Una Known');
    assert.equal(await f.locator('#pf-email').inputValue(), 'una@example.com');
    await f.getByLabel('How can we help?').fill('I am a known customer');
    await f.getByRole('button', { name: 'Start conversation' }).click();
    const ev = await agent.next((m) => m.type === 'message.created' && m.message.body === 'I am a known customer', 10000, 'the verified visitor message');
    const v = (
      await stack.pg.query('SELECT v.verified, v.external_id, v.name FROM conversations c JOIN visitors v ON v.id = c.visitor_id WHERE c.id = $1', [
        ev.message.conversation_id,
      ])
    ).rows[0];
    assert.deepEqual(v, { verified: true, external_id: 'user-42', name: 'Una Known' });

    await p.evaluate(() => window.parley('toggle'));
    assert.equal(await launcher(p).getAttribute('aria-expanded'), 'false');
    await p.evaluate(() => window.parley('toggle'));
    assert.equal(await launcher(p).getAttribute('aria-expanded'), 'true');

    // reset (e.g. on logout): storage cleared, the chat gone, a new anonymous visitor next time.
    const key = `parley:${stack.site.key}`;
    assert.ok(await p.evaluate((k) => localStorage.getItem(k), key));
    await p.evaluate(() => window.parley('reset'));
    assert.equal(await p.evaluate((k) => localStorage.getItem(k), key), null);
    assert.equal(await launcher(p).getAttribute('aria-expanded'), 'false');
    assert.equal(await p.evaluate(() => document.getElementById('parley-widget').shadowRoot.querySelector('iframe')), null, 'the chat frame is removed');
    await waitFor(() => !p.frames().some((x) => x.url().includes('/widget/frame.html')), { what: 'the old frame to detach' });
    await p.evaluate(() => window.parley('open'));
    const f2 = await widgetFrame(p);
    await f2.getByText('Hi there').waitFor();
    assert.equal(await f2.locator('#pf-name').inputValue(), '');
    await p.context().close();
  } finally {
    stack.host.config.head = '';
  }
});

test('a page the site does not allow gets no widget; a site that requires an identity says so', async () => {
  await stack.pg.query('UPDATE sites SET allowed_origins = $2 WHERE id = $1', [stack.site.id, ['https://elsewhere.example']]);
  try {
    const p = await stack.newPage();
    // (The 403 carries no CORS grant, so the page sees a failed fetch.)
    await waitFor(() => p.__log.some((l) => /\[warning\] Parley: /.test(l)), { what: 'the loader warning' });
    assert.equal(await p.locator('#parley-widget').count(), 0, 'no launcher on a page of another origin');
    await p.context().close();
  } finally {
    await stack.pg.query('UPDATE sites SET allowed_origins = $2 WHERE id = $1', [stack.site.id, [stack.host.origin]]);
  }

  await stack.pg.query('UPDATE sites SET identity_required = true WHERE id = $1', [stack.site.id]);
  try {
    const p = await stack.newPage();
    const f = await openWidget(p);
    await f.getByText('Chat is not available on this page.').waitFor();
    await f.getByRole('button', { name: 'Minimise chat' }).click();
    await waitFor(async () => (await launcher(p).getAttribute('aria-expanded')) === 'false', { what: 'minimised' });
    await p.context().close();
  } finally {
    await stack.pg.query('UPDATE sites SET identity_required = false WHERE id = $1', [stack.site.id]);
  }
});
