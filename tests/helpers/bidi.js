'use strict';
// Layout checks for the bidi browser tests (tests/e2e/*-bidi.test.js):
// where the browser really draws two pieces of a text, and whether an
// element isolates its content. A bidi control or a right-to-left name that
// leaks out of its element changes where the text after it is drawn.
//
//   await assertDrawnAfter(page, '.conv-preview', 'gnp.exe', 'hello');  // "hello" right of the name
//   assert.ok(isIsolating(await isolation(locator)));                     // <bdi>, or unicode-bidi: isolate

const assert = require('node:assert/strict');

// Strings the tests use, by what they do.
const RLO = '\u202E'; // RIGHT-TO-LEFT OVERRIDE: reverses what follows
const PDI = '\u2069'; // POP DIRECTIONAL ISOLATE: would end a <bdi>'s isolation early
/** A name stored before the policy: a stray PDI, then an override (shows "exe.png"). */
const HOSTILE = `${PDI}${RLO}gnp.exe`;
/** An Arabic name: a number after it joins its right-to-left run unless it is isolated. */
const ARABIC_NAME = 'إيان';

/**
 * The boxes the browser drew for two substrings of the first element that
 * matches selector in scope (a Page or a Frame): each the bounding rect of
 * a Range over the first text node that holds it. Resolves { a, b, text };
 * a or b is null when not found.
 */
function textBoxes(scope, selector, a, b) {
  return scope.$eval(
    selector,
    (root, [x, y]) => {
      const box = (needle) => {
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const i = n.data.indexOf(needle);
          if (i < 0) continue;
          const r = document.createRange();
          r.setStart(n, i);
          r.setEnd(n, i + needle.length);
          const rect = r.getBoundingClientRect();
          return { left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom };
        }
        return null;
      };
      return { a: box(x), b: box(y), text: root.textContent };
    },
    [a, b],
  );
}

/**
 * Asserts that `after` is drawn after `before` in a left-to-right page: to
 * its right on the same line, or on a later line. This is the reading order
 * an override or a right-to-left name in `before` must not change.
 */
async function assertDrawnAfter(scope, selector, before, after, what = selector) {
  const r = await textBoxes(scope, selector, before, after);
  assert.ok(r.a && r.b, `${what}: ${JSON.stringify(before)} and ${JSON.stringify(after)} in ${JSON.stringify(r.text)}`);
  const sameLine = Math.abs(r.a.top - r.b.top) < 4;
  if (sameLine) {
    assert.ok(
      r.b.left >= r.a.right - 1,
      `${what}: ${JSON.stringify(after)} is drawn at x=${Math.round(r.b.left)}, before ${JSON.stringify(before)} which ends at x=${Math.round(r.a.right)} (text ${JSON.stringify(r.text)})`,
    );
  } else {
    assert.ok(r.b.top > r.a.top, `${what}: ${JSON.stringify(after)} is drawn on a line above ${JSON.stringify(before)}`);
  }
}

/** What makes an element isolate its content: tag, dir attribute, computed unicode-bidi and direction. */
function isolation(locator) {
  return locator.evaluate((el) => ({
    tag: el.localName,
    dir: el.getAttribute('dir'),
    bidi: getComputedStyle(el).unicodeBidi,
    direction: getComputedStyle(el).direction,
  }));
}

/** An element whose content cannot reorder the text around it. */
function isIsolating(i) {
  return i.tag === 'bdi' || /^(isolate|isolate-override|plaintext)$/.test(i.bidi);
}

/** Asserts that every element matched by locator (at least one) isolates its content. */
async function assertIsolated(locator, what) {
  const n = await locator.count();
  assert.ok(n > 0, `${what}: no element`);
  for (let i = 0; i < n; i++) {
    const iso = await isolation(locator.nth(i));
    assert.ok(isIsolating(iso), `${what} #${i} does not isolate its text: ${JSON.stringify(iso)}`);
  }
}

module.exports = { RLO, PDI, HOSTILE, ARABIC_NAME, textBoxes, assertDrawnAfter, isolation, isIsolating, assertIsolated };
