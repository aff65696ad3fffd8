'use strict';
// Calls (issue 17): the server's call state machine and its signalling
// relay, over real sockets on two nodes. Only the two parties' end sockets
// ever see a signal; a third party, a closed conversation, an oversized
// SDP and a second call are refused; rings time out (missed), a vanished
// party ends the call (lost), and every step is an event line in the
// transcript; the ICE servers go only to a party of a live call.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { suite } = require('../helpers/suite');
const { request } = require('../helpers/http');
const { addToken, api } = require('../helpers/api');
const { startReceiver, verifyWebhook } = require('../helpers/hookrecv');
const {
  createTeam,
  createAgent,
  createSite,
  connectAgent,
  connectVisitor,
  agentSession,
  startConversation,
  convUpdated,
  waitFor,
} = require('../helpers/fixtures');

const TURN_SECRET = crypto.randomBytes(24).toString('hex');
const fx = suite({
  nodes: 2,
  env: {
    PARLEY_CALL_RING_SECONDS: '5',
    PARLEY_CALL_LOST_SECONDS: '2',
    PARLEY_STUN_URLS: 'stun:127.0.0.1:3478',
    PARLEY_TURN_URLS: 'turn:127.0.0.1:3478?transport=udp,turns:turn.example:5349',
    PARLEY_TURN_SECRET: TURN_SECRET,
    PARLEY_TURN_TTL_SECONDS: '600',
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
  },
});
const { test } = fx;

const callUpdated = (id, state) => (m) => m.type === 'call.updated' && m.call.id === id && (!state || m.call.state === state);
const signalOf = (id) => (m) => m.type === 'call.signal' && m.call_id === id;

/** A team, a site (calls setting), an agent on node B, a visitor on node A
 * with an assigned conversation. */
async function assignedChat({ calls = 'agent', agentNode = 1, visitorNode = 0 } = {}) {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  await fx.pg.query('UPDATE sites SET widget_settings = widget_settings || $2::jsonb WHERE id = $1', [site.id, JSON.stringify({ calls })]);
  const agent = await createAgent(fx.pg, { teams: [team] });
  const a = await connectAgent(fx.nodes[agentNode], agent, { status: 'online', label: 'agent' });
  const v = await connectVisitor(fx.nodes[visitorNode], site, { label: 'visitor' });
  const conv = await startConversation(v);
  await v.next(convUpdated(conv, 'assigned'), 5000, 'the assignment');
  return { team, site, agent, a, v, conv };
}

async function events(conv) {
  const r = await fx.pg.query(
    "SELECT meta->>'event' AS event, meta->'call' AS call, meta->>'by' AS by, body FROM messages WHERE conversation_id = $1 AND kind = 'event' AND meta->>'event' LIKE 'call_%' ORDER BY seq",
    [conv],
  );
  return r.rows;
}

function sdp(bytes) {
  const lines = ['v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0'];
  while (lines.join('\r\n').length < bytes - 40) lines.push(`a=x-filler:${crypto.randomBytes(24).toString('hex')}`);
  return `${lines.join('\r\n')}\r\n`;
}

