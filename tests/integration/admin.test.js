'use strict';
// The workspace API the console uses (backend/src/api/api_agents.c,
// api_teams.c, api_sites.c, api_canned.c, api_tokens.c, api_conversations.c): every admin endpoint's success and validation
// errors, who may call what (admins, supervisors, agents), CSRF, the end of
// a deactivated agent's session and socket, logout closing the socket, and
// conversation search, filters, pagination and visibility.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { assertProblem, assertJson } = require('../helpers/assert');
const { createTeam, createAgent, createSite, connectAgent, connectVisitor, sendMessage, waitFor, uniq } = require('../helpers/fixtures');

const fx = suite();
const { test } = fx;

let admin;
let asAdmin;
fx.setup(async () => {
  admin = await createAgent(fx.pg, { name: 'Api Admin', role: 'admin' });
  asAdmin = await client(admin);
});

/** A logged-in API client for an agent fixture: call(method, path, json, {csrf, origin}). */
async function client(agent) {
  const s = await login(fx.srv, agent.email, agent.password);
  assert.equal(s.res.status, 200, `login of ${agent.email}: ${s.res.body}`);
  const call = (method, path, json, { csrf = s.csrf, origin = fx.srv.origin } = {}) => {
    const headers = {};
    if (csrf) headers['X-CSRF-Token'] = csrf;
    return request(fx.srv, { method, path, json, jar: s.jar, origin: origin || undefined, headers });
  };
  call.session = s;
  return call;
}

/** 400 invalid_request naming `field`. */
function assertInvalid(res, field) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.ok(Array.isArray(p.errors) && p.errors.length, `errors[] missing: ${res.body}`);
  assert.equal(p.errors[0].field, field, `field of ${res.body}`);
  assert.equal(typeof p.errors[0].message, 'string');
  return p;
}

// ------------------------------------------------------------------ agents

