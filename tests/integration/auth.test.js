'use strict';
// Agent login / logout / sessions / CSRF / Origin checks.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { addAgent } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');
const { request, login, findSetCookie, CookieJar, SESSION_COOKIE } = require('../helpers/http');
const { assertJson, assertProblem, assertStatus, show } = require('../helpers/assert');

const PASSWORD = 'correct horse battery staple';
const EMAIL = 'alice@example.com';
const NAME = 'Alice Example';

let agentId;
const fx = suite({ fastHashes: false });
const { test } = fx;

fx.setup(async () => {
  agentId = await addAgent(fx.pg.url, { email: EMAIL, name: NAME, role: 'admin', password: PASSWORD });
});

const me = (jar) => request(fx.srv, { path: '/api/auth/me', jar });
const jarWith = (cookie) => new CookieJar({ [SESSION_COOKIE]: cookie });
const logout = (jar, headers = {}) => request(fx.srv, { method: 'POST', path: '/api/auth/logout', origin: fx.srv.origin, jar, headers });

async function loggedIn() {
  const r = await login(fx.srv, EMAIL, PASSWORD);
  assertStatus(r.res, 200);
  assert.ok(r.cookie, 'login set no session cookie');
  return r;
}

async function sessionHashes() {
  const r = await fx.pg.query("SELECT encode(token_hash, 'hex') AS h FROM agent_sessions");
  return new Set(r.rows.map((x) => x.h));
}

/** Log in and return the new session's token_hash (hex), found by diffing agent_sessions. */
async function loginAndFindRow() {
  const beforeSet = await sessionHashes();
  const r = await loggedIn();
  const added = [...(await sessionHashes())].filter((h) => !beforeSet.has(h));
  assert.equal(added.length, 1, 'expected exactly one new agent_sessions row after login');
  return { ...r, hash: added[0] };
}

test('login succeeds with the right password', async () => {
  const { res, cookie } = await login(fx.srv, EMAIL, PASSWORD);
  const body = assertJson(res, 200);
  assert.ok(body.agent && typeof body.agent === 'object', show(res));
  assert.equal(body.agent.email, EMAIL);
  assert.equal(body.agent.name, NAME);
  assert.equal(body.agent.role, 'admin');
  assert.ok(body.agent.id !== undefined && body.agent.id !== null && String(body.agent.id) !== '', 'agent.id missing');
  assert.ok(agentId.split(/\s+/).includes(String(body.agent.id)), `agent add printed ${JSON.stringify(agentId)}, login says id ${body.agent.id}`);
  assert.equal(typeof body.csrf_token, 'string');
  assert.ok(body.csrf_token.length >= 16, 'csrf_token too short');

  const c = findSetCookie(res, SESSION_COOKIE);
  assert.ok(c, `no Set-Cookie ${SESSION_COOKIE}: ${JSON.stringify(res.setCookies)}`);
  assert.equal(c.value, cookie);
  assert.ok(c.value.length >= 43, `session cookie value is only ${c.value.length} chars`);
  assert.equal(c.httpOnly, true, `HttpOnly missing: ${c.raw}`);
  assert.equal(String(c.attrs.samesite).toLowerCase(), 'lax', `SameSite=Lax missing: ${c.raw}`);
  assert.equal(c.attrs.path, '/', `Path=/ missing: ${c.raw}`);
  assert.equal(c.secure, false, `Secure must not be set over plain HTTP: ${c.raw}`);
});

test('GET /api/auth/me with the session cookie returns the agent and a csrf token', async () => {
  const { jar, res: loginRes } = await loggedIn();
  const res = await me(jar);
  const body = assertJson(res, 200);
  assert.deepEqual(body.agent, loginRes.json.agent);
  assert.equal(typeof body.csrf_token, 'string');
  assert.ok(body.csrf_token.length >= 16, 'csrf_token too short');
});

test('wrong password and unknown email get the same 401 invalid_credentials', async () => {
  const wrong = await login(fx.srv, EMAIL, 'not the password at all');
  const p1 = assertProblem(wrong.res, 401, 'invalid_credentials');
  assert.equal(findSetCookie(wrong.res, SESSION_COOKIE), null, 'failed login must not set a session cookie');
  const unknown = await login(fx.srv, 'nobody-here@example.com', PASSWORD);
  const p2 = assertProblem(unknown.res, 401, 'invalid_credentials');
  assert.equal(p2.title, p1.title);
  assert.equal(p2.detail, p1.detail);
  assert.equal(p2.type, p1.type);
  assert.equal(unknown.res.status, wrong.res.status);
});

test('login without Origin is 403 origin_forbidden', async () => {
  const res = await request(fx.srv, { method: 'POST', path: '/api/auth/login', json: { email: EMAIL, password: PASSWORD } });
  assertProblem(res, 403, 'origin_forbidden');
  assert.equal(findSetCookie(res, SESSION_COOKIE), null);
});

test('login with a foreign Origin is 403 origin_forbidden', async () => {
  const res = await request(fx.srv, { method: 'POST', path: '/api/auth/login', origin: 'http://evil.example', json: { email: EMAIL, password: PASSWORD } });
  assertProblem(res, 403, 'origin_forbidden');
  assert.equal(findSetCookie(res, SESSION_COOKIE), null);
});