test('agent on node B calls the visitor on node A: ring, accept, signals to the ends only, hang-up, event lines', async () => {
  const { a, v, conv, site, agent } = await assignedChat();
  // The visitor's second tab: rings too, but is not the visitor's end.
  const v2 = await connectVisitor(fx.nodes[1], site, { token: v.token, label: 'visitor tab 2' });

  const started = await a.ack({ type: 'call.start', conversation_id: conv, media: 'video' });
  const call = started.call;
  assert.equal(call.state, 'ringing');
  assert.equal(call.caller, 'agent');
  assert.equal(call.media, 'video');
  assert.equal(call.agent.id, agent.id);
  const ring = await v.next(callUpdated(call.id, 'ringing'), 5000, 'the ring at the visitor');
  assert.equal(ring.call.agent.name, agent.name);
  assert.equal(ring.call.agent.id, undefined, "the agent's id reached the visitor");
  await v2.next(callUpdated(call.id, 'ringing'), 5000, 'the ring in the second tab');
  // A tab opened while it rings learns of the call from conversations.list.
  const v3 = await connectVisitor(fx.nodes[0], site, { token: v.token, label: 'visitor tab opened while ringing' });
  const listed = (await v3.ack({ type: 'conversations.list' })).calls;
  assert.deepEqual(
    listed.map((k) => [k.id, k.state, k.agent.id]),
    [[call.id, 'ringing', undefined]],
  );
  await v3.close();
  const agentList = (await a.ack({ type: 'conversations.list' })).calls;
  assert.deepEqual(
    agentList.map((k) => [k.id, k.agent.id]),
    [[call.id, agent.id]],
  );

  // Nothing is relayed before the call is answered.
  await a.expectError({ type: 'call.signal', call_id: call.id, control: { kind: 'media', audio: true, video: true, screen: false } }, 'invalid_state');

  const accepted = await v.ack({ type: 'call.accept', call_id: call.id });
  assert.equal(accepted.call.state, 'active');
  await a.next(callUpdated(call.id, 'active'), 5000, 'the answer at the agent');
  await v2.next(callUpdated(call.id, 'active'), 5000, 'the second tab learns the call is taken');
  await v2.expectError({ type: 'call.accept', call_id: call.id }, 'invalid_state');

  // Offer (small: in the NOTIFY), answer (large: by reference), candidates.
  const offer = { type: 'offer', sdp: sdp(3000) };
  await a.ack({ type: 'call.signal', id: 's1', call_id: call.id, description: offer });
  const gotOffer = await v.next(signalOf(call.id), 5000, 'the offer at the visitor');
  assert.deepEqual(gotOffer.description, offer);
  const answer = { type: 'answer', sdp: sdp(20000) };
  v.send({ type: 'call.signal', call_id: call.id, description: answer });
  const gotAnswer = await a.next(signalOf(call.id), 5000, 'the large answer at the agent');
  assert.deepEqual(gotAnswer.description, answer);
  const cand = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };
  v.send({ type: 'call.signal', call_id: call.id, candidate: cand });
  assert.deepEqual((await a.next((m) => signalOf(call.id)(m) && m.candidate, 5000, 'the candidate')).candidate, cand);
  v.send({ type: 'call.signal', call_id: call.id, candidate: null });
  assert.equal((await a.next((m) => signalOf(call.id)(m) && 'candidate' in m && m.candidate === null, 5000, 'end of candidates')).candidate, null);
  await a.ack({ type: 'call.signal', id: 's2', call_id: call.id, control: { kind: 'screen_request' } });
  assert.deepEqual((await v.next((m) => signalOf(call.id)(m) && m.control, 5000, 'the screen request')).control, { kind: 'screen_request' });
  // A visitor may not ask the agent for their screen.
  await v.expectError({ type: 'call.signal', call_id: call.id, control: { kind: 'screen_request' } }, 'invalid_field');

  // The second tab is not the visitor's end: it may not signal, and hears none.
  await v2.expectError({ type: 'call.signal', call_id: call.id, candidate: null }, 'invalid_state');
  await v2.request({ type: 'ping' });
  assert.deepEqual(
    v2.seen((m) => m.type === 'call.signal'),
    [],
    'a signal reached a socket that is not an end',
  );

  await new Promise((r) => setTimeout(r, 1100)); // a duration of at least a second
  const ended = await v.ack({ type: 'call.hangup', call_id: call.id });
  assert.equal(ended.call.state, 'ended');
  assert.equal(ended.call.end_reason, 'hangup');
  assert.equal(ended.call.ended_by, 'visitor');
  assert.ok(ended.call.duration >= 1, JSON.stringify(ended.call));
  await a.next(callUpdated(call.id, 'ended'), 5000, 'the end at the agent');
  await a.expectError({ type: 'call.signal', call_id: call.id, candidate: null }, 'invalid_state');

  const lines = await events(conv);
  assert.deepEqual(
    lines.map((l) => l.event),
    ['call_offered', 'call_accepted', 'call_ended'],
  );
  assert.equal(lines[0].body, `${agent.name} started a video call`);
  assert.equal(lines[2].call.duration, ended.call.duration);
  assert.equal(lines[2].by, 'visitor');
  // Every call line names the call's agent.
  const named = await fx.pg.query(
    "SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND meta->>'event' LIKE 'call_%' AND (meta->>'agent_id')::bigint = $2",
    [conv, agent.id],
  );
  assert.equal(named.rows[0].n, 3);
  // The visitor's transcript (sync) shows them, with the call's details.
  const synced = await v.ack({ type: 'sync', conversation_id: conv, after_seq: 0 });
  const shown = synced.messages.filter((m) => m.kind === 'event' && /^call_/.test(m.event));
  assert.deepEqual(
    shown.map((m) => m.event),
    ['call_offered', 'call_accepted', 'call_ended'],
  );
  assert.deepEqual(shown[2].event_call, { id: call.id, media: 'video', duration: ended.call.duration });
  for (const c of [a, v, v2]) await c.close();
});

