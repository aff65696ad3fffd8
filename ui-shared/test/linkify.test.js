// linkify: the one rule for links in messages (both front ends).
import test from 'node:test';
import assert from 'node:assert/strict';

import { MessageText, linkify, safeHref } from '../linkify.js';

test('plain text stays one string', () => {
  assert.deepEqual(linkify('hello there'), ['hello there']);
  assert.deepEqual(linkify(''), []);
});

test('http and https URLs become links; punctuation that ends a sentence does not', () => {
  assert.deepEqual(linkify('see https://example.com/a?b=1.'), ['see ', { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' }, '.']);
  assert.deepEqual(linkify('(http://x.example/path), then'), ['(', { text: 'http://x.example/path', href: 'http://x.example/path' }, '), then']);
  assert.deepEqual(linkify('HTTPS://EXAMPLE.COM!'), [{ text: 'HTTPS://EXAMPLE.COM', href: 'https://example.com/' }, '!']);
  const two = linkify('a http://one.example b https://two.example');
  assert.deepEqual(
    two.map((p) => (typeof p === 'string' ? p : p.href)),
    ['a ', 'http://one.example/', ' b ', 'https://two.example/'],
  );
});

test('nothing else is a link, and markup is text', () => {
  for (const s of [
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'ftp://files.example/x',
    'mailto:ann@example.com',
    'ann@example.com',
    'www.example.com',
    '<a href="https://evil.example">x</a>',
  ]) {
    const parts = linkify(s);
    for (const p of parts) if (typeof p !== 'string') assert.match(p.href, /^https?:\/\//, s);
  }
  assert.deepEqual(linkify('javascript:alert(1)'), ['javascript:alert(1)']);
  // A URL stops at quotes and angle brackets: an attribute cannot be closed.
  assert.deepEqual(linkify('<a href="https://evil.example">x</a>'), ['<a href="', { text: 'https://evil.example', href: 'https://evil.example/' }, '">x</a>']);
  assert.ok(linkify('http://[::1').every((p) => typeof p === 'string'));
});

test('safeHref takes only absolute http(s) URLs', () => {
  assert.equal(safeHref('https://example.com'), 'https://example.com/');
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('/relative'), null);
  assert.equal(safeHref(undefined), null);
});

test('MessageText renders links as anchors that open without opener or referrer, after balancing', () => {
  const out = MessageText({ text: 'hi \u202Ehttps://example.com' });
  assert.equal(out[0], 'hi ');
  const a = out[1];
  assert.equal(a.type, 'a');
  assert.equal(a.props.href, 'https://example.com/');
  assert.equal(a.props.target, '_blank');
  assert.equal(a.props.rel, 'noopener noreferrer');
  assert.equal(a.props.children, 'https://example.com');
  assert.equal(out.length, 2); // the unpaired U+202E is gone
});
