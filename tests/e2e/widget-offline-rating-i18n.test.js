'use strict';
// The widget when nobody is online (the offline form leaves a conversation
// the agents see later), rating a conversation after it was closed, and the
// Simplified Chinese UI (from the browser's language, or the site setting).

const assert = require('node:assert/strict');

const { createAgent, connectAgent, waitFor } = require('../helpers/fixtures');
const { widgetSuite, setSettings, launcher, openWidget, screenshot, bubbleTexts } = require('../helpers/widget');

let ann;
let page;
let frame;
let cid;
const stack = widgetSuite({ settings: { color: '#be123c', launcher_text: 'Chat with us' } });
const { test } = stack;

stack.setup(async () => {
  ann = await createAgent(stack.pg, { name: 'Ann Lee', teams: [stack.team] });
});

test('Chinese UI when the browser language is zh-CN (and while nobody is online)', async () => {
  const zh = await stack.newPage({ locale: 'zh-CN' });
  await launcher(zh).waitFor();
  assert.equal(await launcher(zh).getAttribute('aria-label'), '打开聊天');
  const f = await openWidget(zh);
  await f.getByText('你好').first().waitFor();
  await f.getByText('客服暂时不在').waitFor();
  await f.getByRole('button', { name: '发送留言' }).waitFor();
  await f.getByLabel('电子邮箱').waitFor();
  assert.equal(await f.evaluate(() => document.documentElement.lang), 'zh-CN');
  await f.getByRole('button', { name: '发送留言' }).click();
  await f.getByText('请填写此项。').first().waitFor();
  await screenshot(zh, 'desktop-zh-offline');
  await zh.context().close();

  // The site can force a language whatever the browser says.
  await setSettings(stack, { color: '#be123c', launcher_text: 'Chat with us', language: 'en' });
  const en = await stack.newPage({ locale: 'zh-CN' });
  assert.equal(await launcher(en).getAttribute('aria-label'), 'Open chat');
  const fe = await openWidget(en);
  await fe.getByText('We are away right now').waitFor();
  await en.context().close();
  await setSettings(stack, { color: '#be123c', launcher_text: 'Chat with us', language: 'zh-CN' });
  const forced = await stack.newPage({ locale: 'en-US' });
  assert.equal(await launcher(forced).getAttribute('aria-label'), '打开聊天');
  await forced.context().close();
  await setSettings(stack, { color: '#be123c', launcher_text: 'Chat with us' });
});

test('offline form: nobody online, the message waits as an offline conversation', async () => {
  page = await stack.newPage();
  assert.equal((await launcher(page).textContent()).trim(), 'Chat with us');
  frame = await openWidget(page);
  await frame.getByText('We are away right now').waitFor();
  await frame.getByText("Leave us a message and we'll get back to you by email.").waitFor();
  // An email is required to be able to answer.
  await frame.getByLabel('Name').fill('Olga Offline');
  await frame.getByLabel('Message').fill('Do you have the jacket in XL?');
  await frame.getByRole('button', { name: 'Send message' }).click();
  await frame.getByText('Please fill in this field.').waitFor();
  await frame.getByLabel('Email').fill('olga@example.com');
  await frame.getByRole('button', { name: 'Send message' }).click();
  await frame.locator('.pw-bubble', { hasText: 'Do you have the jacket in XL?' }).waitFor();
  await frame.getByText("Thanks! We're away right now and will reply to you as soon as we're back.").waitFor();
  await frame.locator('.pw-receipt', { hasText: 'Sent' }).waitFor();

  const rows = (
    await stack.pg.query(
      'SELECT c.id, c.offline, c.status, c.prechat, v.email FROM conversations c JOIN visitors v ON v.id = c.visitor_id WHERE c.site_id = $1',
      [stack.site.id],
    )
  ).rows;
  assert.equal(rows.length, 1);
  assert.equal(rows[0].offline, true);
  assert.equal(rows[0].status, 'queued');
  assert.equal(rows[0].email, 'olga@example.com');
  assert.deepEqual(rows[0].prechat, { name: 'Olga Offline', email: 'olga@example.com' });
  cid = Number(rows[0].id);
  const msgs = (await stack.pg.query("SELECT body FROM messages WHERE conversation_id = $1 AND kind = 'message'", [cid])).rows;
  assert.deepEqual(
    msgs.map((m) => m.body),
    ['Do you have the jacket in XL?'],
  );
  await screenshot(page, 'desktop-offline-sent');
});

