'use strict';
// The text policy for bidi controls and invisible characters
// (docs/architecture.md, "Text from people"), end to end:
//   - names an admin types (agents, teams, sites, API tokens, agent emails)
//     with U+202E and friends are refused with 400 naming the field, while
//     real names (Arabic, Persian with ZWNJ, emoji ZWJ sequences) are kept;
//   - the visitor's own name and email (widget session identity,
//     visitor.update, pre-chat) are cleaned, never refused;
//   - free text (messages, notes, comments, reasons, canned responses, site
//     greeting and labels, attribute values, pre-chat answers) loses its
//     unpaired controls only;
//   - transcripts isolate names and bodies: FSI ... PDI in txt, <bdi> and
//     dir="auto" in html, also for rows stored before the policy.

const assert = require('node:assert/strict');

const { runParleyd } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');
const { request, login } = require('../helpers/http');
const { assertProblem, assertJson } = require('../helpers/assert');
const { WsReplyError } = require('../helpers/ws');
const { addToken, api, escapeHtml } = require('../helpers/api');
const {
  FAST_ENV,
  createTeam,
  createAgent,
  createSite,
  identityHash,
  visitorSession,
  connectVisitor,
  connectAgent,
  startConversation,
  sendMessage,
  convUpdated,
} = require('../helpers/fixtures');

const RLO = '\u202E';
const PDF = '\u202C';
const RLE = '\u202B';
const LRI = '\u2066';
const RLI = '\u2067';
const FSI = '\u2068';
const PDI = '\u2069';
const RLM = '\u200F';
const ZWSP = '\u200B';
const ZWNJ = '\u200C';
const ARABIC = 'محمد';
const PERSIAN = `علی${ZWNJ}اکبر`; // a Persian name that needs its ZWNJ
const TECHNOLOGIST = '👩\u200D💻'; // an emoji ZWJ sequence

// Every string an identifier must not carry, one class each.
const HOSTILE_NAMES = [
  `${RLO}gnp.exe`,
  `Ann${ZWSP}`,
  `${LRI}Ann${PDI}`,
  `Ann${RLM}`,
  'Ann\uFEFF',
  'Ann\u00AD',
  'Ann\u{E0041}', // a tag character
  '\u3164', // Hangul filler: a name that looks empty
  `A\u200Dnn`, // a joiner inside a Latin word
];

let admin;
let asAdmin;
const T = {};
const fx = suite({ env: { PARLEY_AGENT_GRACE_SECONDS: '86400' } });
const { test } = fx;

fx.setup(async () => {
  admin = await createAgent(fx.pg, { name: 'Policy Admin', role: 'admin' });
  asAdmin = await client(admin);
  T.admin = await addToken(fx.pg, { scopes: ['admin'] });
});

/** A logged-in console API client: call(method, path, json). */
async function client(agent) {
  const s = await login(fx.srv, agent.email, agent.password);
  assert.equal(s.res.status, 200, `login of ${agent.email}: ${s.res.body}`);
  return (method, path, json) => request(fx.srv, { method, path, json, jar: s.jar, origin: fx.srv.origin, headers: { 'X-CSRF-Token': s.csrf } });
}

/** 400 invalid_request naming `field`, with a message about invisible characters. */
function assertRefused(res, field, what) {
  const p = assertProblem(res, 400, 'invalid_request');
  assert.equal(p.errors && p.errors[0] && p.errors[0].field, field, `${what}: field of ${res.body}`);
  assert.match(p.errors[0].message, /invisible|visible character/, `${what}: message of ${res.body}`);
}

/** The rejection of a socket request, as {code, field}. */
async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    if (e instanceof WsReplyError) return { code: e.reply.code, field: e.reply.field };
    throw e;
  }
  return null;
}