test('agents: list, create (generated or given password), update, and validation', async () => {
  const list = assertJson(await asAdmin('GET', '/api/agents'), 200);
  assert.ok(Array.isArray(list.agents));
  const me = list.agents.find((a) => a.id === admin.id);
  for (const k of ['id', 'email', 'name', 'role', 'status', 'max_chats', 'active', 'team_ids', 'open_chats', 'connected', 'created_at']) {
    assert.ok(k in me, `agent has ${k}`);
  }
  const team = await createTeam(fx.pg);

  // Invite without a password: a generated one, shown once, that works.
  const email = `${uniq('inv')}@example.com`;
  const created = assertJson(await asAdmin('POST', '/api/agents', { email, name: 'Invited One', role: 'agent', max_chats: 3, team_ids: [team] }), 201);
  assert.equal(created.agent.email, email);
  assert.equal(created.agent.max_chats, 3);
  assert.deepEqual(created.agent.team_ids, [team]);
  assert.equal(typeof created.password, 'string');
  assert.ok(created.password.length >= 12);
  assert.equal((await login(fx.srv, email, created.password)).res.status, 200);

  // With a password: none in the answer.
  const email2 = `${uniq('pw')}@example.com`;
  const c2 = assertJson(
    await asAdmin('POST', '/api/agents', { email: email2, name: 'Given Password', role: 'supervisor', password: 'a long enough password' }),
    201,
  );
  assert.equal(c2.password, undefined);
  assert.equal(c2.agent.role, 'supervisor');
  assert.equal(c2.agent.max_chats, 5, 'default max_chats');

  // Validation.
  assertInvalid(await asAdmin('POST', '/api/agents', { name: 'No Email', role: 'agent' }), 'email');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: 'not-an-email', name: 'Bad', role: 'agent' }), 'email');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, role: 'agent' }), 'name');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, name: 'R', role: 'owner' }), 'role');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, name: 'M', role: 'agent', max_chats: 101 }), 'max_chats');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, name: 'P', role: 'agent', password: 'short' }), 'password');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, name: 'T', role: 'agent', team_ids: 'all' }), 'team_ids');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, name: 'T', role: 'agent', team_ids: [0] }), 'team_ids');
  assertInvalid(await asAdmin('POST', '/api/agents', { email: `${uniq('x')}@example.com`, name: 'U', role: 'agent', colour: 'red' }), 'colour');
  assertProblem(await asAdmin('POST', '/api/agents', { email: email.toUpperCase(), name: 'Dup', role: 'agent' }), 409, 'conflict');

  // Update: name, role, max_chats, teams, password.
  const id = created.agent.id;
  const team2 = await createTeam(fx.pg);
  const up = assertJson(await asAdmin('PATCH', `/api/agents/${id}`, { name: 'Renamed', role: 'supervisor', max_chats: 7, team_ids: [team2] }), 200);
  assert.equal(up.agent.name, 'Renamed');
  assert.equal(up.agent.role, 'supervisor');
  assert.equal(up.agent.max_chats, 7);
  assert.deepEqual(up.agent.team_ids, [team2]);
  assertJson(await asAdmin('PATCH', `/api/agents/${id}`, { password: 'another long password' }), 200);
  assert.equal((await login(fx.srv, email, 'another long password')).res.status, 200);
  assert.equal((await login(fx.srv, email, created.password)).res.status, 401);

  assertInvalid(await asAdmin('PATCH', `/api/agents/${id}`, { name: '' }), 'name');
  assertInvalid(await asAdmin('PATCH', `/api/agents/${id}`, { role: 'root' }), 'role');
  assertInvalid(await asAdmin('PATCH', `/api/agents/${id}`, { max_chats: -1 }), 'max_chats');
  assertInvalid(await asAdmin('PATCH', `/api/agents/${id}`, { active: 'no' }), 'active');
  assertInvalid(await asAdmin('PATCH', `/api/agents/${id}`, { password: '1234567' }), 'password');
  assertInvalid(await asAdmin('PATCH', `/api/agents/${id}`, { email: 'x@example.com' }), 'email');
  // An admin cannot lock themselves out.
  assertInvalid(await asAdmin('PATCH', `/api/agents/${admin.id}`, { active: false }), 'active');
  assertInvalid(await asAdmin('PATCH', `/api/agents/${admin.id}`, { role: 'agent' }), 'role');
  assertProblem(await asAdmin('PATCH', '/api/agents/999999', { name: 'Nobody' }), 404, 'not_found');
  assertProblem(await asAdmin('PATCH', '/api/agents/abc', { name: 'Nobody' }), 404, 'not_found');
});

// ------------------------------------------------------------------- teams

test('teams: list, create, rename, members, and validation', async () => {
  const a1 = await createAgent(fx.pg, { name: 'Team Member One' });
  const a2 = await createAgent(fx.pg, { name: 'Team Member Two' });
  const name = uniq('Sales ');
  const t = assertJson(await asAdmin('POST', '/api/teams', { name, member_ids: [a1.id] }), 201).team;
  assert.equal(t.name, name);
  let listed = assertJson(await asAdmin('GET', '/api/teams'), 200).teams.find((x) => x.id === t.id);
  assert.deepEqual(listed.member_ids, [a1.id]);

  const renamed = assertJson(await asAdmin('PATCH', `/api/teams/${t.id}`, { name: `${name} EU` }), 200).team;
  assert.equal(renamed.name, `${name} EU`);
  listed = assertJson(await asAdmin('GET', '/api/teams'), 200).teams.find((x) => x.id === t.id);
  assert.deepEqual(listed.member_ids, [a1.id], 'members unchanged by a rename');
  assertJson(await asAdmin('PATCH', `/api/teams/${t.id}`, { member_ids: [a2.id] }), 200);
  listed = assertJson(await asAdmin('GET', '/api/teams'), 200).teams.find((x) => x.id === t.id);
  assert.deepEqual(listed.member_ids, [a2.id], 'members replaced');
  assertJson(await asAdmin('PATCH', `/api/teams/${t.id}`, { member_ids: [] }), 200);
  listed = assertJson(await asAdmin('GET', '/api/teams'), 200).teams.find((x) => x.id === t.id);
  assert.deepEqual(listed.member_ids, []);

  assertInvalid(await asAdmin('POST', '/api/teams', {}), 'name');
  assertInvalid(await asAdmin('POST', '/api/teams', { name: '' }), 'name');
  assertInvalid(await asAdmin('POST', '/api/teams', { name: 'x'.repeat(101) }), 'name');
  assertInvalid(await asAdmin('POST', '/api/teams', { name: uniq('T'), member_ids: ['1'] }), 'member_ids');
  assertInvalid(await asAdmin('PATCH', `/api/teams/${t.id}`, { member_ids: {} }), 'member_ids');
  assertInvalid(await asAdmin('PATCH', `/api/teams/${t.id}`, { lead: 1 }), 'lead');
  assertProblem(await asAdmin('POST', '/api/teams', { name: `${name} EU` }), 409, 'conflict');
  assertProblem(await asAdmin('PATCH', '/api/teams/999999', { name: 'Ghost' }), 404, 'not_found');
});