test('an agent comes online and answers the offline conversation; after closing, the visitor rates it', async () => {
  const agent = await connectAgent(stack.srv, ann, { status: 'online' });
  // Still waiting in the team's queue: the agent takes it.
  await agent.request({ type: 'conversation.accept', conversation_id: cid });
  await waitFor(async () => (await stack.pg.query('SELECT status FROM conversations WHERE id = $1', [cid])).rows[0].status === 'assigned', {
    what: 'assigned',
  });
  await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'o-1', body: 'Yes, XL is in stock!' });
  await frame.locator('.pw-bubble', { hasText: 'Yes, XL is in stock!' }).waitFor();
  await agent.ack({ type: 'conversation.close', conversation_id: cid });

  await frame.getByText('The agent ended the conversation').waitFor();
  await frame.getByText('How was your conversation?').waitFor();
  assert.equal(await frame.locator('#pw-text').count(), 0, 'no composer on a closed conversation');
  const good = frame.getByRole('button', { name: 'Good' });
  await good.click();
  assert.equal(await good.getAttribute('aria-pressed'), 'true');
  assert.equal(await frame.getByRole('button', { name: 'Bad' }).getAttribute('aria-pressed'), 'false');
  await frame.getByPlaceholder('Tell us more (optional)').fill('Quick and friendly.');
  await screenshot(page, 'desktop-rating');
  await frame.getByRole('button', { name: 'Send feedback' }).click();
  await frame.getByText('Thanks for your feedback!').waitFor();
  const row = (await stack.pg.query('SELECT rating, rating_comment FROM conversations WHERE id = $1', [cid])).rows[0];
  assert.deepEqual(row, { rating: 'good', rating_comment: 'Quick and friendly.' });

  // After a reload the closed, rated conversation is still shown; a new
  // one can be started.
  await page.reload();
  const f = await openWidget(page);
  await f.getByText('Thanks for your feedback!').waitFor();
  assert.deepEqual(await bubbleTexts(f), ['Do you have the jacket in XL?', 'Yes, XL is in stock!']);
  await f.getByRole('button', { name: 'Start a new conversation' }).click();
  await f.getByRole('button', { name: 'Start conversation' }).waitFor();
  await f.getByLabel('How can we help?').fill('One more question');
  await f.getByRole('button', { name: 'Start conversation' }).click();
  const ev = await agent.next((m) => m.type === 'message.created' && m.message.body === 'One more question', 10000, 'the new conversation');
  assert.notEqual(ev.message.conversation_id, cid);
  await f.locator('.pw-title', { hasText: 'Ann Lee' }).waitFor();
});

test('queue position and estimated wait while every agent is busy', async () => {
  // Online, but with no free seat: the conversation waits in the queue.
  await stack.pg.query('UPDATE agents SET max_chats = 1 WHERE id = $1', [ann.id]);
  const p = await stack.newPage();
  const f = await openWidget(p);
  await f.getByLabel('How can we help?').fill('Is anyone there?');
  await f.getByRole('button', { name: 'Start conversation' }).click();
  await f.locator('.pw-note', { hasText: /You're #1 in line · about \d+ min/ }).waitFor({ timeout: 10000 });
  assert.equal(await f.locator('.pw-sub').textContent(), 'Typically replies in a few minutes');
  await screenshot(p, 'desktop-queued');
  await p.context().close();
});
