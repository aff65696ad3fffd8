import { test } from 'node:test';
import assert from 'node:assert/strict';
import { precheck, fmtBytes, isRaster, uploadUrl } from '../files.js';

test('precheck refuses a file over the site limit and a type the browser knows is refused', () => {
  const limits = { max_bytes: 1000, types: ['image/png', 'application/pdf'] };
  assert.deepEqual(precheck({ size: 1001, type: 'image/png' }, limits), { code: 'too_big', max: 1000 });
  assert.equal(precheck({ size: 10, type: 'image/png' }, limits), null);
  assert.deepEqual(precheck({ size: 10, type: 'image/svg+xml' }, limits), { code: 'type' });
  assert.deepEqual(precheck({ size: 10, type: 'text/html' }, limits), { code: 'type' });
  // a type the browser cannot vouch for is left to the server
  assert.equal(precheck({ size: 10, type: 'application/x-unknown' }, limits), null);
  assert.equal(precheck({ size: 10, type: 'text/html' }, { ...limits, types: ['application/octet-stream'] }), null);
  assert.equal(precheck({ size: 1e12, type: '' }, null), null);
});

test('fmtBytes reads like a file manager', () => {
  assert.equal(fmtBytes(512, 'en'), '512 B');
  assert.equal(fmtBytes(3500, 'en'), '3.4 KB');
  assert.equal(fmtBytes(26214400, 'en'), '25 MB');
});

test('isRaster and uploadUrl', () => {
  assert.ok(isRaster('image/webp'));
  assert.ok(!isRaster('image/svg+xml'));
  assert.equal(uploadUrl('/api/files', 7, 'a b/ü.txt'), '/api/files?conversation_id=7&name=a%20b%2F%C3%BC.txt');
});