/** Any explicit bidi control left without its partner, per line (the promise of text_bidi_balance). */
function unbalanced(text) {
  for (const line of text.split(/\r\n|\r|\n/)) {
    const stack = [];
    for (const ch of line) {
      if ('\u202A\u202B\u202D\u202E'.includes(ch)) stack.push('E');
      else if ('\u2066\u2067\u2068'.includes(ch)) stack.push('I');
      else if (ch === PDF && stack.pop() !== 'E') return `stray PDF in ${JSON.stringify(line)}`;
      else if (ch === PDI && stack.pop() !== 'I') return `stray PDI in ${JSON.stringify(line)}`;
    }
    if (stack.length) return `unclosed control in ${JSON.stringify(line)}`;
  }
  return null;
}

test('admin writes: names with bidi controls or invisible characters are refused, naming the field; real names are kept', async () => {
  const team = assertJson(await asAdmin('POST', '/api/teams', { name: `Policy team ${process.pid}` }), 201).team;
  const site = assertJson(await asAdmin('POST', '/api/sites', { name: 'Policy site', allowed_origins: ['https://policy.example'] }), 201).site;
  const agent = assertJson(await asAdmin('POST', '/api/agents', { email: `p.${process.pid}@example.com`, name: 'Pat', role: 'agent' }), 201).agent;
  for (const bad of HOSTILE_NAMES) {
    const what = JSON.stringify(bad);
    assertRefused(await asAdmin('POST', '/api/agents', { email: `x${Math.random()}@example.com`, name: bad, role: 'agent' }), 'name', `agent create ${what}`);
    assertRefused(await asAdmin('PATCH', `/api/agents/${agent.id}`, { name: bad }), 'name', `agent update ${what}`);
    assertRefused(await asAdmin('POST', '/api/teams', { name: bad }), 'name', `team create ${what}`);
    assertRefused(await asAdmin('PATCH', `/api/teams/${team.id}`, { name: bad }), 'name', `team update ${what}`);
    assertRefused(await asAdmin('POST', '/api/sites', { name: bad }), 'name', `site create ${what}`);
    assertRefused(await asAdmin('PATCH', `/api/sites/${site.id}`, { name: bad }), 'name', `site update ${what}`);
    assertRefused(await asAdmin('POST', '/api/tokens', { name: bad, scopes: ['conversations:read'] }), 'name', `token ${what}`);
  }
  const email = assertProblem(
    await asAdmin('POST', '/api/agents', { email: `p${ZWSP}x.${process.pid}@example.com`, name: 'Pam', role: 'agent' }),
    400,
    'invalid_request',
  );
  assert.equal(email.errors[0].field, 'email');
  // Nothing of it was stored.
  const stored = await fx.pg.query(
    'SELECT name FROM agents UNION ALL SELECT name FROM teams UNION ALL SELECT name FROM sites UNION ALL SELECT name FROM api_tokens',
  );
  for (const r of stored.rows) assert.ok(!/[\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF\u00AD\u3164]/u.test(r.name), `stored ${JSON.stringify(r.name)}`);

  // The command line refuses them too.
  const cli = await runParleyd(['token', 'add', '--name', `${RLO}evil`, '--scope', 'admin'], { databaseUrl: fx.pg.url });
  assert.notEqual(cli.code, 0, 'token add with U+202E in the name');
  assert.match(cli.stderr, /invisible/);
  const add = await runParleyd(['agent', 'add', '--email', `cli.${process.pid}@example.com`, '--name', `${RLO}evil`, '--role', 'agent'], {
    databaseUrl: fx.pg.url,
    env: FAST_ENV,
    input: 'correct horse battery staple\n',
  });
  assert.notEqual(add.code, 0, 'agent add with U+202E in the name');

  // Real names in right-to-left scripts and with the joiners they need are kept as typed.
  for (const name of [ARABIC, PERSIAN, `${TECHNOLOGIST} Support`, 'שלום Cohen']) {
    const a = assertJson(await asAdmin('POST', '/api/agents', { email: `n${Math.random()}@example.com`, name, role: 'agent' }), 201).agent;
    assert.equal(a.name, name);
    const t = assertJson(await asAdmin('POST', '/api/teams', { name: `${name} ${Math.random()}` }), 201).team;
    assert.ok(t.name.startsWith(name));
  }
});

