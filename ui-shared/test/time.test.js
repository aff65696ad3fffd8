// time: parsing and formatting of the server's timestamps.
import test from 'node:test';
import assert from 'node:assert/strict';

import { fmtClock, fmtDay, fmtDuration, fmtTime, relTime, ts } from '../time.js';

test('ts reads milliseconds and microseconds, and 0 for anything else', () => {
  assert.equal(ts('2024-03-01T10:20:30.123Z'), Date.UTC(2024, 2, 1, 10, 20, 30, 123));
  assert.equal(ts('2024-03-01T10:20:30.123456Z'), Date.UTC(2024, 2, 1, 10, 20, 30, 123));
  assert.equal(ts('2024-03-01T10:20:30.123456+00:00'), Date.UTC(2024, 2, 1, 10, 20, 30, 123));
  for (const bad of ['', 'soon', null, undefined, 42]) assert.equal(ts(bad), 0);
});

test('fmtTime is 24-hour local time; fmtClock follows the language', () => {
  const d = new Date(2024, 2, 1, 14, 5);
  assert.equal(fmtTime(d.toISOString()), '14:05');
  assert.match(fmtClock(d.toISOString(), 'en-US'), /^2:05\sPM$/);
  assert.equal(fmtClock(d.toISOString(), 'zh-CN'), '14:05');
  assert.equal(fmtTime('nope'), '');
  assert.equal(fmtClock(undefined, 'en'), '');
});

test('durations and relative times', () => {
  assert.equal(fmtDuration(42000), '42s');
  assert.equal(fmtDuration(185000), '3m 05s');
  assert.equal(fmtDuration(72 * 60000), '1h 12m');
  assert.equal(fmtDuration(51 * 3600000), '2d 3h');
  assert.equal(fmtDuration(-5), '0s');
  const zh = { s: '秒', m: '分', h: '小时', d: '天', sep: '' };
  assert.equal(fmtDuration(185000, zh), '3分05秒');
  assert.equal(fmtDuration(51 * 3600000, zh), '2天3小时');
  const now = Date.UTC(2024, 2, 10, 12);
  assert.equal(relTime(new Date(now - 10000).toISOString(), now), 'now');
  assert.equal(relTime(new Date(now - 5 * 60000).toISOString(), now), '5m');
  assert.equal(relTime(new Date(now - 3 * 3600000).toISOString(), now), '3h');
  assert.equal(relTime(new Date(now - 2 * 86400000).toISOString(), now), '2d');
});

test('fmtDay names today and yesterday in the language, capitalised, and dates the rest', () => {
  const now = new Date(2024, 2, 13, 15, 0).getTime();
  assert.equal(fmtDay(new Date(2024, 2, 13, 9, 0).toISOString(), now), 'Today');
  assert.equal(fmtDay(new Date(2024, 2, 12, 23, 59).toISOString(), now), 'Yesterday');
  assert.match(fmtDay(new Date(2024, 2, 10, 12, 0).toISOString(), now), /Sunday/);
  assert.equal(fmtDay('', now), '');
});
