'use strict';
// Fixtures for the realtime integration tests: teams, agents and sites made
// directly in the database, logged-in agent sockets and visitor sockets.
//
//   const team = await createTeam(pg);
//   const ann = await createAgent(pg, { name: 'Ann', teams: [team] });
//   const site = await createSite(pg, { teamId: team });
//   const a = await connectAgent(srv, ann, { status: 'online' });   // authenticated, watching the queue
//   const v = await connectVisitor(srv, site);                       // authenticated
//   const { conversation } = await v.ack({ type: 'conversation.start' });
//
// Ids from the database come back as numbers (pg returns bigint as text).

const crypto = require('node:crypto');

const { addAgent } = require('./parleyd');
const { request, login } = require('./http');
const { connect, wsUrl } = require('./ws');

const PASSWORD = 'correct horse battery staple';
/** Environment for test servers and `agent add`: cheap password hashes. */
const FAST_ENV = { PARLEY_SCRYPT_LOG2N: '14' };

let counter = 0;
function uniq(prefix) {
  counter += 1;
  return `${prefix}${counter}${crypto.randomBytes(3).toString('hex')}`;
}

async function createTeam(pg, name = uniq('Team ')) {
  const r = await pg.query('INSERT INTO teams (name) VALUES ($1) RETURNING id', [name]);
  return Number(r.rows[0].id);
}