// ------------------------------------------------------------------- sites

test('sites: list with secrets, create, update widget settings, rotate the secret, and validation', async () => {
  const team = await createTeam(fx.pg);
  const created = assertJson(
    await asAdmin('POST', '/api/sites', {
      name: 'Api Shop',
      allowed_origins: ['https://api-shop.example', 'http://localhost:8081'],
      default_team_id: team,
      widget_settings: {
        color: '#1f6feb',
        position: 'left',
        greeting: 'Hi!\nHow can we help?',
        launcher_text: 'Chat',
        language: 'zh-CN',
        prechat_fields: [{ name: 'order_no', label: 'Order number', type: 'text', required: true }],
      },
    }),
    201,
  ).site;
  assert.match(created.public_key, /^[A-Za-z0-9_-]{8,64}$/);
  assert.equal(typeof created.identity_secret, 'string');
  assert.ok(created.identity_secret.length >= 20);
  assert.equal(created.default_team_id, team);
  assert.equal(created.identity_required, false);
  assert.deepEqual(created.allowed_origins, ['https://api-shop.example', 'http://localhost:8081']);
  assert.equal(created.widget_settings.language, 'zh-CN');

  const listed = assertJson(await asAdmin('GET', '/api/sites'), 200).sites.find((s) => s.id === created.id);
  assert.equal(listed.identity_secret, created.identity_secret, 'admins see the secret');

  // Updates keep what is not sent.
  const up = assertJson(await asAdmin('PATCH', `/api/sites/${created.id}`, { name: 'Api Shop 2', identity_required: true }), 200).site;
  assert.equal(up.name, 'Api Shop 2');
  assert.equal(up.identity_required, true);
  assert.deepEqual(up.allowed_origins, created.allowed_origins);
  assert.equal(up.identity_secret, created.identity_secret);
  assert.deepEqual(up.widget_settings, created.widget_settings);
  const rot = assertJson(await asAdmin('PATCH', `/api/sites/${created.id}`, { rotate_identity_secret: true }), 200).site;
  assert.notEqual(rot.identity_secret, created.identity_secret);
  assert.equal(rot.public_key, created.public_key, 'the public key stays');
  const ws = assertJson(await asAdmin('PATCH', `/api/sites/${created.id}`, { widget_settings: { color: '#000000' }, allowed_origins: [] }), 200).site;
  assert.deepEqual(ws.widget_settings, { color: '#000000' }, 'widget_settings are replaced as a whole');
  assert.deepEqual(ws.allowed_origins, []);

  // Validation.
  const bad = (body) => asAdmin('POST', '/api/sites', { name: 'Bad', ...body });
  assertInvalid(await asAdmin('POST', '/api/sites', { allowed_origins: [] }), 'name');
  assertInvalid(await bad({ allowed_origins: ['https://shop.example/path'] }), 'allowed_origins');
  assertInvalid(await bad({ allowed_origins: ['HTTPS://SHOP.EXAMPLE'] }), 'allowed_origins');
  assertInvalid(await bad({ allowed_origins: 'https://shop.example' }), 'allowed_origins');
  assertInvalid(await bad({ allowed_origins: ['javascript:alert(1)'] }), 'allowed_origins');
  assertInvalid(await bad({ widget_settings: { color: 'red' } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: { position: 'top' } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: { language: 'fr' } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: { launcher_text: 'x'.repeat(41) } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: { theme: 'dark' } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: { prechat_fields: [{ name: 'Bad Name', label: 'x' }] } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: { prechat_fields: [{ name: 'ok', label: 'x', type: 'phone' }] } }), 'widget_settings');
  assertInvalid(await bad({ widget_settings: 'blue' }), 'widget_settings');
  assertInvalid(await bad({ default_team_id: 0 }), 'default_team_id');
  assertInvalid(await bad({ identity_required: 'yes' }), 'identity_required');
  assertInvalid(await bad({ public_key: 'mine' }), 'public_key');
  assertProblem(await asAdmin('PATCH', '/api/sites/999999', { name: 'Ghost' }), 404, 'not_found');
  // A team that does not exist is refused by the database constraint (no field named).
  assertProblem(await asAdmin('PATCH', `/api/sites/${created.id}`, { default_team_id: 999999 }), 400, 'invalid_request');
});