test('refused: a third party, another agent, a closed conversation, an oversized SDP, a second call, a site that forbids calls', async () => {
  const { a, v, conv, site, team } = await assignedChat({ calls: 'agent' });
  const stranger = await connectVisitor(fx.nodes[0], site, { label: 'another visitor' });
  const other = await createAgent(fx.pg, { teams: [team] });
  const b = await connectAgent(fx.nodes[0], other, { status: 'away', label: 'another agent' });

  // Only the assignee (or a participant) calls; a visitor may not when the site says "agent".
  await b.expectError({ type: 'call.start', conversation_id: conv, media: 'audio' }, 'forbidden');
  await stranger.expectError({ type: 'call.start', conversation_id: conv, media: 'audio' }, 'not_found');
  await v.expectError({ type: 'call.start', conversation_id: conv, media: 'audio' }, 'calls_disabled');
  await v.expectError({ type: 'call.start', conversation_id: conv, media: 'screen' }, 'invalid_field');

  const call = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'audio' })).call;
  await v.next(callUpdated(call.id, 'ringing'));
  // A second call in the conversation, or by the same agent: refused.
  await a.expectError({ type: 'call.start', conversation_id: conv, media: 'video' }, 'call_in_progress');
  // Nobody but the two parties can touch it, or learns it exists.
  for (const [who, c] of [
    ['another visitor', stranger],
    ['another agent', b],
  ]) {
    await c.expectError({ type: 'call.accept', call_id: call.id }, 'not_found');
    await c.expectError({ type: 'call.hangup', call_id: call.id }, 'not_found');
    await c.expectError({ type: 'call.rejoin', call_id: call.id }, 'not_found');
    await c.expectError({ type: 'call.signal', call_id: call.id, candidate: null }, 'not_found');
    await c.request({ type: 'ping' });
    assert.deepEqual(
      c.seen((m) => m.type === 'call.updated' || m.type === 'call.signal'),
      [],
      `${who} heard of the call`,
    );
  }
  // The caller cannot answer their own call.
  await a.expectError({ type: 'call.accept', call_id: call.id }, 'invalid_state');
  await v.ack({ type: 'call.accept', call_id: call.id });
  await a.next(callUpdated(call.id, 'active'));

  // An SDP over 32768 bytes, an unknown description type, a stray key, two kinds at once.
  v.clearInbox();
  const big = await a.expectError({ type: 'call.signal', call_id: call.id, description: { type: 'offer', sdp: sdp(33000) } }, 'invalid_field');
  assert.equal(big.field, 'description');
  await a.expectError({ type: 'call.signal', call_id: call.id, description: { type: 'pranswer', sdp: 'v=0\r\n' } }, 'invalid_field');
  await a.expectError({ type: 'call.signal', call_id: call.id, description: { type: 'offer', sdp: 'v=0\r\n', x: 1 } }, 'invalid_field');
  await a.expectError(
    { type: 'call.signal', call_id: call.id, candidate: null, control: { kind: 'media', audio: true, video: true, screen: false } },
    'invalid_field',
  );
  await a.expectError({ type: 'call.signal', call_id: call.id, candidate: { candidate: 'x'.repeat(1025) } }, 'invalid_field');
  await a.expectError({ type: 'call.signal', call_id: call.id, description: { type: 'offer', sdp: 'v=0\u0007' } }, 'invalid_field');
  await v.request({ type: 'ping' });
  assert.deepEqual(
    v.seen((m) => m.type === 'call.signal'),
    [],
    'a refused signal was relayed',
  );

  // Closing the conversation ends its call, and nothing is relayed after.
  await a.ack({ type: 'conversation.close', conversation_id: conv });
  const closed = await v.next(callUpdated(call.id, 'ended'), 5000, 'the call ended with the conversation');
  assert.equal(closed.call.end_reason, 'closed');
  await a.expectError({ type: 'call.signal', call_id: call.id, candidate: null }, 'invalid_state');
  await a.expectError({ type: 'call.start', conversation_id: conv, media: 'audio' }, 'invalid_state');

  // A site with calls off.
  await fx.pg.query(`UPDATE sites SET widget_settings = widget_settings || '{"calls":"off"}' WHERE id = $1`, [site.id]);
  await a.ack({ type: 'conversation.reopen', conversation_id: conv });
  await a.expectError({ type: 'call.start', conversation_id: conv, media: 'audio' }, 'calls_disabled');
  // Every agent's conversation says what the site allows (not only admins may read sites).
  const mine = (await a.ack({ type: 'conversations.list' })).conversations.find((c) => c.id === conv);
  assert.equal(mine.site_calls, 'off');
  for (const c of [a, b, v, stranger]) await c.close();
});

