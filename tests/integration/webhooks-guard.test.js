'use strict';
// The webhook SSRF guard, with an allow-list of only 127.0.0.2: every
// refused address form is refused when an endpoint is created (loopback,
// private, link-local, CGNAT, multicast, metadata, IPv4-mapped IPv6, and the
// odd spellings glibc would turn into 127.0.0.1); a host name that resolves
// to 127.0.0.1 (the rebinding case: the URL's name now points inside) is
// refused at connect time and nothing reaches the address; a redirect to an
// internal address is not followed; an answer is read up to 64 KiB only.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { assertProblem, assertJson } = require('../helpers/assert');
const { waitFor } = require('../helpers/fixtures');
const { addToken, api } = require('../helpers/api');
const { startReceiver, startRedirector } = require('../helpers/hookrecv');

const fx = suite({
  env: {
    PARLEY_WEBHOOK_ALLOW_HTTP: '1',
    PARLEY_WEBHOOK_ALLOW_PRIVATE: '127.0.0.2/32',
    PARLEY_WEBHOOK_RETRY_SCHEDULE: '0,30',
    PARLEY_WEBHOOK_TIMEOUT_SECONDS: '3',
  },
});
const { test } = fx;
const F = {};
const receivers = [];

fx.setup(async () => {
  F.admin = await addToken(fx.pg, { scopes: ['admin'] });
});
fx.teardown(async () => {
  for (const r of receivers) await r.close();
});

const create = (url) => api(fx.srv, F.admin, 'POST', '/api/v1/webhooks', { json: { url, events: ['message.created'] } });

/** Sends a test event to endpoint id; resolves its delivery once an attempt is recorded. */
async function testDelivery(id) {
  const t = assertJson(await api(fx.srv, F.admin, 'POST', `/api/v1/webhooks/${id}/test`), 202);
  return waitFor(
    async () => {
      const d = assertJson(await api(fx.srv, F.admin, 'GET', `/api/v1/webhooks/${id}/deliveries/${t.delivery.id}`), 200);
      return d.attempts.length ? d : null;
    },
    { timeoutMs: 10000, what: 'the first attempt recorded' },
  );
}

test('every refused address form is refused when the endpoint is created', async () => {
  const refused = [
    'http://127.0.0.1:9/hook', // loopback
    'http://127.9.9.9/hook',
    'http://localhost:9/hook', // a name that is loopback by definition
    'http://api.localhost/hook',
    'http://10.0.0.1/hook', // private
    'http://172.16.5.4/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data/', // metadata
    'http://169.254.10.10/hook', // link-local
    'http://100.64.0.1/hook', // CGNAT
    'http://224.0.0.1/hook', // multicast
    'http://0.0.0.0/hook', // unspecified
    'http://255.255.255.255/hook', // broadcast
    'http://[::1]/hook',
    'http://[::]/hook',
    'http://[::ffff:127.0.0.1]/hook', // IPv4-mapped
    'http://[::ffff:7f00:1]/hook',
    'http://[::ffff:10.0.0.1]/hook',
    'http://[fe80::1]/hook',
    'http://[fc00::1]/hook',
    'http://[fd00:ec2::254]/hook',
    'http://[ff02::1]/hook',
    'http://0x7f.1/hook', // odd spellings of 127.0.0.1
    'http://0x7f000001/hook',
    'http://2130706433/hook',
    'http://0177.0.0.1/hook',
    'http://127.1/hook',
    'http://127.000.000.001/hook',
    'http://017700000001/hook',
    'http://0x5db8d822/hook', // an odd spelling of a public address is refused too
  ];
  for (const url of refused) {
    const p = assertProblem(await create(url), 400, 'invalid_request');
    assert.equal(p.errors[0].field, 'url', `${url}: ${JSON.stringify(p)}`);
  }
  // A public name, and the allow-listed address, are accepted.
  for (const url of ['https://hooks.example.com/parley', 'http://127.0.0.2:9/hook']) {
    const r = await create(url);
    assert.equal(r.status, 201, `${url}: ${r.body}`);
    await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${JSON.parse(r.body).id}`);
  }
  // Changing a URL is checked the same way.
  const ok = assertJson(await create('https://hooks.example.com/x'), 201);
  const p = assertProblem(
    await api(fx.srv, F.admin, 'PATCH', `/api/v1/webhooks/${ok.id}`, { json: { url: 'http://[::ffff:169.254.169.254]/' } }),
    400,
    'invalid_request',
  );
  assert.equal(p.errors[0].field, 'url');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ok.id}`);
});

test('a name that resolves to 127.0.0.1 is refused at connect time: nothing reaches it', async () => {
  const inside = await startReceiver();
  receivers.push(inside);
  const outside = await startReceiver({ host: '127.0.0.2' });
  receivers.push(outside);
  const ep = assertJson(await create(outside.url()), 201);
  // The name now points inside (as a DNS answer could change between the
  // check at creation and a delivery): the address connected to is checked.
  await fx.pg.query('UPDATE webhook_endpoints SET url = $2 WHERE id = $1', [ep.id, `http://localhost:${inside.port}/hook`]);
  const d = await testDelivery(ep.id);
  assert.equal(d.attempts[0].error, 'refused_address (loopback)');
  assert.equal(d.attempts[0].response_status, null);
  assert.equal(inside.requests.length, 0, 'the loopback receiver was never reached');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('a redirect to an internal address is not followed', async () => {
  const inside = await startReceiver();
  receivers.push(inside);
  const redirector = await startRedirector(inside.url('/internal'), { host: '127.0.0.2' });
  receivers.push(redirector);
  const ep = assertJson(await create(redirector.url()), 201);
  const d = await testDelivery(ep.id);
  assert.equal(d.attempts[0].response_status, 302);
  assert.equal(d.attempts[0].error, 'redirect');
  assert.equal(d.status, 'pending', 'a redirect is a failure: retried later');
  assert.equal(redirector.requests.length, 1);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(inside.requests.length, 0, 'the Location was not followed');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});

test('an answer is read up to 64 KiB; 1 KiB of it is kept in the log', async () => {
  const big = 'x'.repeat(1024 * 1024);
  const r = await startReceiver({ host: '127.0.0.2', respond: () => ({ status: 500, body: big }) });
  receivers.push(r);
  const ep = assertJson(await create(r.url()), 201);
  const d = await testDelivery(ep.id);
  assert.equal(d.attempts[0].response_excerpt.length, 1024);
  assert.equal(d.attempts[0].error, 'response_too_large');
  r.respond(() => ({ status: 200, body: big }));
  const ok = await testDelivery(ep.id);
  assert.equal(ok.status, 'delivered', 'a 2xx is success even if the body is cut');
  await api(fx.srv, F.admin, 'DELETE', `/api/v1/webhooks/${ep.id}`);
});