// ------------------------------------------------------------------ canned

test('canned responses: every agent reads, supervisors write, with validation', async () => {
  const sup = await createAgent(fx.pg, { name: 'Canned Supervisor', role: 'supervisor' });
  const agent = await createAgent(fx.pg, { name: 'Canned Reader' });
  const asSup = await client(sup);
  const asAgent = await client(agent);
  const shortcut = uniq('greet-').toLowerCase();
  const c = assertJson(await asSup('POST', '/api/canned', { shortcut, body: 'Hello!\nHow can I help?' }), 201).canned;
  assert.equal(c.shortcut, shortcut);
  assert.ok(assertJson(await asAgent('GET', '/api/canned'), 200).canned.some((x) => x.id === c.id));
  const up = assertJson(await asSup('PATCH', `/api/canned/${c.id}`, { body: 'Hi there' }), 200).canned;
  assert.equal(up.body, 'Hi there');
  assert.equal(up.shortcut, shortcut);
  assertJson(await asAdmin('PATCH', `/api/canned/${c.id}`, { shortcut: `${shortcut}-2` }), 200);

  assertInvalid(await asSup('POST', '/api/canned', { body: 'no shortcut' }), 'shortcut');
  assertInvalid(await asSup('POST', '/api/canned', { shortcut: 'Hello', body: 'x' }), 'shortcut');
  assertInvalid(await asSup('POST', '/api/canned', { shortcut: '-dash', body: 'x' }), 'shortcut');
  assertInvalid(await asSup('POST', '/api/canned', { shortcut: 'x'.repeat(33), body: 'x' }), 'shortcut');
  assertInvalid(await asSup('POST', '/api/canned', { shortcut: uniq('ok').toLowerCase() }), 'body');
  assertInvalid(await asSup('POST', '/api/canned', { shortcut: uniq('ok').toLowerCase(), body: 'x'.repeat(4001) }), 'body');
  assertInvalid(await asSup('PATCH', `/api/canned/${c.id}`, { body: '' }), 'body');
  assertProblem(await asSup('POST', '/api/canned', { shortcut: `${shortcut}-2`, body: 'dup' }), 409, 'conflict');
  assertProblem(await asSup('PATCH', '/api/canned/999999', { body: 'x' }), 404, 'not_found');

  assert.equal((await asSup('DELETE', `/api/canned/${c.id}`)).status, 204);
  assertProblem(await asSup('DELETE', `/api/canned/${c.id}`), 404, 'not_found');
  assert.ok(!assertJson(await asAgent('GET', '/api/canned'), 200).canned.some((x) => x.id === c.id));
});

// ------------------------------------------------------------------ tokens

