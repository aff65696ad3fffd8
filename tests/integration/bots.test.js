'use strict';
// Agent bots, end to end: an admin creates a bot (its endpoint's secret and
// its token shown once) and gives it a site; the site's new conversations
// start with the bot (status 'bot', no agent is offered them); the bot hears
// the conversation and the visitor's messages (signed with its secret),
// answers through the REST API under its own name, and hands off with the
// handoff action of a reply: the conversation is queued in its team with
// the bot's summary as an internal note, an online agent gets it, and the
// bot hears nothing more of it and may not write to it. A bot that leaves a
// message unanswered past its timeout hands off by itself; an integration
// hands off through POST /conversations/{id}/handoff; a bot switched off or
// deleted hands its conversations over.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { assertProblem, assertJson } = require('../helpers/assert');
const {
  createTeam,
  createSite,
  createAgent,
  connectVisitor,
  connectAgent,
  agentSession,
  startConversation,
  sendMessage,
  convUpdated,
  msgCreated,
  waitFor,
} = require('../helpers/fixtures');
const { addToken, api } = require('../helpers/api');
const { request } = require('../helpers/http');
const { startReceiver, verifyWebhook } = require('../helpers/hookrecv');

const fx = suite({
  env: {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
    PARLEY_AGENT_GRACE_SECONDS: '86400',
  },
});
const { test } = fx;
const F = {};

/** Replies the bot server sends, keyed by the visitor's text. */
const script = {
  hello: { body: 'Hi! I am Botty. How can I help?' },
  'human please': { body: 'Let me find a person for you.', handoff: { summary: 'Wants a human: billing question' } },
};

fx.setup(async () => {
  F.admin = await addToken(fx.pg, { scopes: ['admin'] });
  F.integration = await addToken(fx.pg, { scopes: ['conversations:write', 'conversations:read'] });
  F.team = await createTeam(fx.pg, 'Bot team');
  F.site = await createSite(fx.pg, { teamId: F.team });
  F.plainTeam = await createTeam(fx.pg, 'No bot team');
  F.plainSite = await createSite(fx.pg, { teamId: F.plainTeam });
  F.agent = await createAgent(fx.pg, { name: 'Hana Human', teams: [F.team], maxChats: 50 });
  F.replies = [];
  // The bot's server: answers each visitor message through the REST API.
  F.server = await startReceiver({
    respond: (req) => {
      const ev = JSON.parse(req.body);
      if (ev.type === 'message.created' && ev.data.author.kind === 'visitor' && script[ev.data.body]) {
        setImmediate(async () => {
          const r = await api(fx.srv, F.bot, 'POST', `/api/v1/conversations/${ev.data.conversation_id}/messages`, {
            json: { ...script[ev.data.body], idempotency_key: `re-${ev.data.id}` },
          });
          F.replies.push(r);
        });
      }
      return { status: 204 };
    },
  });
  const made = await api(fx.srv, F.admin, 'POST', '/api/v1/bots', {
    json: { name: 'Botty', url: F.server.url('/bot'), site_ids: [F.site.id], timeout_seconds: 5 },
  });
  F.made = assertJson(made, 201);
  F.bot = { token: F.made.token };
});

fx.teardown(async () => {
  await F.server.close();
});

const botEvents = (conv) => F.server.requests.map((q) => JSON.parse(q.body)).filter((e) => (e.data.conversation_id ?? e.data.id) === conv);

test('creating a bot shows its secret and token once; it is listed without them', async () => {
  assert.match(F.made.secret, /^whsec_/);
  assert.match(F.made.token, /^prl_/);
  assert.equal(F.made.name, 'Botty');
  assert.deepEqual(F.made.site_ids, [F.site.id]);
  const list = assertJson(await api(fx.srv, F.admin, 'GET', '/api/v1/bots'), 200);
  const b = list.data.find((x) => x.id === F.made.id);
  assert.ok(b);
  assert.equal(b.secret, undefined);
  assert.equal(b.token, undefined);
  const dup = await api(fx.srv, F.admin, 'POST', '/api/v1/bots', { json: { name: 'botty', url: F.server.url('/other') } });
  assertProblem(dup, 409, 'conflict');
  const bad = await api(fx.srv, F.admin, 'POST', '/api/v1/bots', { json: { name: 'Nobody', url: 'http://10.1.2.3/bot' } });
  assert.equal(assertProblem(bad, 400, 'invalid_request').errors[0].field, 'url');
  const noSite = await api(fx.srv, F.admin, 'POST', '/api/v1/bots', { json: { name: 'Lost', url: F.server.url('/x'), site_ids: [999999] } });
  assert.equal(assertProblem(noSite, 400, 'invalid_request').errors[0].field, 'site_ids');
  assertProblem(await api(fx.srv, F.integration, 'GET', '/api/v1/bots'), 403, 'insufficient_scope');
});

