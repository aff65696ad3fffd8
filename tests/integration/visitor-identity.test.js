'use strict';
// A verified identity cannot be overwritten (issue 9, item 7): the name and
// email of a verified visitor change only with a new verified identity,
// whose hash signs every field it carries. Over the REST session an
// identity with unsigned fields is refused (403 identity_invalid); over the
// socket, conversation.start's pre-chat and visitor.update never apply
// them and say so field by field ("ignored").

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { assertProblem } = require('../helpers/assert');
const { createTeam, createAgent, createSite, connectAgent, connectVisitor, identityHash, visitorSession, convUpdated, uniq } = require('../helpers/fixtures');

const SECRET = 'identity-item-7-secret';
const ATTACK = { name: 'Support Team', email: 'ceo@corp.example' };

let site;
let team;
const fx = suite();
const { test } = fx;

fx.setup(async () => {
  team = await createTeam(fx.pg);
  site = await createSite(fx.pg, { teamId: team, identitySecret: SECRET });
});

/** An identity signed the way the site's server does it. */
function signed(fields) {
  return { ...fields, hash: identityHash(SECRET, fields.id, fields) };
}

async function visitorRow(id) {
  const r = await fx.pg.query('SELECT name, email, verified FROM visitors WHERE id = $1', [id]);
  return r.rows[0];
}

/**
 * A verified visitor whose identity carried a name and (unless email is
 * null) an email. Verified by the id alone, then given the fields directly
 * in the database, so that these socket tests depend on nothing but the
 * socket's handling of them.
 */
async function verifiedVisitor({ email = 'vera@example.com' } = {}) {
  const id = uniq('cust-');
  const res = await visitorSession(fx.srv, site, { identity: { id, hash: identityHash(SECRET, id) } });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json.visitor.verified, true);
  await fx.pg.query('UPDATE visitors SET name = $2, email = $3 WHERE id = $1', [res.json.visitor.id, 'Vera Verified', email]);
  return { token: res.json.visitor_token, visitor: res.json.visitor };
}

test('REST session: the hash signs the name and email it comes with; unsigned fields are refused, never stored', async () => {
  const id = uniq('cust-');
  // The id alone, signed alone: verified, nothing else claimed.
  const bare = await visitorSession(fx.srv, site, { identity: { id, hash: identityHash(SECRET, id) } });
  assert.equal(bare.status, 200, bare.body);
  assert.equal(bare.json.visitor.verified, true);
  // The visitor's own valid id hash with a name and email of their choosing.
  assertProblem(await visitorSession(fx.srv, site, { identity: { id, hash: identityHash(SECRET, id), ...ATTACK } }), 403, 'identity_invalid');
  assertProblem(
    await visitorSession(fx.srv, site, { visitorToken: bare.json.visitor_token, identity: { id, hash: identityHash(SECRET, id), name: ATTACK.name } }),
    403,
    'identity_invalid',
  );
  const row = await visitorRow(bare.json.visitor.id);
  assert.equal(row.name, null);
  assert.equal(row.email, null);

  // A new verified identity (signed by the site) is what changes them, also
  // when the request reuses the visitor's token, which it keeps.
  const good = await visitorSession(fx.srv, site, {
    visitorToken: bare.json.visitor_token,
    identity: signed({ id, name: 'Una Real', email: 'una@example.com' }),
  });
  assert.equal(good.status, 200, good.body);
  assert.equal(good.json.visitor_token, bare.json.visitor_token);
  assert.equal(good.json.visitor.id, bare.json.visitor.id);
  assert.deepEqual([good.json.visitor.name, good.json.visitor.email, good.json.visitor.verified], ['Una Real', 'una@example.com', true]);
  // Reusing the token without an identity changes nothing.
  const again = await visitorSession(fx.srv, site, { visitorToken: bare.json.visitor_token });
  assert.equal(again.status, 200, again.body);
  assert.deepEqual([again.json.visitor.name, again.json.visitor.email, again.json.visitor.verified], ['Una Real', 'una@example.com', true]);
});