test('the visitor asks for a call when the site allows it; decline, missed and cancelled calls', async () => {
  const { a, v, conv } = await assignedChat({ calls: 'visitor' });
  const asked = (await v.ack({ type: 'call.start', conversation_id: conv, media: 'audio' })).call;
  assert.equal(asked.caller, 'visitor');
  await a.next(callUpdated(asked.id, 'ringing'), 5000, 'the request rings in the console');
  await v.expectError({ type: 'call.decline', call_id: asked.id }, 'invalid_state'); // the caller cancels, not declines
  const declined = (await a.ack({ type: 'call.decline', call_id: asked.id })).call;
  assert.equal(declined.end_reason, 'declined');
  assert.equal(declined.ended_by, 'agent');
  await v.next(callUpdated(asked.id, 'ended'));

  const cancelled = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'video' })).call;
  await v.next(callUpdated(cancelled.id, 'ringing'));
  assert.equal((await a.ack({ type: 'call.hangup', call_id: cancelled.id })).call.end_reason, 'cancelled');

  const missed = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'audio' })).call;
  const end = await v.next(callUpdated(missed.id, 'ended'), 15000, 'the unanswered call ends');
  assert.equal(end.call.end_reason, 'missed');
  assert.equal(end.call.ended_by, 'system');
  assert.equal(end.call.duration, null);
  const ringFor = (Date.parse(end.call.ended_at) - Date.parse(end.call.created_at)) / 1000;
  assert.ok(ringFor >= 5, `missed after ${ringFor} s, before PARLEY_CALL_RING_SECONDS`);

  assert.deepEqual(
    (await events(conv)).map((l) => l.event),
    ['call_requested', 'call_declined', 'call_offered', 'call_cancelled', 'call_offered', 'call_missed'],
  );
  for (const c of [a, v]) await c.close();
});