test('admin writes: free text keeps paired controls and marks, loses unpaired ones', async () => {
  const canned = assertJson(
    await asAdmin('POST', '/api/canned', { shortcut: `bidi-${process.pid}`, body: `open ${RLO}fdp.exe\n${RLI}${ARABIC}${PDI} ${RLM}ok` }),
    201,
  ).canned;
  assert.equal(canned.body, `open fdp.exe\n${RLI}${ARABIC}${PDI} ${RLM}ok`);
  const site = assertJson(
    await asAdmin('POST', '/api/sites', {
      name: 'Greeting site',
      widget_settings: {
        greeting: `Hello ${PDI}${RLO}there`,
        launcher_text: `Chat${RLO}`,
        prechat_fields: [{ name: 'order', label: `${RLE}Order`, type: 'text', required: false }],
      },
    }),
    201,
  ).site;
  const row = (await fx.pg.query('SELECT widget_settings FROM sites WHERE id = $1', [site.id])).rows[0].widget_settings;
  assert.equal(row.greeting, 'Hello there');
  assert.equal(row.launcher_text, 'Chat');
  assert.equal(row.prechat_fields[0].label, 'Order');
});

test("widget session: the identity's name and email are cleaned, not refused", async () => {
  const team = await createTeam(fx.pg);
  const secret = `secret-${process.pid}`;
  const site = await createSite(fx.pg, { teamId: team, identitySecret: secret });
  const id = `user-${process.pid}`;
  // The site signs what it sends (id, name and email); the server checks
  // that, then cleans what it stores.
  const name = ` ${RLO}gnp.exe${RLM}`;
  const email = `una${ZWSP}@example.com`;
  const res = await visitorSession(fx.srv, site, { identity: { id, hash: identityHash(secret, `${id}\n${name}\n${email}`), name, email } });
  const body = assertJson(res, 200);
  assert.equal(body.visitor.name, 'gnp.exe');
  assert.equal(body.visitor.email, 'una@example.com');
  // Only invisible characters: as if no name was given.
  const id2 = `user2-${process.pid}`;
  const name2 = `${ZWSP}\u3164`;
  const res2 = assertJson(await visitorSession(fx.srv, site, { identity: { id: id2, hash: identityHash(secret, `${id2}\n${name2}\n`), name: name2 } }), 200);
  assert.equal(res2.visitor.name, null);
});