test('the bot answers under its name, hands off with a summary, and hears nothing after', async () => {
  const agent = await connectAgent(fx.srv, F.agent, { status: 'online' });
  const v = await connectVisitor(fx.srv, F.site);
  const start = await v.ack({ type: 'conversation.start' });
  const conv = start.conversation.id;
  assert.equal(start.conversation.status, 'bot');
  assert.equal(start.conversation.bot.name, 'Botty');
  // The bot hears of the conversation, signed with its secret.
  await waitFor(() => botEvents(conv).some((e) => e.type === 'conversation.created'), { what: 'conversation.created to the bot' });
  const q = F.server.requests.find((x) => JSON.parse(x.body).type === 'conversation.created' && JSON.parse(x.body).data.id === conv);
  verifyWebhook(F.made.secret, q.headers, q.body);

  await sendMessage(v, conv, 'hello');
  const reply = await v.next(
    msgCreated(conv, (m) => m.author.kind === 'bot'),
    10000,
  );
  assert.equal(reply.message.author.name, 'Botty');
  assert.equal(reply.message.body, script.hello.body);
  // No agent was offered it.
  const row = await fx.pg.query('SELECT status, assignee_id FROM conversations WHERE id = $1', [conv]);
  assert.equal(row.rows[0].status, 'bot');

  await sendMessage(v, conv, 'human please');
  const assigned = await agent.next(convUpdated(conv, 'assigned'), 10000);
  assert.equal(assigned.conversation.assignee.id, F.agent.id);
  await waitFor(() => F.replies.length >= 2, { what: 'the handoff reply answered' });
  const handoff = assertJson(F.replies[1], 201);
  assert.equal(handoff.handed_off, true);
  // The summary is an internal note by the bot: the agent sees it, the visitor does not.
  const notes = await fx.pg.query("SELECT author_kind, body FROM messages WHERE conversation_id = $1 AND kind = 'note'", [conv]);
  assert.deepEqual(notes.rows, [{ author_kind: 'bot', body: 'Wants a human: billing question' }]);
  const seen = assertJson(await api(fx.srv, F.integration, 'GET', `/api/v1/conversations/${conv}/messages`), 200);
  assert.ok(!seen.data.some((m) => m.kind === 'note'), 'notes are not listed without include_notes');

  // The bot hears nothing more of it, and may not write to it.
  const before = botEvents(conv).filter((e) => e.type === 'message.created').length;
  await sendMessage(v, conv, 'are you there?');
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(botEvents(conv).filter((e) => e.type === 'message.created').length, before);
  const late = await api(fx.srv, F.bot, 'POST', `/api/v1/conversations/${conv}/messages`, { json: { body: 'me again' } });
  assertProblem(late, 403, 'forbidden');
  assert.ok(
    botEvents(conv).some((e) => e.type === 'conversation.queued'),
    'the bot heard of its handoff',
  );
});

test('a bot that leaves a message unanswered past its timeout hands off by itself', { timeout: 30000 }, async () => {
  const v = await connectVisitor(fx.srv, F.site);
  const conv = await startConversation(v);
  await sendMessage(v, conv, 'something the bot has no answer for');
  const conv2 = await waitFor(
    async () => {
      const r = await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [conv]);
      return r.rows[0].status !== 'bot' ? r.rows[0] : null;
    },
    { timeoutMs: 15000, what: 'the conversation handed off after 5 s' },
  );
  assert.ok(['queued', 'assigned'].includes(conv2.status));
  const note = await fx.pg.query("SELECT author_kind, body, meta FROM messages WHERE conversation_id = $1 AND kind = 'note'", [conv]);
  assert.deepEqual(note.rows, [{ author_kind: 'bot', body: 'The bot did not answer within 5 seconds.', meta: { handoff: 'timeout', seconds: 5 } }]);
});

test('an integration hands off through the REST API; a bot token writes only to its own conversations', async () => {
  const v = await connectVisitor(fx.srv, F.site);
  const conv = await startConversation(v);
  const r = await api(fx.srv, F.integration, 'POST', `/api/v1/conversations/${conv}/handoff`, { json: { summary: 'CRM says VIP' } });
  const body = assertJson(r, 200);
  assert.ok(['queued', 'assigned'].includes(body.conversation.status));
  assert.equal(body.conversation.bot.name, 'Botty', 'the conversation remembers its bot');
  assertProblem(await api(fx.srv, F.integration, 'POST', `/api/v1/conversations/${conv}/handoff`, { json: {} }), 409, 'conflict');
  // A conversation of a site without a bot: the bot's token cannot write or hand it off.
  const pv = await connectVisitor(fx.srv, F.plainSite);
  const plain = await startConversation(pv);
  assertProblem(await api(fx.srv, F.bot, 'POST', `/api/v1/conversations/${plain}/messages`, { json: { body: 'hijack' } }), 403, 'forbidden');
  assertProblem(await api(fx.srv, F.bot, 'POST', `/api/v1/conversations/${plain}/handoff`, { json: {} }), 404, 'not_found');
  const bad = await api(fx.srv, F.integration, 'POST', `/api/v1/conversations/${conv}/handoff`, { json: { summary: 'x'.repeat(2001) } });
  assert.equal(assertProblem(bad, 400, 'invalid_request').errors[0].field, 'summary');
});