test('a party whose socket is gone ends the call (lost) unless a new socket rejoins in time', async () => {
  const { a, v, conv, site } = await assignedChat({ agentNode: 0, visitorNode: 1 });
  const call = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'audio' })).call;
  await v.next(callUpdated(call.id, 'ringing'));
  await v.ack({ type: 'call.accept', call_id: call.id });
  await a.next(callUpdated(call.id, 'active'));

  // The visitor reconnects (another node) and rejoins: signals follow the new socket.
  await v.close();
  const v2 = await connectVisitor(fx.nodes[0], site, { token: v.token, label: 'visitor, reconnected' });
  await v2.ack({ type: 'call.rejoin', call_id: call.id });
  await new Promise((r) => setTimeout(r, 3000)); // past PARLEY_CALL_LOST_SECONDS
  await a.ack({ type: 'call.signal', id: 'after-rejoin', call_id: call.id, candidate: null });
  await v2.next(signalOf(call.id), 5000, 'the signal at the rejoined socket');
  const row = await fx.pg.query('SELECT state FROM calls WHERE id = $1', [call.id]);
  assert.equal(row.rows[0].state, 'active', 'a rejoined call was ended');

  // A ringing call's caller may rejoin too; its callee has no end to take back.
  const { a: a2, v: w, conv: conv2, agent: agent2 } = await assignedChat();
  const ringing = (await a2.ack({ type: 'call.start', conversation_id: conv2, media: 'audio' })).call;
  await w.next(callUpdated(ringing.id, 'ringing'));
  await w.expectError({ type: 'call.rejoin', call_id: ringing.id }, 'invalid_state');
  await a2.close();
  const a3 = await connectAgent(fx.nodes[0], agent2, { label: 'agent, reconnected' });
  assert.equal((await a3.ack({ type: 'call.rejoin', call_id: ringing.id })).call.state, 'ringing');
  await w.ack({ type: 'call.accept', call_id: ringing.id });
  await w.ack({ type: 'call.signal', id: 'to-rejoined-caller', call_id: ringing.id, candidate: null });
  await a3.next(signalOf(ringing.id), 5000, 'the signal at the rejoined caller');
  for (const c of [a3, w]) await c.close();

  // Now the agent vanishes for good.
  await a.close();
  const lost = await v2.next(callUpdated(call.id, 'ended'), 10000, 'the call ends when the agent is gone');
  assert.equal(lost.call.end_reason, 'lost');
  assert.deepEqual(
    (await events(conv)).map((l) => l.event),
    ['call_offered', 'call_accepted', 'call_ended'],
  );
  await v2.close();
});

test('ICE servers: short-lived TURN credentials, only for a party of a live call', async () => {
  const { a, v, conv, agent } = await assignedChat();
  const session = await agentSession(fx.nodes[1], agent);
  const asAgent = () => request(fx.nodes[1], { path: '/api/calls/ice-servers', headers: { Cookie: `parley_session=${session.cookie}` } });
  const asVisitor = (token = v.token) => request(fx.nodes[0], { path: '/api/widget/calls/ice-servers', headers: { Authorization: `Bearer ${token}` } });

  assert.equal((await request(fx.nodes[0], { path: '/api/calls/ice-servers' })).status, 401);
  assert.equal((await asVisitor('not-a-token')).status, 401);
  assert.equal((await asAgent()).status, 409, 'credentials were given without a call');
  assert.equal((await asVisitor()).status, 409, 'credentials were given without a call');

  const call = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'audio' })).call;
  for (const [who, res, id] of [
    ['agent', await asAgent(), `a${agent.id}`],
    ['visitor', await asVisitor(), `v${v.visitor.id}`],
  ]) {
    assert.equal(res.status, 200, `${who}: ${res.body}`);
    const body = JSON.parse(res.body);
    assert.equal(body.ttl, 600);
    assert.equal(body.ice_transport_policy, 'all');
    assert.deepEqual(body.ice_servers[0], { urls: ['stun:127.0.0.1:3478'] });
    const turn = body.ice_servers[1];
    assert.deepEqual(turn.urls, ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example:5349']);
    const [expiry, user] = turn.username.split(':');
    assert.equal(user, id);
    const now = Date.now() / 1000;
    assert.ok(Number(expiry) > now + 590 && Number(expiry) < now + 610, `${who}: expiry ${expiry}`);
    assert.equal(turn.credential, crypto.createHmac('sha1', TURN_SECRET).update(turn.username).digest('base64'));
    assert.equal(res.headers['cache-control'], 'no-store');
  }
  await a.ack({ type: 'call.hangup', call_id: call.id });
  await waitFor(async () => (await asVisitor()).status === 409, { what: 'no credentials once the call ended' });

  // The admin pages read the server's call settings, never the secret; nobody else may.
  const admin = await createAgent(fx.pg, { role: 'admin' });
  const adminSession = await agentSession(fx.nodes[0], admin);
  const settings = await request(fx.nodes[0], { path: '/api/calls/settings', headers: { Cookie: `parley_session=${adminSession.cookie}` } });
  assert.equal(settings.status, 200, settings.body);
  assert.deepEqual(JSON.parse(settings.body), {
    stun_urls: ['stun:127.0.0.1:3478'],
    turn_urls: ['turn:127.0.0.1:3478?transport=udp', 'turns:turn.example:5349'],
    relay_only: false,
    turn_ttl_seconds: 600,
    ring_seconds: 5,
    lost_seconds: 2,
    max_minutes: 240,
  });
  assert.ok(!settings.body.includes(TURN_SECRET));
  assert.equal((await request(fx.nodes[1], { path: '/api/calls/settings', headers: { Cookie: `parley_session=${session.cookie}` } })).status, 403);
  for (const c of [a, v]) await c.close();
});

