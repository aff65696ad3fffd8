'use strict';
// The widget's size budget on the built files (what `make all` put into
// build/static), and the rules its sources (widget/src and the ui-shared/
// modules it bundles) must keep: no HTML parsing of strings anywhere, and nothing in frame.html that the frame's strict CSP
// (script-src 'self'; style-src 'self') would refuse.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const { REPO_ROOT } = require('../helpers/common');

const STATIC = path.join(REPO_ROOT, 'build', 'static');
const gz = (file) => zlib.gzipSync(fs.readFileSync(path.join(STATIC, file)), { level: 9 }).length;

function sources(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    // ui-shared's own tests and dependencies are not bundled.
    if (e.isDirectory() && (e.name === 'node_modules' || e.name === 'test')) continue;
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(js|jsx|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

test('the loader is at most 4 KB gzipped', () => {
  const n = gz('widget.js');
  console.log(`# widget.js: ${fs.statSync(path.join(STATIC, 'widget.js')).size} bytes, ${n} gzipped`);
  assert.ok(n <= 4096, `widget.js is ${n} bytes gzipped (budget 4096)`);
});

test('the chat frame (JS + CSS) is at most 30 KB gzipped', () => {
  const js = gz('widget/frame.js');
  const css = gz('widget/frame.css');
  console.log(`# frame.js ${js} + frame.css ${css} = ${js + css} bytes gzipped`);
  assert.ok(js + css <= 30 * 1024, `frame.js + frame.css are ${js + css} bytes gzipped (budget 30720)`);
});

test('the build has everything the frame and the demo page load', () => {
  for (const f of ['widget.js', 'widget/frame.html', 'widget/frame.js', 'widget/frame.css', 'demo/demo.css']) {
    assert.ok(fs.statSync(path.join(STATIC, f)).size > 0, `${f} is missing or empty`);
  }
  const html = fs.readFileSync(path.join(STATIC, 'widget', 'frame.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'frame.html must not have inline scripts');
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'frame.html must not have inline styles or handlers');
  assert.match(html, /<script src="frame\.js"/);
  assert.match(html, /<link rel="stylesheet" href="frame\.css">/);
});

test('the widget sources never parse strings as HTML or code', () => {
  const shared = sources(path.join(REPO_ROOT, 'ui-shared'));
  assert.ok(shared.length >= 1, 'no sources found in ui-shared/');
  const files = [...sources(path.join(REPO_ROOT, 'widget', 'src')), ...shared];
  assert.ok(files.length >= 2);
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    for (const bad of [
      /innerHTML/,
      /outerHTML/,
      /dangerouslySetInnerHTML/,
      /insertAdjacentHTML/,
      /document\.write/,
      /\beval\(/,
      /new Function/,
      /setAttribute\(\s*['"]style/,
    ]) {
      assert.doesNotMatch(text, bad, `${path.relative(REPO_ROOT, f)} uses ${bad}`);
    }
  }
});