test('API tokens: create (secret once), list without secrets, revoke, and validation', async () => {
  const created = assertJson(
    await asAdmin('POST', '/api/tokens', { name: 'Reporting', scopes: ['conversations:read', 'transcripts:read'], expires_in_days: 30 }),
    201,
  ).token;
  assert.equal(created.name, 'Reporting');
  assert.deepEqual(created.scopes, ['conversations:read', 'transcripts:read']);
  assert.equal(typeof created.token, 'string');
  assert.ok(created.expires_at);
  const bearer = (t) => request(fx.srv, { path: '/api/v1/conversations', headers: { Authorization: `Bearer ${t}` } });
  assert.equal((await bearer(created.token)).status, 200);
  const listed = assertJson(await asAdmin('GET', '/api/tokens'), 200).tokens.find((t) => t.id === created.id);
  assert.equal(listed.token, undefined, 'the list never carries the secret');
  assert.ok(!JSON.stringify(listed).includes(created.token));
  assert.equal(listed.created_by, admin.id);

  assertInvalid(await asAdmin('POST', '/api/tokens', { scopes: ['admin'] }), 'name');
  assertInvalid(await asAdmin('POST', '/api/tokens', { name: 'x' }), 'scopes');
  assertInvalid(await asAdmin('POST', '/api/tokens', { name: 'x', scopes: [] }), 'scopes');
  assertInvalid(await asAdmin('POST', '/api/tokens', { name: 'x', scopes: ['root'] }), 'scopes');
  assertInvalid(await asAdmin('POST', '/api/tokens', { name: 'x', scopes: ['admin', 'admin'] }), 'scopes');
  assertInvalid(await asAdmin('POST', '/api/tokens', { name: 'x', scopes: ['admin'], expires_in_days: 0 }), 'expires_in_days');
  assertInvalid(await asAdmin('POST', '/api/tokens', { name: 'x', scopes: ['admin'], owner: 1 }), 'owner');

  assert.equal((await asAdmin('DELETE', `/api/tokens/${created.id}`)).status, 204);
  assert.equal((await bearer(created.token)).status, 401);
  assert.ok(assertJson(await asAdmin('GET', '/api/tokens'), 200).tokens.find((t) => t.id === created.id).revoked_at);
  assertProblem(await asAdmin('DELETE', '/api/tokens/999999'), 404, 'not_found');
});

// ------------------------------------------------------------------- roles

test('a regular agent gets 403 on every admin write and on GET /api/sites; a supervisor on admin writes', async () => {
  const team = await createTeam(fx.pg);
  const agent = await createAgent(fx.pg, { name: 'Plain Agent', teams: [team] });
  const sup = await createAgent(fx.pg, { name: 'Plain Supervisor', role: 'supervisor' });
  const site = assertJson(await asAdmin('POST', '/api/sites', { name: 'Role Site' }), 201).site;
  const canned = assertJson(await asAdmin('POST', '/api/canned', { shortcut: uniq('r').toLowerCase(), body: 'x' }), 201).canned;
  const asAgent = await client(agent);
  const asSup = await client(sup);

  const adminOnly = [
    ['GET', '/api/sites'],
    ['POST', '/api/sites', { name: 'Nope' }],
    ['PATCH', `/api/sites/${site.id}`, { name: 'Nope' }],
    ['PATCH', `/api/sites/${site.id}`, { rotate_identity_secret: true }],
    ['POST', '/api/agents', { email: `${uniq('n')}@example.com`, name: 'Nope', role: 'admin' }],
    ['PATCH', `/api/agents/${agent.id}`, { role: 'admin' }],
    ['PATCH', `/api/agents/${admin.id}`, { active: false }],
    ['POST', '/api/teams', { name: uniq('Nope') }],
    ['PATCH', `/api/teams/${team}`, { member_ids: [] }],
    ['GET', '/api/tokens'],
    ['POST', '/api/tokens', { name: 'Nope', scopes: ['admin'] }],
    ['DELETE', '/api/tokens/1'],
  ];
  const supervisorOnly = [
    ['POST', '/api/canned', { shortcut: uniq('n').toLowerCase(), body: 'x' }],
    ['PATCH', `/api/canned/${canned.id}`, { body: 'changed' }],
    ['DELETE', `/api/canned/${canned.id}`],
  ];
  for (const [method, path, json] of [...adminOnly, ...supervisorOnly]) {
    assertProblem(await asAgent(method, path, json), 403, 'forbidden');
  }
  for (const [method, path, json] of adminOnly) {
    assertProblem(await asSup(method, path, json), 403, 'forbidden');
  }
  // Nothing changed.
  assert.equal((await fx.pg.query('SELECT role FROM agents WHERE id = $1', [agent.id])).rows[0].role, 'agent');
  assert.equal((await fx.pg.query('SELECT active FROM agents WHERE id = $1', [admin.id])).rows[0].active, true);
  assert.equal((await fx.pg.query('SELECT identity_secret FROM sites WHERE id = $1', [site.id])).rows[0].identity_secret, site.identity_secret);
  assert.equal((await fx.pg.query('SELECT body FROM canned_responses WHERE id = $1', [canned.id])).rows[0].body, 'x');
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM team_members WHERE team_id = $1', [team])).rows[0].n, 1);
  // What the console needs stays readable for agents.
  assertJson(await asAgent('GET', '/api/agents'), 200);
  assertJson(await asAgent('GET', '/api/teams'), 200);
  assertJson(await asAgent('GET', '/api/canned'), 200);
  // Without a session: 401.
  assertProblem(await request(fx.srv, { path: '/api/agents' }), 401, 'unauthenticated');
  assertProblem(await request(fx.srv, { path: '/api/sites' }), 401, 'unauthenticated');
});