test('calls reach the REST API and webhooks; the pages let only themselves use the camera, microphone and screen', async () => {
  const admin = await addToken(fx.pg, { scopes: ['admin'] });
  const reader = await addToken(fx.pg, { scopes: ['conversations:read'] });
  const r = await startReceiver();
  try {
    const ep = await api(fx.srv, admin, 'POST', '/api/v1/webhooks', {
      json: { url: r.url('/hook'), events: ['call.ringing', 'call.accepted', 'call.ended'] },
    });
    assert.equal(ep.status, 201, ep.body);
    const { secret } = JSON.parse(ep.body);
    const { a, v, conv } = await assignedChat();
    const call = (await a.ack({ type: 'call.start', conversation_id: conv, media: 'video' })).call;
    await v.next(callUpdated(call.id, 'ringing'));
    await v.ack({ type: 'call.accept', call_id: call.id });
    await a.ack({ type: 'call.hangup', call_id: call.id });

    const hooks = (await r.waitFor(3, 15000)).map((q) => verifyWebhook(secret, q.headers, q.body));
    assert.deepEqual(
      hooks.map((h) => h.type),
      ['call.ringing', 'call.accepted', 'call.ended'],
    );
    assert.equal(hooks[0].data.call.id, call.id);
    assert.equal(hooks[0].data.call.conversation_id, conv);
    assert.equal(hooks[2].data.call.end_reason, 'hangup');
    assert.equal(hooks[2].data.call.ended_by, 'agent');

    const res = await api(fx.srv, reader, 'GET', `/api/v1/conversations/${conv}/messages`);
    assert.equal(res.status, 200, res.body);
    const lines = JSON.parse(res.body).data.filter((m) => m.kind === 'event' && /^call_/.test(m.event));
    assert.deepEqual(
      lines.map((m) => [m.event, m.event_call.id]),
      [
        ['call_offered', call.id],
        ['call_accepted', call.id],
        ['call_ended', call.id],
      ],
    );
    for (const c of [a, v]) await c.close();
  } finally {
    await r.close();
  }

  for (const page of ['/console/', '/widget/frame.html']) {
    const res = await request(fx.srv, { path: page });
    assert.equal(res.status, 200, page);
    const policy = Object.fromEntries(
      String(res.headers['permissions-policy'] || '')
        .split(',')
        .map((d) => d.trim().split('=')),
    );
    for (const feature of ['camera', 'microphone', 'display-capture']) assert.equal(policy[feature], '(self)', `${page}: ${feature}`);
    assert.equal(policy.geolocation, '()', page);
  }
});