test('visitor socket: visitor.update and pre-chat clean the name and email, free text is balanced', async () => {
  const team = await createTeam(fx.pg);
  const ann = await createAgent(fx.pg, { name: 'Ann Policy', teams: [team] });
  const site = await createSite(fx.pg, { teamId: team });
  const a = await connectAgent(fx.srv, ann, { status: 'online' });
  const v = await connectVisitor(fx.srv, site);

  const upd = await v.ack({
    type: 'visitor.update',
    name: `${RLO}gnp.exe${PDI}`,
    email: `vic${ZWSP}@example.com`,
    attributes: { plan: `${RLO}pro`, note: `${RLI}${ARABIC}${PDI}` },
  });
  assert.equal(upd.visitor.name, 'gnp.exe');
  assert.equal(upd.visitor.email, 'vic@example.com');
  assert.deepEqual(upd.visitor.attributes, { plan: 'pro', note: `${RLI}${ARABIC}${PDI}` });
  // Nothing visible: the stored name stays.
  assert.equal((await v.ack({ type: 'visitor.update', name: `${ZWSP}${RLO}` })).visitor.name, 'gnp.exe');
  assert.deepEqual(await refusal(v.ack({ type: 'visitor.update', attributes: { [`pl${RLO}an`]: 1 } })), { code: 'invalid_field', field: 'attributes' });

  const cid = await startConversation(v, { prechat: { name: `${LRI}Vic${PDI}${RLO}`, email: ZWSP, order: `${RLE}42` } });
  await a.next(convUpdated(cid, 'assigned'), 5000, 'assignment');
  const conv = (await fx.pg.query('SELECT c.prechat, v.name, v.email FROM conversations c JOIN visitors v ON v.id = c.visitor_id WHERE c.id = $1', [cid]))
    .rows[0];
  assert.equal(conv.name, 'Vic');
  assert.equal(conv.email, 'vic@example.com', 'a blank pre-chat email does not replace the stored one');
  assert.deepEqual(conv.prechat, { name: 'Vic', order: '42' });

  // Messages: unpaired controls removed, paired ones and marks kept.
  const sent = await sendMessage(v, cid, `invoice ${RLO}fdp.exe`);
  assert.equal(sent.message.body, 'invoice fdp.exe');
  const kept = `${RLI}${ARABIC} 42${PDI} ${RLM}!`;
  assert.equal((await sendMessage(v, cid, kept)).message.body, kept);
  assert.deepEqual(await refusal(sendMessage(v, cid, `${ZWSP}${RLO}`)), { code: 'invalid_field', field: 'body' });
  const note = await sendMessage(a, cid, `check ${PDI}${RLO}this`, { type: 'note.send' });
  assert.equal(note.message.body, 'check this');
  const bodies = (await fx.pg.query('SELECT body FROM messages WHERE conversation_id = $1', [cid])).rows.map((r) => r.body);
  for (const b of bodies) assert.equal(unbalanced(b), null, `stored ${JSON.stringify(b)}`);

  // Rating comment and transfer reason are free text too.
  const other = await createTeam(fx.pg);
  const moved = await a.ack({ type: 'conversation.transfer', conversation_id: cid, to_team_id: other, reason: `vip${RLO}` });
  assert.ok(moved);
  const reason = await fx.pg.query("SELECT body FROM messages WHERE conversation_id = $1 AND kind = 'note' ORDER BY seq DESC LIMIT 1", [cid]);
  assert.match(reason.rows[0].body, /: vip$/);
  await api(fx.srv, T.admin, 'POST', `/api/v1/conversations/${cid}/close`);
  await v.ack({ type: 'conversation.rate', conversation_id: cid, rating: 'good', comment: `great${PDI}${RLO} work` });
  assert.equal((await fx.pg.query('SELECT rating_comment FROM conversations WHERE id = $1', [cid])).rows[0].rating_comment, 'great work');
  await a.close();
  await v.close();
});

test('REST API v1: a message body loses its unpaired controls', async () => {
  const team = await createTeam(fx.pg);
  const site = await createSite(fx.pg, { teamId: team });
  const v = await connectVisitor(fx.srv, site);
  const cid = await startConversation(v);
  const tok = await addToken(fx.pg, { scopes: ['conversations:write'] });
  const res = assertJson(await api(fx.srv, tok, 'POST', `/api/v1/conversations/${cid}/messages`, { json: { body: `hi ${RLO}there` } }), 201);
  assert.equal(res.message.body, 'hi there');
  await v.close();
});

// ---- transcripts ------------------------------------------------------------

/**
 * A conversation whose rows were written before the policy (straight into
 * the database): an agent, a visitor and a team with controls in their
 * names, bodies with unpaired controls, an Arabic body and visitor name.
 * The server then adds its own event ("<agent> joined the conversation").
 */
let legacyCount = 0;
async function legacyConversation() {
  legacyCount += 1;
  const teamName = `${ARABIC} ${legacyCount}`;
  const team = await createTeam(fx.pg, teamName);
  const eve = await createAgent(fx.pg, { name: 'Eve Legacy', teams: [team] });
  await fx.pg.query('UPDATE agents SET name = $2 WHERE id = $1', [eve.id, `${RLO}evE`]);
  const site = await createSite(fx.pg, { teamId: team });
  const visitor = Number(
    (
      await fx.pg.query('INSERT INTO visitors (site_id, name, email) VALUES ($1, $2, $3) RETURNING id', [
        site.id,
        `${PDI}${RLO}gnp.exe`,
        `${ARABIC}@example.com`,
      ])
    ).rows[0].id,
  );
  const cid = Number(
    (
      await fx.pg.query("INSERT INTO conversations (site_id, visitor_id, team_id, status, queued_at) VALUES ($1, $2, $3, 'queued', now()) RETURNING id", [
        site.id,
        visitor,
        team,
      ])
    ).rows[0].id,
  );
  const bodies = [
    ['visitor', visitor, `see ${RLO}fdp.exe for details`],
    ['visitor', visitor, `${ARABIC} 42\nline two ${PDI}${RLO}reversed`],
    ['agent', eve.id, 'Plain answer, 42 items'],
  ];
  let seq = 0;
  for (const [ak, ai, body] of bodies) {
    seq += 1;
    await fx.pg.query("INSERT INTO messages (conversation_id, seq, author_kind, author_id, kind, body) VALUES ($1, $2, $3, $4, 'message', $5)", [
      cid,
      seq,
      ak,
      ai,
      body,
    ]);
  }
  await fx.pg.query('UPDATE conversations SET last_seq = $2 WHERE id = $1', [cid, seq]);
  // Eve comes online and is assigned by the server, which writes
  // "<name> joined the conversation" with the name from her row.
  const a = await connectAgent(fx.srv, eve, { status: 'online' });
  await a.next(convUpdated(cid, 'assigned'), 5000, 'the assignment to Eve');
  await a.close();
  return { cid, eve, teamName };
}