test('login with Content-Type text/plain is 415 unsupported_media_type', async () => {
  const res = await request(fx.srv, {
    method: 'POST',
    path: '/api/auth/login',
    origin: fx.srv.origin,
    headers: { 'Content-Type': 'text/plain' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  assertProblem(res, 415, 'unsupported_media_type');
  assert.equal(findSetCookie(res, SESSION_COOKIE), null);
});

test('login with malformed JSON is 400 invalid_request', async () => {
  const res = await request(fx.srv, {
    method: 'POST',
    path: '/api/auth/login',
    origin: fx.srv.origin,
    headers: { 'Content-Type': 'application/json' },
    body: '{"email": "alice@example.com", "password": ',
  });
  assertProblem(res, 400, 'invalid_request');
});

test('login without a password is 400 invalid_request naming the field', async () => {
  const res = await request(fx.srv, { method: 'POST', path: '/api/auth/login', origin: fx.srv.origin, json: { email: EMAIL } });
  const p = assertProblem(res, 400, 'invalid_request');
  assert.ok(Array.isArray(p.errors) && p.errors.length > 0, `errors[] missing: ${res.body}`);
  assert.equal(p.errors[0].field, 'password');
  assert.equal(typeof p.errors[0].message, 'string');
});

test('logout needs the CSRF token; with it the session ends', async () => {
  const { jar, csrf } = await loggedIn();
  assert.ok(csrf, 'login returned no csrf_token');

  const noToken = await logout(jar);
  assertProblem(noToken, 403, 'csrf_failed');
  assertStatus(await me(jar), 200); // still logged in

  const tampered = csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A');
  const wrongToken = await logout(jar, { 'X-CSRF-Token': tampered });
  assertProblem(wrongToken, 403, 'csrf_failed');
  const other = await logout(jar, { 'X-CSRF-Token': crypto.randomBytes(32).toString('base64url') });
  assertProblem(other, 403, 'csrf_failed');
  assertStatus(await me(jar), 200); // still logged in

  const cookie = jar.get(SESSION_COOKIE);
  const ok = await logout(jar, { 'X-CSRF-Token': csrf });
  assertStatus(ok, 204);
  assert.equal(ok.body, '', '204 must have no body');
  // Even if the client kept the cookie, the session is gone server-side.
  assertProblem(await me(jarWith(cookie)), 401, 'unauthenticated');
});

test('a CSRF token from another session does not work', async () => {
  const a = await loggedIn();
  const b = await loggedIn();
  assert.notEqual(a.csrf, b.csrf, 'two sessions got the same CSRF token');
  assertProblem(await logout(a.jar, { 'X-CSRF-Token': b.csrf }), 403, 'csrf_failed');
  assertStatus(await me(a.jar), 200);
});

test('GET /api/auth/me without a cookie, or with an unknown one, is 401 unauthenticated', async () => {
  assertProblem(await me(new CookieJar()), 401, 'unauthenticated');
  assertProblem(await me(jarWith(crypto.randomBytes(32).toString('base64url'))), 401, 'unauthenticated');
  assertProblem(await me(jarWith('x')), 401, 'unauthenticated');
});

test('an idle session (last_seen_at two days ago) is rejected', async () => {
  const { jar, hash } = await loginAndFindRow();
  assertStatus(await me(jar), 200);
  const u = await fx.pg.query("UPDATE agent_sessions SET last_seen_at = now() - interval '2 days' WHERE token_hash = decode($1, 'hex')", [hash]);
  assert.equal(u.rowCount, 1);
  assertProblem(await me(jar), 401, 'unauthenticated');
});

test('a session older than its absolute lifetime (created 60 days ago) is rejected', async () => {
  const { jar, hash } = await loginAndFindRow();
  assertStatus(await me(jar), 200);
  const u = await fx.pg.query("UPDATE agent_sessions SET created_at = now() - interval '60 days' WHERE token_hash = decode($1, 'hex')", [hash]);
  assert.equal(u.rowCount, 1);
  assertProblem(await me(jar), 401, 'unauthenticated');
});

test('the database stores a hash of the session token, never the token', async () => {
  const { cookie } = await loginAndFindRow();
  const col = await fx.pg.query(
    "SELECT data_type FROM information_schema.columns WHERE table_name = 'agent_sessions' AND column_name = 'token_hash' AND table_schema = current_schema()",
  );
  assert.equal(col.rows.length, 1, 'agent_sessions.token_hash missing');
  assert.equal(col.rows[0].data_type, 'bytea');

  const rows = (await fx.pg.query('SELECT t::text AS row FROM agent_sessions t')).rows.map((r) => r.row);
  assert.ok(rows.length > 0);
  const needles = [cookie, Buffer.from(cookie, 'utf8').toString('hex')];
  const decoded = Buffer.from(cookie, 'base64url');
  if (decoded.length >= 16) needles.push(decoded.toString('hex'));
  for (const row of rows) {
    for (const n of needles) {
      assert.ok(!row.toLowerCase().includes(n.toLowerCase()), `agent_sessions row contains the raw session token: ${row}`);
    }
  }
});

test('passwords are stored as scrypt ln=17,r=8,p=1 hashes', async () => {
  const r = await fx.pg.query('SELECT password_hash FROM agents WHERE email = $1', [EMAIL]);
  assert.equal(r.rows.length, 1);
  const h = String(r.rows[0].password_hash);
  assert.ok(h.startsWith('$scrypt$ln=17,r=8,p=1$'), `password_hash is ${JSON.stringify(h.slice(0, 40))}...`);
  assert.ok(!h.includes(PASSWORD));
});

// ------------------------------------------- POST /api/auth/password (self-service)

const changePassword = (jar, csrf, json, { localAddress, origin = fx.srv.origin } = {}) =>
  request(fx.srv, { method: 'POST', path: '/api/auth/password', origin, jar, json, localAddress, headers: csrf ? { 'X-CSRF-Token': csrf } : {} });

async function freshAgent(label) {
  const email = `${label}-${crypto.randomBytes(3).toString('hex')}@example.com`;
  await addAgent(fx.pg.url, { email, name: label, role: 'agent', password: PASSWORD });
  return email;
}

test('password change: needs the session, the CSRF token and our Origin; validates the new password', async () => {
  const email = await freshAgent('pw-checks');
  const { jar, csrf } = await login(fx.srv, email, PASSWORD);
  const body = { current_password: PASSWORD, new_password: 'another long passphrase' };
  assertProblem(await changePassword(new CookieJar(), null, body), 401, 'unauthenticated');
  assertProblem(await changePassword(jar, null, body), 403, 'csrf_failed');
  assertProblem(await changePassword(jar, csrf, body, { origin: 'http://evil.example' }), 403, 'origin_forbidden');
  let p = assertProblem(await changePassword(jar, csrf, { current_password: PASSWORD }), 400, 'invalid_request');
  assert.equal(p.errors[0].field, 'new_password');
  p = assertProblem(await changePassword(jar, csrf, { current_password: PASSWORD, new_password: 'short' }), 400, 'invalid_request');
  assert.equal(p.errors[0].field, 'new_password');
  p = assertProblem(await changePassword(jar, csrf, { current_password: PASSWORD, new_password: PASSWORD }), 400, 'invalid_request');
  assert.equal(p.errors[0].field, 'new_password');
  assertProblem(await changePassword(jar, csrf, { ...body, extra: 1 }), 400, 'invalid_request');
  // Nothing changed.
  assertStatus((await login(fx.srv, email, PASSWORD)).res, 200);
});

test('password change: a wrong current password is 403 invalid_credentials and the session stays; the right one ends the other sessions', async () => {
  const email = await freshAgent('pw-change');
  const mine = await login(fx.srv, email, PASSWORD);
  const other = await login(fx.srv, email, PASSWORD);
  assertProblem(
    await changePassword(mine.jar, mine.csrf, { current_password: 'not it at all', new_password: 'another long passphrase' }),
    403,
    'invalid_credentials',
  );
  assertStatus(await me(mine.jar), 200);

  const ok = await changePassword(mine.jar, mine.csrf, { current_password: PASSWORD, new_password: 'another long passphrase' });
  assertStatus(ok, 204);
  assertStatus(await me(mine.jar), 200);
  assertProblem(await me(other.jar), 401, 'unauthenticated');
  assert.equal((await login(fx.srv, email, PASSWORD)).res.status, 401);
  assertStatus((await login(fx.srv, email, 'another long passphrase')).res, 200);
  const h = (await fx.pg.query('SELECT password_hash FROM agents WHERE email = $1', [email])).rows[0].password_hash;
  assert.ok(h.startsWith('$scrypt$'), 'the new password is stored as a scrypt hash');
});

test('password change is throttled like login: parallel wrong current passwords get exactly the account limit of verifications (127.0.0.9)', async () => {
  const email = await freshAgent('pw-throttle');
  const from = { localAddress: '127.0.0.9' };
  const { jar, csrf } = await login(fx.srv, email, PASSWORD, from);
  const tries = await Promise.all(
    Array.from({ length: 10 }, (_, i) => changePassword(jar, csrf, { current_password: `guess number ${i}`, new_password: 'another long passphrase' }, from)),
  );
  const counts = {};
  for (const r of tries) counts[r.status] = (counts[r.status] || 0) + 1;
  assert.deepEqual(counts, { 403: 5, 429: 5 }, `answers: ${JSON.stringify(counts)}`); // PARLEY_LOGIN_ACCOUNT_LIMIT defaults to 5
  for (const r of tries.filter((x) => x.status === 429)) assertProblem(r, 429, 'too_many_attempts');
  // The same account window as login: the right password is refused too, both ways.
  assertProblem(await changePassword(jar, csrf, { current_password: PASSWORD, new_password: 'another long passphrase' }, from), 429, 'too_many_attempts');
  assertProblem((await login(fx.srv, email, PASSWORD, from)).res, 429, 'too_many_attempts');
  assertStatus(await me(jar), 200);
});
