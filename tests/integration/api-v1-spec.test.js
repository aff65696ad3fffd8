'use strict';
// REST API v1: docs/openapi.yaml against the server. Route parity with
// backend/src/routes.c both ways, the JSON served at /api/v1/openapi.json,
// the document's own consistency, and, for every documented operation, the
// authentication (no / malformed / unknown / revoked / expired token -> 401)
// and the scope it documents (a token without it -> 403 insufficient_scope,
// with it or admin -> past the scope check).

const { after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const { REPO_ROOT, makeTempDir, rmrf } = require('../helpers/common');
const { suite } = require('../helpers/suite');
const { request, login, mediaType } = require('../helpers/http');
const { assertProblem, assertJson } = require('../helpers/assert');
const { createTeam, createSite } = require('../helpers/fixtures');
const { addToken, api, loadSpec, specOperations, operationParams, deref, v1Routes, SPEC_PATH } = require('../helpers/api');

const SCOPES = ['conversations:read', 'conversations:write', 'transcripts:read', 'reports:read', 'admin'];

let staticDir;
let spec;
const tokens = {};
let convId;
let visitorId;
let fileId;
let webhookId;
let deliveryId;
let botId;
const fx = suite({ env: () => ({ PARLEY_STATIC_DIR: makeStaticDir() }) });
const { test } = fx;

function makeStaticDir() {
  // What `make` does: docs/openapi.yaml -> build/static/api/v1/openapi.json;
  // served here from a static root of our own.
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build-openapi.js')], { cwd: REPO_ROOT, stdio: 'pipe' });
  staticDir = makeTempDir('api-static-');
  fs.mkdirSync(path.join(staticDir, 'api', 'v1'), { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'build', 'static', 'api', 'v1', 'openapi.json'), path.join(staticDir, 'api', 'v1', 'openapi.json'));
  return staticDir;
}

fx.setup(async () => {
  spec = loadSpec();
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  visitorId = Number((await fx.pg.query('INSERT INTO visitors (site_id, name) VALUES ($1, $2) RETURNING id', [site.id, 'Vera'])).rows[0].id);
  convId = Number(
    (
      await fx.pg.query("INSERT INTO conversations (site_id, visitor_id, team_id, status, queued_at) VALUES ($1, $2, $3, 'queued', now()) RETURNING id", [
        site.id,
        visitorId,
        team,
      ])
    ).rows[0].id,
  );

  // A file sent in a message of that conversation, for GET /api/v1/files/{id}.
  const msg = await fx.pg.query(
    "INSERT INTO messages (conversation_id, seq, author_kind, author_id, body) VALUES ($1, 1, 'visitor', $2, 'a file') RETURNING id",
    [convId, visitorId],
  );
  await fx.pg.query('UPDATE conversations SET last_seq = 1 WHERE id = $1', [convId]);
  fileId = 'ab'.repeat(16);
  await fx.pg.query(
    "INSERT INTO files (id, site_id, conversation_id, uploader_kind, uploader_id, state, storage, name, content_type, size, message_id, ready_at, attached_at) VALUES ($1, $2, $3, 'visitor', $4, 'ready', 'pg', 'a.txt', 'text/plain', 5, $5, now(), now())",
    [fileId, site.id, convId, visitorId, msg.rows[0].id],
  );
  await fx.pg.query("INSERT INTO file_chunks (file_id, n, data) VALUES ($1, 0, 'hello'::bytea)", [fileId]);
  for (const s of SCOPES) tokens[s] = await addToken(fx.pg, { scopes: [s] });
  tokens.readWrite = await addToken(fx.pg, { scopes: ['conversations:read', 'conversations:write'] });
  tokens.expired = await addToken(fx.pg, { scopes: ['admin'], expiresDays: 1 });
  await fx.pg.query("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1", [tokens.expired.id]);
  tokens.revoked = await addToken(fx.pg, { scopes: ['admin'] });
  await fx.pg.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1', [tokens.revoked.id]);
  // A webhook endpoint with one delivery, for the /api/v1/webhooks/{id}... paths.
  const ep = await api(fx.srv, tokens.admin, 'POST', '/api/v1/webhooks', { json: bodyFor('POST', '/api/v1/webhooks') });
  webhookId = JSON.parse(ep.body).id;
  const t = await api(fx.srv, tokens.admin, 'POST', `/api/v1/webhooks/${webhookId}/test`);
  deliveryId = JSON.parse(t.body).delivery.id;
  botId = JSON.parse((await api(fx.srv, tokens.admin, 'POST', '/api/v1/bots', { json: bodyFor('POST', '/api/v1/bots') })).body).id;
});

after(() => {
  if (staticDir) rmrf(staticDir);
});

/** A concrete URL path for a documented path: {id} -> an existing id. */
function concrete(p, id = convId) {
  if (p.startsWith('/api/v1/files/')) return p.replace('{id}', fileId);
  if (p.startsWith('/api/v1/bots/')) return p.replace('{id}', String(id === convId ? botId : id));
  if (p.startsWith('/api/v1/webhooks/')) return p.replace('{id}', String(id === convId ? webhookId : id)).replace('{did}', String(deliveryId));
  return p.replace('{id}', String(p.startsWith('/api/v1/visitors/') && id === convId ? visitorId : id)).replace('{agent_id}', '1');
}

/** A body an operation accepts (so that only auth or scope can refuse it). */
function bodyFor(method, p) {
  if (method === 'PATCH') return p === '/api/v1/conversations/{id}' ? { priority: 'high' } : {};
  if (method !== 'POST') return undefined;
  if (p === '/api/v1/webhooks') return { url: 'https://hooks.example.com/spec', events: ['message.created'] };
  if (p.endsWith('/rotate') || p.endsWith('/handoff')) return {};
  if (p === '/api/v1/bots') return { name: `Spec bot ${Math.random()}`, url: 'https://bot.example.com/spec' };
  if (p.endsWith('/messages')) return { body: 'scope check' };
  if (p.endsWith('/assign') || p.endsWith('/escalate')) return { team_id: 1 };
  if (p.endsWith('/participants')) return { agent_id: 1 };
  if (p === '/api/v1/labels') return { name: `Spec label ${Math.random()}` };
  if (p === '/api/v1/automation-rules')
    return { name: 'Spec rule', rule: { trigger: 'conversation.created', actions: [{ type: 'set_priority', priority: 'low' }] } };
  return undefined;
}

test('route parity: every /api/v1 route of routes.c is in docs/openapi.yaml and nothing else is', () => {
  const routes = v1Routes();
  assert.ok(routes.length >= 13, `found only ${routes.length} /api/v1 routes in routes.c: is the parser still right?`);
  const key = (r) => `${r.method} ${r.path}`;
  const server = new Set(routes.map(key));
  assert.equal(server.size, routes.length, 'routes.c lists a /api/v1 route twice');
  const documented = new Set(specOperations(spec).map(key));
  const undocumented = [...server].filter((k) => !documented.has(k)).sort();
  const phantom = [...documented].filter((k) => !server.has(k)).sort();
  assert.deepEqual(undocumented, [], `routes in routes.c missing from ${path.relative(REPO_ROOT, SPEC_PATH)}`);
  assert.deepEqual(phantom, [], `operations in ${path.relative(REPO_ROOT, SPEC_PATH)} that routes.c does not serve`);
});

test('GET /api/v1/openapi.json serves docs/openapi.yaml as JSON, without a token', async () => {
  const res = await request(fx.srv, { path: '/api/v1/openapi.json' });
  assertJson(res, 200);
  assert.deepEqual(res.json, YAML.parse(fs.readFileSync(SPEC_PATH, 'utf8')), 'the served document differs from docs/openapi.yaml');
  assert.match(res.json.openapi, /^3\.1\./);
});

test('the document: OpenAPI 3.1, every $ref resolves, every operation has its scope, parameters and problem answers', () => {
  assert.match(spec.openapi, /^3\.1\./);
  assert.equal(spec.components.securitySchemes.bearerAuth.type, 'http');
  assert.equal(spec.components.securitySchemes.bearerAuth.scheme, 'bearer');

  // Every $ref anywhere resolves.
  const refs = [];
  const visit = (n) => {
    if (Array.isArray(n)) n.forEach(visit);
    else if (n && typeof n === 'object') {
      if (typeof n.$ref === 'string') refs.push(n.$ref);
      Object.values(n).forEach(visit);
    }
  };
  visit(spec);
  for (const r of refs) assert.doesNotThrow(() => deref(spec, { $ref: r }), `$ref ${r}`);

  const problem = spec.components.schemas.Problem;
  assert.deepEqual(problem.required, ['type', 'title', 'status']);
  for (const k of ['type', 'title', 'status', 'detail', 'request_id', 'errors']) assert.ok(problem.properties[k], `Problem.${k}`);
  assert.deepEqual(Object.keys(problem.properties.errors.items.properties).sort(), ['field', 'message']);

  for (const { method, path: p, op, item } of specOperations(spec)) {
    const where = `${method} ${p}`;
    assert.ok(Array.isArray(op['x-scopes']) && op['x-scopes'].length === 1, `${where}: x-scopes`);
    const scope = op['x-scopes'][0];
    assert.ok(SCOPES.includes(scope), `${where}: unknown scope ${scope}`);
    assert.deepEqual(op.security, [{ bearerAuth: [scope] }], `${where}: security requirement`);
    assert.ok(op.description.includes(`Scope: \`${scope}\``), `${where}: the description names the scope`);
    assert.ok(op.operationId, `${where}: operationId`);

    const params = operationParams(spec, item, op);
    for (const name of [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])) {
      const d = params.find((x) => x.in === 'path' && x.name === name);
      assert.ok(d && d.required === true && d.schema, `${where}: path parameter ${name} declared`);
    }
    for (const x of params) assert.ok(x.name && x.in && x.schema, `${where}: parameter ${JSON.stringify(x).slice(0, 80)}`);

    for (const code of ['401', '403', '429', '503']) assert.ok(op.responses[code], `${where}: documents ${code}`);
    if (p.includes('{id}')) assert.ok(op.responses['404'], `${where}: documents 404`);
    if (params.some((x) => x.in === 'query') || op.requestBody) assert.ok(op.responses['400'], `${where}: documents 400`);
    if (op.requestBody) {
      // JSON, or a file's raw bytes (uploads)
      assert.ok(op.requestBody.content['application/json'] || op.requestBody.content['application/octet-stream'], `${where}: JSON body`);
      for (const code of ['413', '415']) assert.ok(op.responses[code], `${where}: documents ${code}`);
    }
    for (const [code, r] of Object.entries(op.responses)) {
      const resp = deref(spec, r);
      if (code === '204') continue; // No Content
      assert.ok(resp.content, `${where} ${code}: content`);
      if (Number(code) >= 400) {
        assert.deepEqual(Object.keys(resp.content), ['application/problem+json'], `${where} ${code}: problem+json only`);
        assert.equal(resp.content['application/problem+json'].schema.$ref, '#/components/schemas/Problem', `${where} ${code}: Problem schema`);
      }
    }
    assert.ok(op.responses['200'] || op.responses['201'] || op.responses['202'] || op.responses['204'], `${where}: a success answer`);
  }
  const rl = deref(spec, spec.components.responses.RateLimited);
  assert.ok(rl.headers['Retry-After'], 'RateLimited documents Retry-After');
  const tr = spec.paths['/api/v1/conversations/{id}/transcript'].get.responses['200'].content;
  assert.deepEqual(Object.keys(tr).sort(), ['application/json', 'text/html', 'text/plain']);
  assert.ok(spec.paths['/api/v1/transcripts'].get.responses['200'].content['application/x-ndjson']);
});

