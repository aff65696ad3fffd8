'use strict';
// verifyWebhook (tests/helpers/hookrecv.js), the Standard Webhooks check the
// webhook tests hold parleyd's signatures to: the spec's published vector,
// and each way a request must be refused. Needs no server.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { test } = require('node:test');

const { verifyWebhook } = require('../helpers/hookrecv');

// The test vector of the Standard Webhooks spec and its reference libraries.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const SIG = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

function headers(over = {}) {
  return { 'webhook-id': ID, 'webhook-timestamp': String(TS), 'webhook-signature': SIG, ...over };
}

/** Assert that verifyWebhook throws an Error with this code. */
function refused(code, fn) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Error, 'an Error');
    assert.equal(err.code, code, `code of: ${err.message}`);
    assert.match(err.message, /^webhook verification failed: /);
    return true;
  });
}

/** Sign as the spec says, for the cases the vector does not cover. */
function sign(secret, id, ts, body) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

test('the spec vector passes and yields the parsed body', () => {
  assert.deepEqual(verifyWebhook(SECRET, headers(), BODY, { now: TS }), { test: 2432232314 });
  // The body as received bytes, and header names in any case.
  const upper = { 'Webhook-Id': ID, 'WEBHOOK-TIMESTAMP': String(TS), 'Webhook-Signature': SIG };
  assert.deepEqual(verifyWebhook(SECRET, upper, Buffer.from(BODY), { now: TS }), { test: 2432232314 });
  // A Fetch Headers works as well.
  assert.deepEqual(verifyWebhook(SECRET, new Headers(headers()), BODY, { now: TS }), { test: 2432232314 });
});

test('a modified body fails', () => {
  refused('bad_signature', () => verifyWebhook(SECRET, headers(), '{"test": 2432232315}', { now: TS }));
  refused('bad_signature', () => verifyWebhook(SECRET, headers(), `${BODY}\n`, { now: TS }));
  refused('bad_signature', () => verifyWebhook(SECRET, headers(), JSON.stringify(JSON.parse(BODY)), { now: TS }));
});

test('a changed id or timestamp fails', () => {
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-id': `${ID}x` }), BODY, { now: TS }));
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-timestamp': String(TS + 1) }), BODY, { now: TS }));
});

test('a timestamp beyond the tolerance fails, either way; at the tolerance it passes', () => {
  assert.deepEqual(verifyWebhook(SECRET, headers(), BODY, { now: TS + 300 }), { test: 2432232314 });
  assert.deepEqual(verifyWebhook(SECRET, headers(), BODY, { now: TS - 300 }), { test: 2432232314 });
  refused('timestamp_too_old', () => verifyWebhook(SECRET, headers(), BODY, { now: TS + 301 }));
  refused('timestamp_too_new', () => verifyWebhook(SECRET, headers(), BODY, { now: TS - 301 }));
  refused('timestamp_too_old', () => verifyWebhook(SECRET, headers(), BODY, { now: TS + 61, toleranceSec: 60 }));
  // The default "now" is the clock: the 2021 vector is stale today.
  refused('timestamp_too_old', () => verifyWebhook(SECRET, headers(), BODY));
  refused('bad_timestamp', () => verifyWebhook(SECRET, headers({ 'webhook-timestamp': '1614265330.5' }), BODY, { now: TS }));
  refused('bad_timestamp', () => verifyWebhook(SECRET, headers({ 'webhook-timestamp': '2021-02-25T15:02:10Z' }), BODY, { now: TS }));
});

test('a wrong secret fails', () => {
  const other = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  refused('bad_signature', () => verifyWebhook(other, headers(), BODY, { now: TS }));
  // The secret's text is not the key: the key is its base64-decoded part.
  const textKey = `v1,${crypto.createHmac('sha256', SECRET).update(`${ID}.${TS}.${BODY}`).digest('base64')}`;
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': textKey }), BODY, { now: TS }));
  refused('bad_secret', () => verifyWebhook('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers(), BODY, { now: TS }));
  refused('bad_secret', () => verifyWebhook('whsec_not base64!', headers(), BODY, { now: TS }));
  refused('bad_secret', () => verifyWebhook('whsec_', headers(), BODY, { now: TS }));
});

test('a missing header fails', () => {
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const h = headers();
    delete h[name];
    refused('missing_header', () => verifyWebhook(SECRET, h, BODY, { now: TS }));
    refused('missing_header', () => verifyWebhook(SECRET, headers({ [name]: '' }), BODY, { now: TS }));
  }
  refused('missing_header', () => verifyWebhook(SECRET, {}, BODY, { now: TS }));
});

test('several signatures: any v1 entry that matches passes', () => {
  const wrong = 'v1,Ygs2X8t5hZL3Qyq2rEo4DNPaMHMPZ9Be4i2MqfTx6LU=';
  assert.deepEqual(verifyWebhook(SECRET, headers({ 'webhook-signature': `${wrong} ${SIG}` }), BODY, { now: TS }), { test: 2432232314 });
  assert.deepEqual(verifyWebhook(SECRET, headers({ 'webhook-signature': `${SIG} ${wrong}` }), BODY, { now: TS }), { test: 2432232314 });
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': `${wrong} ${wrong}` }), BODY, { now: TS }));
  // A rotation: the new secret signs first, the old one second.
  const fresh = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const both = `${sign(fresh, ID, TS, BODY)} ${sign(SECRET, ID, TS, BODY)}`;
  assert.deepEqual(verifyWebhook(SECRET, headers({ 'webhook-signature': both }), BODY, { now: TS }), { test: 2432232314 });
  assert.deepEqual(verifyWebhook(fresh, headers({ 'webhook-signature': both }), BODY, { now: TS }), { test: 2432232314 });
});

test('only v1 entries count; a malformed or truncated signature does not match', () => {
  const b64 = SIG.slice(3);
  refused('no_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': `v1a,${b64}` }), BODY, { now: TS }));
  refused('no_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': b64 }), BODY, { now: TS }));
  refused('no_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': `v2,${b64}` }), BODY, { now: TS }));
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': `v1,${b64.slice(0, 20)}` }), BODY, { now: TS }));
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': `v1,${b64.slice(1)}` }), BODY, { now: TS }));
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': 'v1,' }), BODY, { now: TS }));
  // A hex digest is not the base64 one.
  const hex = crypto
    .createHmac('sha256', Buffer.from(SECRET.slice(6), 'base64'))
    .update(`${ID}.${TS}.${BODY}`)
    .digest('hex');
  refused('bad_signature', () => verifyWebhook(SECRET, headers({ 'webhook-signature': `v1,${hex}` }), BODY, { now: TS }));
});

test('a signed body that is not JSON fails after the signature passes', () => {
  const body = 'not json';
  refused('bad_json', () => verifyWebhook(SECRET, headers({ 'webhook-signature': sign(SECRET, ID, TS, body) }), body, { now: TS }));
});

test('the body is signed as UTF-8 bytes', () => {
  const body = '{"type":"message.created","data":{"body":"Grüße 👋 مرحبا"}}';
  const h = headers({ 'webhook-signature': sign(SECRET, ID, TS, body) });
  assert.equal(verifyWebhook(SECRET, h, body, { now: TS }).data.body, 'Grüße 👋 مرحبا');
  assert.equal(verifyWebhook(SECRET, h, Buffer.from(body, 'utf8'), { now: TS }).data.body, 'Grüße 👋 مرحبا');
  refused('bad_signature', () => verifyWebhook(SECRET, h, Buffer.from(body, 'latin1'), { now: TS }));
});