test('state changes need the CSRF token and the own origin', async () => {
  const writes = [
    ['POST', '/api/teams', { name: uniq('Csrf') }],
    ['PATCH', `/api/agents/${admin.id}`, { name: 'Csrf' }],
    ['POST', '/api/sites', { name: 'Csrf' }],
    ['POST', '/api/canned', { shortcut: uniq('c').toLowerCase(), body: 'x' }],
    ['DELETE', '/api/canned/1'],
    ['POST', '/api/agents', { email: `${uniq('c')}@example.com`, name: 'Csrf', role: 'agent' }],
    ['POST', '/api/tokens', { name: 'Csrf', scopes: ['admin'] }],
    ['POST', '/api/auth/logout'],
  ];
  for (const [method, path, json] of writes) {
    assertProblem(await asAdmin(method, path, json, { csrf: null }), 403, 'csrf_failed');
    assertProblem(await asAdmin(method, path, json, { csrf: 'x'.repeat(43) }), 403, 'csrf_failed');
    assertProblem(await asAdmin(method, path, json, { origin: 'https://evil.example' }), 403, 'origin_forbidden');
  }
  assert.equal((await fx.pg.query("SELECT count(*)::int AS n FROM teams WHERE name LIKE 'Csrf%'")).rows[0].n, 0);
  assert.notEqual((await fx.pg.query('SELECT name FROM agents WHERE id = $1', [admin.id])).rows[0].name, 'Csrf');
  // Still logged in.
  assertJson(await asAdmin('GET', '/api/auth/me'), 200);
});

// ------------------------------------------------------- sessions and sockets