test('transcript txt: names and bodies that need it are isolated with FSI ... PDI, every line balanced', async () => {
  const { cid, teamName } = await legacyConversation();
  const res = await api(fx.srv, T.admin, 'GET', `/api/v1/conversations/${cid}/transcript`, { query: { format: 'txt' } });
  assert.equal(res.status, 200, res.body);
  const txt = res.body;
  assert.equal(unbalanced(txt), null);
  assert.ok(!txt.includes(RLO), 'no unpaired override reaches the transcript');
  const lines = txt.split('\n');
  assert.ok(lines.includes(`Team: ${FSI}${teamName}${PDI}`), `team isolated:\n${txt}`);
  assert.ok(lines.includes(`Visitor: gnp.exe <${FSI}${ARABIC}@example.com${PDI}>`), `visitor isolated:\n${txt}`);
  assert.ok(
    lines.some((l) => l.endsWith('] gnp.exe (visitor): see fdp.exe for details')),
    `override removed:\n${txt}`,
  );
  // The Arabic line is isolated on its own; the continuation line too (it held controls).
  const i = lines.findIndex((l) => l.endsWith(`] gnp.exe (visitor): ${FSI}${ARABIC} 42${PDI}`));
  assert.ok(i > 0, `arabic body isolated:\n${txt}`);
  assert.equal(lines[i + 1], '    line two reversed');
  assert.ok(
    lines.some((l) => l.endsWith('] evE (agent): Plain answer, 42 items')),
    `agent name cleaned of its override:\n${txt}`,
  );
  assert.ok(
    lines.some((l) => l.endsWith('] -- evE joined the conversation --')),
    `the server's event names the agent without the override:\n${txt}`,
  );
});

test('transcript html: names in <bdi>, bodies dir="auto", no unpaired control left', async () => {
  const { cid, teamName } = await legacyConversation();
  const res = await api(fx.srv, T.admin, 'GET', `/api/v1/conversations/${cid}/transcript`, { query: { format: 'html' } });
  assert.equal(res.status, 200, res.body);
  const html = res.body;
  assert.equal(unbalanced(html), null);
  assert.ok(!html.includes(RLO));
  assert.ok(html.includes(`<dt>Visitor</dt><dd><bdi>gnp.exe</bdi> &lt;<bdi>${ARABIC}@example.com</bdi>&gt;</dd>`), html);
  assert.ok(html.includes(`<dt>Team</dt><dd><bdi>${escapeHtml(teamName)}</bdi></dd>`), html);
  const items = [...html.matchAll(/<li class="[a-z]+"><div class="meta">(.*?)<\/div><div class="body"( dir="auto")?>([^<]*)<\/div><\/li>/g)];
  assert.ok(items.length >= 4, html);
  for (const [, meta, dir] of items) {
    assert.equal(dir, ' dir="auto"', 'every body isolated');
    if (!meta.includes('System') && meta.includes('&middot;')) assert.match(meta, /&middot; <bdi>[^<]*<\/bdi> \((visitor|agent|api)\)/);
  }
  assert.ok(html.includes(`<div class="body" dir="auto">${ARABIC} 42\nline two reversed</div>`), html);
});
