'use strict';
// The agent console, end to end in Chromium: an agent logs in, sets a
// status, sees a visitor's chat waiting in the queue (the visitor is driven
// over /ws/visitor from here), accepts it, replies, sees the visitor typing
// and reading, writes an internal note the visitor never receives, uses a
// canned response, transfers the chat to a colleague logged in in another
// browser context, who sees it arrive, answers and closes it.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { createTeam, createAgent, createSite, connectVisitor, sendMessage, waitFor } = require('../helpers/fixtures');
const { openConsole, loginUI, convItem } = require('../helpers/browser');

const fx = suite({ browser: 'console' });
const { test } = fx;

fx.setup(async () => {}, { timeout: 90000 });

const agentStatus = async (id) => (await fx.pg.query('SELECT status FROM agents WHERE id = $1', [id])).rows[0].status;

test('an agent takes a chat from the queue, replies, notes, transfers; the colleague answers and closes', { timeout: 120000 }, async () => {
  const team = await createTeam(fx.pg, 'Front desk');
  const ann = await createAgent(fx.pg, { name: 'Ann Archer', teams: [team] });
  const bob = await createAgent(fx.pg, { name: 'Bob Baker', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team, origins: ['https://shop.example'] });
  await fx.pg.query("INSERT INTO canned_responses (shortcut, body) VALUES ('thanks', 'Thanks for waiting — I am on it!')");

  // Ann logs in and goes online; then steps away (an online agent would get
  // the chat assigned automatically, and this test wants the queue).
  const A = await openConsole(fx.browser, fx.srv);
  const pa = A.page;
  await loginUI(pa, ann);
  await pa.click('.status-opt.status-online');
  await pa.waitForSelector('.status-opt.status-online[aria-checked=true]');
  await waitFor(async () => (await agentStatus(ann.id)) === 'online', { what: 'Ann online in the database' });
  await pa.click('.status-opt.status-away');
  await waitFor(async () => (await agentStatus(ann.id)) === 'away', { what: 'Ann away in the database' });

  // A visitor starts a chat.
  const v = await connectVisitor(fx.srv, site);
  const start = await v.ack({
    type: 'conversation.start',
    prechat: { name: 'Vera Visitor', email: 'vera@example.com', order: 'A-1001' },
    page_url: 'https://shop.example/cart',
    referrer: 'https://search.example/?q=coffee',
  });
  const cid = start.conversation.id;
  await sendMessage(v, cid, 'Hello, my parcel has not arrived.');

  // It waits in Ann's queue, with a live wait time and an alert.
  await pa.waitForSelector('[data-testid=nav-queue] .count:text("1")');
  await pa.click('[data-testid=nav-queue]');
  const item = convItem(pa, cid);
  await item.waitFor();
  assert.match(await item.innerText(), /Vera Visitor/);
  assert.match(await item.locator('.wait').innerText(), /^\d+s$/);
  await waitFor(async () => (await pa.evaluate(() => window.__notifications)).some((n) => n.title === 'New chat waiting'), { what: 'desktop notification' });
  await waitFor(async () => /^\(\d+\) Parley$/.test(await pa.title()), { what: 'unread count in the title' });

  await item.click();
  await pa.waitForSelector('[data-testid=conversation] [data-testid=message]:has-text("parcel has not arrived")');
  assert.equal(await pa.locator('[data-testid=conv-status]').textContent(), 'queued');
  // The visitor panel: name, email, page, referrer, pre-chat answers.
  const panel = pa.locator('[data-testid=visitor-panel]');
  await panel.waitFor();
  assert.equal(await panel.locator('[data-testid=visitor-email] dd').innerText(), 'vera@example.com');
  assert.equal(await panel.locator('[data-testid=visitor-page] a').getAttribute('href'), 'https://shop.example/cart');
  assert.equal(await panel.locator('[data-testid=visitor-page] a').getAttribute('rel'), 'noopener noreferrer');
  assert.match(await panel.locator('[data-testid=prechat]').innerText(), /A-1001/);

  // Accept, with the keyboard: leave any field, "a".
  await pa.locator('[data-testid=conversation] .thread').click();
  await pa.keyboard.press('a');
  await pa.waitForSelector('[data-testid=conv-status]:text("assigned")');
  await pa.waitForSelector('[data-testid=nav-mine] .count:text("1")');
  await pa.waitForSelector('[data-testid=capacity] strong:text("1 / 5")');
  const row = (await fx.pg.query('SELECT status, assignee_id FROM conversations WHERE id = $1', [cid])).rows[0];
  assert.equal(row.status, 'assigned');
  assert.equal(Number(row.assignee_id), ann.id);
  await pa.click('.status-opt.status-online');

  // Reply with Enter; Shift+Enter makes a new line.
  const input = pa.locator('[data-testid=composer-input]');
  await input.click();
  await input.type('Hi Vera, sorry about that!');
  await input.press('Shift+Enter');
  await input.type('Let me check.');
  await input.press('Enter');
  const got = await v.next(
    (m) => m.type === 'message.created' && m.message.author.kind === 'agent' && /sorry about that/.test(m.message.body),
    5000,
    'the reply',
  );
  assert.equal(got.message.body, 'Hi Vera, sorry about that!\nLet me check.');
  assert.equal(await input.inputValue(), '');

  // The visitor types, then writes, then reads.
  v.send({ type: 'typing', conversation_id: cid, on: true });
  await pa.waitForSelector('[data-testid=typing]');
  const ack2 = await sendMessage(v, cid, 'It is order A-1001, see https://shop.example/orders/A-1001 please');
  await pa.waitForSelector('[data-testid=message]:has-text("It is order A-1001")');
  await pa.waitForSelector('[data-testid=typing]', { state: 'detached' });
  const link = pa.locator('[data-testid=message] a[href="https://shop.example/orders/A-1001"]');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  assert.ok(ack2.message.seq > 0);
  await v.ack({ type: 'read', conversation_id: cid, seq: ack2.message.seq });
  await pa.waitForSelector('[data-testid=receipt].seen');
  // The console marked the visitor's messages read.
  await waitFor(
    async () =>
      Number((await fx.pg.query('SELECT agent_last_read_seq FROM conversations WHERE id = $1', [cid])).rows[0].agent_last_read_seq) >= ack2.message.seq,
    {
      what: 'agent read marker',
    },
  );

  // An internal note: shown as a note, never sent to the visitor.
  await pa.click('[data-testid=mode-note]');
  await input.type('VIP customer: second late parcel this month');
  await input.press('Enter');
  await pa.waitForSelector('.msg-note[data-testid=note]:has-text("VIP customer")');
  // Ctrl+Enter sends a note from reply mode too.
  await pa.click('[data-testid=mode-reply]');
  await input.type('Refund approved by Carla');
  await input.press('Control+Enter');
  await pa.waitForSelector('.msg-note[data-testid=note]:has-text("Refund approved")');

  // Canned response by typing /shortcut.
  await input.type('/tha');
  await pa.waitForSelector('[data-testid=canned-picker] .canned-opt:has-text("/thanks")');
  await input.press('Enter');
  assert.equal(await input.inputValue(), 'Thanks for waiting — I am on it!');
  await input.press('Enter');
  await v.next((m) => m.type === 'message.created' && m.message.body === 'Thanks for waiting — I am on it!', 5000, 'the canned reply');

  // Bob logs in elsewhere; Ann transfers the chat to him with a reason.
  const B = await openConsole(fx.browser, fx.srv);
  const pb = B.page;
  await loginUI(pb, bob);
  await pa.click('[data-testid=transfer]');
  const bobOption = pa.locator('[data-testid=transfer-agent]', { hasText: 'Bob Baker' });
  await bobOption.locator('input:not([disabled])').waitFor();
  await bobOption.click();
  await pa.fill('[data-testid=transfer-reason]', 'billing question');
  await pa.click('[data-testid=transfer-submit]');
  await pa.waitForSelector('.modal', { state: 'detached' });
  await pa.waitForSelector('[data-testid=nav-mine] .count:text("0")');

  // Bob sees it arrive, with the whole history.
  await pb.waitForSelector('[data-testid=nav-mine] .count:text("1")');
  await waitFor(async () => (await pb.evaluate(() => window.__notifications)).some((n) => n.title === 'Chat transferred to you'), {
    what: "Bob's alert",
  }).catch(async (e) => {
    console.log(await pb.evaluate(() => window.__notifications));
    throw e;
  });
  await pb.click('[data-testid=nav-mine]');
  await convItem(pb, cid).click();
  await pb.waitForSelector('[data-testid=note]:has-text("Transferred to Bob Baker: billing question")');
  await pb.waitForSelector('[data-testid=message]:has-text("Hi Vera, sorry about that!")');
  await pb.waitForSelector('[data-testid=note]:has-text("VIP customer")');
  const pbInput = pb.locator('[data-testid=composer-input]');
  await pbInput.click();
  await pbInput.type('Bob here, I will sort out the refund.');
  await pbInput.press('Enter');
  await v.next((m) => m.type === 'message.created' && m.message.body === 'Bob here, I will sort out the refund.', 5000, "Bob's reply");

  // Bob closes it with the keyboard (Escape leaves the composer, then "e").
  await pbInput.press('Escape');
  await pb.keyboard.press('e');
  await pb.waitForSelector('[data-testid=conv-status]:text("closed")');
  await v.next((m) => m.type === 'conversation.updated' && m.change === 'closed' && m.conversation.id === cid, 5000, 'closed event');
  await pb.waitForSelector('[data-testid=nav-mine] .count:text("0")');
  assert.equal((await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [cid])).rows[0].status, 'closed');

  // The Closed view finds it by message text.
  await pb.click('[data-testid=nav-closed]');
  await pb.fill('[data-testid=closed-search]', 'parcel');
  await convItem(pb, cid).waitFor();
  // Reopen, then close again.
  await convItem(pb, cid).click();
  await pb.click('[data-testid=reopen]');
  await pb.waitForSelector('[data-testid=conv-status]:text("assigned")');
  await v.next((m) => m.type === 'conversation.updated' && m.change === 'reopened' && m.conversation.id === cid, 5000, 'reopened event');
  await pb.waitForSelector('[data-testid=nav-mine] .count:text("1")');
  await pb.click('[data-testid=close]');
  await pb.waitForSelector('[data-testid=conv-status]:text("closed")');

  // The visitor never got a note, neither live nor through sync.
  const notes = ['VIP customer', 'Refund approved', 'Transferred to Bob', 'billing question'];
  const live = JSON.stringify(v.log);
  for (const n of notes) assert.ok(!live.includes(n), `the visitor socket received "${n}"`);
  const sync = await v.ack({ type: 'sync', conversation_id: cid, after_seq: 0 });
  for (const m of sync.messages) {
    assert.notEqual(m.kind, 'note');
    for (const n of notes) assert.ok(!m.body.includes(n), `visitor sync returned "${n}"`);
  }

  assert.deepEqual(await A.problems(), []);
  assert.deepEqual(await B.problems(), []);
  await A.context.close();
  await B.context.close();
});
