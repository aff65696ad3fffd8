// linkify: message text with its links, for both front ends. The one rule:
// text is never markup. A body is balanced (bidi.js), split into plain
// strings and links, and rendered as text nodes and <a> elements; only
// absolute http: and https: URLs become links, opened in a new tab without
// opener or referrer. Punctuation that ends a sentence is not part of a link.

import { h } from 'preact';

import { balance } from './bidi.js';

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

/** The URL, normalised, if it is an absolute http(s) URL; else null. */
export function safeHref(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Splits text into strings and {text, href} links. */
export function linkify(text) {
  const s = String(text);
  const out = [];
  let last = 0;
  let m;
  URL_RE.lastIndex = 0;
  while ((m = URL_RE.exec(s))) {
    const url = m[0].replace(TRAILING, '');
    const href = safeHref(url);
    if (!href) continue;
    if (m.index > last) out.push(s.slice(last, m.index));
    out.push({ text: url, href });
    last = m.index + url.length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

/**
 * A message body as Preact children: balanced, with its links. The caller
 * puts it in a block with dir="auto", which isolates it and gives an Arabic
 * or Hebrew message its own direction.
 */
export function MessageText({ text }) {
  return linkify(balance(text)).map((part, i) =>
    typeof part === 'string' ? part : h('a', { key: i, href: part.href, target: '_blank', rel: 'noopener noreferrer' }, part.text),
  );
}
