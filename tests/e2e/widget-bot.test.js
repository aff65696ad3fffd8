'use strict';
// An agent bot in the widget, in Chromium: the site hands new conversations
// to a bot (a real HTTP server on loopback that answers through the REST API
// with the bot's token); the visitor sees the bot's name and "Automated
// assistant" in the header and its answer; asking for a person makes the bot
// reply with the handoff action: an online agent gets the conversation with
// the bot's summary note, and the visitor sees the agent join. Screenshots at
// 1280x800 and 390x844, in en and zh-CN.

const assert = require('node:assert/strict');

const { createAgent, connectAgent } = require('../helpers/fixtures');
const { widgetSuite, openWidget, screenshot } = require('../helpers/widget');
const { addToken, api } = require('../helpers/api');
const { startReceiver } = require('../helpers/hookrecv');

const stack = widgetSuite({
  settings: { color: '#0f766e' },
  env: { PARLEY_WEBHOOK_ALLOW_HTTP: '1', PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8' },
});
const { test } = stack;
const B = {};

const REPLIES = {
  greet: 'Hi! I am Sunny, the shop assistant. I can track orders and explain returns.',
  human: 'Of course: a person from our team will take it from here.',
};

stack.setup(async () => {
  B.ann = await createAgent(stack.pg, { name: 'Ann Lee', teams: [stack.team] });
  B.agent = await connectAgent(stack.srv, B.ann, { status: 'online' });
  B.server = await startReceiver({
    respond: (req) => {
      const ev = JSON.parse(req.body);
      if (ev.type === 'message.created' && ev.data.author.kind === 'visitor') {
        const wantsHuman = /person|human|人工/i.test(ev.data.body);
        setImmediate(() =>
          api(stack.srv, B.bot, 'POST', `/api/v1/conversations/${ev.data.conversation_id}/messages`, {
            json: {
              body: wantsHuman ? REPLIES.human : REPLIES.greet,
              idempotency_key: `re-${ev.data.id}`,
              ...(wantsHuman ? { handoff: { summary: `Visitor asked for a person after: "${ev.data.body}"` } } : {}),
            },
          }),
        );
      }
      return { status: 204 };
    },
  });
  const admin = await addToken(stack.pg, { scopes: ['admin'] });
  const made = await api(stack.srv, admin, 'POST', '/api/v1/bots', {
    json: { name: 'Sunny', url: B.server.url('/bot'), site_ids: [stack.site.id], timeout_seconds: 120 },
  });
  assert.equal(made.status, 201, made.body);
  B.bot = { token: JSON.parse(made.body).token };
});

stack.teardown(async () => {
  await B.server.close();
});

/** A visitor who wrote first; resolves { page, frame }. */
async function visitor({ locale = 'en-US', viewport, first }) {
  const ctx = await stack.newContext({ locale, ...(viewport ? { viewport } : {}) });
  const page = await stack.newPage({}, { ctx });
  const frame = await openWidget(page);
  await frame.locator('#pw-first').fill(first);
  await frame.locator('.pw-form button[type=submit]').click();
  return { page, frame };
}

test('the bot answers under its name and hands the visitor to a person', async () => {
  const { page, frame } = await visitor({ first: 'Hello, where is my parcel?' });
  // The bot's answer, under its name; the header names the bot.
  await frame.locator('.pw-theirs .pw-bubble', { hasText: 'I am Sunny' }).waitFor({ timeout: 15000 });
  await frame.locator('.pw-title', { hasText: 'Sunny' }).waitFor();
  await frame.locator('.pw-sub', { hasText: 'Automated assistant' }).waitFor();
  assert.equal(await frame.locator('.pw-note', { hasText: /queue|wait/i }).count(), 0, 'no queue note while the bot answers');
  await screenshot(page, 'bot-answers-1280');

  // Asking for a person: the bot replies, hands off; Ann gets it with the summary note.
  await frame.locator('#pw-text').fill('I would like to talk to a person');
  await frame.locator('#pw-text').press('Enter');
  const assigned = await B.agent.next((m) => m.type === 'conversation.updated' && m.change === 'assigned', 15000, 'the handoff reaching Ann');
  const cid = assigned.conversation.id;
  assert.equal(assigned.conversation.assignee.id, B.ann.id);
  assert.equal(assigned.conversation.bot.name, 'Sunny');
  const notes = await stack.pg.query("SELECT author_kind, body FROM messages WHERE conversation_id = $1 AND kind = 'note'", [cid]);
  assert.deepEqual(notes.rows, [{ author_kind: 'bot', body: 'Visitor asked for a person after: "I would like to talk to a person"' }]);
  await frame.locator('.pw-theirs .pw-bubble', { hasText: 'a person from our team' }).waitFor();
  await frame.locator('.pw-title', { hasText: 'Ann Lee' }).waitFor({ timeout: 15000 });
  await frame.getByText('Ann Lee joined the conversation').waitFor();
  // The note never reaches the visitor.
  assert.equal(await frame.getByText('Visitor asked for a person').count(), 0);
  await screenshot(page, 'bot-handed-off-1280');

  // Ann answers; the visitor sees her.
  await B.agent.ack({ type: 'message.send', conversation_id: cid, client_msg_id: 'ann-bot-1', body: 'Hi, Ann here. Let me look up your parcel.' });
  await frame.locator('.pw-theirs .pw-bubble', { hasText: 'Ann here' }).waitFor();
});

test('the bot in Chinese and on a phone', async () => {
  const zh = await visitor({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, first: '你好，我的包裹在哪里？' });
  await zh.frame.locator('.pw-theirs .pw-bubble', { hasText: 'I am Sunny' }).waitFor({ timeout: 15000 });
  await zh.frame.locator('.pw-sub', { hasText: '自动助手' }).waitFor();
  await screenshot(zh.page, 'bot-answers-zh-390');
  const en = await visitor({ viewport: { width: 390, height: 844 }, first: 'Do you ship to Canada?' });
  await en.frame.locator('.pw-sub', { hasText: 'Automated assistant' }).waitFor({ timeout: 15000 });
  await en.frame.locator('.pw-theirs .pw-bubble', { hasText: 'I am Sunny' }).waitFor();
  await screenshot(en.page, 'bot-answers-390');
  const wide = await visitor({ locale: 'zh-CN', first: '请帮我查一下订单' });
  await wide.frame.locator('.pw-sub', { hasText: '自动助手' }).waitFor({ timeout: 15000 });
  await screenshot(wide.page, 'bot-answers-zh-1280');
});
