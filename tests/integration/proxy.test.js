'use strict';
// X-Forwarded-For is believed only from PARLEY_TRUSTED_PROXIES: behind a load
// balancer the per-IP login limit then counts real clients, and a client
// cannot dodge the limit by sending the header itself.

const { suite } = require('../helpers/suite');
const { login } = require('../helpers/http');
const { assertProblem } = require('../helpers/assert');

const limits = { PARLEY_LOGIN_ACCOUNT_LIMIT: '100', PARLEY_LOGIN_IP_LIMIT: '2', PARLEY_LOGIN_WINDOW_SECONDS: '900' };
const fx = suite({
  fastHashes: false,
  // 127.0.0.1 plays the load balancer for the first server only.
  nodes: [{ env: { ...limits, PARLEY_TRUSTED_PROXIES: '127.0.0.1' } }, { env: limits }],
});
const { test } = fx;

const via = (ip, localAddress = '127.0.0.1') => ({ localAddress, headers: { 'X-Forwarded-For': ip } });

test('behind a trusted proxy each forwarded client has its own IP limit', async () => {
  for (let i = 0; i < 2; i++) assertProblem((await login(fx.nodes[0], 'nobody@example.com', 'wrong-pass', via('203.0.113.5'))).res, 401, 'invalid_credentials');
  assertProblem((await login(fx.nodes[0], 'nobody@example.com', 'wrong-pass', via('203.0.113.5'))).res, 429, 'too_many_attempts');
  // Another client behind the same proxy is not throttled...
  assertProblem((await login(fx.nodes[0], 'nobody@example.com', 'wrong-pass', via('203.0.113.6'))).res, 401, 'invalid_credentials');
  // ...and a client that prepends a fake address is still counted as itself.
  assertProblem((await login(fx.nodes[0], 'nobody@example.com', 'wrong-pass', via('198.51.100.9, 203.0.113.5'))).res, 429, 'too_many_attempts');
});

test('without trusted proxies the header is ignored', async () => {
  const from = '127.0.0.3';
  for (let i = 0; i < 2; i++)
    assertProblem((await login(fx.nodes[1], 'someone@example.com', 'wrong-pass', via(`192.0.2.${i + 1}`, from))).res, 401, 'invalid_credentials');
  assertProblem((await login(fx.nodes[1], 'someone@example.com', 'wrong-pass', via('192.0.2.77', from))).res, 429, 'too_many_attempts');
});
