'use strict';
// /healthz, /readyz, /metrics and the headers every answer carries.

const assert = require('node:assert/strict');

const { suite } = require('../helpers/suite');
const { request, mediaType } = require('../helpers/http');
const { assertJson, assertCommonHeaders, show } = require('../helpers/assert');
const { waitFor } = require('../helpers/fixtures');

const fx = suite({ fastHashes: false });
const { test } = fx;

/** Parse Prometheus text exposition into [{name, labels, value}]. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;
      let l;
      while ((l = re.exec(m[2]))) labels[l[1]] = l[2].replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
    }
    const value = Number(m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : m[3]);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

async function scrape() {
  const res = await request(fx.srv, { path: '/metrics' });
  assert.equal(res.status, 200, show(res));
  assert.equal(mediaType(res), 'text/plain', `metrics content type: ${res.headers['content-type']}`);
  return { res, samples: parseMetrics(res.body) };
}

function healthzCount(samples) {
  return samples
    .filter((s) => s.name === 'parley_http_requests_total' && s.labels.route === '/healthz' && s.labels.status === '200')
    .reduce((a, s) => a + s.value, 0);
}

test('GET /healthz is 200 {"status":"ok"}', async () => {
  const res = await request(fx.srv, { path: '/healthz' });
  const body = assertJson(res, 200);
  assert.equal(body.status, 'ok');
});

test('GET /readyz is 200 {"status":"ready", schema_version}', async () => {
  const res = await request(fx.srv, { path: '/readyz' });
  const body = assertJson(res, 200);
  assert.equal(body.status, 'ready');
  assert.ok(Number.isInteger(body.schema_version), `schema_version must be an integer, got ${JSON.stringify(body.schema_version)}`);
  assert.ok(body.schema_version > 0, 'schema_version must be positive once migrated');
  // When versions are plain integers, schema_version is the newest one.
  const r = await fx.pg.query("SELECT max(version::text::numeric)::text AS v FROM schema_migrations WHERE version::text ~ '^[0-9]+$'").catch(() => null);
  if (r && r.rows[0].v !== null) assert.equal(String(body.schema_version), r.rows[0].v, 'schema_version vs max(schema_migrations.version)');
});

test('GET /metrics exposes the Prometheus metrics', async () => {
  for (let i = 0; i < 2; i++) assert.equal((await request(fx.srv, { path: '/healthz' })).status, 200);
  const { res, samples } = await scrape();
  const names = new Set(samples.map((s) => s.name));
  assert.match(res.body, /parley_http_requests_total\{/);
  assert.match(res.body, /parley_http_request_duration_seconds_bucket\{/);
  for (const name of [
    'parley_http_requests_total',
    'parley_http_request_duration_seconds_bucket',
    'parley_http_request_duration_seconds_count',
    'parley_db_pool_connections_in_use',
    'parley_db_pool_size',
    'parley_ws_connections_open',
  ]) {
    assert.ok(names.has(name), `metric ${name} missing from /metrics`);
  }
  const buckets = samples.filter((s) => s.name === 'parley_http_request_duration_seconds_bucket');
  assert.ok(
    buckets.some((s) => s.labels.le === '+Inf'),
    'histogram has no le="+Inf" bucket',
  );
  const poolSize = samples.find((s) => s.name === 'parley_db_pool_size');
  assert.ok(poolSize.value >= 1, 'parley_db_pool_size should be at least 1');

  const before = healthzCount(samples);
  assert.ok(before >= 2, `no parley_http_requests_total{route="/healthz",status="200"} sample counting our calls (got ${before})`);
  const N = 5;
  for (let i = 0; i < N; i++) assert.equal((await request(fx.srv, { path: '/healthz' })).status, 200);
  const afterCount = healthzCount((await scrape()).samples);
  // Allow the very last request to be recorded after the scrape.
  assert.ok(afterCount >= before + N - 1, `healthz counter went from ${before} to ${afterCount} after ${N} calls`);
});

test('every answer has nosniff, Referrer-Policy and a distinct X-Request-Id', async () => {
  const ids = new Set();
  const answers = [
    await request(fx.srv, { path: '/healthz' }),
    await request(fx.srv, { path: '/healthz' }),
    await request(fx.srv, { path: '/readyz' }),
    await request(fx.srv, { path: '/metrics' }),
    await request(fx.srv, { path: '/definitely/not/here' }),
    await request(fx.srv, { method: 'POST', path: '/api/auth/login', json: {} }), // 403, no Origin
  ];
  for (const res of answers) {
    assertCommonHeaders(res);
    ids.add(res.headers['x-request-id']);
  }
  assert.equal(ids.size, answers.length, `X-Request-Id values repeat: ${[...ids].join(', ')}`);
});

// Keep this last: it stops the database.
test('GET /readyz is 503 problem+json when the database is down', async () => {
  await fx.pg.stop();
  let res;
  await waitFor(
    async () => {
      res = await request(fx.srv, { path: '/readyz' });
      return res.status === 503;
    },
    { timeoutMs: 15000, intervalMs: 200, what: '/readyz to turn 503' },
  ).catch(() => {});
  assert.equal(res.status, 503, `readyz did not turn 503 within 15 s of stopping the database:\n${show(res)}`);
  assert.equal(mediaType(res), 'application/problem+json', show(res));
  assert.ok(res.json && res.json.status === 503 && typeof res.json.type === 'string', show(res));
  assertCommonHeaders(res);
  // Liveness does not depend on the database.
  const live = await request(fx.srv, { path: '/healthz' });
  assert.equal(live.status, 200, show(live));
});
