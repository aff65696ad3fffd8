'use strict';
// The widget survives what real visitors do to it: reloading the page in the
// middle of a conversation, losing the network (a TCP proxy between Chromium
// and parleyd resets every connection and refuses new ones), typing while
// offline, an acknowledgement lost with the connection, and two open tabs.
// Nothing is lost and nothing is duplicated.

const assert = require('node:assert/strict');

const { createAgent, connectAgent, waitFor } = require('../helpers/fixtures');
const { widgetSuite, widgetFrame, launcher, openWidget, bubbleTexts, screenshot } = require('../helpers/widget');

let agent;
let page;
let frame;
let cid;
const stack = widgetSuite({ proxy: true, settings: { color: '#7c3aed' } });
const { test } = stack;

stack.setup(async () => {
  const ann = await createAgent(stack.pg, { name: 'Ann Lee', teams: [stack.team] });
  // The agent talks to parleyd directly: only the visitor's network fails.
  agent = await connectAgent(stack.srv, ann, { status: 'online' });
});

const countInDb = async (body) =>
  Number((await stack.pg.query('SELECT count(*) FROM messages WHERE conversation_id = $1 AND body = $2', [cid, body])).rows[0].count);
const agentCopies = (body) => agent.seen((m) => m.type === 'message.created' && m.message.body === body).length;
const send = async (f, text) => {
  await f.locator('#pw-text').fill(text);
  await f.locator('#pw-text').press('Enter');
};

test('a reload in the middle of a conversation keeps its history', async () => {
  page = await stack.newPage();
  frame = await openWidget(page);
  await frame.getByLabel('How can we help?').fill('first message');
  await frame.getByRole('button', { name: 'Start conversation' }).click();
  const ev = await agent.next((m) => m.type === 'message.created' && m.message.body === 'first message', 10000, 'the first message');
  cid = ev.message.conversation_id;
  await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'r-1', body: 'reply one' });
  await frame.locator('.pw-bubble', { hasText: 'reply one' }).waitFor();

  await page.reload();
  await launcher(page).waitFor();
  // A conversation is in progress: the chat frame is there at once (hidden),
  // so that replies can raise the unread badge.
  frame = await widgetFrame(page);
  assert.equal(await launcher(page).getAttribute('aria-expanded'), 'false');
  await launcher(page).click();
  await frame.locator('.pw-bubble', { hasText: 'reply one' }).waitFor();
  assert.deepEqual(await bubbleTexts(frame), ['first message', 'reply one']);
  await frame.getByText('Ann Lee joined the conversation').waitFor();
});

test('a network drop: "reconnecting", a message typed offline is sent once, missed messages arrive', async () => {
  stack.proxy.down();
  await frame.locator('.pw-banner', { hasText: 'Reconnecting…' }).waitFor({ timeout: 15000 });
  await send(frame, 'typed while offline');
  await frame.locator('.pw-pending', { hasText: 'typed while offline' }).waitFor();
  await frame.locator('.pw-pending .pw-meta', { hasText: 'Waiting for network' }).waitFor();
  await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'r-2', body: 'sent while you were offline' });
  await screenshot(page, 'desktop-reconnecting');

  stack.proxy.up();
  await agent.next((m) => m.type === 'message.created' && m.message.body === 'typed while offline', 30000, 'the message typed offline');
  await frame.locator('.pw-bubble', { hasText: 'sent while you were offline' }).waitFor();
  await frame.locator('.pw-banner').waitFor({ state: 'detached' });
  await frame.locator('.pw-pending').waitFor({ state: 'detached' });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await countInDb('typed while offline'), 1);
  assert.equal(agentCopies('typed while offline'), 1);
  assert.deepEqual(await bubbleTexts(frame), ['first message', 'reply one', 'sent while you were offline', 'typed while offline']);
});

test('an acknowledgement lost with the connection: the resend with the same client_msg_id is not duplicated', async () => {
  const cut = stack.proxy.cutAfterClientFrame((t) => t.includes('"message.send"') && t.includes('ack lost'));
  await send(frame, 'ack lost');
  await cut; // the server has the frame; the ack never came back
  await agent.next((m) => m.type === 'message.created' && m.message.body === 'ack lost', 10000, 'the message whose ack was lost');
  await frame.locator('.pw-banner', { hasText: 'Reconnecting…' }).waitFor({ timeout: 15000 });
  stack.proxy.up();
  await frame.locator('.pw-banner').waitFor({ state: 'detached', timeout: 30000 });
  await frame.locator('.pw-pending').waitFor({ state: 'detached' });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await countInDb('ack lost'), 1);
  assert.equal(agentCopies('ack lost'), 1);
  const texts = await bubbleTexts(frame);
  assert.equal(texts.filter((t) => t === 'ack lost').length, 1);
});

test('two tabs show the same conversation and both get every event', async () => {
  const page2 = await stack.newPage({}, { ctx: page.context() });
  const frame2 = await widgetFrame(page2);
  await launcher(page2).click();
  await waitFor(async () => JSON.stringify(await bubbleTexts(frame2)) === JSON.stringify(await bubbleTexts(frame)), {
    what: 'the second tab to show the same history',
    timeoutMs: 10000,
  });

  await agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'r-3', body: 'to both tabs' });
  await frame.locator('.pw-bubble', { hasText: 'to both tabs' }).waitFor();
  await frame2.locator('.pw-bubble', { hasText: 'to both tabs' }).waitFor();

  await send(frame2, 'from the second tab');
  await agent.next((m) => m.type === 'message.created' && m.message.body === 'from the second tab', 10000, 'the second tab message');
  await frame.locator('.pw-bubble', { hasText: 'from the second tab' }).waitFor();
  await new Promise((r) => setTimeout(r, 300));
  const one = await bubbleTexts(frame);
  const two = await bubbleTexts(frame2);
  assert.deepEqual(one, two);
  assert.equal(one.filter((t) => t === 'to both tabs').length, 1);
  assert.equal(one.filter((t) => t === 'from the second tab').length, 1);
  assert.equal(agentCopies('from the second tab'), 1);

  // The agent ends it: both tabs see it closed.
  await agent.ack({ type: 'conversation.close', conversation_id: cid });
  await frame.getByText('The agent ended the conversation').waitFor();
  await frame2.getByText('The agent ended the conversation').waitFor();
  await frame2.getByRole('button', { name: 'Start a new conversation' }).waitFor();
});