async function addToTeam(pg, agentId, teamId) {
  await pg.query('INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [teamId, agentId]);
}

/**
 * A new agent (through `parleyd agent add`), member of `teams`.
 * Resolves { id, email, name, role, password }.
 */
async function createAgent(pg, { name = uniq('Agent '), email, role = 'agent', teams = [], maxChats, password = PASSWORD } = {}) {
  const mail = email || `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}.${uniq('')}@example.com`;
  const id = Number(await addAgent(pg.url, { email: mail, name, role, password, env: FAST_ENV }));
  if (!Number.isInteger(id) || id <= 0) throw new Error(`agent add printed no id for ${mail}`);
  for (const t of teams) await addToTeam(pg, id, t);
  if (maxChats !== undefined) await pg.query('UPDATE agents SET max_chats = $2 WHERE id = $1', [id, maxChats]);
  return { id, email: mail, name, role, password };
}

/**
 * A new site. Resolves { id, key, origin (the first allowed origin),
 * origins, teamId, identitySecret }.
 */
async function createSite(pg, { name = uniq('Site '), teamId, origins, identitySecret = null, identityRequired = false, key } = {}) {
  if (!teamId) throw new Error('createSite: teamId is required');
  const publicKey = key || `site_${crypto.randomBytes(12).toString('hex')}`;
  const allowed = origins || [`https://${uniq('shop')}.example`];
  const r = await pg.query(
    'INSERT INTO sites (name, public_key, allowed_origins, default_team_id, identity_secret, identity_required)' +
      ' VALUES ($1, $2, $3, $4, $5, $6) RETURNING id',
    [name, publicKey, allowed, teamId, identitySecret, identityRequired],
  );
  return { id: Number(r.rows[0].id), key: publicKey, origin: allowed[0], origins: allowed, teamId, identitySecret };
}

/**
 * hex HMAC-SHA256 under the site's identity secret of what the identity
 * carries: the external id alone, or "id\nname\nemail" (absent ones empty)
 * when it carries a name or an email.
 */
function identityHash(secret, externalId, { name, email } = {}) {
  const message = name || email ? `${externalId}\n${name || ''}\n${email || ''}` : externalId;
  return crypto.createHmac('sha256', secret).update(message).digest('hex');
}

/**
 * POST /api/widget/session. Options: origin (the site's first allowed
 * origin by default; null sends none), visitorToken, identity, siteKey.
 */
function visitorSession(srv, site, { origin = site.origin, visitorToken, identity, siteKey = site.key } = {}) {
  const json = { site_key: siteKey };
  if (visitorToken) json.visitor_token = visitorToken;
  if (identity) json.identity = identity;
  const headers = origin ? { Origin: origin } : {};
  return request(srv, { method: 'POST', path: '/api/widget/session', headers, json });
}

/** A fresh visitor token for a site (throws unless the session call succeeds). */
async function visitorToken(srv, site, opts = {}) {
  const res = await visitorSession(srv, site, opts);
  if (res.status !== 200 || !res.json || !res.json.visitor_token) {
    throw new Error(`POST /api/widget/session answered ${res.status}: ${res.body}`);
  }
  return { token: res.json.visitor_token, visitor: res.json.visitor };
}

/** Open /ws/visitor without authenticating (localAddress: the source address). */
function openVisitorSocket(srv, { origin, label = 'visitor', localAddress, autoPong } = {}) {
  return connect(wsUrl(srv, '/ws/visitor'), { headers: origin ? { Origin: origin } : {}, label, localAddress, autoPong });
}

/**
 * An authenticated visitor socket. Options: token (else a new visitor is
 * made), origin (the site's by default), identity, label, autoPong (false: the
 * server's pings go unanswered).
 * The client gets .token, .visitor, .authAck.
 */
async function connectVisitor(srv, site, { token, origin = site.origin, identity, label = 'visitor', autoPong } = {}) {
  let visitor;
  if (!token) ({ token, visitor } = await visitorToken(srv, site, { identity }));
  const c = await openVisitorSocket(srv, { origin, label, autoPong });
  const ack = await c.ack({ type: 'auth', token });
  c.token = token;
  c.visitor = ack.visitor || visitor;
  c.authAck = ack;
  c.site = site;
  return c;
}

const sessions = new Map();

/** Log an agent in (cached per server); resolves { cookie, csrf }. */
async function agentSession(srv, agent, { fresh = false } = {}) {
  const key = `${srv.port}:${agent.email}`;
  if (!fresh && sessions.has(key)) return sessions.get(key);
  const r = await login(srv, agent.email, agent.password);
  if (r.res.status !== 200 || !r.cookie || !r.csrf) throw new Error(`login of ${agent.email} answered ${r.res.status}: ${r.res.body}`);
  const s = { cookie: r.cookie, csrf: r.csrf };
  sessions.set(key, s);
  return s;
}

/** Open /ws/agent with the session cookie, without authenticating. */
async function openAgentSocket(srv, agent, { origin = srv.origin, label } = {}) {
  const s = await agentSession(srv, agent);
  const headers = { Cookie: `parley_session=${s.cookie}` };
  if (origin) headers.Origin = origin;
  const c = await connect(wsUrl(srv, '/ws/agent'), { headers, label: label || `agent ${agent.name}` });
  c.session = s;
  return c;
}

/**
 * A logged-in, authenticated agent socket. Options:
 *   status     'online' | 'away' | 'offline' to set after auth (none by default)
 *   subscribe  queue.subscribe after auth (true by default)
 * The client gets .agent (the fixture), .authAck.
 */
async function connectAgent(srv, agent, { status, subscribe = true, origin, label } = {}) {
  const c = await openAgentSocket(srv, agent, { origin, label });
  c.authAck = await c.ack({ type: 'auth', csrf_token: c.session.csrf });
  c.agent = agent;
  if (status) await c.ack({ type: 'status.set', status });
  if (subscribe) c.queue = await c.ack({ type: 'queue.subscribe' });
  return c;
}

/** Start a conversation on a visitor socket; resolves its id. */
async function startConversation(v, extra = {}) {
  const ack = await v.ack({ type: 'conversation.start', ...extra });
  return ack.conversation.id;
}

let msgCounter = 0;
/** message.send with a fresh client_msg_id; resolves the ack. */
function sendMessage(c, conversationId, body, { clientMsgId, type = 'message.send' } = {}) {
  msgCounter += 1;
  return c.ack({ type, conversation_id: conversationId, client_msg_id: clientMsgId || `m-${process.pid}-${msgCounter}`, body });
}

/** The conversation row as the database has it (ids as numbers). */
async function conversationRow(pg, id) {
  const r = await pg.query('SELECT id, status, assignee_id, team_id, last_seq, queued_at FROM conversations WHERE id = $1', [id]);
  if (!r.rows.length) return null;
  const row = r.rows[0];
  return {
    ...row,
    id: Number(row.id),
    assignee_id: row.assignee_id === null ? null : Number(row.assignee_id),
    team_id: Number(row.team_id),
    last_seq: Number(row.last_seq),
  };
}

/** Predicate: a conversation.updated frame for conversation id (and change, if given). */
function convUpdated(id, change) {
  return (m) => m.type === 'conversation.updated' && m.conversation && m.conversation.id === id && (!change || m.change === change);
}

/** Predicate: a message.created frame in conversation id that also passes pred. */
function msgCreated(id, pred = () => true) {
  return (m) => m.type === 'message.created' && m.message && m.message.conversation_id === id && pred(m.message);
}

/** Does a frame concern conversation id in any way? */
function mentions(id) {
  return (m) =>
    m.conversation_id === id ||
    (m.conversation && m.conversation.id === id) ||
    (m.message && m.message.conversation_id === id) ||
    (Array.isArray(m.conversations) && m.conversations.some((c) => c.id === id)) ||
    (Array.isArray(m.messages) && m.messages.some((x) => x.conversation_id === id));
}

/** Poll fn() until it returns a truthy value; rejects after timeoutMs. */
async function waitFor(fn, { timeoutMs = 5000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

module.exports = {
  PASSWORD,
  FAST_ENV,
  uniq,
  createTeam,
  addToTeam,
  createAgent,
  createSite,
  identityHash,
  visitorSession,
  visitorToken,
  openVisitorSocket,
  connectVisitor,
  agentSession,
  openAgentSocket,
  connectAgent,
  startConversation,
  sendMessage,
  conversationRow,
  convUpdated,
  msgCreated,
  mentions,
  waitFor,
};