test("a bot's endpoint and token change only with the bot; agents write notes, not replies, while it answers", async () => {
  // PATCH / DELETE of the bot's endpoint under /webhooks: refused.
  const ep = F.made.endpoint_id;
  assertProblem(await api(fx.srv, F.admin, 'PATCH', `/api/v1/webhooks/${ep}`, { json: { events: ['visitor.updated'] } }), 409, 'conflict');
  assertProblem(await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep}`), 409, 'conflict');
  // Its token is not revoked among the API tokens, but replaced with the bot.
  const admin = await createAgent(fx.pg, { name: 'Ada Admin', role: 'admin' });
  const s = await agentSession(fx.srv, admin);
  const tokenId = (await fx.pg.query('SELECT id FROM api_tokens WHERE bot_id = $1 AND revoked_at IS NULL', [F.made.id])).rows[0].id;
  const headers = { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf, Origin: fx.srv.origin };
  assertProblem(await request(fx.srv, { method: 'DELETE', path: `/api/tokens/${tokenId}`, headers }), 409, 'conflict');
  const fresh = assertJson(await api(fx.srv, F.admin, 'POST', `/api/v1/bots/${F.made.id}/token`), 200);
  assertProblem(await api(fx.srv, F.bot, 'GET', '/api/v1/agents'), 401, 'unauthenticated');
  F.bot.token = fresh.token;
  assertJson(await api(fx.srv, F.bot, 'GET', '/api/v1/agents'), 200);
  // A privileged agent sees the conversation the bot answers: notes yes, replies no.
  const v = await connectVisitor(fx.srv, F.site);
  const conv = await startConversation(v);
  const agent = await connectAgent(fx.srv, admin);
  await agent.expectError({ type: 'message.send', conversation_id: conv, client_msg_id: 'adm-1', body: 'Hi, a person here' }, 'forbidden');
  await sendMessage(agent, conv, 'watching this one', { type: 'note.send' });
  assertJson(await api(fx.srv, F.integration, 'POST', `/api/v1/conversations/${conv}/handoff`, { json: {} }), 200);
});

test("a team's bot switched off gives way to its site's bot; a bot can be created switched off", async () => {
  const made = await api(fx.srv, F.admin, 'POST', '/api/v1/bots', {
    json: { name: 'Team helper', url: F.server.url('/team'), team_ids: [F.team], enabled: false },
  });
  const teamBot = assertJson(made, 201);
  assert.equal(teamBot.enabled, false);
  const v = await connectVisitor(fx.srv, F.site);
  const start = await v.ack({ type: 'conversation.start' });
  assert.equal(start.conversation.bot.name, 'Botty', "the site's bot, the team's being off");
  assertJson(await api(fx.srv, F.admin, 'PATCH', `/api/v1/bots/${teamBot.id}`, { json: { enabled: true } }), 200);
  const v2 = await connectVisitor(fx.srv, F.site);
  const start2 = await v2.ack({ type: 'conversation.start' });
  assert.equal(start2.conversation.bot.name, 'Team helper', "the team's bot comes first");
  assert.equal((await api(fx.srv, F.admin, 'DELETE', `/api/v1/bots/${teamBot.id}`)).status, 204);
  assertJson(await api(fx.srv, F.integration, 'POST', `/api/v1/conversations/${start.conversation.id}/handoff`, { json: {} }), 200);
});

test('a bot switched off hands over its conversations; new ones go straight to the queue; deleting revokes its token', { timeout: 30000 }, async () => {
  const v = await connectVisitor(fx.srv, F.site);
  const conv = await startConversation(v);
  const off = assertJson(await api(fx.srv, F.admin, 'PATCH', `/api/v1/bots/${F.made.id}`, { json: { enabled: false } }), 200);
  assert.equal(off.enabled, false);
  await waitFor(async () => (await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [conv])).rows[0].status !== 'bot', {
    timeoutMs: 5000,
    what: 'handed over when the bot was switched off',
  });
  const v2 = await connectVisitor(fx.srv, F.site);
  const next = await v2.ack({ type: 'conversation.start' });
  assert.notEqual(next.conversation.status, 'bot');
  const on = assertJson(await api(fx.srv, F.admin, 'PATCH', `/api/v1/bots/${F.made.id}`, { json: { enabled: true, timeout_seconds: 30 } }), 200);
  assert.equal(on.timeout_seconds, 30);
  const v3 = await connectVisitor(fx.srv, F.site);
  const third = await startConversation(v3);
  assert.equal((await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [third])).rows[0].status, 'bot');
  assert.equal((await api(fx.srv, F.admin, 'DELETE', `/api/v1/bots/${F.made.id}`)).status, 204);
  assert.notEqual((await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [third])).rows[0].status, 'bot');
  assertProblem(await api(fx.srv, F.bot, 'GET', `/api/v1/conversations/${third}`), 401, 'unauthenticated');
  assertProblem(await api(fx.srv, F.admin, 'GET', `/api/v1/bots/${F.made.id}`), 404, 'not_found');
  // Its messages keep its name.
  const msgs = await fx.pg.query("SELECT parley_author_name('bot', $1) AS n", [F.made.id]);
  assert.equal(msgs.rows[0].n, 'Botty');
});
