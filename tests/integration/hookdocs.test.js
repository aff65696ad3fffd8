'use strict';
// The verification examples of docs/webhooks.md, run as an integrator would
// run them: the fenced blocks marked `verify-node`, `verify-python` and
// `verify-shell` are written to files and fed requests signed here with
// node:crypto (Standard Webhooks). Each must accept a genuine request and
// refuse a tampered body, another secret, a stale timestamp and missing
// headers; a rotation's second signature must pass. Also: the JSON examples
// parse and the event catalogue names every event type. Needs no server.

const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { test, after } = require('node:test');

const { REPO_ROOT, makeTempDir } = require('../helpers/common');
const { request } = require('../helpers/http');

const DOC = path.join(REPO_ROOT, 'docs', 'webhooks.md');
const EVENT_TYPES = [
  'conversation.created',
  'conversation.queued',
  'conversation.assigned',
  'conversation.transferred',
  'conversation.closed',
  'conversation.reopened',
  'conversation.rated',
  'conversation.sla_breached',
  'message.created',
  'visitor.updated',
  'call.ringing',
  'call.accepted',
  'call.ended',
  'webhook.test',
];

/** The fenced code blocks of a Markdown text: [{ lang, tags, code, line }]. */
function fencedBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const start = i;
    const body = [];
    for (i += 1; i < lines.length && !(lines[i].startsWith(fence) && lines[i].trim() === fence); i++) body.push(lines[i]);
    assert.ok(i < lines.length, `docs/webhooks.md:${start + 1}: code block never closed`);
    blocks.push({ lang: open[2], tags: open[3].split(/\s+/).filter(Boolean), code: `${body.join('\n')}\n`, line: start + 1 });
  }
  return blocks;
}

const markdown = fs.readFileSync(DOC, 'utf8');
const blocks = fencedBlocks(markdown);

/** The one block tagged `tag`. */
function example(tag) {
  const found = blocks.filter((b) => b.tags.includes(tag));
  assert.equal(found.length, 1, `docs/webhooks.md must have exactly one code block tagged ${tag} (found ${found.length})`);
  return found[0];
}

const dir = makeTempDir('hookdocs-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeExample(tag, name) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, example(tag).code);
  return file;
}

// --- signed requests --------------------------------------------------------

const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;