test('every operation: no token, a malformed, unknown, revoked or expired token -> 401 unauthenticated', async () => {
  const cases = [
    ['no Authorization header', {}],
    ['a Basic credential', { Authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['a malformed token (too short)', { Authorization: 'Bearer prl_abc' }],
    ['a malformed token (wrong prefix)', { Authorization: `Bearer pv_${tokens.admin.token.slice(4)}` }],
    ['a malformed token (bad character)', { Authorization: `Bearer ${tokens.admin.token.slice(0, -1)}*` }],
    ['an unknown token', { Authorization: `Bearer prl_${'A'.repeat(43)}` }],
    ['a revoked token', { Authorization: `Bearer ${tokens.revoked.token}` }],
    ['an expired token', { Authorization: `Bearer ${tokens.expired.token}` }],
  ];
  for (const { method, path: p } of specOperations(spec)) {
    for (const [what, headers] of cases) {
      const res = await request(fx.srv, { method, path: concrete(p), headers, json: bodyFor(method, p) });
      assertProblem(res, 401, 'unauthenticated');
      assert.match(String(res.headers['www-authenticate'] || ''), /^Bearer realm="parley"/, `${method} ${p} with ${what}: WWW-Authenticate`);
      assert.ok(res.json.request_id, 'problem carries request_id');
      assert.equal(res.json.request_id, res.headers['x-request-id']);
    }
  }
  // The scheme name is case-insensitive.
  const res = await request(fx.srv, { path: '/api/v1/agents', headers: { Authorization: `bearer ${tokens['conversations:read'].token}` } });
  assertJson(res, 200);
});

test('every operation: a token without the documented scope -> 403 insufficient_scope; the scope (or admin) passes', async () => {
  // A token lacking each scope (and not admin).
  const lacking = {
    'conversations:read': tokens['transcripts:read'],
    'conversations:write': tokens['conversations:read'],
    'transcripts:read': tokens.readWrite,
    'reports:read': tokens.readWrite,
    admin: tokens.readWrite,
  };
  for (const { method, path: p, op } of specOperations(spec)) {
    const scope = op['x-scopes'][0];
    const where = `${method} ${p}`;
    const denied = await api(fx.srv, lacking[scope], method, concrete(p), { json: bodyFor(method, p) });
    const body = assertProblem(denied, 403, 'insufficient_scope');
    assert.ok(body.detail.includes(scope), `${where}: the 403 names the scope (${body.detail})`);

    for (const tok of [tokens[scope], tokens.admin]) {
      if (method === 'GET') {
        const ok = await api(fx.srv, tok, method, concrete(p));
        assert.equal(ok.status, 200, `${where} with ${tok.scopes}: ${ok.status} ${ok.body.slice(0, 300)}`);
      } else if (!p.includes('{')) {
        // Creating in a collection: past auth and scope, whatever else it answers.
        const made = await api(fx.srv, tok, method, p, { json: bodyFor(method, p) });
        assert.ok(made.status !== 401 && made.status !== 403, `${where}: ${made.status} ${made.body.slice(0, 200)}`);
      } else {
        // Writes on a conversation that does not exist: past auth and scope.
        const nf = await api(fx.srv, tok, method, concrete(p, 999999999), { json: bodyFor(method, p) });
        assertProblem(nf, 404, 'not_found');
      }
    }
  }
});

test('a method a v1 path does not have -> 405 with Allow', async () => {
  const res = await api(fx.srv, tokens.admin, 'DELETE', `/api/v1/conversations/${convId}`);
  assertProblem(res, 405, 'method_not_allowed');
  assert.equal(res.headers.allow, 'GET, PATCH');
  const res2 = await api(fx.srv, tokens.admin, 'PUT', `/api/v1/conversations/${convId}/messages`);
  assertProblem(res2, 405, 'method_not_allowed');
  assert.equal(res2.headers.allow, 'GET, POST');
});

test('tokens from the console: an admin creates one (shown once), it works, DELETE /api/tokens/{id} revokes it -> 401', async () => {
  const adminPassword = fx.srv.adminPassword();
  assert.ok(adminPassword, 'parleyd printed the first admin password');
  const { res, jar, csrf } = await login(fx.srv, 'admin@localhost', adminPassword);
  assert.equal(res.status, 200, res.body);
  const headers = { Origin: fx.srv.origin, 'X-CSRF-Token': csrf };

  const created = await request(fx.srv, {
    method: 'POST',
    path: '/api/tokens',
    jar,
    headers,
    json: { name: 'Console CRM', scopes: ['conversations:read'], expires_in_days: 30 },
  });
  const doc = assertJson(created, 201).token;
  assert.match(doc.token, /^prl_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(doc.scopes, ['conversations:read']);
  assert.ok(Date.parse(doc.expires_at) > Date.now() + 29 * 86400e3, `expires_at ${doc.expires_at}`);

  const used = await api(fx.srv, doc.token, 'GET', `/api/v1/conversations/${convId}`);
  assert.equal(assertJson(used, 200).id, convId);
  const forbidden = await api(fx.srv, doc.token, 'GET', `/api/v1/conversations/${convId}/transcript`);
  assertProblem(forbidden, 403, 'insufficient_scope');

  const list = assertJson(await request(fx.srv, { path: '/api/tokens', jar }), 200);
  const row = list.tokens.find((t) => t.id === doc.id);
  assert.ok(row, 'the token is listed');
  assert.equal(row.token, undefined, 'the secret is never listed');
  assert.ok(row.last_used_at, 'last_used_at is set once it was used');

  const del = await request(fx.srv, { method: 'DELETE', path: `/api/tokens/${doc.id}`, jar, headers });
  assert.equal(del.status, 204, del.body);
  const after = await api(fx.srv, doc.token, 'GET', `/api/v1/conversations/${convId}`);
  assertProblem(after, 401, 'unauthenticated');
  assert.match(after.headers['www-authenticate'], /error="invalid_token"/);
  const listed = assertJson(await request(fx.srv, { path: '/api/tokens', jar }), 200).tokens.find((t) => t.id === doc.id);
  assert.ok(listed.revoked_at, 'revoked_at is set');
  assert.equal(mediaType(del), '');
});