test('deactivating an agent ends their session and closes their socket (4001) at once; their chats are requeued', async () => {
  const team = await createTeam(fx.pg);
  const gone = await createAgent(fx.pg, { name: 'Soon Gone', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const sock = await connectAgent(fx.srv, gone, { status: 'online' });
  const asGone = await client(gone);
  const v = await connectVisitor(fx.srv, site);
  const cid = (await v.ack({ type: 'conversation.start' })).conversation.id;
  await waitFor(async () => Number((await fx.pg.query('SELECT assignee_id FROM conversations WHERE id = $1', [cid])).rows[0].assignee_id) === gone.id, {
    what: 'auto-assignment',
  });

  const t0 = Date.now();
  const r = assertJson(await asAdmin('PATCH', `/api/agents/${gone.id}`, { active: false }), 200);
  assert.equal(r.agent.active, false);
  const closed = await Promise.race([sock.closed, new Promise((res) => setTimeout(() => res(null), 3000))]);
  assert.ok(closed, 'the socket was not closed within 3 s');
  assert.equal(closed.code, 4001);
  assert.equal(closed.reason, 'deactivated');
  assert.ok(Date.now() - t0 < 3000);
  assertProblem(await asGone('GET', '/api/auth/me'), 401, 'unauthenticated');
  assertProblem(await asGone('GET', '/api/agents'), 401, 'unauthenticated');
  assert.equal((await login(fx.srv, gone.email, gone.password)).res.status, 401, 'cannot log in again');
  assert.equal((await fx.pg.query('SELECT count(*)::int AS n FROM agent_sessions WHERE agent_id = $1', [gone.id])).rows[0].n, 0);
  await waitFor(async () => (await fx.pg.query('SELECT status FROM conversations WHERE id = $1', [cid])).rows[0].status === 'queued', { what: 'requeued' });

  // Reactivated: they may log in again.
  assertJson(await asAdmin('PATCH', `/api/agents/${gone.id}`, { active: true }), 200);
  assert.equal((await login(fx.srv, gone.email, gone.password)).res.status, 200);
});

test('logout closes the sockets of that session (4002) and ends the session', async () => {
  const leaver = await createAgent(fx.pg, { name: 'Log Out' });
  const sock = await connectAgent(fx.srv, leaver);
  const s = sock.session;
  // Another session of the same agent stays.
  const other = await client(leaver);
  const r = await request(fx.srv, {
    method: 'POST',
    path: '/api/auth/logout',
    origin: fx.srv.origin,
    headers: { Cookie: `parley_session=${s.cookie}`, 'X-CSRF-Token': s.csrf },
  });
  assert.equal(r.status, 204);
  const closed = await Promise.race([sock.closed, new Promise((res) => setTimeout(() => res(null), 3000))]);
  assert.ok(closed, 'the socket was not closed within 3 s');
  assert.equal(closed.code, 4002);
  assert.equal(closed.reason, 'logged out');
  assertProblem(await request(fx.srv, { path: '/api/auth/me', headers: { Cookie: `parley_session=${s.cookie}` } }), 401, 'unauthenticated');
  assertJson(await other('GET', '/api/auth/me'), 200);
});

// ------------------------------------------------------------ conversations

test('conversation search: status filters, text search over names, emails and messages, pagination, visibility', async () => {
  const teamA = await createTeam(fx.pg);
  const teamB = await createTeam(fx.pg);
  const inA = await createAgent(fx.pg, { name: 'Search Agent A', teams: [teamA] });
  const closer = await createAgent(fx.pg, { name: 'Search Closer', role: 'supervisor', teams: [teamA, teamB] });
  const siteA = await createSite(fx.pg, { teamId: teamA });
  const siteB = await createSite(fx.pg, { teamId: teamB });
  const sup = await connectAgent(fx.srv, closer, { subscribe: false });
  const tag = uniq('zq').toLowerCase();

  // Seven closed conversations in team A, one open in A, one closed in B.
  const closedA = [];
  for (let i = 1; i <= 7; i++) {
    const v = await connectVisitor(fx.srv, siteA);
    const cid = (await v.ack({ type: 'conversation.start', prechat: { name: `${tag} Person ${i}`, email: `${tag}${i}@mail.example` } })).conversation.id;
    await sendMessage(v, cid, i === 3 ? `I want the 50% ${tag} discount` : i === 5 ? `widget_${tag} broke` : `hello ${i}`);
    await sup.ack({ type: 'conversation.close', conversation_id: cid });
    closedA.push(cid);
    await v.close();
  }
  const vOpen = await connectVisitor(fx.srv, siteA);
  const openA = (await vOpen.ack({ type: 'conversation.start', prechat: { name: `${tag} Open` } })).conversation.id;
  await sendMessage(vOpen, openA, `still ${tag} open`);
  const vB = await connectVisitor(fx.srv, siteB);
  const closedB = (await vB.ack({ type: 'conversation.start', prechat: { name: `${tag} Other Team` } })).conversation.id;
  await sendMessage(vB, closedB, `team b ${tag}`);
  await sup.ack({ type: 'conversation.close', conversation_id: closedB });

  const asA = await client(inA);
  const asSup = await client(closer);
  const ids = (res) => assertJson(res, 200).conversations.map((c) => c.id);
  const q = (params) => `/api/conversations?${new URLSearchParams(params)}`;

  // Status filters and text search (name, email, message text).
  const byName = assertJson(await asA('GET', q({ status: 'closed', q: tag })), 200);
  assert.deepEqual(
    byName.conversations.map((c) => c.id),
    [...closedA].reverse(),
    'team A sees its closed ones, newest first',
  );
  assert.ok(!byName.next, 'no next page');
  const first = byName.conversations[0];
  assert.equal(first.status, 'closed');
  assert.equal(first.visitor.name, `${tag} Person 7`);
  assert.equal(first.last_message, 'hello 7');
  assert.deepEqual(ids(await asA('GET', q({ status: 'open', q: tag }))), [openA]);
  assert.deepEqual(ids(await asA('GET', q({ status: 'queued', q: tag }))), [openA]);
  assert.deepEqual(ids(await asA('GET', q({ status: 'assigned', q: tag }))), []);
  assert.deepEqual(ids(await asA('GET', q({ q: `${tag}4@mail.example` }))), [closedA[3]], 'by email');
  assert.deepEqual(ids(await asA('GET', q({ q: `${tag.toUpperCase()} PERSON 2` }))), [closedA[1]], 'by name, any case');
  assert.deepEqual(ids(await asA('GET', q({ q: `widget_${tag}` }))), [closedA[4]], 'by message text');
  // LIKE wildcards match themselves.
  assert.deepEqual(ids(await asA('GET', q({ q: `50% ${tag}` }))), [closedA[2]]);
  assert.deepEqual(ids(await asA('GET', q({ q: `5_% ${tag}` }))), []);
  assert.deepEqual(ids(await asA('GET', q({ q: `widget%${tag}` }))), []);
  assert.deepEqual(ids(await asA('GET', q({ q: `no such ${tag}` }))), []);

  // Pagination: limit + before = next, no overlap, nothing missed.
  const seen = [];
  let next = null;
  let pages = 0;
  do {
    const params = { status: 'closed', q: tag, limit: '3' };
    if (next) params.before = next;
    const page = assertJson(await asA('GET', q(params)), 200);
    assert.ok(page.conversations.length <= 3);
    seen.push(...page.conversations.map((c) => c.id));
    next = page.next;
    pages += 1;
    if (next) assert.equal(String(next), String(page.conversations[page.conversations.length - 1].id));
  } while (next && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...closedA].reverse());

  // Visibility: team A's agent does not see team B's conversation; the supervisor does.
  assert.ok(!ids(await asA('GET', q({ q: tag }))).includes(closedB));
  assert.ok(ids(await asSup('GET', q({ q: tag }))).includes(closedB));
  assertProblem(await asA('GET', `/api/conversations/${closedB}`), 404, 'not_found');
  assertProblem(await asA('GET', '/api/conversations/999999'), 404, 'not_found');
  assertProblem(await asA('GET', '/api/conversations/abc'), 404, 'not_found');
  const one = assertJson(await asA('GET', `/api/conversations/${closedA[0]}`), 200);
  assert.equal(one.conversation.id, closedA[0]);
  assert.deepEqual(one.earlier, []);
  assertJson(await asSup('GET', `/api/conversations/${closedB}`), 200);

  // Earlier conversations of the same visitor.
  const again = await connectVisitor(fx.srv, siteA, { token: vOpen.token });
  await again.ack({ type: 'conversation.close', conversation_id: openA });
  const later = (await again.ack({ type: 'conversation.start' })).conversation.id;
  const withEarlier = assertJson(await asA('GET', `/api/conversations/${later}`), 200);
  assert.deepEqual(
    withEarlier.earlier.map((c) => c.id),
    [openA],
  );

  // Parameter validation.
  assertInvalid(await asA('GET', q({ status: 'waiting' })), 'status');
  assertInvalid(await asA('GET', q({ limit: '0' })), 'limit');
  assertInvalid(await asA('GET', q({ limit: '101' })), 'limit');
  assertInvalid(await asA('GET', q({ limit: 'ten' })), 'limit');
  assertInvalid(await asA('GET', q({ before: 'abc' })), 'before');
  assertInvalid(await asA('GET', q({ q: 'x'.repeat(201) })), 'q');
  assertProblem(await request(fx.srv, { path: q({ q: tag }) }), 401, 'unauthenticated');
});