function sign(secret, id, timestamp, body) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${crypto.createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

// Text from people is UTF-8 of any script: the signature covers the bytes.
const EVENT = {
  type: 'message.created',
  timestamp: '2026-12-02T18:30:52.123456Z',
  data: {
    id: 2291,
    conversation_id: 17,
    seq: 5,
    kind: 'message',
    author: { kind: 'visitor', id: 342, name: 'Zoë Ångström' },
    body: 'Hej! Kan ni hjälpa mig? 👋 مرحبا "quoted" \\ back',
    attachments: [],
    created_at: '2026-12-02T18:30:52.123456Z',
  },
};

/** A genuine request: { secret, headers, body (Buffer) } with overrides. */
function genuine({ body = JSON.stringify(EVENT), age = 0, secret = SECRET } = {}) {
  const id = `evt_${crypto.randomBytes(16).toString('hex')}`;
  const timestamp = String(Math.floor(Date.now() / 1000) - age);
  const bytes = Buffer.from(body, 'utf8');
  return {
    secret: SECRET,
    body: bytes,
    headers: { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': sign(secret, id, timestamp, bytes) },
  };
}

/** The id with its last hex digit changed. */
function otherId(id) {
  return `${id.slice(0, -1)}${id.endsWith('0') ? '1' : '0'}`;
}

function tamper(buf) {
  return Buffer.from(buf.toString('utf8').replace('"seq":5', '"seq":6'), 'utf8');
}

/**
 * The cases every example must get right: [name, request, accepted].
 * A request: { secret, headers, body }.
 */
function cases() {
  const good = genuine();
  const rotation = genuine({ secret: OTHER_SECRET });
  rotation.headers['webhook-signature'] =
    `${rotation.headers['webhook-signature']} ${sign(SECRET, rotation.headers['webhook-id'], rotation.headers['webhook-timestamp'], rotation.body)}`;
  const newline = genuine({ body: `${JSON.stringify(EVENT)}\n` });
  const noSignature = genuine();
  delete noSignature.headers['webhook-signature'];
  const noTimestamp = genuine();
  delete noTimestamp.headers['webhook-timestamp'];
  return [
    ['a genuine request', good, true],
    ['a genuine request whose body ends in a newline', newline, true],
    ['two signatures, the second one good (a rotation)', rotation, true],
    ['a tampered body', { ...good, body: tamper(good.body) }, false],
    ['the same body re-serialised', { ...good, body: Buffer.from(JSON.stringify(JSON.parse(good.body.toString()), null, 2)) }, false],
    ['a body signed with another secret', genuine({ secret: OTHER_SECRET }), false],
    ['a changed webhook-id', { ...good, headers: { ...good.headers, 'webhook-id': otherId(good.headers['webhook-id']) } }, false],
    ['a timestamp 10 minutes old', genuine({ age: 600 }), false],
    ['a timestamp 10 minutes ahead', genuine({ age: -600 }), false],
    ['no webhook-signature', noSignature, false],
    ['no webhook-timestamp', noTimestamp, false],
  ];
}

// --- the examples -----------------------------------------------------------

test('docs/webhooks.md: every example tagged verify-* is one this file runs', () => {
  const tagged = blocks.filter((b) => b.tags.some((t) => t.startsWith('verify-')));
  assert.deepEqual(tagged.map((b) => b.tags.find((t) => t.startsWith('verify-'))).sort(), ['verify-node', 'verify-python', 'verify-shell']);
  assert.equal(example('verify-node').lang, 'js');
  assert.equal(example('verify-python').lang, 'python');
  assert.equal(example('verify-shell').lang, 'sh');
});

test('the Node example: verifyWebhook accepts genuine requests and refuses the others', () => {
  const { verifyWebhook } = require(writeExample('verify-node', 'verify-webhook.js'));
  for (const [name, req, accepted] of cases()) {
    if (accepted) {
      assert.deepEqual(verifyWebhook(req.secret, req.headers, req.body), JSON.parse(req.body.toString('utf8')), name);
    } else {
      assert.throws(() => verifyWebhook(req.secret, req.headers, req.body), Error, name);
    }
  }
});

test('the Node example run as a receiver answers 204 to a genuine request and 400 to a tampered one', async (t) => {
  const file = writeExample('verify-node', 'verify-webhook-server.js');
  const child = spawn(process.execPath, [file], { env: { ...process.env, WEBHOOK_SECRET: SECRET, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example printed no port within 10 s: ${out} ${err}`)), 10000);
    const look = () => {
      const m = /listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', look);
    child.once('exit', (code) => reject(new Error(`the example exited (${code}): ${out} ${err}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const post = (req) =>
    request(url, { method: 'POST', path: '/hooks/parley', headers: { 'content-type': 'application/json', ...req.headers }, body: req.body });

  const good = genuine();
  assert.equal((await post(good)).status, 204);
  assert.equal((await post(good)).status, 204, 'a retry is answered 2xx as well');
  const bad = await post({ ...good, body: tamper(good.body) });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /signature/);
  // The event was handled once (the retry was a duplicate), the tampered one never.
  await new Promise((r) => setTimeout(r, 100));
  const handled = out.split('\n').filter((l) => l.startsWith('message.created '));
  assert.equal(handled.length, 1, out);
  assert.deepEqual(JSON.parse(handled[0].slice('message.created '.length)), EVENT.data);
});

/** Run a script example with the request in WEBHOOK_* variables and the body on stdin. */
function runScript(cmd, file, req) {
  const env = { ...process.env, WEBHOOK_SECRET: req.secret };
  delete env.WEBHOOK_ID;
  delete env.WEBHOOK_TIMESTAMP;
  delete env.WEBHOOK_SIGNATURE;
  if (req.headers['webhook-id'] !== undefined) env.WEBHOOK_ID = req.headers['webhook-id'];
  if (req.headers['webhook-timestamp'] !== undefined) env.WEBHOOK_TIMESTAMP = req.headers['webhook-timestamp'];
  if (req.headers['webhook-signature'] !== undefined) env.WEBHOOK_SIGNATURE = req.headers['webhook-signature'];
  const r = spawnSync(cmd, [file], { input: req.body, env, timeout: 20000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** Whether `cmd args` runs; the reason it does not otherwise. */
function missing(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return `${cmd} is not installed (${r.error.code})`;
  if (r.status !== 0) return `\`${cmd} ${args.join(' ')}\` failed: ${r.stderr}`;
  return null;
}

test('the Python example accepts genuine requests and refuses the others', (t) => {
  const why = missing('python3', ['-c', 'import sys; assert sys.version_info >= (3, 9), sys.version']);
  if (why) {
    t.skip(`the Python example was NOT run: ${why}`);
    return;
  }
  const file = writeExample('verify-python', 'verify_webhook.py');
  for (const [name, req, accepted] of cases()) {
    const r = runScript('python3', file, req);
    if (accepted) {
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout.toString('utf8').trim(), 'message.created', name);
    } else {
      assert.notEqual(r.status, 0, `${name} was accepted`);
      assert.match(r.stderr, /^refused: /m, `${name}: ${r.stderr}`);
    }
  }
});

test('the shell example accepts genuine requests and refuses the others', (t) => {
  const why = missing('openssl', ['version']) || missing('sh', ['-c', 'printf x | base64 | base64 -d >/dev/null && od -An -v -tx1 </dev/null']);
  if (why) {
    t.skip(`the shell example was NOT run: ${why}`);
    return;
  }
  const file = writeExample('verify-shell', 'verify-webhook.sh');
  for (const [name, req, accepted] of cases()) {
    const r = runScript('sh', file, req);
    if (accepted) {
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.deepEqual(r.stdout, req.body, `${name}: prints the body as received`);
    } else {
      assert.notEqual(r.status, 0, `${name} was accepted`);
      assert.equal(r.stdout.length, 0, `${name}: printed ${r.stdout}`);
    }
  }
});

// --- the rest of the guide --------------------------------------------------

test('docs/webhooks.md: the JSON examples parse, and the envelopes name known types', () => {
  const json = blocks.filter((b) => b.lang === 'json');
  assert.ok(json.length >= 4, 'an example for each family of events');
  const families = new Set();
  for (const b of json) {
    let v;
    assert.doesNotThrow(() => (v = JSON.parse(b.code)), `docs/webhooks.md:${b.line}: not JSON`);
    assert.deepEqual(Object.keys(v), ['type', 'timestamp', 'data'], `docs/webhooks.md:${b.line}: an envelope`);
    assert.ok(EVENT_TYPES.includes(v.type), `docs/webhooks.md:${b.line}: type ${v.type}`);
    assert.match(v.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, `docs/webhooks.md:${b.line}: timestamp`);
    assert.equal(typeof v.data, 'object');
    families.add(/^(conversation|call)\./.test(v.type) ? v.type.split('.')[0] : v.type);
  }
  assert.deepEqual([...families].sort(), ['call', 'conversation', 'message.created', 'visitor.updated', 'webhook.test']);
});

test('docs/webhooks.md: the event catalogue lists every event type once', () => {
  const rows = markdown.split('\n').filter((l) => /^\| `[a-z]+\.[a-z_]+` \|/.test(l));
  assert.deepEqual(
    rows.map((l) => /^\| `([a-z._]+)`/.exec(l)[1]),
    EVENT_TYPES,
  );
  assert.match(markdown, /^## Agent bots$/m, 'the section the bot feature fills in');
});
