'use strict';
// The webhook test receiver itself (tests/helpers/hookrecv.js): what it
// records and each way it can answer, so that a webhook test failing means
// parleyd, not the receiver. Needs no server.

const assert = require('node:assert/strict');
const net = require('node:net');
const { test } = require('node:test');

const { request } = require('../helpers/http');
const { startReceiver, startRedirector } = require('../helpers/hookrecv');

function post(r, body, headers = {}, opts = {}) {
  return request(r.url(), { method: 'POST', path: '/hook', headers: { 'content-type': 'application/json', ...headers }, body, ...opts });
}

test('answers 200 "ok" by default and records method, path, headers, body and time', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  assert.equal(r.url(), `http://127.0.0.1:${r.port}/hook`);
  assert.equal(r.url('/other?x=1'), `http://127.0.0.1:${r.port}/other?x=1`);
  const before = Date.now();
  const res = await post(r, '{"a":"é"}', { 'webhook-id': 'evt_1' });
  assert.equal(res.status, 200);
  assert.equal(res.body, 'ok');
  const [req] = await r.waitFor(1, 1000);
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/hook');
  assert.equal(req.headers['webhook-id'], 'evt_1');
  assert.equal(req.body, '{"a":"é"}');
  assert.equal(req.size, Buffer.byteLength('{"a":"é"}'));
  assert.equal(req.truncated, false);
  assert.ok(req.at >= before && req.at <= Date.now(), `at ${req.at}`);
  assert.equal(req.attempt, 0);
});

test('respond(fn) answers per request; attemptIndex counts attempts of one webhook-id', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  const seen = [];
  r.respond((req, attempt) => {
    seen.push([req.headers['webhook-id'], attempt]);
    return attempt < 2 ? { status: 503, headers: { 'retry-after': '1' }, body: 'busy' } : { status: 204 };
  });
  const statuses = [];
  for (const id of ['evt_a', 'evt_a', 'evt_b', 'evt_a']) statuses.push((await post(r, '{}', { 'webhook-id': id })).status);
  assert.deepEqual(statuses, [503, 503, 503, 204]);
  assert.deepEqual(seen, [
    ['evt_a', 0],
    ['evt_a', 1],
    ['evt_b', 0],
    ['evt_a', 2],
  ]);
  const res = await post(r, '{}', { 'webhook-id': 'evt_b' });
  assert.equal(res.status, 503);
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(res.body, 'busy');
  // An async responder, then back to the default.
  r.respond(async () => ({ status: 410, body: 'gone' }));
  assert.equal((await post(r, '{}')).status, 410);
  r.respond(null);
  const back = await post(r, '{}');
  assert.equal(back.status, 200);
  assert.equal(back.body, 'ok');
});

test('delayMs answers late', async (t) => {
  const r = await startReceiver({ respond: () => ({ delayMs: 300 }) });
  t.after(() => r.close());
  const start = Date.now();
  const res = await post(r, '{}');
  assert.equal(res.status, 200);
  assert.ok(Date.now() - start >= 280, `answered after ${Date.now() - start} ms`);
});

test('destroy drops the connection; hang never answers and close() still ends it', async (t) => {
  const r = await startReceiver({ respond: (req) => (req.path === '/drop' ? { destroy: true } : { hang: true }) });
  t.after(() => r.close());
  await assert.rejects(request(r.url(), { method: 'POST', path: '/drop', body: '{}' }));

  const hanging = request(r.url(), { method: 'POST', path: '/hook', body: '{}', timeoutMs: 60000 });
  const outcome = hanging.then(
    (res) => ({ res }),
    (err) => ({ err }),
  );
  await r.waitFor(2, 2000);
  const raced = await Promise.race([outcome, new Promise((res) => setTimeout(() => res('pending'), 300))]);
  assert.equal(raced, 'pending', 'a hanging request is not answered');
  const closedAt = Date.now();
  await r.close();
  const o = await outcome;
  assert.ok(o.err || o.res.truncated, 'the hanging request ends without an answer');
  assert.ok(Date.now() - closedAt < 2000);
  // Closed: nothing listens any more, and waitFor rejects.
  await assert.rejects(request(r.url(), { body: '{}' }), /ECONNREFUSED/);
  await assert.rejects(r.waitFor(99, 1000), /closed/);
});

test('close() ends delayed answers and idle keep-alive connections too', async (t) => {
  const r = await startReceiver({ respond: () => ({ delayMs: 60000 }) });
  const sock = net.connect(r.port, '127.0.0.1');
  await new Promise((res) => sock.once('connect', res));
  sock.write('POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
  await r.waitFor(1, 2000);
  const ended = new Promise((res) => sock.once('close', res));
  sock.on('error', () => {});
  const start = Date.now();
  await r.close();
  await ended;
  assert.ok(Date.now() - start < 2000);
});

test('waitFor times out saying what arrived', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  await post(r, '{}', { 'webhook-id': 'evt_only' });
  await assert.rejects(r.waitFor(2, 200), /timed out after 200 ms.*1 arrived: POST \/hook evt_only/);
  const all = await r.waitFor(1, 200);
  assert.equal(all.length, 1);
});

test('a body past 1 MiB is read in full but recorded capped', async (t) => {
  const r = await startReceiver();
  t.after(() => r.close());
  const big = Buffer.alloc(1024 * 1024 + 5000, 0x61);
  const res = await post(r, big);
  assert.equal(res.status, 200);
  const [req] = await r.waitFor(1, 5000);
  assert.equal(req.size, big.length);
  assert.equal(req.bytes.length, 1024 * 1024);
  assert.equal(req.body.length, 1024 * 1024);
  assert.equal(req.truncated, true);
});

test('startRedirector answers 302 with the Location and records the hits', async (t) => {
  const r = await startRedirector('https://example.com/elsewhere');
  t.after(() => r.close());
  const res = await post(r, '{"x":1}', { 'webhook-id': 'evt_r' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, 'https://example.com/elsewhere');
  const [hit] = await r.waitFor(1, 1000);
  assert.equal(hit.body, '{"x":1}');
  const r307 = await startRedirector('/hook2', { status: 307 });
  t.after(() => r307.close());
  assert.equal((await post(r307, '{}')).status, 307);
});