test("socket: a verified visitor's pre-chat name and email are ignored field by field and not stored", async () => {
  const { token, visitor } = await verifiedVisitor();
  const agent = await createAgent(fx.pg, { name: uniq('Watcher '), teams: [team] });
  const a = await connectAgent(fx.srv, agent);
  const v = await connectVisitor(fx.srv, site, { token });
  const ack = await v.ack({ type: 'conversation.start', prechat: { ...ATTACK, order: 'A-1042' } });
  assert.equal(ack.created, true);
  assert.deepEqual(ack.ignored, ['name', 'email']);
  const row = await visitorRow(visitor.id);
  assert.deepEqual([row.name, row.email, row.verified], ['Vera Verified', 'vera@example.com', true]);
  const stored = (await fx.pg.query('SELECT prechat FROM conversations WHERE id = $1', [ack.conversation.id])).rows[0].prechat;
  assert.deepEqual(stored, { order: 'A-1042' }, 'the refused fields must not be kept as pre-chat answers either');
  // What the agents see.
  const q = await a.next(convUpdated(ack.conversation.id, 'queued'));
  assert.equal(q.conversation.visitor.name, 'Vera Verified');
  assert.equal(q.conversation.visitor.email, 'vera@example.com');
  assert.equal(q.conversation.visitor.verified, true);
  assert.equal(q.conversation.prechat.name, undefined);
  for (const c of [v, a]) await c.close();
});

test('socket: a pre-chat equal to the verified identity is not reported; a field the identity did not carry is not filled in', async () => {
  const { token, visitor } = await verifiedVisitor({ email: null });
  const v = await connectVisitor(fx.srv, site, { token });
  const ack = await v.ack({ type: 'conversation.start', prechat: { name: 'Vera Verified', email: ATTACK.email } });
  assert.deepEqual(ack.ignored, ['email']);
  const row = await visitorRow(visitor.id);
  assert.deepEqual([row.name, row.email], ['Vera Verified', null]);
  await v.close();
});

test('socket: visitor.update cannot change a verified name or email, and says which fields it ignored', async () => {
  const { token, visitor } = await verifiedVisitor();
  const v = await connectVisitor(fx.srv, site, { token });
  const ack = await v.ack({ type: 'visitor.update', ...ATTACK, attributes: { plan: 'pro' } });
  assert.deepEqual(ack.ignored, ['name', 'email']);
  assert.equal(ack.visitor.name, 'Vera Verified');
  assert.equal(ack.visitor.email, 'vera@example.com');
  assert.equal(ack.visitor.verified, true);
  assert.deepEqual(ack.visitor.attributes, { plan: 'pro' }, 'fields outside the identity still update');
  const same = await v.ack({ type: 'visitor.update', name: 'Vera Verified' });
  assert.equal(same.ignored, undefined);
  const row = await visitorRow(visitor.id);
  assert.deepEqual([row.name, row.email, row.verified], ['Vera Verified', 'vera@example.com', true]);
  await v.close();
});

test('an anonymous visitor still sets name and email through pre-chat and visitor.update', async () => {
  const v = await connectVisitor(fx.srv, site);
  const ack = await v.ack({ type: 'conversation.start', prechat: { name: 'Ann Onymous', email: 'ann@example.com' } });
  assert.equal(ack.ignored, undefined);
  let row = await visitorRow(v.visitor.id);
  assert.deepEqual([row.name, row.email, row.verified], ['Ann Onymous', 'ann@example.com', false]);
  const up = await v.ack({ type: 'visitor.update', name: 'Ann Other' });
  assert.equal(up.ignored, undefined);
  row = await visitorRow(v.visitor.id);
  assert.equal(row.name, 'Ann Other');
  await v.close();
});
