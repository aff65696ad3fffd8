'use strict';
// Assertions shared by the integration tests.

const assert = require('node:assert/strict');
const { mediaType, PROBLEM_PREFIX } = require('./http');

function show(res) {
  return `${res.status} ${res.headers['content-type'] || ''}\n${String(res.body).slice(0, 2000)}`;
}

/**
 * An RFC 9457 problem answer as Parley sends it:
 * Content-Type application/problem+json, body {type: 'urn:parley:problem:<slug>', title, status, ...}.
 */
function assertProblem(res, status, slug) {
  assert.equal(res.status, status, `expected HTTP ${status} (${slug}), got:\n${show(res)}`);
  assert.equal(mediaType(res), 'application/problem+json', `problem answers must be application/problem+json, got:\n${show(res)}`);
  assert.ok(res.json && typeof res.json === 'object', `problem body is not a JSON object:\n${show(res)}`);
  assert.equal(res.json.type, `${PROBLEM_PREFIX}${slug}`, `problem type, got:\n${show(res)}`);
  assert.equal(res.json.status, status, `problem "status" member, got:\n${show(res)}`);
  assert.equal(typeof res.json.title, 'string', `problem "title" member, got:\n${show(res)}`);
  assert.ok(res.json.title.length > 0, 'problem title is empty');
  return res.json;
}

function assertStatus(res, status) {
  assert.equal(res.status, status, `expected HTTP ${status}, got:\n${show(res)}`);
}

/** Answer is JSON (application/json) with the given status; returns the body. */
function assertJson(res, status) {
  assertStatus(res, status);
  assert.equal(mediaType(res), 'application/json', `expected application/json, got:\n${show(res)}`);
  assert.ok(res.json !== undefined, `body is not JSON:\n${show(res)}`);
  return res.json;
}

/** Headers every Parley answer carries. */
function assertCommonHeaders(res) {
  assert.equal(String(res.headers['x-content-type-options'] || '').toLowerCase(), 'nosniff', `X-Content-Type-Options on ${res.status}`);
  assert.ok(res.headers['referrer-policy'], `Referrer-Policy missing on ${res.status}`);
  assert.ok(res.headers['x-request-id'], `X-Request-Id missing on ${res.status}`);
}

module.exports = { assertProblem, assertStatus, assertJson, assertCommonHeaders, show };
